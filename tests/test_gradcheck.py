"""Tests for nablanet.gradcheck: the whole-model gradient check notices a wrong backward pass."""

# Its use on every kind of model is in test_model_engine.py (test_model_gradcheck).

from __future__ import annotations

import numpy as np

import nablanet as nn
from _helpers import TOL, task_data


def test_gradcheck_catches_a_wrong_gradient():
    """The check itself can fail: break Tanh's derivative and it must notice."""

    class BadTanh(nn.Tanh):
        def backward(self, dy):
            return dy * (1.0 - self._cached())  # wrong: should be 1 - a^2

    rng = np.random.default_rng(4)
    X, y = task_data(rng, "regression")
    model = nn.Sequential([nn.Dense(4), BadTanh(), nn.Dense(2)], seed=0, dtype="float64")
    model.build(3)
    # gradcheck rebuilds the model from its config: register the faulty class under its name
    nn.Layer.registry["BadTanh"] = BadTanh
    try:
        report = nn.gradcheck(model, X, y, max_checks=None)
    finally:
        del nn.Layer.registry["BadTanh"]
    assert not report.passed(TOL)
    assert report.layer_errors["0: Dense"] > 1e-3
