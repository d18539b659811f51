"""The engine seam for data-parallel and penalised training (nablanet/_model_engine.py):
``penalty(l2)``, ``penalty_gradients(l2)``, ``loss_and_grads(..., l2=)``, ``loss_and_grad_sums``
and ``set_gradients``."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

import nablanet as nn
from _helpers import max_rel_error
from nablanet import _fast
from nablanet.gradcheck import numerical_gradient

# A float64 replay of the same sums in another order: the chunked sums and the full batch
# differ only by the rounding of reordered additions, ~1e-15 relative.
REPLAY = 1e-12
FAST = [False, pytest.param(True, marks=pytest.mark.skipif(not _fast.AVAILABLE, reason="numba"))]

# name: (sizes, activations, loss, targets)
MODELS = {
    "softmax-ce": ([4, 6, 5, 3], ["tanh", "relu", "softmax"], "categorical_cross_entropy", "class"),
    "bce-multilabel": ([4, 5, 2], ["sigmoid", "sigmoid"], "binary_cross_entropy", "multilabel"),
    "mse": ([4, 5, 2], ["tanh", "identity"], "mse", "regression"),
}


def _problem(name: str, seed: int = 0, n: int = 31):
    """A float64 model with L2 on its layers and dropout (both must stay out of the sums),
    and prepared data of ``n`` rows."""
    sizes, acts, loss, kind = MODELS[name]
    model = nn.Sequential.from_sizes(
        sizes, acts, loss=loss, l2=0.05, dropout=0.3, optimizer="adam", lr=0.01, seed=seed,
        dtype="float64",
    )  # fmt: skip
    rng = np.random.default_rng(seed + 1)
    X = rng.normal(size=(n, sizes[0]))
    if kind == "class":
        y = rng.integers(0, sizes[-1], size=n)
    elif kind == "multilabel":
        y = rng.integers(0, 2, size=(n, sizes[-1])).astype(float)
    else:
        y = rng.normal(size=(n, sizes[-1]))
    Xc, Y = model.prepare(X, y)
    return model, Xc, Y, rng.uniform(0.2, 3.0, size=n)


def _chunked(model: nn.Sequential, X, Y, sw, bounds=(0, 9, 20, 31)):
    """Sum ``loss_and_grad_sums`` over the chunks; return (S, mean loss, mean gradient)."""
    S, L, G = 0.0, 0.0, np.zeros(model.n_params)
    for lo, hi in pairwise(bounds):
        s, sl, sg = model.loss_and_grad_sums(X[lo:hi], Y[lo:hi], None if sw is None else sw[lo:hi])
        S, L, G = S + s, L + sl, G + sg
    return S, L / S, G / S


@pytest.mark.parametrize("fast", FAST)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", list(MODELS))
def test_chunk_sums_give_the_full_batch_mean_loss_and_gradient(name, weighted, fast):
    model, X, Y, w = _problem(name)
    sw = w if weighted else None
    with _fast.use_fast(fast):
        S, loss, grad = _chunked(model, X, Y, sw)
        # the whole objective in one batch, in inference mode; the layers' own l2 and an extra
        full_loss, _ = model.loss_and_grads(X, Y, sw, training=False, l2=0.02)
        full_grad = model.gradients_to_vector()
        model.set_gradients(grad)  # the chunked data term, then the penalty added once
        model.penalty_gradients(0.02)
        chunked_grad = model.gradients_to_vector()
    assert S == pytest.approx(len(X) if sw is None else sw.sum(), rel=REPLAY)
    assert loss + model.penalty(0.02) == pytest.approx(full_loss, rel=REPLAY)
    np.testing.assert_allclose(chunked_grad, full_grad, rtol=REPLAY, atol=REPLAY * 1e-3)
    # the sums are of the data term alone: the penalty is not in them
    assert model.penalty(0.02) > 1e-3 * abs(loss)
    assert not np.allclose(grad, full_grad, rtol=1e-6)


def test_chunk_sums_are_float64_and_a_zero_weight_chunk_adds_nothing():
    model = nn.Sequential.from_sizes([3, 4, 1], "tanh", loss="mse", seed=0)  # float32
    X, Y = model.prepare(np.ones((5, 3)), np.ones(5))
    s, sl, sg = model.loss_and_grad_sums(X, Y)
    assert s == 5.0 and sg.dtype == np.float64 and sg.shape == (model.n_params,)
    assert sl == pytest.approx(5 * model.compute_loss(X, Y), rel=1e-6)  # float32 loss
    s, sl, sg = model.loss_and_grad_sums(X, Y, np.zeros(5))
    assert (s, sl) == (0.0, 0.0)
    np.testing.assert_array_equal(sg, np.zeros(model.n_params))


def test_set_gradients_then_apply_gradients_is_a_train_step():
    # Adam is stateful (moments, step count): the same gradient gives the same step, bit for bit
    name = "softmax-ce"
    stepped, X, Y, _ = _problem(name)
    twin, _, _, _ = _problem(name)
    for model in (stepped, twin):
        for layer in model.layers:
            if isinstance(layer, nn.Dropout):
                layer.rate = 0.0  # the two routes draw no masks
    for _ in range(3):
        stepped.train_step(X, Y)
        twin.loss_and_grads(X, Y)
        gradient = twin.gradients_to_vector()
        twin.set_gradients(np.full_like(gradient, np.nan))  # overwritten, not added to
        twin.set_gradients(gradient)
        twin.apply_gradients()
    np.testing.assert_array_equal(twin.parameters_to_vector(), stepped.parameters_to_vector())


def test_a_step_from_chunk_sums_equals_a_full_batch_step():
    stepped, X, Y, _ = _problem("mse")
    twin, _, _, _ = _problem("mse")
    stepped.loss_and_grads(X, Y, training=False, l2=0.1)
    stepped.apply_gradients()
    _, _, grad = _chunked(twin, X, Y, None)
    twin.set_gradients(grad)
    twin.penalty_gradients(0.1)
    twin.apply_gradients()
    np.testing.assert_allclose(
        twin.parameters_to_vector(), stepped.parameters_to_vector(), rtol=REPLAY
    )


@pytest.mark.parametrize("extra", [0.0, 0.3])
def test_penalty_gradients_match_finite_differences(extra):
    model = nn.Sequential(
        [nn.Dense(4, l2=0.2), nn.Tanh(), nn.Dense(3), nn.ReLU(), nn.Dense(2, l2=0.7)],
        seed=0, dtype="float64",
    )  # fmt: skip
    model.build(3)
    model.set_gradients(np.zeros(model.n_params))
    model.penalty_gradients(extra)
    for layer in model.layers:
        for key, param in layer.params.items():
            # the penalty is quadratic: central differences are exact up to rounding (~1e-10)
            numeric = numerical_gradient(lambda: model.penalty(extra), param, 1e-5)
            if key == "b" or (layer.l2 + extra == 0):
                np.testing.assert_array_equal(layer.grads[key], 0.0)
                np.testing.assert_allclose(numeric, 0.0, atol=1e-9)
            else:
                assert max_rel_error(layer.grads[key], numeric) < 1e-6


def test_penalty_adds_the_callers_coefficient_to_each_layers_own():
    model = nn.Sequential([nn.Dense(4, l2=0.2), nn.Tanh(), nn.Dense(2)], seed=0, dtype="float64")
    model.build(3)
    W1, W2 = (layer.params["W"] for layer in model.layers if isinstance(layer, nn.Dense))
    sq1, sq2 = np.sum(W1**2), np.sum(W2**2)
    assert model.penalty() == pytest.approx(0.2 / 2 * sq1, rel=1e-12)
    assert model.penalty(0.5) == pytest.approx(0.7 / 2 * sq1 + 0.5 / 2 * sq2, rel=1e-12)


def test_bad_gradient_vectors_and_coefficients_raise_and_change_nothing():
    model = nn.Sequential([nn.Dense(4), nn.Tanh(), nn.Dense(1)], loss="mse", seed=0)
    with pytest.raises(ValueError, match="not built"):
        model.set_gradients(np.zeros(21))
    model.build(3)
    n = model.n_params
    before = model.gradients_to_vector()
    with pytest.raises(ValueError, match=rf"expected a vector of {n} gradients, got shape \(22,\)"):
        model.set_gradients(np.zeros(n + 1))
    with pytest.raises(ValueError, match=rf"got shape \(1, {n}\)"):
        model.set_gradients(np.zeros((1, n)))
    with pytest.raises(TypeError, match="real numbers for the gradients, got dtype <U1"):
        model.set_gradients(np.array(["a"] * n))
    with pytest.raises(ValueError, match=rf"expected a vector of {n} parameters, got shape \(3,\)"):
        model.vector_to_parameters(np.zeros(3))
    np.testing.assert_array_equal(model.gradients_to_vector(), before)
    X, Y = model.prepare(np.ones((2, 3)), np.ones(2))
    for bad, error in [(-0.1, ValueError), (float("nan"), ValueError), ("0.1", TypeError)]:
        with pytest.raises(error, match="l2 must be"):
            model.loss_and_grads(X, Y, l2=bad)
        with pytest.raises(error, match="l2 must be"):
            model.penalty(bad)
        with pytest.raises(error, match="l2 must be"):
            model.penalty_gradients(bad)
