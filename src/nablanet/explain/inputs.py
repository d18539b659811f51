"""What :func:`~nablanet.explain.explain` and :func:`~nablanet.explain.trace` accept, and the copy
they work on: a built :class:`~nablanet.model.Sequential`, copied to float64 so that the caller's
model is left untouched, and one sample or a tiny batch."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .._validation import short_repr
from ..model import Sequential

Array = np.ndarray
MAX_SAMPLES = 32


def check_built(model: Any) -> None:
    """Refuse anything but a built :class:`~nablanet.model.Sequential`, naming what came."""
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a nablanet Sequential, got {short_repr(model)}")
    if not getattr(model, "built", False):
        raise ValueError("the model is not built yet: call fit(X, y) or build(n_features) first")


def float64_copy(model: Sequential) -> Sequential:
    """A float64 copy of ``model`` (same weights and task) that explain can change freely.

    Rebuilt from its config; a model whose config names classes nablanet cannot rebuild (the
    tutorial losses of :mod:`nablanet.tutorial`) is deep-copied instead, which needs float64.
    """
    try:
        twin = model.clone(dtype="float64")
    except ValueError:
        if np.dtype(model.dtype) != np.float64:
            raise
        twin = copy.deepcopy(model)
    twin.task = model.task
    return twin


def as_batch(x: Any, y: Any) -> tuple[Array, Any]:
    """``x`` as rows; a single sample's ``y`` (label or target row) as a batch of one."""
    X = np.asarray(x) if not isinstance(x, np.ndarray) else x  # prepare() checks its values
    if X.ndim == 1:
        X = X.reshape(1, -1)
        y_arr = np.asarray(y)
        y = y_arr.reshape(1) if y_arr.ndim == 0 or y_arr.size == 1 else y_arr.reshape(1, -1)
    if X.ndim == 2 and len(X) > MAX_SAMPLES:
        raise ValueError(
            f"explain is for one sample or a tiny batch (at most {MAX_SAMPLES} rows), "
            f"got {len(X)} rows"
        )
    return X, y
