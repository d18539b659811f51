"""Checks of the estimators' constructor arguments, run at the start of ``fit``.

scikit-learn's convention: ``__init__`` only stores its arguments, and they are validated when
they are used, so ``set_params`` and ``clone`` never fail. Every message names the parameter and
quotes the value received.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from .._validation import (
    _short,
    check_choice,
    check_fraction,
    check_memory,
    check_positive_float,
    check_positive_int,
    format_count,
)
from ..optimizers import OPTIMIZERS, Optimizer
from ..schedules import Schedule

#: hidden activations the estimators accept (scikit-learn's four, plus two of nablanet's)
HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu", "sigmoid", "leaky_relu")
SOLVERS = ("lbfgs", "sgd", "adam")
LEARNING_RATES = ("constant", "invscaling", "adaptive")


@dataclass(frozen=True)
class MLPSettings:
    """The checked and normalised hyper-parameters of one ``fit`` call."""

    hidden: tuple[int, ...]
    activations: tuple[str, ...]  # one per hidden layer
    init_factors: tuple[float, ...]  # scikit-learn's Glorot factor per Dense layer
    stochastic: bool
    batch_size: int | None  # None: "auto"
    n_iter_no_change: float


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` as a bool, or raise if it is not True/False."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {_short(value)}")
    return bool(value)


def check_random_state(value: Any) -> None:
    """Raise unless ``value`` is None, a non-negative int, a Generator or a RandomState."""
    if value is None or isinstance(value, np.random.Generator | np.random.RandomState):
        return
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= 0:
        return
    raise TypeError(
        "random_state must be None, a non-negative int, a np.random.Generator or a "
        f"np.random.RandomState, got {_short(value)}"
    )


def as_rng(random_state: Any) -> np.random.Generator:
    """The generator of one ``fit`` call: a fresh one from an int (reproducible fits), the
    instance itself for a Generator, and a Generator seeded from a legacy ``RandomState``."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(np.iinfo(np.int32).max)))
    return np.random.default_rng(random_state)


def _hidden_sizes(value: Any) -> tuple[int, ...]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (check_positive_int("hidden_layer_sizes", value),)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        raise TypeError(
            f"hidden_layer_sizes must be an int or a sequence of ints, got {_short(value)}"
        )
    sizes = []
    for size in value:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            raise ValueError(f"hidden_layer_sizes must hold ints >= 1, got {_short(value)}")
        sizes.append(int(size))
    return tuple(sizes)


def check_hidden_memory(hidden: Sequence[int], value: Any) -> None:
    """Refuse hidden layer sizes that no machine at hand can hold, before the data is read.

    Counts the smallest network they can make: one input, one output, float32, and the
    parameters, their gradients, the optimizer's scratch buffer and one state buffer
    (``4 * n_params * 4`` bytes, less than any solver needs: a refusal is always right). The
    network is checked again in full when it is built.
    """
    n_params = sum(a * b + b for a, b in pairwise((1, *hidden, 1)))
    check_memory(
        4 * n_params * 4,
        f"hidden_layer_sizes={_short(value)}",
        purpose=(
            " for the network's parameters, gradients and optimizer state, even with one "
            f"input feature and one output ({format_count(n_params)} float32 parameters)"
        ),
        hint="use smaller hidden layers",
    )


def _activations(value: Any, n_hidden: int) -> tuple[str, ...]:
    if isinstance(value, str):
        return (check_choice("activation", value, HIDDEN_ACTIVATIONS),) * n_hidden
    if not isinstance(value, Sequence) or len(value) != n_hidden:
        raise ValueError(
            f"activation must be one name or one name per hidden layer ({n_hidden}), "
            f"got {_short(value)}"
        )
    return tuple(check_choice("activation", name, HIDDEN_ACTIVATIONS) for name in value)


def _init_factors(activation: Any, activations: tuple[str, ...]) -> tuple[float, ...]:
    """scikit-learn's init bound is sqrt(factor / (fan_in + fan_out)), factor 2 for logistic
    units and 6 otherwise, for every layer. With one activation per hidden layer, each layer
    takes the factor of its own activation and the output layer that of the last hidden one."""
    if isinstance(activation, str):
        names = (activation,) * (len(activations) + 1)
    else:
        names = (*activations, activations[-1] if activations else "relu")
    return tuple(2.0 if name in ("logistic", "sigmoid") else 6.0 for name in names)


def check_mlp_params(est: Any) -> MLPSettings:
    """Validate every hyper-parameter of an MLP estimator; return the normalised ones."""
    hidden = _hidden_sizes(est.hidden_layer_sizes)
    check_hidden_memory(hidden, est.hidden_layer_sizes)
    activations = _activations(est.activation, len(hidden))
    solver = check_choice("solver", est.solver, SOLVERS)
    check_positive_float("alpha", est.alpha, allow_zero=True)
    batch_size = None
    if not (isinstance(est.batch_size, str) and est.batch_size == "auto"):
        if isinstance(est.batch_size, str):
            raise ValueError(f"batch_size must be 'auto' or an int >= 1, got {est.batch_size!r}")
        batch_size = check_positive_int("batch_size", est.batch_size)
    if not isinstance(est.learning_rate, Schedule):
        if not isinstance(est.learning_rate, str) or est.learning_rate not in LEARNING_RATES:
            raise ValueError(
                f"learning_rate must be one of {list(LEARNING_RATES)} or a "
                f"nablanet.schedules.Schedule, got {_short(est.learning_rate)}"
            )
    check_positive_float("learning_rate_init", est.learning_rate_init)
    check_positive_float("power_t", est.power_t, allow_zero=True)
    check_positive_int("max_iter", est.max_iter)
    check_bool("shuffle", est.shuffle)
    check_random_state(est.random_state)
    check_positive_float("tol", est.tol, allow_zero=True)
    if not isinstance(est.verbose, numbers.Integral):
        raise TypeError(f"verbose must be a bool or an int, got {_short(est.verbose)}")
    check_bool("warm_start", est.warm_start)
    check_fraction("momentum", est.momentum, low_open=False)
    check_bool("nesterovs_momentum", est.nesterovs_momentum)
    check_bool("early_stopping", est.early_stopping)
    check_fraction("validation_fraction", est.validation_fraction, low_open=False)
    check_fraction("beta_1", est.beta_1, low_open=False)
    check_fraction("beta_2", est.beta_2, low_open=False)
    check_positive_float("epsilon", est.epsilon)
    n_iter_no_change = est.n_iter_no_change
    if not (isinstance(n_iter_no_change, float) and n_iter_no_change == np.inf):
        n_iter_no_change = check_positive_int("n_iter_no_change", n_iter_no_change)
    check_positive_int("max_fun", est.max_fun)
    dropout = check_fraction("dropout", est.dropout, low_open=False)
    optimizer = est.optimizer
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        check_choice("optimizer", optimizer, OPTIMIZERS)
    if solver == "lbfgs":
        if optimizer is not None:
            raise ValueError(
                f"optimizer={_short(optimizer)} needs a stochastic solver, got solver='lbfgs'"
            )
        if dropout:
            raise ValueError(
                f"dropout={dropout} makes the loss random, which L-BFGS cannot minimise; "
                "use solver='adam' or 'sgd' with dropout"
            )
    return MLPSettings(
        hidden=hidden,
        activations=activations,
        init_factors=_init_factors(est.activation, activations),
        stochastic=solver != "lbfgs",
        batch_size=batch_size,
        n_iter_no_change=float(n_iter_no_change),
    )
