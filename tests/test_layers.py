"""Tests for nablanet.layers (src/nablanet/layers/): Dense, the activations and Dropout."""

# The gradient checks run in float64. A layer's scalar objective is ``f = sum(forward(x) * R)`` for
# a fixed random ``R``, so that ``dL/dy = R`` and ``backward(R)`` must equal the central
# differences of ``f`` with respect to the input and to every parameter.

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nablanet as nn
from _helpers import TOL, Y_BINARY, H, X, fd_settings, max_rel_error, seeds, small
from nablanet import Dropout, Sequential
from nablanet.functional import sigmoid
from nablanet.gradcheck import numerical_gradient


def check_layer(layer: nn.Layer, x: np.ndarray, R: np.ndarray, training: bool = False) -> None:
    """Assert that backward(R) (then Dense's penalty_gradient) matches central differences of
    sum(forward(x) * R) + penalty."""

    def objective() -> float:
        value = float(np.sum(layer.forward(x, training) * R))
        if isinstance(layer, nn.Dense):
            value += layer.penalty()
        return value

    objective()
    dx = layer.backward(R.copy())
    if isinstance(layer, nn.Dense):
        layer.penalty_gradient()
    grads = {k: g.copy() for k, g in layer.grads.items()}
    assert max_rel_error(dx, numerical_gradient(objective, x, H)) < TOL
    for name, param in layer.params.items():
        assert max_rel_error(grads[name], numerical_gradient(objective, param, H)) < TOL, name


def built(layer: nn.Layer, n_in: int, seed: int) -> nn.Layer:
    layer.build(n_in, np.random.default_rng(seed), np.float64)
    return layer


# -- Dense -----------------------------------------------------------------------------------------
@fd_settings
@given(n=small, n_in=small, n_out=small, seed=seeds, l2=st.sampled_from([0.0, 0.3]))
def test_dense_gradients(n, n_in, n_out, seed, l2):
    rng = np.random.default_rng(seed)
    layer = built(nn.Dense(n_out, l2=l2, bias_initializer="glorot_uniform"), n_in, seed)
    assert layer.params["W"].dtype == np.float64
    x = rng.normal(size=(n, n_in))
    R = rng.normal(size=(n, n_out))
    check_layer(layer, x, R)


def test_dense_l2_adds_lambda_w_to_the_weight_gradient_only():
    # backward gives the data term alone; penalty_gradient adds (l2 + extra) W to dW, not to db
    rng = np.random.default_rng(1)
    plain = built(nn.Dense(3), 2, 0)
    decayed = built(nn.Dense(3, l2=0.5), 2, 0)
    x, R = rng.normal(size=(4, 2)), rng.normal(size=(4, 3))
    for layer in (plain, decayed):
        layer.forward(x)
        layer.backward(R)
    np.testing.assert_array_equal(decayed.grads["W"], plain.grads["W"])
    data_term = plain.grads["W"].copy()
    decayed.penalty_gradient()
    np.testing.assert_allclose(decayed.grads["W"] - data_term, 0.5 * plain.params["W"], rtol=1e-12)
    np.testing.assert_array_equal(decayed.grads["b"], plain.grads["b"])
    decayed.penalty_gradient(extra=0.25)  # the caller's coefficient adds to the layer's own
    np.testing.assert_allclose(decayed.grads["W"] - data_term, 1.25 * plain.params["W"], rtol=1e-12)
    assert decayed.penalty(0.25) == pytest.approx(
        0.75 / 2 * np.sum(plain.params["W"] ** 2), rel=1e-12
    )


# -- activations -----------------------------------------------------------------------------------
def _away_from_zero(x: np.ndarray) -> np.ndarray:
    """Push entries with |x| < 0.1 out to +-0.1: finite differences must not cross the kink."""
    return np.where(np.abs(x) < 0.1, np.where(x < 0, -0.1, 0.1), x)


ACTIVATIONS = {
    "identity": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(alpha=0.2),
    "softmax": nn.Softmax,
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@fd_settings
@given(n=small, width=small, seed=seeds)
def test_activation_gradients(name, n, width, seed):
    rng = np.random.default_rng(seed)
    layer = built(ACTIVATIONS[name](), width, seed)
    # |x| <= 3 keeps sigmoid/tanh off their flat tails, where the gradient itself is ~0
    x = np.clip(2.0 * rng.normal(size=(n, width)), -3, 3)
    if name in ("relu", "leaky_relu"):
        x = _away_from_zero(x)
        assert np.all(np.abs(x) > 1e-3)
    R = rng.normal(size=(n, width))
    check_layer(layer, x, R)


def test_backward_does_not_modify_the_upstream_gradient():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4))
    for make in [*ACTIVATIONS.values(), lambda: nn.Dense(2), lambda: nn.Dropout(0.5)]:
        layer = built(make(), 4, 0)
        out = layer.forward(x, True)
        dy = rng.normal(size=out.shape)
        before = dy.copy()
        layer.backward(dy)
        np.testing.assert_array_equal(dy, before)


def test_set_output_gives_backward_what_forward_would():
    # the compiled path (nablanet._fast.network) computes a = f(z) for the activations it fuses
    # and hands it over with set_output; backward must then run as after forward. Both sides do
    # the same float64 operations on the same arrays, so they agree exactly.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4))
    dy = rng.normal(size=(3, 4))
    for make in (nn.Identity, nn.ReLU, nn.Sigmoid, nn.Tanh, nn.layers.activations.Exp):
        after_forward = built(make(), 4, 0)
        a = after_forward.forward(x)
        handed = built(make(), 4, 0)
        handed.set_output(a.copy())
        np.testing.assert_array_equal(
            handed.backward(dy), after_forward.backward(dy), err_msg=make.__name__
        )


