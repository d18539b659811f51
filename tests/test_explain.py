"""Tests for nablanet.explain: the backprop trace vs seed 001 by hand and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nablanet import SGD, Dense, Dropout, ReLU, Sequential, Sigmoid
from nablanet.explain import Explanation, explain, seed001_example
from nablanet.explain import trace as trace_steps

# Seed 001, Output.4: each neuron's bias and weights.
B1 = [0.17152165622510307, 0.3069662196722378]
W1 = [[0.6852769816973125, 0.8338968626360765], [0.8936130796833973, 0.7215438617683047]]
B2 = [0.18993895420479678, 0.18189240266007867]
W2 = [[0.5542275911247871, 0.3521319540266141], [0.7856017618643588, 0.9654832224119693]]
X1, X2 = 1.2, 1.6  # the seed's first training sample, class 0
T = [0.05, 0.95]  # probabilities_of_target(0)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


@pytest.fixture(scope="module")
def seed001() -> Explanation:
    model, x, y = seed001_example()
    return explain(model, x, y)


def test_seed001_first_layer_z_is_the_hand_computed_value(seed001):
    # Seed 001, eq. (9): z = b + sum_j x_j W_j, neuron by neuron.
    z1_1 = 0.17152165622510307 + 1.2 * 0.6852769816973125 + 1.6 * 0.8338968626360765
    z1_2 = 0.3069662196722378 + 1.2 * 0.8936130796833973 + 1.6 * 0.7215438617683047
    assert z1_1 == pytest.approx(2.3280890144796, rel=1e-13)  # the arithmetic itself
    assert seed001.layers[0].z[0].tolist() == pytest.approx([z1_1, z1_2], rel=1e-15)
    assert seed001.layers[0].a[0].tolist() == pytest.approx(
        [_sigmoid(z1_1), _sigmoid(z1_2)], rel=1e-15
    )


def test_seed001_backward_follows_the_seed_equations(seed001):
    a1 = [_sigmoid(B1[j] + X1 * W1[j][0] + X2 * W1[j][1]) for j in range(2)]
    z2 = [B2[j] + a1[0] * W2[j][0] + a1[1] * W2[j][1] for j in range(2)]
    a2 = [_sigmoid(z) for z in z2]
    # (7) with the seed's halving: dL/da = (a - Y); (17) delta = sigma'(z) * dL/da
    dl_da2 = [a2[j] - T[j] for j in range(2)]
    delta2 = [a2[j] * (1 - a2[j]) * dl_da2[j] for j in range(2)]
    # (18) dL/dW_{i,j} = a_i^1 delta_j, (19) dL/db_j = delta_j
    dW2 = [[a1[i] * delta2[j] for j in range(2)] for i in range(2)]
    # (23)-(33): the hidden delta sums over both output neurons (the seed's Figure 2)
    delta1 = [a1[i] * (1 - a1[i]) * sum(W2[j][i] * delta2[j] for j in range(2)) for i in range(2)]
    # (26), (34) (layer 1 is one below the output here): dL/dW^1_{i,j} = x_i delta^1_j
    dW1 = [[[X1, X2][i] * delta1[j] for j in range(2)] for i in range(2)]

    out, hidden = seed001.layers[1], seed001.layers[0]
    assert out.z[0].tolist() == pytest.approx(z2, rel=1e-14)
    assert out.dL_da[0].tolist() == pytest.approx(dl_da2, rel=1e-14)
    assert out.delta[0].tolist() == pytest.approx(delta2, rel=1e-13)
    np.testing.assert_allclose(out.dW, dW2, rtol=1e-13, atol=0)
    np.testing.assert_allclose(out.db, delta2, rtol=1e-13, atol=0)
    np.testing.assert_allclose(hidden.delta[0], delta1, rtol=1e-12, atol=0)
    np.testing.assert_allclose(hidden.dW, dW1, rtol=1e-12, atol=0)
    np.testing.assert_allclose(hidden.db, delta1, rtol=1e-12, atol=0)
    assert seed001.loss == pytest.approx(sum(0.5 * d * d for d in dl_da2), rel=1e-14)


def test_seed001_every_gradient_matches_its_finite_difference(seed001):
    for trace in seed001.layers:
        for name in ("dL_da", "delta", "dW", "db"):
            fd = getattr(trace, name + "_fd")
            assert not np.isnan(fd).any()  # all entries checked in a 2-2-2 net
            np.testing.assert_allclose(getattr(trace, name), fd, rtol=1e-8, atol=1e-12)
    assert seed001.max_error < 1e-8


def test_seed001_text_shows_the_equations_and_the_numbers(seed001):
    text = str(seed001)
    for equation in (
        "z1 = a0 @ W1 + b1",
        "a1 = sigmoid(z1)",
        "z2 = a1 @ W2 + b2",
        "L = sum(0.5 * (a2 - y)**2) / n",
        "dL/da2 = (a2 - y) / n",
        "delta2 = dL/da2 * sigma'(z2),  sigma'(z2) = a2 * (1 - a2)",
        "dL/dW2 = a1.T @ delta2",
        "dL/db2 = sum(delta2, axis=0)",
        "dL/da1 = delta2 @ W2.T",
        "delta1 = dL/da1 * sigma'(z1)",
        "dL/dW1 = a0.T @ delta1",
        "[seed 001 (11), (18)]",
        "f.d. =",
    ):
        assert equation in text, equation
    z1_1 = 0.17152165622510307 + 1.2 * 0.6852769816973125 + 1.6 * 0.8338968626360765
    assert f"{z1_1:.13f}" in text  # the hand value, printed with every digit
    assert "0.8338968626360765" in text  # the seed's weights, as printed in Output.4
    assert text.index("=== Forward ===") < text.index("=== Backward ===")
    assert text.index("layer 2 (output)") < text.index("layer 1\n")


# -- other architectures -----------------------------------------------------------------------
def _check_all(e: Explanation, tol: float = 1e-6) -> None:
    for trace in e.layers:
        for name, err in trace.errors().items():
            assert err < tol, (trace.k, name, err)


@pytest.mark.parametrize(
    ("sizes", "acts", "loss", "y"),
    [
        ([3, 5, 4], ["tanh", "softmax"], "categorical_cross_entropy", [2]),
        ([3, 4, 1], ["leaky_relu", "sigmoid"], "binary_cross_entropy", [1]),
        ([3, 4, 2], ["relu", "identity"], "mse", [[0.3, -1.2]]),
        ([3, 6, 5, 2], ["tanh", "relu", "identity"], "softmax_cross_entropy", [1]),
    ],
)
def test_gradients_match_finite_differences(sizes, acts, loss, y):
    model = Sequential.from_sizes(sizes, acts, loss=loss, seed=1)
    x = np.array([[0.3, -1.1, 0.7]])
    e = model.explain(x, y)
    _check_all(e)
    assert len(e.layers) == len(sizes) - 1


def test_fused_softmax_output_delta_is_a_minus_y_over_n():
    model = Sequential.from_sizes(
        [3, 4, 3], ["tanh", "softmax"], loss="categorical_cross_entropy", seed=0
    )
    x = np.array([[0.2, -0.5, 1.0], [1.0, 0.1, -0.3], [0.0, 0.4, 0.4]])
    e = explain(model, x, [0, 2, 1])

    out = e.layers[-1]
    np.testing.assert_allclose(out.delta, (out.a - e.y) / 3, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out.db, out.delta.sum(axis=0), rtol=1e-12)
    assert "Training fuses Softmax with categorical_cross_entropy" in str(e)
    _check_all(e)


def test_dense_without_activation_dropout_and_l2():
    model = Sequential(
        [Dense(4, l2=0.1), Dropout(0.5), Dense(3), ReLU(), Dense(1), Sigmoid()],
        loss="binary_cross_entropy",
        seed=2,
    )
    model.build(2)
    e = explain(model, [0.5, -0.25], 1)

    assert [t.activation for t in e.layers] == ["Identity", "ReLU", "Sigmoid"]
    np.testing.assert_array_equal(e.layers[0].a, e.layers[0].z)
    assert "dL/dW1 = a0.T @ delta1 + l2 * W1" in str(e)
    assert "Dropout(rate=0.5)" in str(e) and "off" in str(e)
    _check_all(e)


def test_large_layers_check_a_random_subset():
    model = Sequential.from_sizes(
        [6, 5, 2], ["tanh", "softmax"], loss="categorical_cross_entropy", seed=0
    )
    e = explain(model, np.linspace(-1, 1, 6), 1, max_fd=4)

    assert int((~np.isnan(e.layers[0].dW_fd)).sum()) == 4
    assert "f.d. at 4 of 30 random entries" in str(e)
    _check_all(e)


def test_the_model_is_left_untouched():
    model = Sequential.from_sizes(
        [2, 3, 2], "tanh", "softmax", loss="categorical_cross_entropy", seed=0
    )
    before = model.get_weights()
    explain(model, [1.0, 2.0], 0)
    after = model.get_weights()
    assert all(np.array_equal(a[k], b[k]) for a, b in zip(before, after, strict=True) for k in a)
    assert after[0]["W"].dtype == np.float32


def test_bad_input():
    model = Sequential.from_sizes([2, 3, 2], "tanh", "softmax", loss="categorical_cross_entropy")
    with pytest.raises(ValueError, match=r"at most 32 rows\), got 40"):
        explain(model, np.zeros((40, 2)), np.zeros(40, dtype=int))
    with pytest.raises(ValueError, match="3 features, but the model expects 2"):
        explain(model, [1.0, 2.0, 3.0], 0)
    odd = Sequential([Dense(2), ReLU(), Sigmoid()])
    odd.build(2)
    with pytest.raises(ValueError, match=r"layer 2 \(Sigmoid\) does not fit"):
        explain(odd, [1.0, 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="not built"):
        explain(Sequential([Dense(2)]), [1.0], [0.0, 1.0])


def test_output_finite_differences_stay_inside_the_log_domain():
    # A confident softmax: a = [~1, ~1e-13, ~3e-7]; a step of 1e-5 would cross a <= 0.
    weights = [(np.array([[10.0, -10.0, 0.0], [5.0, -5.0, 0.0]]), np.zeros(3))]
    model = Sequential.from_sizes(
        [2, 3], ["softmax"], loss="categorical_cross_entropy", weights=weights, dtype="float64"
    )
    e = explain(model, [1.0, 1.0], 1)

    out = e.layers[0]
    assert out.a[0, 1] < 1e-12
    assert out.dL_da[0, 1] == pytest.approx(-1.0 / out.a[0, 1], rel=1e-12)  # -y / a / n
    assert out.errors()["dL_da"] < 1e-6
    _check_all(e)


# -- the update, the trace, the notation map ------------------------------------------------------
def test_seed001_update_is_w_minus_lr_times_gradient(seed001):
    """One SGD step with the seed's eta 0.05, worked out by hand (eqs. 4, 13, 36, 40)."""
    a1 = [_sigmoid(B1[j] + X1 * W1[j][0] + X2 * W1[j][1]) for j in range(2)]
    a2 = [_sigmoid(B2[j] + a1[0] * W2[j][0] + a1[1] * W2[j][1]) for j in range(2)]
    delta2 = [a2[j] * (1 - a2[j]) * (a2[j] - T[j]) for j in range(2)]
    delta1 = [a1[i] * (1 - a1[i]) * sum(W2[j][i] * delta2[j] for j in range(2)) for i in range(2)]
    update = seed001.update
    assert update is not None and update.lr == 0.05 and update.plain_sgd
    hidden, out = update.steps[0].layers
    new_b2 = [B2[j] - 0.05 * delta2[j] for j in range(2)]
    new_W2 = [[W2[j][i] - 0.05 * a1[i] * delta2[j] for j in range(2)] for i in range(2)]
    new_W1 = [[W1[j][i] - 0.05 * [X1, X2][i] * delta1[j] for j in range(2)] for i in range(2)]
    np.testing.assert_allclose(out.b_new, new_b2, rtol=1e-14)
    np.testing.assert_allclose(out.W_new, new_W2, rtol=1e-14)
    np.testing.assert_allclose(hidden.W_new, new_W1, rtol=1e-14)
    np.testing.assert_allclose(out.W_old, np.array(W2).T, rtol=0)  # the seed's Output.4
    assert (out.refs, hidden.refs) == (("(4)", "(13)"), ("(36)", "(40)"))
    text = str(seed001)
    assert "=== Update: one step of SGD" in text and "lr = 0.05" in text
    for line in ("W2 <- W2 - lr * dL/dW2", "[seed 001 (4)]", "[seed 001 (13)]",
                 "[seed 001 (36)]", "[seed 001 (40)]", "new W2 = "):  # fmt: skip
        assert line in text, line
    assert text.index("=== Backward ===") < text.index("=== Update")


