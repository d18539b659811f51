"""The fully connected layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import (
    check_array,
    check_dtype,
    check_memory,
    check_positive_float,
    check_positive_int,
    format_count,
)
from ..initializers import get_initializer
from .base import Array, Layer, register


@register
class Dense(Layer):
    r"""Fully connected layer, batch first: :math:`z = x W + b`.

    This is the ``z = a_{k-1} @ W_k + b_k`` of the tutorial
    "Application of differentiations in neural networks", with each sample a row.

    Parameters
    ----------
    units : int
        Number of output units ``n_out``.
    input_dim : int, optional
        Number of input features ``n_in``; inferred from the previous layer or the data if omitted.
    kernel_initializer, bias_initializer : str
        Names from :mod:`nablanet.initializers`.
    l2 : float
        L2 penalty coefficient :math:`\lambda`: the loss gains :math:`\frac{\lambda}{2}\|W\|^2` per
        batch (not ``b``), so ``dL/dW`` gains :math:`\lambda W` (:meth:`penalty`,
        :meth:`penalty_gradient`; the model adds both, :meth:`backward` does not).
    l1 : float
        L1 penalty coefficient :math:`\kappa`: the loss gains :math:`\kappa\sum|W|` per batch
        (not ``b``), so ``dL/dW`` gains the subgradient :math:`\kappa\,\mathrm{sign}(W)`,
        taken as 0 where a weight is exactly 0. Through the same :meth:`penalty` and
        :meth:`penalty_gradient` as ``l2``; both may be set (the elastic net).
    weights : array of shape (n_in, n_out), optional
        Explicit initial ``W`` (the tutorial "Introduction to Deep Learning - Part 3" passes its
        weights by hand).
    bias : array of shape (n_out,), optional
        Explicit initial ``b``.

    Notes
    -----
    Shapes:

    - input ``x``: ``(n_samples, n_in)``
    - output ``z``: ``(n_samples, n_out)``
    - ``params``: ``{"W": (n_in, n_out), "b": (n_out,)}``

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dense(3, input_dim=2)
    >>> _ = layer.build(2, np.random.default_rng(0))
    >>> layer.forward(np.ones((4, 2), dtype=np.float32)).shape
    (4, 3)
    """

    _transient = ("_x",)

    def __init__(
        self,
        units: int,
        *,
        input_dim: int | None = None,
        kernel_initializer: str = "glorot_uniform",
        bias_initializer: str = "zeros",
        l2: float = 0.0,
        l1: float = 0.0,
        weights: Any = None,
        bias: Any = None,
    ) -> None:
        super().__init__()
        self.units = check_positive_int("units", units)
        self.declared_input_dim = (
            None if input_dim is None else check_positive_int("input_dim", input_dim)
        )
        get_initializer(kernel_initializer)  # validate names now, not at build time
        get_initializer(bias_initializer)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.l2 = check_positive_float("l2", l2, allow_zero=True)
        self.l1 = check_positive_float("l1", l1, allow_zero=True)
        self._initial_weights = (
            None if weights is None else check_array(weights, "weights", dtype=np.float64)
        )
        self._initial_bias = (
            None if bias is None else check_array(bias, "bias", ndim=1, dtype=np.float64)
        )
        #: The model sets this to False on the first layer: nobody needs dL/dx of the data.
        self.need_input_grad = True
        self._x: Array | None = None  # the input of the last forward pass

    def compute_output_dim(self, input_dim: int) -> int:
        return self.units

    def count_params(self, input_dim: int) -> int:
        """Number of parameters once built for ``input_dim`` features: ``W`` and ``b``.

        Plain Python ints, so that absurd sizes are counted exactly instead of overflowing.
        """
        return int(input_dim) * self.units + self.units

    def build(self, input_dim: int, rng: np.random.Generator, dtype: Any = np.float32) -> int:
        if self.declared_input_dim is not None and self.declared_input_dim != input_dim:
            raise ValueError(
                f"Dense({format_count(self.units)}) was declared with "
                f"input_dim={format_count(self.declared_input_dim)}, "
                f"but receives {format_count(input_dim)} features"
            )
        n_params, dt = self.count_params(input_dim), check_dtype(dtype)
        check_memory(  # W and b, and their gradients, before anything is allocated
            2 * n_params * dt.itemsize,
            f"Dense({format_count(self.units)}) on {format_count(input_dim)} inputs "
            f"({format_count(n_params)} {dt} parameters)",
            purpose=" for its weights and their gradients",
            hint="use fewer units",
        )
        super().build(input_dim, rng, dtype)
        shape_w, shape_b = (input_dim, self.units), (self.units,)
        if self._initial_weights is not None:
            W = _explicit("weights", self._initial_weights, shape_w, self.dtype)
        else:
            W = get_initializer(self.kernel_initializer)(shape_w, rng, self.dtype)
        if self._initial_bias is not None:
            b = _explicit("bias", self._initial_bias, shape_b, self.dtype)
        else:
            b = get_initializer(self.bias_initializer)(shape_b, rng, self.dtype)
        self.params = {"W": np.ascontiguousarray(W), "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        return self.units

    def forward(self, x: Array, training: bool = False) -> Array:
        """Return ``z = x @ W + b`` of shape (n_samples, n_out); cache ``x`` for backward.

        With numba installed, :meth:`nablanet.Sequential.forward` does not call this method for
        a Dense layer followed by Identity, ReLU, Sigmoid or Tanh: it runs the pair fused in
        ``src/nablanet/_fast/network.py`` (:func:`nablanet._fast.network.forward`: this layer's
        :meth:`linear`, then ``b`` and the activation in one compiled pass, handed to the
        activation's ``set_output``); :meth:`nablanet.Sequential.backward` likewise calls
        :meth:`backward_matmuls` after one compiled pass for ``delta`` and ``db``. To step through
        this NumPy code instead, set ``NABLANET_FAST=0``, call
        ``nablanet._fast.set_enabled(False)``, or pass ``trace=[]`` to ``Sequential.forward``.
        """
        z = self.linear(x)
        z += self.params["b"]  # + b, broadcast over the rows
        return z

    def linear(self, x: Array) -> Array:
        """Return ``x @ W`` (no bias yet), a new (n_samples, n_out) array; cache ``x``.

        The compiled path (:mod:`nablanet._fast.dense`) adds ``b`` and the next activation in
        one pass over this array.
        """
        self._x = x
        return x @ self.params["W"]  # (n, n_in) @ (n_in, n_out) -> (n, n_out)

    def backward(self, dz: Array) -> Array:
        r"""Given :math:`\delta = dL/dz`, fill ``dL/dW``, ``dL/db`` and return ``dL/dx``.

        The matrix form of "Application of differentiations in neural networks", batch first (the
        delta rule of "Neural Networks: The Backward Pass"):

        .. math::
            \frac{\partial L}{\partial W} = x^\top \delta,\qquad
            \frac{\partial L}{\partial b} = \sum_{\text{rows}} \delta,\qquad
            \frac{\partial L}{\partial x} = \delta\, W^\top

        :math:`L` is the data term only: the L2 term's :math:`\lambda W` is added by
        :meth:`penalty_gradient`, which the model calls once the whole backward pass is done.

        Parameters
        ----------
        dz : ndarray of shape (n_samples, n_out)
            ``delta``; the loss's backward already divided it by ``n_samples``.

        Returns
        -------
        ndarray of shape (n_samples, n_in), or an empty placeholder when ``need_input_grad`` is
        False (the first layer).
        """
        dz.sum(axis=0, out=self.grads["b"])  # db = sum of delta over the rows: (n_out,)
        return self.backward_matmuls(dz)

    def backward_matmuls(self, dz: Array) -> Array:
        """The two matrix products of :meth:`backward`: fill ``dL/dW``, return ``dL/dx``.

        ``dL/db`` is left as it is (the compiled path computes it together with ``dz``).
        """
        x = self._x
        if x is None:
            raise RuntimeError("Dense.backward called before forward")
        W, dW = self.params["W"], self.grads["W"]
        # filled in place: the model keeps every gradient in one flat buffer
        np.matmul(x.T, dz, out=dW)  # dW = x.T @ delta: (n_in, n) @ (n, n_out) -> (n_in, n_out)
        if not self.need_input_grad:
            return dz[:, :0]
        return dz @ W.T  # dx = delta @ W.T: (n, n_out) @ (n_out, n_in) -> (n, n_in)

    def penalty(self, extra: float = 0.0) -> float:
        r"""The penalty this layer adds to the loss,
        :math:`\frac{\lambda + \mu}{2}\|W\|^2 + \kappa\sum_{ij}|W_{ij}|`.

        Parameters
        ----------
        extra : float
            :math:`\mu`, a coefficient the caller adds to the layer's own :math:`\lambda`
            (``l2``) for this evaluation only (the estimators' ``alpha / S``). :math:`\kappa` is
            the layer's ``l1``.
        """
        coefficient = self.l2 + extra
        W = self.params["W"]
        total = 0.0
        if coefficient:
            total += 0.5 * coefficient * float(np.vdot(W, W))
        if self.l1:
            total += self.l1 * float(np.abs(W).sum())
        return total

    def penalty_gradient(self, extra: float = 0.0) -> None:
        r"""Add the gradient of :meth:`penalty` to ``grads["W"]`` in place:

        .. math::
            \frac{\partial L}{\partial W} \mathrel{+}= (\lambda + \mu)\, W
                + \kappa\,\mathrm{sign}(W)

        :math:`|w|` has no derivative at :math:`w = 0`; ``sign(0) = 0`` picks the subgradient 0
        there (as PyTorch's ``abs`` backward does), so a weight at exactly 0 feels no L1 pull.
        With plain (sub)gradient steps the weights the L1 term drives to zero hover within
        about ``lr * l1`` of it rather than landing on it.
        Call after :meth:`backward` (which fills the data term :math:`x^\top \delta`).
        """
        coefficient = self.l2 + extra
        if coefficient:
            self.grads["W"] += coefficient * self.params["W"]  # (n_in, n_out)
        if self.l1:
            self.grads["W"] += self.l1 * np.sign(self.params["W"])  # (n_in, n_out)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"units": self.units}
        if self.declared_input_dim is not None:
            config["input_dim"] = self.declared_input_dim
        config["kernel_initializer"] = self.kernel_initializer
        config["bias_initializer"] = self.bias_initializer
        config["l2"] = self.l2
        config["l1"] = self.l1
        return config


def _explicit(name: str, value: np.ndarray, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    if value.shape != shape:
        raise ValueError(f"initial {name} must have shape {shape}, got {value.shape}")
    if not np.isfinite(value).all():
        raise ValueError(f"initial {name} contains NaN or infinity")
    return value.astype(dtype)
