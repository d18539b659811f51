"""Load your own data: CSV files and NumPy ``.npz`` archives (never pickle)."""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import numpy as np

from nablanet._validation import _short, check_array, check_consistent_length

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


def _parse_labels(labels: list[str], lines: list[int], where: str) -> np.ndarray:
    """Numbers if every label is a number (int64 if all whole), else strings."""
    for text, line in zip(labels, lines, strict=True):
        if text == "":
            raise ValueError(f"{where}, line {line}: the label is empty")
    values = [_to_float(text) for text in labels]
    if any(v is None for v in values):
        return np.array(labels, dtype=np.str_)
    numeric = np.array(values, dtype=np.float64)
    if not np.isfinite(numeric).all():
        first = int(np.flatnonzero(~np.isfinite(numeric))[0])
        raise ValueError(f"{where}, line {lines[first]}: the label is {labels[first]!r}")
    if (numeric == np.round(numeric)).all():
        return numeric.astype(np.int64)
    return numeric


def load_csv(
    path: str | os.PathLike[str],
    label_column: int | str = -1,
    header: str | bool = "infer",
    delimiter: str = ",",
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read numeric features and one label column from a CSV file.

    Blank lines are skipped and fields are stripped of surrounding spaces. Column indices in
    messages count from 0, line numbers from 1.

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

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,)
        int64 if every label is a whole number, float64 if every label is a number, else the
        labels as strings (``np.str_``), for :func:`nablanet.preprocessing.encode_labels`.
    feature_names : list of str
        From the header, or ``x0, x1, ...`` without one.
    """
    path = Path(path)
    where = repr(str(path))
    if not path.is_file():
        raise FileNotFoundError(f"CSV file not found: {where}")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be a single character, got {_short(delimiter)}")
    if header not in ("infer", True, False) or (header != "infer" and not isinstance(header, bool)):
        raise ValueError(f"header must be 'infer', True or False, got {_short(header)}")
    if isinstance(label_column, bool) or not isinstance(label_column, int | str):
        raise TypeError(
            f"label_column must be an int index or a column name, got {_short(label_column)}"
        )

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
            features_text = any(_to_float(v) is None for j, v in enumerate(first) if j != k)
            label_text = _to_float(first[k]) is None and (
                len(rows) > 1 and _to_float(rows[1][1][k]) is not None
            )
            has_header = features_text or label_text
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
                raise ValueError(f"{where}, line {line}, {column}: {fields[j]!r} is not a number")
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
        As stored; a column ``(n_samples, 1)`` is flattened.
    """
    path = Path(path)
    where = repr(str(path))
    if not path.is_file():
        raise FileNotFoundError(f"npz file not found: {where}")
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as exc:  # neither .npy nor .npz: np.load would have to unpickle it
        raise ValueError(
            f"{where} is not an .npz archive ({exc}); pickled data is not loaded. "
            "Save plain numeric arrays with np.savez(path, X=X, y=y)"
        ) from exc
    except (OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{where} is not a readable .npz archive: {exc}") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(
            f"{where} is a single .npy array, not an .npz archive; save X and y with "
            "np.savez(path, X=X, y=y)"
        )
    with archive:
        available = sorted(archive.files)
        missing = [key for key in (x_key, y_key) if key not in available]
        if missing:
            raise ValueError(f"{where} has no array named {missing}; available keys: {available}")
        try:
            X_raw, y_raw = archive[x_key], archive[y_key]
        except ValueError as exc:
            raise ValueError(
                f"{where} holds object arrays (pickled data), which are not loaded "
                "(allow_pickle=False); store numeric arrays instead"
            ) from exc
    X = check_array(X_raw, f"{where}[{x_key!r}]")
    y = y_raw.reshape(-1) if y_raw.ndim == 2 and y_raw.shape[1] == 1 else y_raw
    if y.ndim != 1:
        raise ValueError(f"{where}[{y_key!r}] must be 1-D, got shape {y_raw.shape}")
    if y.dtype.kind not in "biufUS":
        raise TypeError(f"{where}[{y_key!r}] must hold numbers or strings, got dtype {y.dtype}")
    check_consistent_length(X, y, names=(f"{where}[{x_key!r}]", f"{where}[{y_key!r}]"))
    return X, y
