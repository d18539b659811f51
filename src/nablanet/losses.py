r"""Loss functions. Each states its reduction; every ``backward`` already includes the ``1/n``.

Contract: ``forward(y_pred, y_true) -> float`` caches what ``backward() -> dL/dy_pred`` needs.
``y_pred`` and ``y_true`` are both of shape ``(n_samples, n_outputs)``.

=====================================  ======================================================  ==========
name                                   value (``n`` samples, ``k`` outputs)                     from
=====================================  ======================================================  ==========
``mse``                                :math:`\frac{1}{nk}\sum_i\sum_j (a_{ij} - y_{ij})^2`      Keras, torch
``sum_squared_error``                  :math:`\frac{1}{n}\sum_i\sum_j (a_{ij} - y_{ij})^2`       seeds 000, 002
``half_squared_error``                 :math:`\frac{1}{n}\sum_i\sum_j \tfrac12(a_{ij} - y_{ij})^2` seeds 001, 003
``binary_cross_entropy``               :math:`-\frac{1}{nk}\sum y\log a + (1-y)\log(1-a)`        seed 000
``categorical_cross_entropy``          :math:`-\frac{1}{n}\sum_i\sum_j y_{ij}\log a_{ij}`
``sigmoid_binary_cross_entropy``       BCE of :math:`\sigma(z)` from logits ``z``, stable
``softmax_cross_entropy``              CE of :math:`\mathrm{softmax}(z)` from logits ``z``, stable
=====================================  ======================================================  ==========

No loss takes an activation: the fused forms are separate classes, and
:class:`nablanet.Sequential` uses them when a Sigmoid/Softmax output meets BCE/CE.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ._validation import check_choice
from .functional import sigmoid, softplus

Array = np.ndarray


class Loss:
    """Base class. Subclasses set ``name`` and implement ``forward`` and ``backward``."""

    name: ClassVar[str] = ""
    #: True for losses that take logits (the fused forms).
    from_logits: ClassVar[bool] = False

    def forward(self, y_pred: Array, y_true: Array) -> float:
        """Return the mean loss over the batch; cache what ``backward`` needs."""
        raise NotImplementedError

    def backward(self) -> Array:
        """Return ``dL/dy_pred`` of shape (n_samples, n_outputs), the ``1/n`` included."""
        raise NotImplementedError

    def __call__(self, y_pred: Array, y_true: Array) -> float:
        return self.forward(y_pred, y_true)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _Squared(Loss):
    """Squared error family: ``scale * sum((a - y)^2) / denominator``."""

    scale: ClassVar[float] = 1.0

    def _denominator(self, y: Array) -> int:
        raise NotImplementedError

    def forward(self, y_pred: Array, y_true: Array) -> float:
        self._diff = y_pred - y_true
        self._den = self._denominator(y_true)
        return self.scale * float(np.vdot(self._diff, self._diff)) / self._den

    def backward(self) -> Array:
        r""":math:`dL/da = 2\,\text{scale}\,(a - y) / \text{denominator}`."""
        return self._diff * self._diff.dtype.type(2.0 * self.scale / self._den)


class MeanSquaredError(_Squared):
    r"""Mean over samples and outputs of :math:`(a - y)^2` (Keras/PyTorch ``mse``).

    Backward: :math:`\frac{2}{nk}(a - y)`.
    """

    name = "mse"

    def _denominator(self, y: Array) -> int:
        return y.size


class SumSquaredError(_Squared):
    r"""Per sample the sum over outputs of :math:`(a - y)^2`, averaged over the batch.

    Seed 000's :math:`L = \sum_i (y_i - \hat y_i)^2` and seed 002's ``np.sum(np.square(y - a))``
    for one sample; mean over the batch. Backward: :math:`\frac{2}{n}(a - y)`.
    """

    name = "sum_squared_error"

    def _denominator(self, y: Array) -> int:
        return y.shape[0]


class HalfSquaredError(_Squared):
    r"""Per sample :math:`\frac12\sum_j (a_j - y_j)^2`, averaged over the batch.

    The "divide by 2 so the 2 cancels" convention of seeds 001 and 003.
    Backward: :math:`\frac{1}{n}(a - y)`.
    """

    name = "half_squared_error"
    scale = 0.5

    def _denominator(self, y: Array) -> int:
        return y.shape[0]


def _clip(a: Array) -> Array:
    eps = np.finfo(a.dtype).eps
    return np.clip(a, eps, 1 - eps)


class BinaryCrossEntropy(Loss):
    r"""Binary cross-entropy on probabilities ``a`` in (0, 1), mean over samples and outputs.

    .. math:: L = -\frac{1}{nk}\sum y \log a + (1 - y)\log(1 - a)

    ``a`` is clipped to :math:`[\epsilon, 1-\epsilon]` (machine epsilon of its dtype).
    Backward: :math:`\frac{1}{nk}\,\frac{a - y}{a(1 - a)}`.
    """

    name = "binary_cross_entropy"

    def forward(self, y_pred: Array, y_true: Array) -> float:
        a = _clip(y_pred)
        self._a, self._y = a, y_true
        return float(-np.mean(y_true * np.log(a) + (1 - y_true) * np.log1p(-a)))

    def backward(self) -> Array:
        a, y = self._a, self._y
        return (a - y) / (a * (1 - a)) / y.size


class CategoricalCrossEntropy(Loss):
    r"""Categorical cross-entropy on probabilities (rows summing to 1), mean over samples.

    .. math:: L = -\frac{1}{n}\sum_i\sum_j y_{ij}\log a_{ij}

    Backward: :math:`-\frac{1}{n}\,y / a` (with ``a`` clipped).
    """

    name = "categorical_cross_entropy"

    def forward(self, y_pred: Array, y_true: Array) -> float:
        self._a, self._y = _clip(y_pred), y_true
        return float(-np.sum(y_true * np.log(self._a)) / y_true.shape[0])

    def backward(self) -> Array:
        return -self._y / self._a / self._y.shape[0]


class SigmoidBinaryCrossEntropy(Loss):
    r"""Sigmoid followed by binary cross-entropy, from logits ``z``; mean over samples and outputs.

    .. math:: L = \frac{1}{nk}\sum \mathrm{softplus}(z) - y z,\qquad
              \frac{\partial L}{\partial z} = \frac{\sigma(z) - y}{nk}

    Finite for any finite ``z``, where ``log(sigmoid(z))`` would underflow.
    """

    name = "sigmoid_binary_cross_entropy"
    from_logits = True

    def forward(self, y_pred: Array, y_true: Array) -> float:
        self._z, self._y = y_pred, y_true
        return float(np.mean(softplus(y_pred) - y_true * y_pred))

    def backward(self) -> Array:
        grad = sigmoid(self._z)
        grad -= self._y
        grad *= grad.dtype.type(1.0 / self._y.size)
        return grad


class SoftmaxCrossEntropy(Loss):
    r"""Softmax followed by categorical cross-entropy, from logits ``z``; mean over samples.

    .. math:: L = -\frac{1}{n}\sum_i\sum_j y_{ij}\,\big(z_{ij} - \log\textstyle\sum_m e^{z_{im}}\big),
              \qquad \frac{\partial L}{\partial z} = \frac{p - y}{n},\ p = \mathrm{softmax}(z)
    """

    name = "softmax_cross_entropy"
    from_logits = True

    def forward(self, y_pred: Array, y_true: Array) -> float:
        # ufunc.reduce directly: the .max()/.sum() methods add a Python wrapper per call
        shifted = y_pred - np.maximum.reduce(y_pred, axis=1, keepdims=True)  # z - max z per row
        p = np.exp(shifted)
        total = np.add.reduce(p, axis=1, keepdims=True)  # (n, 1)
        p /= total
        self._p, self._y = p, y_true  # softmax(z), kept for backward
        log_p = np.subtract(shifted, np.log(total), out=shifted)  # log-sum-exp form of log p
        return -float(np.vdot(y_true, log_p)) / y_true.shape[0]

    def backward(self) -> Array:
        grad = self._p  # owned by this loss: turned into (p - y) / n in place
        grad -= self._y
        grad *= grad.dtype.type(1.0 / self._y.shape[0])
        return grad


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls
    for cls in (
        MeanSquaredError,
        SumSquaredError,
        HalfSquaredError,
        BinaryCrossEntropy,
        CategoricalCrossEntropy,
        SigmoidBinaryCrossEntropy,
        SoftmaxCrossEntropy,
    )
}
ALIASES = {
    "mean_squared_error": "mse",
    "sse": "sum_squared_error",
    "bce": "binary_cross_entropy",
    "binary_crossentropy": "binary_cross_entropy",
    "cross_entropy": "categorical_cross_entropy",
    "categorical_crossentropy": "categorical_cross_entropy",
    "ce": "categorical_cross_entropy",
    "bce_with_logits": "sigmoid_binary_cross_entropy",
}

#: (output activation class name, loss name) -> the fused loss used in training.
FUSED = {
    ("Sigmoid", "binary_cross_entropy"): "sigmoid_binary_cross_entropy",
    ("Softmax", "categorical_cross_entropy"): "softmax_cross_entropy",
}


def get_loss(name: str | Loss) -> Loss:
    """Return a loss instance for ``name`` (canonical name or alias); instances pass through."""
    if isinstance(name, Loss):
        return name
    key = ALIASES.get(name, name) if isinstance(name, str) else name
    return LOSSES[check_choice("loss", key, list(LOSSES) + list(ALIASES))]()
