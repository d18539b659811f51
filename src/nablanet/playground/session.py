"""One playground session: a data set, a :class:`~nablanet.Sequential` and its training run.

Training uses the real engine: every step is :meth:`Sequential.train_step` on the next
mini-batch of a shuffled epoch. The live settings (:data:`~.config.LIVE`) change the running
engine itself: the optimizer's ``lr``, the Dense layers' ``l1``/``l2`` coefficients (the
engine's penalty seam, ``Dense.penalty``/``penalty_gradient``) and the batch size.

The network sees the chosen features of the 2-D points (:mod:`nablanet.playground.data`). The
output over the plane is :meth:`Sequential.predict` (and ``predict_proba``) on a grid over the
plane; each unit's response map is its activation on a coarser grid, from
:meth:`Sequential.forward` with ``trace=`` (the input units: their feature). One
``np.random.Generator``, seeded from the request, draws the data, the initial weights and the
batch order, so a seed replays a session exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nablanet.functional import all_finite
from nablanet.layers import Dense
from nablanet.model import Sequential
from nablanet.optimizers import get_optimizer

from . import data as datasets
from .config import GRID, MAX_HISTORY, RESPONSE_GRID, Config, RequestError

HISTOGRAM_BINS = 12

Array = np.ndarray


def json_floats(values: Any, digits: int | None = None) -> Any:
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
        self.task = datasets.task_of(config.dataset)
        P, y, P_test, y_test = datasets.make(config.dataset, config.noise, config.ratio, self.rng)
        self.points, self.points_test = P, P_test  # the 2-D points, before the features
        regression = self.task == "regression"
        self.n_classes = 0 if regression else int(max(y.max(), y_test.max())) + 1
        binary = self.n_classes == 2
        n_out = 1 if regression or binary else self.n_classes
        #: sigmoid outputs trained on the squared error, as seed 001 and TensorFlow Playground
        #: do: the engine sees a regression on 0/1 targets; the class is ``a >= 0.5``
        self.squared = config.loss == "squared_error" and not regression
        if self.squared and not binary:
            raise RequestError(
                f"loss 'squared_error' needs two classes; data set {config.dataset!r} has "
                f"{self.n_classes}: use 'cross_entropy'"
            )
        output, loss = (
            ("identity", "mse")
            if regression
            else ("sigmoid", "mse")
            if self.squared
            else ("sigmoid", "binary_cross_entropy")
            if binary
            else ("softmax", "categorical_cross_entropy")
        )
        kwargs: dict[str, Any] = {"lr": config.lr}
        if config.optimizer == "sgd":
            kwargs["momentum"] = config.momentum
        self.model = Sequential.from_sizes(
            [len(config.features), *config.hidden, n_out],
            activation=config.activation,
            output=output,
            loss=loss,
            optimizer=get_optimizer(config.optimizer, **kwargs),
            seed=self.rng,
            dtype="float64",
        )
        self.X, self.Y = self.model.prepare(datasets.features(P, config.features), y)
        self.X_test, self.Y_test = self.model.prepare(
            datasets.features(P_test, config.features), y_test
        )
        self.y, self.y_test = y, y_test
        self.extent = square_extent(np.vstack([P, P_test]))
        self.steps = 0
        self.epochs = 0
        self.diverged: str | None = None
        self._order = self.rng.permutation(len(self.X))
        self._cursor = 0
        self.batch_size = 1
        self.apply(config)
        self.history: dict[str, list[Any]] = {"step": [], "train_loss": [], "test_loss": []}
        self._record()

    def apply(self, config: Config) -> None:
        """Take the live settings of ``config`` (:data:`~.config.LIVE`) into the running
        engine: the optimizer's ``lr``, every Dense layer's ``l1``/``l2`` (``reg_rate`` for the
        chosen one, 0 for the other) and the batch size (capped at the training set's size).
        """
        self.config = config
        self.model.optimizer.lr = config.lr
        for layer in self.dense_layers():
            layer.l1 = config.reg_rate if config.regularization == "l1" else 0.0
            layer.l2 = config.reg_rate if config.regularization == "l2" else 0.0
        self.batch_size = min(config.batch_size, len(self.X))

    def set_weight(self, layer: int, i: int, j: int, value: float) -> None:
        """Set ``W_layer[i, j]`` (Dense ``layer``, 1 = first) to ``value``.

        The loss curve's last point becomes the loss at the edited weights (the value itself
        is checked by :func:`~.config.parse_weight`).

        Raises
        ------
        RequestError
            Naming an index out of range.
        """
        dense = self.dense_layers()
        if not 1 <= layer <= len(dense):
            raise RequestError(f"layer must be from 1 to {len(dense)}, got {layer}")
        W = dense[layer - 1].params["W"]  # (n_in, n_out)
        if not 0 <= i < W.shape[0]:
            raise RequestError(f"from must be from 0 to {W.shape[0] - 1} in layer {layer}, got {i}")
        if not 0 <= j < W.shape[1]:
            raise RequestError(f"to must be from 0 to {W.shape[1] - 1} in layer {layer}, got {j}")
        W[i, j] = value
        self.history["train_loss"][-1] = self.model.compute_loss(self.X, self.Y)
        self.history["test_loss"][-1] = self.model.compute_loss(self.X_test, self.Y_test)

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
    def _labels(self, y: Array) -> list[Any]:
        """Targets for JSON: class ints, or values for regression."""
        return json_floats(y, 4) if self.task == "regression" else y.astype(int).tolist()

    def dense_layers(self) -> list[Dense]:
        """The Dense layers, first to last (layer k of the equations is ``[k - 1]``)."""
        return [layer for layer in self.model.layers if isinstance(layer, Dense)]

    def accuracy(self, X: Array, y: Array) -> float | None:
        """Fraction of ``X``'s rows whose predicted class is ``y`` (None for regression)."""
        if self.task == "regression":
            return None
        return float(np.mean(self.predict_class(X) == y))

    def predict_class(self, X: Array) -> Array:
        """The predicted class of each row of the features ``X``: shape (n,)."""
        if self.squared:  # the engine's "regression" on 0/1: the sigmoid output against 1/2
            return (self.model.predict(X) >= 0.5).astype(np.int64)
        return self.model.predict(X)

    def grid(self, n: int) -> Array:
        """The features of the ``n x n`` grid over the plane (:func:`grid_points`)."""
        return datasets.features(grid_points(self.extent, n), self.config.features)

    def boundary(self) -> dict[str, Any]:
        """The predicted class and its probability on a GRID x GRID grid over the plane (for
        regression, the predicted value)."""
        points = self.grid(GRID)
        if self.task == "regression":
            return {"resolution": GRID, "value": json_floats(self.model.predict(points), 4)}
        label = self.predict_class(points)  # (GRID**2,)
        proba = (  # (GRID**2, n_out)
            self.model.predict(points)[:, None]
            if self.squared
            else self.model.predict_proba(points)
        )
        if proba.shape[1] == 1:  # sigmoid output: p(class 1)
            confidence = np.where(label == 1, proba[:, 0], 1 - proba[:, 0])
        else:
            confidence = proba.max(axis=1)
        return {
            "resolution": GRID,
            "label": label.astype(int).tolist(),
            "confidence": json_floats(confidence, 3),
        }

    def responses(self) -> list[list[Any]]:
        """Every unit's activation over a RESPONSE_GRID grid: ``[k][j]`` is unit ``j`` of
        layer ``k`` (0: the input features; ``k >= 1``: Dense layer ``k`` after its
        activation), a list of RESPONSE_GRID**2 values."""
        points = self.grid(RESPONSE_GRID)
        outputs: list[Array] = []
        self.model.forward(points, trace=outputs)
        maps = [json_floats(points.T, 3)]
        for i, layer in enumerate(self.model.layers):
            if isinstance(layer, Dense):
                nxt = i + 1 < len(self.model.layers) and not isinstance(
                    self.model.layers[i + 1], Dense
                )
                a = outputs[i + 1] if nxt else outputs[i]  # (RESPONSE_GRID**2, n_out)
                maps.append(json_floats(a.T, 3))
        return maps

    def histograms(self) -> list[dict[str, Any]]:
        """Per Dense layer, histograms (HISTOGRAM_BINS equal bins over the values' range) of
        ``W`` and of ``dL/dW`` over the whole training set (:meth:`Sequential.loss_and_grads`,
        the penalty's gradient included): ``{"W": {"edges", "counts"}, "dW": ...}``."""
        self.model.loss_and_grads(self.X, self.Y)
        out = []
        for layer in self.dense_layers():
            entry = {}
            for key, values in (("W", layer.params["W"]), ("dW", layer.grads["W"])):
                counts, edges = np.histogram(values.ravel(), bins=HISTOGRAM_BINS)
                entry[key] = {"edges": json_floats(edges), "counts": counts.tolist()}
            out.append(entry)
        return out

    def state(self, *, data: bool = True) -> dict[str, Any]:
        """Everything the page draws, JSON-ready (``data=False`` leaves out the points)."""
        dense = self.dense_layers()
        out: dict[str, Any] = {
            "config": self.config.to_json(),
            "task": self.task,
            "features": list(self.config.features),
            "sizes": [int(self.X.shape[1])] + [layer.units for layer in dense],
            "activations": [self.config.activation] * len(self.config.hidden)
            + [_output_function(self.model)],
            "loss": self.model.loss.name,
            "n_classes": self.n_classes,
            "batch_size": self.batch_size,
            "step": self.steps,
            "epoch": self.epochs + self._cursor / len(self._order),  # passes over the data
            "diverged": self.diverged,
            "history": {key: json_floats(value) for key, value in self.history.items()},
            "train_accuracy": self.accuracy(self.X, self.y),
            "test_accuracy": self.accuracy(self.X_test, self.y_test),
            "weights": [
                {"W": json_floats(layer.params["W"]), "b": json_floats(layer.params["b"])}
                for layer in dense
            ],
            "extent": list(self.extent),
            "boundary": self.boundary(),
            "responses": self.responses(),
            "histograms": self.histograms(),
            "optimizer_lr": float(self.model.optimizer.lr),
            "l2": [float(layer.l2) for layer in dense],
            "l1": [float(layer.l1) for layer in dense],
        }
        if data:
            out["train"] = {"X": json_floats(self.points), "y": self._labels(self.y)}
            out["test"] = {"X": json_floats(self.points_test), "y": self._labels(self.y_test)}
        return out
