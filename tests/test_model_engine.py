"""Tests for Sequential's engine in nablanet.model: the seam, steps by hand, gradient checks."""

# The seam is what the training loop, gradcheck, explain and the estimators call: prepare,
# forward, backward, compute_loss, loss_and_grads, apply_gradients and the parameter vectors.
# The hand-worked steps take their expected numbers from seed 001's scalar equations, written out
# neuron by neuron in plain Python (``math.exp``, no NumPy, no nablanet), as scikit-learn's MLP
# tests do, and the model must land on exactly those weights.

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest

import nablanet as nn
from _helpers import TOL, X12, Y12_CLASS, Y12_REG, classifier, task_data
from nablanet import Sequential, losses
from nablanet.gradcheck import numerical_gradient


# -- the seam --------------------------------------------------------------------------------------
def test_loss_and_grads_is_the_gradient_of_compute_loss_with_sample_weights():
    model = nn.Sequential.from_sizes([3, 4, 2], "tanh", loss="mse", l2=0.1, seed=0,
                                     dtype="float64")  # fmt: skip
    Xc, Y = model.prepare(X12, Y12_REG)
    w = np.linspace(0.5, 2.0, len(X12))
    loss, out = model.loss_and_grads(Xc, Y, w, training=False)
    assert loss == pytest.approx(model.compute_loss(Xc, Y, w), rel=1e-12)
    assert out.shape == (12, 2)
    for layer in model.layers:
        for key, param in layer.params.items():
            analytic = layer.grads[key].copy()
            numeric = numerical_gradient(lambda: model.compute_loss(Xc, Y, w), param)
            np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_train_step_is_loss_and_grads_then_one_sgd_step():
    a, b = classifier(), classifier()
    Xc, Y = a.prepare(X12, Y12_CLASS)
    b.prepare(X12, Y12_CLASS)
    loss_a, _ = a.train_step(Xc, Y)
    loss_b, _ = b.loss_and_grads(Xc, Y)
    expected = b.parameters_to_vector() - 0.1 * b.gradients_to_vector()  # p <- p - lr g
    b.apply_gradients()
    assert loss_a == loss_b
    np.testing.assert_allclose(a.parameters_to_vector(), expected, rtol=1e-12)
    np.testing.assert_allclose(b.parameters_to_vector(), expected, rtol=1e-12)


def test_forward_to_the_loss_input_gives_the_logits_of_a_fused_output():
    model = classifier()
    Xc, _ = model.prepare(X12, Y12_CLASS)
    logits = model.forward(Xc, loss_input=True)
    assert isinstance(model.training_loss, losses.SoftmaxCrossEntropy)
    np.testing.assert_allclose(nn.functional.softmax(logits), model.forward(Xc), rtol=1e-12)
    # start=k continues from layer k's input: layers 0-1 by hand, then the rest
    hidden = model.layers[1].forward(model.layers[0].forward(Xc))
    np.testing.assert_allclose(model.forward(hidden, start=2), model.forward(Xc), rtol=1e-12)


def test_backward_trace_and_gradients_vector():
    model = classifier()
    Xc, Y = model.prepare(X12, Y12_CLASS)
    model.loss_and_grads(Xc, Y)
    flat = np.concatenate([g.ravel() for layer in model.layers for g in layer.grads.values()])
    np.testing.assert_array_equal(model.gradients_to_vector(), flat)
    out, trace = [], []
    model.forward(Xc, trace=out)
    model.backward(np.ones_like(out[-1]), trace=trace)
    assert [o.shape for o in out] == [(12, 5), (12, 5), (12, 3), (12, 3)]
    # last layer first; the first Dense layer skips dL/dX (nobody needs the data's gradient)
    assert [g.shape for g in trace] == [(12, 3), (12, 5), (12, 5), (12, 0)]


def test_parameters_vector_round_trip_and_bad_length():
    model = classifier()
    model.build(3)
    v = model.parameters_to_vector()
    assert v.shape == (model.n_params,)
    model.vector_to_parameters(np.zeros_like(v))
    assert not model.layers[0].params["W"].any()
    model.vector_to_parameters(v)
    np.testing.assert_array_equal(model.parameters_to_vector(), v)
    with pytest.raises(
        ValueError, match=rf"expected a vector of {v.size} parameters, got shape \(3,\)"
    ):
        model.vector_to_parameters(np.zeros(3))


