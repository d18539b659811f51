r"""A whole forward pass of a few rows in one compiled call: the inference fast path's kernel.

For one sample (or a handful), the network's cost is reading its weights once and a dozen
small NumPy calls around three matrix-vector products; the calls weigh as much as the
arithmetic. :func:`forward_rows` runs the chain of Dense layers with their activations in one
compiled loop instead: for layer :math:`k`, row :math:`r`,

.. math:: a^{(k)}_r = f_k\big(b^{(k)} + \textstyle\sum_i a^{(k-1)}_{r,i} W^{(k)}_{i,:}\big),

the rows of :math:`W^{(k)}` (shape (n_in, n_out), as stored) read four at a time, each used for
every row of the batch while it is in cache. The last layer's :math:`f` may also be a softmax
(row maximum subtracted first) or an exponential. The reference is the layers' own
``forward`` (Dense: ``x @ W + b``; the activations of :mod:`nablanet.layers.activations`), and
:func:`nablanet.losses.apply_link`; the sums run in another order than BLAS's, so the results
agree to rounding.

**Finiteness.** A NaN or infinite input makes every entry of the first layer's ``x @ W + b``
non-finite (``nan * w`` is NaN; ``inf * w`` is infinite or NaN). The kernel checks those
entries and returns False when one is not finite, without writing ``out``; the caller then
takes the checked path, which raises the usual error (or, for a finite input that overflows,
computes the same infinities).
"""

from __future__ import annotations

import numpy as np

from . import jit
from .dense import IDENTITY, RELU, SIGMOID, TANH

Array = np.ndarray
#: output-only activation codes (after :data:`~nablanet._fast.dense.TANH`)
SOFTMAX, EXP = 4, 5
__all__ = [
    "EXP",
    "IDENTITY",
    "RELU",
    "SIGMOID",
    "SOFTMAX",
    "TANH",
    "activate",
    "bias_act_finite",
    "bias_softmax",
    "forward_rows",
]


def _activate(a, kind, zero, one):
    # a <- f(a) in place, row by row; a: (n, k)
    n, k = a.shape
    for r in range(n):
        if kind == SOFTMAX:  # as nablanet.functional.softmax: shift by the row max
            top = a[r, 0]
            for j in range(1, k):
                top = max(top, a[r, j])
            s = zero
            for j in range(k):
                e = np.exp(a[r, j] - top)
                a[r, j] = e
                s += e
            for j in range(k):
                a[r, j] /= s
            continue
        for j in range(k):
            v = a[r, j]
            if kind == RELU:
                v = v if v > zero else zero
            elif kind == SIGMOID:  # the two-branch, overflow-safe form
                e = np.exp(-abs(v))
                v = one / (one + e) if v >= zero else e / (one + e)
            elif kind == TANH:
                v = np.tanh(v)
            elif kind == EXP:
                v = np.exp(v)
            a[r, j] = v


def _affine(x, flat, off_w, off_b, a):
    # a <- x @ W + b with W = flat[off_w:].reshape(n_in, n_out), b = flat[off_b:off_b + n_out]
    n, n_in = x.shape
    n_out = a.shape[1]
    b = flat[off_b : off_b + n_out]
    for r in range(n):
        for j in range(n_out):
            a[r, j] = b[j]
    i = 0
    while i + 4 <= n_in:  # four rows of W at a time, each used for every row of x
        w0 = flat[off_w + i * n_out : off_w + (i + 1) * n_out]
        w1 = flat[off_w + (i + 1) * n_out : off_w + (i + 2) * n_out]
        w2 = flat[off_w + (i + 2) * n_out : off_w + (i + 3) * n_out]
        w3 = flat[off_w + (i + 3) * n_out : off_w + (i + 4) * n_out]
        for r in range(n):
            x0, x1, x2, x3 = x[r, i], x[r, i + 1], x[r, i + 2], x[r, i + 3]
            ar = a[r]
            for j in range(n_out):
                ar[j] += (x0 * w0[j] + x1 * w1[j]) + (x2 * w2[j] + x3 * w3[j])
        i += 4
    while i < n_in:
        w0 = flat[off_w + i * n_out : off_w + (i + 1) * n_out]
        for r in range(n):
            x0 = x[r, i]
            ar = a[r]
            for j in range(n_out):
                ar[j] += x0 * w0[j]
        i += 1


