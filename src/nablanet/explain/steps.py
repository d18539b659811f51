r"""The update, shown: learning rate, old weights, gradient, new weights, for one or ``N`` steps.

Plain gradient descent, seed 001's equations (4), (13), (20), (28), (36), (40) and seed 000's
``update``:

.. math:: W_k \leftarrow W_k - \eta\,\frac{\partial L}{\partial W_k}, \qquad
          b_k \leftarrow b_k - \eta\,\frac{\partial L}{\partial b_k}

Another optimizer (momentum, Adam, ...) moves by its own rule; the trace then prints the step
it took (``new - old``) beside the gradient. :func:`trace` runs ``N`` steps of the model's own
optimizer on a float64 copy (the model is left untouched) and records, per step, the loss
before the step, every Dense layer's ``W``, ``b``, their gradients and their new values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._validation import check_positive_int
from ..layers import Dense
from .inputs import as_batch, check_built, float64_copy
from .notation import update_refs
from .records import LayerUpdate, Step, Trace

if TYPE_CHECKING:
    from ..model import Sequential

MAX_STEPS = 10_000


def _is_plain_sgd(optimizer: Any) -> bool:
    return (
        getattr(optimizer, "name", "") == "sgd"
        and not getattr(optimizer, "momentum", 0.0)
        and not getattr(optimizer, "weight_decay", 0.0)
    )


def new_trace(twin: Sequential, n_samples: int) -> Trace:
    """An empty :class:`Trace` naming ``twin``'s optimizer, learning rate and loss."""
    return Trace(
        repr(twin.optimizer), float(twin.optimizer.lr), _is_plain_sgd(twin.optimizer),
        twin.loss.name, n_samples, [],
    )  # fmt: skip


def take_step(twin: Sequential, number: int, loss: float) -> Step:
    """One step of ``twin``'s optimizer from the gradients its Dense layers hold now, recorded:
    each layer's old ``W``, ``b``, those very gradients (the arrays stepped from, copied) and the
    new values. ``number`` is the step's 1-based number, ``loss`` the loss before it."""
    denses = [layer for layer in twin.layers if isinstance(layer, Dense)]
    K = len(denses)
    old = [(d.params["W"].copy(), d.params["b"].copy()) for d in denses]
    grads = [(d.grads["W"].copy(), d.grads["b"].copy()) for d in denses]
    twin.apply_gradients()
    step = Step(number, float(loss))
    for k, d in enumerate(denses):
        update = LayerUpdate(
            k + 1, old[k][0], grads[k][0], d.params["W"].copy(),
            old[k][1], grads[k][1], d.params["b"].copy(),
            update_refs(k + 1, K, twin.loss.name),
        )  # fmt: skip
        step.layers.append(update)
    return step


def trace(model: Sequential, X: Any, y: Any, steps: int = 1) -> Trace:
    """Take ``steps`` steps of the model's optimizer on the batch ``(X, y)`` and record each.

    Parameters
    ----------
    model : Sequential
        Built; copied to float64 (with a fresh optimizer state) and left untouched.
    X : array-like of shape (n, n_features) or (n_features,)
    y : targets as for ``fit`` (one label or target row for a single sample)
    steps : int
        Number of full-batch steps (1 to 10000).

    Returns
    -------
    Trace
    """
    steps = check_positive_int("steps", steps)
    if steps > MAX_STEPS:
        raise ValueError(f"steps must be at most {MAX_STEPS}, got {steps}")
    check_built(model)
    twin = float64_copy(model)
    Xb, yb = as_batch(X, y)
    Xp, Y = twin.prepare(Xb, yb)
    record = new_trace(twin, len(Xp))
    for i in range(steps):
        loss, _ = twin.loss_and_grads(Xp, Y, training=False)
        record.steps.append(take_step(twin, i + 1, loss))
    return record
