"""Tests for nablanet.gradcheck: the whole-model gradient check notices a wrong backward pass."""

# Its use on every kind of model is in test_model_engine.py (test_model_gradcheck).

from __future__ import annotations

import numpy as np
import pytest

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


def test_gradcheck_refuses_more_samples_than_memory_allows(monkeypatch):
    """The samples' data and activations are counted before gradcheck allocates them."""
    import nablanet._validation as validation
    from nablanet.gradcheck import gradcheck_memory

    model = nn.Sequential.from_sizes([3, 4, 2], "tanh", seed=0)
    monkeypatch.setattr(validation, "available_memory", lambda: gradcheck_memory(model, 100))
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 3)), rng.normal(size=(200, 2))
    with pytest.raises(ValueError, match=r"gradcheck with len\(X\)=200 needs about .* avail"):
        nn.gradcheck(model, X, y)
    assert nn.gradcheck(model, X[:100], y[:100]).passed(TOL)


def test_gradcheck_memory_counts_absurd_sample_counts_exactly():
    from nablanet.gradcheck import check_gradcheck_memory, gradcheck_memory

    model = nn.Sequential.from_sizes([3, 4, 2], "tanh", seed=0)
    # per sample, float64: inputs and targets twice, every layer's output twice
    assert gradcheck_memory(model, 10**30) - gradcheck_memory(model, 0) == 8 * 10**30 * (
        2 * 3 + 2 * 2 + 2 * (4 + 4 + 2 + 2)
    )
    with pytest.raises(ValueError, match=r"--samples=100000000000000000000 needs about"):
        check_gradcheck_memory(model, 10**20, "--samples")


@pytest.mark.parametrize("model", [object(), None, "model.nbnet"])
def test_gradcheck_refuses_anything_but_a_sequential_by_name(model):
    with pytest.raises(TypeError, match="model must be a nablanet Sequential, got"):
        nn.gradcheck(model, [[1.0, 2.0]], [0])
