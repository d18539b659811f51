"""Tests for nablanet.datasets.load_parquet and ``nablanet train --data FILE.parquet``."""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np
import pytest

from nablanet.datasets import load_csv, load_parquet

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _write(tmp_path: Path, columns: dict, name: str = "d.parquet") -> Path:
    path = tmp_path / name
    pq.write_table(pa.table(columns), path)
    return path


def test_parquet_reads_features_labels_and_names(tmp_path: Path) -> None:
    path = _write(tmp_path, {
        "a": pa.array([1.5, -0.0, 3.0]),
        "b": pa.array([1, 2, 3], type=pa.int32()),
        "species": pa.array(["iris", "rose", "iris"]),
    })  # fmt: skip
    X, y, names = load_parquet(path)
    assert X.dtype == np.float64 and X.shape == (3, 2)
    np.testing.assert_array_equal(X, [[1.5, 1], [-0.0, 2], [3, 3]])
    assert np.signbit(X[1, 0])
    assert y.dtype.kind == "U" and y.tolist() == ["iris", "rose", "iris"]
    assert names == ["a", "b"]
    numeric = _write(tmp_path, {"a": pa.array([1.5, 2.5]), "b": pa.array([7, 8])}, "n.parquet")
    for label in ("a", 0, -2):
        X, y, names = load_parquet(numeric, label_column=label)
        assert y.dtype == np.float64 and y.tolist() == [1.5, 2.5] and names == ["b"]
        np.testing.assert_array_equal(X, [[7.0], [8.0]])


def test_parquet_labels_as_a_csv_file_gives_them(tmp_path: Path) -> None:
    cases = [
        (pa.array([1.0, 2.0, 1.0]), [1, 2, 1], np.int64),  # whole-number floats: classes
        (pa.array([0.5, 2.0, 1.0]), [0.5, 2.0, 1.0], np.float64),
        (pa.array([2**63, 1, 0], type=pa.uint64()), ["9223372036854775808", "1", "0"], np.str_),
        (pa.array([9007199254740993, 1, 0], type=pa.int64()), [9007199254740993, 1, 0], np.int64),
        (pa.array(["a", "b", "a"]).dictionary_encode(), ["a", "b", "a"], np.str_),
    ]
    for labels, expected, dtype in cases:
        path = _write(tmp_path, {"x": pa.array([1.0, 2.0, 3.0]), "y": labels})
        _, y, _ = load_parquet(path)
        assert y.dtype.type is np.dtype(dtype).type, labels
        assert y.tolist() == expected
    # the same labels in a CSV file
    (tmp_path / "d.csv").write_text("1,1.0\n2,2.0\n3,1e0\n")
    path = _write(tmp_path, {"x": pa.array([1.0, 2.0, 3.0]), "y": pa.array([1.0, 2.0, 1.0])})
    assert load_parquet(path)[1].tolist() == load_csv(tmp_path / "d.csv")[1].tolist()


def test_parquet_bad_files_name_the_problem(tmp_path: Path) -> None:
    x = pa.array([1.0, 2.0])
    cases = [
        (
            {"x": pa.array(["1", "2"]), "y": pa.array([0, 1])},
            r"column 0 \('x'\) holds string, not numbers",
        ),
        (
            {"x": pa.array([1.0, None]), "y": pa.array([0, 1])},
            r"column 0 \('x'\): 1 missing value\(s\), the first in row 1",
        ),
        (
            {"x": pa.array([1.0, float("nan")]), "y": pa.array([0, 1])},
            r"column 0 \('x'\), row 1: nan is not a finite number",
        ),
        ({"x": x, "y": pa.array([0, None])}, r"label column 'y', row 1: the label is missing"),
        ({"x": x, "y": pa.array(["a", ""])}, r"label column 'y', row 1: the label is empty"),
        ({"x": x, "y": pa.array([0.0, float("inf")])}, r"label 1 is inf"),
        ({"x": x}, r"1 column\(s\); at least 2"),
        ({"x": pa.array([], type=pa.float64()), "y": pa.array([], type=pa.int64())}, "no rows"),
    ]
    for i, (columns, message) in enumerate(cases):
        path = _write(tmp_path, columns, f"bad{i}.parquet")
        with pytest.raises((ValueError, TypeError), match=message):
            load_parquet(path)
    path = _write(tmp_path, {"x": x, "y": pa.array([0, 1])})
    with pytest.raises(ValueError, match=r"'target' is not a column.*\['x', 'y'\]"):
        load_parquet(path, label_column="target")
    with pytest.raises(TypeError, match="labels must be integers, floats or strings"):
        load_parquet(_write(tmp_path, {"x": x, "y": pa.array([True, False])}, "b.parquet"))
    with pytest.raises(FileNotFoundError, match=r"missing\.parquet"):
        load_parquet(tmp_path / "missing.parquet")
    (tmp_path / "text.parquet").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"text\.parquet' is not a readable Parquet file"):
        load_parquet(tmp_path / "text.parquet")


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch) -> None:
    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.split(".")[0] == "pyarrow":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ImportError, match=r"pip install 'nablanet\[parquet\]'"):
        load_parquet(tmp_path / "any.parquet")


def test_cli_trains_on_a_parquet_file(tmp_path: Path, capsys) -> None:
    from nablanet.cli import main

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    species = np.where(X[:, 0] > 0, "iris", "rose")
    _write(tmp_path, {"w": X[:, 0], "h": X[:, 1], "species": pa.array(species.tolist())},
           "flowers.parquet")  # fmt: skip
    out = tmp_path / "m.nbnet"
    code = main(["train", "--data", str(tmp_path / "flowers.parquet"), "--epochs", "2",
                 "--out", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr()
    from nablanet.model_io import read_model

    saved = read_model(out)
    assert saved.model.classes_.tolist() == ["iris", "rose"]
    assert "flowers.parquet: 48 training and 12 test samples, 2 features" in capsys.readouterr().out
