"""The network itself: units as nodes, weights as edges, and what each unit responds to.

Layer ``l`` computes ``a_l = f_l(z_l)``, ``z_l = a_{l-1} W_l + b_l`` with ``W_l`` of shape
(n_{l-1}, n_l); the edge from unit ``i`` of layer ``l-1`` to unit ``j`` of layer ``l`` is
``W_l[i, j]``. For 2-D data each unit is drawn as its *response map*: ``a_l[:, j]`` over a grid
of the input plane (TensorFlow Playground's picture, computed by nablanet's own forward pass).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from nablanet._validation import check_array, check_positive_int, short_repr
from nablanet.plot._base import INSTALL_HINT, PathLike, finish, input_plane, plane_grid

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Edge colours: weights above zero, below zero, and exactly zero.
POSITIVE, NEGATIVE, ZERO = "#d6604d", "#4393c3", "#bbbbbb"
#: Edge widths in points: ``MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) |w| / max |w|``.
MIN_WIDTH, MAX_WIDTH = 0.4, 5.0
#: Value ranges of bounded activations, for the colour scale of their maps; a unit with any
#: other activation is scaled by its own largest |a| (white is 0 either way, or 0.5 here).
_RANGES = {"Sigmoid": (0.0, 1.0), "Softmax": (0.0, 1.0), "Tanh": (-1.0, 1.0)}
_X_STEP, _Y_STEP, _MAP_SIZE = 2.0, 1.0, 0.8  # layer spacing, unit spacing, map side (data units)


class _Layer(NamedTuple):
    """One Dense layer and what follows it: ``W`` (n_in, n_out), ``b`` (n_out,), the name of
    the activation layer, and the index of the layer whose output is this layer's ``a``."""

    W: np.ndarray
    b: np.ndarray
    activation: str
    output_index: int


def _dense_layers(model: Any) -> list[_Layer]:
    layers = getattr(model, "layers", None)
    if not isinstance(layers, list) or not getattr(model, "built", False):
        raise TypeError(
            "plot_network needs a built nablanet Sequential (fit it, or build it with "
            f"from_sizes), got {short_repr(model)}"
        )
    dense = [i for i, layer in enumerate(layers) if "W" in getattr(layer, "params", {})]
    if not dense:
        raise ValueError("the model has no Dense layer to draw")
    found = []
    for k, i in enumerate(dense):
        end = dense[k + 1] - 1 if k + 1 < len(dense) else len(layers) - 1
        after = [
            type(la).__name__ for la in layers[i + 1 : end + 1] if type(la).__name__ != "Dropout"
        ]
        activation = after[-1] if after else "Identity"
        params = layers[i].params
        found.append(_Layer(np.asarray(params["W"]), np.asarray(params["b"]), activation, end))
    return found


def _shown(n: int, max_units: int) -> tuple[list[int], list[float]]:
    """Which units of an ``n``-unit layer are drawn, and their heights: all of them, or the
    first ``max_units - 1`` and the last, with one empty slot (the gap) before the last."""
    units = list(range(n)) if n <= max_units else [*range(max_units - 1), n - 1]
    slots = list(range(len(units)))
    if n > max_units:
        slots[-1] += 1
    top = (slots[-1]) / 2
    return units, [(top - s) * _Y_STEP for s in slots]


