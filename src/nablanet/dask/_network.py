"""The network of a Dask estimator: built as ``nablanet.estimators`` builds it, and handed back
as a plain estimator.

:func:`build_network` draws scikit-learn's initial weights (its ``_init_coef``: per layer the
weights, then the intercepts, uniform in ``[-bound, bound)``, ``bound = sqrt(factor / (fan_in +
fan_out))``, factor 2 for logistic units and 6 otherwise) from the fit's random state, in
scikit-learn's order, so that a one-chunk L-BFGS fit starts where ``MLPClassifier`` starts.
"""

from __future__ import annotations

import copy
import math
from itertools import pairwise
from typing import Any

from ..estimators import MLPClassifier, MLPRegressor, from_model
from ..estimators._optimizers import ScikitAdam, ScikitSGD
from ..estimators._params import MLPSettings
from ..losses import (
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    HalfPoissonDeviance,
    HalfSquaredError,
)
from ..model import Sequential
from ..optimizers import SGD, Adam, Optimizer, RMSProp, get_optimizer, optimizer_from_config
from ..schedules import Schedule

#: scikit-learn's output activation -> (nablanet activation, loss), as nablanet.estimators
OUTPUTS: dict[str, tuple[str, Any]] = {
    "softmax": ("softmax", lambda: CategoricalCrossEntropy()),
    "logistic": ("sigmoid", lambda: BinaryCrossEntropy(outputs="sum")),
    "identity": ("identity", lambda: HalfSquaredError()),
    "exp": ("exp", lambda: HalfPoissonDeviance()),
}


def build_network(
    settings: MLPSettings,
    units: list[int],
    out_activation: str,
    dropout: float,
    dtype: Any,
    random: Any,
) -> Sequential:
    """A new network ``units[0] -> ... -> units[-1]`` with scikit-learn's initial weights."""
    weights = []
    for (fan_in, fan_out), factor in zip(pairwise(units), settings.init_factors, strict=True):
        bound = math.sqrt(factor / (fan_in + fan_out))
        W = random.uniform(-bound, bound, (fan_in, fan_out))
        b = random.uniform(-bound, bound, fan_out)
        weights.append((W.astype(dtype), b.astype(dtype)))
    activation, loss = OUTPUTS[out_activation]
    return Sequential.from_sizes(
        units,
        activation=[*settings.activations, activation],
        dropout=float(dropout),
        weights=weights,
        loss=loss(),
        seed=0,  # dropout masks: each stochastic round seeds its own
        dtype=dtype,
    )


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


def new_optimizer(est: Any) -> Optimizer:
    """The stochastic rule of ``est`` (solver ``"sgd"``/``"adam"``), as
    ``nablanet.estimators`` chooses it: scikit-learn's rule, or the ``optimizer`` extra."""
    lr: float | Schedule = (
        est.learning_rate
        if isinstance(est.learning_rate, Schedule)
        else float(est.learning_rate_init)
    )
    name = est.optimizer
    if name is None and est.solver == "sgd":
        return ScikitSGD(lr, float(est.momentum), bool(est.nesterovs_momentum))
    if name is None:
        return ScikitAdam(lr, est.beta_1, est.beta_2, est.epsilon)
    if isinstance(name, Optimizer):
        return optimizer_from_config(name.get_config())  # never train the user's instance
    if name == "sgd":
        mom = float(est.momentum)
        return SGD(lr, momentum=mom, nesterov=bool(est.nesterovs_momentum) and mom > 0)
    if name in ("adam", "adamw"):
        decay = 0.01 if name == "adamw" else 0.0
        return Adam(lr, est.beta_1, est.beta_2, est.epsilon, weight_decay=decay)
    if name == "rmsprop":
        return RMSProp(lr, epsilon=est.epsilon)
    return get_optimizer(name, lr=lr)
