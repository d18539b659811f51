r"""Seed 000 ("Application of differentiations in neural networks"), rebuilt exactly.

The seed trains a [2, 4, 3, 1] relu/relu/sigmoid network on ``make_circles(1000, factor=0.5,
noise=0.1)`` (after ``np.random.seed(0)``) by full-batch gradient descent, lr 0.005, 150
epochs, from ``np.random.seed(42)``'s ``0.1 * randn`` weights and biases. It prints, for each
epoch, the loss and accuracy of the forward pass *before* that epoch's update::

    Iteration 0 - loss value [[693.62972747]] accuracy 0.5
    ...
    Iteration 145 - loss value [[664.60120828]] accuracy 0.818
    Iteration 146 - loss value [[697.97739669]] accuracy 0.58

Three of its conventions differ from the exact gradient of a mean loss, and together they make
its lr 0.005 a large step (:mod:`nablanet.tutorial.conventions`):

- the loss and ``dL/da`` are sums over the 1000 samples (``reduction="sum"``): the step is
  1000 times that of the same lr on the mean;
- ``dW = a.T @ dz`` is a sum but ``db = mean(dz)`` (``bias_grad="mean"``);
- ``dsigmoid`` returns ``2 s (1 - s)`` (``derivative_scale=2``): every delta is doubled.

With all three, training climbs to 0.818 accuracy at epoch 145 and then diverges. With none of
them (nablanet's defaults, same lr) the loss creeps down and accuracy stays at 0.5.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_positive_int, short_repr
from ..layers import ReLU
from ..model import Sequential
from ..optimizers import SGD
from .conventions import SeedCrossEntropy, SeedDense, SeedSigmoid

SIZES = (2, 4, 3, 1)
LR = 0.005
EPOCHS = 150


def seed000_data(n_samples: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The seed's data: scikit-learn's ``make_circles(n_samples, factor=0.5, noise=0.1)`` after
    ``np.random.seed(0)``, rebuilt in NumPy with a private legacy ``RandomState(seed)``.

    Same numbers as ``make_circles(..., random_state=seed)`` (tests/test_tutorial.py compares
    them): an outer circle of ``n // 2`` points and an inner one of radius 0.5, shuffled, plus
    Gaussian noise of scale 0.1. Returns ``X`` (n_samples, 2) and ``y`` (n_samples,) in {0, 1}.
    """
    n_samples = check_positive_int("n_samples", n_samples, minimum=2)
    legacy = np.random.RandomState(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    angle_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    angle_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack(
        [
            np.append(np.cos(angle_out), np.cos(angle_in) * 0.5),
            np.append(np.sin(angle_out), np.sin(angle_in) * 0.5),
        ]
    ).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n_samples)
    legacy.shuffle(order)  # scikit-learn's shuffle(X, y, random_state)
    X, y = X[order], y[order]
    X += legacy.normal(scale=0.1, size=X.shape)
    return X, y


def seed000_weights(seed: int = 42) -> list[tuple[np.ndarray, np.ndarray]]:
    """The seed's initial ``(W, b)`` per layer: ``0.1 * randn`` after ``np.random.seed(42)``,
    drawn W1, b1, W2, b2, W3, b3 in that order from a private legacy ``RandomState(42)``
    (the same numbers, without touching NumPy's global state)."""
    legacy = np.random.RandomState(seed)
    weights = []
    for n_in, n_out in itertools.pairwise(SIZES):
        W = legacy.randn(n_in, n_out) * 0.1
        b = legacy.randn(1, n_out) * 0.1
        weights.append((W, b.ravel()))
    return weights


def seed000_model(
    *,
    reduction: str = "sum",
    bias_grad: str = "mean",
    derivative_scale: float = 2.0,
    lr: float = LR,
    weights: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> Sequential:
    """Seed 000's network in float64, with its conventions as options (defaults: the seed's).

    Parameters
    ----------
    reduction : {"sum", "mean"}
        The loss over the samples (seed: ``"sum"``).
    bias_grad : {"mean", "sum"}
        ``db`` as the mean (seed) or the sum (exact) of delta.
    derivative_scale : float
        2 (seed's ``dsigmoid``) or 1 (the true derivative).
    lr : float
        Plain SGD's learning rate (seed: 0.005).
    weights : list of (W, b), optional
        Default :func:`seed000_weights`.
    """
    if weights is not None and (not isinstance(weights, list | tuple) or len(weights) != 3):
        raise ValueError(
            f"weights must hold 3 (W, b) pairs (sizes {SIZES}), got {short_repr(weights)}"
        )
    layers: list[Any] = []
    for (W, b), act in zip(weights or seed000_weights(), ("relu", "relu", "sigmoid"), strict=True):
        layers.append(SeedDense(W.shape[1], bias_grad=bias_grad, weights=W, bias=b))
        layers.append(ReLU() if act == "relu" else SeedSigmoid(derivative_scale, clip=500.0))
    model = Sequential(
        layers, loss=SeedCrossEntropy(reduction), optimizer=SGD(lr=lr), dtype="float64"
    )
    model.build(SIZES[0])
    model.task = "binary"
    return model


@dataclass
class Epoch:
    """One line of the seed's log: the loss and accuracy *before* the epoch's update."""

    epoch: int
    loss: float
    accuracy: float

    def __str__(self) -> str:
        loss = np.array2string(np.array([[self.loss]]))  # the seed prints a (1, 1) array
        return f"Iteration {self.epoch} - loss value {loss} accuracy {self.accuracy:g}"


def train_like_seed000(model: Sequential, X: Any, y: Any, epochs: int = EPOCHS) -> list[Epoch]:
    """The seed's loop: each epoch, forward the whole batch, record loss and accuracy, back-
    propagate and take one step. Returns one :class:`Epoch` per epoch, as the seed prints."""
    epochs = check_positive_int("epochs", epochs)
    Xc, Y = model.prepare(X, y)
    log = []
    for epoch in range(epochs):
        out = model.forward(Xc, training=True)  # (n, 1): yhat
        loss = model.loss.forward(out, Y)
        accuracy = float(np.mean((out > 0.5) == (Y > 0.5)))
        log.append(Epoch(epoch, loss, accuracy))
        model.backward(model.loss.backward())
        model.penalty_gradients()  # + l2 * W; nothing without an L2 term, as in the seed
        model.apply_gradients()  # W -= lr * dW, b -= lr * db
    return log
