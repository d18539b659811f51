"""The L1 term of Dense (``l1``): its gradient, one step by hand, sparsity, the model file."""

# The L1 term adds ``l1 * sum|W|`` to the objective and ``l1 * sign(W)`` to dL/dW (0 where a
# weight is exactly 0). Finite differences are taken in float64 with weights kept away from 0,
# where |w| has its kink.

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nablanet as nn
from _helpers import max_rel_error
from nablanet.gradcheck import gradcheck, numerical_gradient
from nablanet.model_io import load, read_model


def _away_from_zero(W: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """Push entries with |w| < margin out to +-margin: no difference may cross the kink at 0."""
    return np.where(np.abs(W) < margin, np.where(W < 0, -margin, margin), W)


def _net(l1: float, l2: float = 0.0, seed: int = 0) -> nn.Sequential:
    model = nn.Sequential(
        [nn.Dense(5, l1=l1, l2=l2), nn.Tanh(), nn.Dense(3), nn.Tanh(), nn.Dense(2, l1=0.5 * l1)],
        loss="mse", seed=seed, dtype="float64",
    )  # fmt: skip
    model.build(4)
    for layer in model.layers:
        if isinstance(layer, nn.Dense):
            layer.params["W"][...] = _away_from_zero(layer.params["W"])
    return model


# -- the gradient --------------------------------------------------------------------------------
@pytest.mark.parametrize(("l1", "l2"), [(0.3, 0.0), (0.3, 0.2), (0.0, 0.2)])
def test_penalty_gradient_matches_finite_differences(l1, l2):
    model = _net(l1, l2)
    model.set_gradients(np.zeros(model.n_params))
    model.penalty_gradients()
    for layer in model.layers:
        for key, param in layer.params.items():
            numeric = numerical_gradient(model.penalty, param, 1e-5)
            if key == "b" or not (getattr(layer, "l1", 0.0) or getattr(layer, "l2", 0.0)):
                np.testing.assert_array_equal(layer.grads[key], 0.0)
            else:
                # |w| is linear away from 0: central differences are exact up to rounding
                assert max_rel_error(layer.grads[key], numeric) < 1e-6, key


def test_whole_objective_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    model = _net(0.2, 0.05)
    X, Y = model.prepare(rng.normal(size=(9, 4)), rng.normal(size=(9, 2)))
    model.loss_and_grads(X, Y, training=False)
    for layer in model.layers:
        for key, param in layer.params.items():
            numeric = numerical_gradient(lambda: model.compute_loss(X, Y), param, 1e-5)
            assert max_rel_error(layer.grads[key], numeric) < 1e-6, key


def test_gradcheck_covers_l1_and_skips_weights_at_the_kink():
    rng = np.random.default_rng(2)
    model = _net(0.4)
    first = model.layers[0]
    first.params["W"][0, 0] = 0.0  # on the kink: a central difference there reads 0 +- l1
    X, y = rng.normal(size=(8, 4)), rng.normal(size=(8, 2))
    report = gradcheck(model, X, y, max_checks=None)
    assert report.passed(1e-6), str(report)
    assert report.checked["layers.0.W"] == first.params["W"].size - 1
    assert report.checked["layers.2.W"] == model.layers[2].params["W"].size  # no l1: all


def test_subgradient_at_zero_is_zero():
    layer = nn.Dense(2, l1=0.7, weights=[[0.0, -2.0], [3.0, 0.0]])
    layer.build(2, np.random.default_rng(0), np.float64)
    layer.grads["W"][...] = 0.0
    layer.penalty_gradient()
    np.testing.assert_array_equal(layer.grads["W"], [[0.0, -0.7], [0.7, 0.0]])
    assert layer.penalty() == pytest.approx(0.7 * 5.0, rel=1e-15)


def test_matches_torch_l1_gradient():
    torch = pytest.importorskip("torch")
    model = _net(0.3, 0.1)
    rng = np.random.default_rng(3)
    X, Y = model.prepare(rng.normal(size=(6, 4)), rng.normal(size=(6, 2)))
    loss, _ = model.loss_and_grads(X, Y, training=False)
    dense = [layer for layer in model.layers if isinstance(layer, nn.Dense)]
    Ws = [torch.tensor(d.params["W"], requires_grad=True) for d in dense]
    bs = [torch.tensor(d.params["b"], requires_grad=True) for d in dense]
    a = torch.tensor(X)
    for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        a = a @ W + b
        a = torch.tanh(a) if i < 2 else a
    objective = ((a - torch.tensor(Y)) ** 2).mean()
    for d, W in zip(dense, Ws, strict=True):
        objective = objective + d.l2 / 2 * (W**2).sum() + d.l1 * W.abs().sum()
    objective.backward()
    assert loss == pytest.approx(objective.item(), rel=1e-12)
    for d, W in zip(dense, Ws, strict=True):
        np.testing.assert_allclose(d.grads["W"], W.grad.numpy(), rtol=1e-10, atol=1e-12)


# -- one step by hand ----------------------------------------------------------------------------
def test_one_sgd_step_worked_out_by_hand():
    # x = [1, 2], W = [[0.5], [-0.2]], b = [0], y = 0.3, half squared error, l1 = 0.1, lr = 0.5
    #   z = 1 * 0.5 + 2 * (-0.2) = 0.1          delta = dL/dz = z - y = -0.2
    #   data term: dW = x.T @ delta = [[-0.2], [-0.4]]     db = -0.2
    #   L1 term:   + 0.1 * sign(W) = [[0.1], [-0.1]]    ->  dW = [[-0.1], [-0.5]]
    #   loss = 0.5 * 0.2**2 + 0.1 * (0.5 + 0.2) = 0.02 + 0.07 = 0.09
    #   W <- W - 0.5 dW = [[0.55], [0.05]]              b <- 0 - 0.5 * (-0.2) = 0.1
    model = nn.Sequential(
        [nn.Dense(1, input_dim=2, l1=0.1, weights=[[0.5], [-0.2]])],
        loss="half_squared_error", optimizer="sgd", lr=0.5, seed=0, dtype="float64",
    )  # fmt: skip
    model.build(2)
    X, Y = model.prepare(np.array([[1.0, 2.0]]), np.array([0.3]))
    loss, _ = model.train_step(X, Y)
    assert loss == pytest.approx(0.09, rel=1e-12)  # float64 replay of the sums above
    np.testing.assert_allclose(model.layers[0].params["W"], [[0.55], [0.05]], rtol=1e-12)
    np.testing.assert_allclose(model.layers[0].params["b"], [0.1], rtol=1e-12)


# -- the property --------------------------------------------------------------------------------
def _sparse_problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """48 noisy samples of 12 features of which only the first 2 matter."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(48, 12))
    y = 2.0 * X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=48)
    return X, y


def _fitted_weights(l1: float) -> np.ndarray:
    X, y = _sparse_problem()
    model = nn.Sequential(
        [nn.Dense(1, l1=l1)], loss="mse", optimizer="sgd", lr=0.02, seed=0, dtype="float64"
    )
    model.fit(X, y, epochs=100, batch_size=16, verbose=False)
    return model.layers[0].params["W"].ravel()


def test_larger_l1_drives_more_weights_to_near_zero():
    # Without l1 the noise leaves the 10 irrelevant weights at up to ~0.15 (3 of them below 0.02
    # in a run); SGD with the subgradient lets a weight pulled to 0 hover within about lr * l1
    # (0.006 for l1 = 0.3) of it, so "near zero" is |w| < 0.02.
    counts, norms = [], []
    for l1 in (0.0, 0.03, 0.3):
        W = _fitted_weights(l1)
        counts.append(int(np.sum(np.abs(W) < 0.02)))
        norms.append(float(np.abs(W[2:]).sum()))
        assert np.all(np.abs(W[:2]) > 0.5), W  # the two features that matter stay
    assert counts[0] < counts[1] < counts[2] == 10, counts
    assert norms[0] > norms[1] > norms[2], norms


# -- the model file ------------------------------------------------------------------------------
def test_round_trip_through_the_model_file(tmp_path):
    model = _net(0.25, 0.1)
    path = model.save(tmp_path / "m.nbnet")
    loaded = load(path)
    l1s = [getattr(layer, "l1", None) for layer in loaded.layers]
    assert l1s == [0.25, None, 0.0, None, 0.125]
    assert loaded.penalty() == pytest.approx(model.penalty(), rel=1e-15)
    assert loaded.layers[0].get_config()["l1"] == 0.25


def test_files_without_l1_load_with_no_l1_term(tmp_path):
    path = _net(0.25).save(tmp_path / "m.nbnet")
    with zipfile.ZipFile(path) as zin:  # a file written before l1 existed: no "l1" key
        members = {name: zin.read(name) for name in zin.namelist()}
    header = json.loads(members["header.json"])
    for entry in header["model"]["config"]["layers"]:
        entry["config"].pop("l1", None)
    members["header.json"] = json.dumps(header).encode()
    old = Path(tmp_path / "old.nbnet")
    with zipfile.ZipFile(old, "w") as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    loaded = load(old)
    assert [layer.l1 for layer in loaded.layers if isinstance(layer, nn.Dense)] == [0.0] * 3


def test_a_file_with_a_negative_l1_is_refused_naming_it(tmp_path):
    path = _net(0.25).save(tmp_path / "m.nbnet")
    with zipfile.ZipFile(path) as zin:
        members = {name: zin.read(name) for name in zin.namelist()}
    header = json.loads(members["header.json"])
    header["model"]["config"]["layers"][0]["config"]["l1"] = -1.0
    members["header.json"] = json.dumps(header).encode()
    bad = Path(tmp_path / "bad.nbnet")
    with zipfile.ZipFile(bad, "w") as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    with pytest.raises(ValueError, match=r"l1 must be a finite number >= 0, got -1\.0"):
        read_model(bad)


# -- bad values ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (-0.1, ValueError, r"l1 must be a finite number >= 0, got -0\.1"),
        (float("nan"), ValueError, r"l1 must be a finite number >= 0, got nan"),
        (float("inf"), ValueError, r"l1 must be a finite number >= 0, got inf"),
        ("0.1", TypeError, r"l1 must be a number, got '0\.1'"),
        (True, TypeError, r"l1 must be a number, got True"),
    ],
)
def test_bad_l1_is_refused_with_a_clear_message(bad, error, message):
    with pytest.raises(error, match=message):
        nn.Dense(3, l1=bad)
    with pytest.raises(error, match=message):
        nn.Sequential.from_sizes([2, 3, 1], "tanh", l1=bad)


def test_explain_shows_the_l1_term_in_dw():
    model = nn.Sequential(
        [nn.Dense(3, input_dim=2, l1=0.1), nn.Tanh(), nn.Dense(1, l2=0.2)],
        loss="mse", seed=0, dtype="float64",
    )  # fmt: skip
    model.build(2)
    text = str(model.explain(np.array([[0.5, -1.0]]), np.array([0.3])))
    assert "dL/dW1 = a0.T @ delta1 + l1 * sign(W1)" in text
    assert "dL/dW2 = a1.T @ delta2 + l2 * W2" in text
    assert "sign(W2)" not in text
