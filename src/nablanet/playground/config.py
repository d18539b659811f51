"""The playground's request parameters: allowed values declared once, every value checked.

A request that breaks a rule gets :class:`RequestError`, whose message names the parameter
and quotes the value received; the server answers it with HTTP 400 and ``{"error": message}``.
The limits keep one request from exhausting memory or time: a network of at most
``MAX_LAYERS`` hidden layers of at most ``MAX_UNITS`` units, at most ``MAX_STEPS`` training
steps per request.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from .._validation import short_repr
from .data import DATASETS, FEATURES, task_of

REGULARIZATIONS = ("none", "l1", "l2")
LOSSES = ("cross_entropy", "squared_error")
#: Settings the running session takes without a new network (``POST /api/settings``).
LIVE = ("lr", "regularization", "reg_rate", "batch_size")
MAX_REG_RATE = 10.0
MAX_WEIGHT = 100.0  # a weight typed in by hand
ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "identity")
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw")
MAX_LAYERS = 6
MAX_UNITS = 16
MAX_STEPS = 1000
MAX_LR = 10.0
MAX_SEED = 2**32 - 1
MAX_BODY = 4096  # bytes of a request body
GRID = 64  # the decision boundary is sampled on GRID x GRID points
RESPONSE_GRID = 16  # each unit's response map: RESPONSE_GRID x RESPONSE_GRID points
MAX_HISTORY = 2000  # loss-curve points kept (older ones thinned)


class RequestError(ValueError):
    """A bad request parameter; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _int(name: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int in [low, high] (a JSON number or a decimal string from a query)."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RequestError(
            f"{name} must be an integer from {low} to {high}, got {short_repr(value)}"
        )
    return value


