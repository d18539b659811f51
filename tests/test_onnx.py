"""Tests for nablanet.onnx_export: onnxruntime reproduces the probabilities (1e-5) and labels."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from nablanet import Sequential  # noqa: E402
from nablanet.layers import Dense, Layer  # noqa: E402
from nablanet.onnx_export import to_onnx  # noqa: E402
from nablanet.preprocessing import Standardizer  # noqa: E402

TASKS = {  # task -> (output activation, loss)
    "binary": ("sigmoid", "binary_cross_entropy"),
    "multiclass": ("softmax", "categorical_cross_entropy"),
    "multilabel": ("sigmoid", "binary_cross_entropy"),
    "regression": ("identity", "mse"),
}
HIDDEN = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]


def run(proto, X):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X.astype(np.float32)}), strict=True))


def make_model(depth, activation, task, n_features, width, seed):
    n_out = {"binary": 1, "multiclass": 4, "multilabel": 3, "regression": 2}[task]
    output, loss = TASKS[task]
    sizes = [n_features] + [width] * (depth - 1) + [n_out]
    model = Sequential.from_sizes(sizes, activation, output, loss=loss, seed=seed)
    model.task = task
    return model


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    depth=st.integers(1, 4),
    activation=st.sampled_from(HIDDEN),
    task=st.sampled_from(sorted(TASKS)),
    n_features=st.integers(1, 6),
    width=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_onnxruntime_matches_nablanet(depth, activation, task, n_features, width, seed):
    model = make_model(depth, activation, task, n_features, width, seed)
    X = np.random.default_rng(seed).normal(scale=2.0, size=(64, n_features)).astype(np.float32)
    result = run(to_onnx(model), X)
    proba = model.predict_proba(X)
    if task == "regression":
        np.testing.assert_allclose(result["variable"], proba, atol=1e-5)
        return
    expected = np.hstack([1 - proba, proba]) if task == "binary" else proba
    np.testing.assert_allclose(result["probabilities"], expected, atol=1e-5)
    np.testing.assert_array_equal(result["label"], model.predict(X))
    assert result["label"].dtype == np.int64


def test_every_activation_is_a_node():
    model = Sequential.from_sizes(
        [3, 4, 4, 4, 4, 2],
        ["sigmoid", "tanh", "relu", "leaky_relu", "softmax"],
        loss="categorical_cross_entropy",
        dropout=0.5,
        seed=0,
    )
    ops = [node.op_type for node in to_onnx(model).graph.node]
    assert ops[:10] == [
        "Gemm",
        "Sigmoid",
        "Gemm",
        "Tanh",
        "Gemm",
        "Relu",
        "Gemm",
        "LeakyRelu",
        "Gemm",
        "Softmax",
    ]
    leaky = next(n for n in to_onnx(model).graph.node if n.op_type == "LeakyRelu")
    assert leaky.attribute[0].f == pytest.approx(0.01)


def test_estimators_export_labels_and_probabilities(tmp_path):
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_iris

    from nablanet.estimators import MLPClassifier, MLPRegressor

    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    for target in (names, y == 2, y + 10):
        clf = MLPClassifier((8,), max_iter=300, random_state=0).fit(X, target)
        result = run(clf.to_onnx(tmp_path / "clf.onnx"), X)
        np.testing.assert_allclose(result["probabilities"], clf.predict_proba(X), atol=1e-5)
        np.testing.assert_array_equal(result["label"], clf.predict(X))
    assert onnx.load(tmp_path / "clf.onnx").graph.input[0].name == "X"
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X, X[:, 0])
    np.testing.assert_allclose(run(reg.to_onnx(), X)["variable"][:, 0], reg.predict(X), atol=1e-5)


def test_float64_model_and_folded_standardizer():
    rng = np.random.default_rng(0)
    X_raw = rng.normal(loc=50.0, scale=10.0, size=(40, 3))
    scaler = Standardizer().fit(X_raw)
    model = Sequential.from_sizes(
        [3, 5, 3], "tanh", "softmax", loss="categorical_cross_entropy", seed=1, dtype="float64"
    )
    result = run(to_onnx(model, preprocessing=scaler), X_raw)
    expected = model.predict_proba(scaler.transform(X_raw))
    np.testing.assert_allclose(result["probabilities"], expected, atol=1e-5)
    np.testing.assert_array_equal(result["label"], expected.argmax(1))


def test_export_errors_leave_no_file(tmp_path):
    class Odd(Layer):
        def forward(self, x, training=False):
            return x

    model = Sequential([Dense(2), Odd()], seed=0)
    model.build(3)
    target = tmp_path / "m.onnx"
    with pytest.raises(TypeError, match="cannot export layer 1 \\(Odd\\)"):
        to_onnx(model, target)
    assert not target.exists() and not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="must be built"):
        to_onnx(Sequential([Dense(2)]))
    with pytest.raises(ValueError, match="opset must be an integer >= 13, got 9"):
        to_onnx(make_model(1, "relu", "binary", 2, 2, 0), opset=9)


def test_export_command_folds_the_standardizer(tmp_path, capsys):
    from nablanet.cli import main
    from nablanet.model_io import read_model

    rng = np.random.default_rng(0)
    raw = rng.normal(loc=5.0, scale=3.0, size=(80, 4))
    y = (raw[:, 0] > 5.0).astype(int)
    scaler = Standardizer().fit(raw)
    model = Sequential.from_sizes(
        [4, 6, 1], "relu", "sigmoid", loss="binary_cross_entropy", lr=0.1, seed=0
    )
    model.fit(scaler.transform(raw), y, epochs=5, verbose=False)
    model.save(tmp_path / "m.nbnet", preprocessing=scaler)
    assert main(["export", str(tmp_path / "m.nbnet"), str(tmp_path / "m.onnx")]) == 0
    assert "outputs label, probabilities" in capsys.readouterr().out
    saved = read_model(tmp_path / "m.nbnet")
    result = run(onnx.load(tmp_path / "m.onnx"), raw)  # raw features in, as `nablanet predict`
    np.testing.assert_allclose(result["probabilities"][:, 1:], saved.predict_proba(raw), atol=1e-5)
    np.testing.assert_array_equal(result["label"], saved.predict(raw))

    assert main(["export", str(tmp_path / "missing.nbnet"), str(tmp_path / "x.onnx")]) == 2
    assert "error: model file not found" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()


def test_sequential_to_onnx_writes_the_file(tmp_path):
    model = make_model(2, "tanh", "multiclass", 3, 5, seed=7)
    proto = model.to_onnx(tmp_path / "seq.onnx")
    assert onnx.load(tmp_path / "seq.onnx") == proto
    X = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    np.testing.assert_allclose(run(proto, X)["probabilities"], model.predict_proba(X), atol=1e-5)


# -- issue 10: the opset range and write errors ------------------------------------------------
def _small_model():
    return Sequential.from_sizes(
        [2, 3, 2], ["relu", "softmax"], loss="categorical_cross_entropy", seed=0
    )


@pytest.mark.parametrize("opset", [onnx.defs.onnx_opset_version() + 1, 100000])
def test_an_opset_beyond_what_onnx_knows_is_refused(tmp_path, opset):
    with pytest.raises(ValueError, match=rf"opset {opset} is out of range.*up to \d+"):
        to_onnx(_small_model(), tmp_path / "m.onnx", opset=opset)
    assert not (tmp_path / "m.onnx").exists()


def test_every_opset_in_range_loads_in_onnxruntime():
    X = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    model = _small_model()
    for opset in range(13, onnx.defs.onnx_opset_version() + 1):
        try:
            proto = to_onnx(model, opset=opset)
        except ValueError as exc:  # an onnxruntime older than onnx: refused by name
            assert f"opset {opset} is not supported by the installed onnxruntime" in str(exc)
            continue
        proba = run(proto, X)["probabilities"]
        np.testing.assert_allclose(proba, model.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_an_opset_onnxruntime_cannot_load_is_refused(tmp_path, monkeypatch):
    class Failing:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("ValidateOpsetForDomain: opset 17 is under development")

    monkeypatch.setattr(ort, "InferenceSession", Failing)
    with pytest.raises(ValueError, match=r"opset 17 is not supported by the installed onnxruntime"):
        to_onnx(_small_model(), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