def test_notation_map_names_the_seed_layers(seed001):
    text = " ".join(str(seed001).split())  # the map is wrapped at 100 columns
    assert "nablanet layer 2 (output) = seed 001 layer 3" in text
    assert "layer 1 is one layer below the output: its backward follows seed 001 layer 2" in text
    assert "this network has one hidden layer" in text
    deep = Sequential.from_sizes([2, 3, 3, 3, 1], "tanh", "sigmoid", loss="binary_cross_entropy")
    deep_text = " ".join(str(explain(deep, [0.1, 0.2], 1)).split())
    assert "nablanet layer 4 (output) = seed 001 layer 3" in deep_text
    assert (
        "layer 3 is one layer below the output: its backward follows seed 001 layer 2" in deep_text
    )
    assert (
        "layer 2 is 2 layers below the output: its backward follows seed 001 layer 1" in deep_text
    )
    assert "layer 1 is 3 layers below the output" in deep_text and "by analogy" in deep_text


def test_references_follow_the_real_loss():
    """A BCE model cites seed 000's cross-entropy, never seed 001's squared-error (6), (7), (17);
    a tanh/ReLU layer never cites the sigmoid's (1), (8), (24)."""
    bce = Sequential.from_sizes([2, 3, 1], "relu", "sigmoid", loss="binary_cross_entropy", seed=0)
    text = str(explain(bce, [0.5, -0.2], 1))
    assert "seed 001 (6)" not in text and "seed 001 (7)" not in text and "(17)" not in text
    assert "[seed 000 d_cross_entropy, / n here]" in text
    assert "[seed 000 cross_entropy, a mean here, a sum there]" in text
    assert "[seed 001 (3), (8)]" in text  # the sigmoid output's derivative still is (3), (8)
    assert "(24)" not in text  # the hidden layer is ReLU
    mse = Sequential.from_sizes([2, 3, 2], "tanh", "identity", loss="mse", seed=0)
    text = str(explain(mse, [0.5, -0.2], [0.1, 0.2]))
    assert "[seed 001 (7)]" in text and "seed 001 (1)" not in text and "(8)" not in text


