"""A classifier's decision regions over 2-D data, with the data points on top."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from nablanet._validation import check_array, check_positive_int
from nablanet.plot._base import (
    PathLike,
    class_colors,
    figure_for,
    finish,
    input_plane,
    plane_grid,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: The plotted area reaches this fraction of the data's range beyond the outermost points, so
#: that points on the edge of the data (XOR's corners) are drawn whole, with room around them.
PAD = 0.12


def plot_decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    resolution: int = 200,
    ax: Axes | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Draw a classifier's decision regions over 2-D data, with the data points on top.

    Binary models that give ``predict_proba`` are shaded by P(class 1), with the 0.5 contour
    drawn; multiclass models by the arg-max class; models with only ``predict`` by the
    predicted label. The plotted area extends 12% of the data's range beyond the outermost
    points on every side.

    Parameters
    ----------
    model : object with ``predict_proba(X)`` or ``predict(X)``
        ``predict_proba`` may return shape (n,) or (n, 1) (probability of class 1) or (n, k).
    X : array-like of shape (n_samples, 2)
        Wider data is accepted when all but two columns are constant (seed 003/004's XOR with
        a constant input 1): the plane is the two varying columns.
    y : array-like of shape (n_samples,)
        Labels, used to colour the points.
    resolution : int, default 200
        Grid points along each axis.
    ax : matplotlib Axes, optional
        Draw here instead of in a new figure.
    path : str or path-like, optional
    """
    X = check_array(X)
    columns, base = input_plane(X, "plot_decision_boundary")
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    resolution = check_positive_int("resolution", resolution, minimum=2)
    xx, yy, grid = plane_grid(X, columns, base, resolution, PAD)

    fig, ax = figure_for(ax)
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

    colors = class_colors(n_classes)
    if regions is not None:
        levels = np.arange(n_classes + 1) - 0.5
        ax.contourf(xx, yy, regions.reshape(xx.shape), levels=levels, colors=colors, alpha=0.4)
    i, j = columns
    for label, idx in zip(y_classes, color_index, strict=True):
        mask = y == label
        color = colors[int(idx) % len(colors)]
        ax.scatter(X[mask, i], X[mask, j], color=color, edgecolors="k", s=30, label=str(label))
    ax.set_xlim(xx[0, 0], xx[0, -1])
    ax.set_ylim(yy[0, 0], yy[-1, 0])
    ax.set_xlabel(f"x{i + 1}")
    ax.set_ylabel(f"x{j + 1}")
    # Below the plot, so that it hides neither points nor the boundary.
    ax.legend(title="class", loc="upper center", bbox_to_anchor=(0.5, -0.14),
              ncol=min(len(y_classes), 6), frameon=False)  # fmt: skip
    return finish(fig, path)
