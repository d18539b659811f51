"""The bulk CSV readers behind :func:`nablanet.datasets.load_csv`: pyarrow's, or ``np.loadtxt``.

They parse the numeric block in C and keep the labels as text, then give the labels the exact
identities the field-by-field reader gives them, by running the same ``parse_labels`` on the
distinct labels only. They never report an error: whenever something does not parse, or could
parse differently from Python's ``csv`` and ``float`` (a row that is blank but not empty, a
NaN, a number with spaces pyarrow does not strip, a ragged row, text that is not UTF-8),
:func:`read_csv_fast` returns None and ``load_csv`` reads the file field by field, which gives
the exact result or the error naming the line and column.

Measured with ``python benchmarks/csv_reader.py`` (docs/howto/data.md).
"""

from __future__ import annotations

import csv
import importlib.util
import warnings
from pathlib import Path

import numpy as np

from .cells import header_from_first_row, label_index, parse_labels, to_float

ENGINES = ("auto", "pyarrow", "numpy", "python")
_QUOTE = '"'  # the csv module's default dialect (excel): quote '"', doubled inside quotes


class _Refused(Exception):
    """The bulk reader cannot promise the exact reader's result for this file."""


def read_csv_fast(
    path: Path, label_column: int | str, header: str | bool, delimiter: str, engine: str
) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """``load_csv``'s result read in bulk, or None if the exact reader must decide.

    ``engine`` is "auto" (pyarrow if installed, else NumPy), "pyarrow" or "numpy"; the other
    arguments are ``load_csv``'s, already checked.
    """
    if engine == "auto":
        engine = "pyarrow" if _have_pyarrow() else "numpy"
    if engine == "pyarrow" and not _have_pyarrow():
        raise ImportError(
            "engine='pyarrow' needs pyarrow: pip install 'nablanet[parquet]' "
            "(or pass engine='numpy')"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # np.loadtxt's notes on blank lines
            return _read(path, label_column, header, delimiter, engine)
    except (_Refused, ValueError, TypeError, csv.Error):  # ArrowInvalid is a ValueError
        return None


def read_features_fast(
    path: Path, header: bool | None, delimiter: str = ",", engine: str = "auto"
) -> np.ndarray | None:
    """Every column of a CSV file as float64 features, read in bulk, or None if the exact
    reader must decide (the file of ``nablanet predict`` without a label column).

    ``header`` True or False says whether the first row holds column names; None decides it
    from the first row, as the exact reader does: a header if all its fields are text.

    Returns
    -------
    X : ndarray of shape (n_samples, n_columns), float64, or None
    """
    if engine == "auto":
        engine = "pyarrow" if _have_pyarrow() else "numpy"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # np.loadtxt's notes on blank lines
            first, first_line, last_line = _first_row(path, delimiter)
            has_header = header_from_first_row(first, None) if header is None else header
            if has_header and first_line != last_line:
                return None  # a header with a quoted line break
            skip = last_line if has_header else 0
            columns = list(range(len(first)))
            read = _read_pyarrow if engine == "pyarrow" else _read_numpy
            X, _ = read(path, delimiter, len(first), columns, None, skip)
    except (_Refused, ValueError, TypeError, csv.Error):  # ArrowInvalid is a ValueError
        return None
    if len(X) == 0 or not np.isfinite(X).all():
        return None
    return X


def _have_pyarrow() -> bool:
    return importlib.util.find_spec("pyarrow") is not None


def _read(
    path: Path, label_column: int | str, header: str | bool, delimiter: str, engine: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    first, first_line, last_line = _first_row(path, delimiter)
    n_cols = len(first)
    if n_cols < 2:
        raise _Refused
    where = repr(str(path))
    has_header: bool | None  # None: the other rows' labels decide
    if header != "infer":
        has_header = bool(header)
    elif isinstance(label_column, str):
        has_header = True
    else:
        has_header = header_from_first_row(first, label_index(label_column, None, n_cols, where))
    label = label_index(label_column, first if has_header else None, n_cols, where)
    features = [j for j in range(n_cols) if j != label]
    if has_header and first_line != last_line:
        raise _Refused  # a header with a quoted line break: the readers skip lines, not rows
    skip = last_line if has_header else 0
    if engine == "pyarrow":
        X, labels = _read_pyarrow(path, delimiter, n_cols, features, label, skip)
    else:
        X, labels = _read_numpy(path, delimiter, n_cols, features, label, skip)
    labels = np.char.strip(labels)  # str.strip's whitespace, as the exact reader strips
    if has_header is None:
        rest = np.unique(labels[1:])
        has_header = rest.size > 0 and all(to_float(text) is not None for text in rest.tolist())
        if has_header:
            X, labels = X[1:], labels[1:]
    if len(X) == 0 or not np.isfinite(X).all():
        raise _Refused
    y = _exact_labels(labels)
    names = [first[j] for j in features] if has_header else [f"x{c}" for c in range(len(features))]
    return X, y, names


def _first_row(path: Path, delimiter: str) -> tuple[list[str], int, int]:
    """The first non-blank row's stripped fields, and the lines it starts and ends on."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        previous = 0
        for row in reader:
            fields = [field.strip() for field in row]
            if any(fields):
                return fields, previous + 1, reader.line_num
            previous = reader.line_num
    raise _Refused  # empty: the exact reader says so


def _exact_labels(labels: np.ndarray) -> np.ndarray:
    """The exact reader's labels, from its ``parse_labels`` run on the distinct labels."""
    distinct, codes = np.unique(labels, return_inverse=True)
    try:
        parsed = parse_labels(distinct.tolist(), [0] * len(distinct), "")
    except ValueError:
        raise _Refused from None  # an empty or non-finite label: the exact reader names its line
    return parsed[codes.reshape(-1)]


def _read_pyarrow(
    path: Path, delimiter: str, n_cols: int, features: list[int], label: int | None, skip: int
) -> tuple[np.ndarray, np.ndarray]:
    """Features as float64 and labels as text (none if ``label`` is None), parsed by pyarrow,
    one block at a time.

    Each block's columns are copied into ``X`` and dropped, so the peak memory is ``X`` plus a
    few blocks. ``X`` is allocated for one row per line break, an upper bound on the rows;
    NumPy's large ``np.empty`` arrays take no memory before they are written.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    names = [f"c{j}" for j in range(n_cols)]
    types = {names[j]: pa.float64() for j in features}
    if label is not None:
        types[names[label]] = pa.string()
    reader = pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(column_names=names, skip_rows=skip),
        parse_options=pa_csv.ParseOptions(
            delimiter=delimiter,
            quote_char=_QUOTE,
            double_quote=True,
            escape_char=False,
            newlines_in_values=_count(path, _QUOTE) > 0,  # parsing with it costs ~1.5x
            ignore_empty_lines=True,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types=types,
            null_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    X = np.empty((_count(path, "\n") + _count(path, "\r") + 1, len(features)), dtype=np.float64)
    labels = []
    n = 0
    for batch in reader:
        k = batch.num_rows
        if n + k > len(X):
            raise _Refused
        for c, j in enumerate(features):
            column = batch.column(j)
            if column.null_count:
                raise _Refused
            X[n : n + k, c] = column.to_numpy()
        if label is not None:
            labels.append(batch.column(label))
        n += k
    text = pa.chunked_array(labels, type=pa.string()).to_numpy(zero_copy_only=False)
    return X[:n], np.asarray(text, dtype=np.str_)


def _read_numpy(
    path: Path, delimiter: str, n_cols: int, features: list[int], label: int | None, skip: int
) -> tuple[np.ndarray, np.ndarray]:
    """Features as float64 and labels as text (none if ``label`` is None), in two passes of
    ``np.loadtxt`` (one without labels).

    ``np.loadtxt`` ignores the columns past ``usecols``, so a row with too many fields would
    pass: the delimiters are counted, and any count but ``(n_cols - 1)`` per row refuses the
    file (a quoted delimiter too, which the exact reader then reads).
    """
    options = {
        "delimiter": delimiter,
        "skiprows": skip,
        "comments": None,
        "quotechar": _QUOTE,
        "encoding": "utf-8-sig",
    }
    X = np.loadtxt(path, usecols=features, dtype=np.float64, ndmin=2, **options)  # type: ignore[call-overload]
    if label is None:
        labels = np.empty(len(X), dtype=np.str_)
    else:
        labels = np.loadtxt(path, usecols=[label], dtype=np.str_, ndmin=1, **options)  # type: ignore[call-overload]
    if len(labels) != len(X) or _count(path, delimiter) != (n_cols - 1) * (len(X) + (skip > 0)):
        raise _Refused
    return X, labels


def _count(path: Path, text: str) -> int:
    """How many times ``text`` occurs in the file, read 1 MiB at a time."""
    needle = text.encode("utf-8")
    total = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            total += block.count(needle)
    return total