def test_trace_takes_n_steps_of_the_optimizer():
    model = Sequential.from_sizes([2, 3, 1], "tanh", "sigmoid", loss="binary_cross_entropy",
                                  optimizer="sgd", lr=0.5, seed=0)  # fmt: skip
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = [1, 1, 0]
    t = trace_steps(model, X, y, steps=3)
    assert [s.step for s in t.steps] == [1, 2, 3]
    for before, after in zip(t.steps, t.steps[1:], strict=False):
        for u, v in zip(before.layers, after.layers, strict=True):
            np.testing.assert_array_equal(u.W_new, v.W_old)  # each step starts where the last ended
    for step in t.steps:
        for u in step.layers:
            np.testing.assert_allclose(u.W_new, u.W_old - 0.5 * u.dW, rtol=1e-14)
            np.testing.assert_allclose(u.b_new, u.b_old - 0.5 * u.db, rtol=1e-14)
    assert t.steps[2].loss < t.steps[0].loss
    first = explain(model, X, y)  # the trace's first gradient is explain's
    np.testing.assert_allclose(t.steps[0].layers[0].dW, first.layers[0].dW, rtol=1e-12)
    text = str(t)
    assert "--- step 3: loss before the step = " in text and "new W1 = " in text
    assert model.get_weights()[0]["W"].dtype == np.float32  # the model itself is untouched


