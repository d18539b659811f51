"""A model's forward and backward pass with every Dense + activation pair fused.

The same walk over the layers as :meth:`nablanet.Sequential.forward` / ``backward``, except
that a :class:`~nablanet.layers.Dense` followed by an Identity, ReLU, Sigmoid or Tanh layer runs
as ``x @ W`` (BLAS) and one :func:`~nablanet._fast.dense.bias_act` pass, and backward as one
:func:`~nablanet._fast.dense.act_backward` pass (``delta`` and ``db``) and the Dense layer's two
matrix products. Each layer keeps the caches it keeps on the NumPy path (Dense: ``x``; the
activation: its output), so the two paths can be mixed and compared.
"""

from __future__ import annotations

from ..layers.activations import Identity, ReLU, Sigmoid, Tanh
from ..layers.base import Array, Layer
from ..layers.dense import Dense
from .dense import IDENTITY, RELU, SIGMOID, TANH, act_backward, bias_act

KINDS: dict[type, int] = {Identity: IDENTITY, ReLU: RELU, Sigmoid: SIGMOID, Tanh: TANH}


def _kind(layer: Layer | None) -> int | None:
    """The fused activation code of ``layer`` (exact classes only: subclasses may differ)."""
    return None if layer is None else KINDS.get(type(layer))


def _plain_dense(layer: Layer | None) -> bool:
    """True for a Dense layer itself (a subclass may override forward or backward)."""
    return type(layer) is Dense


def forward(layers: list[Layer], x: Array, training: bool) -> Array:
    """Run ``layers`` on ``x``, fusing each Dense + activation pair; return the output."""
    out, i = x, 0
    while i < len(layers):
        layer = layers[i]
        kind = _kind(layers[i + 1]) if i + 1 < len(layers) else None
        if _plain_dense(layer) and kind is not None:
            z = layer.linear(out)  # type: ignore[attr-defined]  # (n, n_in) @ (n_in, n_out)
            out = bias_act(z, layer.params["b"], kind)  # a = f(z + b), in place
            layers[i + 1].set_output(out)  # type: ignore[attr-defined]  # the activation's cache
            i += 2
        else:
            out = layer.forward(out, training)
            i += 1
    return out


def backward(layers: list[Layer], grad: Array) -> Array:
    """Back-propagate ``grad`` through ``layers`` in reverse, fusing Dense + activation pairs."""
    i = len(layers) - 1
    while i >= 0:
        layer, below = layers[i], layers[i - 1] if i > 0 else None
        kind = _kind(layer)
        if kind is not None and _plain_dense(below):
            a = layer._cached()  # type: ignore[attr-defined]
            dz = act_backward(grad, a, kind, below.grads["b"])  # type: ignore[union-attr]
            grad = below.backward_matmuls(dz)  # type: ignore[union-attr]
            i -= 2
        else:
            grad = layer.backward(grad)
            i -= 1
    return grad
