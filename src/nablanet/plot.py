"""Figures for training curves, decision boundaries, weights, activations and predictions.

matplotlib is an optional extra (``pip install nablanet[plot]``) and is imported only inside the
functions. Everything uses the object-oriented API (``matplotlib.figure.Figure``), never pyplot's
global state, so figures do not leak between calls and no display is needed. Every function
returns the Figure; pass ``path`` to also write it to a file (PNG, 100 dpi).
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nablanet._validation import _short, check_array, check_positive_int
from nablanet.metrics import confusion_matrix

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PathLike = str | os.PathLike[str]
_INSTALL_HINT = "nablanet.plot needs matplotlib; install it with: pip install nablanet[plot]"


def _new_figure(n_panels: int = 1, *, ncols: int | None = None, size: float = 4.0) -> Figure:
    """A fresh Figure (not registered with pyplot) holding ``n_panels`` axes in a grid."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    ncols = min(n_panels, ncols or n_panels)
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(size * ncols, 0.8 * size * nrows), layout="constrained")
    for i in range(n_panels):
        fig.add_subplot(nrows, ncols, i + 1)
    return fig


def _figure_for(ax: Axes | None) -> tuple[Figure, Axes]:
    """Return (root figure, axes): the caller's ``ax`` or a new single-panel figure."""
    if ax is None:
        fig = _new_figure(1, size=5.0)
        return fig, fig.axes[0]
    root: Any = ax.figure
    while root.figure is not root:  # a SubFigure: climb to the Figure that can be saved
        root = root.figure
    return root, ax


def _finish(fig: Figure, path: PathLike | None) -> Figure:
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