def test_trace_with_momentum_prints_the_step_taken():
    model = Sequential.from_sizes([2, 2, 1], "tanh", "sigmoid", loss="binary_cross_entropy",
                                  optimizer=SGD(lr=0.1, momentum=0.9), seed=0)  # fmt: skip
    t = trace_steps(model, [[0.5, 1.0]], [1], steps=2)
    s1, s2 = t.steps[0].layers[1], t.steps[1].layers[1]
    np.testing.assert_allclose(s1.W_new - s1.W_old, -0.1 * s1.dW, rtol=1e-12)  # v = g at first
    v = 0.9 * s1.dW + s2.dW  # then v <- mu v + g, W <- W - lr v
    np.testing.assert_allclose(s2.W_new - s2.W_old, -0.1 * v, rtol=1e-12)
    assert "step = " in str(t) and not t.plain_sgd


def test_trace_bad_input():
    model = Sequential.from_sizes([2, 2, 1], "tanh", "sigmoid", loss="binary_cross_entropy")
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        trace_steps(model, [[0.5, 1.0]], [1], steps=0)
    with pytest.raises(ValueError, match="steps must be at most 10000, got 20000"):
        trace_steps(model, [[0.5, 1.0]], [1], steps=20000)
    with pytest.raises(ValueError, match="not built"):
        trace_steps(Sequential([Dense(2)]), [1.0], [0.0, 1.0])
    with pytest.raises(TypeError, match="model must be a nablanet Sequential, got None"):
        trace_steps(None, [1.0], [0.0])
    with pytest.raises(TypeError, match="model must be a nablanet Sequential, got 'abc'"):
        explain("abc", [1.0], [0.0])
    with pytest.raises(TypeError, match="X must contain numbers"):
        explain(model, ["a", "b"], [1])


