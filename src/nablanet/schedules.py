r"""Learning-rate schedules: ``schedule(epoch) -> learning rate`` (``epoch`` counts from 0).

An optimizer given a schedule instead of a float asks it for the rate at the start of every
epoch. :class:`nablanet.callbacks.ReduceLROnPlateau`, which needs the validation loss, is a
callback instead.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from ._validation import check_fraction, check_positive_float, check_positive_int


class Schedule:
    """Base class: a function of the epoch number."""

    name: ClassVar[str] = ""

    def __call__(self, epoch: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **vars(self)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    r""":math:`\eta_t = \eta_0`."""

    name = "constant"

    def __init__(self, lr: float) -> None:
        self.lr = check_positive_float("lr", lr)

    def __call__(self, epoch: int) -> float:
        return self.lr


class StepDecay(Schedule):
    r""":math:`\eta_t = \eta_0 \cdot \gamma^{\lfloor t / s \rfloor}`: multiply by ``gamma`` every ``step_size`` epochs."""

    name = "step"

    def __init__(self, lr: float, step_size: int = 10, gamma: float = 0.5) -> None:
        self.lr = check_positive_float("lr", lr)
        self.step_size = check_positive_int("step_size", step_size)
        self.gamma = check_fraction("gamma", gamma, high_open=False)

    def __call__(self, epoch: int) -> float:
        return self.lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    r""":math:`\eta_t = \eta_0 \cdot \gamma^{t}`."""

    name = "exponential"

    def __init__(self, lr: float, gamma: float = 0.95) -> None:
        self.lr = check_positive_float("lr", lr)
        self.gamma = check_fraction("gamma", gamma, high_open=False)

    def __call__(self, epoch: int) -> float:
        return self.lr * self.gamma**epoch


class CosineDecay(Schedule):
    r"""Cosine annealing over ``epochs``:
    :math:`\eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})(1 + \cos(\pi\, t / T))`, constant
    at :math:`\eta_{min}` after ``T`` epochs.
    """

    name = "cosine"

    def __init__(self, lr: float, epochs: int, min_lr: float = 0.0) -> None:
        self.lr = check_positive_float("lr", lr)
        self.epochs = check_positive_int("epochs", epochs)
        self.min_lr = check_positive_float("min_lr", min_lr, allow_zero=True)

    def __call__(self, epoch: int) -> float:
        t = min(epoch, self.epochs) / self.epochs
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1 + math.cos(math.pi * t))


SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, StepDecay, ExponentialDecay, CosineDecay)
}


def schedule_from_config(config: dict[str, Any]) -> Schedule:
    """Rebuild a schedule from :meth:`Schedule.get_config`."""
    config = dict(config)
    name = config.pop("name", None)
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; expected one of {sorted(SCHEDULES)}")
    return SCHEDULES[name](**config)
