"""The playground's request parameters: allowed values declared once, every value checked.

A request that breaks a rule gets :class:`RequestError`, whose message names the parameter
and quotes the value received; the server answers it with HTTP 400 and ``{"error": message}``.
The limits keep one request from exhausting memory or time: a network of at most
``MAX_LAYERS`` hidden layers of at most ``MAX_UNITS`` units, at most ``MAX_STEPS`` training
steps per request.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from .._validation import short_repr

#: The 2-D data sets of :mod:`nablanet.datasets` (the plane can be drawn).
DATASETS = ("xor", "circles", "moons", "blobs", "spirals")
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
    """

    dataset: str = "circles"
    hidden: tuple[int, ...] = (4, 4)
    activation: str = "tanh"
    optimizer: str = "adam"
    lr: float = 0.03
    momentum: float = 0.0
    batch_size: int = 16
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        out = asdict(self)
        out["hidden"] = list(self.hidden)
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
    return Config(
        dataset=_choice("dataset", body.get("dataset", d.dataset), DATASETS),
        hidden=tuple(_int("hidden layer size", h, 1, MAX_UNITS) for h in hidden),
        activation=_choice("activation", body.get("activation", d.activation), ACTIVATIONS),
        optimizer=_choice("optimizer", body.get("optimizer", d.optimizer), OPTIMIZERS),
        lr=_float("lr", body.get("lr", d.lr), 0.0, MAX_LR, low_open=True),
        momentum=_float("momentum", body.get("momentum", d.momentum), 0.0, 0.999, low_open=False),
        batch_size=_int("batch_size", body.get("batch_size", d.batch_size), 1, 100_000),
        seed=_int("seed", body.get("seed", d.seed), 0, MAX_SEED),
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
        "max_layers": MAX_LAYERS,
        "max_units": MAX_UNITS,
        "max_steps": MAX_STEPS,
        "max_lr": MAX_LR,
        "defaults": Config().to_json(),
    }
