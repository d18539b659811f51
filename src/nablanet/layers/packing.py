"""Parameter storage: every parameter of a model in one flat buffer, each layer keeping a view."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Array, Layer


def pack_parameters(layers: list[Layer], dtype: Any) -> tuple[Array, Array] | None:
    """Move every parameter (and gradient) into one flat buffer, each layer keeping a view.

    Optimizers then update all parameters with a handful of whole-buffer NumPy operations
    instead of a handful per parameter. Each view starts on a 64-byte boundary; the padding
    between views holds zeros in both buffers and never changes.
    """
    align = max(1, 64 // np.dtype(dtype).itemsize)
    sizes = [(layer, key, p) for layer in layers for key, p in layer.params.items()]
    if not sizes:
        return None
    total = sum(-(-p.size // align) * align for _, _, p in sizes)
    flat_p = np.zeros(total + align, dtype=dtype)
    flat_g = np.zeros(total + align, dtype=dtype)
    base = (-(flat_p.ctypes.data // flat_p.itemsize)) % align  # first aligned element
    if base != (-(flat_g.ctypes.data // flat_g.itemsize)) % align:
        base = 0  # the two buffers are aligned differently: give up alignment, keep packing
    flat_p, flat_g = flat_p[base : base + total], flat_g[base : base + total]
    offset = 0
    for layer, key, p in sizes:
        view_p = flat_p[offset : offset + p.size].reshape(p.shape)
        view_p[...] = p
        layer.params[key] = view_p
        layer.grads[key] = flat_g[offset : offset + p.size].reshape(p.shape)
        offset += -(-p.size // align) * align
    return flat_p, flat_g
