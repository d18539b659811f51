"""Tests for nablanet.datasets.files: loading CSV and .npz files."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nablanet.datasets import load_csv, load_npz
from nablanet.datasets.files import read_npz_arrays


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


# ---------------------------------------------------------------- issue 10: exact labels


@pytest.mark.parametrize(
    ("labels", "expected", "kind"),
    [
        (["9007199254740993", "9007199254740992"], [9007199254740993, 9007199254740992], "i"),
        (["1e20", "3e20"], ["100000000000000000000", "300000000000000000000"], "U"),
        (["1", "1.0", "1e0", "2"], [1, 1, 1, 2], "i"),
        (["9223372036854775807", "-9223372036854775808"],
         [9223372036854775807, -9223372036854775808], "i"),
        (["9223372036854775808", "1"], ["9223372036854775808", "1"], "U"),
        (["0.5", "1"], [0.5, 1.0], "f"),
    ],
)  # fmt: skip
def test_csv_labels_are_read_exactly(tmp_path: Path, labels, expected, kind) -> None:
    path = csv_file(tmp_path, "".join(f"{i},{i + 1},{v}\n" for i, v in enumerate(labels)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy cast warning
        _, y, _ = load_csv(path)
    assert y.dtype.kind == kind
    assert y.tolist() == expected
    assert len(set(y.tolist())) == len(set(expected))


def test_csv_label_with_absurdly_many_digits_is_refused(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "1,2,1e100000000\n3,4,0\n")
    with pytest.raises(ValueError, match=r"line 1: the label '1e100000000' has more than"):
        load_csv(path)


@pytest.mark.parametrize(
    "text",
    ["1.0,?,0.5,0\n2,3,4,1\n5,6,7,0\n", "1,x,2,0\n1,2,3,1\n", "a,1,2,0\n1,2,3,1\n"],
)
def test_csv_first_row_mixing_text_and_numbers_is_data_not_a_header(tmp_path, text) -> None:
    path = csv_file(tmp_path, text)
    with pytest.raises(ValueError, match=r"line 1, column \d: '\w*\??' is not a number.*header"):
        load_csv(path)


def test_csv_header_decided_from_every_row(tmp_path: Path) -> None:
    # a text label over labels that are not all numbers is a class, not a header
    path = csv_file(tmp_path, "1,2,class\n3,4,0\n5,6,dog\n")
    X, y, names = load_csv(path)
    assert len(X) == 3 and y.tolist() == ["class", "0", "dog"] and names == ["x0", "x1"]
    # all feature names text: a header, as before
    _, y, names = load_csv(csv_file(tmp_path, "a,b,y\n1,2,0\n", "h.csv"))
    assert names == ["a", "b"] and y.tolist() == [0]


# ---------------------------------------------------------------- issue 10: bad .npz files


def test_npz_text_renamed_npy_and_damaged_members_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "text.npz").write_text("1,2,3\n")
    with pytest.raises(ValueError, match=r"'.*text\.npz' is not an \.npz archive.*b'1,2,'"):
        load_npz(tmp_path / "text.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.npz' is not an \.npz archive.*empty file"):
        load_npz(tmp_path / "empty.npz")
    np.save(tmp_path / "renamed.npy", np.zeros(3))
    (tmp_path / "renamed.npy").rename(tmp_path / "renamed.npz")
    with pytest.raises(ValueError, match=r"renamed\.npz' is a single \.npy array"):
        load_npz(tmp_path / "renamed.npz")
    with zipfile.ZipFile(tmp_path / "zip.npz", "w") as zf:
        zf.writestr("X.npy", b"not an npy header")
        zf.writestr("y.npy", b"\x93NUMPY")
    with pytest.raises(ValueError, match=r"zip\.npz': array 'X' is damaged or not an \.npy"):
        load_npz(tmp_path / "zip.npz")
    objects = np.array([{"a": 1}, None], dtype=object)
    np.savez(tmp_path / "objx.npz", X=objects, y=np.zeros(2))
    with pytest.raises(ValueError, match=r"objx\.npz' holds object arrays .* in 'X'"):
        load_npz(tmp_path / "objx.npz")
    np.savez(tmp_path / "bytes.npz", X=np.zeros((2, 2)), y=np.zeros(2, dtype="V4"))
    with pytest.raises(ValueError, match=r"bytes\.npz'\[.y.\] has dtype"):
        load_npz(tmp_path / "bytes.npz")


def test_an_npz_member_whose_header_claims_more_than_it_holds_is_refused_unallocated(tmp_path):
    import io
    import tracemalloc
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
    )
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("X.npy", header.getvalue() + b"\0" * 64)
        zf.writestr("y.npy", header.getvalue())
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"array 'X' declares shape \(1000000, 1000000\)"):
            read_npz_arrays(path, ("X", "y"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20
