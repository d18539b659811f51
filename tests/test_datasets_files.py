"""Tests for nablanet.datasets.files: loading CSV and .npz files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nablanet.datasets import load_csv, load_npz


def csv_file(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- load_csv


def test_csv_with_header_and_integer_labels(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "a,b,label\n1,2.5,0\n-3,4e2,1\n")
    X, y, names = load_csv(path)
    np.testing.assert_array_equal(X, [[1.0, 2.5], [-3.0, 400.0]])
    np.testing.assert_array_equal(y, [0, 1])
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert names == ["a", "b"]


def test_csv_matches_numpy_loadtxt(tmp_path: Path) -> None:
    data = np.random.default_rng(0).normal(size=(20, 4))
    data[:, -1] = np.arange(20) % 3
    path = tmp_path / "num.csv"
    np.savetxt(path, data, delimiter=",", fmt="%.17g")
    X, y, names = load_csv(path)
    reference = np.loadtxt(path, delimiter=",")
    np.testing.assert_array_equal(X, reference[:, :-1])
    np.testing.assert_array_equal(y, reference[:, -1].astype(np.int64))
    assert names == ["x0", "x1", "x2"]


def test_csv_label_column_by_name_and_index(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "f1,target,f2\n1,0.5,2\n3,1.5,4\n")
    X, y, names = load_csv(path, label_column="target")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(y, [0.5, 1.5])
    assert y.dtype == np.float64 and names == ["f1", "f2"]
    X, y, names = load_csv(path, label_column=0)
    np.testing.assert_array_equal(X, [[0.5, 2], [1.5, 4]])
    np.testing.assert_array_equal(y, [1, 3])
    assert names == ["target", "f2"]


def test_csv_string_labels_kept_as_strings(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "5.1,3.5,setosa\n7.0,3.2,versicolor\n")
    X, y, names = load_csv(path)  # no header: the features of line 1 are numbers
    assert X.shape == (2, 2)
    assert y.dtype.kind == "U"
    assert y.tolist() == ["setosa", "versicolor"]
    assert names == ["x0", "x1"]


def test_csv_header_inferred_from_label_column_alone(tmp_path: Path) -> None:
    # only the label field of line 1 is text while line 2's label is a number -> header
    path = csv_file(tmp_path, "1,2,class\n3,4,0\n5,6,1\n")
    _, y, names = load_csv(path)
    np.testing.assert_array_equal(y, [0, 1])
    assert names == ["1", "2"]


def test_csv_header_false_and_true(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "1,2,3\n4,5,6\n")
    X, _, names = load_csv(path, header=True)
    np.testing.assert_array_equal(X, [[4, 5]])
    assert names == ["1", "2"]
    text_first = csv_file(tmp_path, "a,b,c\n4,5,6\n", "t.csv")
    with pytest.raises(ValueError, match=r"line 1, column 0: 'a' is not a number"):
        load_csv(text_first, header=False)


def test_csv_other_delimiters_blank_lines_spaces_bom(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "\ufeffx;y;lab\n\n 1 ; 2 ;a\n\n3;4;b\n")
    X, y, names = load_csv(path, delimiter=";")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert y.tolist() == ["a", "b"] and names == ["x", "y"]
    tabbed = csv_file(tmp_path, "1\t2\t0\n3\t4\t1\n", "t.tsv")
    X, y, _ = load_csv(tabbed, delimiter="\t")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])


def test_csv_non_numeric_feature_names_line_column_value(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "a,b,y\n1,2,0\n\n3,oops,1\n")
    with pytest.raises(ValueError, match=r"line 4, column 1 \('b'\): 'oops' is not a number"):
        load_csv(path)
    empty_field = csv_file(tmp_path, "a,b,y\n1,,0\n", "e.csv")
    with pytest.raises(ValueError, match=r"line 2, column 1 \('b'\): '' is not a number"):
        load_csv(empty_field)


@pytest.mark.parametrize("bad", ["nan", "inf", "-Infinity"])
def test_csv_non_finite_feature_names_line(tmp_path: Path, bad: str) -> None:
    path = csv_file(tmp_path, f"1,2,0\n3,{bad},1\n")
    with pytest.raises(ValueError, match=f"line 2, column 1: '{bad}' is not a finite number"):
        load_csv(path)


def test_csv_ragged_row_names_line(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "a,b,y\n1,2,0\n3,1\n")
    with pytest.raises(ValueError, match="line 3: expected 3 fields like line 1, got 2"):
        load_csv(path)


def test_csv_structural_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.csv"):
        load_csv(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="is empty"):
        load_csv(csv_file(tmp_path, "", "empty.csv"))
    with pytest.raises(ValueError, match="is empty"):
        load_csv(csv_file(tmp_path, "\n  \n", "blank.csv"))
    with pytest.raises(ValueError, match="no data rows"):
        load_csv(csv_file(tmp_path, "a,b,y\n", "head.csv"))
    with pytest.raises(ValueError, match="at least 2"):
        load_csv(csv_file(tmp_path, "1\n2\n", "one.csv"))
    with pytest.raises(ValueError, match="label is empty"):
        load_csv(csv_file(tmp_path, "1,2,0\n3,4,\n", "nolabel.csv"))
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00a,b")
    with pytest.raises(ValueError, match="UTF-8"):
        load_csv(binary)


def test_csv_label_column_errors(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "a,b,y\n1,2,0\n")
    with pytest.raises(ValueError, match=r"'target' is not a column.*\['a', 'b', 'y'\]"):
        load_csv(path, label_column="target")
    with pytest.raises(ValueError, match="out of range"):
        load_csv(path, label_column=3)
    with pytest.raises(ValueError, match="no header row"):
        load_csv(path, label_column="y", header=False)
    with pytest.raises(TypeError, match="label_column"):
        load_csv(path, label_column=1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="header"):
        load_csv(path, header="yes")
    with pytest.raises(ValueError, match="delimiter"):
        load_csv(path, delimiter=", ")
    duplicated = csv_file(tmp_path, "a,y,y\n1,2,0\n", "dup.csv")
    with pytest.raises(ValueError, match="several columns"):
        load_csv(duplicated, label_column="y")


# ---------------------------------------------------------------- load_npz


def test_npz_round_trip_and_custom_keys(tmp_path: Path) -> None:
    X = np.random.default_rng(0).normal(size=(5, 3))
    y = np.array([0, 1, 0, 1, 1])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    X2, y2 = load_npz(tmp_path / "d.npz")
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    assert X2.dtype == np.float64
    np.savez(tmp_path / "e.npz", features=X.astype(np.float32), labels=y.reshape(-1, 1))
    X3, y3 = load_npz(tmp_path / "e.npz", x_key="features", y_key="labels")
    assert X3.dtype == np.float32 and y3.shape == (5,)


def test_npz_missing_key_lists_available(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", data=np.zeros((2, 2)), target=np.zeros(2))
    with pytest.raises(ValueError, match=r"no array named \['X', 'y'\].*\['data', 'target'\]"):
        load_npz(tmp_path / "d.npz")


def test_npz_object_arrays_are_not_unpickled(tmp_path: Path) -> None:
    objects = np.array([{"a": 1}, None], dtype=object)
    np.savez(tmp_path / "obj.npz", X=np.zeros((2, 2)), y=objects)
    with pytest.raises(ValueError, match="pickled data"):
        load_npz(tmp_path / "obj.npz")


def test_npz_shape_errors(tmp_path: Path) -> None:
    np.savez(tmp_path / "len.npz", X=np.zeros((3, 2)), y=np.zeros(4))
    with pytest.raises(ValueError, match="3 and 4"):
        load_npz(tmp_path / "len.npz")
    np.savez(tmp_path / "flat.npz", X=np.zeros(3), y=np.zeros(3))
    with pytest.raises(ValueError, match="2-D"):
        load_npz(tmp_path / "flat.npz")
    np.savez(tmp_path / "y2d.npz", X=np.zeros((3, 2)), y=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="1-D"):
        load_npz(tmp_path / "y2d.npz")


def test_npz_not_an_archive(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"none\.npz"):
        load_npz(tmp_path / "none.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"single \.npy array"):
        load_npz(tmp_path / "single.npy")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match=r"not an \.npz archive"):
        load_npz(tmp_path / "text.npz")
