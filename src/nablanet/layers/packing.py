"""Parameter storage: every parameter of a model in one flat buffer, each layer keeping a view.

A speed trick, kept because it measured worth it: optimizers update all parameters with a
handful of whole-buffer NumPy operations instead of a handful per parameter array. With Adam
(12 passes) an epoch of speed.py's 784-256-128-10 network took 1.02x-1.17x as long updating
per parameter (``python benchmarks/ablation.py``, 3 runs, batch 32 and 128, 1 thread); with
SGD-momentum the two were within noise (0.95x-1.07x). It also makes a snapshot of all the
weights one copy (the divergence guard) and gives ``parameters_to_vector`` for free.
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
