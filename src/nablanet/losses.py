r"""Loss functions. Each states its reduction; every ``backward`` already includes the ``1/n``.

Contract: ``forward(y_pred, y_true, sample_weight=None) -> float`` caches what
``backward() -> dL/dy_pred`` needs. ``y_pred`` and ``y_true`` are both of shape
``(n_samples, n_outputs)``; ``sample_weight``, of shape ``(n_samples,)``, turns the mean over the
batch into the weighted mean :math:`\sum_i s_i \ell_i / \sum_i s_i` (scikit-learn's and PyTorch's
convention; integer weights act like repeated samples). ``backward`` may be called again and
returns the same gradient.

================================  ===========================================================  ============
name                              value (``n`` samples, ``k`` outputs)                         from
================================  ===========================================================  ============
``mse``                           :math:`\frac{1}{nk}\sum_i\sum_j (a_{ij} - y_{ij})^2`         Keras, torch
``sum_squared_error``             :math:`\frac{1}{n}\sum_i\sum_j (a_{ij} - y_{ij})^2`          tutorials
``half_squared_error``            :math:`\frac{1}{n}\sum_i\sum_j \tfrac12(a_{ij} - y_{ij})^2`  tutorials
``binary_cross_entropy``          :math:`-\frac{1}{nk}\sum y\log a + (1-y)\log(1-a)`           a tutorial
``categorical_cross_entropy``     :math:`-\frac{1}{n}\sum_i\sum_j y_{ij}\log a_{ij}`
``half_poisson_deviance``         :math:`\frac{1}{n}\sum_i\sum_j y\log\frac{y}{a} - y + a`     scikit-learn
``sigmoid_binary_cross_entropy``  BCE of :math:`\sigma(z)` from logits ``z``, stable
``softmax_cross_entropy``         CE of :math:`\mathrm{softmax}(z)` from logits ``z``, stable
``exp_half_poisson_deviance``     Poisson deviance of :math:`e^z` from log-means ``z``         scikit-learn
================================  ===========================================================  ============

The tutorials are the five that :mod:`nablanet.tutorial` lists; each class's docstring names its
own by title.

**The link.** Every loss names, in :attr:`Loss.link`, the function it applies to the last
layer's output ``z`` before comparing with the targets (in GLM terms the *inverse* link: the
Poisson log link :math:`\log\mu = z` is ``"exp"`` here, as scikit-learn's ``out_activation_``).
:meth:`nablanet.Sequential.predict_proba` returns ``link(z)`` (:func:`apply_link`), and so do the
metrics, ONNX export, the estimators and the playground:

========  ===================================  ==============================================
link      losses                               ``predict_proba`` returns
========  ===================================  ==============================================
identity  the squared errors, ``binary_`` and  the last layer's output ``a`` (after its
          ``categorical_cross_entropy``,       Sigmoid, Softmax or Exp, if any)
          ``half_poisson_deviance``
sigmoid   ``sigmoid_binary_cross_entropy``     :math:`\sigma(z)`, probabilities in (0, 1)
softmax   ``softmax_cross_entropy``            :math:`\mathrm{softmax}(z)`, rows summing to 1
exp       ``exp_half_poisson_deviance``        :math:`e^z`, the Poisson mean
========  ===================================  ==============================================

``Loss.from_logits`` is derived: True exactly when the link is not ``"identity"``.

**One-vs-rest scores.** A multiclass model whose outputs are independent sigmoids (a Sigmoid
last layer, or the ``"sigmoid"`` link, trained on one-hot targets with a squared error or a
binary cross-entropy, as in the tutorial "Neural Networks: The Backward Pass") gives one score
in (0, 1) per class, and the scores of a row need not sum to 1. For such a model
(:meth:`nablanet.Sequential.normalizes_proba`) ``predict_proba`` returns
``apply_link(link, z, normalize=True)``: each row of scores divided by its sum. ``predict`` is
the argmax, the same before and after; the rows are not calibrated probabilities. The metrics
compare the scores before the division with the targets (the loss's own prediction), and ONNX
export appends the same division.

With ``sample_weight``, read :math:`\frac1n\sum_i` as :math:`\sum_i s_i / \sum_i s_i`. The two binary
cross-entropies take ``outputs="sum"`` to add the ``k`` outputs of a sample instead of averaging
them (scikit-learn's multilabel log-loss).

No loss takes an activation: the fused forms are separate classes, and
:class:`nablanet.Sequential` trains through them when a Sigmoid/Softmax/Exp output meets
BCE/CE/the Poisson deviance (:meth:`Loss.fused_with`); the loss the user chose keeps its
``"identity"`` link, since the layer already applied the function.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from . import _fast
from ._validation import check_choice
from .functional import sigmoid, softmax, softplus

Array = np.ndarray
#: The factor each row's loss is multiplied by: ``1/n`` (a float) or ``s_i / sum(s)`` (n, 1).
RowScale = float | Array


def row_scale(n: int, sample_weight: Array | None, dtype: Any, k: int = 1) -> RowScale:
    r"""The weight of each row in a batch mean: :math:`1/(nk)`, or :math:`s_i / (k\sum_j s_j)`.

    ``k`` is the number of outputs averaged within a row (1 when they are summed). A batch whose
    weights sum to zero gets all-zero factors: it contributes nothing.
    """
    if sample_weight is None:
        return 1.0 / (n * k)
    s = np.asarray(sample_weight, dtype=dtype).reshape(n, 1)
    total = float(s.sum()) * k
    return s / total if total > 0 else np.zeros_like(s)


def weighted_sum(a: Array, b: Array | None, r: RowScale) -> float:
    r""":math:`\sum_{ij} r_i\, a_{ij} b_{ij}` (``b`` omitted: :math:`\sum_{ij} r_i a_{ij}`).

    One pass (``np.vdot``) when ``r`` is a scalar.
    """
    if b is None:
        return r * float(a.sum()) if isinstance(r, float) else float(np.vdot(r, a.sum(axis=1)))
    if isinstance(r, float):
        return r * float(np.vdot(a, b))
    return float(np.vdot(a * r, b))


#: The links a loss can name: what it applies to the last layer's output before comparing.
LINKS = ("identity", "sigmoid", "softmax", "exp")


def apply_link(link: str, z: Array, *, normalize: bool = False) -> Array:
    r"""``link(z)`` for an output ``z`` of shape (n_samples, n_outputs): the prediction the loss
    compares with the targets.

    ``"identity"``: ``z`` itself (not a copy); ``"sigmoid"``: :math:`\sigma(z)`;
    ``"softmax"``: :math:`\mathrm{softmax}(z)` along each row; ``"exp"``: :math:`e^z`.

    With ``normalize=True`` (one-vs-rest scores, see the module docstring) each row
    :math:`p_i` of ``link(z)`` becomes :math:`p_i / \sum_j p_{ij}`, a new array whose rows sum
    to 1; a row of zeros (every sigmoid underflowed) becomes :math:`1/k` in each of its ``k``
    entries.
    """
    if link == "identity":
        p = z
    elif link == "sigmoid":
        p = sigmoid(z)
    elif link == "softmax":
        p = softmax(z, axis=1)
    elif link == "exp":
        p = np.exp(z)
    else:
        raise ValueError(f"link must be one of {list(LINKS)}, got {link!r}")
    if not normalize:
        return p
    total = p.sum(axis=1, keepdims=True)  # (n_samples, 1)
    uniform = np.full_like(p, 1.0 / p.shape[1])
    # != 0, not > 0: a NaN row (weights gone NaN) stays NaN instead of looking uniform
    return np.divide(p, total, out=uniform, where=total != 0)


class Loss:
    """Base class. Subclasses set ``name`` (and ``link`` unless it is ``"identity"``) and
    implement ``forward`` and ``backward``.

    A loss of your own that takes logits names its link, e.g. ``link = "sigmoid"``. A class
    that sets only the older ``from_logits = True`` is refused when it is defined (a
    ``TypeError``): ``from_logits`` cannot tell a sigmoid from a softmax or an exp, and guessing
    gave wrong predictions.
    """

    name: ClassVar[str] = ""
    #: The function applied to the last layer's output ``z`` before comparing with the targets,
    #: one of :data:`LINKS`; ``predict_proba`` returns ``apply_link(link, z)``.
    link: ClassVar[str] = "identity"
    #: Derived from ``link``: True exactly when ``link != "identity"`` (the loss takes logits).
    from_logits: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Check ``link`` and derive ``from_logits`` from it."""
        super().__init_subclass__(**kwargs)
        if cls.link not in LINKS:
            raise TypeError(f"{cls.__name__}.link must be one of {list(LINKS)}, got {cls.link!r}")
        takes_logits = cls.link != "identity"
        own = cls.__dict__.get("from_logits", takes_logits)
        if bool(own) != takes_logits:
            raise TypeError(
                f"{cls.__name__} sets from_logits={own!r} but its link is {cls.link!r}; "
                "from_logits is derived from link: set link to the function the loss applies "
                "to the network's output ('sigmoid', 'softmax' or 'exp' for a loss from logits, "
                "'identity' otherwise) and drop from_logits"
            )
        cls.from_logits = takes_logits

    def forward(self, y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> float:
        """Return the (weighted) mean loss over the batch; cache what ``backward`` needs."""
        raise NotImplementedError

    def backward(self) -> Array:
        """Return ``dL/dy_pred`` of shape (n_samples, n_outputs), the ``1/n`` included."""
        raise NotImplementedError

    def fused_with(self, activation: str) -> Loss | None:
        """The stable loss from logits that equals ``activation`` followed by this loss, if any.

        ``activation`` is a layer class name, e.g. ``"Softmax"``.
        """
        return None

    def __call__(self, y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> float:
        return self.forward(y_pred, y_true, sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles keep the settings, not the caches of the last batch."""
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def check_link(loss: Loss) -> str:
    """``loss.link``, after checking that the instance did not change ``link`` or
    ``from_logits`` into something inconsistent (class attributes are checked when the class is
    defined). Raises ``TypeError`` naming both values."""
    link = loss.link
    if link not in LINKS:
        raise TypeError(f"{type(loss).__name__}.link must be one of {list(LINKS)}, got {link!r}")
    if bool(loss.from_logits) != (link != "identity"):
        raise TypeError(
            f"{type(loss).__name__} has from_logits={loss.from_logits!r} but link={link!r}; "
            "from_logits is derived from link: set link ('sigmoid', 'softmax' or 'exp' for a "
            "loss from logits, 'identity' otherwise) instead"
        )
    return link


class _Squared(Loss):
    """Squared error family: ``scale * sum_j (a_j - y_j)^2`` per row, averaged over outputs or not,
    then (weighted) mean over the rows."""

    scale: ClassVar[float] = 1.0
    mean_over_outputs: ClassVar[bool] = False

    def forward(self, y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> float:
        k = y_true.shape[1] if self.mean_over_outputs else 1
        self._r = row_scale(len(y_true), sample_weight, y_pred.dtype, k)
        self._diff = y_pred - y_true  # a - y
        return self.scale * weighted_sum(self._diff, self._diff, self._r)

    def backward(self) -> Array:
        r""":math:`dL/da = 2\,\text{scale}\,(a - y) / n` (``1/(nk)`` when averaged over outputs)."""
        return self._diff * (2.0 * self.scale * self._r)


class MeanSquaredError(_Squared):
    r"""Mean over samples and outputs of :math:`(a - y)^2` (Keras/PyTorch ``mse``).

    Backward: :math:`\frac{2}{nk}(a - y)`.
    """

    name = "mse"
    mean_over_outputs = True


class SumSquaredError(_Squared):
    r"""Per sample the sum over outputs of :math:`(a - y)^2`, averaged over the batch.

    The :math:`L = \sum_i (y_i - \hat y_i)^2` of the tutorial "Application of differentiations in
    neural networks" and the ``np.sum(np.square(y - a))`` of "Neural Networks: The Backward Pass",
    for one sample; mean over the batch. Backward: :math:`\frac{2}{n}(a - y)`.
    """

    name = "sum_squared_error"


class HalfSquaredError(_Squared):
    r"""Per sample :math:`\frac12\sum_j (a_j - y_j)^2`, averaged over the batch.

    The "divide by 2 so the 2 cancels" convention of the tutorials "Introduction to Deep Learning -
    Part 3" and "A simple neural network with backpropagation using Python" (and scikit-learn's
    squared-error gradient). Backward: :math:`\frac{1}{n}(a - y)`.
    """

    name = "half_squared_error"
    scale = 0.5


def _clip(a: Array) -> Array:
    eps = np.finfo(a.dtype).eps
    return np.clip(a, eps, 1 - eps)


class _PerOutput(Loss):
    """A binary cross-entropy: its ``k`` outputs per sample are averaged or summed."""

    def __init__(self, outputs: str = "mean") -> None:
        self.outputs = check_choice("outputs", outputs, ("mean", "sum"))

    def _row_scale(self, y: Array, sample_weight: Array | None, dtype: Any) -> RowScale:
        k = y.shape[1] if self.outputs == "mean" else 1
        return row_scale(len(y), sample_weight, dtype, k)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if self.outputs != "mean":
            config["outputs"] = self.outputs
        return config


class BinaryCrossEntropy(_PerOutput):
    r"""Binary cross-entropy on probabilities ``a`` in (0, 1), mean over samples and outputs.

    .. math:: L = -\frac{1}{nk}\sum y \log a + (1 - y)\log(1 - a)

    ``a`` is clipped to :math:`[\epsilon, 1-\epsilon]` (machine epsilon of its dtype).
    Backward: :math:`\frac{1}{nk}\,\frac{a - y}{a(1 - a)}`. With ``outputs="sum"`` the ``1/k``
    goes.
    """

    name = "binary_cross_entropy"

    def forward(self, y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> float:
        a = _clip(y_pred)
        self._a, self._y = a, y_true
        self._r = self._row_scale(y_true, sample_weight, a.dtype)
        log_likelihood = y_true * np.log(a) + (1 - y_true) * np.log1p(-a)
        return -weighted_sum(log_likelihood, None, self._r)

    def backward(self) -> Array:
        a, y = self._a, self._y
        return (a - y) / (a * (1 - a)) * self._r

    def fused_with(self, activation: str) -> Loss | None:
        return SigmoidBinaryCrossEntropy(self.outputs) if activation == "Sigmoid" else None


class CategoricalCrossEntropy(Loss):
    r"""Categorical cross-entropy on probabilities (rows summing to 1), mean over samples.

    .. math:: L = -\frac{1}{n}\sum_i\sum_j y_{ij}\log a_{ij}

    Backward: :math:`-\frac{1}{n}\,y / a` (with ``a`` clipped).
    """

    name = "categorical_cross_entropy"

    def forward(self, y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> float:
        self._a, self._y = _clip(y_pred), y_true
        self._r = row_scale(len(y_true), sample_weight, y_pred.dtype)
        return -weighted_sum(y_true, np.log(self._a), self._r)

    def backward(self) -> Array:
        return -self._y / self._a * self._r

    def fused_with(self, activation: str) -> Loss | None:
        return SoftmaxCrossEntropy() if activation == "Softmax" else None


class SigmoidBinaryCrossEntropy(_PerOutput):
    r"""Sigmoid followed by binary cross-entropy, from logits ``z``; mean over samples and outputs.

    .. math:: L = \frac{1}{nk}\sum \mathrm{softplus}(z) - y z,\qquad
              \frac{\partial L}{\partial z} = \frac{\sigma(z) - y}{nk}

    Finite for any finite ``z``, where ``log(sigmoid(z))`` would underflow. With
    ``outputs="sum"`` the ``1/k`` goes.
    """

    name = "sigmoid_binary_cross_entropy"
    link = "sigmoid"

    def forward(self, y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> float:
        self._z, self._y = y_pred, y_true
        self._r = self._row_scale(y_true, sample_weight, y_pred.dtype)
        per_element = softplus(y_pred) - y_true * y_pred
        return weighted_sum(per_element, None, self._r)

    def backward(self) -> Array:
        p = sigmoid(self._z)  # a fresh array
        return np.multiply(p - self._y, self._r, out=p)  # (sigma(z) - y) / n


class SoftmaxCrossEntropy(Loss):
    r"""Softmax followed by categorical cross-entropy, from logits ``z``; mean over samples.

    .. math:: L = -\frac{1}{n}\sum_i\sum_j y_{ij}\,\big(z_{ij} - \log\textstyle\sum_m e^{z_{im}}\big),
              \qquad \frac{\partial L}{\partial z} = \frac{p - y}{n},\ p = \mathrm{softmax}(z)
    """

    name = "softmax_cross_entropy"
    link = "softmax"

    def forward(self, y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> float:
        if _fast.enabled() and sample_weight is None and y_true.dtype == y_pred.dtype:
            loss, self._p = _fast.loss.softmax_cross_entropy(y_pred, y_true)  # one pass
            self._y = y_true
            self._r: RowScale = 1.0 / len(y_true)
            return loss
        shifted = y_pred - y_pred.max(axis=1, keepdims=True)  # z - max z per row: exp <= 1
        p = np.exp(shifted)
        total = p.sum(axis=1, keepdims=True)  # (n, 1)
        p /= total
        self._p, self._y = p, y_true  # softmax(z), kept for backward
        self._r = row_scale(len(y_true), sample_weight, y_pred.dtype)
        log_p = np.subtract(shifted, np.log(total), out=shifted)  # log-sum-exp form of log p
        return -weighted_sum(y_true, log_p, self._r)

    def backward(self) -> Array:
        if _fast.enabled() and isinstance(self._r, float) and self._y.dtype == self._p.dtype:
            return _fast.loss.gradient(self._p, self._y, self._r)  # (p - y) / n, one pass
        grad = self._p - self._y  # p - y: a new array; the cached p stays as it is
        grad *= self._r  # / n
        return grad


class HalfPoissonDeviance(Loss):
    r"""Half the Poisson deviance of positive means ``mu``, summed over outputs, mean over samples.

    .. math:: L = \frac{1}{n}\sum_i\sum_j y_{ij}\log\frac{y_{ij}}{\mu_{ij}} - y_{ij} + \mu_{ij}

    (scikit-learn's ``MLPRegressor(loss="poisson")``; :math:`0 \log 0 = 0`, zero for a perfect
    fit). Backward: :math:`\frac{1}{n}(1 - y/\mu)`. After an ``Exp`` output the fused
    :class:`ExpHalfPoissonDeviance` is used.
    """

    name = "half_poisson_deviance"

    def forward(self, y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> float:
        self._mu, self._y = y_pred, y_true
        self._r = row_scale(len(y_true), sample_weight, y_pred.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            ylogy = np.where(y_true > 0, y_true * np.log(y_true / y_pred), 0.0)
        return weighted_sum(ylogy - y_true + y_pred, None, self._r)

    def backward(self) -> Array:
        return (1 - self._y / self._mu) * self._r

    def fused_with(self, activation: str) -> Loss | None:
        return ExpHalfPoissonDeviance() if activation == "Exp" else None


class ExpHalfPoissonDeviance(Loss):
    r""":class:`HalfPoissonDeviance` of :math:`\mu = e^z`, from log-means ``z``:

    .. math:: L = \frac{1}{n}\sum_i\sum_j e^{z_{ij}} - y_{ij} z_{ij} + y_{ij}\log y_{ij} - y_{ij},
              \qquad \frac{\partial L}{\partial z} = \frac{e^z - y}{n}
    """

    name = "exp_half_poisson_deviance"
    link = "exp"

    def forward(self, y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> float:
        self._mu, self._y = np.exp(y_pred), y_true
        self._r = row_scale(len(y_true), sample_weight, y_pred.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            ylogy = np.where(y_true > 0, y_true * np.log(y_true), 0.0)
        return weighted_sum(self._mu - y_true * y_pred + ylogy - y_true, None, self._r)

    def backward(self) -> Array:
        return (self._mu - self._y) * self._r  # (e^z - y) / n


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
        HalfPoissonDeviance,
        ExpHalfPoissonDeviance,
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


def get_loss(name: str | dict[str, Any] | Loss) -> Loss:
    """Return a loss for ``name`` (canonical name or alias, or a ``get_config()`` dict such as
    ``{"name": "binary_cross_entropy", "outputs": "sum"}``); instances pass through."""
    if isinstance(name, Loss):
        return name
    kwargs: dict[str, Any] = {}
    if isinstance(name, dict):
        kwargs = dict(name)
        name = kwargs.pop("name", None)
    key = ALIASES.get(name, name) if isinstance(name, str) else name
    cls = LOSSES[check_choice("loss", key, list(LOSSES) + list(ALIASES))]
    try:
        return cls(**kwargs)
    except TypeError:
        raise ValueError(f"loss {key!r} takes no settings {sorted(kwargs)}") from None
