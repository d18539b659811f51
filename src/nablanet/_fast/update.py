r"""Optimizer updates in one pass over the flat parameter buffer.

NumPy's reference (:mod:`nablanet.optimizers`) makes 4 (SGD-momentum) to 12 (Adam) whole-buffer
passes per step, each reading and writing every element. Each kernel here reads ``p``, ``g`` and
the state once and writes them once, with the same operations in the same order, so in float64
the result equals NumPy's to the last bit or so, and in float32 to a few ulps. The scalars
(``lr``, ``mu``, ...) come in ``p``'s dtype, as NumPy's reference uses them.

**Subnormals.** Each kernel that keeps state (momentum, Adam, RMSProp) flushes a state element
to zero when its magnitude falls below the dtype's smallest normal number ``tiny``
(``np.finfo(dtype).tiny``: 2**-126 in float32, 2**-1022 in float64), with one compare-and-select
per element, before the element is used or stored; NaN and infinity are kept. Without it a
dead ReLU unit (gradient exactly 0) leaves Adam's first moment at ``4 * 2**-149``, a fixed
point of ``m <- 0.9 m`` in float32, and every vector operation that touches a subnormal runs
many times slower (issue 20). The NumPy reference flushes the same elements every
``FLUSH_EVERY`` steps (:func:`nablanet.optimizers.flush_subnormals`; the module docstring of
:mod:`nablanet.optimizers` gives the measurements), so the two agree to float tolerance.

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


def _momentum(p, g, v, lr, mu, nesterov, tiny):
    # v <- mu v + g (0 when |v| < tiny);  p <- p - lr v   (Nesterov: p <- p - lr (g + mu v))
    zero = tiny - tiny  # 0 in p's dtype (a 0.0 literal would make float32 code float64)
    for i in prange(p.size):
        vi = v[i] * mu + g[i]
        if abs(vi) < tiny:  # a subnormal: flush to zero (NaN compares False and stays)
            vi = zero
        v[i] = vi
        if nesterov:
            p[i] -= (vi * mu + g[i]) * lr
        else:
            p[i] -= vi * lr


def _adam(p, g, m, v, b1, c1, b2, c2, lr_t, eps_t, tiny):
    # m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2  (each 0 when below tiny in magnitude);
    # p <- p - lr_t m / (sqrt(v) + eps_t)
    zero = tiny - tiny  # 0 in p's dtype (a 0.0 literal would make float32 code float64)
    for i in prange(p.size):
        gi = g[i]
        mi = m[i] * b1 + gi * c1
        vi = v[i] * b2 + gi * gi * c2
        if abs(mi) < tiny:  # subnormals flushed to zero (NaN compares False and stays)
            mi = zero
        if vi < tiny:  # v >= 0
            vi = zero
        m[i] = mi
        v[i] = vi
        p[i] -= mi / (np.sqrt(vi) + eps_t) * lr_t


def _rmsprop(p, g, v, rho, c, lr, eps, tiny):
    # v <- rho v + (1 - rho) g^2 (0 when below tiny);  p <- p - lr g / (sqrt(v) + eps)
    zero = tiny - tiny  # 0 in p's dtype (a 0.0 literal would make float32 code float64)
    for i in prange(p.size):
        gi = g[i]
        vi = v[i] * rho + gi * gi * c
        if vi < tiny:  # v >= 0: a subnormal is flushed to zero (NaN compares False and stays)
            vi = zero
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
    views. Kernels with state also get ``tiny`` (the smallest normal number of ``p``'s dtype),
    below which a state element is flushed to zero. The multi-threaded form runs for large
    buffers when numba has several threads.
    """
    serial, parallel = _KERNELS[name]
    kernel = parallel if use_parallel(p.size) else serial
    if state:
        scalars = (*scalars, p.dtype.type(np.finfo(p.dtype).tiny))
    kernel(p.reshape(-1), g.reshape(-1), *(s.reshape(-1) for s in state), *scalars)