def plot_network(
    model: Any,
    X: Any = None,
    path: PathLike | None = None,
    *,
    input_names: Any = None,
    output_names: Any = None,
    resolution: int = 40,
    max_units: int = 16,
) -> Figure:
    """Draw the network: units as nodes in layers left to right, weights as edges.

    An edge is red for a positive weight and blue for a negative one, and its width grows with
    ``|w|`` (the widest is the largest ``|w|`` in the network). Columns are titled by layer:
    input, hidden 1, ..., output, with their size and activation. Given 2-D data ``X``, every
    unit is drawn as its response map: its activation over the input plane (the data's range
    and 12% more on each side), red above and blue below white at 0 (0.5 for sigmoid and
    softmax units), so the maps show which region of the plane each hidden unit answers.

    Parameters
    ----------
    model : Sequential, or a fitted estimator of :mod:`nablanet.estimators`
        A built model (``Dense`` layers each followed by an activation, dropout ignored); an
        estimator is drawn through its ``model_``, its outputs named by its ``classes_``.
    X : array-like of shape (n_samples, 2), optional
        Data for the response maps (only its range is used). Wider data works when all but
        two columns are constant, as seed 003/004's XOR with the constant input 1.
    path : str or path-like, optional
    input_names, output_names : sequence of str, optional
        Default ``x1, x2, ...``; for outputs the model's classes (``P(class)``) if it has them,
        else ``y1, y2, ...``.
    resolution : int, default 40
        Grid points along each side of a response map.
    max_units : int, default 16
        Wider layers show their first ``max_units - 1`` units and their last, with a gap.
    """
    try:
        from matplotlib.collections import LineCollection
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    if output_names is None and hasattr(model, "model_"):  # a fitted estimator
        output_names = _default_outputs(model.model_, getattr(model, "classes_", None))
    model = getattr(model, "model_", model)
    layers = _dense_layers(model)
    resolution = check_positive_int("resolution", resolution, minimum=2)
    max_units = check_positive_int("max_units", max_units, minimum=2)
    sizes = [layers[0].W.shape[0], *(layer.W.shape[1] for layer in layers)]
    names_in = _labels(input_names, sizes[0], "input_names", [f"x{i + 1}" for i in range(sizes[0])])
    default_out = _default_outputs(model, getattr(model, "classes_", None))
    names_out = _labels(output_names, sizes[-1], "output_names", default_out)
    maps = None if X is None else _response_maps(model, layers, X, resolution)

    shown = [_shown(n, max_units) for n in sizes]
    height = max(len(units) + (n > max_units) for n, (units, _) in zip(sizes, shown, strict=True))
    per_unit = 0.85 if height <= 8 or maps is not None else 0.5  # inches per unit
    fig = Figure(figsize=(1.9 * len(sizes) + 1.6, per_unit * height + 2.0), layout="constrained")
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.set_axis_off()

    w_max = max(float(np.abs(layer.W).max()) for layer in layers) or 1.0
    for li, layer in enumerate(layers):  # edges, one LineCollection per weight matrix
        (rows, y_in), (cols, y_out) = shown[li], shown[li + 1]
        x0, x1 = li * _X_STEP, (li + 1) * _X_STEP
        segments, colors, widths = [], [], []
        for i, ya in zip(rows, y_in, strict=True):
            for j, yb in zip(cols, y_out, strict=True):
                w = float(layer.W[i, j])
                segments.append([(x0, ya), (x1, yb)])
                colors.append(POSITIVE if w > 0 else NEGATIVE if w < 0 else ZERO)
                widths.append(MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * abs(w) / w_max)
        edges = LineCollection(segments, colors=colors, linewidths=widths, alpha=0.8, zorder=1)
        edges.set_gid(f"W{li + 1}")
        ax.add_collection(edges)

    top = max(ys[0] for _, ys in shown)
    for li, (n, (units, ys)) in enumerate(zip(sizes, shown, strict=True)):
        x = li * _X_STEP
        kind = "input" if li == 0 else "output" if li == len(sizes) - 1 else "hidden"
        face = "#eeeeee" if kind == "input" else "white"
        nodes = ax.scatter([x] * len(units), ys, s=420, c=face, edgecolors="k", zorder=2)
        nodes.set_gid(f"units {li}")
        title = "input" if li == 0 else "output" if kind == "output" else f"hidden {li}"
        what = "" if li == 0 else f" {layers[li - 1].activation.lower()}"
        ax.text(x, top + 0.85 * _Y_STEP, f"{title}\n{n}{what}", ha="center", va="bottom")
        if n > len(units):
            ax.text(x, (ys[-2] + ys[-1]) / 2, f"{n - len(units)} more", ha="center",
                    va="center", fontsize=8, zorder=3, bbox={"fc": "white", "ec": "none"})  # fmt: skip
        for unit, y in zip(units, ys, strict=True):
            if maps is not None:
                _draw_map(ax, maps[li], unit, x, y)
            elif kind == "hidden":
                ax.text(x, y, str(unit + 1), ha="center", va="center", fontsize=8, zorder=3)
            if kind == "input":
                ax.text(x - 0.6 * _X_STEP / 2 - 0.05, y, names_in[unit], ha="right", va="center")
            elif kind == "output":
                ax.text(x + 0.6 * _X_STEP / 2 + 0.05, y, names_out[unit], ha="left", va="center")

    proxies = [Line2D([], [], color=POSITIVE, lw=3), Line2D([], [], color=NEGATIVE, lw=3)]
    caption = f"edge width ~ |w| (largest {w_max:.3g})"
    if maps is not None:
        i, j = maps[0].columns
        caption = (f"each square: the unit's output over the plane x{i + 1} (right), x{j + 1} "
                   "(up); red high, blue low,\nwhite 0 (0.5 for sigmoid, softmax); " + caption)  # fmt: skip
    ax.legend(proxies, ["w > 0", "w < 0"], loc="upper center", bbox_to_anchor=(0.5, 0.0),
              ncol=2, frameon=False, title=caption)  # fmt: skip
    bottom = min(ys[-1] for _, ys in shown)
    ax.set_xlim(-_X_STEP, (len(sizes) - 1) * _X_STEP + _X_STEP * 1.1)
    ax.set_ylim(bottom - 0.6 * _Y_STEP, top + 1.6 * _Y_STEP)
    return finish(fig, path)