# -- one training step by hand (seed 001) ----------------------------------------------------------
def sig(z: float) -> float:
    """Seed 001's equation (1): sigma(z) = 1 / (1 + e^-z)."""
    return 1.0 / (1.0 + math.exp(-z))


# A 2-2-1 network, every unit a sigmoid. W[i][j] connects input i to unit j (our W is (n_in, n_out)).
X1, X2 = 0.05, 0.10
W11, W12 = 0.15, 0.25  # from input 1 to hidden units 1 and 2
W21, W22 = 0.20, 0.30  # from input 2 to hidden units 1 and 2
B11, B12 = 0.35, 0.35  # hidden biases
V1, V2 = 0.40, 0.45  # hidden units 1, 2 -> output
B2 = 0.60  # output bias
TARGET = 0.01
LR = 0.5


def model_2_2_1() -> nn.Sequential:
    return nn.Sequential.from_sizes(
        [2, 2, 1],
        activation="sigmoid",
        output="sigmoid",
        loss="half_squared_error",
        optimizer="sgd",
        lr=LR,
        dtype="float64",
        weights=[([[W11, W12], [W21, W22]], [B11, B12]), ([[V1], [V2]], [B2])],
    )


def hand_gradients(x1: float, x2: float, y: float) -> dict[str, float]:
    """Backprop for one sample of the 2-2-1 net, one scalar at a time (seed 001, eqs. 4-10)."""
    # forward, eq. (9): z = b + sum_j x_j W_j;  a = sigma(z)
    z11 = B11 + x1 * W11 + x2 * W21
    z12 = B12 + x1 * W12 + x2 * W22
    a11, a12 = sig(z11), sig(z12)
    z2 = B2 + a11 * V1 + a12 * V2
    a2 = sig(z2)
    # output delta: dL/da2 * da2/dz2 = (a2 - y) * a2 (1 - a2)   (L = 1/2 (a2 - y)^2, eq. 3)
    d2 = (a2 - y) * a2 * (1 - a2)
    # hidden deltas: d2 * v_j * a1j (1 - a1j)
    d11 = d2 * V1 * a11 * (1 - a11)
    d12 = d2 * V2 * a12 * (1 - a12)
    return {
        "loss": 0.5 * (a2 - y) ** 2,
        "w11": d11 * x1, "w21": d11 * x2, "w12": d12 * x1, "w22": d12 * x2,
        "b11": d11, "b12": d12,
        "v1": d2 * a11, "v2": d2 * a12, "b2": d2,
    }  # fmt: skip


