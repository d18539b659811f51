"""One playground session: a data set, a :class:`~nablanet.Sequential` and its training run.

Training uses the real engine: every step is :meth:`Sequential.train_step` on the next
mini-batch of a shuffled epoch. The decision boundary is :meth:`Sequential.predict` (and
``predict_proba``) on a grid over the plane; each hidden unit's response map is its
activation on a coarser grid, from :meth:`Sequential.forward` with ``trace=``. One
``np.random.Generator``, seeded from the request, draws the data, the initial weights and
the batch order, so a seed replays a session exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nablanet.datasets import load_dataset
from nablanet.functional import all_finite
from nablanet.layers import Dense
from nablanet.model import Sequential
from nablanet.optimizers import get_optimizer

from .config import GRID, MAX_HISTORY, RESPONSE_GRID, Config, RequestError

Array = np.ndarray


def _floats(values: Any, digits: int | None = None) -> Any:
    """``values`` as nested lists of floats for JSON (NaN and infinities as None)."""
    arr = np.asarray(values, dtype=np.float64)
    if digits is not None:
        arr = np.round(arr, digits)
    if all_finite(arr):
        return arr.tolist()
    out = arr.astype(object)
    out[~np.isfinite(arr)] = None
    return out.tolist()


def _output_function(model: Sequential) -> str:
    """What turns the last Dense layer's ``z`` into the output: the loss's link if it has one
    (``"sigmoid"``, ``"softmax"``, ``"exp"``), else the last layer (e.g. ``"sigmoid"``)."""
    if model.loss.link != "identity":
        return model.loss.link
    last = model.layers[-1]
    return "identity" if isinstance(last, Dense) else type(last).__name__.lower()


def square_extent(X: Array, margin: float = 0.15) -> tuple[float, float, float, float]:
    """``(x_min, x_max, y_min, y_max)``: a square around the points of ``X`` (shape (n, 2)),
    widened by ``margin`` of its side on each edge, so no point sits on the border."""
    low, high = X.min(axis=0), X.max(axis=0)
    centre = (low + high) / 2
    half = max(float((high - low).max()) / 2, 0.5) * (1 + 2 * margin)
    return (
        float(centre[0] - half), float(centre[0] + half),
        float(centre[1] - half), float(centre[1] + half),
    )  # fmt: skip


def grid_points(extent: tuple[float, float, float, float], n: int) -> Array:
    """The ``n * n`` centres of an ``n x n`` grid over ``extent``, row by row from the top
    (largest ``x2``) down, left to right: shape (n * n, 2), as an image is stored."""
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y1 - (np.arange(n) + 0.5) * (y1 - y0) / n
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


class Session:
    """A model being trained on a 2-D data set, step by step.

    Parameters
    ----------
    config : Config
        Checked by :func:`~nablanet.playground.config.parse_config`.

    Attributes
    ----------
    model : Sequential
        Hidden layers ``config.hidden`` with ``config.activation``; a sigmoid output with
        binary cross-entropy for two classes, softmax with categorical cross-entropy for more.
        float64, so that the numbers shown are the numbers computed.
    X, y : ndarray of shape (n_train, 2) and (n_train,)
        The training set (``Y``: the targets as the loss sees them).
    X_test, y_test : the test set.
    steps : int
        Training steps taken.
    epochs : int
        Passes over the training set completed before the current one.
    diverged : str or None
        Why training stopped, if the loss became non-finite (the weights are then those from
        before the failed request).
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        data = load_dataset(config.dataset, seed=self.rng)
        self.n_classes = data.n_classes
        binary = data.n_classes == 2
        n_out = 1 if binary else data.n_classes
        kwargs: dict[str, Any] = {"lr": config.lr}
        if config.optimizer == "sgd":
            kwargs["momentum"] = config.momentum
        self.model = Sequential.from_sizes(
            [data.n_features, *config.hidden, n_out],
            activation=config.activation,
            output="sigmoid" if binary else "softmax",
            loss="binary_cross_entropy" if binary else "categorical_cross_entropy",
            optimizer=get_optimizer(config.optimizer, **kwargs),
            seed=self.rng,
            dtype="float64",
        )
        self.X, self.Y = self.model.prepare(data.X_train, data.y_train)
        self.X_test, self.Y_test = self.model.prepare(data.X_test, data.y_test)
        self.y, self.y_test = data.y_train, data.y_test
        self.batch_size = min(config.batch_size, len(self.X))
        self.extent = square_extent(np.vstack([self.X, self.X_test]))
        self.steps = 0
        self.epochs = 0
        self.diverged: str | None = None
        self._order = self.rng.permutation(len(self.X))
        self._cursor = 0
        self.history: dict[str, list[Any]] = {"step": [], "train_loss": [], "test_loss": []}
        self._record()

    # -- training ---------------------------------------------------------------------------
    def _next_batch(self) -> Array:
        """Indices of the next mini-batch; a new shuffled epoch when this one is used up."""
        if self._cursor + self.batch_size > len(self._order):
            self._order = self.rng.permutation(len(self.X))
            self._cursor = 0
            self.epochs += 1
        idx = self._order[self._cursor : self._cursor + self.batch_size]
        self._cursor += self.batch_size
        return idx

    def step(self, n: int) -> None:
        """Take ``n`` training steps (each one :meth:`Sequential.train_step` on a mini-batch).

        If the loss or a weight becomes non-finite, the weights go back to where they were
        before this call, :attr:`diverged` says why, and later calls raise RequestError (409).
        """
        if self.diverged is not None:
            raise RequestError(self.diverged + "; start a new network", status=409)
        before, start = self.model.parameters_to_vector(), self.steps
        with np.errstate(over="ignore", invalid="ignore"):  # detected below, and reported
            self._steps(n, before, start)
        self._record()

    def _steps(self, n: int, before: Array, start: int) -> None:
        """The loop of :meth:`step`; ``before`` holds the weights of step ``start``."""
        for _ in range(n):
            idx = self._next_batch()
            loss, _out = self.model.train_step(self.X[idx], self.Y[idx])
            if not (np.isfinite(loss) and all_finite(self.model.parameters_to_vector())):
                self.model.vector_to_parameters(before)
                self.diverged = (
                    f"training diverged at step {self.steps + 1} (batch loss {loss!r}) with "
                    f"lr={self.config.lr}; the weights are back to those of step {start}. "
                    "Try a smaller learning rate"
                )
                self.steps = start
                break
            self.steps += 1

    def _record(self) -> None:
        """Append the current training and test loss to the loss curve (thinned past
        MAX_HISTORY points: every other old point dropped, the first and last kept)."""
        h = self.history
        if h["step"] and h["step"][-1] == self.steps:
            return
        h["step"].append(self.steps)
        h["train_loss"].append(self.model.compute_loss(self.X, self.Y))
        h["test_loss"].append(self.model.compute_loss(self.X_test, self.Y_test))
        if len(h["step"]) > MAX_HISTORY:
            for key in h:
                h[key] = h[key][:-1:2] + h[key][-1:]

    # -- what the page shows ----------------------------------------------------------------
    def dense_layers(self) -> list[Dense]:
        """The Dense layers, first to last (layer k of the equations is ``[k - 1]``)."""
        return [layer for layer in self.model.layers if isinstance(layer, Dense)]

    def accuracy(self, X: Array, y: Array) -> float:
        """Fraction of ``X``'s rows whose predicted class is ``y``."""
        return float(np.mean(self.model.predict(X) == y))

    def boundary(self) -> dict[str, Any]:
        """The predicted class and its probability on a GRID x GRID grid over the plane."""
        points = grid_points(self.extent, GRID)
        proba = self.model.predict_proba(points)  # (GRID**2, n_out)
        label = self.model.predict(points)  # (GRID**2,)
        if proba.shape[1] == 1:  # sigmoid output: p(class 1)
            confidence = np.where(label == 1, proba[:, 0], 1 - proba[:, 0])
        else:
            confidence = proba.max(axis=1)
        return {
            "resolution": GRID,
            "label": label.astype(int).tolist(),
            "confidence": _floats(confidence, 3),
        }

    def responses(self) -> list[list[Any]]:
        """Every unit's activation over a RESPONSE_GRID grid: ``[k][j]`` is unit ``j`` of
        Dense layer ``k + 1`` (after its activation), a list of RESPONSE_GRID**2 values."""
        points = grid_points(self.extent, RESPONSE_GRID)
        outputs: list[Array] = []
        self.model.forward(points, trace=outputs)
        maps = []
        for i, layer in enumerate(self.model.layers):
            if isinstance(layer, Dense):
                nxt = i + 1 < len(self.model.layers) and not isinstance(
                    self.model.layers[i + 1], Dense
                )
                a = outputs[i + 1] if nxt else outputs[i]  # (RESPONSE_GRID**2, n_out)
                maps.append(_floats(a.T, 3))
        return maps

    def state(self, *, data: bool = True) -> dict[str, Any]:
        """Everything the page draws, JSON-ready (``data=False`` leaves out the points)."""
        dense = self.dense_layers()
        out: dict[str, Any] = {
            "config": self.config.to_json(),
            "sizes": [int(self.X.shape[1])] + [layer.units for layer in dense],
            "activations": [self.config.activation] * len(self.config.hidden)
            + [_output_function(self.model)],
            "loss": self.model.loss.name,
            "n_classes": self.n_classes,
            "batch_size": self.batch_size,
            "step": self.steps,
            "epoch": self.epochs + self._cursor / len(self._order),  # passes over the data
            "diverged": self.diverged,
            "history": {key: _floats(value) for key, value in self.history.items()},
            "train_accuracy": self.accuracy(self.X, self.y),
            "test_accuracy": self.accuracy(self.X_test, self.y_test),
            "weights": [
                {"W": _floats(layer.params["W"]), "b": _floats(layer.params["b"])}
                for layer in dense
            ],
            "extent": list(self.extent),
            "boundary": self.boundary(),
            "responses": self.responses(),
        }
        if data:
            out["train"] = {"X": _floats(self.X), "y": self.y.astype(int).tolist()}
            out["test"] = {"X": _floats(self.X_test), "y": self.y_test.astype(int).tolist()}
        return out
