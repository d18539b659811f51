"""Training data from many files, each read on a worker by nablanet's own reader.

:func:`read_files` turns a glob pattern into one delayed ``(X_k, y_k)`` chunk per file, the
form ``DaskMLPClassifier.fit(chunks)`` takes: the client never opens a file. Each file is read
where its task runs by :func:`nablanet.datasets.load_csv` (``.csv``, any other suffix too),
:func:`nablanet.datasets.load_npz` (``.npz``) or :func:`nablanet.datasets.load_parquet`
(``.parquet``, the ``parquet`` extra), so a file gets the header inference, label
parsing and error messages (naming the file and its line) it gets on one machine.
"""

from __future__ import annotations

import glob
import os
from typing import Any

import numpy as np


def _matches(pattern: str) -> list[str]:
    """The files ``pattern`` names, sorted (so the chunks' order, and the fit, are fixed)."""
    return sorted(
        p for p in glob.glob(os.path.expanduser(pattern), recursive=True) if os.path.isfile(p)
    )


def read_file(
    path: str, label_column: int | str, header: str | bool, delimiter: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of one file, read by nablanet's reader for its suffix (runs on a worker)."""
    from ..datasets import load_csv, load_npz, load_parquet

    if path.lower().endswith(".npz"):
        X, y = load_npz(path)[:2]
    elif path.lower().endswith(".parquet"):
        X, y, _ = load_parquet(path, label_column=label_column)
    else:
        X, y, _ = load_csv(path, label_column=label_column, header=header, delimiter=delimiter)
    return X, y


def read_files(
    pattern: str,
    *,
    label_column: int | str = -1,
    header: str | bool = "infer",
    delimiter: str = ",",
    client: Any = None,
) -> list[Any]:
    """One delayed ``(X_k, y_k)`` per file matching ``pattern``, read on the workers.

    Parameters
    ----------
    pattern : str
        A glob pattern (``"data/part-*.csv"``, ``**`` for subdirectories), expanded where the
        workers see the files: on a worker of ``client`` (the files need not exist on the
        client's machine). Files are taken in sorted order.
    label_column, header, delimiter
        As :func:`nablanet.datasets.load_csv` (``label_column`` also for ``.parquet`` files;
        all three are ignored for ``.npz`` files, which hold arrays ``X`` and ``y``).
    client : distributed.Client, optional
        Default: the current client.

    Returns
    -------
    list of dask.delayed
        Each computes ``(X_k, y_k)``, ``X_k`` of shape ``(n_k, n_features)`` and ``y_k`` of
        shape ``(n_k,)``: pass the list as ``DaskMLPClassifier().fit(chunks)`` (``y=None``).

    Raises
    ------
    TypeError
        If ``pattern`` is not a string.
    FileNotFoundError
        If no file matches ``pattern`` on the workers.
    """
    import dask

    from ._base import current_client

    if not isinstance(pattern, str | os.PathLike):
        raise TypeError(f"pattern must be a glob pattern (a string), got {type(pattern).__name__}")
    pattern = os.fspath(pattern)
    client = current_client(client)
    paths = client.submit(_matches, pattern, pure=False).result()
    if not paths:
        raise FileNotFoundError(f"no file matches {pattern!r} (expanded on a Dask worker)")
    read = dask.delayed(read_file, pure=False)  # a file may change between two calls
    return [read(path, label_column, header, delimiter) for path in paths]
