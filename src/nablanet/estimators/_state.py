"""Keeping an estimator's network intact when a fit fails.

(Copies and process transport need nothing here: :class:`nablanet.Sequential` re-links its
packed parameters itself when it is copied.)

:func:`restore_on_error` gives ``fit`` and ``partial_fit`` the project's rule that a failed call
loses nothing: every fitted attribute, the weights and the optimizer state are put back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np


@contextlib.contextmanager
def restore_on_error(est: Any) -> Iterator[None]:
    """Run a ``fit``; if it raises, put the estimator back exactly as it was before."""
    params = set(est.get_params(deep=False))
    saved = {
        key: list(value) if isinstance(value, list) else value
        for key, value in vars(est).items()
        if key not in params
    }
    model = vars(est).get("model_")
    if model is not None:
        weights = model.get_weights()
        optimizer = model.optimizer
        opt_state = {k: np.array(v) for k, v in optimizer.get_state().items()}
        lr = optimizer.lr
    try:
        yield
    except BaseException:
        for key in [k for k in vars(est) if k not in params]:
            delattr(est, key)
        vars(est).update(saved)
        if model is not None:
            model.set_weights(weights)
            if model.optimizer is not optimizer:
                model.compile(optimizer=optimizer)
            optimizer.set_state(opt_state)
            optimizer.lr = lr
        raise
