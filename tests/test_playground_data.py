"""nablanet playground: its data sets, features and the settings that change a running session.

Expected values come from the data sets' definitions (TensorFlow Playground's dataset.ts) and
from the update rules written out here, never from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from nablanet.datasets import make_xor
from nablanet.playground import Session, parse_config
from nablanet.playground import data as pdata
from nablanet.playground.config import RequestError, parse_settings, parse_weight
from nablanet.playground.stepper import backprop_steps

NAMES = [name for name in pdata.DATASETS if name != "xor4"]


@pytest.mark.parametrize("name", NAMES)
def test_shapes_labels_and_determinism(name: str) -> None:
    _generate, task, n = pdata.GENERATORS[name]
    parts = pdata.make(name, 0.2, 0.3, np.random.default_rng(5))
    X, y, X_test, y_test = parts
    assert X.shape == (round(0.3 * n), 2) and X_test.shape == (n - round(0.3 * n), 2)
    assert y.shape == (len(X),) and y_test.shape == (len(X_test),)
    if task == "classification":
        assert set(np.unique(np.concatenate([y, y_test]))) <= {0, 1, 2}
    else:
        assert np.all(np.abs(np.concatenate([y, y_test])) <= 1.0)
    again = pdata.make(name, 0.2, 0.3, np.random.default_rng(5))
    for a, b in zip(parts, again, strict=True):
        np.testing.assert_array_equal(a, b)  # one seed, one data set
    other = pdata.make(name, 0.2, 0.3, np.random.default_rng(6))
    assert not np.array_equal(X, other[0])


def test_xor_is_the_quadrants_and_noise_flips_labels_near_the_axes() -> None:
    X, y = pdata.xor(2000, 0.0, np.random.default_rng(0))
    assert np.all(np.abs(X) >= 0.3) and np.all(np.abs(X) <= 5.3)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(int))
    Xn, yn = pdata.xor(2000, 0.5, np.random.default_rng(0))
    wrong = yn != (Xn[:, 0] * Xn[:, 1] >= 0)
    assert 0.05 < wrong.mean() < 0.5  # noise moves the point the label is read at
    # the seeds' four points stay what make_xor gives, train = test
    X4, y4, X4_test, y4_test = pdata.make("xor4", 0.5, 0.1, np.random.default_rng(0))
    np.testing.assert_array_equal(X4, make_xor()[0])
    np.testing.assert_array_equal(X4_test, X4)
    np.testing.assert_array_equal(y4, [0, 1, 1, 0])
    np.testing.assert_array_equal(y4_test, y4)


def test_circle_radii_and_labels() -> None:
    X, y = pdata.circle(1000, 0.0, np.random.default_rng(1))
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.all(r[y == 1] <= 2.5) and np.all((r[y == 0] >= 3.5) & (r[y == 0] <= 5))
    assert y.sum() == 500


def test_gaussian_spread_grows_with_noise() -> None:
    for noise, variance in [(0.0, 0.5), (0.5, 4.0)]:
        X, y = pdata.gaussian(20000, noise, np.random.default_rng(2))
        centred = X[y == 1] - [2.0, 2.0]
        # 10000 draws: the sample variance is within ~3% of the true one (4 standard errors)
        assert centred.var(axis=0) == pytest.approx([variance, variance], rel=0.06)


def test_spiral_makes_one_and_three_quarter_turns() -> None:
    X, y = pdata.spiral(400, 0.0, np.random.default_rng(3))
    arm = X[y == 1]
    r = np.hypot(arm[:, 0], arm[:, 1])
    np.testing.assert_allclose(r, 5 * np.arange(200) / 200, atol=1e-12)
    angle = np.unwrap(np.arctan2(arm[:, 0], arm[:, 1]))  # x = r sin t, y = r cos t
    assert angle[-1] - angle[0] == pytest.approx(1.75 * 2 * np.pi * 199 / 200, rel=1e-9)


def test_regression_targets() -> None:
    X, y = pdata.plane(500, 0.0, np.random.default_rng(4))
    np.testing.assert_allclose(y, np.clip((X[:, 0] + X[:, 1]) / 10, -1, 1), atol=1e-15)
    centres = np.array([[-4, 2.5], [0, 2.5], [4, -2.5], [0, 0.0], [-4, -1.5]])
    # at each bump's centre its sign; between bumps 0; one unit below (-4, -2.5): 1 - 1/2
    np.testing.assert_allclose(pdata.multi_gaussian_value(centres), [1, -1, -1, 0, -0.5])


def test_features() -> None:
    X = np.array([[1.0, 2.0], [-0.5, 3.0]])
    F = pdata.features(X, ("x1", "x2^2", "x1*x2", "sin(x2)"))
    np.testing.assert_allclose(F, [[1, 4, 2, np.sin(2)], [-0.5, 9, -1.5, np.sin(3)]])


def test_a_session_feeds_the_chosen_features_to_the_network() -> None:
    session = Session(parse_config({"dataset": "circle", "features": ["x2^2", "x1"]}))
    assert session.model.layers[0].params["W"].shape[0] == 2
    # the page's order of features, not the request's
    np.testing.assert_allclose(session.X, np.column_stack([session.points[:, 0],
                                                           session.points[:, 1] ** 2]))  # fmt: skip
    assert session.state()["features"] == ["x1", "x2^2"]


def test_regression_uses_identity_output_and_mse() -> None:
    session = Session(parse_config({"dataset": "plane", "hidden": [3], "seed": 1}))
    state = session.state()
    assert state["task"] == "regression" and state["loss"] == "mse"
    assert state["train_accuracy"] is None and "value" in state["boundary"]
    first = state["history"]["train_loss"][-1]
    session.step(200)
    assert session.history["train_loss"][-1] < 0.5 * first


def test_squared_error_classifies_with_a_sigmoid_output() -> None:
    """Seed 001's setting: sigmoid output, mean squared error on 0/1 targets; class a >= 1/2."""
    session = Session(parse_config({"dataset": "gaussian", "hidden": [2],
                                    "activation": "sigmoid", "loss": "squared_error"}))  # fmt: skip
    assert session.model.loss.name == "mse"
    session.step(100)
    a = session.model.forward(session.X)[:, 0]
    assert session.accuracy(session.X, session.y) == np.mean((a >= 0.5) == session.y)
    assert session.accuracy(session.X, session.y) > 0.9
    assert session.model.compute_loss(session.X, session.Y) == pytest.approx(
        np.mean((a - session.y) ** 2), rel=1e-12
    )
    b = session.boundary()
    assert set(b["label"]) == {0, 1} and min(b["confidence"]) >= 0.5
    with pytest.raises(RequestError, match=r"'squared_error' needs two classes; .* 'blobs' has 3"):
        Session(parse_config({"dataset": "blobs", "loss": "squared_error"}))


