"""What every figure of :mod:`nablanet.plot` shares: a fresh Figure, saving, class colours and
the 2-D plane a network's inputs vary in."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PathLike = str | os.PathLike[str]
INSTALL_HINT = "nablanet.plot needs matplotlib; install it with: pip install nablanet[plot]"

#: Histories up to this many epochs get a marker on every point; longer ones a plain line.
MAX_MARKED_POINTS = 50
#: Weight matrices up to this many rows and columns get square cells, a tick per unit and
#: their values written in the cells.
SMALL_MATRIX = 12


def new_figure(
    n_panels: int = 1, *, ncols: int | None = None, size: float = 4.0, height: float = 0.8
) -> Figure:
    """A fresh Figure (not registered with pyplot) holding ``n_panels`` axes in a grid, each
    ``size`` inches wide and ``height * size`` high."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    ncols = min(n_panels, ncols or n_panels)
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(size * ncols, height * size * nrows), layout="constrained")
    for i in range(n_panels):
        fig.add_subplot(nrows, ncols, i + 1)
    return fig


def figure_for(ax: Axes | None) -> tuple[Figure, Axes]:
    """Return (root figure, axes): the caller's ``ax`` or a new single-panel figure."""
    if ax is None:
        fig = new_figure(1, size=5.0)
        return fig, fig.axes[0]
    root: Any = ax.figure
    while root.figure is not root:  # a SubFigure: climb to the Figure that can be saved
        root = root.figure
    return root, ax


def finish(fig: Figure, path: PathLike | None) -> Figure:
    """Save ``fig`` to ``path`` (PNG, 100 dpi) if given; return it."""
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def class_colors(k: int) -> list[Any]:
    """One colour per class: the ends of RdBu_r for two classes (as the P(class 1) shading)."""
    from matplotlib import colormaps

    if k <= 2:
        return [colormaps["RdBu_r"](0.1), colormaps["RdBu_r"](0.9)]
    return [colormaps["tab10"](i % 10) for i in range(k)]


def input_plane(X: np.ndarray, what: str) -> tuple[tuple[int, int], np.ndarray]:
    """The two columns of ``X`` (n_samples, n_features) that vary, and the constant row.

    2-D data is its own plane. Wider data qualifies when every other column is constant, as
    the constant input 1 that seeds 003/004 give XOR in place of a bias: the plane is then the
    two varying columns, the others held at their value.
    """
    varying = [j for j in range(X.shape[1]) if np.ptp(X[:, j]) > 0]
    if X.shape[1] == 2:
        varying = [0, 1]
    if len(varying) != 2:
        raise ValueError(
            f"{what} needs X with exactly 2 features (or 2 varying and the rest constant), "
            f"got shape {X.shape} with {len(varying)} varying"
        )
    return (varying[0], varying[1]), X[0].copy()


def plane_grid(
    X: np.ndarray, columns: tuple[int, int], base: np.ndarray, resolution: int, pad: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``resolution`` x ``resolution`` grid over the two columns' range, widened by ``pad``
    (a fraction of the range) on every side.

    Returns ``(xx, yy, grid)``: the two coordinate arrays of shape (resolution, resolution)
    and the network inputs, shape (resolution**2, n_features), other columns set from ``base``.
    """
    i, j = columns
    lo, hi = X[:, [i, j]].min(axis=0), X[:, [i, j]].max(axis=0)
    margin = np.where(hi > lo, pad * (hi - lo), 0.5)
    g0 = np.linspace(lo[0] - margin[0], hi[0] + margin[0], resolution)
    g1 = np.linspace(lo[1] - margin[1], hi[1] + margin[1], resolution)
    xx, yy = np.meshgrid(g0, g1)
    grid = np.tile(base, (xx.size, 1)).astype(X.dtype)  # (resolution**2, n_features)
    grid[:, i], grid[:, j] = xx.ravel(), yy.ravel()
    return xx, yy, grid
