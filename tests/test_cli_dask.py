"""``nablanet train --dask ADDRESS --data 'part-*.csv'``: many files, each read on a worker, on a
cluster started here (in-process workers on 127.0.0.1) and closed at the end."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")
distributed = pytest.importorskip("distributed")

from nablanet import cli  # noqa: E402
from nablanet.estimators import from_model  # noqa: E402
from nablanet.model_io import read_model  # noqa: E402

NAMES = np.array(["ant", "bee", "cat"])


@pytest.fixture(scope="module")
def address():
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=False,
        protocol="tcp://",  # the command connects by address, as to a real scheduler
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    with cluster:
        yield cluster.scheduler_address


def _parts(tmp_path, n_files=3, rows=200):
    """Three well-separated blobs in ``n_files`` CSV files: header ``a,b,kind,c``."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n_files * rows)
    X = rng.normal(size=(len(y), 3)) * 0.5 + np.eye(3)[y] * 3
    for i in range(n_files):
        lines = ["a,b,kind,c"]
        for row, label in zip(
            X[i * rows : (i + 1) * rows], y[i * rows : (i + 1) * rows], strict=True
        ):
            a, b, c = (repr(float(v)) for v in row)
            lines.append(f"{a},{b},{NAMES[label]},{c}")
        (tmp_path / f"part-{i}.csv").write_text("\n".join(lines) + "\n")
    return X, y


def test_train_dask_reads_the_files_on_the_workers(address, tmp_path, capsys):
    X, y = _parts(tmp_path)
    out = tmp_path / "model.nbnet"
    pattern = str(tmp_path / "part-*.csv")
    argv = ["train", "--dask", address, "--data", pattern, "--label-column", "kind"]
    argv += ["--layers", "3-16-3", "--epochs", "5", "--batch-size", "50", "--lr", "0.01"]
    assert cli.main([*argv, "--out", str(out)]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "3 files matching" in printed and "network: 3-16-3, 2 replicas" in printed
    est = from_model(out)  # an ordinary model file: what `nablanet predict` reads
    assert list(est.classes_) == ["ant", "bee", "cat"]
    assert np.mean(est.predict(X) == NAMES[y]) > 0.95  # separated blobs; chance is 1/3
    assert read_model(out).metadata["dask"] == address


def test_train_dask_reports_a_bad_file_and_writes_nothing(address, tmp_path, capsys):
    _parts(tmp_path, n_files=2)
    (tmp_path / "part-2.csv").write_text("a,b,kind,c\n1,2,ant,3\n4,oops,bee,6\n")
    out = tmp_path / "model.nbnet"
    argv = ["train", "--dask", address, "--data", str(tmp_path / "part-*.csv")]
    status = cli.main([*argv, "--label-column", "kind", "--epochs", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and "part-2.csv', line 3, column 1 ('b'): 'oops' is not a number" in err
    assert not out.exists()


def test_train_dask_refuses_what_it_cannot_do_before_connecting(tmp_path, capsys):
    nowhere = "tcp://127.0.0.1:9"  # nothing listens: a refusal must come first
    base = ["train", "--dask", nowhere, "--data", str(tmp_path / "p-*.csv")]
    for extra, message in (
        (["--history", str(tmp_path / "h")], "--history: not available with --dask"),
        (["--standardize"], "--standardize is not available with --dask"),
        (["--output", "sigmoid"], "--output: not available with --dask"),
    ):
        assert cli.main([*base, *extra]) == 2
        assert message in capsys.readouterr().err
    assert cli.main(["train", "--dask", nowhere, "--dataset", "moons"]) == 2
    assert "--dask needs --data" in capsys.readouterr().err


def test_train_dask_checks_the_output_size(address, tmp_path, capsys):
    _parts(tmp_path, n_files=2)
    out = tmp_path / "model.nbnet"
    argv = ["train", "--dask", address, "--data", str(tmp_path / "part-*.csv"), "--epochs", "1"]
    assert cli.main([*argv, "--label-column", "kind", "--layers", "8-4", "--out", str(out)]) == 2
    assert "ends with 4 outputs, but this data needs 3" in capsys.readouterr().err
    assert not out.exists()
