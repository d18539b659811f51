"""Load your own data from a Parquet file (needs pyarrow: ``pip install 'nablanet[parquet]'``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from nablanet._validation import short_repr
from nablanet.datasets.files import _label_index, _labels_as_csv_reads_them

__all__ = ["load_parquet"]


def load_parquet(
    path: str | os.PathLike[str], label_column: int | str = -1
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read numeric features and one label column from a Parquet file.

    The promises of :func:`nablanet.datasets.load_csv`, for a file that stores types: every
    column but the label must hold integers or floats (no missing values, no NaN or infinity),
    and the labels keep their identity.

    Parameters
    ----------
    path : str or path-like
    label_column : int or str
        Index (negative counts from the end) or name of the label column; every other column
        is a feature.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,)
        As stored, read as :func:`load_csv` reads labels: integers as int64 (unsigned ones past
        int64 as the exact whole numbers in text), floats that are all whole numbers as int64,
        other floats as float64, strings as ``np.str_``. Missing, empty or non-finite labels
        are refused.
    feature_names : list of str
        The column names.

    Raises
    ------
    ImportError
        If pyarrow is not installed.
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError("load_parquet needs pyarrow: pip install 'nablanet[parquet]'") from exc
    path = Path(path)
    where = repr(str(path))
    if not path.is_file():
        raise FileNotFoundError(f"Parquet file not found: {where}")
    if isinstance(label_column, bool) or not isinstance(label_column, int | str):
        raise TypeError(
            f"label_column must be an int index or a column name, got {short_repr(label_column)}"
        )
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(f"{where} is not a readable Parquet file: {exc}") from exc
    names = [str(name) for name in table.column_names]
    if len(names) < 2:
        raise ValueError(
            f"{where} has {len(names)} column(s); at least 2 are needed (features and a label)"
        )
    if table.num_rows == 0:
        raise ValueError(f"{where} has no rows")
    label = _label_index(label_column, names, len(names), where)
    features = [j for j in range(len(names)) if j != label]
    X = np.empty((table.num_rows, len(features)), dtype=np.float64)
    for c, j in enumerate(features):
        X[:, c] = _feature(table.column(j), f"{where}, column {j} ({names[j]!r})", pa)
    y = _labels(table.column(label), f"{where}, label column {names[label]!r}", pa)
    return X, y, [names[j] for j in features]


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _feature(column: Any, where: str, pa: Any) -> np.ndarray:
    """One feature column as float64, refusing text, missing values and non-finite numbers."""
    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise TypeError(f"{where} holds {kind}, not numbers; features must be numeric")
    if column.null_count:
        row = _first(column.is_null().to_numpy(zero_copy_only=False))
        raise ValueError(f"{where}: {column.null_count} missing value(s), the first in row {row}")
    values = column.to_numpy().astype(np.float64, copy=False)
    finite = np.isfinite(values)
    if not finite.all():
        row = _first(~finite)
        raise ValueError(f"{where}, row {row}: {values[row].item()!r} is not a finite number")
    return values


def _labels(column: Any, where: str, pa: Any) -> np.ndarray:
    """Labels as ``load_csv`` gives them: exact int64, float64 if fractional, else text."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if column.null_count:
        row = _first(column.is_null().to_numpy(zero_copy_only=False))
        raise ValueError(f"{where}, row {row}: the label is missing")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.str_)
        empty = text == ""
        if empty.any():
            raise ValueError(f"{where}, row {_first(empty)}: the label is empty")
        return text
    if pa.types.is_unsigned_integer(kind):
        values = column.to_numpy()
        if values.max() > np.iinfo(np.int64).max:
            return np.array([str(v) for v in values.tolist()], dtype=np.str_)
        return values.astype(np.int64)
    if pa.types.is_integer(kind):
        return column.to_numpy().astype(np.int64)
    if pa.types.is_floating(kind):
        return _labels_as_csv_reads_them(column.to_numpy().astype(np.float64), where)
    raise TypeError(f"{where} holds {kind}; labels must be integers, floats or strings")