def test_one_sgd_step_by_hand():
    # Forward pass, x = (0.05, 0.10):
    #   z11 = 0.35 + 0.05*0.15 + 0.10*0.20 = 0.3775        a11 = sigma(0.3775) = 0.593269992
    #   z12 = 0.35 + 0.05*0.25 + 0.10*0.30 = 0.3925        a12 = sigma(0.3925) = 0.596884378
    #   z2  = 0.60 + 0.593269992*0.40 + 0.596884378*0.45 = 1.105905967
    #   a2  = sigma(1.105905967) = 0.751365070
    #   L   = 1/2 (0.751365070 - 0.01)^2 = 0.274811083
    # Backward pass:
    #   delta2  = (a2 - y) a2 (1 - a2) = 0.741365070 * 0.751365070 * 0.248634930 = 0.138498562
    #   dL/dv1  = delta2 * a11 = 0.082167041     dL/dv2 = delta2 * a12 = 0.082667628
    #   dL/db2  = delta2       = 0.138498562
    #   delta11 = delta2 * v1 * a11 (1 - a11) = 0.138498562 * 0.40 * 0.241300709 = 0.013367920
    #   delta12 = delta2 * v2 * a12 (1 - a12) = 0.138498562 * 0.45 * 0.240613417 = 0.014996075
    #   dL/dw11 = delta11 * x1 = 0.000668396     dL/dw21 = delta11 * x2 = 0.001336792
    #   dL/dw12 = delta12 * x1 = 0.000749804     dL/dw22 = delta12 * x2 = 0.001499608
    # SGD, eq. (4): w <- w - 0.5 * dL/dw
    #   w11 = 0.149665802  w12 = 0.249625098  w21 = 0.199331604  w22 = 0.299250196
    #   b11 = 0.343316040  b12 = 0.342501962
    #   v1  = 0.358916480  v2  = 0.408666186  b2  = 0.530750719
    g = hand_gradients(X1, X2, TARGET)
    assert g["loss"] == pytest.approx(0.274811083, abs=1e-9)
    assert g["b2"] == pytest.approx(0.138498562, abs=1e-9)
    assert g["w22"] == pytest.approx(0.001499608, abs=1e-9)

    model = model_2_2_1()
    loss, out = model.train_step(np.array([[X1, X2]]), np.array([[TARGET]]))

    assert loss == pytest.approx(g["loss"], rel=1e-12)
    assert out[0, 0] == pytest.approx(0.751365070, abs=1e-9)
    hidden, output = model.layers[0].params, model.layers[2].params
    expected_hidden_W = [[W11 - LR * g["w11"], W12 - LR * g["w12"]],
                         [W21 - LR * g["w21"], W22 - LR * g["w22"]]]  # fmt: skip
    np.testing.assert_allclose(hidden["W"], expected_hidden_W, rtol=1e-12)
    np.testing.assert_allclose(hidden["b"], [B11 - LR * g["b11"], B12 - LR * g["b12"]], rtol=1e-12)
    np.testing.assert_allclose(output["W"], [[V1 - LR * g["v1"]], [V2 - LR * g["v2"]]], rtol=1e-12)
    np.testing.assert_allclose(output["b"], [B2 - LR * g["b2"]], rtol=1e-12)
    # and the rounded values written out above
    np.testing.assert_allclose(
        hidden["W"], [[0.149665802, 0.249625098], [0.199331604, 0.299250196]], atol=1e-9
    )
    np.testing.assert_allclose(hidden["b"], [0.343316040, 0.342501962], atol=1e-9)
    np.testing.assert_allclose(output["W"], [[0.358916480], [0.408666186]], atol=1e-9)
    np.testing.assert_allclose(output["b"], [0.530750719], atol=1e-9)


def test_two_samples_average_the_per_sample_gradients():
    # half_squared_error is the mean over the batch of 1/2 (a - y)^2, so each gradient is the
    # mean of the two per-sample gradients.
    samples = [((X1, X2), TARGET), ((0.9, -0.4), 0.8)]
    per_sample = [hand_gradients(x1, x2, y) for (x1, x2), y in samples]
    g = {key: (per_sample[0][key] + per_sample[1][key]) / 2 for key in per_sample[0]}

    model = model_2_2_1()
    loss, _ = model.train_step(
        np.array([s[0] for s in samples]), np.array([[s[1]] for s in samples])
    )

    assert loss == pytest.approx(g["loss"], rel=1e-12)
    hidden, output = model.layers[0].params, model.layers[2].params
    np.testing.assert_allclose(
        hidden["W"],
        [[W11 - LR * g["w11"], W12 - LR * g["w12"]], [W21 - LR * g["w21"], W22 - LR * g["w22"]]],
        rtol=1e-12,
    )
    np.testing.assert_allclose(hidden["b"], [B11 - LR * g["b11"], B12 - LR * g["b12"]], rtol=1e-12)
    np.testing.assert_allclose(output["W"], [[V1 - LR * g["v1"]], [V2 - LR * g["v2"]]], rtol=1e-12)
    np.testing.assert_allclose(output["b"], [B2 - LR * g["b2"]], rtol=1e-12)


# -- seeds 003/004: the sign -----------------------------------------------------------------------
# The 3-4-1 sigmoid network of seeds 003 and 004 (inputs with a constant third column, XOR-like
# targets). Seed 004 asks why `weight2 + lr * a1.T @ ((y - a2) * sigma'(z2))` "works" instead of
# `weight2 - lr * dC_dw2`: both are the same gradient-descent step, because
# dL/dW2 = a1.T @ ((a2 - y) * sigma'(z2)) and (y - a2) = -(a2 - y).
X_XOR = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
Y_XOR = np.array([[0], [1], [1], [0]], dtype=np.float64)


def _seed004_net(loss: str, lr: float = 1.0):
    rng = np.random.default_rng(1)
    W1, W2 = rng.random((3, 4)), rng.random((4, 1))  # the seed's np.random.random draws
    b1, b2 = np.zeros(4), np.zeros(1)  # the seeds' network has no biases
    model = nn.Sequential.from_sizes(
        [3, 4, 1], "sigmoid", "sigmoid", loss=loss, optimizer="sgd", lr=lr, dtype="float64",
        weights=[(W1, b1), (W2, b2)],
    )  # fmt: skip
    return model, W1, W2