def _labels(names: Any, n: int, option: str, default: list[str]) -> list[str]:
    if names is None:
        return default
    if isinstance(names, str) or not isinstance(names, Sequence | np.ndarray):
        raise TypeError(f"{option} must be a list of {n} names, got {short_repr(names)}")
    if len(names) != n:
        raise ValueError(f"{option} must hold {n} names, got {short_repr(names)}")
    return [str(name) for name in names]


def _default_outputs(model: Any, classes: Any) -> list[str]:
    """``P(<class>)`` for a classifier's outputs (``classes``, else 0..K-1), else
    ``y1, y2, ...``."""
    n_out = model.n_outputs
    task = model.resolved_task()
    if task not in ("binary", "multiclass"):
        return [f"y{j + 1}" for j in range(n_out)]
    names = np.asarray(classes).tolist() if classes is not None else list(range(max(n_out, 2)))
    return [f"P({names[-1]})"] if task == "binary" else [f"P({c})" for c in names]


class _Maps(NamedTuple):
    """One layer's response maps: ``values`` (n_units, resolution, resolution), the colour
    range, and the plane's extent (left, right, bottom, top)."""

    values: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    extent: tuple[float, float, float, float]
    columns: tuple[int, int]


def _response_maps(model: Any, layers: list[_Layer], X: Any, resolution: int) -> list[_Maps]:
    """Every unit's activation over a grid of the input plane, layer by layer (inputs first),
    from one forward pass of the model over the grid's points."""
    X = check_array(X, "X")
    if X.shape[1] != layers[0].W.shape[0]:
        raise ValueError(f"X has {X.shape[1]} features but the model takes {layers[0].W.shape[0]}")
    columns, base = input_plane(X, "plot_network's response maps")
    xx, yy, grid = plane_grid(X, columns, base, resolution, 0.12)
    extent = (float(xx[0, 0]), float(xx[0, -1]), float(yy[0, 0]), float(yy[-1, 0]))
    trace: list[np.ndarray] = []
    model.forward(model.check_X(grid), trace=trace)  # trace[k]: output of layer k
    outputs = [(grid, "Identity")] + [(trace[la.output_index], la.activation) for la in layers]
    maps = []
    for a, activation in outputs:  # a: (resolution**2, n_units)
        values = np.asarray(a, dtype=np.float64).T.reshape(-1, resolution, resolution)
        if activation in _RANGES:
            low, high = _RANGES[activation]
            vmin, vmax = np.full(len(values), low), np.full(len(values), high)
        else:
            vmax = np.abs(values).max(axis=(1, 2))
            vmax = np.where(vmax > 0, vmax, 1.0)
            vmin = -vmax
        maps.append(_Maps(values, vmin, vmax, extent, columns))
    return maps


def _draw_map(ax: Axes, maps: _Maps, unit: int, x: float, y: float) -> None:
    """Unit ``unit``'s response map as a small image centred on its node at (x, y)."""
    half = _MAP_SIZE / 2
    inset = ax.inset_axes((x - half, y - half, _MAP_SIZE, _MAP_SIZE), transform=ax.transData)
    inset.imshow(maps.values[unit], origin="lower", extent=maps.extent, cmap="RdBu_r",
                 vmin=maps.vmin[unit], vmax=maps.vmax[unit], aspect="auto")  # fmt: skip
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_zorder(3)
