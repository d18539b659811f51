"""The Perceptron's epoch in NumPy: the reference for the compiled kernel.

:func:`sgd_epoch_numpy` runs one epoch of scikit-learn's Perceptron (SGD on the hinge at 0,
with its penalties and scaling; the rule, the row format and the scalars are described in
:mod:`nablanet._fast.perceptron`) with one NumPy vector operation per step.
:class:`~nablanet.estimators.Perceptron` calls it when compiled kernels are off
(``NABLANET_FAST=0`` or numba absent); tests compare it with the compiled
:func:`nablanet._fast.perceptron.sgd_epoch`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._fast.perceptron import ELASTICNET, L1, L2, NO_PENALTY, WSCALE_MIN, shuffle_order

Array = np.ndarray


def sgd_epoch_numpy(
    w: Array,
    q: Array,
    scalars: Array,
    data: Array,
    cols: Array,
    indptr: Array,
    dense: bool,
    y: Array,
    weight: Array,
    order: Array,
    seed: int,
    skip: Array,
    eta: float,
    alpha: float,
    l1_ratio: float,
    penalty: int,
    fit_intercept: bool,
    intercept_decay: float,
) -> bool:
    """The NumPy reference for :func:`nablanet._fast.perceptron.sgd_epoch`: the same epoch, one
    vector operation a step.

    It rounds where the kernel rounds. With float32 weights: each product of two float32
    numbers in float32, each sum of them and each update in float64 (stored in float32);
    ``wscale``, the norms, each step and each score rounded to float32 (``real``) where
    scikit-learn keeps them in float32; scikit-learn's float32 threshold for folding ``wscale``
    in. With float64 weights all of that is plain float64 arithmetic, so the dot products are
    NumPy's (BLAS) and the rounding calls are skipped. Only the order of each sum differs from
    the kernel's (NumPy's or BLAS's order against the kernel's sequential one).
    """
    if seed >= 0:
        getattr(shuffle_order, "py_func", shuffle_order)(order, seed)  # numba's Python form
    wide = np.float64
    native = w.dtype == wide  # float64 weights: no rounding to do, BLAS dot products

    def real(value: float) -> Any:  # float32 weights: round as the kernel does
        return value if native else w.dtype.type(value)

    def dot(a: Array, b: Array) -> float:  # products in the weights' dtype, summed in float64
        return float(a @ b) if native else float(np.sum(a * b, dtype=wide))

    wscale_min = 1e-6 if w.itemsize == 4 else WSCALE_MIN
    intercept, wscale, sq_norm, l1_norm, u_l1 = (float(v) for v in scalars[:5])
    shrink = float(real(max(0.0, 1.0 - (1.0 - l1_ratio) * eta * alpha)))
    sumloss = objective = 0.0
    for i in order:
        if skip[i]:
            continue
        start, stop = indptr[i], indptr[i + 1]
        x = data[start:stop]  # (nnz,)
        c = cols if dense else cols[start:stop]  # (nnz,) feature indices
        z = (float(real(dot(w[c], x) * wscale)) + intercept) * y[i]  # y (w . x + b)
        loss = max(0.0, -z)
        sumloss += loss
        objective += loss
        if penalty != NO_PENALTY:
            norm = float(real(math.sqrt(sq_norm)))
            objective += alpha * ((1.0 - l1_ratio) * 0.5 * norm**2 + l1_ratio * l1_norm)
        update = eta * y[i] * weight[i] if z <= 0.0 else 0.0
        if penalty >= L2:
            wscale = float(real(wscale * shrink))
            sq_norm = float(real(sq_norm * float(real(shrink * shrink))))
            l1_norm = float(real(l1_norm * shrink))
            if wscale < wscale_min:
                w[:] = w * wide(wscale)
                wscale = 1.0
        if update != 0.0:
            step = float(real(float(real(update)) / wscale))
            w[c] = w[c] + x.astype(wide, copy=False) * step  # in float64, stored in w's dtype
            if not (dense and penalty == NO_PENALTY):  # the norms the penalty needs
                wc = w[c]
                sq_norm = float(real(dot(wc, wc) * float(real(wscale * wscale))))
                l1_norm = float(real(float(np.sum(np.abs(wc), dtype=wide)) * wscale))
            if fit_intercept:
                intercept += update * intercept_decay
        if penalty in (L1, ELASTICNET):
            u_l1 += l1_ratio * eta * alpha
            before = w[c]
            q_c = q[c].astype(wide, copy=False)
            pulled = np.where(  # the sign of wscale * before; wscale > 0
                before > 0.0,
                np.maximum(0.0, before - (u_l1 + q_c) / wscale),
                np.minimum(0.0, before + (u_l1 - q_c) / wscale),
            )
            w[c] = np.where(before == 0.0, before, pulled)
            q[c] = q_c + wscale * (w[c] - before).astype(wide, copy=False)
    scalars[:] = intercept, wscale, sq_norm, l1_norm, u_l1, sumloss, objective
    return bool(math.isfinite(intercept) and np.isfinite(w).all())
