"""Tests for nablanet.initializers: each scheme's distribution, reproducible, in either dtype."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nablanet import initializers


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("small_normal", lambda w: abs(w.mean()) < 0.005 and abs(w.std() - 0.1) < 0.005),
        ("uniform01", lambda w: w.min() >= 0 and w.max() < 1 and abs(w.mean() - 0.5) < 0.01),
        ("glorot_uniform", lambda w: np.abs(w).max() <= math.sqrt(6 / 500) * (1 + 1e-6)
                                     and np.abs(w).max() > 0.99 * math.sqrt(6 / 500)),
        ("glorot_normal", lambda w: abs(w.std() - math.sqrt(2 / 500)) < 0.003),
        ("he_uniform", lambda w: np.abs(w).max() <= math.sqrt(6 / 200) * (1 + 1e-6)
                                 and np.abs(w).max() > 0.99 * math.sqrt(6 / 200)),
        ("he_normal", lambda w: abs(w.std() - math.sqrt(2 / 200)) < 0.003),
        ("zeros", lambda w: not w.any()),
    ],
)  # fmt: skip
def test_initializer_distributions(name, check):
    # the schemes' formulas with fan_in = 200, fan_out = 300 (60,000 draws)
    init = initializers.get_initializer(name)
    w = init((200, 300), np.random.default_rng(0), np.float64)
    assert w.shape == (200, 300)
    assert check(w)
    again = init((200, 300), np.random.default_rng(0), np.float32)
    assert again.dtype == np.float32
    np.testing.assert_allclose(again, w, rtol=1e-6, atol=1e-7)
