"""ONNX export of every trainable loss x output pair, through the loss's link (issue 17).

Each case trains a small float64 network briefly, exports it, and compares onnxruntime's
float32 graph with ``predict_proba`` (rtol 1e-5, atol 1e-6) and ``predict``. Also: class labels
at the int64/uint64 extremes come out of the graph exactly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from nablanet import Sequential  # noqa: E402
from nablanet.losses import LINKS, get_loss  # noqa: E402
from nablanet.onnx_export import to_onnx  # noqa: E402

# float32 graph against the float64 model: the weights and X are rounded to float32 (relative
# 6e-8 each) and the graph sums in float32, so outputs of a few units agree to ~1e-6 relative.
RTOL, ATOL = 1e-5, 1e-6
# A label is compared only where the float64 model is clear of a tie: a probability within
# ATOL + RTOL of 0.5 (or of the runner-up class) may round to either side in float32, and then
# both labels are right. 1e-4 is four times the largest such rounding (2 * (RTOL + ATOL)).
MARGIN = 1e-4

SUM = {"outputs": "sum"}
# (loss, output layer, task): every pair that trains, i.e. whose output lies in the loss's
# domain. Cross-entropies need probabilities (a Sigmoid/Softmax layer, or their logits loss after
# a linear output); the Poisson deviance needs a positive mean (Exp, or its exp link); the
# squared errors take any output, and with several outputs and integer labels they classify
# (seeds 001 and 002). The last two of each classification block put a logits loss after its
# own activation: nablanet warns (a double squashing) but trains it, so it must export the same.
CASES = [
    *[
        (loss, output, task)
        for task in ("binary", "multilabel")
        for loss, output in [
            ("binary_cross_entropy", "sigmoid"),
            ({"name": "binary_cross_entropy", **SUM}, "sigmoid"),
            ("sigmoid_binary_cross_entropy", "identity"),
            ({"name": "sigmoid_binary_cross_entropy", **SUM}, "identity"),
            ("sigmoid_binary_cross_entropy", "sigmoid"),
        ]
    ],
    ("categorical_cross_entropy", "softmax", "multiclass"),
    ("softmax_cross_entropy", "identity", "multiclass"),
    ("softmax_cross_entropy", "softmax", "multiclass"),
    ("mse", "sigmoid", "multiclass"),
    ("sum_squared_error", "softmax", "multiclass"),
    ("half_squared_error", "identity", "multiclass"),
    *[
        (loss, output, task)
        for task in ("regression", "regression-2")
        for loss, output in [
            ("mse", "identity"),
            ("sum_squared_error", "identity"),
            ("half_squared_error", "identity"),
            ("mse", "tanh"),
            ("half_poisson_deviance", "exp"),
            ("exp_half_poisson_deviance", "identity"),
        ]
    ],
]
N_OUTPUTS = {"binary": 1, "multilabel": 3, "multiclass": 3, "regression": 1, "regression-2": 2}


def run(proto, X):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X.astype(np.float32)}), strict=True))


def targets(task, X, rng):
    """Targets the task's loss can learn from ``X`` (n, 4)."""
    score = X @ rng.normal(size=(4, 3))  # (n, 3)
    if task == "binary":
        return (score[:, 0] > 0).astype(int)
    if task == "multilabel":
        return (score > 0).astype(int)
    if task == "multiclass":
        return score.argmax(axis=1)
    k = N_OUTPUTS[task]
    return rng.poisson(np.exp(0.5 * np.tanh(score[:, :k]))).astype(float)  # counts, >= 0


