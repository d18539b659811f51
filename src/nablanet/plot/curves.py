"""Curves: the training history per epoch, and each activation with its derivative."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nablanet._validation import check_array, short_repr
from nablanet.plot._base import MAX_MARKED_POINTS, PathLike, finish, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_history(
    history: Any,
    path: PathLike | None = None,
    *,
    val_label: str = "validation",
    train_label: str = "training",
) -> Figure:
    """Plot training curves: one panel for the loss, one for each other metric.

    Each panel is titled by the quantity (``loss``, ``accuracy``, ...); its legend names the
    data: ``train_label`` for ``<name>`` (solid) and ``val_label`` for ``val_<name>`` (dashed).
    Histories of at most 50 epochs get a dot on every epoch; longer ones are plain lines.

    Parameters
    ----------
    history : mapping of str to sequence of float, or an object with a ``.history`` mapping
        Per-epoch values, e.g. ``{"loss": [...], "val_loss": [...], "accuracy": [...]}``. x is
        the epoch, from 1.
    path : str or path-like, optional
        Where to save the figure.
    val_label : str, default "validation"
        What the held-out curves are: pass ``"test"`` when ``fit`` was given the test set as
        ``validation_data``.
    train_label : str, default "training"
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(
            "history must be a mapping like {'loss': [...]} or have a .history mapping, "
            f"got {type(history).__name__}"
        )
    if not logs:
        raise ValueError("history is empty; nothing to plot")
    for name, label in (("val_label", val_label), ("train_label", train_label)):
        if not isinstance(label, str) or not label:
            raise TypeError(f"{name} must be a non-empty string, got {short_repr(label)}")
    curves = {str(k): check_array(v, f"history[{k!r}]", ndim=1) for k, v in logs.items()}
    # Panel names in order: "loss" first, then the other metrics as they appear.
    panels: list[str] = []
    for key in curves:
        base = key.removeprefix("val_")
        if base not in panels:
            panels.append(base)
    panels.sort(key=lambda name: name != "loss")

    fig = new_figure(len(panels))
    from matplotlib.ticker import MaxNLocator  # matplotlib is known to be present by now

    for ax, name in zip(fig.axes, panels, strict=True):
        for key, style, label in ((name, "-", train_label), (f"val_{name}", "--", val_label)):
            if key in curves:
                values = curves[key]
                marker = "." if len(values) <= MAX_MARKED_POINTS else None
                epochs = np.arange(1, len(values) + 1)
                ax.plot(epochs, values, style, marker=marker, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        n_epochs = max(len(curves[k]) for k in (name, f"val_{name}") if k in curves)
        if n_epochs <= 10:  # whole epochs only, never 0.96 ... 1.04
            ax.set_xticks(range(1, n_epochs + 1))
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    return finish(fig, path)


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
    fig = new_figure(len(names), ncols=3)
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
    return finish(fig, path)
