"""Tests for nablanet.cli: the ``nablanet`` command, run as a subprocess (python -m nablanet)."""

# Each bad-input case must exit with status 2, print exactly one line on stderr starting with
# ``nablanet: error:``, and leave existing files byte-for-byte (and mtime) untouched.

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nablanet import cli
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
         "ends with 2 outputs, but this data and --output softmax need 3"),
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
    assert cli._architecture(args, n_features, 10) == expected


def test_bad_layer_text_is_refused():
    args = cli.build_parser().parse_args(["train", "--layers", "64-x-10"])
    with pytest.raises(ValueError, match="positive sizes joined by '-'"):
        cli._architecture(args, 64, 10)
    with pytest.raises(ValueError, match="2 names for 3 hidden layers"):
        cli._activations("relu,tanh", 3)


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
