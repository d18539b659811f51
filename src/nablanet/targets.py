"""Turning user targets into the matrix the loss compares with the network's output."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_array
from .functional import one_hot

CLASSIFICATION_LOSSES = {"binary_cross_entropy", "sigmoid_binary_cross_entropy"}
CATEGORICAL_LOSSES = {"categorical_cross_entropy", "softmax_cross_entropy"}


def infer_task(loss_name: str, n_outputs: int, y: np.ndarray) -> str:
    """Return ``"multiclass"``, ``"binary"``, ``"multilabel"`` or ``"regression"``.

    - categorical cross-entropy: multiclass;
    - binary cross-entropy: binary with one output, multilabel with several;
    - squared losses: multiclass when ``y`` is whole numbers of shape (n,) or (n, 1) and the
      network has several
      outputs (the tutorials "Introduction to Deep Learning - Part 3" and "Neural Networks: The
      Backward Pass" train MSE on class labels), regression otherwise.
    """
    if loss_name in CATEGORICAL_LOSSES:
        return "multiclass"
    if loss_name in CLASSIFICATION_LOSSES:
        return "binary" if n_outputs == 1 else "multilabel"
    labels = y[:, 0] if (y.ndim == 2 and y.shape[1] == 1) else y  # a column of labels
    if labels.ndim == 1 and n_outputs > 1 and np.all(labels == np.round(labels)):
        return "multiclass"
    return "regression"


def prepare_targets(
    y: Any, n_outputs: int, task: str, dtype: Any, label_smoothing: float = 0.0
) -> np.ndarray:
    """Return ``y`` as an array of shape (n_samples, n_outputs) in ``dtype``.

    Integer class labels (shape (n_samples,) or (n_samples, 1)) become one-hot rows for
    multiclass tasks. ``label_smoothing`` ``e``
    moves each classification target toward uniform: ``y (1 - e) + e / K`` (``K`` classes, 2 for
    binary), which turns one-hot 0/1 into the 0.05/0.95 of the tutorial "Introduction to Deep
    Learning - Part 3" with ``e = 0.1``.
    """
    arr = np.asarray(y)
    if arr.dtype.kind in "USO":
        raise TypeError(
            f"y must contain numbers, got dtype {arr.dtype} (first value {arr.ravel()[0]!r}); "
            "encode class labels as integers 0..K-1, e.g. with nablanet.preprocessing.encode_labels"
        )
    arr = check_array(arr, "y", ndim=(1, 2), dtype=np.float64)
    if task == "multiclass" and arr.ndim == 2 and arr.shape[1] == 1 and n_outputs > 1:
        arr = arr[:, 0]  # a column vector of class labels, shape (n_samples, 1)
    if task == "multiclass" and arr.ndim == 1:
        if not np.all(arr == np.round(arr)):
            bad = arr[arr != np.round(arr)][0]
            raise ValueError(f"class labels must be whole numbers, got {bad!r}")
        if arr.min() < 0 or arr.max() > n_outputs - 1:
            bad = arr[(arr < 0) | (arr > n_outputs - 1)][0]
            raise ValueError(
                f"class labels must be in [0, {n_outputs - 1}] for a network with {n_outputs} "
                f"outputs, got label {int(bad)}"
            )
        arr = one_hot(arr.astype(np.int64), n_outputs, dtype=np.float64)
    elif arr.ndim == 1:
        if n_outputs != 1:
            raise ValueError(
                f"y is 1-D but the network has {n_outputs} outputs; pass y of shape "
                f"(n_samples, {n_outputs})"
            )
        arr = arr.reshape(-1, 1)
    if arr.shape[1] != n_outputs:
        raise ValueError(
            f"y has {arr.shape[1]} columns but the network has {n_outputs} outputs "
            f"(y shape {arr.shape})"
        )
    if task in ("binary", "multilabel", "multiclass") and (arr.min() < 0 or arr.max() > 1):
        bad = arr[(arr < 0) | (arr > 1)][0]
        raise ValueError(f"{task} targets must lie in [0, 1], got {bad!r}")
    if label_smoothing and task != "regression":
        k = n_outputs if task == "multiclass" else 2
        arr = arr * (1.0 - label_smoothing) + label_smoothing / k
    return np.ascontiguousarray(arr, dtype=dtype)