# -- the command line -------------------------------------------------------------------------------
def test_cli_tutorial_replays_output4_to_output5(capsys):
    """`nablanet explain --example seed001 --tutorial`: Output.5's numbers, typed from the seed.
    Compared digit for digit: the replay calls math.exp, not NumPy's CPU-dependent exp, and gives
    these digits with every exp build an x86-64 CPU runs (tests/test_cpu_paths.py)."""
    from nablanet import cli

    assert cli.main(["explain", "--example", "seed001", "--tutorial"]) == 0
    out = capsys.readouterr().out
    for line in (
        "Z Values: [8.623469870999047, 9.576717036602751]",
        "A Values: [0.9998201971688595, 0.9999306806422639]",
        "Bias: 0.17144536825966872 , Weights: [0.6847811099219888, 0.8335306804019916]",
        "Bias: 0.30693386560411573 , Weights: [0.8934027782406043, 0.7213885622413188]",
        "Input: [0.9998201971688595, 0.9999306806422639]",
        "Z Values: [0.0032454204158872714, 0.007217342007028449]",
        "A Values: [0.5008113543918223, 0.5018043276694744]",
        "Bias: -0.17443398067742752 , Weights: [0.18992000411213625, -0.012215751817731987]",
        "Bias: -0.46007404797898116 , Weights: [0.14375052049004067, 0.3235612337593173]",
        "Bias: 0.17152165622510307 , Weights: [0.6852769816973125, 0.8338968626360765]",  # Output.4
        "Predicted: [1, 0, 1]",
    ):
        assert line in out, line
    assert "seed's dL/dW1 =" in out and "true dL/dW1 =" in out
    assert out.index("Output.4") < out.index("--- epoch 1") < out.index("Output.5")


def test_cli_steps_and_refusals(capsys):
    from nablanet import cli

    assert cli.main(["explain", "--example", "seed001", "--steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "--- step 2: loss before the step" in out and "on 10 sample(s)" in out
    assert "--- step 3" not in out
    assert cli.main(["explain", "--tutorial"]) != 0
    assert "use it with --example seed001" in capsys.readouterr().err
    assert cli.main(["explain", "--example", "seed001", "--steps", "0"]) != 0
    assert "--steps must be an integer >= 1, got 0" in capsys.readouterr().err
    for tutorial in ([], ["--tutorial"]):  # refused before any output, named as the option
        assert cli.main(["explain", "--example", "seed001", "--steps", "20000", *tutorial]) == 2
        captured = capsys.readouterr()
        assert "--steps must be at most 10000, got 20000" in captured.err
        assert captured.out == ""
