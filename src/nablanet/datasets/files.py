"""Load your own data: CSV files and NumPy ``.npz`` archives (never pickle)."""

from __future__ import annotations

import csv
import decimal
import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from nablanet._validation import check_array, check_consistent_length, short_repr

__all__ = ["load_csv", "load_npz"]


def _to_float(text: str) -> float | None:
    """``float(text)``, or None if ``text`` is not a number."""
    try:
        return float(text)
    except ValueError:
        return None


def _read_rows(path: Path, delimiter: str) -> list[tuple[int, list[str]]]:
    """Non-blank rows of a CSV file as ``(line_number, stripped_fields)``."""
    rows = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            for row in reader:
                fields = [field.strip() for field in row]
                if any(fields):
                    rows.append((reader.line_num, fields))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{str(path)!r} is not a UTF-8 text file: {exc}") from exc
    except csv.Error as exc:
        raise ValueError(f"{str(path)!r} is not valid CSV: {exc}") from exc
    return rows


def _label_index(label_column: int | str, names: list[str] | None, n_cols: int, where: str) -> int:
    if isinstance(label_column, str):
        if names is None:
            raise ValueError(
                f"label_column={label_column!r} is a column name, but {where} has no header row"
            )
        hits = [j for j, name in enumerate(names) if name == label_column]
        if not hits:
            raise ValueError(
                f"label_column {label_column!r} is not a column of {where}; columns: {names}"
            )
        if len(hits) > 1:
            raise ValueError(
                f"label_column {label_column!r} names several columns of {where}: {hits}"
            )
        return hits[0]
    if not -n_cols <= label_column < n_cols:
        raise ValueError(
            f"label_column={label_column} is out of range for {where}, which has {n_cols} columns"
        )
    return label_column % n_cols


_INT64 = np.iinfo(np.int64)
_MAX_LABEL_DIGITS = 400  # whole-number labels longer than this are refused, not converted


def _exact_label(text: str) -> decimal.Decimal | None:
    """The exact decimal value of a numeric label, or None if ``text`` is not a number."""
    if _to_float(text) is None:
        return None
    try:
        return decimal.Decimal(text)
    except decimal.InvalidOperation:
        return None


def _parse_labels(labels: list[str], lines: list[int], where: str) -> np.ndarray:
    """Labels as identities, never rounded through float64.

    Text if any label is not a number; int64 if every label is a whole number that int64 holds
    exactly (``"1"``, ``"1.0"`` and ``"1e0"`` are one class); the exact whole numbers as text
    (``"100000000000000000000"`` for ``1e20``) if some do not fit int64; else float64.
    """
    for text, line in zip(labels, lines, strict=True):
        if text == "":
            raise ValueError(f"{where}, line {line}: the label is empty")
    values = [_exact_label(text) for text in labels]
    if any(v is None for v in values):
        return np.array(labels, dtype=np.str_)
    exact = [v for v in values if v is not None]
    for value, text, line in zip(exact, labels, lines, strict=True):
        if not value.is_finite():
            raise ValueError(f"{where}, line {line}: the label is {text!r}")
    if not all(v == v.to_integral_value() for v in exact):
        return np.array([float(v) for v in exact], dtype=np.float64)
    for value, text, line in zip(exact, labels, lines, strict=True):
        if value.adjusted() >= _MAX_LABEL_DIGITS:
            raise ValueError(
                f"{where}, line {line}: the label {text!r} has more than {_MAX_LABEL_DIGITS} "
                "digits; class labels must be shorter whole numbers or text"
            )
    whole = [int(v) for v in exact]
    if all(_INT64.min <= v <= _INT64.max for v in whole):
        return np.array(whole, dtype=np.int64)
    return np.array([str(v) for v in whole], dtype=np.str_)


def first_row_is_header(first: list[str], rest: list[list[str]], label: int | None) -> bool:
    """Whether the first row of a CSV file holds column names, decided from the whole file.

    Feature columns must hold numbers, so a first row whose feature fields are all text is a
    header, and one whose feature fields are all numbers is data unless its label field is text
    while every other row's label is a number (a header named only over the labels). A first row
    that mixes text and numbers among its features is data: the caller then reports its first bad
    field instead of dropping the row as a header.
    """
    decided = header_from_first_row(first, label)
    if decided is not None or label is None:
        return bool(decided)
    return bool(rest) and all(_to_float(row[label]) is not None for row in rest)


