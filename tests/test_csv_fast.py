"""load_csv's bulk readers (pyarrow, np.loadtxt) give exactly what the field-by-field reader gives.

Over a battery of files, each engine's result is compared with ``engine="python"`` (the exact
reader): the same arrays bit for bit (``-0.0`` is not ``0.0``), dtypes, labels and names, or
the same error type and message. Clean files must be read by the bulk reader itself (else the
comparison would be the exact reader against itself).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nablanet.datasets import _csv_fast, load_csv
from nablanet.datasets._csv_fast import read_csv_fast

ENGINES = ["numpy", pytest.param("pyarrow", marks=pytest.mark.skipif(
    not _csv_fast._have_pyarrow(), reason="pyarrow is not installed"))]  # fmt: skip

# Files the bulk readers read themselves: name -> (text, load_csv keywords)
CLEAN: dict[str, tuple[str, dict[str, Any]]] = {
    "header, int labels": ("a,b,label\n1,2.5,0\n-3,4e2,1\n", {}),
    "no header": ("1,2,0\n3,4,1\n5,6,2\n", {}),
    "quoted fields": ('"a","b","y"\n"1","2.5","0"\n"3",4,"1"\n', {}),
    "quoted text labels": ('1,2,"setosa"\n3,4,"virginica"\n', {}),
    "doubled quote in a label": ('1,2,"c""d"\n3,4,e\n', {}),
    "quote inside a label": ('1,2,a"b\n3,4,c\n', {}),
    "quoted line break in a label": ('1,2,"a\nb"\n3,4,c\n', {}),
    "blank lines": ("\na,b,y\n\n1,2,0\n\n3,4,1\n\n", {}),
    "CRLF": ("a,b,y\r\n1,2,0\r\n3,4,1\r\n", {}),
    "BOM": ("\ufeffa,b,y\n1,2,0\n3,4,1\n", {}),
    "text labels": ("5.1,3.5,setosa\n7.0,3.2,versicolor\n4.9,3.0,setosa\n", {}),
    "labels with inner spaces": ("1,2,big cat\n3,4,small dog\n", {}),
    "text labels with spaces around": ("1,2, cat \n3,4,dog\t\n5,6,cat\n", {}),
    "int64 extremes": ("1,2,9223372036854775807\n3,4,-9223372036854775808\n", {}),
    "past float64's integers": ("1,2,9007199254740993\n3,4,9007199254740992\n", {}),
    "past int64": ("1,2,9223372036854775808\n3,4,1\n", {}),
    "exponent labels past int64": ("1,2,1e20\n3,4,3e20\n", {}),
    "whole-number float labels": ("1,2,1.0\n3,4,1e0\n5,6,2\n7,8,+3\n", {}),
    "a label one ulp from whole": ("1,2,1.0000000000000001\n3,4,2\n", {}),
    "fractional labels": ("1,2,0.1\n3,4,2.5\n5,6,-7\n", {}),
    "negative zero": ("-0,0.0,-0\n1,-0.0,-0.0\n", {}),
    "exponents": ("1e-300,2E+10,0\n-1.5e3,4e0,1\n5e-324,1.7976931348623157e308,0\n", {}),
    "many digits": ("0.12345678901234567890123,2.2250738585072011e-308,1\n.5,5.,0\n", {}),
    "leading plus": ("+1,+2.5,0\n3,4,1\n", {}),
    "spaces around fields": ("a , b ,y\n1 ,2 ,0 \n 3, 4, 1\n", {}),
    "tabs around fields": ("1\t,\t2,\t0\n3,4,1\n", {}),
    "header over the labels only": ("1,2,class\n3,4,0\n5,6,1\n", {}),
    "a text label over mixed labels": ("1,2,class\n3,4,0\n5,6,dog\n", {}),
    "label column by name": ("f1,target,f2\n1,0.5,2\n3,1.5,4\n", {"label_column": "target"}),
    "label column 0": ("y,a,b\n0,1,2\n1,3,4\n", {"label_column": 0}),
    "header=True over numbers": ("1,2,3\n4,5,6\n", {"header": True}),
    "header=False": ("1,2,3\n4,5,6\n", {"header": False}),
    "semicolons": ("x;y;lab\n1;2;a\n3;4;b\n", {"delimiter": ";"}),
    "tabs": ("1\t2\t0\n3\t4\t1\n", {"delimiter": "\t"}),
    "one row": ("1,2,0\n", {}),
}

# Files only the exact reader reads (or refuses): the bulk readers must step aside
OTHER: dict[str, tuple[str | bytes, dict[str, Any]]] = {
    "a row of empty fields": ("1,2,0\n,,\n3,4,1\n", {}),
    "a line of spaces": ("1,2,0\n   \n3,4,1\n", {}),
    "lone CR line ends": ("1,2,0\r3,4,1\r", {}),
    "no-break spaces": ("\xa01\xa0,2,0\n3,4,\xa0a\n", {}),
    "underscores": ("1_000,2,0\n3,4,1\n", {}),
    "Arabic-Indic digit": ("\u0661,2,0\n3,4,1\n", {}),
    "quoted delimiter in a label": ('1,2,"x,y"\n3,4,z\n', {}),
    "bad cell": ("a,b,y\n1,2,0\n\n3,oops,1\n", {}),
    "empty cell": ("a,b,y\n1,,0\n", {}),
    "nan": ("1,2,0\n3,nan,1\n", {}),
    "inf": ("1,2,0\n3,-Infinity,1\n", {}),
    "overflow to inf": ("1,2,0\n3,1e400,1\n", {}),
    "extra field": ("a,b,y\n1,2,0\n3,4,5,1\n", {}),
    "missing field": ("a,b,y\n1,2,0\n3,1\n", {}),
    "empty label": ("1,2,0\n3,4,\n", {}),
    "nan label": ("1,2,0\n3,4,nan\n", {}),
    "label with too many digits": ("1,2,1e100000000\n3,4,0\n", {}),
    "empty file": ("", {}),
    "blank file": ("\n  \n", {}),
    "header only": ("a,b,y\n", {}),
    "one column": ("1\n2\n", {}),
    "first row mixes text and numbers": ("1,x,2,0\n1,2,3,1\n", {}),
    "header=False over names": ("a,b,c\n4,5,6\n", {"header": False}),
    "unknown label name": ("a,b,y\n1,2,0\n", {"label_column": "target"}),
    "label index out of range": ("a,b,y\n1,2,0\n", {"label_column": 3}),
    "label name without header": ("a,b,y\n1,2,0\n", {"label_column": "y", "header": False}),
    "not UTF-8": (b"1,2,0\n3,4,\xff\n", {}),
    "not UTF-8 in a feature": (b"1,2,0\n\xff,4,1\n", {}),
    "header in a quoted line break": ('"a\nb",c,y\n1,2,0\n', {}),
}


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "data.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))  # no newline translation: CRLF stays
    return path


def _outcome(path: Path, engine: str, kwargs: dict[str, Any]) -> tuple:
    try:
        X, y, names = load_csv(path, engine=engine, **kwargs)
    except (ValueError, TypeError) as exc:
        return ("error", type(exc), str(exc))
    return ("ok", X, y, names)


def _assert_same(fast: tuple, exact: tuple) -> None:
    assert fast[0] == exact[0], (fast, exact)
    if fast[0] == "error":
        assert fast[1:] == exact[1:]
        return
    (_, X1, y1, names1), (_, X2, y2, names2) = fast, exact
    assert X1.dtype == X2.dtype == np.float64 and X1.shape == X2.shape
    assert X1.flags.c_contiguous
    np.testing.assert_array_equal(X1.view(np.uint64), X2.view(np.uint64))  # bit for bit
    assert y1.dtype == y2.dtype and y1.shape == y2.shape
    if y1.dtype.kind == "f":
        np.testing.assert_array_equal(y1.view(np.uint64), y2.view(np.uint64))
    else:
        assert y1.tolist() == y2.tolist()
    assert names1 == names2


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(CLEAN))
def test_bulk_reader_reads_clean_files_as_the_exact_reader(tmp_path, engine, name) -> None:
    text, kwargs = CLEAN[name]
    path = _write(tmp_path, text)
    options = {"label_column": -1, "header": "infer", "delimiter": ",", **kwargs}
    assert read_csv_fast(path, engine=engine, **options) is not None, "it stepped aside"
    _assert_same(_outcome(path, engine, kwargs), _outcome(path, "python", kwargs))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(OTHER))
def test_bulk_reader_steps_aside_with_the_exact_result_or_error(tmp_path, engine, name) -> None:
    content, kwargs = OTHER[name]
    path = _write(tmp_path, content)
    _assert_same(_outcome(path, engine, kwargs), _outcome(path, "python", kwargs))


@pytest.mark.parametrize("engine", ENGINES)
def test_bulk_reader_matches_on_a_random_file(tmp_path, engine) -> None:
    rng = np.random.default_rng(7)
    data = rng.normal(scale=1e3, size=(500, 6)) * rng.choice([1e-20, 1.0, 1e20], size=(500, 6))
    data[:, -1] = rng.integers(-5, 5, size=500)
    data[::17, 2] = -0.0
    path = tmp_path / "r.csv"
    np.savetxt(path, data, delimiter=",", fmt="%.17g", header="a,b,c,d,e,y", comments="")
    assert read_csv_fast(path, -1, "infer", ",", engine) is not None
    _assert_same(_outcome(path, engine, {}), _outcome(path, "python", {}))
    # the same numbers, as float32 prints them: fewer digits
    np.savetxt(path, data.astype(np.float32), delimiter=",", fmt="%s")
    _assert_same(_outcome(path, engine, {}), _outcome(path, "python", {}))


def test_auto_engine_uses_numpy_without_pyarrow(tmp_path, monkeypatch) -> None:
    path = _write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n")
    used = []
    monkeypatch.setattr(_csv_fast, "_have_pyarrow", lambda: False)
    real = _csv_fast._read_numpy
    monkeypatch.setattr(_csv_fast, "_read_numpy", lambda *a: used.append(1) or real(*a))
    X, y, names = load_csv(path)
    assert used == [1]
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert y.tolist() == [0, 1] and names == ["a", "b"]
    with pytest.raises(ImportError, match=r"nablanet\[parquet\]"):
        load_csv(path, engine="pyarrow")


def test_engine_is_checked(tmp_path) -> None:
    path = _write(tmp_path, "1,2,0\n")
    with pytest.raises(ValueError, match=r"engine must be one of .* got 'c'"):
        load_csv(path, engine="c")