def _by_hand_in_numpy(W1: np.ndarray, W2: np.ndarray):
    z1 = X_XOR @ W1  # (4, 3) @ (3, 4)
    a1 = 1 / (1 + np.exp(-z1))
    z2 = a1 @ W2  # (4, 4) @ (4, 1)
    a2 = 1 / (1 + np.exp(-z2))
    return z1, a1, z2, a2


def test_seed004_sign_convention_last_layer():
    lr = 1.0
    model, W1, W2 = _seed004_net("half_squared_error", lr)
    _, a1, _, a2 = _by_hand_in_numpy(W1, W2)
    n = len(X_XOR)
    sigma_prime_z2 = a2 * (1 - a2)
    # seed 004's C = 1/2 sum (y - a2)^2 for one sample; our loss averages it over the 4 samples
    dL_dW2 = a1.T @ ((a2 - Y_XOR) * sigma_prime_z2) / n  # (4, 4) @ (4, 1) -> (4, 1)

    model.train_step(X_XOR, Y_XOR)
    last_dense = model.layers[2]
    np.testing.assert_allclose(last_dense.grads["W"], dL_dW2, rtol=1e-12)
    # descent subtracts the gradient ...
    np.testing.assert_allclose(last_dense.params["W"], W2 - lr * dL_dW2, rtol=1e-12)
    # ... which is seed 004's "what works" form, with delta2 = (y - a2) and a plus sign
    delta2 = Y_XOR - a2
    np.testing.assert_allclose(
        last_dense.params["W"], W2 + lr * a1.T @ (delta2 * sigma_prime_z2) / n, rtol=1e-12
    )
    # and the loss went down
    _, _, _, a2_new = _by_hand_in_numpy(model.layers[0].params["W"], last_dense.params["W"])
    assert np.sum((a2_new - Y_XOR) ** 2) < np.sum((a2 - Y_XOR) ** 2)


def test_seed003_backprop_formulas_with_sum_squared_error():
    # seed 003: d_W2 = hidden.T @ (2 diff sigma'(out)),
    #           d_W1 = In.T @ ((2 diff sigma'(out)) @ W2.T * sigma'(hidden))
    # for L = sum over samples of (z - y)^2; our sum_squared_error averages over the samples.
    model, W1, W2 = _seed004_net("sum_squared_error")
    _, a1, _, a2 = _by_hand_in_numpy(W1, W2)
    n = len(X_XOR)
    delta2 = 2 * (a2 - Y_XOR) * a2 * (1 - a2)
    d_W2 = a1.T @ delta2 / n
    d_W1 = X_XOR.T @ ((delta2 @ W2.T) * a1 * (1 - a1)) / n

    model.train_step(X_XOR, Y_XOR)
    np.testing.assert_allclose(model.layers[2].grads["W"], d_W2, rtol=1e-12)
    np.testing.assert_allclose(model.layers[0].grads["W"], d_W1, rtol=1e-12)
    np.testing.assert_allclose(model.layers[0].params["W"], W1 - d_W1, rtol=1e-12)


# -- whole-model gradient checks (float64) ---------------------------------------------------------
MODELS = {
    # name: (hidden activations, output activation, loss, task, n_outputs, l2)
    "identity-mse": (["identity"], "identity", "mse", "regression", 2, 0.0),
    "sigmoid-sse": (["sigmoid", "sigmoid"], "sigmoid", "sum_squared_error", "regression", 2, 0.0),
    "tanh-half": (["tanh"], "tanh", "half_squared_error", "regression", 2, 0.1),
    "relu-mse-l2": (["relu", "relu"], "identity", "mse", "regression", 2, 0.05),
    "leaky-mse": (["leaky_relu"], "identity", "mse", "regression", 1, 0.0),
    "softmax-hidden-mse": (["softmax"], "identity", "mse", "regression", 2, 0.0),
    "sigmoid+bce-fused": (["tanh"], "sigmoid", "binary_cross_entropy", "binary", 1, 0.01),
    "multilabel-bce": (["relu"], "sigmoid", "binary_cross_entropy", "multilabel", 3, 0.0),
    "softmax+ce-fused": (["tanh", "leaky_relu"], "softmax", "categorical_cross_entropy",
                         "multiclass", 3, 0.02),
    "softmax-bce-unfused": (["tanh"], "softmax", "binary_cross_entropy", "multilabel", 3, 0.0),
    "sigmoid-ce-unfused": (["sigmoid"], "sigmoid", "categorical_cross_entropy", "multiclass",
                           3, 0.0),
    "logits-bce": (["tanh"], "identity", "sigmoid_binary_cross_entropy", "binary", 1, 0.0),
    "logits-ce": (["relu"], "identity", "softmax_cross_entropy", "multiclass", 3, 0.1),
}  # fmt: skip


