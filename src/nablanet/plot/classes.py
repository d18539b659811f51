"""Classifier results: the confusion matrix, and images titled with their predicted class."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nablanet._validation import check_array, check_positive_int, short_repr
from nablanet.metrics import confusion_matrix
from nablanet.plot._base import PathLike, figure_for, finish, new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _names(labels: Sequence[Any], class_names: Sequence[str] | None, option: str) -> list[str]:
    """Text for each label: ``class_names[label]`` (one name per class, indexed by the
    integer label) if given, else the label itself."""
    if class_names is None:
        return [str(label) for label in labels]
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise TypeError(f"{option} must be a list of names, got {short_repr(class_names)}")
    names = []
    for label in labels:
        if not isinstance(label, numbers.Integral) or not 0 <= int(label) < len(class_names):
            raise ValueError(
                f"{option} has {len(class_names)} names, so labels must be integers 0.."
                f"{len(class_names) - 1}; got label {short_repr(label)}"
            )
        names.append(str(class_names[int(label)]))
    return names


def plot_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    labels: Any = None,
    normalize: bool = False,
    ax: Axes | None = None,
    path: PathLike | None = None,
    *,
    class_names: Sequence[str] | None = None,
) -> Figure:
    """Draw the confusion matrix (rows: true class, columns: predicted), annotated per cell.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like of shape (n_classes,), optional
        The classes, in the order of the rows; default: every label seen, sorted.
    normalize : bool, default False
        Divide each row by its total, so a cell shows the fraction of that true class.
    ax : matplotlib Axes, optional
    path : str or path-like, optional
    class_names : sequence of str, optional
        Names for integer labels 0..K-1, e.g. Fashion-MNIST's ``FASHION_MNIST_CLASSES``
        ("T-shirt/top", "Trouser", ...); the ticks show them instead of the numbers.
    """
    if not isinstance(normalize, bool | np.bool_):
        raise TypeError(f"normalize must be True or False, got {short_repr(normalize)}")
    counts = confusion_matrix(y_true, y_pred, labels)  # from nablanet.metrics
    if counts.size == 0:
        raise ValueError("no labels to plot: y_true and y_pred are empty")
    if labels is None:
        labels = np.unique(np.concatenate([np.ravel(y_true), np.ravel(y_pred)]))
    names = _names(np.asarray(labels).tolist(), class_names, "class_names")
    values = counts.astype(np.float64)
    if normalize:
        totals = values.sum(axis=1, keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)

    own_figure = ax is None
    fig, ax = figure_for(ax)
    if own_figure and len(names) > 6:  # room for the names of many classes
        fig.set_size_inches(0.6 * len(names) + 2.5, 0.55 * len(names) + 2.5)
    image = ax.imshow(values, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax)
    k = len(values)
    threshold = values.max() / 2
    for i in range(k):
        for j in range(k):
            text = f"{values[i, j]:.2f}" if normalize else str(counts[i, j])
            color = "white" if values[i, j] > threshold else "black"
            ax.text(j, i, text, ha="center", va="center", color=color, fontsize=8)
    long_names = max(len(name) for name in names) > 3
    ax.set_xticks(range(k), names, rotation=45 if long_names else 0,
                  ha="right" if long_names else "center", rotation_mode="anchor")  # fmt: skip
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix" + (" (row-normalised)" if normalize else ""))
    return finish(fig, path)


def plot_images(
    images: Any,
    predicted: Any,
    true: Any = None,
    image_shape: tuple[int, ...] = (28, 28),
    n: int = 16,
    class_names: Sequence[str] | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Show the first ``n`` images in a grid, titled by the predicted class.

    With ``true`` labels, a right prediction is titled ``"pred: X"`` in green and a wrong one
    ``"pred: X"`` over ``"true: Y"`` in red; without them titles are black.

    Parameters
    ----------
    images : array-like of shape (n_images, prod(image_shape)) or (n_images,) + image_shape
    predicted : array-like of shape (n_images,), or (n_images, n_classes) scores (arg-max taken)
    true : array-like of shape (n_images,), optional
    image_shape : tuple of int, default (28, 28)
        (height, width) or (height, width, channels).
    n : int, default 16
    class_names : sequence of str, optional
        Names shown instead of integer labels 0..K-1.
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

    count = min(n, len(imgs))
    pred_names = _names(pred[:count].tolist(), class_names, "class_names")
    true_names = None if truth is None else _names(truth[:count].tolist(), class_names,
                                                   "class_names")  # fmt: skip
    fig = new_figure(count, ncols=math.ceil(math.sqrt(count)), size=1.8, height=1.15)
    for i, ax in enumerate(list(fig.axes)):
        ax.imshow(imgs[i], cmap="gray" if imgs.ndim == 3 else None)
        ax.set_axis_off()
        title, color = f"pred: {pred_names[i]}", "black"
        if truth is not None and true_names is not None:
            right = bool(pred[i] == truth[i])
            color = "green" if right else "red"
            if not right:
                title += f"\ntrue: {true_names[i]}"
        ax.set_title(title, color=color, fontsize=9)
    return finish(fig, path)
