"""The MLP estimators' parameters: allowed values declared once, and the checks beyond them.

scikit-learn's convention: ``__init__`` only stores its arguments; ``fit`` and ``partial_fit``
validate them first (:data:`MLP_CONSTRAINTS`, checked by scikit-learn's own
``_validate_params``, which raises ``InvalidParameterError`` naming the parameter and quoting the
value, exactly as scikit-learn's MLPs do). :func:`check_mlp_params` then checks what a
constraint cannot express (the entries of a list, combinations, memory) and normalises.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions

from .._validation import check_choice, check_memory, check_positive_int, format_count, short_repr
from ..optimizers import OPTIMIZERS, Optimizer
from ..schedules import Schedule

#: hidden activations the estimators accept (scikit-learn's four, plus two of nablanet's)
HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu", "sigmoid", "leaky_relu")

#: scikit-learn 1.9's constraints for its MLPs, widened only where nablanet adds a choice:
#: an activation per layer, a Schedule as learning_rate, a Generator as random_state, dropout
#: and optimizer.
MLP_CONSTRAINTS: dict[str, list[Any]] = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), list, tuple],
    "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"}), Schedule],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state", np.random.Generator],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "optimizer": [None, StrOptions(set(OPTIMIZERS)), Optimizer],
}


@dataclass(frozen=True)
class MLPSettings:
    """The checked and normalised hyper-parameters of one ``fit`` call."""

    hidden: tuple[int, ...]
    activations: tuple[str, ...]  # one per hidden layer
    init_factors: tuple[float, ...]  # scikit-learn's Glorot factor per Dense layer
    stochastic: bool
    n_iter_no_change: float


Random = np.random.RandomState | np.random.Generator


def random_state_of(value: Any) -> Random:
    """The random source of one ``fit`` call, as scikit-learn makes it: a new ``RandomState``
    from an int (the same draws as scikit-learn), the instance itself for a ``RandomState``,
    numpy's global one for None; a ``np.random.Generator`` (nablanet's extra) is used as is."""
    if isinstance(value, np.random.Generator):
        return value
    return check_random_state(value)


def generator_from(random: Random) -> np.random.Generator:
    """A Generator for what scikit-learn has no counterpart of (dropout masks): the Generator
    itself, or one seeded by one draw from the RandomState."""
    if isinstance(random, np.random.Generator):
        return random
    return np.random.default_rng(int(random.randint(np.iinfo(np.int32).max)))


def _hidden_sizes(value: Any) -> tuple[int, ...]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (check_positive_int("hidden_layer_sizes", value),)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        raise TypeError(
            f"hidden_layer_sizes must be an int or a sequence of ints, got {short_repr(value)}"
        )
    if any(isinstance(size, bool) or not isinstance(size, numbers.Integral) for size in value):
        raise ValueError(f"hidden_layer_sizes must hold ints, got {short_repr(value)}")
    sizes = [int(size) for size in value]
    if any(size <= 0 for size in sizes):
        raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")  # scikit-learn's
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
        f"hidden_layer_sizes={short_repr(value)}",
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
            f"got {short_repr(value)}"
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
    """The checks :data:`MLP_CONSTRAINTS` cannot express; return the normalised settings."""
    hidden = _hidden_sizes(est.hidden_layer_sizes)
    check_hidden_memory(hidden, est.hidden_layer_sizes)
    activations = _activations(est.activation, len(hidden))
    if est.solver == "lbfgs":
        if est.optimizer is not None:
            raise ValueError(
                f"optimizer={short_repr(est.optimizer)} needs a stochastic solver, got solver='lbfgs'"
            )
        if est.dropout:
            raise ValueError(
                f"dropout={est.dropout} makes the loss random, which L-BFGS cannot minimise; "
                "use solver='adam' or 'sgd' with dropout"
            )
    return MLPSettings(
        hidden=hidden,
        activations=activations,
        init_factors=_init_factors(est.activation, activations),
        stochastic=est.solver != "lbfgs",
        n_iter_no_change=float(est.n_iter_no_change),
    )
