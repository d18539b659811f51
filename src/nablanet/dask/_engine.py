"""The engine calls nablanet.dask makes, in one place.

Each is one public method of :class:`nablanet.Sequential` (the engine seam of issue 19):
``loss_and_grad_sums``, ``loss_and_grads(..., l2=)``, ``set_gradients``,
``penalty_gradients`` and ``penalty(l2)``. TEMPORARY: until that seam lands, each falls back to
the same computation written with public attributes (``Dense.l2``, ``Dense.params``,
``Sequential.slots()``); the fallbacks go when the seam is merged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers import Dense
from ..model import Sequential

Array = np.ndarray


def _set_l2(model: Sequential, l2: float) -> None:
    for layer in model.layers:
        if isinstance(layer, Dense):
            layer.l2 = float(l2)


def loss_and_grad_sums(
    model: Sequential, X: Array, Y: Array, sample_weight: Array | None
) -> tuple[float, float, Array]:
    r"""``(S, S * loss, S * grad)`` of the data term on one chunk, in inference mode, with
    :math:`S = \sum_i w_i` (the number of rows without weights); the gradient in float64."""
    if hasattr(model, "loss_and_grad_sums"):
        total, loss_sum, grad_sum = model.loss_and_grad_sums(X, Y, sample_weight)
        return float(total), float(loss_sum), np.asarray(grad_sum, dtype=np.float64)
    _set_l2(model, 0.0)
    total = float(len(X)) if sample_weight is None else float(np.sum(sample_weight, dtype=float))
    loss, _ = model.loss_and_grads(X, Y, sample_weight, training=False)
    return total, total * loss, total * model.gradients_to_vector().astype(np.float64)


def loss_and_grads(
    model: Sequential, X: Array, Y: Array, sample_weight: Array | None, l2: float
) -> float:
    """One training-mode forward and backward with the L2 coefficient ``l2``; the loss."""
    try:
        loss, _ = model.loss_and_grads(X, Y, sample_weight, training=True, l2=l2)
    except TypeError:  # before the seam: the coefficient lives on the layers
        _set_l2(model, l2)
        loss, _ = model.loss_and_grads(X, Y, sample_weight, training=True)
    return float(loss)


def _weight_mask(model: Sequential) -> Array:
    """True where the flat parameter vector holds a Dense layer's ``W`` (what L2 penalises)."""
    return np.concatenate(
        [
            np.full(p.size, isinstance(model.layers[int(key.split(".")[1])], Dense) and key.endswith(".W"))
            for key, p, _ in model.slots()
        ]
    )


def set_gradients_with_penalty(model: Sequential, grad: Array, l2: float) -> None:
    """Write ``grad`` into the model's gradients, then add the L2 term's ``l2 * W``."""
    if hasattr(model, "set_gradients"):
        model.set_gradients(grad)
        model.penalty_gradients(l2)
        return
    theta = model.parameters_to_vector()
    full = np.asarray(grad, dtype=theta.dtype) + np.where(_weight_mask(model), l2 * theta, 0)
    offset = 0
    for _, p, g in model.slots():
        g[...] = full[offset : offset + p.size].reshape(p.shape)
        offset += p.size


def penalty(model: Sequential, l2: float) -> float:
    r""":math:`\frac{l_2}{2} \sum_k \|W_k\|^2` over the Dense layers at the current weights."""
    try:
        return float(model.penalty(l2))  # type: ignore[call-arg]
    except TypeError:
        return sum(
            0.5 * l2 * float(np.vdot(layer.params["W"], layer.params["W"]))
            for layer in model.layers
            if isinstance(layer, Dense)
        )


def param_count(model: Any) -> int:
    return int(model.n_params)
