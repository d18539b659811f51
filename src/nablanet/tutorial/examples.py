"""The worked networks ``nablanet explain --example seed000|seed001|seed004`` offers.

- ``seed000`` (:func:`seed000_example`): seed 000's [2, 4, 3, 1] relu/relu/sigmoid network with
  its initial weights and its conventions (:func:`nablanet.tutorial.seed000.seed000_model`), on
  the first 4 points of its circles data; the header gives the seed's first log line, computed
  on all 1000 points.
- ``seed001`` (:func:`seed001_example`): seed 001 ("Introduction to Deep Learning - Part 3")
  prints its initial weights as Output.4 and trains on the sample ``[1.2, 1.6]`` with class 0
  first; this builds that 2-2-2 network in nablanet (plain layers, half squared error) so that
  :func:`nablanet.explain.explain` can show its first forward and backward pass.
  :mod:`nablanet.tutorial.seed001` replays the seed's own training step from the same weights.
- ``seed004``: the sign question, :func:`nablanet.tutorial.seed004.sign_step`.

:func:`load_example` gives the model, the input, the targets and a header for each.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_choice
from ..model import Sequential
from ..optimizers import SGD

Array = np.ndarray

#: Seed 001's Output.4: per neuron (bias, weights); W[:, j] is neuron j's weights.
SEED001_LAYERS = [
    [
        (0.17152165622510307, [0.6852769816973125, 0.8338968626360765]),
        (0.3069662196722378, [0.8936130796833973, 0.7215438617683047]),
    ],
    [
        (0.18993895420479678, [0.5542275911247871, 0.3521319540266141]),
        (0.18189240266007867, [0.7856017618643588, 0.9654832224119693]),
    ],
]
#: The seed's first training sample and its target row, probabilities_of_target(0).
SEED001_X = [1.2, 1.6]
SEED001_Y = [0.05, 0.95]


def seed001_example() -> tuple[Sequential, Array, Array]:
    """Seed 001's 2-2-2 sigmoid network with its printed initial weights, and its first sample.

    Returns
    -------
    model : Sequential
        Sigmoid hidden and output layers, half squared error (the seed's loss: squared error
        divided by 2), SGD with the seed's ``eta = 0.05``, float64.
    x : ndarray of shape (2,)
        ``[1.2, 1.6]``.
    y : ndarray of shape (2,)
        ``[0.05, 0.95]``, the seed's ``probabilities_of_target(0)``.
    """
    weights = [
        (np.array([w for _, w in layer]).T, np.array([b for b, _ in layer]))
        for layer in SEED001_LAYERS
    ]
    model = Sequential.from_sizes(
        [2, 2, 2],
        activation="sigmoid",
        output="sigmoid",
        weights=weights,
        loss="half_squared_error",
        optimizer=SGD(lr=0.05),
        dtype="float64",
    )
    return model, np.array(SEED001_X), np.array(SEED001_Y)


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
        examples use the same points either way).

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
            f"Below: its first {SEED000_POINTS} points. Each delta prints at twice its finite "
            "difference (the doubled dsigmoid)\nand each db at 2/n of it (the mean): the f.d. "
            "is the true gradient of the seed's summed loss."
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
