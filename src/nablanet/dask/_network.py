"""The network of a Dask estimator handed back as a plain ``nablanet.estimators`` estimator.

The network itself is built by :func:`nablanet.estimators._base.build_network`, as
``nablanet.estimators`` builds it (scikit-learn's initial weights from the fit's random state, in
scikit-learn's order), so that a one-chunk L-BFGS fit starts where ``MLPClassifier`` starts.
"""

from __future__ import annotations

import copy
from typing import Any

from ..estimators import MLPClassifier, MLPRegressor, from_model
from ..model import Sequential
from ..optimizers import Optimizer


def local_estimator(
    model: Sequential,
    params: dict[str, Any],
    optimizer: Optimizer | None,
    fitted: dict[str, Any],
) -> MLPClassifier | MLPRegressor:
    """A fitted ``nablanet.estimators`` estimator around a copy of ``model``.

    ``params`` are the estimator parameters (the Dask ones left out), ``optimizer`` the trained
    stochastic rule with its state (so that ``partial_fit`` continues from it), ``fitted`` the
    fitted attributes to carry over (``loss_curve_``, ``n_iter_``, ...).
    """
    twin = copy.deepcopy(model)
    if optimizer is not None:
        twin.compile(optimizer=copy.deepcopy(optimizer))
    est = from_model(twin)
    est.set_params(**params)
    for name, value in fitted.items():
        setattr(est, name, copy.deepcopy(value))
    return est