def header_from_first_row(first: list[str], label: int | None) -> bool | None:
    """What the first row alone says of :func:`first_row_is_header`: True or False, or None
    when its features are numbers and its label is text, which the other rows' labels decide."""
    features = [v for j, v in enumerate(first) if j != label]
    text = [_to_float(v) is None for v in features]
    if features and all(text):
        return True
    if any(text) or label is None or _to_float(first[label]) is not None:
        return False
    return None


def load_csv(
    path: str | os.PathLike[str],
    label_column: int | str = -1,
    header: str | bool = "infer",
    delimiter: str = ",",
    engine: str = "auto",
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read numeric features and one label column from a CSV file.

    Blank lines are skipped and fields are stripped of surrounding spaces. Column indices in
    messages count from 0, line numbers from 1.

    The numeric block is parsed in bulk, by pyarrow's CSV reader if it is installed, else by
    ``np.loadtxt``. Whenever that reader refuses a file (a bad cell, a ragged row, a field it
    parses differently from Python's ``float``), the file is read again field by field with
    Python's :mod:`csv` and ``float``: that reader gives the result, or the error naming the
    line and column. Both readers give the same arrays, dtypes, labels and names
    (``tests/test_csv_fast.py`` checks it over a battery of files).

    Parameters
    ----------
    path : str or path-like
    label_column : int or str
        Index (negative counts from the end) or header name of the label column; every other
        column is a feature.
    header : "infer", True or False
        Whether the first row holds column names. "infer" says yes if ``label_column`` is a name,
        or if a feature field of the first row is not a number, or if its label is not a number
        while the second row's is.
    delimiter : str
        One character.
    engine : {"auto", "pyarrow", "numpy", "python"}
        The bulk reader: "auto" is pyarrow if it is installed, else NumPy; "python" reads field
        by field only (the exact reader every engine falls back on).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,)
        Read exactly, never through float64: int64 if every label is a whole number that int64
        holds (``1``, ``1.0`` and ``1e0`` are one label), the exact whole numbers as text if some
        do not (``1e20`` becomes ``"100000000000000000000"``), float64 if a label is fractional,
        else the labels as strings (``np.str_``), for
        :func:`nablanet.preprocessing.encode_labels`.
    feature_names : list of str
        From the header, or ``x0, x1, ...`` without one.
    """
    path = Path(path)
    where = repr(str(path))
    if not path.is_file():
        raise FileNotFoundError(f"CSV file not found: {where}")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be a single character, got {short_repr(delimiter)}")
    if header not in ("infer", True, False) or (header != "infer" and not isinstance(header, bool)):
        raise ValueError(f"header must be 'infer', True or False, got {short_repr(header)}")
    if isinstance(label_column, bool) or not isinstance(label_column, int | str):
        raise TypeError(
            f"label_column must be an int index or a column name, got {short_repr(label_column)}"
        )
    from ._csv_fast import ENGINES, read_csv_fast

    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {short_repr(engine)}")
    if engine != "python":
        fast = read_csv_fast(path, label_column, header, delimiter, engine)
        if fast is not None:
            return fast
    return _load_csv_exact(path, label_column, header, delimiter)


def _load_csv_exact(
    path: Path, label_column: int | str, header: str | bool, delimiter: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """:func:`load_csv`, field by field: the reference result, and every error message."""
    where = repr(str(path))
    rows = _read_rows(path, delimiter)
    if not rows:
        raise ValueError(f"{where} is empty")
    n_cols = len(rows[0][1])
    if n_cols < 2:
        raise ValueError(
            f"{where} has {n_cols} column (line {rows[0][0]}); at least 2 are needed "
            f"(features and a label). Is the delimiter {delimiter!r} right?"
        )
    for line, fields in rows:
        if len(fields) != n_cols:
            raise ValueError(
                f"{where}, line {line}: expected {n_cols} fields like line {rows[0][0]}, "
                f"got {len(fields)}"
            )

    first = rows[0][1]
    if header == "infer":
        if isinstance(label_column, str):
            has_header = True
        else:
            k = _label_index(label_column, None, n_cols, where)
            has_header = first_row_is_header(first, [fields for _, fields in rows[1:]], k)
    else:
        has_header = bool(header)
    names = first if has_header else None
    label_idx = _label_index(label_column, names, n_cols, where)
    data = rows[1:] if has_header else rows
    if not data:
        raise ValueError(f"{where} has a header row but no data rows")

    feature_cols = [j for j in range(n_cols) if j != label_idx]
    X = np.empty((len(data), len(feature_cols)), dtype=np.float64)
    for i, (line, fields) in enumerate(data):
        for c, j in enumerate(feature_cols):
            value = _to_float(fields[j])
            column = f"column {j}" + (f" ({names[j]!r})" if names else "")
            if value is None:
                hint = ""
                if header == "infer" and i == 0 and not has_header:
                    hint = (
                        f"; line {line} mixes text and numbers, so it is read as data, not as a "
                        "header (pass header=True, or --header to the nablanet command, if it "
                        "holds column names)"
                    )
                raise ValueError(
                    f"{where}, line {line}, {column}: {fields[j]!r} is not a number{hint}"
                )
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(
                    f"{where}, line {line}, {column}: {fields[j]!r} is not a finite number"
                )
            X[i, c] = value
    y = _parse_labels([fields[label_idx] for _, fields in data], [line for line, _ in data], where)
    feature_names = (
        [names[j] for j in feature_cols] if names else [f"x{c}" for c in range(len(feature_cols))]
    )
    return X, y, feature_names


def load_npz(
    path: str | os.PathLike[str], x_key: str = "X", y_key: str = "y"
) -> tuple[np.ndarray, np.ndarray]:
    """Read ``X`` and ``y`` from a ``.npz`` archive written by ``np.savez``.

    Loaded with ``allow_pickle=False``: archives holding object arrays (pickled Python objects)
    are refused, because unpickling can run arbitrary code.

    Parameters
    ----------
    path : str or path-like
    x_key, y_key : str
        Names of the two arrays in the archive.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        float32 or float64 as stored (integers become float32).
    y : ndarray of shape (n_samples,)
        As stored (a column ``(n_samples, 1)`` is flattened), except that labels are read as
        :func:`load_csv` reads them: floats that are all whole numbers become int64 (``1.0``
        is the label ``1``; past int64, the exact whole numbers as text), and bytes (dtype
        ``S``) are decoded as UTF-8 text. A NaN or infinite label is refused.
    """
    path = Path(path)
    where = repr(str(path))
    arrays = read_npz_arrays(path, (x_key, y_key))
    X_raw, y_raw = arrays[x_key], arrays[y_key]
    X = check_array(X_raw, f"{where}[{x_key!r}]")
    y = y_raw.reshape(-1) if y_raw.ndim == 2 and y_raw.shape[1] == 1 else y_raw
    if y.ndim != 1:
        raise ValueError(f"{where}[{y_key!r}] must be 1-D, got shape {y_raw.shape}")
    if y.dtype.kind not in "biufUS":
        raise TypeError(f"{where}[{y_key!r}] must hold numbers or strings, got dtype {y.dtype}")
    check_consistent_length(X, y, names=(f"{where}[{x_key!r}]", f"{where}[{y_key!r}]"))
    return X, _labels_as_csv_reads_them(y, f"{where}[{y_key!r}]")


def _labels_as_csv_reads_them(y: np.ndarray, where: str) -> np.ndarray:
    """Stored labels given the identities :func:`_parse_labels` gives a CSV file's labels."""
    if y.dtype.kind == "S":
        texts = []
        for i, raw in enumerate(y.tolist()):
            try:
                texts.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise ValueError(f"{where}: label {i} is {raw!r}, not UTF-8 text") from None
        return np.array(texts, dtype=np.str_)
    if y.dtype.kind != "f" or y.size == 0:
        return y
    finite = np.isfinite(y)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{where}: label {i} is {y[i].item()!r}; labels must be finite numbers")
    if not np.all(y == np.floor(y)):
        return y  # fractional: numbers to regress on, as in a CSV file
    if np.abs(y).max() < 2.0**63:
        return y.astype(np.int64)
    return np.array([str(int(v)) for v in y.tolist()], dtype=np.str_)


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


def read_npz_arrays(
    path: str | os.PathLike[str], keys: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """The arrays ``keys`` (all required) and ``optional`` (if present) of an ``.npz`` archive.

    Never unpickles. Every failure is an error naming the file and the problem: missing, not a
    zip archive (text, or a renamed ``.npy``), a damaged archive or member, an object array.
    """
    path = Path(path)
    where = repr(str(path))
    if not path.is_file():
        raise FileNotFoundError(f"npz file not found: {where}")
    with open(path, "rb") as f:
        start = f.read(len(_NPY_MAGIC))
    if start.startswith(_NPY_MAGIC):
        raise ValueError(
            f"{where} is a single .npy array, not an .npz archive; save X and y with "
            "np.savez(path, X=X, y=y)"
        )
    if not start.startswith(_ZIP_MAGIC):
        kind = "an empty file" if not start else f"a file starting with {start[:4]!r}"
        raise ValueError(
            f"{where} is not an .npz archive (a zip file written by np.savez): it is {kind}. "
            "Pickled data is never loaded; save arrays with np.savez(path, X=X, y=y)"
        )
    arrays: dict[str, np.ndarray] = {}
    try:
        archive: Any = np.load(path, allow_pickle=False)
        with archive:
            available = sorted(archive.files)
            missing = [key for key in keys if key not in available]
            if missing:
                raise ValueError(
                    f"{where} has no array named {missing}; available keys: {available}"
                )
            for key in (*keys, *(k for k in optional if k in available)):
                arrays[key] = _npz_member(archive, key, where)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{where} is not a readable .npz archive: {exc}") from exc
    return arrays


def _check_npz_member_size(archive: Any, key: str, where: str) -> None:
    """Read the ``.npy`` header of member ``key`` and refuse, before anything is allocated, an
    array larger than the member holds or than the machine's available memory."""
    from .._validation import check_memory, format_bytes

    name = f"{key}.npy"
    if name not in archive.zip.namelist():
        return  # np.load reports it
    info = archive.zip.getinfo(name)
    with archive.zip.open(name) as member:
        try:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(member)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        except ValueError as exc:
            raise ValueError(
                f"{where}: array {key!r} is damaged or not an .npy array ({exc})"
            ) from exc
        data_bytes = info.file_size - member.tell()
    if dtype.hasobject:
        return  # refused with its own message when loaded (no pickle)
    n_bytes = math.prod(int(n) for n in shape) * dtype.itemsize
    if n_bytes > data_bytes:
        raise ValueError(
            f"{where}: array {key!r} declares shape {tuple(shape)} of {dtype} "
            f"({format_bytes(n_bytes)}), but its member holds only {format_bytes(data_bytes)}"
        )
    check_memory(n_bytes, f"{where}: array {key!r} of shape {tuple(shape)}", purpose=" to load")


def _npz_member(archive: Any, key: str, where: str) -> np.ndarray:
    _check_npz_member_size(archive, key, where)
    try:
        value = archive[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "pickled" in str(exc):
            raise ValueError(
                f"{where} holds object arrays (pickled data) in {key!r}, which are not loaded "
                "(allow_pickle=False); store numeric arrays instead"
            ) from exc
        raise ValueError(f"{where}: array {key!r} is damaged or not an .npy array ({exc})") from exc
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{where}: array {key!r} cannot be read ({exc})") from exc
    if not isinstance(value, np.ndarray):  # np.load returns a member without .npy magic as bytes
        raise ValueError(f"{where}: array {key!r} is damaged or not an .npy array")
    if value.dtype.kind in "OV":
        raise ValueError(f"{where}[{key!r}] has dtype {value.dtype}; store numeric arrays")
    return value
