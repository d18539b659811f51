"""Seed 001's worked 2-2-2 sigmoid network, as ``nablanet explain --example seed001`` shows it.

Seed 001 ("Introduction to Deep Learning - Part 3") prints its initial weights as Output.4 and
trains on the sample ``[1.2, 1.6]`` with class 0 first; :func:`seed001_example` builds that
network in nablanet (plain layers, half squared error) so that :func:`nablanet.explain.explain`
can show its first forward and backward pass. :mod:`nablanet.tutorial.seed001` replays the seed's
own training step from the same weights; :mod:`nablanet.tutorial.worked` gathers every
``--example``.
"""

from __future__ import annotations

import numpy as np

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
