"""Tests for nablanet.losses: values by hand, gradients by finite differences, sample weights."""

# A loss is checked directly, in float64: ``backward()`` against the central differences of
# ``forward(y_pred, y_true)`` with respect to ``y_pred``.

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given

import nablanet as nn
from _helpers import TOL, X12, H, fd_settings, max_rel_error, seeds, small
from nablanet import losses
from nablanet.functional import sigmoid, softmax
from nablanet.gradcheck import numerical_gradient


def _targets(kind: str, rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(y_pred, y_true) in the domain each loss expects."""
    if kind == "regression":
        return rng.normal(size=(n, k)), rng.normal(size=(n, k))
    if kind == "probabilities":  # BCE: a in (0, 1), soft targets in [0, 1]
        return rng.uniform(0.05, 0.95, size=(n, k)), rng.uniform(0, 1, size=(n, k))
    if kind == "rows":  # CE: probabilities away from the clipping at 0 and 1, target rows sum to 1
        return rng.uniform(0.05, 0.95, size=(n, k)), softmax(2 * rng.normal(size=(n, k)))
    if kind == "logits_binary":
        return 3 * rng.normal(size=(n, k)), rng.uniform(0, 1, size=(n, k))
    if kind == "logits_rows":
        return 3 * rng.normal(size=(n, k)), softmax(2 * rng.normal(size=(n, k)))
    if kind == "means":  # Poisson: positive means, counts (zeros included) as targets
        return rng.uniform(0.5, 3.0, size=(n, k)), rng.poisson(1.5, size=(n, k)).astype(float)
    if kind == "log_means":
        return rng.normal(size=(n, k)), rng.poisson(1.5, size=(n, k)).astype(float)
    raise AssertionError(kind)


LOSS_DOMAINS = {
    "mse": "regression",
    "sum_squared_error": "regression",
    "half_squared_error": "regression",
    "binary_cross_entropy": "probabilities",
    "categorical_cross_entropy": "rows",
    "sigmoid_binary_cross_entropy": "logits_binary",
    "softmax_cross_entropy": "logits_rows",
    "half_poisson_deviance": "means",
    "exp_half_poisson_deviance": "log_means",
    # nablanet.tutorial's, registered by name so that their models load
    "seed000_cross_entropy": "probabilities",
    "summed_half_squared_error": "regression",
}
#: The tutorial's losses refuse sample weights (the seeds never weight samples).
UNWEIGHTED = {"seed000_cross_entropy", "summed_half_squared_error"}


def test_every_loss_is_covered():
    assert set(LOSS_DOMAINS) == set(losses.LOSSES)


@pytest.mark.parametrize("name", list(LOSS_DOMAINS))
@fd_settings
@given(n=small, k=small, seed=seeds)
def test_loss_gradients(name, n, k, seed):
    rng = np.random.default_rng(seed)
    loss = nn.get_loss(name)
    y_pred, y_true = _targets(LOSS_DOMAINS[name], rng, n, k)
    value = loss.forward(y_pred, y_true)
    assert np.isfinite(value)
    grad = loss.backward().copy()
    assert grad.shape == y_pred.shape
    numeric = numerical_gradient(lambda: loss.forward(y_pred, y_true), y_pred, H)
    assert max_rel_error(grad, numeric) < TOL


def test_loss_values_by_hand():
    a = np.array([[0.5, 1.0], [2.0, -1.0]])
    y = np.array([[1.0, 1.0], [0.0, 0.0]])
    # squared errors: 0.25, 0, 4, 1 -> total 5.25 over n=2 samples, k=2 outputs
    assert nn.get_loss("mse")(a, y) == pytest.approx(5.25 / 4)
    assert nn.get_loss("sum_squared_error")(a, y) == pytest.approx(5.25 / 2)
    assert nn.get_loss("half_squared_error")(a, y) == pytest.approx(0.5 * 5.25 / 2)
    p = np.array([[0.8], [0.3]])
    t = np.array([[1.0], [0.0]])
    assert nn.get_loss("bce")(p, t) == pytest.approx(-(np.log(0.8) + np.log(0.7)) / 2)
    q = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    c = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert nn.get_loss("ce")(q, c) == pytest.approx(-(np.log(0.7) + np.log(0.8)) / 2)


@pytest.mark.parametrize(
    ("fused", "plain", "activation", "domain"),
    [
        ("sigmoid_binary_cross_entropy", "binary_cross_entropy", sigmoid, "logits_binary"),
        ("softmax_cross_entropy", "categorical_cross_entropy", softmax, "logits_rows"),
    ],
)
def test_fused_loss_equals_activation_then_loss(fused, plain, activation, domain):
    rng = np.random.default_rng(3)
    z, y = _targets(domain, rng, 6, 3)
    assert nn.get_loss(fused)(z, y) == pytest.approx(nn.get_loss(plain)(activation(z), y))


def test_fused_losses_are_finite_for_huge_logits():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bce = nn.get_loss("sigmoid_binary_cross_entropy")
        z = np.array([[1e4], [1e4], [-1e4], [-1e4]])
        y = np.array([[1.0], [0.0], [1.0], [0.0]])
        # per sample softplus(z) - y z: 0, 1e4, 1e4, 0 -> mean 5000
        assert bce(z, y) == pytest.approx(5000.0)
        # (sigmoid(z) - y) / 4: 0, 1/4, -1/4, 0
        np.testing.assert_allclose(bce.backward(), [[0.0], [0.25], [-0.25], [0.0]])
        ce = nn.get_loss("softmax_cross_entropy")
        z = np.array([[1e4, -1e4], [1e4, -1e4]])
        y = np.array([[1.0, 0.0], [0.0, 1.0]])
        # sample 1: log-prob of the right class 0; sample 2: -2e4 -> mean 1e4
        assert ce(z, y) == pytest.approx(1e4)
        np.testing.assert_allclose(ce.backward(), [[0.0, 0.0], [0.5, -0.5]])


def test_a_backward_called_twice_gives_the_same_gradient():
    # the fused softmax cross-entropy used to turn its cached p into (p - y) / n in place
    for name in sorted(losses.LOSSES):
        loss = losses.get_loss(name)
        p = np.full((4, 3), 0.2) + np.eye(4, 3) * 0.4
        y = np.eye(4, 3)
        loss.forward(p, y)
        first = loss.backward().copy()
        np.testing.assert_array_equal(loss.backward(), first, err_msg=name)
    for layer in [nn.Dense(3), nn.Sigmoid(), nn.Tanh(), nn.ReLU(), nn.LeakyReLU(), nn.Softmax()]:
        layer.build(3, np.random.default_rng(0), np.float64)
        layer.forward(X12[:4], training=True)
        first = layer.backward(X12[:4] * 0.5).copy()
        np.testing.assert_array_equal(layer.backward(X12[:4] * 0.5), first, err_msg=repr(layer))


# -- sample weights and settings -------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(set(losses.LOSSES) - UNWEIGHTED))
def test_integer_sample_weights_equal_repeated_rows(name):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(4, 3))
    p = nn.functional.softmax(logits)
    y = np.eye(3)[[0, 2, 1, 2]]
    pred = logits if losses.get_loss(name).from_logits or "squared" in name or name == "mse" else p
    counts = np.array([1, 3, 0, 2])
    weighted, repeated = losses.get_loss(name), losses.get_loss(name)
    value = weighted.forward(pred, y, counts)
    reference = repeated.forward(np.repeat(pred, counts, axis=0), np.repeat(y, counts, axis=0))
    assert value == pytest.approx(reference, rel=1e-12)
    # the gradient of row i is the sum of its copies' gradients
    grad = repeated.backward()
    summed = np.add.reduceat(grad, np.r_[0, np.cumsum(counts)[:-1]], axis=0)
    summed[counts == 0] = 0.0
    np.testing.assert_allclose(weighted.backward(), summed, rtol=1e-12, atol=1e-15)


def test_equal_weights_change_nothing_and_zero_weights_contribute_nothing():
    loss = losses.get_loss("mse")
    y = np.zeros((3, 2))
    pred = np.arange(6.0).reshape(3, 2)
    assert loss.forward(pred, y, np.full(3, 7.0)) == pytest.approx(loss.forward(pred, y))
    assert loss.forward(pred, y, np.zeros(3)) == 0.0
    assert not loss.backward().any()


@pytest.mark.parametrize("name", ["binary_cross_entropy", "sigmoid_binary_cross_entropy"])
def test_outputs_sum_is_k_times_the_mean(name):
    z = np.random.default_rng(2).normal(size=(5, 4))
    pred = z if name.startswith("sigmoid") else nn.functional.sigmoid(z)
    y = (z > 0.3).astype(float)
    mean, total = losses.get_loss(name), losses.get_loss({"name": name, "outputs": "sum"})
    assert total.get_config() == {"name": name, "outputs": "sum"}
    assert total.forward(pred, y) == pytest.approx(4 * mean.forward(pred, y), rel=1e-12)
    np.testing.assert_allclose(total.backward(), 4 * mean.backward(), rtol=1e-12)
    with pytest.raises(ValueError, match="unknown outputs 'max'"):
        losses.get_loss({"name": name, "outputs": "max"})
    with pytest.raises(ValueError, match="takes no settings"):
        losses.get_loss({"name": "mse", "outputs": "sum"})


def test_a_loss_with_settings_survives_the_model_config():
    model = nn.Sequential.from_sizes(
        [3, 4, 2], "tanh", "sigmoid", loss=losses.BinaryCrossEntropy(outputs="sum"), seed=0
    )
    twin = nn.Sequential.from_config(model.get_config())
    assert twin.loss.get_config() == {"name": "binary_cross_entropy", "outputs": "sum"}
    assert twin.training_loss.get_config()["outputs"] == "sum"  # the fused form keeps it


def test_half_poisson_deviance_by_hand_and_fused_with_exp():
    # y = 2, mu = 1: 2 log 2 - 2 + 1 = 0.3862944; y = 0, mu = 3: 0 - 0 + 3 = 3 -> mean 1.6931472
    mu, y = np.array([[1.0], [3.0]]), np.array([[2.0], [0.0]])
    loss = nn.get_loss("half_poisson_deviance")
    assert loss(mu, y) == pytest.approx((2 * np.log(2) - 1 + 3) / 2)
    np.testing.assert_allclose(loss.backward(), [[(1 - 2) / 2], [(1 - 0) / 2]])
    assert loss(y + (y == 0), y + (y == 0)) == 0.0  # zero for a perfect fit
    assert isinstance(loss.fused_with("Exp"), losses.ExpHalfPoissonDeviance)
    z = np.log(mu)
    fused = nn.get_loss("exp_half_poisson_deviance")
    assert fused(z, y) == pytest.approx(loss(mu, y))
    np.testing.assert_allclose(fused.backward(), (mu - y) / 2)  # (e^z - y) / n
