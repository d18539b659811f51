"""Seed 002 ("Neural Networks: The Backward Pass") from the CLI and the library: independent
sigmoid outputs on one-hot targets with the seed's squared error, for multiclass classification.

``predict`` is the argmax of the outputs; ``predict_proba`` is the outputs divided by their row
sum (one-vs-rest scores made to sum to 1, not calibrated probabilities); ONNX export and the
model file agree.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nablanet as nn
from nablanet.datasets import make_parity
from nablanet.model_io import load, read_model

# float32 network against float32 onnxruntime: the same products summed in another order,
# then a sigmoid and a division; a few float32 ulps of values in [0, 1]
ONNX_TOL = {"rtol": 1e-5, "atol": 1e-6}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nablanet", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def seed002(tmp_path_factory) -> tuple[Path, str]:
    """The seed's network trained by the command of issue 21, and what it printed."""
    d = tmp_path_factory.mktemp("seed002")
    result = run(
        "train", "--dataset", "parity", "--layers", "10-3-2", "--output", "sigmoid",
        "--loss", "sum_squared_error", "--out", "parity.nbnet", cwd=d,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return d, result.stdout


def _test_rows() -> np.ndarray:
    X, _ = make_parity(10)
    return X[700:].astype(np.float32)  # the parity data set's test rows


def _scores(model: nn.Sequential, X: np.ndarray) -> np.ndarray:
    """The two sigmoid outputs, straight from the layers."""
    return model.forward(model.check_X(X))


# -- the command ---------------------------------------------------------------------------------
def test_the_seed_network_trains_from_the_cli_and_reports_accuracy(seed002):
    d, out = seed002
    assert "network: 10-3-2," in out and "sigmoid output, loss sum_squared_error" in out
    line = next(line for line in out.splitlines() if line.startswith("test accuracy: "))
    assert float(line.split(": ")[1]) >= 0.95  # parity is the last bit: easily learnt
    model = read_model(d / "parity.nbnet").model
    assert model.task == "multiclass" and model.n_outputs == 2
    assert isinstance(model.layers[-1], nn.Sigmoid) and model.loss.name == "sum_squared_error"


def test_predict_is_the_argmax_and_proba_the_normalised_outputs(seed002):
    d, _ = seed002
    saved = read_model(d / "parity.nbnet")
    model, X = saved.model, saved.transform(_test_rows())  # the stored standardisation
    scores = _scores(model, X)
    assert not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3)  # independent sigmoids
    np.testing.assert_array_equal(model.predict(X), scores.argmax(axis=1))
    proba = model.predict_proba(X)
    # a float32 division per entry: within a few ulps of the exact ratio and of 1
    np.testing.assert_allclose(proba, scores / scores.sum(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(proba.argmax(axis=1), model.predict(X))


def test_predict_proba_from_the_cli_matches_the_library(seed002):
    d, _ = seed002
    X = _test_rows()[:20]
    np.savez(d / "rows.npz", X=X)
    result = run("predict", "parity.nbnet", "rows.npz", "--proba", cwd=d)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "prediction,p_0,p_1"
    printed = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    saved = read_model(d / "parity.nbnet")
    X_net = saved.transform(X)
    np.testing.assert_array_equal(printed[:, 0], saved.model.predict(X_net))
    np.testing.assert_array_equal(printed[:, 1:], saved.model.predict_proba(X_net))  # repr


def test_onnx_export_matches_onnxruntime(seed002):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    d, _ = seed002
    result = run("export", "parity.nbnet", "parity.onnx", cwd=d)
    assert result.returncode == 0, result.stderr
    saved = read_model(d / "parity.nbnet")
    X = _test_rows()
    session = ort.InferenceSession(str(d / "parity.onnx"), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {"X": X})
    scores = _scores(saved.model, saved.transform(X))
    np.testing.assert_allclose(proba, scores / scores.sum(axis=1, keepdims=True), **ONNX_TOL)
    np.testing.assert_allclose(proba, saved.model.predict_proba(saved.transform(X)), **ONNX_TOL)
    np.testing.assert_array_equal(label, saved.model.predict(saved.transform(X)))


def test_the_model_file_round_trips(seed002, tmp_path):
    d, _ = seed002
    model = load(d / "parity.nbnet")
    X = model.preprocessing_.transform(_test_rows())
    again = load(model.save(tmp_path / "again.nbnet"))
    assert again.task == "multiclass" and again.normalizes_proba()
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))


