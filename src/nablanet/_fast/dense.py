r"""Bias + activation after a Dense layer's matrix product, forward and backward, in one pass.

NumPy's reference is three separate layers' work: ``z += b`` (Dense), ``a = f(z)`` (the
activation) and, backward, ``delta = dL/da * f'(a)`` then ``db = sum of delta over the rows``.
Here the forward pass turns ``x @ W`` into ``a = f(x @ W + b)`` in place, and the backward pass
writes ``delta`` and ``db`` together. The activation is a code: :data:`IDENTITY`, :data:`RELU`,
:data:`SIGMOID`, :data:`TANH`; the formulas are the activation layers' own.
"""

from __future__ import annotations

import numpy as np

from . import jit, parallel_jit, prange, threads, use_parallel

Array = np.ndarray
IDENTITY, RELU, SIGMOID, TANH = 0, 1, 2, 3


def _bias_act(z, b, kind, zero, one):
    # z <- f(z + b), row by row; z: (n, k), b: (k,)
    n, k = z.shape
    for i in prange(n):
        for j in range(k):
            s = z[i, j] + b[j]
            if kind == RELU:
                s = s if s > zero else zero  # max(0, z)
            elif kind == SIGMOID:  # the two-branch, overflow-safe form of nablanet.functional
                e = np.exp(-abs(s))
                s = one / (one + e) if s >= zero else e / (one + e)
            elif kind == TANH:
                s = np.tanh(s)
            z[i, j] = s


def _act_backward(dy, a, kind, dz, db_parts, zero, one):
    # dz = dy * f'(a); db_parts[c] = sum of dz over the rows of chunk c
    n, k = dy.shape
    chunks = db_parts.shape[0]
    for c in prange(chunks):
        for j in range(k):
            db_parts[c, j] = zero
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            for j in range(k):
                aij = a[i, j]
                if kind == RELU:
                    d = dy[i, j] if aij > zero else zero  # f'(z) = [z > 0] = [a > 0]
                elif kind == SIGMOID:
                    d = dy[i, j] * aij * (one - aij)  # f'(z) = a (1 - a)
                elif kind == TANH:
                    d = dy[i, j] * (one - aij * aij)  # f'(z) = 1 - a^2
                else:
                    d = dy[i, j]
                dz[i, j] = d
                db_parts[c, j] += d


_BIAS_ACT = (jit(_bias_act), parallel_jit(_bias_act))
_ACT_BACKWARD = (jit(_act_backward), parallel_jit(_act_backward))


def bias_act(z: Array, b: Array, kind: int) -> Array:
    """``z <- f(z + b)`` in place and return ``z``.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_out), C-contiguous
        ``x @ W``, overwritten with the activation's output ``a``.
    b : ndarray of shape (n_out,)
    kind : int
        :data:`IDENTITY`, :data:`RELU`, :data:`SIGMOID` or :data:`TANH`.
    """
    serial, parallel = _BIAS_ACT
    f = z.dtype.type
    (parallel if use_parallel(z.size) else serial)(z, b, kind, f(0), f(1))
    return z


def act_backward(dy: Array, a: Array, kind: int, db: Array) -> Array:
    r"""Return :math:`\delta = dL/da \odot f'(a)` (a new array) and write its row sums into ``db``.

    Parameters
    ----------
    dy : ndarray of shape (n_samples, n_out)
        :math:`dL/da`, left as it is.
    a : ndarray of shape (n_samples, n_out)
        The activation's output from the forward pass.
    kind : int
        The activation's code.
    db : ndarray of shape (n_out,)
        Receives :math:`dL/db = \sum_{\text{rows}} \delta`.
    """
    serial, parallel = _ACT_BACKWARD
    f = dy.dtype.type
    dz = np.empty_like(dy)
    if use_parallel(dy.size):
        parts = np.empty((threads(), dy.shape[1]), dtype=dy.dtype)
        parallel(dy, a, kind, dz, parts, f(0), f(1))
        parts.sum(axis=0, out=db)
    else:
        serial(dy, a, kind, dz, db.reshape(1, -1), f(0), f(1))
    return dz
