"""One training step worked out by hand, as scikit-learn's MLP tests do.

The expected numbers come from seed 001's scalar equations, written out neuron by neuron in plain
Python (``math.exp``, no NumPy, no nablanet), and the model must land on exactly those weights.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import nablanet as nn


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


# ---------------------------------------------------------------- seeds 003/004: the sign
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
