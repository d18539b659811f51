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
    """The NumPy reference for :func:`nablanet._fast.perceptron.sgd_epoch`: the same epoch, one vector operation a step."""
    if seed >= 0:
        getattr(shuffle_order, "py_func", shuffle_order)(order, seed)  # numba's Python form
    intercept, wscale, sq_norm, l1_norm, u_l1 = (float(v) for v in scalars[:5])
    shrink = max(0.0, 1.0 - (1.0 - l1_ratio) * eta * alpha)
    sumloss = objective = 0.0
    for i in order:
        if skip[i]:
            continue
        start, stop = indptr[i], indptr[i + 1]
        x = data[start:stop]  # (nnz,)
        c = cols if dense else cols[start:stop]  # (nnz,) feature indices
        z = (float(w[c] @ x) * wscale + intercept) * y[i]  # y (w . x + b)
        loss = max(0.0, -z)
        sumloss += loss
        objective += loss
        if penalty != NO_PENALTY:
            objective += alpha * ((1.0 - l1_ratio) * 0.5 * sq_norm + l1_ratio * l1_norm)
        update = eta * y[i] * weight[i] if z <= 0.0 else 0.0
        if penalty >= L2:
            wscale *= shrink
            sq_norm *= shrink * shrink
            l1_norm *= shrink
            if wscale < WSCALE_MIN:
                w *= wscale
                wscale = 1.0
        if update != 0.0:
            w[c] += x * (update / wscale)
            sq_norm = float(w[c] @ w[c]) * wscale * wscale
            l1_norm = float(np.abs(w[c]).sum()) * wscale
            if fit_intercept:
                intercept += update * intercept_decay
        if penalty in (L1, ELASTICNET):
            u_l1 += l1_ratio * eta * alpha
            before = w[c]
            pulled = np.where(
                wscale * before > 0.0,
                np.maximum(0.0, before - (u_l1 + q[c]) / wscale),
                np.minimum(0.0, before + (u_l1 - q[c]) / wscale),
            )
            w[c] = np.where(before == 0.0, before, pulled)
            q[c] += wscale * (w[c] - before)
    scalars[:] = intercept, wscale, sq_norm, l1_norm, u_l1, sumloss, objective
    return bool(math.isfinite(intercept) and np.isfinite(w).all())
