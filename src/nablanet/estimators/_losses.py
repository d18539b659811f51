r"""The estimators' output losses, scaled and weighted exactly as scikit-learn's MLP does it.

Each function takes the logits ``z`` (the last Dense layer's output, before the output
activation), the targets ``y`` and optional sample weights ``s``, and returns the loss and
:math:`\delta = dL/dz`. With :math:`S = \sum_i s_i` (``n`` without weights):

=====================  =====================================================  =====================
output                 loss                                                     :math:`\delta_i`
=====================  =====================================================  =====================
softmax (multiclass)   :math:`-\frac1S\sum_i s_i \sum_k y_{ik}\log p_{ik}`         :math:`s_i (p_i - y_i) / S`
logistic (binary,      :math:`-\frac1S\sum_i s_i \sum_k y_{ik}\log p_{ik}          :math:`s_i (p_i - y_i) / S`
multilabel)            + (1 - y_{ik})\log(1 - p_{ik})`
identity (regression)  :math:`\frac{1}{2k}\,\frac1S\sum_i s_i \|z_i - y_i\|^2`     :math:`s_i (z_i - y_i) / S`
=====================  =====================================================  =====================

Probabilities inside the logarithms are clipped to :math:`[\epsilon, 1 - \epsilon]` (machine
epsilon of the dtype), as scikit-learn clips them; the gradients use the unclipped ``p``.
Like scikit-learn, the squared loss is reported as a mean over the ``k`` outputs while its
gradient is that of the sum (``nablanet``'s ``half_squared_error``); for one output they agree.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..functional import log_softmax, sigmoid, softplus

Array = np.ndarray
OutputLoss = Callable[[Array, Array, Array | None], tuple[float, Array]]


def _row_weights(n: int, sample_weight: Array | None, dtype: np.dtype) -> tuple[Array, float]:
    """Per-row factors ``s_i / S`` of shape (n, 1) and the total ``S``."""
    if sample_weight is None:
        return np.full((n, 1), 1.0 / n, dtype=dtype), float(n)
    total = float(sample_weight.sum())
    return (sample_weight / total).astype(dtype, copy=False).reshape(-1, 1), total


def _clipped_log(log_p: Array) -> Array:
    """``log(clip(p, eps, 1 - eps))`` computed from ``log p``."""
    eps = np.finfo(log_p.dtype).eps
    return np.clip(log_p, np.log(eps), np.log1p(-eps))


def softmax_log_loss(z: Array, y: Array, sample_weight: Array | None) -> tuple[float, Array]:
    """Categorical cross-entropy of ``softmax(z)``; ``z``, ``y`` of shape (n, n_classes)."""
    w, _ = _row_weights(len(z), sample_weight, z.dtype)
    log_p = log_softmax(z)
    per_sample = -(y * _clipped_log(log_p)).sum(axis=1, keepdims=True)  # (n, 1)
    delta = np.exp(log_p)
    delta -= y
    delta *= w
    return float(np.vdot(w, per_sample)), delta


def logistic_log_loss(z: Array, y: Array, sample_weight: Array | None) -> tuple[float, Array]:
    """Binary cross-entropy of ``sigmoid(z)``, summed over the outputs; shape (n, n_outputs)."""
    w, _ = _row_weights(len(z), sample_weight, z.dtype)
    log_p = _clipped_log(-softplus(-z))  # log sigmoid(z)
    log_q = _clipped_log(-softplus(z))  # log (1 - sigmoid(z))
    per_sample = -(y * log_p + (1 - y) * log_q).sum(axis=1, keepdims=True)
    delta = sigmoid(z)
    delta -= y
    delta *= w
    return float(np.vdot(w, per_sample)), delta


def half_squared_loss(z: Array, y: Array, sample_weight: Array | None) -> tuple[float, Array]:
    """Half squared error of identity outputs ``z``; shape (n, n_outputs)."""
    w, _ = _row_weights(len(z), sample_weight, z.dtype)
    diff = z - y
    loss = 0.5 * float(np.vdot(w, (diff * diff).sum(axis=1, keepdims=True))) / z.shape[1]
    diff *= w
    return loss, diff


#: output activation name -> loss
OUTPUT_LOSSES: dict[str, OutputLoss] = {
    "softmax": softmax_log_loss,
    "logistic": logistic_log_loss,
    "identity": half_squared_loss,
}