def test_a_regression_output_unit_shows_the_squared_errors_gradient() -> None:
    from nablanet.playground import inspect_unit

    session = Session(parse_config({"dataset": "multi_gaussian", "hidden": [3], "seed": 2}))
    session.step(5)
    info = inspect_unit(session, layer=2, unit=0, sample=4)
    W1, b1 = session.dense_layers()[0].params["W"], session.dense_layers()[0].params["b"]
    W2, b2 = session.dense_layers()[1].params["W"], session.dense_layers()[1].params["b"]
    a = (np.tanh(session.X[4] @ W1 + b1) @ W2 + b2)[0]  # identity output
    expected = 2 * (a - session.y[4])  # L = (a - y)^2 for one sample and one output
    q = info["quantities"]["dL_da"]
    assert q["value"] == pytest.approx(expected, rel=1e-9)
    head, _, last = q["numbers"].rpartition(" = ")
    assert head.startswith("dL/da2[0] = 2 (a - y) = 2 (")
    assert float(last) == pytest.approx(expected, rel=1e-3)  # printed to 4 digits


def test_backprop_steps_include_the_penalty_of_a_training_step() -> None:
    session = _sgd(hidden=[3], regularization="l2", reg_rate=0.5)
    out = backprop_steps(session, 0)
    step = next(s for s in out["steps"] if (s["layer"], s["quantity"]) == (1, "dW"))
    (W1, b1), (W2, b2) = [(d.params["W"], d.params["b"]) for d in session.dense_layers()]
    x, y = session.X[0], session.y[0]
    a1 = np.tanh(x @ W1 + b1)
    delta2 = 1 / (1 + np.exp(-(a1 @ W2 + b2))) - y
    delta1 = (W2 @ delta2) * (1 - a1**2)
    np.testing.assert_allclose(step["value"], np.outer(x, delta1) + 0.5 * W1, rtol=1e-9)
    assert step["equation"].endswith("+ l2 * W1")


def _sgd(**extra: object) -> Session:
    body = {"dataset": "gaussian", "hidden": [3], "optimizer": "sgd", "lr": 0.1,
            "batch_size": 10, "seed": 4, **extra}  # fmt: skip
    return Session(parse_config(body))


def test_live_lr_and_l2_change_the_engine_step() -> None:
    """One SGD step: W <- W - lr (g + lambda W), g the data gradient of the same batch."""
    plain, live = _sgd(), _sgd()
    W0 = [layer.params["W"].copy() for layer in plain.dense_layers()]
    live.apply(parse_settings({"lr": 0.05, "regularization": "l2", "reg_rate": 0.3}, live.config))
    assert live.model.optimizer.lr == 0.05
    assert all(layer.l2 == 0.3 for layer in live.dense_layers())
    plain.step(1)
    live.step(1)
    for W, p, q in zip(W0, plain.dense_layers(), live.dense_layers(), strict=True):
        g = (W - p.params["W"]) / 0.1  # the data gradient of the batch both sessions drew
        np.testing.assert_allclose(q.params["W"], W - 0.05 * (g + 0.3 * W), rtol=1e-12)