def trained(loss, output, task, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 4))
    y = targets(task, X, rng)
    sizes = [4, 6, N_OUTPUTS[task]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a logits loss after its own activation
        model = Sequential.from_sizes(
            sizes, "tanh", output, loss=loss, lr=0.05, dtype="float64", seed=seed
        )
        model.fit(X, y, epochs=20, batch_size=50, verbose=False)
    return model, rng.normal(scale=1.5, size=(300, 4))


def clear_of_ties(proba, task):
    """Boolean mask of the predictions (rows, or entries for multilabel) that no float32
    rounding can flip: see MARGIN."""
    if task == "multiclass":
        top2 = np.sort(proba, axis=1)[:, -2:]
        return top2[:, 1] - top2[:, 0] > MARGIN
    clear = np.abs(proba - 0.5) > MARGIN
    return clear[:, 0] if task == "binary" else clear


def case_id(case):
    loss, output, task = case
    name = loss if isinstance(loss, str) else f"{loss['name']}-sum"
    return f"{name}-after-{output}-{task}"


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_onnxruntime_matches_predict_and_predict_proba(case, seed):
    loss, output, task = case
    model, X = trained(loss, output, task, seed)
    assert model.resolved_task() == task.split("-")[0]
    result = run(to_onnx(model), X)
    proba = model.predict_proba(X)  # float64: the link applied in double precision
    if task.startswith("regression"):
        np.testing.assert_allclose(result["variable"], proba, rtol=RTOL, atol=ATOL)
        pred = model.predict(X)  # (n,) for one output
        np.testing.assert_allclose(
            result["variable"].reshape(pred.shape), pred, rtol=RTOL, atol=ATOL
        )
        return
    expected = np.hstack([1 - proba, proba]) if task == "binary" else proba
    np.testing.assert_allclose(result["probabilities"], expected, rtol=RTOL, atol=ATOL)
    clear = clear_of_ties(proba, task)
    assert clear.mean() > 0.9  # the label comparison below covers nearly every row
    np.testing.assert_array_equal(result["label"][clear], model.predict(X)[clear])


def test_every_link_is_covered():
    links = {get_loss(loss).link for loss, _, _ in CASES}
    assert links == set(LINKS)


def test_the_link_is_a_node_after_the_last_layer():
    ops = {}
    for loss, last in [
        ("sigmoid_binary_cross_entropy", "Sigmoid"),
        ("softmax_cross_entropy", "Softmax"),
        ("exp_half_poisson_deviance", "Exp"),
        ("mse", "Identity"),  # no link node: the next is the "variable" output
    ]:
        model = Sequential.from_sizes([2, 3], loss=loss, seed=0)
        model.build(2)
        ops[loss] = [n.op_type for n in to_onnx(model).graph.node][:2]
        assert ops[loss] == ["Gemm", last], loss
    exp_layer = Sequential.from_sizes([2, 3], output="exp", loss="half_poisson_deviance", seed=0)
    exp_layer.build(2)
    assert [n.op_type for n in to_onnx(exp_layer).graph.node][:2] == ["Gemm", "Exp"]


# -- class labels at the extremes of their dtype ----------------------------------------------
EXTREME_CLASSES = [  # (classes, the graph's label dtype)
    (np.array([1, 2**63 + 1], dtype=np.uint64), np.uint64),  # wrapped to -2**63 + 1 before
    (np.array([0, 2**63, 2**64 - 1], dtype=np.uint64), np.uint64),
    (np.array([3, 2**63 - 1], dtype=np.uint64), np.int64),  # within int64: int64, as skl2onnx
    (np.array([-(2**63), 0, 2**63 - 1], dtype=np.int64), np.int64),
    (np.array([-1.0, 2.0**70]), np.float64),  # whole floats beyond int64: INT64_MIN before
    (np.array([0.5, 1e300]), np.float64),
    (np.array([-1, 2**64], dtype=object), object),  # Python ints beyond both: decimal strings
]


@pytest.mark.parametrize(
    ("classes", "label_dtype"),
    EXTREME_CLASSES,
    ids=[f"{c.dtype}-{c.tolist()}" for c, _ in EXTREME_CLASSES],
)
def test_labels_at_the_dtype_extremes_come_out_exactly(classes, label_dtype):
    k = len(classes)
    output, loss = ("sigmoid", "binary_cross_entropy") if k == 2 else ("softmax", "ce")
    model = Sequential.from_sizes([3, 4, 1 if k == 2 else k], "tanh", output, loss=loss, seed=0)
    model.build(3)
    model.classes_ = classes
    X = np.random.default_rng(0).normal(scale=3.0, size=(200, 3))
    label = run(to_onnx(model), X)["label"]
    expected = model.predict(X)
    assert set(expected.tolist()) == set(classes.tolist())  # every class is predicted
    assert label.dtype == label_dtype
    if classes.dtype == object:
        assert label.tolist() == [str(c) for c in expected.tolist()]  # exact decimal strings
    else:
        assert label.tolist() == expected.tolist()  # Python ints/floats: exact, no tolerance
    # a clone keeps them too (its config lists them as JSON; the array keeps the dtype)
    assert model.clone().predict(X).tolist() == expected.tolist()


def test_estimator_with_uint64_labels_exports_them_exactly():
    pytest.importorskip("sklearn")
    from nablanet.estimators import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] > 0, np.uint64(2**63 + 1), np.uint64(7))
    clf = MLPClassifier((6,), max_iter=300, tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: the run is cut short on purpose
        clf.fit(X, y)
    label = run(clf.to_onnx(), X)["label"]
    assert label.dtype == np.uint64
    assert label.tolist() == clf.predict(X).tolist()
    assert 2**63 + 1 in label.tolist()


@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "bce_with_logits"])
def test_cli_train_then_export_keeps_the_link(tmp_path, capsys, loss):
    # The commands: `nablanet train --data d.csv --output identity --loss L --out
    # m.nbnet && nablanet export m.nbnet m.onnx`. The graph gave the logits as probabilities
    # ([-0.252, -0.013] for [0.441, 0.559]); with bce_with_logits it thresholded z at 0.5.
    from nablanet import cli
    from nablanet.model_io import read_model

    rng = np.random.default_rng(0)
    X = rng.normal(loc=3.0, scale=2.0, size=(200, 3))
    y = (X[:, 0] + X[:, 1] > 6.0).astype(int)
    data = tmp_path / "d.csv"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", fmt=["%.6f"] * 3 + ["%d"])
    model, onnx_file = tmp_path / "m.nbnet", tmp_path / "m.onnx"
    # two outputs, one per class, as `train --output identity` builds them (with
    # bce_with_logits: two one-vs-rest sigmoids, the larger one predicted)
    argv = ["train", "--data", str(data), "--layers", "3-6-2", "--output", "identity"]
    argv += ["--loss", loss, "--epochs", "5", "--out", str(model)]
    assert cli.main(argv) == 0
    assert cli.main(["export", str(model), str(onnx_file)]) == 0
    capsys.readouterr()
    saved = read_model(model)
    result = run(onnx.load(onnx_file), X)  # raw features: the Standardizer is in the graph
    proba = saved.predict_proba(X)  # a float32 model: float32 on both sides
    assert saved.model.resolved_task() == "multiclass"
    np.testing.assert_allclose(result["probabilities"], proba, rtol=RTOL, atol=ATOL)
    clear = clear_of_ties(proba.astype(np.float64), "multiclass")
    assert clear.mean() > 0.9
    assert result["label"][clear].tolist() == saved.predict(X)[clear].tolist()
