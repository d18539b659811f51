r"""Optimizer updates in one pass over the flat parameter buffer.

NumPy's reference (:mod:`nablanet.optimizers`) makes 4 (SGD-momentum) to 12 (Adam) whole-buffer
passes per step, each reading and writing every element. Each kernel here reads ``p``, ``g`` and
the state once and writes them once, with the same operations in the same order, so in float64
the result equals NumPy's to the last bit or so, and in float32 to a few ulps. The scalars
(``lr``, ``mu``, ...) come in ``p``'s dtype, as NumPy's reference uses them.

Every array must be C-contiguous (the packed buffers are); :func:`fits` checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import jit, parallel_jit, prange, use_parallel

Array = np.ndarray


def _sgd(p, g, lr):
    # p <- p - lr g
    for i in prange(p.size):
        p[i] -= g[i] * lr


def _momentum(p, g, v, lr, mu, nesterov):
    # v <- mu v + g;  p <- p - lr v   (Nesterov: p <- p - lr (g + mu v))
    for i in prange(p.size):
        vi = v[i] * mu + g[i]
        v[i] = vi
        if nesterov:
            p[i] -= (vi * mu + g[i]) * lr
        else:
            p[i] -= vi * lr


def _adam(p, g, m, v, b1, c1, b2, c2, lr_t, eps_t):
    # m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p - lr_t m / (sqrt(v) + eps_t)
    for i in prange(p.size):
        gi = g[i]
        mi = m[i] * b1 + gi * c1
        vi = v[i] * b2 + gi * gi * c2
        m[i] = mi
        v[i] = vi
        p[i] -= mi / (np.sqrt(vi) + eps_t) * lr_t


def _rmsprop(p, g, v, rho, c, lr, eps):
    # v <- rho v + (1 - rho) g^2;  p <- p - lr g / (sqrt(v) + eps)
    for i in prange(p.size):
        gi = g[i]
        vi = v[i] * rho + gi * gi * c
        v[i] = vi
        p[i] -= gi / (np.sqrt(vi) + eps) * lr


_KERNELS = {
    name: (jit(func), parallel_jit(func))
    for name, func in (
        ("sgd", _sgd),
        ("momentum", _momentum),
        ("adam", _adam),
        ("rmsprop", _rmsprop),
    )
}


def fits(*arrays: Array) -> bool:
    """True when every array is C-contiguous (so that ``reshape(-1)`` is a view)."""
    return all(a.flags.c_contiguous for a in arrays)


def run(name: str, p: Array, g: Array, state: tuple[Array, ...], *scalars: Any) -> None:
    """Apply kernel ``name`` ("sgd", "momentum", "adam", "rmsprop") in place.

    ``p``, ``g`` and every ``state`` array have the same shape; they are updated through flat
    views. The multi-threaded form runs for large buffers when numba has several threads.
    """
    serial, parallel = _KERNELS[name]
    kernel = parallel if use_parallel(p.size) else serial
    kernel(p.reshape(-1), g.reshape(-1), *(s.reshape(-1) for s in state), *scalars)
