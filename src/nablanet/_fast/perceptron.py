r"""The Perceptron's per-sample loop: one epoch of scikit-learn's SGD with the perceptron loss.

One binary problem (targets :math:`y_i = \pm 1`) is trained one sample at a time, in the order
``order``, by the rule of scikit-learn's ``_plain_sgd`` with ``loss="perceptron"`` and a
constant learning rate :math:`\eta`:

.. math::

    p_i = w \cdot x_i + b, \qquad
    \ell_i = \max(0, -y_i p_i), \qquad
    u_i = \begin{cases} \eta\, y_i\, c_{y_i}\, s_i & y_i p_i \le 0 \\ 0 & \text{otherwise}\end{cases}

    w \leftarrow \rho\, w + u_i x_i, \qquad b \leftarrow b + d\, u_i

where :math:`s_i` is the sample weight, :math:`c_{\pm}` the class weight of the positive or
negative class, :math:`\rho = \max(0, 1 - (1 - r)\eta\alpha)` the L2 shrinkage (``rho = 1``
without an L2 part; ``r`` is the L1 ratio) and :math:`d` the intercept decay (1 for dense
input, 0.01 for sparse input, as scikit-learn). A score of exactly 0 counts as a mistake
(:math:`y p \le 0`), so the first sample, met with zero weights, always updates.

Three bookkeeping tricks of scikit-learn are reproduced so that the weights agree to the last
bit:

- :math:`w` is stored as ``wscale * w_raw``: shrinking multiplies the scalar ``wscale`` only,
  and ``w_raw`` is rescaled once ``wscale`` falls below 1e-9 (and at the end of training).
- The L1 part is the cumulative truncated gradient of Tsuruoka, Tsujii and Ananiadou (2009):
  ``u_l1`` adds :math:`r\eta\alpha` per sample, ``q[j]`` holds the penalty already applied to
  feature ``j``, and a weight is pulled towards 0 by the difference without crossing it.
- The epoch's objective (for the ``tol`` stopping rule) adds to each sample's loss the penalty
  :math:`\alpha((1 - r)\tfrac12\|w\|^2 + r\|w\|_1)` from the norms kept up to date by the
  updates (stale after an L1 truncation, as in scikit-learn).

With float32 weights, ``wscale``, the norms, each step and each score are rounded to float32
where scikit-learn keeps them in float32 (``real(...)`` in :func:`sgd_epoch`; a no-op for
float64), and ``wscale`` is folded in below 1e-6, scikit-learn's float32 threshold.

Rows come in CSR form (``data``, ``cols``, ``indptr``): row ``i`` is
``data[indptr[i]:indptr[i + 1]]`` at columns ``cols[c0:c0 + nnz]``, where ``c0 = indptr[i]``
for sparse input and ``c0 = 0`` for dense input (whose ``cols`` is ``arange(n_features)``).

:func:`sgd_epoch` is written once as plain loops and compiled by :func:`nablanet._fast.jit`
(numba); :func:`nablanet.estimators.perceptron_epoch.sgd_epoch_numpy` is the same epoch with
NumPy vector operations, the reference used when compiled kernels are off (it lives with the
estimator: the NumPy code outside ``_fast`` is the reference). Their dot products sum in a different order, so on data
whose products are not exact they agree to rounding, not bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from . import jit

Array = np.ndarray

NO_PENALTY, L1, L2, ELASTICNET = 0, 1, 2, 3  # scikit-learn's penalty codes
WSCALE_MIN = 1e-9  # below this, wscale is folded into the raw weights
LOOK_AHEAD = 4  # dense rows whose dot products are computed together


@jit
def dots_ahead(w: Array, data: Array, indptr: Array, order: Array, first: int, out: Array) -> None:
    """``out[k] = w . x`` for the dense rows ``order[first + k]``, k < 4, each summed in order.

    Each sum is the sequential one of the plain loop, so the results are bitwise the same; the
    four independent sums just run side by side (a single sum waits on each addition). They
    stay valid until ``w`` changes, which after the first epochs is rare: the perceptron only
    updates on mistakes. Past the end of ``order`` the last row is repeated.
    """
    last = order.shape[0] - 1
    r0 = indptr[order[first]]
    r1 = indptr[order[min(first + 1, last)]]
    r2 = indptr[order[min(first + 2, last)]]
    r3 = indptr[order[min(first + 3, last)]]
    d0 = d1 = d2 = d3 = 0.0
    for j in range(w.shape[0]):
        d0 += w[j] * data[r0 + j]
        d1 += w[j] * data[r1 + j]
        d2 += w[j] * data[r2 + j]
        d3 += w[j] * data[r3 + j]
    out[0], out[1], out[2], out[3] = d0, d1, d2, d3


@jit
def shuffle_order(order: Array, seed: int) -> None:
    """Fisher-Yates shuffle of ``order`` in place with scikit-learn's xorshift ``our_rand_r``.

    scikit-learn passes the same ``seed`` every epoch; the permutation still changes because it
    is applied to the previous epoch's order.
    """
    n = order.shape[0]
    state = seed  # a uint32, kept in 32 bits by the masks
    for i in range(n - 1):
        if state == 0:
            state = 1
        state ^= (state << 13) & 0xFFFFFFFF
        state ^= state >> 17
        state ^= (state << 5) & 0xFFFFFFFF
        j = i + (state % 2147483648) % (n - i)  # our_rand_r returns state mod 2**31
        order[i], order[j] = order[j], order[i]


@jit
def sgd_epoch(
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
    """One epoch over ``order``; updates ``w`` (n_features,), ``q`` and ``scalars`` in place.

    With ``seed >= 0``, ``order`` is first shuffled in place by :func:`shuffle_order` (as
    scikit-learn does before every epoch). Returns whether the intercept and ``w`` are finite.

    ``scalars`` holds ``[intercept, wscale, sq_norm, l1_norm, u_l1, sumloss, objective]``;
    the last two are set to this epoch's sums. ``weight[i]`` is the sample weight times the
    class weight of sample ``i``; rows with ``skip[i]`` (the validation set) are not trained on.
    """
    intercept, wscale, sq_norm, l1_norm, u_l1 = (
        scalars[0],
        scalars[1],
        scalars[2],
        scalars[3],
        scalars[4],
    )
    # scikit-learn keeps wscale, the norms and some products in the weights' dtype: for float32
    # weights, real(...) rounds those values to float32 where it does (no-op for float64).
    real = w.dtype.type
    wscale_min = 1e-6 if w.itemsize == 4 else WSCALE_MIN  # its float32 threshold
    shrink = float(real(max(0.0, 1.0 - (1.0 - l1_ratio) * eta * alpha)))  # rho (penalty >= L2)
    sumloss = 0.0
    objective = 0.0
    ahead = np.zeros(LOOK_AHEAD)  # dense input: w_raw . x for the rows order[first:first + 4]
    first = -LOOK_AHEAD  # (none computed yet)
    if seed >= 0:
        shuffle_order(order, seed)
    for pos in range(order.shape[0]):
        i = order[pos]
        if skip[i]:
            continue
        start = indptr[i]
        nnz = indptr[i + 1] - start
        c0 = 0 if dense else start
        # p = w . x + b, with w = wscale * w_raw
        if dense:
            if pos >= first + LOOK_AHEAD:  # w_raw changed, or the rows computed are used up
                first = pos
                dots_ahead(w, data, indptr, order, first, ahead)
            dot = ahead[pos - first]
        else:
            dot = 0.0
            for j in range(nnz):
                dot += w[cols[c0 + j]] * data[start + j]
        p = float(real(dot * wscale)) + intercept
        z = p * y[i]
        loss = 0.0 - z if z <= 0.0 else 0.0
        sumloss += loss
        objective += loss
        if penalty != NO_PENALTY:
            norm = float(real(math.sqrt(sq_norm)))
            objective += alpha * ((1.0 - l1_ratio) * 0.5 * norm**2 + l1_ratio * l1_norm)
        update = eta * y[i] * weight[i] if z <= 0.0 else 0.0
        if penalty >= L2:  # w <- rho w, as a change of scale
            wscale = float(real(wscale * shrink))
            sq_norm = float(real(sq_norm * float(real(shrink * shrink))))
            l1_norm = float(real(l1_norm * shrink))
            if wscale < wscale_min:
                w *= wscale
                wscale = 1.0
                first = -LOOK_AHEAD
        if update != 0.0:  # w <- w + update * x
            step = float(real(float(real(update)) / wscale))
            if dense and penalty == NO_PENALTY:  # the common case, without the lookups
                for j in range(nnz):
                    w[j] += data[start + j] * step
            else:
                sq_sum = 0.0
                abs_sum = 0.0
                for j in range(nnz):
                    c = cols[c0 + j]
                    w[c] += data[start + j] * step
                    sq_sum += w[c] * w[c]
                    abs_sum += abs(w[c])
                sq_norm = float(real(sq_sum * float(real(wscale * wscale))))
                l1_norm = float(real(abs_sum * wscale))
            if fit_intercept:
                intercept += update * intercept_decay
            first = -LOOK_AHEAD
        if penalty == L1 or penalty == ELASTICNET:  # truncated cumulative L1 penalty
            first = -LOOK_AHEAD
            u_l1 += l1_ratio * eta * alpha
            for j in range(nnz):
                c = cols[c0 + j]
                before = w[c]
                if wscale * before > 0.0:
                    w[c] = max(0.0, before - (u_l1 + q[c]) / wscale)
                elif wscale * before < 0.0:
                    w[c] = min(0.0, before + (u_l1 - q[c]) / wscale)
                q[c] += wscale * (w[c] - before)
    scalars[0], scalars[1], scalars[2], scalars[3], scalars[4] = (
        intercept,
        wscale,
        sq_norm,
        l1_norm,
        u_l1,
    )
    scalars[5], scalars[6] = sumloss, objective
    return math.isfinite(intercept) and np.isfinite(w).all()
