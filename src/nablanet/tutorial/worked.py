"""The worked examples ``nablanet explain --example seed000|seed001|seed004`` runs.

- ``seed000`` (:func:`seed000_example`): seed 000's [2, 4, 3, 1] relu/relu/sigmoid network with
  its initial weights and its conventions (:func:`nablanet.tutorial.seed000.seed000_model`), on
  the first 4 points of its circles data; the header gives the seed's first log line, computed
  on all 1000 points (:func:`seed000_first_line`).
- ``seed001``: seed 001's 2-2-2 network with Output.4's weights and its first sample
  (:func:`nablanet.tutorial.examples.seed001_example`).
- ``seed004``: the sign question, :func:`nablanet.tutorial.seed004.sign_step`, printed in place
  of the trace; with ``--steps`` the trace of its 4 samples.

:func:`load_example` gives the model, the input, the targets and a header for each.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_choice
from ..model import Sequential
from .examples import seed001_example

Array = np.ndarray


#: The ``--example`` names.
EXAMPLES = ("seed000", "seed001", "seed004")
#: Points of seed 000's data that its example explains (explain takes at most 32 rows).
SEED000_POINTS = 4


def seed000_example() -> tuple[Sequential, Array, Array]:
    """Seed 000's network, its initial weights and conventions, and its first 4 data points.

    Returns
    -------
    model : Sequential
        :func:`nablanet.tutorial.seed000.seed000_model` (summed cross-entropy, ``db`` the mean
        of delta, doubled ``dsigmoid``, lr 0.005), float64.
    x : ndarray of shape (4, 2)
        The first 4 points of its ``make_circles`` data.
    y : ndarray of shape (4,)
        Their classes.
    """
    from .seed000 import seed000_data, seed000_model

    X, y = seed000_data()
    return seed000_model(), X[:SEED000_POINTS], y[:SEED000_POINTS]


def seed000_first_line() -> str:
    """The seed's first log line, ``Iteration 0 - loss value [[693.62972747]] accuracy 0.5``,
    from its network's forward pass on all 1000 points (before any update)."""
    from .seed000 import seed000_data, seed000_model, train_like_seed000

    X, y = seed000_data()
    return str(train_like_seed000(seed000_model(), X, y, epochs=1)[0])


def load_example(name: str, batch: bool = False) -> tuple[Sequential, Array, Any, str]:
    """The model, input, targets and header line(s) of ``--example name``.

    Parameters
    ----------
    name : {"seed000", "seed001", "seed004"}
    batch : bool
        For ``--steps``: seed 001's 10 training points instead of its first sample (the other
        examples use the same points either way, and seed 000's header leaves out what the
        finite differences show).

    Returns
    -------
    model : Sequential
    x : ndarray of shape (n, n_features)
    y : targets as ``fit`` takes them
    header : str
    """
    name = check_choice("example", name, EXAMPLES)
    if name == "seed000":
        model, x, y = seed000_example()
        header = (
            "seed 000's [2, 4, 3, 1] relu/relu/sigmoid network, its 0.1 * randn weights (seed 42) "
            "and conventions:\nthe summed cross-entropy, db = mean(dz), dsigmoid = 2 s (1 - s). "
            f"On its 1000 points the seed logs\n  {seed000_first_line()}\n"
            f"Below: its first {SEED000_POINTS} points."
        )
        if not batch:
            header += (
                " Each delta prints at twice its finite difference (the doubled dsigmoid)\n"
                "and each db at 2/n of it (the mean): the f.d. is the true gradient of the "
                "seed's summed loss."
            )
        return model, x, y, header
    if name == "seed004":
        from .seed004 import X, Y, seed004_model

        x4 = np.asarray(X, dtype=float)
        header = "seed 004's 3-4-1 network without biases, lr 1, its 4 samples of three-input XOR"
        return seed004_model(), x4, np.asarray(Y, dtype=float).reshape(-1, 1), header
    model, x, y = seed001_example()
    if batch:
        from .seed001 import X as X001
        from .seed001 import Y as Y001
        from .seed001 import seed001_targets

        header = (
            "seed 001's 2-2-2 network from Output.4, its 10 training points and targets, "
            "nablanet's true gradient of the mean loss (--tutorial: the seed's own step)"
        )
        return model, np.asarray(X001, dtype=float), seed001_targets(Y001), header
    header = (
        "seed 001's 2-2-2 network (Output.4 weights), first sample x = [1.2, 1.6], "
        "class 0 -> target [0.05, 0.95]"
    )
    return model, x, y, header