def test_live_l1_is_the_engines_sign_term() -> None:
    """One SGD step with L1: W <- W - lr (g + lambda sign(W)); the loss gains lambda sum |W|."""
    plain, live = _sgd(), _sgd()
    W0 = [layer.params["W"].copy() for layer in plain.dense_layers()]
    live.apply(parse_settings({"regularization": "l1", "reg_rate": 0.2}, live.config))
    assert [(d.l1, d.l2) for d in live.dense_layers()] == [(0.2, 0.0)] * 2
    data_loss = plain.model.compute_loss(plain.X, plain.Y)
    penalty = 0.2 * sum(np.abs(W).sum() for W in W0)
    assert live.model.compute_loss(live.X, live.Y) == pytest.approx(data_loss + penalty, rel=1e-12)
    plain.step(1)
    live.step(1)
    for W, p, q in zip(W0, plain.dense_layers(), live.dense_layers(), strict=True):
        g = (W - p.params["W"]) / 0.1
        np.testing.assert_allclose(q.params["W"], W - 0.1 * (g + 0.2 * np.sign(W)), rtol=1e-12)
    # switching back to L2 turns L1 off
    live.apply(parse_settings({"regularization": "l2"}, live.config))
    assert [(d.l1, d.l2) for d in live.dense_layers()] == [(0.0, 0.2)] * 2


def test_live_batch_size_and_refusals() -> None:
    session = _sgd()
    session.apply(parse_settings({"batch_size": 7}, session.config))
    session.step(1)
    assert session._cursor == 7
    with pytest.raises(RequestError, match="'dataset' cannot change while training"):
        parse_settings({"dataset": "xor"}, session.config)
    with pytest.raises(RequestError, match="reg_rate must be in"):
        parse_settings({"reg_rate": -1}, session.config)
    with pytest.raises(RequestError, match="unknown regularization 'l3'"):
        parse_settings({"regularization": "l3"}, session.config)


def test_editing_a_weight() -> None:
    session = _sgd()
    session.set_weight(*parse_weight({"layer": 2, "from": 1, "to": 0, "value": -2.5}))
    assert session.dense_layers()[1].params["W"][1, 0] == -2.5
    assert session.state()["weights"][1]["W"][1][0] == -2.5
    with pytest.raises(RequestError, match="from must be from 0 to 2 in layer 2, got 3"):
        session.set_weight(2, 3, 0, 1.0)
    with pytest.raises(RequestError, match="value must be in"):
        parse_weight({"layer": 1, "from": 0, "to": 0, "value": float("inf")})


def test_histograms_count_the_weights() -> None:
    session = _sgd(hidden=[5, 4])
    hist = session.state()["histograms"]
    assert len(hist) == 3
    for entry, layer in zip(hist, session.dense_layers(), strict=True):
        W = layer.params["W"]
        assert sum(entry["W"]["counts"]) == W.size
        lo, hi = entry["W"]["edges"][0], entry["W"]["edges"][-1]
        assert lo == pytest.approx(W.min(), abs=1e-12) and hi == pytest.approx(W.max(), abs=1e-12)
        assert sum(entry["dW"]["counts"]) == W.size


def test_backprop_steps_follow_the_network_by_hand() -> None:
    session = _sgd(hidden=[3])
    session.step(5)
    out = backprop_steps(session, 2)
    order = [(s["phase"], s["layer"], s["quantity"]) for s in out["steps"]]
    assert order[:5] == [("forward", 1, "z"), ("forward", 1, "a"), ("forward", 2, "z"),
                         ("forward", 2, "a"), ("loss", 0, "L")]  # fmt: skip
    assert order[5:9] == [("backward", 2, q) for q in ("dL_da", "delta", "dW", "db")]
    # by hand: tanh hidden layer, sigmoid output, binary cross-entropy of one sample
    (W1, b1), (W2, b2) = [(d.params["W"], d.params["b"]) for d in session.dense_layers()]
    x, y = session.X[2], session.y[2]
    a1 = np.tanh(x @ W1 + b1)
    a2 = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
    delta2 = a2 - y
    delta1 = (W2 @ delta2) * (1 - a1**2)
    got = {(s["layer"], s["quantity"]): np.array(s["value"]) for s in out["steps"]}
    np.testing.assert_allclose(got[1, "a"], a1, rtol=1e-12)
    np.testing.assert_allclose(got[2, "delta"], delta2, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(got[1, "dW"], np.outer(x, delta1), rtol=1e-9, atol=1e-15)
    with pytest.raises(RequestError, match="sample must be from 0 to"):
        backprop_steps(session, 10**6)
