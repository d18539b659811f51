"""Files in and out for the ``nablanet`` commands: training data, features and labels to
predict or evaluate on, predictions and history. A command writes its outputs all or nothing
with :class:`nablanet._atomic.AtomicFiles`; :func:`stage` names the file when a write fails."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import AtomicFiles
from .._validation import check_array
from .common import parse_number


def dataset_names() -> list[str]:
    from ..datasets import DATASETS

    return list(DATASETS)


def _column(text: str) -> int | str:
    """A label column given on the command line: an index if it looks like one, else a name."""
    try:
        return int(text)
    except ValueError:
        return text


@dataclass
class TrainData:
    """Training and test data for ``nablanet train``; ``y`` holds class codes 0..K-1 when
    ``classes`` is set (classification), else numbers (regression)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray | None
    name: str
    feature_names: list[str] | None = None


def load_training_data(args: Any, default_dataset: str) -> TrainData:
    """Read the data named by ``--dataset``, ``--data`` or ``--idx-dir`` and split it."""
    from ..datasets import load_csv, load_dataset, load_mnist, load_npz
    from ..preprocessing import encode_labels, train_test_split

    names = None
    if args.data is not None:
        path = Path(args.data)
        if path.suffix.lower() == ".npz":
            X, y = load_npz(path)
        elif path.suffix.lower() == ".parquet":
            from ..datasets import load_parquet

            X, y, names = load_parquet(path, label_column=_column(args.label_column))
        else:
            X, y, names = load_csv(
                path, label_column=_column(args.label_column), header=_header(args.header)
            )
        stratify = not args.regression
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, args.test_size, stratify=stratify, seed=args.seed
        )
        name = str(path)
    elif args.idx_dir is not None:
        X_tr, y_tr, X_te, y_te = load_mnist(args.idx_dir)
        name = f"IDX files in {args.idx_dir}"
    else:
        ds = load_dataset(args.dataset or default_dataset, seed=args.seed)
        X_tr, y_tr, X_te, y_te, name = ds.X_train, ds.y_train, ds.X_test, ds.y_test, ds.name
    if args.regression:
        y_tr = check_array(_numeric_targets(y_tr), "labels", ndim=1, dtype=np.float64)
        y_te = check_array(_numeric_targets(y_te), "labels", ndim=1, dtype=np.float64)
        return TrainData(X_tr, y_tr, X_te, y_te, None, name, names)
    if np.asarray(y_tr).dtype.kind == "f":
        labels = np.asarray(y_tr)
        fraction = labels[labels != np.floor(labels)]
        example = f" (e.g. {fraction[0].item()!r})" if fraction.size else ""
        raise ValueError(
            f"the labels are fractional numbers{example}; pass --regression to predict numbers, "
            "or use whole-number or text class labels"
        )
    codes, classes = encode_labels(np.concatenate([y_tr, y_te]))
    n_train = len(y_tr)
    train_classes = np.unique(codes[:n_train])
    if len(train_classes) < 2:
        only = classes[train_classes[0]].item() if len(train_classes) else None
        raise ValueError(
            f"all {n_train} training labels are in one class ({only!r}); a classifier needs "
            "at least 2 classes (pass --regression to predict numbers)"
        )
    return TrainData(X_tr, codes[:n_train], X_te, codes[n_train:], classes, name, names)


def _numeric_targets(y: Any) -> np.ndarray:
    """Regression targets as numbers; labels read as text (e.g. huge whole numbers) are
    converted, and a label that is not a number is refused by name."""
    arr = np.asarray(y)
    if arr.dtype.kind not in "US":
        return arr
    values = np.empty(len(arr), dtype=np.float64)
    for i, text in enumerate(arr.tolist()):
        try:
            values[i] = float(text)
        except ValueError:
            raise ValueError(f"--regression needs numeric labels, got {text!r}") from None
    return values


# -- reading inputs for predict / evaluate ------------------------------------------------
def _read_csv_features(path: Path, header: bool | None = None) -> np.ndarray:
    """Every column of a CSV file as features. The first row is a header if ``header`` says so,
    or, with ``header=None``, if the whole file says so (see ``first_row_is_header``)."""
    from ..datasets.files import _read_rows, _to_float, first_row_is_header

    rows = _read_rows(path, ",")  # non-blank rows as (line number, stripped fields)
    inferred = header is None
    if inferred:
        header = bool(rows) and first_row_is_header(rows[0][1], [r for _, r in rows[1:]], None)
    if header:
        rows = rows[1:]
    if not rows:
        raise ValueError(f"'{path}' holds no data rows")
    width = len(rows[0][1])
    X = np.empty((len(rows), width))
    for i, (line, row) in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"'{path}', line {line}: expected {width} fields, got {len(row)}")
        for j, text in enumerate(row):
            if _to_float(text) is None:
                hint = "if that column holds the labels, name it with --label-column"
                if i == 0 and inferred and not header:
                    hint = (
                        f"line {line} mixes text and numbers, so it is read as data, not as a "
                        "header; pass --header if it holds column names; " + hint
                    )
                raise ValueError(
                    f"'{path}', line {line}, column {j}: {text!r} is not a number; {hint}"
                )
            X[i, j] = parse_number(text, f"'{path}', line {line}, column {j}")
    return X


