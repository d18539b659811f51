r"""Softmax cross-entropy from logits, and its gradient, each in one pass over the rows.

The reference is :class:`nablanet.losses.SoftmaxCrossEntropy`: per row, subtract the maximum,
exponentiate, normalise, and add :math:`-\sum_j y_j (z_j - \max z - \log\sum_m e^{z_m - \max z})`;
the gradient is :math:`(p - y)/n`. NumPy takes about ten calls for it; these kernels take one.
"""

from __future__ import annotations

import numpy as np

from . import jit

Array = np.ndarray


@jit
def _softmax_ce(z, y, p):
    # p <- softmax(z) row by row; return sum_i sum_j -y_ij log p_ij (accumulated in float64)
    n, k = z.shape
    total = 0.0
    for i in range(n):
        top = z[i, 0]
        for j in range(1, k):
            top = max(top, z[i, j])
        s = z[i, 0] * 0
        for j in range(k):
            e = np.exp(z[i, j] - top)
            p[i, j] = e
            s += e
        log_s = np.log(s)
        for j in range(k):
            p[i, j] /= s
            total -= y[i, j] * ((z[i, j] - top) - log_s)
    return total


@jit
def _scaled_difference(p, y, r, out):
    # out <- (p - y) r
    n, k = p.shape
    for i in range(n):
        for j in range(k):
            out[i, j] = (p[i, j] - y[i, j]) * r


def softmax_cross_entropy(z: Array, y: Array) -> tuple[float, Array]:
    """The mean cross-entropy of ``softmax(z)`` against ``y``, and ``softmax(z)``.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_classes)
        Logits.
    y : ndarray of shape (n_samples, n_classes)
        Targets (one-hot rows, or any rows of probabilities), same dtype as ``z``.

    Returns
    -------
    (loss, p) : float and ndarray of shape (n_samples, n_classes)
    """
    p = np.empty_like(z)
    return float(_softmax_ce(z, y, p)) / len(z), p


def gradient(p: Array, y: Array, r: float) -> Array:
    r""":math:`(p - y)\,r` as a new array; ``r`` is :math:`1/n`."""
    out = np.empty_like(p)
    _scaled_difference(p, y, p.dtype.type(r), out)
    return out
