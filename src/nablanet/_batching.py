"""Batch utilities shared by the training loop and the scikit-learn estimators.

Below the engine (:mod:`nablanet.training`) and the front ends (:mod:`nablanet.estimators`),
which both import from here; above :mod:`nablanet._fast`, whose compiled gather it dispatches to.
"""

from __future__ import annotations

import numpy as np

from . import _fast

Array = np.ndarray


def take(A: Array, rows: slice | Array) -> Array:
    """``A[rows]``: a view for a slice, a gathered copy for an index array (compiled with the
    ``nablanet[fast]`` extra: :func:`nablanet._fast.gather.take_rows`)."""
    if _fast.enabled() and _fast.gather.fits(A, rows):
        return _fast.gather.take_rows(A, rows)
    return A[rows]
