"""Parameter storage: every parameter of a model in one flat buffer, each layer keeping a view.

Optimizers then update all parameters with a handful of whole-buffer NumPy operations instead of
a handful per parameter (measured: about 5% of a training step of a 784-256-128-10 network at
batch 128, mostly NumPy's per-call overhead), and a snapshot of all the weights is one copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Array, Layer


def pack_parameters(layers: list[Layer], dtype: Any) -> tuple[Array, Array]:
    """Move every parameter (and gradient) into one flat buffer, each layer keeping a view.

    The views follow the order of ``layers`` and of each layer's ``params``, back to back, so
    ``flat_params`` is the concatenation of the raveled parameters (empty without any).

    Returns
    -------
    (flat_params, flat_grads) : two 1-D arrays of ``dtype`` and length ``n_params``
    """
    pieces = [(layer, key, p) for layer in layers for key, p in layer.params.items()]
    total = sum(p.size for _, _, p in pieces)
    flat_p = np.zeros(total, dtype=dtype)
    flat_g = np.zeros(total, dtype=dtype)
    offset = 0
    for layer, key, p in pieces:
        piece = slice(offset, offset + p.size)
        layer.params[key] = flat_p[piece].reshape(p.shape)
        layer.params[key][...] = p
        layer.grads[key] = flat_g[piece].reshape(p.shape)
        offset += p.size
    return flat_p, flat_g