@pytest.mark.parametrize("name", list(MODELS))
def test_model_gradcheck(name):
    hidden, output, loss, task, k, l2 = MODELS[name]
    # gradcheck's relative error has an absolute floor of only 1e-8: a weight whose true gradient
    # happens to be ~1e-6 shows a round-off "error" of ~1e-6 (it does for 1 of these 13 models with
    # 1 of 20 data seeds). Seeds are fixed so the check is deterministic.
    rng = np.random.default_rng(0)
    X, y = task_data(rng, task, k=k)
    sizes = [X.shape[1], *([4] * len(hidden)), k]
    model = nn.Sequential.from_sizes(
        sizes, [*hidden, output], loss=loss, l2=l2, seed=1, dtype="float64",
        bias_initializer="glorot_uniform",
    )  # fmt: skip
    if output in ("sigmoid", "softmax") and "cross_entropy" in loss and "unfused" not in name:
        assert model._train_loss.from_logits  # the fused path is the one being checked
    report = nn.gradcheck(model, X, y, max_checks=None)
    assert report.passed(TOL), str(report)
    assert set(report.errors) == {
        f"layers.{i}.{p}" for i, la in enumerate(model.layers) for p in la.params
    }


# -- copies and pickles ----------------------------------------------------------------------------
def test_copies_carry_no_scratch_space_and_train_like_the_original():
    model = classifier()
    model.fit(X12, Y12_CLASS, epochs=2, batch_size=4)
    dense = model.layers[0]
    assert dense._x is not None  # the fit left the last batch behind
    twin = copy.deepcopy(model)
    assert twin.layers[0]._x is None and twin.layers[1]._a is None
    assert twin.training_loss.__dict__.keys() <= {"outputs"}  # no cached batch
    size = len(pickle.dumps(model))
    assert size < 8 * model.n_params * 3 + 20_000  # parameters, SGD state, grads rebuilt
    twin.fit(X12, Y12_CLASS, epochs=2, batch_size=4, seed=1)
    model.fit(X12, Y12_CLASS, epochs=2, batch_size=4, seed=1)
    np.testing.assert_array_equal(twin.parameters_to_vector(), model.parameters_to_vector())


def test_an_unbuilt_model_pickled_without_built_unpickles_unbuilt():
    # an unbuilt model pickled before Sequential.__init__ set ``built`` has no such attribute
    state = Sequential([nn.Dense(3), nn.ReLU(), nn.Dense(1)]).__getstate__()
    state.pop("built", None)
    model = Sequential.__new__(Sequential)
    model.__setstate__(state)
    assert model.built is False
    model.fit(X12, Y12_REG[:, :1], epochs=1)
    assert model.built is True and model.input_dim == X12.shape[1]


def test_a_deep_copy_trains_its_own_weights_like_the_original():
    # the parameters are views into one packed buffer: a copy must be re-linked, or its
    # optimizer would update a detached buffer and fit() would change nothing
    import copy

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = Sequential.from_sizes(
        [3, 4, 2], "tanh", "softmax", loss="cross_entropy", optimizer="adam", lr=0.05, seed=0
    )
    model.fit(X, y, epochs=2)
    twin = copy.deepcopy(model)
    before = twin.get_weights()
    twin.fit(X, y, epochs=3)
    model.fit(X, y, epochs=3)
    assert not np.array_equal(before[0]["W"], twin.get_weights()[0]["W"])
    for mine, theirs in zip(model.get_weights(), twin.get_weights(), strict=True):
        for key in mine:
            np.testing.assert_array_equal(mine[key], theirs[key])