def _bias_act_finite(z, b, kind, zero, one):
    # z <- f(z + b) in place (kind <= TANH); False if some z + b is not finite
    n, k = z.shape
    bad = False
    for i in range(n):
        for j in range(k):
            s = z[i, j] + b[j]
            bad |= (s - s) != zero  # NaN exactly when s is NaN or infinite
            if kind == RELU:
                s = s if s > zero else zero
            elif kind == SIGMOID:
                e = np.exp(-abs(s))
                s = one / (one + e) if s >= zero else e / (one + e)
            elif kind == TANH:
                s = np.tanh(s)
            z[i, j] = s
    return not bad


def _bias_shift_rows(a, b):
    # a <- a + b - max over the row of (a + b)
    n, k = a.shape
    for r in range(n):
        top = a[r, 0] + b[0]
        for j in range(k):
            a[r, j] += b[j]
            top = max(top, a[r, j])
        for j in range(k):
            a[r, j] -= top


def _all_finite(a):
    n, k = a.shape
    for r in range(n):
        for j in range(k):
            if not np.isfinite(a[r, j]):
                return False
    return True


def _forward_rows(x, flat, plan, out, zero, one):
    # plan[k] = (n_in, n_out, offset of W, offset of b, activation code) of layer k
    n = x.shape[0]
    a = x
    last = plan.shape[0] - 1
    for k in range(plan.shape[0]):
        nxt = out if k == last else np.empty((n, plan[k, 1]), dtype=out.dtype)
        _affine(a, flat, plan[k, 2], plan[k, 3], nxt)
        if k == 0 and not _all_finite(nxt):
            return False
        _activate(nxt, plan[k, 4], zero, one)
        a = nxt
    return True


_activate = jit(_activate)
_affine = jit(_affine)
_all_finite = jit(_all_finite)
_BIAS_ACT_FINITE = jit(_bias_act_finite)
_BIAS_SHIFT_ROWS = jit(_bias_shift_rows)
_FORWARD_ROWS = jit(_forward_rows)


def forward_rows(x: Array, flat: Array, plan: Array, out: Array) -> bool:
    """Run the network on the rows of ``x`` into ``out``; False (``out`` unusable) when the
    first layer's pre-activation is not finite (a NaN or infinite input, or an overflow).

    Parameters
    ----------
    x : ndarray of shape (n_samples, n_features)
        In the weights' dtype.
    flat : ndarray of shape (n_params,)
        Every parameter, back to back (:func:`nablanet.layers.packing.pack_parameters`).
    plan : ndarray of int64, shape (n_layers, 5)
        Per Dense layer: ``n_in``, ``n_out``, the offsets of ``W`` and ``b`` in ``flat`` and
        the code of the activation after it (:data:`IDENTITY`, :data:`RELU`, :data:`SIGMOID`,
        :data:`TANH`; :data:`SOFTMAX` or :data:`EXP` for the last).
    out : ndarray of shape (n_samples, n_outputs)
        Receives the output.
    """
    f = flat.dtype.type
    return bool(_FORWARD_ROWS(x, flat, plan, out, f(0), f(1)))


def activate(a: Array, kind: int) -> Array:
    """``a <- f(a)`` in place (row-wise for :data:`SOFTMAX`) and return ``a``.

    Parameters
    ----------
    a : ndarray of shape (n_samples, n_units)
    kind : int
        An activation code, as in :func:`forward_rows`.
    """
    f = a.dtype.type
    _activate(a, kind, f(0), f(1))
    return a


def bias_act_finite(z: Array, b: Array, kind: int) -> bool:
    """``z <- f(z + b)`` in place, as :func:`nablanet._fast.dense.bias_act`, and True when
    every ``z + b`` was finite (False: ``z`` is unusable).

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_out)
        ``x @ W``.
    b : ndarray of shape (n_out,)
    kind : int
        :data:`IDENTITY`, :data:`RELU`, :data:`SIGMOID` or :data:`TANH`.
    """
    f = z.dtype.type
    return bool(_BIAS_ACT_FINITE(z, b, kind, f(0), f(1)))


def bias_softmax(z: Array, b: Array) -> Array:
    r"""``z <- softmax(z + b)`` row by row, in place, and return ``z``.

    :math:`z + b` shifted by its row maximum, then NumPy's vectorised ``exp`` (about three
    times as fast as the compiled loop's scalar one for 1,000 x 10), then divided by the row
    sums as NumPy adds them: the formula and the operations of
    :func:`nablanet.functional.softmax` after ``z += b``, so the result is the checked path's
    to the last bit.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_classes), C-contiguous
    b : ndarray of shape (n_classes,)
    """
    _BIAS_SHIFT_ROWS(z, b)
    np.exp(z, out=z)
    z /= np.add.reduce(z, axis=1, keepdims=True)  # NumPy's sum: the checked path's, bit for bit
    return z
