"""Cells, rows and labels of a data file, read alike by every reader of :mod:`nablanet.datasets`.

Shared by the CSV readers (:mod:`.files`, :mod:`.csv_fast`), the Parquet reader (:mod:`.parquet`)
and the ``nablanet`` command's data loading, so that a number, a header row and a label mean
the same thing to each of them.
"""

from __future__ import annotations

import csv
import decimal
from pathlib import Path

import numpy as np

__all__ = [
    "first_row_is_header",
    "header_from_first_row",
    "label_index",
    "labels_as_csv_reads_them",
    "parse_labels",
    "read_rows",
    "to_float",
]


def to_float(text: str) -> float | None:
    """``float(text)``, or None if ``text`` is not a number."""
    try:
        return float(text)
    except ValueError:
        return None


def read_rows(path: Path, delimiter: str) -> list[tuple[int, list[str]]]:
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


def label_index(label_column: int | str, names: list[str] | None, n_cols: int, where: str) -> int:
    """The index, from 0, of the label column named or indexed (negative from the end) by
    ``label_column`` among ``n_cols`` columns called ``names``; a ValueError naming ``where``
    if there is no such column, or several."""
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
    if to_float(text) is None:
        return None
    try:
        return decimal.Decimal(text)
    except decimal.InvalidOperation:
        return None


def parse_labels(labels: list[str], lines: list[int], where: str) -> np.ndarray:
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
    return bool(rest) and all(to_float(row[label]) is not None for row in rest)


def header_from_first_row(first: list[str], label: int | None) -> bool | None:
    """What the first row alone says of :func:`first_row_is_header`: True or False, or None
    when its features are numbers and its label is text, which the other rows' labels decide."""
    features = [v for j, v in enumerate(first) if j != label]
    text = [to_float(v) is None for v in features]
    if features and all(text):
        return True
    if any(text) or label is None or to_float(first[label]) is not None:
        return False
    return None


def labels_as_csv_reads_them(y: np.ndarray, where: str) -> np.ndarray:
    """Stored labels given the identities :func:`parse_labels` gives a CSV file's labels."""
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
