r"""Activation layers: :math:`a = f(z)` element-wise (Softmax: row-wise).

Each ``backward`` turns :math:`dL/da` into :math:`\delta = dL/dz` by the chain rule; with the
derivative sitting next to the function it differentiates.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._validation import check_choice, check_positive_float
from ..functional import sigmoid, softmax
from .base import Array, Layer, register


class Activation(Layer):
    """An element-wise activation; caches its output ``a`` (and input when needed)."""

    _transient: ClassVar[tuple[str, ...]] = ("_a",)

    def __init__(self) -> None:
        super().__init__()
        self._a: Array | None = None  # the output of the last forward pass

    def set_output(self, a: Array) -> None:
        """Cache ``a``, computed elsewhere, as this layer's output of the last forward pass.

        The compiled path (:func:`nablanet._fast.network.forward`) computes a Dense layer and
        the activation after it in one pass, then hands the activation its output here, so that
        :meth:`backward` runs as it would after :meth:`forward`.

        Parameters
        ----------
        a : ndarray of shape (n_samples, n_units)
            :math:`a = f(z)`, kept (not copied).
        """
        self._a = a

    def _cached(self) -> Array:
        if self._a is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._a


@register
class Identity(Activation):
    r""":math:`a = z`, :math:`\delta = dL/da` (linear output for regression)."""

    def forward(self, x: Array, training: bool = False) -> Array:
        self._a = x
        return x

    def backward(self, dy: Array) -> Array:
        r""":math:`\delta = dL/da`. Shapes: (n_samples, n_units) in and out."""
        return dy


@register
class Sigmoid(Activation):
    r""":math:`a = \sigma(z) = 1 / (1 + e^{-z})`, overflow-safe for any finite ``z``."""

    def forward(self, x: Array, training: bool = False) -> Array:
        self._a = sigmoid(x)
        return self._a

    def backward(self, dy: Array) -> Array:
        r""":math:`\delta = dL/da \odot a (1 - a)`, as equation (3) of
        "Introduction to Deep Learning - Part 3": :math:`\sigma' = \sigma(1-\sigma)`.

        Shapes: ``dy`` and the result are (n_samples, n_units).
        """
        a = self._cached()
        return dy * a * (1 - a)  # dz = da * f'(z), f'(z) = a (1 - a): (n, n_units)


@register
class Tanh(Activation):
    r""":math:`a = \tanh z`."""

    def forward(self, x: Array, training: bool = False) -> Array:
        self._a = np.tanh(x)
        return self._a

    def backward(self, dy: Array) -> Array:
        r""":math:`\delta = dL/da \odot (1 - a^2)`. Shapes: (n_samples, n_units)."""
        a = self._cached()
        return dy * (1 - a * a)  # dz = da * f'(z), f'(z) = 1 - a^2: (n, n_units)


@register
class ReLU(Activation):
    r""":math:`a = \max(0, z)`."""

    def forward(self, x: Array, training: bool = False) -> Array:
        self._a = np.maximum(x, 0)  # a = max(0, z)
        return self._a

    def backward(self, dy: Array) -> Array:
        r""":math:`\delta = dL/da \odot [z > 0]` (the derivative at 0 is taken as 0).

        Shapes: (n_samples, n_units).
        """
        a = self._cached()
        return dy * (a > 0)  # dz = da * f'(z), f'(z) = [z > 0] = [a > 0]: (n, n_units)


@register
class LeakyReLU(Activation):
    r""":math:`a = z` for :math:`z > 0`, else :math:`\alpha z`.

    Parameters
    ----------
    alpha : float
        Slope for negative inputs, >= 0 (0.01 by default).
    """

    _transient = ("_a", "_slope")

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = check_positive_float("alpha", alpha, allow_zero=True)
        self._slope: Array | None = None

    def forward(self, x: Array, training: bool = False) -> Array:
        r""":math:`a = s \odot z`, with the slope :math:`s = 1` where :math:`z > 0`, else :math:`\alpha`."""
        f = x.dtype.type
        self._slope = np.where(x > 0, f(1), f(self.alpha))  # da/dz, kept for backward
        self._a = x * self._slope
        return self._a

    def backward(self, dy: Array) -> Array:
        r""":math:`\delta = dL/da \odot s`, :math:`s = 1` if :math:`z > 0` else :math:`\alpha`.

        Shapes: (n_samples, n_units).
        """
        if self._slope is None:
            raise RuntimeError("LeakyReLU.backward called before forward")
        return dy * self._slope  # dz = da * f'(z), f'(z) = s: (n, n_units)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


@register
class Softmax(Activation):
    r"""Row-wise :math:`a_k = e^{z_k} / \sum_j e^{z_j}` (row maximum subtracted first).

    Followed by categorical cross-entropy, :class:`nablanet.Sequential` trains through the fused
    :class:`nablanet.losses.SoftmaxCrossEntropy` instead, whose gradient is simply
    :math:`(a - y)/n`; this layer's own ``backward`` is the general Jacobian-vector product.
    """

    def forward(self, x: Array, training: bool = False) -> Array:
        self._a = softmax(x)
        return self._a

    def backward(self, dy: Array) -> Array:
        r"""The softmax Jacobian applied to ``dy``, row by row:

        .. math:: \delta_k = a_k \Big(\frac{\partial L}{\partial a_k} - \sum_j \frac{\partial L}{\partial a_j} a_j\Big)

        Shapes: (n_samples, n_classes).
        """
        a = self._cached()
        return a * (dy - np.sum(dy * a, axis=1, keepdims=True))


@register
class Exp(Activation):
    r""":math:`a = e^z`, a positive output: the mean of a Poisson target (log link).

    Followed by :class:`nablanet.losses.HalfPoissonDeviance`, :class:`nablanet.Sequential` trains
    through the fused :class:`nablanet.losses.ExpHalfPoissonDeviance`, whose gradient is
    :math:`(e^z - y)/n`.
    """

    def forward(self, x: Array, training: bool = False) -> Array:
        self._a = np.exp(x)
        return self._a

    def backward(self, dy: Array) -> Array:
        r""":math:`\delta = dL/da \odot e^z` (the derivative of :math:`e^z` is itself).

        Shapes: (n_samples, n_units).
        """
        return dy * self._cached()  # dz = da * f'(z), f'(z) = a: (n, n_units)


ACTIVATIONS: dict[str, type[Activation]] = {
    "identity": Identity,
    "linear": Identity,
    "sigmoid": Sigmoid,
    "logistic": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "softmax": Softmax,
    "exp": Exp,
}

STEP_MESSAGE = (
    "the step activation cannot be trained by backpropagation: its derivative is zero almost "
    "everywhere, so every gradient through it vanishes. Use nablanet.Perceptron for the classic "
    "step-activation perceptron (as in the tutorial 'Introduction to Deep Learning - Part 3'), "
    "or a smooth activation such as 'sigmoid' here."
)


def get_activation(name: str | Layer) -> Layer:
    """Return a new activation layer for ``name`` (a layer instance is returned as it is).

    Raises ``ValueError`` for ``"step"`` (see :data:`STEP_MESSAGE`) and for unknown names.
    """
    if isinstance(name, Layer):
        return name
    if name in ("step", "heaviside"):
        raise ValueError(STEP_MESSAGE)
    return ACTIVATIONS[check_choice("activation", name, ACTIVATIONS)]()