def test_sigmoid_is_exact_and_silent_at_plus_minus_1000():
    z = np.array([[-1000.0, -40.0, 0.0, 40.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in (np.float32, np.float64):
            a = sigmoid(z.astype(dtype))
            assert a.dtype == dtype
            assert a[0, 0] == 0.0 and a[0, 4] == 1.0 and a[0, 2] == 0.5
            layer = built(nn.Sigmoid(), 5, 0)
            out = layer.forward(z.astype(dtype))
            grad = layer.backward(np.ones_like(out))
            assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))
            assert grad[0, 0] == 0.0 and grad[0, 4] == 0.0 and grad[0, 2] == 0.25


def test_step_activation_in_a_backprop_network_says_why_and_points_to_perceptron():
    for build in (
        lambda: nn.Sequential.from_sizes([2, 2, 1], "step"),
        lambda: nn.get_activation("step"),
    ):
        with pytest.raises(ValueError, match=r"derivative is zero almost everywhere") as info:
            build()
        assert "Perceptron" in str(info.value)


# -- Dropout ---------------------------------------------------------------------------------------
@fd_settings
@given(n=small, width=small, seed=seeds, rate=st.sampled_from([0.2, 0.5, 0.8]))
def test_dropout_gradient_with_its_mask_fixed(n, width, seed, rate):
    rng = np.random.default_rng(seed)
    layer = built(nn.Dropout(rate), width, seed)
    x = rng.normal(size=(n, width))
    R = rng.normal(size=(n, width))

    def objective() -> float:
        layer.rng = np.random.default_rng(seed + 1)  # same draws -> the same mask every call
        return float(np.sum(layer.forward(x, training=True) * R))

    objective()
    mask = layer._mask.copy()
    keep = 1.0 - rate
    # the scaled mask holds 0 (dropped) or 1 / (1 - rate) (kept)
    assert np.all((mask == 0.0) | np.isclose(mask, 1.0 / keep))
    dx = layer.backward(R)
    np.testing.assert_allclose(dx, R * mask, rtol=1e-15)
    assert max_rel_error(dx, numerical_gradient(objective, x, H)) < TOL
    np.testing.assert_array_equal(layer._mask, mask)  # the objective really reused the mask
    # inference: identity, gradient passes through unchanged
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    np.testing.assert_array_equal(layer.backward(R), R)


def test_dropout_keeps_about_one_minus_rate_and_the_mean():
    layer = built(nn.Dropout(0.25), 200, 0)
    x = np.ones((100, 200))
    y = layer.forward(x, training=True)
    kept = np.mean(y != 0)
    assert 0.72 < kept < 0.78
    assert abs(y.mean() - 1.0) < 0.03


def test_dropout_is_active_only_in_training():
    model = Sequential.from_sizes([3, 16, 1], "relu", "sigmoid", dropout=0.5, loss="bce", seed=0)
    model.fit(X, Y_BINARY, epochs=2)
    np.testing.assert_array_equal(model.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(model.forward(X.astype(np.float32)), model.predict_proba(X))
    # training-mode forward reuses the layers' work buffers: keep a copy of the first result
    train_a = model.forward(X.astype(np.float32), training=True).copy()
    train_b = model.forward(X.astype(np.float32), training=True)
    assert not np.array_equal(train_a, train_b)
    hidden = np.ones((4, 1000), dtype=np.float32)
    dropout = model.layers[2]
    assert isinstance(dropout, Dropout)
    np.testing.assert_array_equal(dropout.forward(hidden, training=False), hidden)
    dropped = dropout.forward(hidden, training=True)
    assert set(np.unique(dropped).tolist()) == {0.0, 2.0}  # kept units scaled by 1 / (1 - 0.5)
    assert 0.4 < np.mean(dropped == 0) < 0.6


# -- size bounds: a layer refuses sizes the machine cannot hold, before allocating ------------
def test_dense_refuses_a_layer_larger_than_the_available_memory():
    layer = nn.Dense(10**12)
    with pytest.raises(ValueError, match=r"Dense\(1000000000000\) on 3 inputs") as info:
        layer.build(3, np.random.default_rng(0))
    assert "available" in str(info.value) and "TiB" in str(info.value)
    assert not layer.built and not layer.params


def test_dense_refuses_above_a_small_limit_and_builds_below_it(monkeypatch):
    import nablanet._validation as validation

    # Dense(10) on 4 inputs: 50 float32 parameters, 400 bytes with their gradients
    monkeypatch.setattr(validation, "available_memory", lambda: 399)
    with pytest.raises(ValueError, match=r"needs about 400 bytes .* has 399 bytes available"):
        nn.Dense(10).build(4, np.random.default_rng(0))
    monkeypatch.setattr(validation, "available_memory", lambda: 400)
    assert nn.Dense(10).build(4, np.random.default_rng(0)) == 10


def test_exp_activation_gradient_and_poisson_training_path():
    rng = np.random.default_rng(0)
    layer = built(nn.layers.get_activation("exp"), 3, 0)
    x, R = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(layer.forward(x), np.exp(x))
    check_layer(layer, x, R)
    # an Exp output with the Poisson deviance trains through the fused form from log-means
    model = Sequential.from_sizes([2, 1], ["exp"], loss="half_poisson_deviance", seed=0,
                                  dtype="float64")  # fmt: skip
    assert model.training_loss.name == "exp_half_poisson_deviance"
