"""Each layer's weight matrix as a heat map (seed 002's figure 5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nablanet._validation import check_array, short_repr
from nablanet.plot._base import SMALL_MATRIX, PathLike, finish, new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def weight_matrices(weights: Any) -> list[np.ndarray]:
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
        raise ValueError(f"no 2-D weight matrix found in {short_repr(weights)}")
    return [check_array(w, f"W{i + 1}") for i, w in enumerate(mats)]


def plot_weights(weights: Any, path: PathLike | None = None) -> Figure:
    """Heat maps of each layer's weight matrix, one panel per layer, each with a colorbar.

    Row ``i``, column ``j`` of panel ``Wl`` is the weight from input unit ``i`` to output unit
    ``j`` (``W`` has shape (n_in, n_out), as in ``z = a W + b``). Small matrices (at most 12
    rows and columns, such as XOR's 4 x 1) get square cells, one tick per unit and each weight
    written in its cell; larger ones a few integer ticks.

    Parameters
    ----------
    weights : list of ndarray of shape (n_in, n_out), dict, or object with ``get_weights()``
        (or with ``.layers`` holding ``params["W"]``). 1-D entries (biases) are skipped.
        Panels are titled ``"W1 (n_in x n_out)"`` etc.
    path : str or path-like, optional
    """
    mats = weight_matrices(weights)
    # Panels tall enough for cells of about 0.45 inch with their value written in them.
    rows = max([W.shape[0] for W in mats if max(W.shape) <= SMALL_MATRIX] or [0])
    fig = new_figure(len(mats), ncols=3, height=max(0.8, (0.45 * rows + 1.2) / 4.0))
    for i, (ax, W) in enumerate(zip(list(fig.axes), mats, strict=True)):
        vmax = float(np.abs(W).max()) or 1.0
        small = max(W.shape) <= SMALL_MATRIX
        image = ax.imshow(
            W, cmap="coolwarm", vmin=-vmax, vmax=vmax, aspect="equal" if small else "auto"
        )
        fig.colorbar(image, ax=ax)
        ax.set_title(f"W{i + 1} ({W.shape[0]} x {W.shape[1]})")
        ax.set_xlabel("output unit")
        ax.set_ylabel("input unit")
        _unit_ticks(ax, W.shape)
        if small:
            for (r, c), w in np.ndenumerate(W):
                color = "white" if abs(w) > 0.6 * vmax else "black"
                text = f"{w:.1f}" if abs(w) >= 0.995 else f"{w:.2f}"  # at most 5 characters
                ax.text(c, r, text, ha="center", va="center", color=color, fontsize=8)
    return finish(fig, path)


def _unit_ticks(ax: Axes, shape: tuple[int, ...]) -> None:
    """Ticks on unit indices only: every index up to SMALL_MATRIX units, else a few integers
    (never the half-unit ticks -0.5 ... 0.5 matplotlib picks for a one-column image)."""
    from matplotlib.ticker import MaxNLocator

    for axis, n in ((ax.yaxis, shape[0]), (ax.xaxis, shape[1])):
        if n <= SMALL_MATRIX:
            axis.set_ticks(range(n))
        else:
            axis.set_major_locator(MaxNLocator(nbins=8, integer=True, steps=[1, 2, 5, 10]))
