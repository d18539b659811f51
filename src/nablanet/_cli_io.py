"""Files in and out for the ``nablanet`` command (:mod:`nablanet.cli`): data, predictions and
history. The command writes its outputs all or nothing with :class:`._atomic.AtomicFiles`."""

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

from ._validation import check_array

TRAIN_EXAMPLES = """\
  nablanet train                                  # digits (or moons), a few seconds
  nablanet train --dataset circles --layers 2-16-16-2 --activation tanh --epochs 100
  nablanet train --dataset circles --layers 2-4-3-1 --output sigmoid --momentum 0.9 --nesterov
  nablanet train --dataset xor3 --layers 3-4-1 --activation sigmoid --output sigmoid \\
      --loss half_squared_error --init uniform01 --optimizer sgd --lr 4 --epochs 1000
  nablanet train --data iris.csv --label-column species --out iris.nbnet --history hist
  nablanet train --idx-dir ~/fashion-mnist --layers 784-256-128-10 --epochs 5 --plot curves.png
  nablanet train --data houses.csv --regression --output identity --loss mse
"""
PREDICT_EXAMPLES = """\
  nablanet predict model.nbnet new.csv                      # labels to stdout
  nablanet predict model.nbnet new.csv --proba --output predictions.csv
  nablanet predict model.nbnet test.csv --label-column species   # ignore that column
INPUT holds the raw feature columns in training order; the stored preprocessing and class
labels are applied. A CSV header row is optional.
"""


def dataset_names() -> list[str]:
    from .datasets import DATASETS

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
    from .datasets import load_csv, load_dataset, load_mnist, load_npz
    from .preprocessing import encode_labels, train_test_split

    names = None
    if args.data is not None:
        path = Path(args.data)
        if path.suffix.lower() == ".npz":
            X, y = load_npz(path)
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


def check_float32_range(X: np.ndarray, what: str, dtype: Any, hint: str, rows: bool) -> None:
    """Refuse values that a network computing in ``dtype`` cannot hold (float32 overflows to
    infinity above about 3.4e38), naming the first such value, its column (and row)."""
    finfo = np.finfo(dtype)
    arr = np.asarray(X)
    if arr.size == 0 or arr.dtype.kind != "f" or np.finfo(arr.dtype).max <= finfo.max:
        return
    too_big = np.abs(arr) > finfo.max
    if too_big.any():
        row, col = (int(v) for v in np.argwhere(too_big)[0])
        where = f"row {row}, column {col}" if rows else f"column {col}"
        raise ValueError(
            f"{what}: values too large for {np.dtype(dtype).name}, the network's dtype (at most "
            f"{float(finfo.max):.3g}): {where} holds {float(arr[row, col])!r}; {hint}"
        )


# -- reading inputs for predict / evaluate ------------------------------------------------
def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a number") from None
    if not np.isfinite(value):
        raise ValueError(f"{where}: {text!r} is not a finite number")
    return value


def _read_csv_features(path: Path, header: bool | None = None) -> np.ndarray:
    """Every column of a CSV file as features. The first row is a header if ``header`` says so,
    or, with ``header=None``, if the whole file says so (see ``first_row_is_header``)."""
    from .datasets.files import _read_rows, _to_float, first_row_is_header

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
            X[i, j] = _number(text, f"'{path}', line {line}, column {j}")
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
    from .datasets import load_csv

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: '{path}'")
    if path.suffix.lower() == ".npz":
        from .datasets.files import read_npz_arrays

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
    from .datasets import load_csv, load_npz

    path = Path(path)
    if path.suffix.lower() == ".npz":
        X, y = load_npz(path)
    else:
        X, y, _ = load_csv(path, label_column=_column(label_column), header=_header(header))
    _check_width(X, n_features, path, True)
    return X, y


def label_codes(y: np.ndarray, classes: np.ndarray | None) -> np.ndarray:
    """Map labels as read from a file to the model's class indices."""
    if classes is None:
        return np.asarray(y)
    known = classes.tolist()
    lookup = {value: i for i, value in enumerate(known)}
    lookup.update({str(value): i for i, value in enumerate(known)})
    codes = np.empty(len(y), dtype=np.int64)
    for i, value in enumerate(np.asarray(y).tolist()):
        code = lookup.get(value, lookup.get(str(value)))
        if code is None:
            raise ValueError(f"label {value!r} (row {i}) is not one of the model's classes {known}")
        codes[i] = code
    return codes


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


