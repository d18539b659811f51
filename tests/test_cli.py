"""Tests for nablanet.cli: the ``nablanet`` command, run as a subprocess (python -m nablanet)."""

# Each bad-input case must exit with status 2, print exactly one line on stderr starting with
# ``nablanet: error:``, and leave existing files byte-for-byte (and mtime) untouched.

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nablanet import cli
from nablanet.cli import common as cli_common
from nablanet.cli import train as cli_train
from nablanet.model_io import read_model

COLUMNS = ["width", "height", "depth", "species"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nablanet", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _write_csv(path: Path, X: np.ndarray, labels=None, header=COLUMNS) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header if labels is not None else header[:-1])
        for i, row in enumerate(X):
            writer.writerow(
                [repr(float(v)) for v in row] + ([labels[i]] if labels is not None else [])
            )
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A directory with labelled data (text labels), unlabelled data and a trained model."""
    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3)) * [1.0, 10.0, 0.1] + [0.0, 50.0, 1.0]
    labels = np.where(
        X[:, 0] + (X[:, 1] - 50) / 10 > 0, "iris", np.where(X[:, 2] > 1, "rose", "lily")
    )
    _write_csv(d / "flowers.csv", X, labels)
    _write_csv(d / "new.csv", X[:20])
    result = run(
        "train", "--data", "flowers.csv", "--label-column", "species", "--layers", "3-8-3",
        "--activation", "tanh", "--epochs", "40", "--batch-size", "16", "--lr", "0.02",
        "--seed", "1", "--out", "flowers.nbnet", "--history", "hist", "--plot", "curves.png",
        cwd=d,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "test accuracy:" in result.stdout
    return d


def _predictions(text: str) -> list[list[str]]:
    return list(csv.reader(text.splitlines()))


# -- the happy path ----------------------------------------------------------------------------
def test_train_writes_model_history_and_plot(work):
    saved = read_model(work / "flowers.nbnet")
    assert saved.model.classes_.tolist() == ["iris", "lily", "rose"]
    assert saved.preprocessing is not None  # --standardize is the default
    assert saved.metadata["dataset"] == "flowers.csv"
    history = json.loads((work / "hist.json").read_text())
    assert history["epoch"] == list(range(1, 41))
    assert len(history["loss"]) == 40 and history["loss"][-1] < history["loss"][0]
    rows = list(csv.reader((work / "hist.csv").read_text().splitlines()))
    assert rows[0] == ["epoch", "loss", "accuracy"] and len(rows) == 41
    if (work / "curves.png").exists():  # matplotlib installed
        assert (work / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predict_in_a_fresh_process_matches_in_process(work):
    result = run("predict", "flowers.nbnet", "new.csv", "--proba", cwd=work)
    assert result.returncode == 0, result.stderr
    rows = _predictions(result.stdout)

    saved = read_model(work / "flowers.nbnet")
    X = np.loadtxt(work / "new.csv", delimiter=",", skiprows=1)
    assert rows[0] == ["prediction", "p_iris", "p_lily", "p_rose"]
    assert [r[0] for r in rows[1:]] == saved.predict(X).tolist()
    proba = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    assert np.array_equal(proba, saved.predict_proba(X).astype(np.float64))


def test_predict_to_a_file_dropping_the_label_column(work):
    result = run(
        "predict", "flowers.nbnet", "flowers.csv", "--label-column", "species",
        "--output", "out.csv", cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    rows = _predictions((work / "out.csv").read_text())
    assert rows[0] == ["prediction"] and len(rows) == 151


def test_evaluate_reports_the_accuracy(work):
    result = run("evaluate", "flowers.nbnet", "flowers.csv", "--label-column", "species", cwd=work)
    assert result.returncode == 0, result.stderr

    saved = read_model(work / "flowers.nbnet")
    data = np.loadtxt(work / "flowers.csv", delimiter=",", skiprows=1, usecols=(0, 1, 2))
    truth = [row[3] for row in list(csv.reader(open(work / "flowers.csv")))[1:]]
    accuracy = np.mean(saved.predict(data) == np.array(truth))
    assert f"accuracy: {accuracy:.4f}" in result.stdout


def test_info_with_weights_prints_every_neuron(work):
    result = run("info", "flowers.nbnet", "--weights", cwd=work)
    assert result.returncode == 0, result.stderr
    model = read_model(work / "flowers.nbnet").model
    assert "classes: ['iris', 'lily', 'rose']" in result.stdout
    assert result.stdout.count("--- [ Neuron ] ---") == 8 + 3
    assert model.info(print_fn=None) in result.stdout


def test_gradcheck_on_an_architecture_passes():
    result = run(
        "gradcheck", "--layers", "2-4-3-1", "--activation", "relu,tanh", "--output", "sigmoid",
        "--loss", "binary_cross_entropy", cwd=Path.cwd(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "PASSED" in result.stdout and "2: Dense" in result.stdout


def test_gradcheck_exits_1_when_the_tolerance_is_not_met(work):
    result = run("gradcheck", "flowers.nbnet", "--tol", "1e-30", cwd=work)
    assert result.returncode == 1
    assert "FAILED" in result.stdout


def test_explain_seed001_example():
    result = run("explain", "--example", "seed001", cwd=Path.cwd())
    assert result.returncode == 0, result.stderr
    z1_1 = 0.17152165622510307 + 1.2 * 0.6852769816973125 + 1.6 * 0.8338968626360765
    assert f"{z1_1:.13f}" in result.stdout
    assert "delta2 = dL/da2 * sigma'(z2)" in result.stdout
    assert "dL/dW1 = a0.T @ delta1" in result.stdout


def test_explain_a_saved_model_on_raw_input(work):
    result = run("explain", "flowers.nbnet", "--input", "0.5,52,1.1", "--target", "rose", cwd=work)
    assert result.returncode == 0, result.stderr
    assert "standardized" in result.stdout
    assert "y = [[0.0, 0.0, 1.0]]" in result.stdout  # "rose" is the third class
    assert "dL/da2 = -y / a2 / n" in result.stdout


def test_no_arguments_trains_a_default_model(tmp_path):
    result = run(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split("test accuracy:")[1].split()[0])
    assert accuracy > 0.9
    assert (tmp_path / "model.nbnet").exists()


def test_version_and_help(capsys):
    from nablanet import __version__

    result = run("--version", cwd=Path.cwd())
    assert result.returncode == 0 and result.stdout.strip() == f"nablanet {__version__}"
    for command in ("train", "predict", "evaluate", "info", "gradcheck", "explain"):
        with pytest.raises(SystemExit) as info:
            cli.main([command, "--help"])
        assert info.value.code == 0
        text = capsys.readouterr().out
        assert "examples:" in text and f"nablanet {command}" in text


# -- bad input: exit 2, one line, nothing touched -------------------------------------------
@pytest.fixture
def guarded(work, tmp_path):
    """Existing output files with known content, to check they are left alone."""
    model_copy = tmp_path / "keep.nbnet"
    model_copy.write_bytes((work / "flowers.nbnet").read_bytes())
    for name in ("keep.csv", "hist.json", "hist.csv"):
        (tmp_path / name).write_text("precious\n")
    for name in ("flowers.csv", "new.csv"):
        (tmp_path / name).write_bytes((work / name).read_bytes())
    (tmp_path / "nan.csv").write_text("width,height,depth,species\n1,2,nan,iris\n3,4,5,lily\n")
    (tmp_path / "corrupt.nbnet").write_bytes(model_copy.read_bytes()[:-100])
    (tmp_path / "two.csv").write_text("a,b\n1,2\n")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    yield tmp_path
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert after == before


TRAIN_OUT = ["--out", "keep.nbnet", "--history", "hist", "--epochs", "2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--data", "missing.csv", *TRAIN_OUT], "CSV file not found: 'missing.csv'"),
        (["train", "--data", "flowers.csv", "--label-column", "colour", *TRAIN_OUT],
         "label_column 'colour' is not a column"),
        (["train", "--data", "nan.csv", "--label-column", "species", *TRAIN_OUT],
         "line 2, column 2 ('depth'): 'nan' is not a finite number"),
        (["train", "--dataset", "mnist-ish", *TRAIN_OUT], "unknown dataset 'mnist-ish'"),
        (["train", "--data", "flowers.csv", "--layers", "3-8-2", *TRAIN_OUT],
         "ends with 2 outputs, but this data and --output-activation softmax need 3"),
        (["train", "--dataset", "xor", "--out", "no/such/dir/m.nbnet"],
         "cannot write 'no/such/dir/m.nbnet': directory"),
        (["predict", "corrupt.nbnet", "new.csv", "--output", "keep.csv"], "corrupt.nbnet"),
        (["predict", "keep.nbnet", "two.csv", "--output", "keep.csv"],
         "'two.csv' has 2 feature columns but the model expects 3"),
        (["predict", "keep.nbnet", "flowers.csv", "--output", "keep.csv"],
         "column 3: 'rose' is not a number; if that column holds the labels, name it with --label-column"),
        (["predict", "keep.nbnet", "new.csv", "--output", "nowhere/p.csv"],
         "cannot write 'nowhere/p.csv'"),
        (["train", "--epochs", "many"], "argument --epochs: invalid int value: 'many'"),
        (["train", "--momentum", "1.5", *TRAIN_OUT], "--momentum must be in [0, 1), got 1.5"),
        (["train", "--momentum", "-0.1", *TRAIN_OUT], "--momentum must be in [0, 1), got -0.1"),
        (["train", "--optimizer", "adam", "--momentum", "0.9", *TRAIN_OUT],
         "--momentum and --nesterov are options of --optimizer sgd, got --optimizer adam"),
        (["train", "--nesterov", *TRAIN_OUT], "--nesterov needs --momentum above 0 (e.g. 0.9), "
         "got no --momentum"),
        (["train", "--momentum", "0", "--nesterov", *TRAIN_OUT],
         "--nesterov needs --momentum above 0 (e.g. 0.9), got --momentum 0.0"),
        (["train", "--init", "random", *TRAIN_OUT], "argument --init: invalid choice: 'random'"),
        (["train", "--dataset", "moons", "--output-activation", "sigmoid", "--loss",
          "categorical_cross_entropy", *TRAIN_OUT],
         "--loss categorical_cross_entropy needs one output per class (--output-activation softmax)"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line_and_touches_nothing(guarded, args, message):
    result = run(*args, cwd=guarded)

    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nablanet: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


# -- argument helpers (in process) ---------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "n_features", "expected"),
    [("64-10", 64, [64, 10]), ("32-10", 64, [64, 32, 10]), ("10", 64, [64, 10])],
)
def test_layers_may_start_with_the_input_size(text, n_features, expected):
    args = cli.build_parser().parse_args(["train", "--layers", text])
    assert cli_train.architecture(args, n_features, 10) == expected


def test_bad_layer_text_is_refused():
    args = cli.build_parser().parse_args(["train", "--layers", "64-x-10"])
    with pytest.raises(ValueError, match="positive sizes joined by '-'"):
        cli_train.architecture(args, 64, 10)
    with pytest.raises(ValueError, match="2 names for 3 hidden layers"):
        cli_common.parse_activations("relu,tanh", 3)


def test_no_stray_temporary_files(work):
    assert not [p.name for p in work.iterdir() if p.name.startswith(".")]
    assert os.path.getsize(work / "flowers.nbnet") > 0


def test_export_writes_an_onnx_file_that_predicts_like_the_model(work):
    ort = pytest.importorskip("onnxruntime")
    result = run("export", "flowers.nbnet", "flowers.onnx", cwd=work)
    assert result.returncode == 0, result.stderr
    saved = read_model(work / "flowers.nbnet")
    X_raw = np.random.default_rng(5).normal(size=(30, 3)) * [1.0, 10.0, 0.1] + [0.0, 50.0, 1.0]
    session = ort.InferenceSession(str(work / "flowers.onnx"))
    _, proba = session.run(["label", "probabilities"], {"X": X_raw.astype(np.float32)})
    # the file's standardisation is folded into the graph: raw features in, same probabilities out
    expected = saved.model.predict_proba(saved.preprocessing.transform(X_raw.astype(np.float32)))
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)


def test_export_of_a_missing_model_exits_2_and_writes_nothing(work):
    result = run("export", "missing.nbnet", "out.onnx", cwd=work)
    assert result.returncode == 2
    assert result.stderr.startswith("nablanet: error:") and "missing.nbnet" in result.stderr
    assert not (work / "out.onnx").exists()


# -- issue 10, class 1: outputs never overwrite inputs or each other ---------------------------
def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def clashing(work, tmp_path):
    """Inputs, a symbolic and a hard link to one, and an IDX directory; snapshot checked after."""
    (tmp_path / "keep.nbnet").write_bytes((work / "flowers.nbnet").read_bytes())
    for name in ("flowers.csv", "new.csv"):
        (tmp_path / name).write_bytes((work / name).read_bytes())
    (tmp_path / "hist.csv").write_bytes((work / "flowers.csv").read_bytes())  # data named hist
    (tmp_path / "sym.csv").symlink_to("new.csv")
    os.link(tmp_path / "new.csv", tmp_path / "hard.csv")
    (tmp_path / "sub").mkdir()
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03")
    before = _snapshot(tmp_path)
    yield tmp_path
    assert _snapshot(tmp_path) == before
    assert not [p for p in tmp_path.rglob(".*")]  # no temporary files


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["train", "--data", "flowers.csv", "--out", "flowers.csv"], ["--out", "--data"]),
        (["train", "--data", "flowers.csv", "--out", "./sub/../flowers.csv"],
         ["./sub/../flowers.csv", "--data"]),
        (["train", "--data", "hist.csv", "--label-column", "species", "--history", "hist"],
         ["hist.csv", "--data 'hist.csv'"]),
        (["train", "--data", "flowers.csv", "--out", "m.nbnet", "--plot", "m.nbnet"],
         ["--plot 'm.nbnet'", "--out 'm.nbnet'"]),
        (["train", "--data", "flowers.csv", "--out", "h.json", "--history", "h"],
         ["h.json", "--out"]),
        (["train", "--data", "sym.csv", "--out", "new.csv"], ["'new.csv'", "'sym.csv'"]),
        (["train", "--data", "flowers.csv", "--plot", "hard.csv", "--out", "new.csv"],
         ["--out 'new.csv'", "--plot 'hard.csv'"]),
        (["train", "--idx-dir", "idx", "--out", "idx/train-images-idx3-ubyte"],
         ["--out", "train-images-idx3-ubyte"]),
        (["predict", "keep.nbnet", "new.csv", "--output", "keep.nbnet"],
         ["--output 'keep.nbnet'", "MODEL 'keep.nbnet'"]),
        (["predict", "keep.nbnet", "new.csv", "--output", "new.csv"],
         ["--output 'new.csv'", "INPUT 'new.csv'"]),
        (["predict", "keep.nbnet", "new.csv", "--output", "sym.csv"], ["'sym.csv'", "'new.csv'"]),
        (["predict", "keep.nbnet", "new.csv", "--output", "hard.csv"], ["'hard.csv'", "'new.csv'"]),
        (["predict", "keep.nbnet", "sym.csv", "--output", "hard.csv"], ["'hard.csv'", "'sym.csv'"]),
        (["export", "keep.nbnet", "keep.nbnet"], ["OUTPUT 'keep.nbnet'", "MODEL 'keep.nbnet'"]),
        (["export", "keep.nbnet", f"sub{os.sep}..{os.sep}keep.nbnet"], ["MODEL 'keep.nbnet'"]),
    ],
)  # fmt: skip
def test_an_output_that_is_an_input_or_another_output_is_refused(clashing, args, names):
    result = (
        run(*args, "--epochs", "1", cwd=clashing)
        if args[0] == "train"
        else run(*args, cwd=clashing)
    )
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nablanet: error: "), result.stderr
    assert "is the same file as" in lines[0] and "nothing was written" in lines[0]
    for name in names:
        assert name in lines[0]
    assert result.stdout == ""  # refused before any work: no data read, no training


def test_distinct_outputs_and_symlinked_directories_are_fine(work, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to("real")
    (tmp_path / "real" / "new.csv").write_bytes((work / "new.csv").read_bytes())
    result = run("predict", str(work / "flowers.nbnet"), "alias/new.csv", "--output",
                 "real/out.csv", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "real" / "out.csv").read_text().startswith("prediction\n")


# -- issue 10, class 3: labels are identities ----------------------------------------------
def _labelled(path: Path, labels: list[str], seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(len(labels), 2)) + np.array([[3.0, 0.0]]) * (
        np.array([labels.index(v) % 2 for v in labels])[:, None] * 2 - 1
    )
    with open(path, "w", newline="") as f:
        for row, label in zip(X.tolist(), labels, strict=True):
            f.write(f"{row[0]!r},{row[1]!r},{label}\n")
    return path


@pytest.mark.parametrize(
    ("a", "b", "classes"),
    [
        ("9007199254740992", "9007199254740993", [9007199254740992, 9007199254740993]),
        ("1e20", "3e20", ["100000000000000000000", "300000000000000000000"]),
        ("-9223372036854775809", "9223372036854775808",
         ["-9223372036854775809", "9223372036854775808"]),
        ("cat", "dog", ["cat", "dog"]),
    ],
)  # fmt: skip
def test_labels_are_never_merged_through_float64(tmp_path, a, b, classes):
    labels = [a, b] * 30
    # which rows are `a` decides the data: _labelled shifts them by the first index of the label
    _labelled(tmp_path / "d.csv", labels)
    result = run("train", "--data", "d.csv", "--epochs", "20", "--out", "m.nbnet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr  # no NumPy cast warning
    assert ", 2 classes" in result.stdout
    saved = read_model(tmp_path / "m.nbnet")
    assert saved.model.classes_.tolist() == classes
    predicted = run("predict", "m.nbnet", "d.csv", "--label-column", "-1", cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    assert {r[0] for r in _predictions(predicted.stdout)[1:]} <= {str(c) for c in classes}
    evaluated = run("evaluate", "m.nbnet", "d.csv", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert float(evaluated.stdout.split("accuracy:")[1].split()[0]) > 0.9


def test_training_labels_all_in_one_class_are_refused(tmp_path):
    _labelled(tmp_path / "one.csv", ["7"] * 20)
    result = run("train", "--data", "one.csv", "--out", "m.nbnet", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "all 16 training labels are in one class (7)" in lines[0]
    assert not (tmp_path / "m.nbnet").exists()


def test_a_bad_first_row_is_an_error_not_a_dropped_header(work, tmp_path):
    rows = (work / "new.csv").read_text().splitlines()[1:7]
    (tmp_path / "q.csv").write_text("1.0,?,0.5\n" + "\n".join(rows) + "\n")
    result = run("predict", str(work / "flowers.nbnet"), "q.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "line 1, column 1: '?' is not a number" in result.stderr
    (tmp_path / "q.csv").write_text("\n".join(rows) + "\n")  # header-less: every row predicted
    result = run("predict", str(work / "flowers.nbnet"), "q.csv", cwd=tmp_path)
    assert result.returncode == 0 and len(_predictions(result.stdout)) == 1 + 6
    labelled = (work / "flowers.csv").read_text().splitlines()[1:9]
    (tmp_path / "t.csv").write_text("1.0,?,0.5,iris\n" + "\n".join(labelled) + "\n")
    result = run("train", "--data", "t.csv", "--out", "m.nbnet", cwd=tmp_path)
    assert result.returncode == 2
    assert "line 1, column 1: '?' is not a number" in result.stderr


# -- issue 10, class 5: large values, divergence, bad .npz, full disk, opset -------------------
def _huge(path: Path, big: float) -> Path:
    rng = np.random.default_rng(3)
    with open(path, "w") as f:
        for i in range(40):
            x0 = big if i % 2 else -big
            f.write(f"{x0!r},{float(rng.normal())!r},{i % 2}\n")
    return path


@pytest.mark.parametrize("big", [1e308, 1e200])
def test_huge_values_say_what_is_wrong_up_front(tmp_path, big):
    _huge(tmp_path / "big.csv", big)
    result = run("train", "--data", "big.csv", "--no-standardize", "--out", "m.nbnet",
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "values too large for float32" in lines[0]
    assert "column 0" in lines[0] and "NaN" not in lines[0]
    assert result.stdout == "" or "trained" not in result.stdout
    assert not (tmp_path / "m.nbnet").exists()
    # standardized (the default), the same data trains, saves and predicts
    result = run("train", "--data", "big.csv", "--epochs", "5", "--out", "m.nbnet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    saved = read_model(tmp_path / "m.nbnet")
    assert np.isfinite(saved.preprocessing.scale_).all()
    result = run("evaluate", "m.nbnet", "big.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_predict_on_values_beyond_float32_after_standardisation(work, tmp_path):
    (tmp_path / "far.csv").write_text("1e200,50,1\n")
    result = run("predict", str(work / "flowers.nbnet"), "far.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "values too large for float32" in result.stderr and "row 0, column 0" in result.stderr


def test_divergence_is_one_error_and_writes_nothing(work, tmp_path):
    result = run("train", "--data", str(work / "flowers.csv"), "--label-column", "species",
                 "--lr", "1e308", "--epochs", "5", "--out", "m.nbnet", "--history", "h",
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nablanet: error: training diverged")
    assert "--lr (it was 1e+308)" in lines[0] and "nothing was written" in lines[0]
    assert "trained" not in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("1,2,3\n4,5,6\n"), "is not an .npz archive"),
        (lambda p: np.save(open(p, "wb"), np.zeros((2, 3))), "single .npy array"),
        (lambda p: np.savez(open(p, "wb"), X=np.array([[None, 1, 2]], dtype=object), y=[0]),
         "object arrays"),
        (lambda p: p.write_bytes(b"PK\x03\x04garbage"), "not a readable .npz archive"),
    ],
)  # fmt: skip
def test_bad_npz_inputs_name_the_file_and_the_problem(work, tmp_path, make, message):
    make(tmp_path / "in.npz")
    for command in ("predict", "evaluate"):
        result = run(command, str(work / "flowers.nbnet"), "in.npz", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and "'in.npz'" in lines[0] and message in lines[0], lines
    result = run("train", "--data", "in.npz", "--out", "m.nbnet", cwd=tmp_path)
    assert result.returncode == 2 and "'in.npz'" in result.stderr and message in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_file_size_limit_names_the_file(work, tmp_path):
    import resource

    def limit(size: int) -> Any:  # larger writes fail with EFBIG (errno 27), as a full disk
        return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    cases = [
        (["train", "--dataset", "xor", "--epochs", "1", "--layers", "2-200-2", "--out",
          "big.nbnet"], "big.nbnet"),
        (["predict", str(work / "flowers.nbnet"), str(work / "flowers.csv"), "--label-column",
          "species", "--proba", "--output", "p.csv"], "p.csv"),
    ]  # fmt: skip
    if importlib.util.find_spec("onnx") is not None:
        cases.append((["export", str(work / "flowers.nbnet"), "x.onnx"], "x.onnx"))
    for args, name in cases:
        result = subprocess.run(
            [sys.executable, "-m", "nablanet", *args], cwd=tmp_path, capture_output=True,
            text=True, timeout=120, preexec_fn=limit(256),
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        # the per-epoch log lines (stderr is not a terminal: no bar), then one error line
        lines = [x for x in result.stderr.splitlines() if not x.startswith("epoch ")]
        assert len(lines) == 1 and f"cannot write '{name}'" in lines[0], result.stderr
        assert "File too large" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("opset", ["100000", "12", "0", "-1"])
def test_export_refuses_an_opset_out_of_range(work, tmp_path, opset):
    pytest.importorskip("onnx")
    result = run("export", str(work / "flowers.nbnet"), "x.onnx", "--opset", opset, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "opset" in lines[0] and opset in lines[0]
    assert not (tmp_path / "x.onnx").exists()


def _wait_for_output(proc: subprocess.Popen[str], marker: bytes, timeout: float) -> bytes:
    """The child's stdout read until a line holding ``marker`` has been printed; fails the test
    (after killing the child) if it is not printed within ``timeout`` seconds or stdout ends."""
    import selectors
    import time

    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while marker not in seen:
            left = deadline - time.monotonic()
            ready = left > 0 and selector.select(left)
            chunk = os.read(proc.stdout.fileno(), 4096) if ready else None
            if not chunk:  # timed out, or stdout closed: the child will never print it
                proc.kill()
                _, err = proc.communicate(timeout=60)
                reason = f"within {timeout:.0f} s" if chunk is None else "before its stdout closed"
                pytest.fail(f"the child did not print {marker!r} {reason}; "
                            f"return code {proc.returncode}, stdout {seen!r}, stderr {err!r}")  # fmt: skip
            seen += chunk
    return seen


def test_sigterm_during_training_cleans_up_like_ctrl_c(tmp_path):
    import signal

    pytest.importorskip("sklearn")  # the default data set is scikit-learn's digits
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "nablanet", "train", "--epochs", "100000", "--out", "m.nbnet"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    # Signal only once training is under way, not after a fixed sleep (too short on a loaded
    # machine: the default SIGTERM action kills a child still importing). `train` prints its
    # "network:" line (unbuffered: -u) inside main's SIGTERM handler, just before fitting.
    _wait_for_output(proc, b"\nnetwork: ", timeout=120)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted; nothing was written" in err
    assert list(tmp_path.iterdir()) == []  # no model, no temporary file


def test_a_header_with_numeric_column_names_needs_header_and_header_reads_it(tmp_path):
    rows = ["id,2019,2020,label"] + [f"{i},{i + 1},{i % 3},{'ab'[i % 2]}" for i in range(12)]
    (tmp_path / "years.csv").write_text("\n".join(rows) + "\n")
    refused = run("train", "--data", "years.csv", "--epochs", "2", cwd=tmp_path)
    assert refused.returncode == 2
    assert "line 1, column 0: 'id' is not a number" in refused.stderr
    assert "--header" in refused.stderr  # the way out, named
    assert not (tmp_path / "model.nbnet").exists()
    trained = run("train", "--data", "years.csv", "--header", "--epochs", "2", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    (tmp_path / "new.csv").write_text("id,2019,2020\n1,2,0\n4,5,1\n")
    predicted = run("predict", "model.nbnet", "new.csv", "--header", cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    assert (
        predicted.stdout.splitlines()[0] == "prediction" and len(predicted.stdout.splitlines()) == 3
    )
    as_data = run("predict", "model.nbnet", "new.csv", "--no-header", cwd=tmp_path)
    assert as_data.returncode == 2 and "'id' is not a number" in as_data.stderr


# -- momentum, Nesterov and the initializer (issue 12) --------------------------------------
def _train_in_process(tmp_path: Path, name: str, *options: str) -> tuple[Any, str]:
    """Train on moons in this process; return the saved model file's content and stdout."""
    out = tmp_path / f"{name}.nbnet"
    args = ["train", "--dataset", "moons", "--layers", "2-8-2", "--epochs", "3",
            "--seed", "3", "--out", str(out), "--no-progress", *options]  # fmt: skip
    assert cli.main(args) == 0
    return read_model(out), str(out)


def test_momentum_nesterov_and_init_are_saved_shown_and_used(tmp_path, capsys):
    nesterov, path = _train_in_process(
        tmp_path, "nesterov", "--momentum", "0.9", "--nesterov", "--init", "he_normal"
    )
    trained = capsys.readouterr().out
    assert "SGD(lr=0.01, momentum=0.9, nesterov=True)" in trained
    assert "initial weights he_normal" in trained
    # In the saved config ...
    optimizer = nesterov.model.optimizer
    assert (type(optimizer).__name__, optimizer.momentum, optimizer.nesterov) == ("SGD", 0.9, True)
    dense = [layer for layer in nesterov.model.layers if hasattr(layer, "kernel_initializer")]
    assert [layer.kernel_initializer for layer in dense] == ["he_normal", "he_normal"]
    # ... and shown by info.
    assert cli.main(["info", path]) == 0
    info = capsys.readouterr().out
    assert "momentum=0.9, nesterov=True" in info
    assert "initial weights: he_normal" in info

    # The same run without momentum (and the default initializer) learns other weights.
    plain, _ = _train_in_process(tmp_path, "plain", "--optimizer", "sgd", "--init", "he_normal")
    momentum, _ = _train_in_process(
        tmp_path, "momentum", "--momentum", "0.9", "--init", "he_normal"
    )
    assert plain.model.optimizer.momentum == 0.0
    assert momentum.model.optimizer.nesterov is False
    weights = [m.model.parameters_to_vector() for m in (plain, momentum, nesterov)]
    assert not np.allclose(weights[0], weights[1], atol=1e-4)
    assert not np.allclose(weights[1], weights[2], atol=1e-4)
    # Glorot (the default before the softmax layer) vs He normal: other initial weights.
    default, _ = _train_in_process(tmp_path, "default", "--optimizer", "sgd")
    assert [la.kernel_initializer for la in default.model.layers[::2]] == [
        "he_uniform", "glorot_uniform"]  # fmt: skip
    capsys.readouterr()


@pytest.mark.parametrize(
    ("output", "loss", "task", "columns"),
    [
        ("sigmoid", "half_squared_error", "binary", ["prediction", "p_1"]),
        ("sigmoid", "mse", "binary", ["prediction", "p_1"]),
        ("softmax", "sum_squared_error", "multiclass", ["prediction", "p_0", "p_1"]),
    ],
)
def test_a_squared_error_classifier_stays_a_classifier(tmp_path, capsys, output, loss, task,
                                                        columns):  # fmt: skip
    layers = "2-8-1" if output == "sigmoid" else "2-8-2"
    saved, path = _train_in_process(
        tmp_path, "sq", "--layers", layers, "--output", output, "--loss", loss,
        "--epochs", "30", "--lr", "0.01",
    )  # fmt: skip
    trained = capsys.readouterr().out
    assert "test accuracy:" in trained
    assert saved.model.task == task
    assert saved.model.is_classifier()
    X = np.random.default_rng(0).normal(size=(40, 2))
    labels = (X[:, 0] > 0).astype(int)
    data = tmp_path / "points.csv"
    np.savetxt(data, np.column_stack([X, labels]), delimiter=",", fmt=["%.6f", "%.6f", "%d"])

    assert cli.main(["predict", path, str(data), "--label-column", "-1", "--proba"]) == 0
    rows = _predictions(capsys.readouterr().out)
    assert rows[0] == columns and len(rows) == 41
    probabilities = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    assert {row[0] for row in rows[1:]} <= {"0", "1"}

    assert cli.main(["evaluate", path, str(data)]) == 0
    evaluated = capsys.readouterr().out
    expected = np.mean(saved.predict(X) == labels)
    assert f"accuracy: {expected:.4f}" in evaluated


def test_regression_stays_regression_with_a_sigmoid_output(tmp_path, capsys):
    # --regression decides the task even when the output and the labels look like a classifier's
    saved, _ = _train_in_process(
        tmp_path, "reg", "--layers", "2-8-1", "--output", "sigmoid", "--loss", "mse", "--regression"
    )
    assert saved.model.task == "regression"
    assert "test accuracy" not in capsys.readouterr().out