# ----------------------------------------------------------------------------- history
def plot_history(history: Any, path: PathLike | None = None) -> Figure:
    """Plot training curves: one panel for the loss, one for each other metric.

    Parameters
    ----------
    history : mapping of str to sequence of float, or an object with a ``.history`` mapping
        Per-epoch values, e.g. ``{"loss": [...], "val_loss": [...], "accuracy": [...]}``. A key
        ``val_<name>`` is drawn (dashed) on the same panel as ``<name>``. x is the epoch, from 1.
    path : str or path-like, optional
        Where to save the figure.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(
            "history must be a mapping like {'loss': [...]} or have a .history mapping, "
            f"got {type(history).__name__}"
        )
    if not logs:
        raise ValueError("history is empty; nothing to plot")
    curves = {str(k): check_array(v, f"history[{k!r}]", ndim=1) for k, v in logs.items()}
    # Panel names in order: "loss" first, then the other metrics as they appear.
    panels: list[str] = []
    for key in curves:
        base = key.removeprefix("val_")
        if base not in panels:
            panels.append(base)
    panels.sort(key=lambda name: name != "loss")

    fig = _new_figure(len(panels))
    for ax, name in zip(fig.axes, panels, strict=True):
        for key, style in ((name, "-"), (f"val_{name}", "--")):
            if key in curves:
                values = curves[key]
                ax.plot(np.arange(1, len(values) + 1), values, style, marker=".", label=key)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    return _finish(fig, path)


# -------------------------------------------------------------------- decision boundary
def plot_decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    resolution: int = 200,
    ax: Axes | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Draw a classifier's decision regions over 2-D data, with the data points on top.

    Binary models that give ``predict_proba`` are shaded by P(class 1); multiclass models by
    the arg-max class; models with only ``predict`` by the predicted label.

    Parameters
    ----------
    model : object with ``predict_proba(X)`` or ``predict(X)``
        ``predict_proba`` may return shape (n,) or (n, 1) (probability of class 1) or (n, k).
    X : array-like of shape (n_samples, 2)
    y : array-like of shape (n_samples,)
        Labels, used to colour the points.
    resolution : int, default 200
        Grid points along each axis.
    ax : matplotlib Axes, optional
        Draw here instead of in a new figure.
    path : str or path-like, optional
    """
    X = check_array(X)
    if X.shape[1] != 2:
        raise ValueError(
            f"plot_decision_boundary needs X with exactly 2 features, got shape {X.shape}"
        )
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    resolution = check_positive_int("resolution", resolution, minimum=2)

    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = np.where(hi > lo, 0.05 * (hi - lo), 0.5)
    g0 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    g1 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    xx, yy = np.meshgrid(g0, g1)
    grid = np.column_stack([xx.ravel(), yy.ravel()]).astype(X.dtype)  # (resolution**2, 2)

    fig, ax = _figure_for(ax)
    y_classes = np.unique(y)
    color_index = np.arange(len(y_classes))  # class j of predict_proba is the j-th sorted label
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(grid), dtype=np.float64)
        if proba.ndim not in (1, 2) or proba.shape[0] != grid.shape[0]:
            raise ValueError(
                f"model.predict_proba returned shape {proba.shape} for {grid.shape[0]} samples"
            )
        proba = proba.reshape(len(grid), -1)
        n_classes = max(proba.shape[1], 2)
        if proba.shape[1] <= 2:
            p1 = proba[:, -1].reshape(xx.shape)  # P(class 1)
            filled = ax.contourf(xx, yy, p1, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
            ax.contour(xx, yy, p1, levels=[0.5], colors="k", linewidths=1)
            fig.colorbar(filled, ax=ax, label="P(class 1)")
            regions = None
        else:
            regions = proba.argmax(axis=1)
    elif hasattr(model, "predict"):
        pred = np.asarray(model.predict(grid)).reshape(-1)
        if pred.shape[0] != grid.shape[0]:
            raise ValueError(
                f"model.predict returned {pred.shape[0]} labels for {len(grid)} samples"
            )
        classes = np.unique(np.concatenate([y_classes, pred]))
        n_classes = len(classes)
        regions = np.searchsorted(classes, pred)
        color_index = np.searchsorted(classes, y_classes)
    else:
        raise TypeError(f"model must have predict_proba or predict, got {type(model).__name__}")

    colors = _class_colors(n_classes)
    if regions is not None:
        levels = np.arange(n_classes + 1) - 0.5
        ax.contourf(xx, yy, regions.reshape(xx.shape), levels=levels, colors=colors, alpha=0.4)
    for label, idx in zip(y_classes, color_index, strict=True):
        mask = y == label
        color = colors[int(idx) % len(colors)]
        ax.scatter(X[mask, 0], X[mask, 1], color=color, edgecolors="k", s=25, label=str(label))
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(title="class")
    return _finish(fig, path)


def _class_colors(k: int) -> list[Any]:
    """One colour per class: the ends of RdBu_r for two classes (as the P(class 1) shading)."""
    from matplotlib import colormaps

    if k <= 2:
        return [colormaps["RdBu_r"](0.1), colormaps["RdBu_r"](0.9)]
    return [colormaps["tab10"](i % 10) for i in range(k)]


# ---------------------------------------------------------------------------- weights
def _weight_matrices(weights: Any) -> list[np.ndarray]:
    """The 2-D arrays of a list, a dict (nested once), ``get_weights()`` or ``.layers``."""
    if hasattr(weights, "get_weights"):
        weights = weights.get_weights()
    elif hasattr(weights, "layers"):  # a model whose layers keep params["W"]
        weights = [layer.params["W"] for layer in weights.layers if "W" in layer.params]
    if isinstance(weights, Mapping):
        weights = list(weights.values())
    if not isinstance(weights, Sequence) or isinstance(weights, str | bytes):
        raise TypeError(
            "weights must be a list of 2-D arrays, a dict of arrays or an object with "
            f"get_weights(), got {type(weights).__name__}"
        )
    flat: list[Any] = []  # Sequential.get_weights() gives one {"W": ..., "b": ...} per layer
    for item in weights:
        flat.extend(item.values() if isinstance(item, Mapping) else [item])
    mats = [np.asarray(w) for w in flat if np.ndim(w) == 2]
    if not mats:
        raise ValueError(f"no 2-D weight matrix found in {_short(weights)}")
    return [check_array(w, f"W{i + 1}") for i, w in enumerate(mats)]


def plot_weights(weights: Any, path: PathLike | None = None) -> Figure:
    """Heat maps of each layer's weight matrix, one panel per layer, each with a colorbar.

    Parameters
    ----------
    weights : list of ndarray of shape (n_in, n_out), dict, or object with ``get_weights()``
        (or with ``.layers`` holding ``params["W"]``). 1-D entries (biases) are skipped.
        Panels are titled ``"W1 (n_in x n_out)"`` etc.
    path : str or path-like, optional
    """
    mats = _weight_matrices(weights)
    fig = _new_figure(len(mats), ncols=3)
    from matplotlib.ticker import MaxNLocator  # matplotlib is known to be present by now

    for i, (ax, W) in enumerate(zip(list(fig.axes), mats, strict=True)):
        vmax = float(np.abs(W).max()) or 1.0
        image = ax.imshow(W, cmap="coolwarm", vmin=-vmax, vmax=vmax, aspect="auto")
        fig.colorbar(image, ax=ax)
        ax.set_title(f"W{i + 1} ({W.shape[0]} x {W.shape[1]})")
        ax.set_xlabel("output unit")
        ax.set_ylabel("input unit")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _finish(fig, path)


# ------------------------------------------------------------------------- activations
def plot_activations(
    names: Sequence[str] = ("sigmoid", "tanh", "relu", "leaky_relu", "identity"),
    z: Any = None,
    path: PathLike | None = None,
) -> Figure:
    """Plot each activation function and its derivative, one panel per function.

    The values come from the library's own layers: ``a = layer.forward(z)`` and the derivative
    ``da/dz = layer.backward(ones)`` right after that forward.

    Parameters
    ----------
    names : sequence of str
        Activation names understood by :func:`nablanet.layers.get_activation`.
    z : array-like of shape (n_points,), default ``np.linspace(-6, 6, 400)``
    path : str or path-like, optional
    """
    from nablanet.layers import get_activation

    if isinstance(names, str):
        names = (names,)
    if len(names) == 0:
        raise ValueError("names is empty; give at least one activation name")
    z = np.linspace(-6.0, 6.0, 400) if z is None else check_array(z, "z", ndim=1, dtype=np.float64)
    z2d = z.reshape(-1, 1)  # (n_points, 1): one sample per point, one unit
    fig = _new_figure(len(names), ncols=3)
    for ax, name in zip(list(fig.axes), names, strict=True):
        layer = get_activation(name)
        a = np.asarray(layer.forward(z2d)).reshape(-1)
        da = np.asarray(layer.backward(np.ones_like(z2d))).reshape(-1)
        ax.plot(z, a, label=f"{name}(z)")
        ax.plot(z, da, "--", label=f"{name}'(z)")
        ax.axhline(0, color="0.7", lw=0.8)
        ax.axvline(0, color="0.7", lw=0.8)
        ax.set_title(name)
        ax.set_xlabel("z")
        ax.legend()
    return _finish(fig, path)


# -------------------------------------------------------------------- confusion matrix
def plot_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    labels: Any = None,
    normalize: bool = False,
    ax: Axes | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Draw the confusion matrix (rows: true class, columns: predicted), annotated per cell.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like of shape (n_classes,), optional
    normalize : bool, default False
        Divide each row by its total, so a cell shows the fraction of that true class.
    ax : matplotlib Axes, optional
    path : str or path-like, optional
    """
    if not isinstance(normalize, bool | np.bool_):
        raise TypeError(f"normalize must be True or False, got {_short(normalize)}")
    counts = confusion_matrix(y_true, y_pred, labels)  # from nablanet.metrics
    if counts.size == 0:
        raise ValueError("no labels to plot: y_true and y_pred are empty")
    if labels is None:
        labels = np.unique(np.concatenate([np.ravel(y_true), np.ravel(y_pred)]))
    values = counts.astype(np.float64)
    if normalize:
        totals = values.sum(axis=1, keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)

    fig, ax = _figure_for(ax)
    image = ax.imshow(values, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax)
    k = len(values)
    threshold = values.max() / 2
    for i in range(k):
        for j in range(k):
            text = f"{values[i, j]:.2f}" if normalize else str(counts[i, j])
            color = "white" if values[i, j] > threshold else "black"
            ax.text(j, i, text, ha="center", va="center", color=color)
    names = [str(label) for label in labels]
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix" + (" (row-normalised)" if normalize else ""))
    return _finish(fig, path)


# ----------------------------------------------------------------------------- images
def plot_images(
    images: Any,
    predicted: Any,
    true: Any = None,
    image_shape: tuple[int, ...] = (28, 28),
    n: int = 16,
    class_names: Sequence[str] | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Show the first ``n`` images in a grid, titled ``"pred: X"`` (green if right, red if wrong).

    Parameters
    ----------
    images : array-like of shape (n_images, prod(image_shape)) or (n_images, *image_shape)
    predicted : array-like of shape (n_images,), or (n_images, n_classes) scores (arg-max taken)
    true : array-like of shape (n_images,), optional
        True labels; without them titles are black.
    image_shape : tuple of int, default (28, 28)
        (height, width) or (height, width, channels).
    n : int, default 16
    class_names : sequence of str, optional
        Names shown instead of integer labels.
    path : str or path-like, optional
    """
    n = check_positive_int("n", n)
    shape = tuple(image_shape)
    if len(shape) not in (2, 3) or not all(
        isinstance(s, numbers.Integral) and s > 0 for s in shape
    ):
        raise ValueError(f"image_shape must be (height, width[, channels]), got {image_shape!r}")
    imgs = check_array(images, "images", ndim=(2, 3, 4))
    try:
        imgs = imgs.reshape((len(imgs), *shape))
    except ValueError as exc:
        raise ValueError(
            f"images of shape {imgs.shape} cannot be reshaped to image_shape {shape}"
        ) from exc
    pred = np.asarray(predicted)
    if pred.ndim == 2:
        pred = pred.argmax(axis=1)
    truth = None if true is None else np.asarray(true).reshape(-1)
    for name, arr in (("predicted", pred), ("true", truth)):
        if arr is not None and len(arr) != len(imgs):
            raise ValueError(f"{name} has {len(arr)} labels for {len(imgs)} images")

    def label_text(label: Any) -> str:
        return str(class_names[int(label)]) if class_names is not None else str(label)

    count = min(n, len(imgs))
    fig = _new_figure(count, ncols=math.ceil(math.sqrt(count)), size=1.8)
    for i, ax in enumerate(list(fig.axes)):
        ax.imshow(imgs[i], cmap="gray" if imgs.ndim == 3 else None)
        ax.set_axis_off()
        color = "black" if truth is None else ("green" if pred[i] == truth[i] else "red")
        ax.set_title(f"pred: {label_text(pred[i])}", color=color, fontsize=9)
    return _finish(fig, path)
