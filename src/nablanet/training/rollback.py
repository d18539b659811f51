"""A failed call changes nothing: put a model back as it was when a set-up step raises.

``fit``, ``build``, ``compile`` and ``evaluate`` check their arguments, then change the model
(build it, fix its task, replace its random generator, bind the optimizer). Some checks can only
run after a change (targets need the output width of a built model), and a layer can refuse to
build after the ones before it built. :func:`unchanged_on_error` makes such a call all or
nothing: if its block raises, every attribute of the model, of each of its layers and of its
optimizer is put back (the objects they held, as assigned before the call), and the generator's
state is rewound, so that the draws of a failed build are not lost to the next fit.

Attributes are restored one level deep: this is exact for the set-up steps, which assign new
objects (``build`` gives each layer new ``params`` dicts, ``optimizer.build`` a new ``state``),
and not meant for training steps, which update the weights in place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..model import Sequential


@contextlib.contextmanager
def unchanged_on_error(model: Sequential) -> Iterator[None]:
    """Run the block; if it raises (anything, ``KeyboardInterrupt`` included), put ``model``
    back as it was before the block and re-raise."""
    objects: list[Any] = [model, *model.layers]
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        objects.append(optimizer)
    saved = [(obj, dict(vars(obj))) for obj in objects]
    rng = model.rng
    rng_state = rng.bit_generator.state
    try:
        yield
    except BaseException:
        for obj, attributes in saved:
            vars(obj).clear()
            vars(obj).update(attributes)
        rng.bit_generator.state = rng_state
        raise