def _float(name: str, value: Any, low: float, high: float, *, low_open: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RequestError(f"{name} must be a number, got {short_repr(value)}")
    try:
        number = shown = float(value)
    except OverflowError:  # a JSON integer of hundreds of digits: past any float
        number, shown = math.inf, value
    above = number > low if low_open else number >= low
    if not (math.isfinite(number) and above and number <= high):
        bracket = "(" if low_open else "["
        raise RequestError(f"{name} must be in {bracket}{low}, {high}], got {short_repr(shown)}")
    return number


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise RequestError(f"unknown {name} {short_repr(value)}; expected one of {list(choices)}")
    return value


@dataclass(frozen=True)
class Config:
    """What the learner chose: data set, network and optimizer.

    Attributes
    ----------
    dataset : str
        One of :data:`DATASETS`.
    hidden : tuple of int
        Hidden layer sizes, e.g. ``(4, 4)``; ``()`` is logistic regression.
    activation : str
        The hidden layers' activation, one of :data:`ACTIVATIONS`.
    optimizer : str
        One of :data:`OPTIMIZERS`.
    lr : float
        Learning rate, in (0, 10].
    momentum : float
        SGD's momentum, in [0, 1) (ignored by the other optimizers).
    batch_size : int
        Samples per step (capped at the training set's size when the session starts).
    seed : int
        Seeds the one ``np.random.Generator`` behind the data, the initial weights and the
        batch order.
    features : tuple of str
        The input units, names from :data:`~nablanet.playground.data.FEATURES` (at least one).
    noise : float
        In [0, 0.5]; what it does depends on the data set (:mod:`nablanet.playground.data`).
    ratio : float
        Share of the points in the training set, in [0.1, 0.9].
    regularization : str
        ``"none"``, ``"l1"`` or ``"l2"``: the Dense layers' ``l1`` or ``l2`` coefficient is
        ``reg_rate``.
    reg_rate : float
        In [0, 10].
    loss : str
        For two classes, ``"cross_entropy"`` (a sigmoid output with binary cross-entropy) or
        ``"squared_error"`` (a sigmoid output with the mean squared error on 0/1 targets, as
        seed 001 and TensorFlow Playground); more classes take cross-entropy (softmax), and
        regression the mean squared error, whatever this says.
    """

    dataset: str = "circles"
    hidden: tuple[int, ...] = (4, 4)
    activation: str = "tanh"
    optimizer: str = "adam"
    lr: float = 0.03
    momentum: float = 0.0
    batch_size: int = 16
    seed: int = 0
    features: tuple[str, ...] = ("x1", "x2")
    noise: float = 0.0
    ratio: float = 0.5
    regularization: str = "none"
    reg_rate: float = 0.0
    loss: str = "cross_entropy"

    def to_json(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        out["features"] = list(self.features)
        return out


def parse_config(body: Any) -> Config:
    """Check a ``POST /api/new`` body (a JSON object; missing keys take the defaults).

    Raises
    ------
    RequestError
        Naming the bad key or value.
    """
    if not isinstance(body, dict):
        raise RequestError(f"the request body must be a JSON object, got {short_repr(body)}")
    known = set(Config.__dataclass_fields__)
    unknown = sorted(set(body) - known)
    if unknown:
        raise RequestError(f"unknown parameter {unknown[0]!r}; expected some of {sorted(known)}")
    d = Config()
    hidden = body.get("hidden", list(d.hidden))
    if not isinstance(hidden, list) or len(hidden) > MAX_LAYERS:
        raise RequestError(
            f"hidden must be a list of at most {MAX_LAYERS} layer sizes, got {short_repr(hidden)}"
        )
    features = body.get("features", list(d.features))
    if not isinstance(features, list) or not 1 <= len(features) <= len(FEATURES):
        raise RequestError(
            f"features must be a list of 1 to {len(FEATURES)} feature names, "
            f"got {short_repr(features)}"
        )
    names = tuple(FEATURES)
    chosen = {_choice("feature", f, names) for f in features}
    return Config(
        dataset=_choice("dataset", body.get("dataset", d.dataset), DATASETS),
        hidden=tuple(_int("hidden layer size", h, 1, MAX_UNITS) for h in hidden),
        activation=_choice("activation", body.get("activation", d.activation), ACTIVATIONS),
        optimizer=_choice("optimizer", body.get("optimizer", d.optimizer), OPTIMIZERS),
        momentum=_float("momentum", body.get("momentum", d.momentum), 0.0, 0.999, low_open=False),
        seed=_int("seed", body.get("seed", d.seed), 0, MAX_SEED),
        features=tuple(name for name in names if name in chosen),
        noise=_float("noise", body.get("noise", d.noise), 0.0, 0.5, low_open=False),
        ratio=_float("ratio", body.get("ratio", d.ratio), 0.1, 0.9, low_open=False),
        loss=_choice("loss", body.get("loss", d.loss), LOSSES),
        **_live(body, d),
    )


def _live(body: dict[str, Any], current: Config) -> dict[str, Any]:
    """The :data:`LIVE` settings of ``body`` checked; missing ones from ``current``."""
    return {
        "lr": _float("lr", body.get("lr", current.lr), 0.0, MAX_LR, low_open=True),
        "batch_size": _int("batch_size", body.get("batch_size", current.batch_size), 1, 100_000),
        "regularization": _choice(
            "regularization", body.get("regularization", current.regularization), REGULARIZATIONS
        ),
        "reg_rate": _float(
            "reg_rate", body.get("reg_rate", current.reg_rate), 0.0, MAX_REG_RATE, low_open=False
        ),
    }


def parse_settings(body: Any, current: Config) -> Config:
    """Check a ``POST /api/settings`` body: some of :data:`LIVE`; returns ``current`` with
    them replaced.

    Raises
    ------
    RequestError
        Naming the bad key or value, or a setting that needs a new network.
    """
    if not isinstance(body, dict):
        raise RequestError(f"the request body must be a JSON object, got {short_repr(body)}")
    other = sorted(set(body) - set(LIVE))
    if other:
        raise RequestError(
            f"{other[0]!r} cannot change while training (start a new network); "
            f"live settings are {list(LIVE)}"
        )
    return replace(current, **_live(body, current))


def parse_weight(body: Any) -> tuple[int, int, int, float]:
    """Check a ``POST /api/weight`` body ``{"layer": k, "from": i, "to": j, "value": w}``:
    ``(k, i, j, w)`` (the session checks the indices against the network)."""
    if not isinstance(body, dict) or set(body) != {"layer", "from", "to", "value"}:
        raise RequestError(
            "the body must be a JSON object with exactly the keys layer, from, to and value, "
            f"got {short_repr(body)}"
        )
    big = 10**6
    return (
        _int("layer", body["layer"], 1, big),
        _int("from", body["from"], 0, big),
        _int("to", body["to"], 0, big),
        _float("value", body["value"], -MAX_WEIGHT, MAX_WEIGHT, low_open=False),
    )


def parse_int_param(query: dict[str, list[str]], name: str, low: int, high: int) -> int:
    """The single integer query parameter ``name`` (e.g. ``n`` of ``/api/step?n=10``)."""
    values = query.get(name)
    if values is None:
        raise RequestError(f"missing query parameter {name!r}")
    if len(values) != 1:
        raise RequestError(f"query parameter {name!r} given {len(values)} times")
    return _int(name, values[0], low, high)


def limits() -> dict[str, Any]:
    """The choices and limits, for the page to build its form from."""
    return {
        "datasets": list(DATASETS),
        "activations": list(ACTIVATIONS),
        "optimizers": list(OPTIMIZERS),
        "features": list(FEATURES),
        "regularizations": list(REGULARIZATIONS),
        "losses": list(LOSSES),
        "live": list(LIVE),
        "tasks": {name: task_of(name) for name in DATASETS},
        "max_layers": MAX_LAYERS,
        "max_units": MAX_UNITS,
        "max_steps": MAX_STEPS,
        "max_lr": MAX_LR,
        "defaults": Config().to_json(),
    }
