r"""The seeds' conventions as named options, built on nablanet's own layers and losses.

nablanet's defaults are the textbook ones: a loss is the *mean* over the batch, ``dL/db`` is the
*sum* of delta over the rows (the exact gradient of that mean), and ``sigma'(z) = a (1 - a)``.
The seed tutorials depart from them in ways that change what their code prints; each departure
is one option here, so a tutorial can be rebuilt exactly and each change switched off alone.

===========================  ===========================================  =====================
option                       the seed's form                              where
===========================  ===========================================  =====================
``reduction="sum"``          the loss (and its gradient) summed over the  seeds 000, 001
                             samples, no ``1/n``
``bias_grad="mean"``         ``db = mean(delta, axis=0)`` while           seed 000's
                             ``dW = a.T @ delta`` is a sum                ``backward``
``derivative_scale=2``       ``dsigmoid(z) = 2 * s * (1 - s)``            seed 000's
                                                                          ``dsigmoid``
``summation="bias_first"``   ``z = b + x_1 W_1 + x_2 W_2 + ...`` added    seed 001's
                             neuron by neuron, in that order (the same    ``compute_z``
                             number as ``x @ W + b`` up to the last bit;
                             digit-for-digit replays need the order)
``clip=500``                 ``1 / (1 + exp(-clip(z, -500, 500)))``       seed 000's ``sigmoid``
``exp="math"``               ``1 / (1 + math.exp(-z))``, one element at   seed 001's
                             a time: the C library's ``exp``, not         ``activation_sigmoid``
                             NumPy's (whose SIMD kernel depends on the
                             CPU)
``use_bias=False``           no bias: ``z = x @ W``                       seeds 003, 004
===========================  ===========================================  =====================

Each class below is a subclass of the nablanet class it changes, registered by name (layers in
``Layer.registry``, losses in ``nablanet.losses.LOSSES``) with its options in ``get_config``, so
that a model using it saves, loads and clones like any other (``import nablanet`` registers
them).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from .._validation import check_choice, check_positive_float
from ..layers import Dense, Sigmoid
from ..layers.base import Array, register
from ..losses import LOSSES, HalfSquaredError, Loss, row_scale, weighted_sum
from ..onnx_export import Graph, register_layer_exporter


@register
class SeedDense(Dense):
    r"""A :class:`~nablanet.Dense` layer with the seeds' bias gradient and summation order.

    Parameters
    ----------
    units : int
    bias_grad : {"sum", "mean"}
        ``"sum"`` (nablanet, the exact gradient): :math:`dL/db = \sum_{rows}\delta`.
        ``"mean"`` (seed 000): :math:`dL/db = \frac1n\sum_{rows}\delta`, while ``dW`` stays the
        sum :math:`a^\top\delta`, so the bias learns ``n`` times slower than the weights.
    summation : {"matmul", "bias_first"}
        ``"matmul"``: ``z = x @ W + b``. ``"bias_first"`` (seed 001's ``compute_z``):
        ``z = ((b + x[:, 0] W[0]) + x[:, 1] W[1]) + ...``, the same sum in the seed's order.
    use_bias : bool
        False (seeds 003, 004): ``b`` is fixed at zero (its gradient is always zero).
    **kwargs
        As for :class:`~nablanet.Dense` (``weights=``, ``bias=``, initializers).
    """

    def __init__(
        self,
        units: int,
        *,
        bias_grad: str = "sum",
        summation: str = "matmul",
        use_bias: bool = True,
        **kwargs: Any,
    ) -> None:
        if not isinstance(use_bias, bool | np.bool_):
            raise TypeError(f"use_bias must be True or False, got {use_bias!r}")
        if not use_bias and kwargs.get("bias") is not None:
            raise ValueError("use_bias=False fixes the bias at zero: do not pass bias=")
        if not use_bias and kwargs.get("bias_initializer", "zeros") != "zeros":
            raise ValueError(
                f"use_bias=False fixes the bias at zero, got bias_initializer="
                f"{kwargs['bias_initializer']!r}"
            )
        super().__init__(units, **kwargs)
        self.bias_grad = check_choice("bias_grad", bias_grad, ("sum", "mean"))
        self.summation = check_choice("summation", summation, ("matmul", "bias_first"))
        self.use_bias = bool(use_bias)

    def forward(self, x: Array, training: bool = False) -> Array:
        """``z`` of shape (n_samples, n_out), summed in the order ``summation`` names."""
        if self.summation == "matmul":
            return super().forward(x, training)
        self._x = x
        W, b = self.params["W"], self.params["b"]
        z = b + x[:, 0:1] * W[0]  # (n, 1) * (n_out,) -> (n, n_out): bias, then input 1
        for j in range(1, W.shape[0]):
            z = z + x[:, j : j + 1] * W[j]  # then input j + 1, one at a time
        return z

    def backward(self, dy: Array, *args: Any, **kwargs: Any) -> Array:  # type: ignore[override]
        r"""As :meth:`Dense.backward`; with ``bias_grad="mean"``, ``db`` is divided by ``n``."""
        dx = super().backward(dy, *args, **kwargs)  # dy = delta, (n, n_out)
        if not self.use_bias:
            self.grads["b"][...] = 0.0  # no bias: b stays 0 under any optimizer
        elif self.bias_grad == "mean":
            self.grads["b"] /= len(dy)  # seed 000: np.mean(dz, axis=0)
        return dx

    def get_config(self) -> dict[str, Any]:
        extra = {
            "bias_grad": self.bias_grad,
            "summation": self.summation,
            "use_bias": self.use_bias,
        }
        return super().get_config() | extra


@register
class SeedSigmoid(Sigmoid):
    r"""Sigmoid in the seeds' plain form :math:`1 / (1 + e^{-z})`, with their derivative.

    Parameters
    ----------
    derivative_scale : float
        1 (the true :math:`\sigma' = a(1-a)`), or 2 (seed 000's ``dsigmoid``, which returns
        ``2 * s * (1 - s)``: every delta through the output is doubled).
    clip : float or None
        Seed 000 clips ``z`` to ``[-clip, clip]`` (500) before ``exp``; seed 001 does not.
    exp : {"numpy", "math"}
        ``"numpy"`` (seed 000): ``np.exp`` over the array. NumPy runs a SIMD kernel chosen for
        the CPU, and its AVX-512 ``exp`` differs from the AVX2 one (the C library's) in the
        last bit on a few percent of inputs. ``"math"`` (seed 001's ``math.exp(-z)``):
        Python's ``math.exp`` on every element, i.e. the C library's ``exp`` on every CPU;
        glibc's and musl's are within 0.511 ulp of the exact value, so an input whose exact
        ``exp`` lies nearer than 0.489 ulp to a double gives that double on every x86-64 CPU
        (tests/test_cpu_paths.py checks every input of seed 001's replay).
    """

    def __init__(
        self, derivative_scale: float = 1.0, clip: float | None = None, exp: str = "numpy"
    ) -> None:
        super().__init__()
        self.derivative_scale = check_positive_float("derivative_scale", derivative_scale)
        self.clip = None if clip is None else check_positive_float("clip", clip)
        self.exp = check_choice("exp", exp, ("numpy", "math"))

    def forward(self, x: Array, training: bool = False) -> Array:
        z = x if self.clip is None else x.clip(-self.clip, self.clip)
        e = np.exp(-z) if self.exp == "numpy" else libm_exp(-z)
        self._a = 1 / (1 + e)  # the seeds' form, digit for digit
        return self._a

    def backward(self, dy: Array) -> Array:
        r""":math:`\delta = dL/da \odot c\,a(1-a)` with ``c = derivative_scale``."""
        a = self._cached()
        if self.derivative_scale == 1.0:
            return dy * (a * (1 - a))  # seed 001: da_dz = a * (1 - a), times dL/da
        return dy * (self.derivative_scale * a * (1 - a))  # seed 000: 2 * s * (1 - s)

    def get_config(self) -> dict[str, Any]:
        return {"derivative_scale": self.derivative_scale, "clip": self.clip, "exp": self.exp}


@register_layer_exporter(SeedSigmoid)
def _seed_sigmoid_to_onnx(graph: Graph, layer: SeedSigmoid, x: str) -> str:
    """The ONNX nodes of the forward pass: ``Sigmoid(Clip(z, -clip, clip))`` (no Clip without
    ``clip``); the derivative scale and the ``exp`` choice only change backward and last bits."""
    if layer.clip is not None:
        c = min(layer.clip, float(np.finfo(np.float32).max))
        low, high = (graph.const("clip", np.array(v, np.float32)) for v in (-c, c))
        x = graph.node("Clip", [x, low, high])
    return graph.node("Sigmoid", [x])


def libm_exp(x: Array) -> Array:
    """``math.exp`` of every element of ``x`` (any shape, same shape and dtype back): the C
    library's ``exp`` one number at a time, as seed 001's ``activation_sigmoid`` computes it.
    Where ``math.exp`` overflows (``x > 709.78``) the result is ``inf``, as ``np.exp`` gives."""
    flat = [_exp_or_inf(v) for v in x.ravel().tolist()]
    return np.array(flat, dtype=x.dtype).reshape(x.shape)


def _exp_or_inf(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:  # math.exp raises where np.exp returns inf
        return math.inf


def register_loss(cls: type[Loss]) -> type[Loss]:
    """Class decorator: make the loss ``cls`` loadable by its ``name`` (``get_loss``, configs)."""
    if cls.name in LOSSES and LOSSES[cls.name] is not cls:
        raise ValueError(f"a loss named {cls.name!r} is already registered: {LOSSES[cls.name]}")
    LOSSES[cls.name] = cls
    return cls


def _no_weights(loss: Loss, sample_weight: Array | None) -> None:
    """The seeds never weight samples; refuse weights rather than drop them silently."""
    if sample_weight is not None:
        raise ValueError(
            f"{type(loss).__name__} (a seed's own loss) does not take sample weights, got "
            f"sample_weight of shape {np.shape(sample_weight)}"
        )


@register_loss
class SeedCrossEntropy(Loss):
    r"""Seed 000's binary cross-entropy: summed over the samples, with its own derivative.

    .. math::
        L = -\sum_i y_i\log a_i + (1 - y_i)\log(1 - a_i), \qquad
        \frac{\partial L}{\partial a_i} = -\frac{y_i}{a_i} + \frac{1 - y_i}{1 - a_i}

    ``a`` is clipped below at machine epsilon in both logs and both divisions, as the seed's
    ``yhat.clip(epsilon)``. With ``reduction="mean"`` both are divided by ``n`` (nablanet's
    :class:`~nablanet.losses.BinaryCrossEntropy` up to the clipping).
    """

    name: ClassVar[str] = "seed000_cross_entropy"

    def __init__(self, reduction: str = "sum") -> None:
        self.reduction = check_choice("reduction", reduction, ("sum", "mean"))

    def forward(self, y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> float:
        _no_weights(self, sample_weight)
        eps = np.finfo(y_pred.dtype).eps
        self._a, self._y = y_pred, y_true
        # the seed's y.T @ log(a) (one output: 1 x 1); with k outputs, output j's own sum is
        # the diagonal entry (j, j), the other entries pair one output's y with another's a
        total = -np.diagonal(
            y_true.T @ np.log(y_pred.clip(eps)) + (1 - y_true.T) @ np.log((1 - y_pred).clip(eps))
        )
        scale = 1.0 if self.reduction == "sum" else 1.0 / len(y_true)
        return float(total.sum()) * scale

    def backward(self) -> Array:
        a, y = self._a, self._y
        eps = np.finfo(a.dtype).eps
        grad = -np.divide(y, a.clip(eps)) + np.divide(1 - y, (1 - a).clip(eps))
        return grad if self.reduction == "sum" else grad / len(y)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}


@register_loss
class SummedHalfSquaredError(HalfSquaredError):
    r"""Seed 001's loss: :math:`L = \sum_i \tfrac12\sum_j (a_{ij} - y_{ij})^2`, summed over the
    samples (its ``compute_mse_loss(actual, 2.0)``, accumulated). Backward: ``a - y`` per row."""

    name: ClassVar[str] = "summed_half_squared_error"

    def forward(self, y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> float:
        _no_weights(self, sample_weight)
        self._r = row_scale(1, None, y_pred.dtype)  # 1.0: no division by n
        self._diff = y_pred - y_true
        return self.scale * weighted_sum(self._diff, self._diff, self._r)