def _check_width(X: np.ndarray, n_features: int | None, path: Any, has_label: bool) -> None:
    if n_features is not None and X.shape[1] != n_features:
        hint = ""
        if X.shape[1] == n_features + 1 and not has_label:
            hint = "; if one column is the label, name it with --label-column"
        raise ValueError(
            f"'{path}' has {X.shape[1]} feature columns but the model expects {n_features}{hint}"
        )


def _header(flag: bool | None) -> str | bool:
    """``--header`` / ``--no-header`` (True / False), or "infer" when neither was given."""
    return "infer" if flag is None else flag


def read_features(
    path: Any, n_features: int | None, label_column: str | None, header: bool | None = None
) -> np.ndarray:
    """Features from a CSV file (dropping ``label_column`` if given) or an .npz (array X)."""
    from ..datasets import load_csv

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: '{path}'")
    if path.suffix.lower() == ".npz":
        from ..datasets.files import read_npz_arrays

        X = check_array(read_npz_arrays(path, ("X",))["X"], f"'{path}'[X]")
    elif label_column is not None:
        X = load_csv(path, label_column=_column(label_column), header=_header(header))[0]
    else:
        X = _read_csv_features(path, header)
    _check_width(X, n_features, path, label_column is not None)
    return X


def read_labelled(
    path: Any, n_features: int | None, label_column: str, header: bool | None = None
) -> tuple[Any, Any]:
    """``(X, y)`` from a CSV file with a label column, or an .npz with arrays X and y."""
    from ..datasets import load_csv, load_npz

    path = Path(path)
    if path.suffix.lower() == ".npz":
        X, y = load_npz(path)
    else:
        X, y, _ = load_csv(path, label_column=_column(label_column), header=_header(header))
    _check_width(X, n_features, path, True)
    return X, y


def predictions_csv(labels: np.ndarray, proba: np.ndarray | None, classes: Any) -> str:
    """CSV text: a ``prediction`` column, then one ``p_<class>`` column per output."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if labels.ndim == 2:
        header = [f"prediction_{j}" for j in range(labels.shape[1])]
    else:
        header = ["prediction"]
    rows = labels.reshape(len(labels), -1).tolist()
    if proba is not None:
        names = list(classes) if classes is not None else list(range(max(proba.shape[1], 2)))
        if proba.shape[1] == 1:  # one sigmoid unit: the probability of the second class
            names = names[1:]
        header += [f"p_{name}" for name in names]
        rows = [r + [repr(float(p)) for p in ps] for r, ps in zip(rows, proba, strict=True)]
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


# -- writing ------------------------------------------------------------------------------
def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links (both must exist)
    except OSError:
        return False


def check_distinct_paths(
    inputs: Sequence[tuple[str, Any]], outputs: Sequence[tuple[str, Any]]
) -> None:
    """Refuse outputs that would overwrite an input or each other, before any work.

    ``inputs`` and ``outputs`` are ``(what, path)`` pairs, ``what`` naming the option in the
    message (e.g. ``"--out"``). Paths are compared resolved (``os.path.realpath``: symbolic
    links, ``..``) and, where both files exist, with ``os.path.samefile`` (hard links).
    """
    seen = [(what, os.fspath(path), "an input") for what, path in inputs]
    for what, path in outputs:
        target = os.fspath(path)
        for other_what, other, kind in seen:
            if _same_file(target, other):
                raise ValueError(
                    f"{what} '{target}' is the same file as {other_what} '{other}' ({kind}); "
                    "refusing to overwrite it, nothing was written"
                )
        seen.append((what, target, "another output"))


def named_os_error(exc: OSError, target: Any) -> OSError:
    """``exc`` (e.g. a full disk, errno 28, or a file size limit, errno 27) with ``target`` in
    its message; a write to an open file names no file by itself."""
    reason = exc.strerror or str(exc)
    error = OSError(f"cannot write '{os.fspath(target)}': {reason} (errno {exc.errno})")
    error.errno = exc.errno
    return error


def write_history_json(path: Path, history: Any) -> None:
    data = {"epoch": [e + 1 for e in history.epoch], **history.history}
    data["stop_reason"] = history.stop_reason
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def write_history_csv(path: Path, history: Any) -> None:
    keys = list(history.history)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["epoch", *keys])
        for i, epoch in enumerate(history.epoch):
            writer.writerow([epoch + 1, *(repr(history.history[k][i]) for k in keys)])


def stage(outputs: AtomicFiles, target: Any, write: Any) -> None:
    """``outputs.stage(target, write)``; an ``OSError`` (a full disk, a file size limit) names
    ``target``, not the temporary file or no file at all."""
    try:
        outputs.stage(target, write)
    except OSError as exc:
        raise named_os_error(exc, target) from exc