def parse_numbers(text: str, option: str) -> np.ndarray:
    return np.array([_number(t.strip(), option) for t in text.split(",")], dtype=np.float64)


def parse_target(text: str, model: Any) -> Any:
    """``--target``: a class label (mapped through ``classes_``) or comma-separated targets."""
    if model.is_classifier() and "," not in text:
        if model.classes_ is not None:
            return label_codes(np.array([text]), model.classes_)[0]
        return int(_number(text, "--target"))
    return parse_numbers(text, "--target")


#: Losses that take only some output values, the output activations that give them, and what
#: they need: the cross-entropies take probabilities (log p), the Poisson deviance positive
#: means (log mu). Every other loss (the squared errors; the logits losses, which apply their
#: own link) takes any real output.
LOSS_DOMAINS = {
    "binary_cross_entropy": (("Sigmoid", "Softmax"), "probabilities in (0, 1)"),
    "categorical_cross_entropy": (("Softmax", "Sigmoid"), "probabilities in (0, 1)"),
    "half_poisson_deviance": (("Exp", "Sigmoid", "Softmax"), "positive means (mu > 0)"),
}
POISSON_LOSSES = {"half_poisson_deviance", "exp_half_poisson_deviance"}


def check_loss_output(loss: str, output: str) -> None:
    """Refuse an output activation whose values the loss is not defined on (``--loss
    half_poisson_deviance --output identity`` gives NaN at the first negative output), before
    anything is trained or checked. Unknown names are left to the model's own message."""
    from .layers import ACTIVATIONS
    from .losses import ALIASES

    name = ALIASES.get(loss, loss)
    if name not in LOSS_DOMAINS or output not in ACTIVATIONS:
        return
    allowed, needs = LOSS_DOMAINS[name]
    if ACTIVATIONS[output].__name__ in allowed:
        return
    choices = [n for kind in allowed for n, cls in ACTIVATIONS.items()
               if cls.__name__ == kind and n != "logistic"]  # fmt: skip
    raise ValueError(
        f"--loss {loss} needs {needs} from the output layer, which --output {output} does not "
        f"give; use --output {' or '.join(choices)}"
    )


def random_batch(model: Any, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs and targets that suit ``model`` (for gradcheck): class labels for the
    classification losses, counts (Poisson, mean 2) for the Poisson deviances, standard normal
    numbers for the squared errors."""
    from .targets import CATEGORICAL_LOSSES, CLASSIFICATION_LOSSES

    rng = np.random.default_rng(seed)
    n_out = model.n_outputs
    X = rng.normal(size=(n, model.input_dim))
    if model.loss.name in POISSON_LOSSES:  # y >= 0: negative counts are outside the loss
        return X, rng.poisson(2.0, size=(n, n_out)).astype(np.float64)
    if model.task == "multiclass" or model.loss.name in CATEGORICAL_LOSSES:
        return X, rng.integers(0, n_out, size=n)
    if model.task in ("binary", "multilabel") or model.loss.name in CLASSIFICATION_LOSSES:
        return X, rng.integers(0, 2, size=(n, n_out)).astype(np.float64)
    return X, rng.normal(size=(n, n_out))


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


def parse_sizes(text: str) -> list[int]:
    """Layer sizes from ``--layers`` text such as ``64-32-10``."""
    try:
        sizes = [int(part) for part in text.split("-")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise ValueError(
            f"--layers must be positive sizes joined by '-', like 64-32-10; got {text!r}"
        )
    return sizes


def parse_activations(text: str, n_hidden: int) -> list[str]:
    """Hidden activations from ``--activation``: one name for all, or a comma list, one each."""
    names = [name.strip() for name in text.split(",")]
    if len(names) == 1:
        return names * n_hidden
    if len(names) != n_hidden:
        raise ValueError(
            f"--activation lists {len(names)} names for {n_hidden} hidden layers; "
            "give one name, or one per hidden layer"
        )
    return names
