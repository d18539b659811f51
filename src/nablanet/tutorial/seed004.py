r"""Seeds 003 and 004: the 3-4-1 network without biases on the three-input XOR.

Seed 004 (a question: "why does ``weight2 + lr * a1.T @ dC_dw2`` work when the textbook says
``W - lr * dC/dW``?") trains, from ``np.random.seed(1)``'s ``random((3, 4))`` and
``random((4, 1))`` weights, with learning rate 1 for 1000 iterations:

.. math::
    a_1 = \sigma(x W_1), \quad a_2 = \sigma(a_1 W_2), \quad
    W_2 \mathrel{+}= a_1^\top\big((y - a_2) \odot a_2(1 - a_2)\big), \quad
    W_1 \mathrel{+}= x^\top\big(((y - a_2) \odot a_2(1 - a_2)) W_2^\top \odot a_1(1 - a_1)\big)

That *is* gradient descent, ``W - lr * dL/dW``, on :math:`L = \frac12\sum_i (a_{2,i} - y_i)^2`
summed over the four samples: ``(y - a2) = -(a2 - y)`` carries the minus sign, and
``a1.T @`` is the chain rule's :math:`\partial z_2 / \partial W_2` (seed 001's eq. (11)) summed
over the samples. Seed 003's slides use the same biasless layers with the sum of squared errors
(``2 * diff``) and no learning rate. Tutorial mode: ``SeedDense(use_bias=False)``, the summed
loss, plain SGD at lr 1.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_positive_int
from ..model import Sequential
from ..optimizers import SGD
from .conventions import SeedDense, SeedSigmoid, SummedHalfSquaredError

X = [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]]
Y = [0, 1, 1, 0]
ITERATIONS = 1000


def seed004_weights(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``np.random.seed(1); random((3, 4)); random((4, 1))``, from a private ``RandomState``."""
    legacy = np.random.RandomState(seed)
    return legacy.random((3, 4)), legacy.random((4, 1))


def seed004_model(lr: float = 1.0) -> Sequential:
    """Seed 004's network in float64: no biases, sigmoid units, summed half squared error."""
    W1, W2 = seed004_weights()
    model = Sequential(
        [
            SeedDense(4, use_bias=False, weights=W1), SeedSigmoid(),
            SeedDense(1, use_bias=False, weights=W2), SeedSigmoid(),
        ],
        loss=SummedHalfSquaredError(), optimizer=SGD(lr=lr), dtype="float64",
    )  # fmt: skip
    model.build(3)
    model.task = "regression"
    return model


def train_like_seed004(model: Sequential, iterations: int = ITERATIONS) -> np.ndarray:
    """The seed's loop: forward, then one step; returns ``a2`` of the last forward pass, which
    the seed prints as its "New ouput" (shape (4, 1))."""
    iterations = check_positive_int("iterations", iterations)
    Xa = np.asarray(X, dtype=float)
    Ya = np.asarray(Y, dtype=float).reshape(-1, 1)
    a2 = np.empty((4, 1))
    for _ in range(iterations):
        _, out = model.train_step(Xa, Ya)  # out: a2 before this step's update
        a2 = out.copy()
    return a2
