"""The ``nablanet`` command's scripting conventions (issue 22 item 1, issue 21 item 6):
``-`` for stdin and stdout, ``--json``, ``-q``/``-v`` and the ``nablanet`` logger, exit
statuses, defaults in every ``--help``, ``--output-activation``, the bulk CSV reader and
Parquet for ``predict``/``evaluate``. The acceptance commands run as subprocesses with this
worktree's ``PYTHONPATH``; the rest runs :func:`nablanet.cli.main` in process."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nablanet
from nablanet import cli
from nablanet.model_io import read_model

SRC = str(Path(nablanet.__file__).resolve().parents[1])  # the src/ this test imports
ENV = {**os.environ, "PYTHONPATH": SRC}


def run(*args: str, cwd: Path, stdin: Any = None, **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nablanet", *args], cwd=cwd, stdin=stdin, capture_output=True,
        text=True, timeout=120, env=ENV, **kwargs,
    )  # fmt: skip


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """``command`` in bash, ``$PY`` standing for this interpreter."""
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**ENV, "PY": sys.executable},
    )  # fmt: skip


def _write_data(d: Path, n: int = 120, seed: int = 0) -> None:
    """d.csv (3 features, text labels in the last column) and x.csv (the features alone)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    labels = np.where(X[:, 0] + X[:, 1] > 0, "up", "down")
    with open(d / "d.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "c", "label"])
        writer.writerows(
            [[repr(float(v)) for v in row] + [lab] for row, lab in zip(X, labels, strict=True)]
        )
    with open(d / "x.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "c"])
        writer.writerows([[repr(float(v)) for v in row] for row in X])


@pytest.fixture(scope="module")
def work(tmp_path_factory: Any) -> Path:
    """d.csv, x.csv and m.nbnet, a classifier trained on d.csv."""
    d = tmp_path_factory.mktemp("conventions")
    _write_data(d)
    trained = run("train", "--data", "d.csv", "--epochs", "20", "--layers", "3-8-2",
                  "--out", "m.nbnet", "--no-progress", cwd=d)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    return d


# -- the four acceptance commands -------------------------------------------------------------
def test_train_reads_data_from_stdin(work: Path, tmp_path: Path) -> None:
    with open(work / "d.csv") as data:
        result = run("train", "--data", "-", "--epochs", "2", "--out", "s.nbnet", cwd=tmp_path,
                     stdin=data)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "data: <stdin>: 96 training and 24 test samples, 3 features, 2 classes" in result.stdout
    saved = read_model(tmp_path / "s.nbnet")
    assert saved.model.classes_.tolist() == ["down", "up"]
    assert saved.metadata["dataset"] == "<stdin>"


def test_predict_from_stdin_piped_into_head(work: Path, tmp_path: Path) -> None:
    _write_data(tmp_path, n=20000)  # far more than head reads: predict's writes meet a closed pipe
    result = shell(
        f'"$PY" -m nablanet predict {work / "m.nbnet"} - < x.csv | head -n 3; '
        'echo "status ${PIPESTATUS[0]}" >&2',
        cwd=tmp_path,
    )
    assert result.stdout.splitlines()[0] == "prediction"
    assert len(result.stdout.splitlines()) == 3
    assert set(result.stdout.splitlines()[1:]) <= {"down", "up"}
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    # 0 if every row fitted in the pipe before head closed it, else 141 (see the next test)
    assert result.stderr.splitlines()[-1] in ("status 0", "status 141"), result.stderr


def test_a_closed_stdout_exits_141_without_a_traceback(work: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before predict writes: every write fails (EPIPE)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "nablanet", "predict", "m.nbnet", "x.csv"], cwd=work,
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120, env=ENV,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""


def test_evaluate_json_through_json_tool(work: Path) -> None:
    result = shell('"$PY" -m nablanet evaluate m.nbnet d.csv --json | "$PY" -m json.tool', work)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert sorted(report) == ["accuracy", "loss", "n_samples"]
    assert report["n_samples"] == 120
    # the reference: the same model file and rows through the library, in float64 metrics
    saved = read_model(work / "m.nbnet")
    rows = list(csv.reader((work / "d.csv").read_text().splitlines()))[1:]
    X = np.array([[float(v) for v in r[:3]] for r in rows])
    y = np.array([saved.model.classes_.tolist().index(r[3]) for r in rows])
    expected = saved.model.evaluate(saved.transform(X), y)
    # JSON carries repr(float), which round-trips; the same computation on the same machine
    assert report["loss"] == pytest.approx(expected["loss"], rel=1e-12)
    assert report["accuracy"] == pytest.approx(expected["accuracy"], rel=1e-12)


def test_train_quiet_prints_nothing_on_stdout(tmp_path: Path) -> None:
    result = run("train", "--dataset", "xor", "--epochs", "2", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert (tmp_path / "model.nbnet").is_file()


@pytest.mark.parametrize(
    ("flags", "epoch_lines"),
    [([], 3), (["--progress"], 0), (["--progress", "-v"], 0), (["-q"], 0)],
)
def test_train_shows_each_epoch_once_on_stderr(tmp_path: Path, flags: list, epoch_lines: int):
    # stderr is a pipe here: one log line per epoch; --progress draws the bar in their place
    result = run("train", "--dataset", "xor", "--epochs", "3", *flags, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [x for x in result.stderr.splitlines() if x.startswith("epoch ")]
    assert len(lines) == epoch_lines, result.stderr
    assert [x.split()[1] for x in lines] == ["1/3", "2/3", "3/3"][:epoch_lines]
    assert ("3/3 [" in result.stderr) == ("--progress" in flags)  # the bar's last state


# -- stdin and stdout ---------------------------------------------------------------------------
def test_predict_and_evaluate_read_stdin_like_a_file(work: Path) -> None:
    from_file = run("predict", "m.nbnet", "x.csv", "--proba", cwd=work)
    with open(work / "x.csv") as data:
        from_stdin = run("predict", "m.nbnet", "-", "--proba", "--output", "-", cwd=work,
                         stdin=data)  # fmt: skip
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert from_stdin.stdout == from_file.stdout and len(from_file.stdout.splitlines()) == 121
    with open(work / "d.csv") as data:
        evaluated = run("evaluate", "m.nbnet", "-", cwd=work, stdin=data)
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stdout.startswith("<stdin>: 120 samples\n")
    assert (
        evaluated.stdout.split("\n", 1)[1]
        == run("evaluate", "m.nbnet", "d.csv", cwd=work).stdout.split("\n", 1)[1]
    )


def test_errors_in_stdin_name_stdin_not_a_temporary_file(tmp_path: Path) -> None:
    bad = "a,b,label\n1,2,x\n3,oops,y\n"
    result = run("train", "--data", "-", "--epochs", "1", cwd=tmp_path, input=bad)
    assert result.returncode == 2
    assert "'<stdin>', line 3, column 1 ('b'): 'oops' is not a number" in result.stderr
    assert "nablanet-stdin" not in result.stderr and list(tmp_path.iterdir()) == []


def test_stdin_from_a_terminal_is_refused(monkeypatch: Any, capsys: Any, tmp_path: Path) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--data", "-"]) == 2
    assert "--data -: stdin is a terminal" in capsys.readouterr().err


def test_train_out_dash_writes_the_model_file_to_stdout(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nablanet", "train", "--dataset", "xor", "--epochs", "2",
         "--out", "-"], cwd=tmp_path, capture_output=True, timeout=120, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert b"saved model to stdout" in result.stderr  # the human text moved to stderr
    (tmp_path / "piped.nbnet").write_bytes(result.stdout)
    assert read_model(tmp_path / "piped.nbnet").model.input_dim == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["piped.nbnet"]


def test_export_dash_writes_onnx_to_stdout(work: Path) -> None:
    onnx = pytest.importorskip("onnx")
    result = subprocess.run(
        [sys.executable, "-m", "nablanet", "export", "m.nbnet", "-"], cwd=work,
        capture_output=True, timeout=120, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    model = onnx.load_from_string(result.stdout)
    assert [i.name for i in model.graph.input] == ["X"]
    assert b"wrote stdout" in result.stderr


# -- --json -------------------------------------------------------------------------------------
def test_train_json_is_one_summary_object(tmp_path: Path, capsys: Any) -> None:
    monkey_cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        status = cli.main(["train", "--dataset", "moons", "--epochs", "4", "--layers", "2-8-2",
                           "--validation-split", "0.25", "--history", "h", "--json",
                           "--no-progress"])  # fmt: skip
    finally:
        os.chdir(monkey_cwd)
    out, err = capsys.readouterr()
    assert status == 0
    summary = json.loads(out)  # stdout holds the JSON and nothing else
    assert "network: 2-8-2" in err  # the human text went to stderr
    history = json.loads((tmp_path / "h.json").read_text())
    assert summary["epochs"] == 4 == len(history["epoch"])
    assert summary["train"] == {"loss": history["loss"][-1], "accuracy": history["accuracy"][-1]}
    assert summary["validation"] == {
        "loss": history["val_loss"][-1],
        "accuracy": history["val_accuracy"][-1],
    }
    assert summary["model"] == "model.nbnet" and summary["layers"] == [2, 8, 2]
    saved = read_model(tmp_path / "model.nbnet")
    assert summary["test"] == saved.metadata["test_metrics"]
    assert summary["stopped_early"] is None and summary["seconds"] > 0
    assert summary["history"] == ["h.json", "h.csv"]


def test_info_json(work: Path, capsys: Any) -> None:
    assert cli.main(["info", str(work / "m.nbnet"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    saved = read_model(work / "m.nbnet")
    assert info["n_params"] == 3 * 8 + 8 + 8 * 2 + 2
    assert info["classes"] == ["down", "up"] and info["task"] == "multiclass"
    assert info["config"] == json.loads(json.dumps(saved.model.get_config()))
    assert info["preprocessing"]["mean"] == pytest.approx(saved.preprocessing.mean_, rel=1e-15)


def test_predict_json_lines(work: Path, capsys: Any) -> None:
    model = str(work / "m.nbnet")
    assert cli.main(["predict", model, str(work / "x.csv")]) == 0
    labels = capsys.readouterr().out.splitlines()[1:]
    assert cli.main(["predict", model, str(work / "x.csv"), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["prediction"] for r in rows] == labels
    proba = np.array([r["proba"] for r in rows])
    assert proba.shape == (120, 2)
    # float32 softmax outputs: each row sums to 1 within float32 rounding (eps ~1.2e-7)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    classes = ["down", "up"]
    assert [classes[i] for i in proba.argmax(axis=1)] == labels


def test_predict_json_of_a_regressor_has_no_proba(tmp_path: Path, capsys: Any) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    np.savez(tmp_path / "r.npz", X=X, y=X[:, 0] - X[:, 1])
    out = str(tmp_path / "r.nbnet")
    assert cli.main(["train", "--data", str(tmp_path / "r.npz"), "--regression", "--epochs",
                     "2", "--out", out, "-q"]) == 0  # fmt: skip
    assert cli.main(["predict", out, str(tmp_path / "r.npz"), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 60 and all(list(r) == ["prediction"] for r in rows)
    assert cli.main(["evaluate", out, str(tmp_path / "r.npz"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(report) == ["loss", "n_samples", "r2"]
    metrics = pytest.importorskip("sklearn.metrics")
    pred = read_model(out).model.predict(read_model(out).transform(X))
    # float64 sums of the same 60 residuals in another order: agreement to 1e-12 relative
    assert report["r2"] == pytest.approx(metrics.r2_score(X[:, 0] - X[:, 1], pred), rel=1e-12)


# -- -q / -v and the logger ---------------------------------------------------------------------
def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_takes_quiet_and_verbose() -> None:
    for name, parser in _subparsers().items():
        options = {s for a in parser._actions for s in a.option_strings}
        assert {"-q", "--quiet", "-v", "--verbose"} <= options, name


@pytest.mark.parametrize(
    ("flags", "level"), [([], logging.INFO), (["-q"], logging.WARNING), (["-v"], logging.DEBUG)]
)
def test_quiet_and_verbose_set_the_nablanet_logger(monkeypatch, capsys, flags, level) -> None:
    from nablanet.cli import info

    seen = {}
    handlers_before = list(logging.getLogger("nablanet").handlers)  # the library's NullHandler

    def fake_run(args: argparse.Namespace) -> int:
        logger = logging.getLogger("nablanet")
        seen["level"] = logger.getEffectiveLevel()
        logging.getLogger("nablanet.training").info("an info record")
        logging.getLogger("nablanet.training").debug("a debug record")
        return 0

    monkeypatch.setattr(info, "run", fake_run)
    assert cli.main(["info", "m.nbnet", *flags]) == 0
    out, err = capsys.readouterr()
    assert seen["level"] == level
    assert out == ""  # records go to stderr, never into a command's data
    assert ("an info record" in err) == (level <= logging.INFO)
    assert ("a debug record" in err) == (level <= logging.DEBUG)
    assert logging.getLogger("nablanet").handlers == handlers_before  # removed after the command


# -- exit statuses ------------------------------------------------------------------------------
def test_every_help_lists_the_exit_statuses(capsys: Any) -> None:
    for name in [None, *_subparsers()]:
        with pytest.raises(SystemExit) as exited:
            cli.main(["--help"] if name is None else [name, "--help"])
        assert exited.value.code == 0
        text = capsys.readouterr().out
        for line in ("exit status:", "0    success", "1    a failed check", "2    bad usage",
                     "130  interrupted", "141  stdout closed early"):  # fmt: skip
            assert line in text, (name, line)


def test_exit_statuses(work: Path, monkeypatch: Any, capsys: Any) -> None:
    model = str(work / "m.nbnet")
    assert cli.main(["info", model, "-q"]) == 0
    assert cli.main(["gradcheck", model, "--tol", "1e-30", "-q"]) == 1
    assert cli.main(["predict", model, str(work / "missing.csv")]) == 2
    with pytest.raises(SystemExit) as exited:
        cli.main(["train", "--epochs", "many"])
    assert exited.value.code == 2
    capsys.readouterr()

    from nablanet.cli import info

    def interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(info, "run", interrupted)
    assert cli.main(["info", model]) == 130
    err = capsys.readouterr().err
    assert err == "nablanet: interrupted; nothing was written\n"


def test_gradcheck_quiet_prints_nothing(work: Path, capsys: Any) -> None:
    assert cli.main(["gradcheck", str(work / "m.nbnet"), "-q"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "PASSED" not in err  # warnings may still reach stderr


# -- help shows every default -------------------------------------------------------------------
def test_every_option_with_a_default_shows_it_in_help() -> None:
    checked = 0
    for name, parser in _subparsers().items():
        text = " ".join(parser.format_help().split())
        actions = [a for a in parser._actions if a.option_strings and a.help != argparse.SUPPRESS]
        starts = []
        for a in actions:
            invocation = ", ".join(a.option_strings)
            if a.nargs != 0:
                metavar = a.metavar or a.dest.upper()
                invocation = ", ".join(f"{s} {metavar}" for s in a.option_strings)
            if a.choices is not None and a.metavar is None:
                invocation = ", ".join(
                    f"{s} {{{','.join(map(str, a.choices))}}}" for s in a.option_strings
                )
            start = text.index(invocation, text.index("options:"))
            starts.append((start, a))
        starts.sort(key=lambda pair: pair[0])
        for (start, a), (end, _) in zip(starts, [*starts[1:], (len(text), None)], strict=True):
            if a.default is None or a.default is argparse.SUPPRESS or a.nargs == 0:
                continue
            assert f"default: {a.default}" in text[start:end], (name, a.option_strings)
            checked += 1
    assert checked >= 20  # train's --epochs, --batch-size, ...; gradcheck's eight; ...


# -- --output-activation (issue 21 item 6) ------------------------------------------------------
@pytest.mark.parametrize("command", ["train", "gradcheck"])
def test_output_activation_and_its_deprecated_alias(command: str, capsys: Any) -> None:
    parser = cli.build_parser()
    assert parser.parse_args([command, "--output-activation", "sigmoid"]).output == "sigmoid"
    assert capsys.readouterr().err == ""
    assert parser.parse_args([command, "--output", "sigmoid"]).output == "sigmoid"
    err = capsys.readouterr().err
    assert "--output is deprecated" in err and "use --output-activation" in err
    help_text = _subparsers()[command].format_help()
    assert "--output-activation NAME" in help_text
    assert "--output " not in help_text.replace("--output-activation", "")


def test_gradcheck_runs_with_output_activation(capsys: Any) -> None:
    args = ["gradcheck", "--layers", "2-4-1", "--output-activation", "sigmoid", "--loss",
            "binary_cross_entropy"]  # fmt: skip
    assert cli.main(args) == 0
    assert "PASSED" in capsys.readouterr().out


# -- data sets and readers ----------------------------------------------------------------------
def test_fashion_mnist_missing_names_the_package_and_idx_dir(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "nablanet", "train", "--dataset", "fashion-mnist"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**ENV, "NABLANET_FASHION_MNIST": str(empty)},
    )  # fmt: skip
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "dataset-fashion-mnist" in line and "--idx-dir DIR" in line
    assert "path=" not in line


def test_predict_without_label_column_reads_in_bulk(work: Path, monkeypatch, capsys) -> None:
    from nablanet.datasets import cells

    model = str(work / "m.nbnet")
    assert cli.main(["predict", model, str(work / "x.csv"), "--proba"]) == 0
    bulk = capsys.readouterr().out

    def field_by_field(*args: Any) -> Any:
        raise AssertionError("read field by field")

    monkeypatch.setattr(cells, "read_rows", field_by_field)
    assert cli.main(["predict", model, str(work / "x.csv"), "--proba"]) == 0
    assert capsys.readouterr().out == bulk  # never read field by field
    monkeypatch.undo()
    # the same predictions as the field-by-field reader gives (a file it must take: a NaN
    # refuses the bulk reader, and reaches the exact reader's message)
    (work / "nan.csv").write_text("a,b,c\n1,2,3\n1,nan,3\n")
    assert cli.main(["predict", model, str(work / "nan.csv")]) == 2
    assert "line 3, column 1: 'nan' is not a finite number" in capsys.readouterr().err


@pytest.mark.parametrize("engine", ["pyarrow", "numpy"])
def test_bulk_features_match_the_exact_reader(tmp_path: Path, engine: str) -> None:
    if engine == "pyarrow":
        pytest.importorskip("pyarrow")
    from nablanet.cli.data import _read_csv_features
    from nablanet.datasets.csv_fast import read_features_fast

    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 4)) * 1e3
    for header in (True, False):
        path = tmp_path / f"h{header}.csv"
        lines = (["p,q,r,s"] if header else []) + [",".join(map(repr, r.tolist())) for r in X]
        path.write_text("\n".join(lines) + "\n")
        fast = read_features_fast(path, None, engine=engine)
        assert fast is not None
        # repr(float) round-trips: both readers parse the same decimal text to the same double
        np.testing.assert_array_equal(fast, X)
        np.testing.assert_array_equal(_read_csv_features(path), X)


def test_predict_and_evaluate_read_parquet(work: Path, tmp_path: Path, capsys: Any) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = list(csv.reader((work / "d.csv").read_text().splitlines()))
    columns = {name: [float(r[j]) for r in rows[1:]] for j, name in enumerate(rows[0][:3])}
    pq.write_table(pa.table({**columns, "label": [r[3] for r in rows[1:]]}), tmp_path / "d.parquet")
    pq.write_table(pa.table(columns), tmp_path / "x.parquet")
    model = str(work / "m.nbnet")
    for args in (["predict", model, str(work / "x.csv")], ["evaluate", model, str(work / "d.csv")]):
        assert cli.main([*args, "--json"]) == 0
        from_csv = capsys.readouterr().out
        parquet = str(tmp_path / Path(args[2]).with_suffix(".parquet").name)
        assert cli.main([*args[:2], parquet, "--json"]) == 0
        assert capsys.readouterr().out == from_csv
    with open(tmp_path / "d.parquet", "rb") as data:  # and through stdin
        result = run("evaluate", model, "-", "--json", cwd=tmp_path, stdin=data)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(from_csv)


def test_parquet_without_pyarrow_is_a_clear_error(work, tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "x.parquet").write_bytes(b"PAR1 not really")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    assert cli.main(["predict", str(work / "m.nbnet"), str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert "needs pyarrow: pip install 'nablanet[parquet]'" in err and len(err.splitlines()) == 1


def test_r2_follows_scikit_learn_on_constant_outputs() -> None:
    # scikit-learn's r2_score (force_finite=True): a constant output scores 1.0 when predicted
    # exactly, else 0.0, and the outputs are averaged; never NaN
    metrics = pytest.importorskip("sklearn.metrics")
    from nablanet.metrics import r2_score

    rng = np.random.default_rng(0)
    varying = rng.normal(size=20)
    cases = [
        (np.full(20, 3.0), np.full(20, 3.0)),
        (np.full(20, 3.0), np.full(20, 2.0)),
        (
            np.c_[varying, np.full(20, 1.0)],
            np.c_[varying + 0.1 * rng.normal(size=20), np.zeros(20)],
        ),
        (varying, varying + rng.normal(size=20)),
    ]
    for y, pred in cases:
        assert r2_score(y, pred) == pytest.approx(metrics.r2_score(y, pred), rel=1e-12, abs=1e-15)


def test_binary_stdout_to_a_terminal_is_refused_before_any_work(monkeypatch, capsys, tmp_path):
    # nothing trained, nothing written: not the --history files either
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    argv = ["train", "--dataset", "xor", "--epochs", "2", "--out", "-", "--history", "h"]
    assert cli.main(argv) == 2
    assert "--out -: stdout is a terminal" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("flags", [[], ["--progress"]])
def test_an_early_stop_is_reported_once(tmp_path: Path, flags: list) -> None:
    result = run(
        "train", "--dataset", "moons", "--epochs", "60", "--early-stopping", "1",
        "--validation-split", "0.3", "--lr", "0.05", *flags, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    stops = [x for x in result.stderr.splitlines() if "early stopping at epoch" in x]
    assert len(stops) == 1, result.stderr


def test_closed_stdout_and_stdin_give_one_line_each(work: Path) -> None:
    # started with the descriptor closed: a one-line error and status 2, no traceback
    closed_out = shell('"$PY" -m nablanet info m.nbnet >&-', cwd=work)
    assert closed_out.returncode == 2
    assert (
        closed_out.stderr.strip()
        == "nablanet: error: stdout is closed; redirect it to a file or /dev/null"
    )
    closed_in = shell('"$PY" -m nablanet predict m.nbnet - <&-', cwd=work)
    assert closed_in.returncode == 2
    assert closed_in.stderr.strip() == (
        "nablanet: error: INPUT -: stdin is closed; pipe or redirect the data into it"
    )


def test_dask_refuses_stdin_before_connecting(tmp_path: Path) -> None:
    # a port nothing listens on: the refusal must come before any connection attempt
    result = run("train", "--dask", "127.0.0.1:1", "--data", "-", "--no-standardize", cwd=tmp_path)
    assert result.returncode == 2
    assert "--data - (stdin) is not available with --dask" in result.stderr


def test_r2_refuses_mismatched_or_empty_input() -> None:
    from nablanet.metrics import r2_score

    with pytest.raises(ValueError, match=r"different shapes: \(3,\) and \(2,\)"):
        r2_score([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="empty"):
        r2_score([], [])