# -- the library path ----------------------------------------------------------------------------
def _library_model() -> tuple[nn.Sequential, np.ndarray, np.ndarray]:
    """Three blobs, Dense(3) + Sigmoid and the seed's squared error on integer labels."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    y = rng.integers(0, 3, size=150)
    X = centres[y] + rng.normal(size=(150, 2))
    model = nn.Sequential(
        [nn.Dense(4), nn.Sigmoid(), nn.Dense(3), nn.Sigmoid()],
        loss="sum_squared_error", optimizer="sgd", lr=0.5, seed=0,
    )  # fmt: skip
    model.fit(X, y, epochs=40, batch_size=10, verbose=False)
    return model, X, y


def test_library_sigmoid_outputs_with_squared_error_on_class_labels():
    model, X, y = _library_model()
    assert model.task == "multiclass" and model.normalizes_proba()
    scores = _scores(model, X)
    np.testing.assert_array_equal(model.predict(X), scores.argmax(axis=1))
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba, scores / scores.sum(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert model.evaluate(X, y)["accuracy"] >= 0.9  # three well separated blobs


def test_library_model_exports_to_onnx_with_the_normalisation():
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model, X, _ = _library_model()
    X = X.astype(np.float32)
    session = ort.InferenceSession(
        model.to_onnx().SerializeToString(), providers=["CPUExecutionProvider"]
    )
    label, proba = session.run(None, {"X": X})
    scores = _scores(model, X)
    np.testing.assert_allclose(proba, scores / scores.sum(axis=1, keepdims=True), **ONNX_TOL)
    np.testing.assert_array_equal(label, scores.argmax(axis=1))


def test_estimator_from_model_gives_the_same_probabilities():
    pytest.importorskip("sklearn")
    from nablanet.estimators import from_model

    model, X, _ = _library_model()
    est = from_model(model)
    np.testing.assert_allclose(est.predict_proba(X).sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(est.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(est.predict(X), model.predict(X))


@pytest.mark.parametrize("rows", [1, 5, 40])  # the one-call kernel (<= 12 rows) and BLAS
def test_the_fast_path_normalises_too(rows):
    # a ready array of the model's dtype takes nablanet._inference's fast path, in the model
    # and in a from_model estimator: its rows are divided by their sums like the checked path's
    model, X, _ = _library_model()
    ready = np.ascontiguousarray(X[:rows], dtype=model.dtype)
    scores = _scores(model, ready)
    want = scores / scores.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict_proba(ready), want, rtol=1e-5)
    if importlib.util.find_spec("sklearn") is not None:
        from nablanet.estimators import from_model

        est = from_model(model)
        np.testing.assert_allclose(est.predict_proba(ready), want, rtol=1e-5)
        np.testing.assert_allclose(est.predict_proba(ready).sum(axis=1), 1.0, rtol=1e-5)


def test_nan_scores_stay_nan_instead_of_a_uniform_row():
    # weights gone NaN must not look like confident uniform probabilities
    p = nn.losses.apply_link("identity", np.array([[np.nan, 0.5, 0.5]]), normalize=True)
    assert np.isnan(p).all()
    model, X, _ = _library_model()
    model.layers[2].params["W"][0, 0] = np.nan
    assert np.isnan(model.predict_proba(X[:3])).all()


def test_sigmoid_link_in_a_multiclass_task_is_normalised_too():
    # a sigmoid-link loss (BCE from logits) over 3 outputs, fitted as multiclass on one-hot rows
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 2)), rng.integers(0, 3, size=30)
    model = nn.Sequential([nn.Dense(3)], loss="sigmoid_binary_cross_entropy", seed=0)
    model.task = "multiclass"
    model.fit(X, y, epochs=2, verbose=False)
    z = model.forward(model.check_X(X))
    p = 1 / (1 + np.exp(-z.astype(np.float64)))
    np.testing.assert_allclose(model.predict_proba(X), p / p.sum(1, keepdims=True), rtol=1e-5)


def test_softmax_and_binary_and_multilabel_models_are_not_normalised():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 2))
    multilabel = nn.Sequential([nn.Dense(3), nn.Sigmoid()], loss="binary_cross_entropy", seed=0)
    multilabel.fit(X, rng.integers(0, 2, size=(20, 3)), epochs=1, verbose=False)
    assert multilabel.task == "multilabel" and not multilabel.normalizes_proba()
    np.testing.assert_array_equal(multilabel.predict_proba(X), _scores(multilabel, X))
    binary = nn.Sequential([nn.Dense(1), nn.Sigmoid()], loss="sum_squared_error", seed=0)
    binary.task = "binary"
    binary.fit(X, rng.integers(0, 2, size=20), epochs=1, verbose=False)
    assert not binary.normalizes_proba()
    softmax = nn.Sequential([nn.Dense(3), nn.Softmax()], seed=0)
    softmax.fit(X, rng.integers(0, 3, size=20), epochs=1, verbose=False)
    assert softmax.task == "multiclass" and not softmax.normalizes_proba()


def test_all_zero_scores_give_a_uniform_row():
    p = nn.losses.apply_link(
        "identity", np.array([[0.0, 0.0, 0.0], [0.2, 0.6, 0.2]]), normalize=True
    )
    np.testing.assert_array_equal(p, [[1 / 3, 1 / 3, 1 / 3], [0.2, 0.6, 0.2]])


# -- what the CLI refuses ------------------------------------------------------------------------
def test_sigmoid_with_more_classes_than_outputs_says_what_to_do(tmp_path):
    result = run(
        "train", "--dataset", "blobs", "--layers", "2-4-1", "--output", "sigmoid",
        "--epochs", "1", "--out", "m.nbnet", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert (
        "--output-activation sigmoid with 3 classes needs one output per class: end --layers with -3"
        in (result.stderr)
    )
    assert not (tmp_path / "m.nbnet").exists()


def test_categorical_cross_entropy_on_sigmoid_outputs_is_refused(tmp_path):
    result = run(
        "train", "--dataset", "parity", "--layers", "10-3-2", "--output", "sigmoid",
        "--loss", "categorical_cross_entropy", "--epochs", "1", "--out", "m.nbnet", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "never pushes the other classes' sigmoid outputs down" in result.stderr
    assert not (tmp_path / "m.nbnet").exists()
