"""Inverted dropout."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_fraction
from .base import Array, Layer, register


@register
class Dropout(Layer):
    r"""Zero each input with probability ``rate`` during training, scaling the rest by
    :math:`1 / (1 - \text{rate})` so the expected activation is unchanged; identity at inference.

    The mask comes from the model's ``np.random.Generator`` (set at build time), so a seeded model
    drops the same units on every run.

    Parameters
    ----------
    rate : float in [0, 1)
        Fraction of inputs to drop.
    """

    _transient = ("_mask",)

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = check_fraction("rate", rate, low_open=False)
        self._mask: Array | None = None
        self.rng: np.random.Generator | None = None

    def build(self, input_dim: int, rng: np.random.Generator, dtype: Any = np.float32) -> int:
        self.rng = rng
        return super().build(input_dim, rng, dtype)

    def forward(self, x: Array, training: bool = False) -> Array:
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        if self.rng is None:
            raise RuntimeError("Dropout used before build")
        keep = 1.0 - self.rate
        kept = self.rng.random(x.shape, dtype=np.float32) < keep  # each unit kept with p = keep
        # the scaled mask m: 1 / (1 - rate) where kept, 0 where dropped
        self._mask = kept * x.dtype.type(1.0 / keep)
        return x * self._mask

    def backward(self, dy: Array) -> Array:
        r""":math:`dL/dx = dL/dy \odot m`, with :math:`m` the scaled mask of the forward pass."""
        if self._mask is None:
            return dy
        return dy * self._mask

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate}
