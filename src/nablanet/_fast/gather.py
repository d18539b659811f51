"""The batch gather: the rows ``X[idx]`` of a shuffled mini-batch, copied into a new array.

NumPy's reference is fancy indexing, ``X[idx]``, which copies one row at a time on one thread;
this kernel does the same copies, on several threads for large batches.
"""

from __future__ import annotations

import numpy as np

from . import jit, parallel_jit, prange, use_parallel

Array = np.ndarray


def _take_rows(X, idx, out):
    # out[r] <- X[idx[r]], element by element (numba's row-slice copy, out[r] = X[i], is 3x slower)
    k = X.shape[1]
    for r in prange(idx.size):
        row = idx[r]
        for j in range(k):
            out[r, j] = X[row, j]


_TAKE_ROWS = (jit(_take_rows), parallel_jit(_take_rows))


def take_rows(X: Array, idx: Array) -> Array:
    """``X[idx]`` for a 2-D C-contiguous ``X`` and 1-D integer ``idx`` (no bounds checks:
    ``idx`` must hold valid row numbers, as a permutation's slice does).

    Returns
    -------
    ndarray of shape (len(idx), X.shape[1])
    """
    out = np.empty((len(idx), X.shape[1]), dtype=X.dtype)
    serial, parallel = _TAKE_ROWS
    (parallel if use_parallel(out.size) else serial)(X, idx, out)
    return out


def fits(X: Array, idx: object) -> bool:
    """True when :func:`take_rows` applies: ``X`` a 2-D C-contiguous ndarray (not a sparse
    matrix), ``idx`` a 1-D int array."""
    return (
        isinstance(idx, np.ndarray)
        and idx.ndim == 1
        and idx.dtype.kind == "i"
        and isinstance(X, np.ndarray)
        and X.ndim == 2
        and X.flags.c_contiguous
    )
