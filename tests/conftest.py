"""Shared pytest fixtures; plain helpers shared by several files live in _helpers.py."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator for each test."""
    return np.random.default_rng(0)


@pytest.fixture
def regression_data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """40 samples, 3 features, a smooth 1-D target: y = x0 - 2 x1 + 0.5 x2 + 0.1 + noise."""
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 + 0.01 * rng.normal(size=40)
    return X, y
