"""Keeping an estimator's network intact: across copies and processes, and when a fit fails.

A built :class:`nablanet.Sequential` keeps all its parameters as views into one flat buffer that
its optimizer updates in a single pass. ``copy.deepcopy`` and pickling copy each view on its own
and would cut that link, so estimators travel (to Dask or joblib workers, through ``clone`` of a
fitted meta-estimator, ...) as a plain description instead: config, weights, optimizer state and
random generator, rebuilt on arrival by :func:`restore_model`.

:func:`restore_on_error` gives ``fit`` and ``partial_fit`` the project's rule that a failed call
loses nothing: every fitted attribute, the weights and the optimizer state are put back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..model import Sequential
from ..optimizers import optimizer_from_config


def portable_model(model: Sequential) -> dict[str, Any]:
    """A description of ``model`` made of plain containers and fresh arrays."""
    built = getattr(model, "built", False)
    return {
        "config": model.get_config(),
        "weights": model.get_weights() if built else None,
        "optimizer": model.optimizer.get_config(),
        "optimizer_state": {k: np.array(v) for k, v in model.optimizer.get_state().items()},
        "rng": model.rng,
    }


def restore_model(state: dict[str, Any]) -> Sequential:
    """Rebuild the model described by :func:`portable_model`."""
    model = Sequential.from_config(state["config"], seed=state["rng"])
    model.compile(optimizer=optimizer_from_config(state["optimizer"]))
    if state["weights"] is not None:
        model.set_weights(state["weights"])
    model.optimizer.set_state(state["optimizer_state"])
    return model


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
