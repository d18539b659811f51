"""Pure, numerically stable math shared by layers, losses and tools.

Nothing here keeps state: each function maps arrays to arrays and keeps the input dtype.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    r"""Logistic sigmoid, safe from overflow and accurate to the last digit for any input.

    .. math:: \sigma(z) = \frac{1}{1 + e^{-z}} = \frac{e^{z}}{1 + e^{z}}

    The two branches: the first form for :math:`z \ge 0`, the second for :math:`z < 0`, both
    written with :math:`e = e^{-|z|} \in (0, 1]`, so ``exp`` never overflows and never warns (seed
    000 clips to [-500, 500] for the same reason). Unlike ``0.5 * (1 + tanh(z / 2))``, small
    probabilities keep their relative precision (that form returns exactly 0 for z < -17 in
    float32).

    Parameters
    ----------
    z : ndarray of any shape
    out : ndarray of the same shape and dtype, optional
        Where to write the result.
    """
    if z.dtype.kind != "f":
        z = z.astype(np.float64)  # integers and booleans: compute in float64
    positive = z >= 0  # taken before ``out`` is written: ``out`` may be ``z`` itself
    e = np.abs(z)
    np.negative(e, out=e)
    np.exp(e, out=e)  # e = exp(-|z|), in (0, 1]
    out = np.add(e, 1.0, out=out)  # 1 + exp(-|z|)
    np.maximum(e, positive, out=e)  # numerator: 1 where z >= 0, exp(z) where z < 0
    np.divide(e, out, out=out)
    return out


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Softmax along ``axis``, with the row maximum subtracted first for stability.

    .. math:: \mathrm{softmax}(z)_k = \frac{e^{z_k - \max z}}{\sum_j e^{z_j - \max z}}

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_classes)
    """
    shifted = z - np.maximum.reduce(z, axis=axis, keepdims=True)  # (ufunc.reduce: no wrapper)
    np.exp(shifted, out=shifted)
    shifted /= np.add.reduce(shifted, axis=axis, keepdims=True)
    return shifted


def logsumexp(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""``log(sum(exp(z)))`` along ``axis`` without overflow; shape keeps ``axis`` as size 1.

    .. math:: \log\sum_j e^{z_j} = m + \log\sum_j e^{z_j - m},\quad m = \max_j z_j
    """
    m = z.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log(softmax(z))`` computed as ``z - logsumexp(z)``, finite for any finite ``z``."""
    return z - logsumexp(z, axis=axis)


def softplus(z: np.ndarray) -> np.ndarray:
    r"""``log(1 + e^z)`` without overflow: ``max(z, 0) + log1p(e^{-|z|})``."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def step(z: np.ndarray) -> np.ndarray:
    """Heaviside step of the perceptron in the tutorial "Introduction to Deep Learning - Part 3":
    1 where ``z > 0``, else 0 (same dtype as ``z``).

    Its derivative is zero almost everywhere, so it cannot be trained by backpropagation; it
    belongs to the classic :class:`nablanet.Perceptron`.
    """
    return (z > 0).astype(z.dtype if z.dtype.kind == "f" else np.float64)


def all_finite(x: np.ndarray, block: int = 1 << 18) -> bool:
    """True if no entry of ``x`` is NaN or infinite.

    A finite sum of squares ``vdot(x, x)`` proves it in one BLAS pass, without a temporary.
    Otherwise (a NaN or an infinity, or squares too large for the dtype) the entries themselves
    are tested, in blocks of about ``block`` entries along the first axis, so that no temporary is
    as large as ``x`` (``np.isfinite`` of a 60000 x 784 float32 set would take 47 MB).

    Parameters
    ----------
    x : ndarray of any shape
    """
    if x.flags.c_contiguous and math.isfinite(np.vdot(x, x)):
        return True
    if x.size <= block or x.ndim == 0:
        return bool(np.isfinite(x).all())
    rows = max(1, block // x[0].size)
    return all(np.isfinite(x[i : i + rows]).all() for i in range(0, len(x), rows))


def one_hot(labels: Any, n_classes: int | None = None, dtype: Any = np.float32) -> np.ndarray:
    """Encode integer class labels ``0..n_classes-1`` as rows of a one-hot matrix.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Integer labels.
    n_classes : int, optional
        Number of classes; by default ``max(labels) + 1``.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
    """
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {y.shape}")
    if y.size == 0:
        raise ValueError("labels is empty")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            bad = y[~(np.isfinite(y) & (y == np.round(y)))][0]
            raise ValueError(f"labels must be whole numbers, got {bad!r}")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "biu":
        raise TypeError(f"labels must be integers, got dtype {y.dtype}")
    k = int(y.max()) + 1 if n_classes is None else int(n_classes)
    if y.min() < 0 or y.max() >= k:
        bad = y[(y < 0) | (y >= k)][0]
        raise ValueError(f"labels must be in [0, {k - 1}], got {int(bad)}")
    out = np.zeros((y.shape[0], k), dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1
    return out
