"""Estimator files: a fitted estimator's network in a model file, its parameters in the metadata.

An estimator file is a Sequential model file (:mod:`.sequential`) whose ``metadata`` holds one
more entry, ``"estimator"``::

    {"class": "MLPClassifier",
     "params": {...get_params(deep=False), as JSON...},
     "fitted": {"loss_curve_": [...], "n_iter_": 12, "t_": 3400}}

Parameters become JSON as :func:`params_to_json` says (a schedule or an optimizer by its
config, ``inf`` as the string ``"inf"``, tuples as lists, a random generator as null) and come
back through :func:`params_from_json`. Turning a file back into a fitted estimator is the
estimators' own business (:func:`nablanet.estimators.from_model`): this module knows the file,
not the estimator classes, so nothing here imports :mod:`nablanet.estimators`.

Needs scikit-learn (``check_is_fitted``); :mod:`nablanet.saving` does not import this module.
"""

from __future__ import annotations

import math
import os
import pathlib
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..optimizers import Optimizer, optimizer_from_config
from ..schedules import Schedule, schedule_from_config
from .sequential import save

#: The metadata key that holds an estimator's class, parameters and fitted attributes.
ESTIMATOR_KEY = "estimator"


def params_to_json(value: Any) -> Any:
    """One estimator parameter as JSON (see the module docstring)."""
    if isinstance(value, Schedule):
        return {"schedule": value.get_config()}
    if isinstance(value, Optimizer):
        return {"optimizer": value.get_config()}
    if isinstance(value, np.random.Generator | np.random.RandomState):
        return None  # a generator's state is not a parameter worth keeping
    if isinstance(value, tuple | list | np.ndarray):
        return [params_to_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return value


def params_from_json(name: str, value: Any) -> Any:
    """The parameter ``name`` back from what :func:`params_to_json` stored."""
    if isinstance(value, dict) and "schedule" in value:
        return schedule_from_config(value["schedule"])
    if isinstance(value, dict) and "optimizer" in value:
        return optimizer_from_config(value["optimizer"])
    if value == "inf" and name == "n_iter_no_change":
        return math.inf
    if name == "hidden_layer_sizes" and isinstance(value, list):
        return tuple(value)
    return value


def save_estimator(
    est: Any, path: str | os.PathLike[str], *, metadata: dict[str, Any] | None = None
) -> pathlib.Path:
    """Write a fitted ``MLPClassifier`` / ``MLPRegressor`` to a nablanet model file.

    Parameters
    ----------
    est : fitted MLPClassifier or MLPRegressor
    path : str or path-like
        Target file (``.nbnet`` by convention); written atomically.
    metadata : dict, optional
        More JSON notes to store; the estimator's own go under the key ``"estimator"``.
    """
    check_is_fitted(est, "model_")
    notes = dict(metadata or {})
    notes[ESTIMATOR_KEY] = {
        "class": type(est).__name__,
        "params": {k: params_to_json(v) for k, v in est.get_params(deep=False).items()},
        "fitted": {
            "loss_curve_": [float(v) for v in getattr(est, "loss_curve_", None) or []],
            "n_iter_": int(est.n_iter_),
            "t_": int(getattr(est, "t_", 0)),
        },
    }
    return save(est.model_, path, metadata=notes)


def estimator_entry(metadata: Any, class_name: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """``(params, fitted)`` stored for an estimator of ``class_name``, or None if there is none.

    ``params`` are decoded by :func:`params_from_json`, ready for ``cls(**params)``; ``fitted``
    holds ``loss_curve_``, ``n_iter_`` and ``t_`` as saved.
    """
    info = metadata.get(ESTIMATOR_KEY) if isinstance(metadata, dict) else None
    if not isinstance(info, dict) or info.get("class") != class_name:
        return None
    params = {k: params_from_json(k, v) for k, v in info["params"].items()}
    return params, info.get("fitted", {})
