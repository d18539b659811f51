"""Files in and out for the ``nablanet`` commands: training data, features and labels to
predict or evaluate on, predictions and history. A command writes its outputs all or nothing
with :class:`nablanet._atomic.AtomicFiles`; :func:`stage` names the file when a write fails.

``-`` names stdin for an input (:func:`input_file`) and stdout for an output: stdin is copied
to a temporary file and read by the same readers as a file (the bulk CSV reader, ``.npz``,
Parquet), so its messages, dtypes and labels are a file's.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import AtomicFiles
from .._validation import check_array
from .common import log, parse_number

#: The file name that means stdin for an input and stdout for an output.
STD_STREAM = "-"
#: How stdin is named in messages.
STDIN_NAME = "<stdin>"
_MAGIC_SUFFIXES = ((b"PK\x03\x04", ".npz"), (b"PAR1", ".parquet"))  # else CSV


@contextlib.contextmanager
def input_file(name: Any, what: str) -> Iterator[Path]:
    """The input file ``name``; for ``-``, stdin copied to a temporary file.

    The copy is streamed (1 MiB at a time) and removed afterwards; its format is told from its
    first bytes: a zip archive is an ``.npz``, ``PAR1`` a Parquet file, anything else CSV.
    Errors raised while it is read name ``<stdin>`` instead of the temporary file. ``what``
    names the option in the message refusing a terminal.
    """
    if os.fspath(name) != STD_STREAM:
        yield Path(name)
        return
    stdin = sys.stdin
    if stdin is None:  # started with stdin closed (<&-)
        raise ValueError(f"{what} -: stdin is closed; pipe or redirect the data into it")
    if stdin.isatty():
        raise ValueError(
            f"{what} -: stdin is a terminal; pipe or redirect the data into it "
            f"(e.g. {what} - < data.csv)"
        )
    with tempfile.TemporaryDirectory(prefix="nablanet-stdin-") as tmp:
        head = stdin.buffer.read(4)
        suffix = next((s for magic, s in _MAGIC_SUFFIXES if head.startswith(magic)), ".csv")
        path = Path(tmp) / f"stdin{suffix}"
        with open(path, "wb") as f:
            f.write(head)
            shutil.copyfileobj(stdin.buffer, f, 1 << 20)
        log.debug("read stdin (%d bytes) into %s, as %s", path.stat().st_size, path, suffix)
        try:
            yield path
        except (ValueError, TypeError, OSError) as exc:
            if isinstance(exc, BrokenPipeError) or str(path) not in str(exc):
                raise
            message = str(exc).replace(str(path), STDIN_NAME)
            try:
                renamed = type(exc)(message)
            except TypeError:  # an exception type with other arguments
                renamed = ValueError(message)
            raise renamed from exc


def check_binary_stdout(what: str) -> None:
    """Refuse an output ``-`` of binary data when stdout is a terminal, which it would garble;
    called before any work, so that nothing is written on refusal."""
    if sys.stdout.isatty():
        raise ValueError(f"{what} -: stdout is a terminal; redirect it to a file or a pipe")


def write_binary_stdout(write: Any, what: str) -> None:
    """``write(path)`` into a temporary file, then its bytes to stdout (for an output ``-``;
    :func:`check_binary_stdout` first)."""
    check_binary_stdout(what)
    with tempfile.TemporaryDirectory(prefix="nablanet-stdout-") as tmp:
        path = Path(tmp) / "out"
        write(path)
        sys.stdout.flush()
        with open(path, "rb") as f:
            shutil.copyfileobj(f, sys.stdout.buffer, 1 << 20)
        sys.stdout.buffer.flush()


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
        with input_file(args.data, "--data") as path:
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
        name = STDIN_NAME if args.data == STD_STREAM else str(args.data)
    elif args.idx_dir is not None:
        X_tr, y_tr, X_te, y_te = load_mnist(args.idx_dir)
        name = f"IDX files in {args.idx_dir}"
    else:
        dataset = args.dataset or default_dataset
        try:
            ds = load_dataset(dataset, seed=args.seed)
        except FileNotFoundError as exc:
            if dataset != "fashion-mnist":
                raise
            raise FileNotFoundError(_fashion_mnist_hint(exc)) from exc
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


def _fashion_mnist_hint(exc: FileNotFoundError) -> str:
    """The library's "not found" message for Fashion-MNIST, with the command's ways to get it
    (the library's own ends "pass path=", an argument a command line user has no way to give)."""
    found = str(exc).split(". Get Fashion-MNIST")[0]
    return (
        f"--dataset fashion-mnist: the data is not installed: {found}. Install the Debian/"
        "Ubuntu package dataset-fashion-mnist (sudo apt-get install dataset-fashion-mnist), "
        "or download the four *-ubyte.gz files from "
        "https://github.com/zalandoresearch/fashion-mnist and pass --idx-dir DIR (or set "
        "$NABLANET_FASHION_MNIST=DIR)"
    )


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
    or, with ``header=None``, if the whole file says so (see ``first_row_is_header``).

    Read in bulk (:func:`nablanet.datasets.csv_fast.read_features_fast`); field by field only
    when the bulk reader refuses the file, to give the result or name the bad field.
    """
    from ..datasets.cells import first_row_is_header, read_rows, to_float
    from ..datasets.csv_fast import read_features_fast

    fast = read_features_fast(path, header)
    if fast is not None:
        return fast
    log.debug("'%s': read field by field (the bulk reader refused it)", path)

    rows = read_rows(path, ",")  # non-blank rows as (line number, stripped fields)
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
            if to_float(text) is None:
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
    """Features from a CSV file (dropping ``label_column`` if given), an .npz (array X) or a
    Parquet file (dropping ``label_column`` if given, else every column); ``-`` is stdin."""
    from ..datasets import load_csv

    with input_file(path, "INPUT") as file:
        if not file.is_file():
            raise FileNotFoundError(f"input file not found: '{file}'")
        suffix = file.suffix.lower()
        if suffix == ".npz":
            from ..datasets.files import read_npz_arrays

            X = check_array(read_npz_arrays(file, ("X",))["X"], f"'{file}'[X]")
        elif suffix == ".parquet":
            X = _parquet_features(file, label_column)
        elif label_column is not None:
            X = load_csv(file, label_column=_column(label_column), header=_header(header))[0]
        else:
            X = _read_csv_features(file, header)
        _check_width(X, n_features, file, label_column is not None)
    return X


def _parquet_features(path: Path, label_column: str | None) -> np.ndarray:
    """The features of a Parquet file: every column but ``label_column``, or every column."""
    from ..datasets import load_parquet

    if label_column is not None:
        return load_parquet(path, label_column=_column(label_column))[0]
    X, y, _ = load_parquet(path, label_column=-1)  # y: the last column, a feature here
    last = np.asarray(y)
    if last.dtype.kind not in "iuf":
        raise TypeError(
            f"'{path}', its last column holds {last.dtype}, not numbers; if it holds the "
            "labels, name it with --label-column"
        )
    return np.column_stack([X, last.astype(np.float64)])


def read_labelled(
    path: Any, n_features: int | None, label_column: str, header: bool | None = None
) -> tuple[Any, Any]:
    """``(X, y)`` from a CSV or Parquet file with a label column, or an .npz with arrays X
    and y; ``-`` is stdin."""
    from ..datasets import load_csv, load_npz

    with input_file(path, "INPUT") as file:
        suffix = file.suffix.lower()
        if suffix == ".npz":
            X, y = load_npz(file)
        elif suffix == ".parquet":
            from ..datasets import load_parquet

            X, y, _ = load_parquet(file, label_column=_column(label_column))
        else:
            X, y, _ = load_csv(file, label_column=_column(label_column), header=_header(header))
        _check_width(X, n_features, file, True)
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


def predictions_json(labels: np.ndarray, proba: np.ndarray | None) -> str:
    """JSON lines: ``{"prediction": label, "proba": [...]}`` per row.

    ``prediction`` is the label (a list for multilabel and multi-output models); ``proba``
    (classifiers only) lists the probabilities in the order of the model's classes, ``[1 - p,
    p]`` for one sigmoid output, one per output for multilabel models.
    """
    from .common import json_safe

    rows = labels.tolist()
    if proba is None:
        lines = [json.dumps(json_safe({"prediction": r}), allow_nan=False) for r in rows]
    else:
        p = np.column_stack([1.0 - proba[:, 0], proba[:, 0]]) if proba.shape[1] == 1 else proba
        lines = [json.dumps(json_safe({"prediction": r, "proba": ps}), allow_nan=False)
                 for r, ps in zip(rows, p.astype(np.float64).tolist(), strict=True)]  # fmt: skip
    return "".join(line + "\n" for line in lines)


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
    seen = [(what, os.fspath(p), "an input") for what, p in inputs if os.fspath(p) != STD_STREAM]
    for what, path in outputs:
        target = os.fspath(path)
        if target == STD_STREAM:  # stdout
            continue
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
