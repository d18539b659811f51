"""``nablanet train``: build a network for a data set, train it and save it to a model file.

The data (``--dataset``, ``--data`` or ``--idx-dir``) decides the task: class labels, or
numbers with ``--regression``. The model file, and the history and plot if asked for, are
written only after training succeeded, all or nothing; a divergence (a non-finite loss) is an
error that writes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._atomic import AtomicFiles
from .._log import get_logger
from .._validation import check_fraction, check_positive_float, check_positive_int
from ..initializers import INITIALIZERS
from ..targets import CATEGORICAL_LOSSES
from .common import (
    PROG,
    add_header_option,
    add_json_option,
    add_output_activation,
    check_float32_range,
    check_loss_output,
    initializers_text,
    parse_activations,
    parse_sizes,
    print_json,
    say,
)
from .data import (
    STD_STREAM,
    TrainData,
    check_binary_stdout,
    check_distinct_paths,
    dataset_names,
    load_training_data,
    stage,
    write_binary_stdout,
    write_history_csv,
    write_history_json,
)

HELP = "train a network and save it to a model file"
EXAMPLES = """\
  nablanet train                                  # digits (or moons), a few seconds
  nablanet train --dataset circles --layers 2-16-16-2 --activation tanh --epochs 100
  nablanet train --dataset circles --layers 2-4-3-1 --output-activation sigmoid --momentum 0.9 \\
      --nesterov
  nablanet train --dataset xor3 --layers 3-4-1 --activation sigmoid --output-activation sigmoid \\
      --loss half_squared_error --init uniform01 --optimizer sgd --lr 4 --epochs 1000
  nablanet train --data iris.csv --label-column species --out iris.nbnet --history hist
  nablanet train --idx-dir ~/fashion-mnist --layers 784-256-128-10 --epochs 5 --plot curves.png
  nablanet train --data houses.csv --regression --output-activation identity --loss mse
  nablanet train --data - --label-column species --json --quiet < iris.csv   # stdin in, JSON out
  nablanet train --dask tcp://scheduler:8786 --data 'parts/part-*.csv' --layers 100-128-3
"""
DEFAULT_OUT = "model.nbnet"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``nablanet train``."""
    src = p.add_mutually_exclusive_group()
    src.add_argument("--dataset", help=f"built-in data set: {', '.join(dataset_names())} "
                     "(default: digits with scikit-learn, else moons)")  # fmt: skip
    src.add_argument("--data", metavar="FILE", help="a CSV file, an .npz archive (arrays X, y) "
                     "or a .parquet file; - reads stdin")  # fmt: skip
    src.add_argument("--idx-dir", metavar="DIR", help="directory of (Fashion-)MNIST IDX files")
    p.add_argument("--label-column", default="-1", metavar="COL",
                   help="CSV label column, name or index (default: %(default)s, the last)")  # fmt: skip
    add_header_option(p)
    p.add_argument("--test-size", type=float, default=0.2,
                   help="fraction of --data held out as the test set")  # fmt: skip
    p.add_argument("--layers", metavar="SIZES",
                   help="e.g. 784-256-128-10: (inputs-)hidden...-outputs; the input size is "
                   "optional, the output size must match the classes")  # fmt: skip
    p.add_argument("--activation", default="relu", help="hidden activation, or a comma list")
    add_output_activation(p, choices=["softmax", "sigmoid", "identity"],
                          help="output activation (default softmax; identity for regression)")  # fmt: skip
    p.add_argument("--loss", help="default: matches --output-activation (cross-entropy or mse)")
    p.add_argument("--optimizer", choices=["sgd", "adam", "adamw", "rmsprop"],
                   help="default: adam, or sgd when --momentum or --nesterov is given")  # fmt: skip
    p.add_argument("--lr", type=float, help="learning rate (default: the optimizer's)")
    p.add_argument("--momentum", type=float, metavar="MU",
                   help="SGD momentum in [0, 1), e.g. 0.9: v <- MU v + g, w <- w - lr v")  # fmt: skip
    p.add_argument("--nesterov", action="store_true",
                   help="Nesterov momentum (needs --momentum > 0): w <- w - lr (g + MU v)")  # fmt: skip
    p.add_argument("--init", choices=sorted(INITIALIZERS), metavar="NAME",
                   help="initial weights of every layer: " + ", ".join(sorted(INITIALIZERS))
                   + " (default: he_uniform before relu, glorot_uniform otherwise)")  # fmt: skip
    p.add_argument("--epochs", type=int, default=30, help="passes over the training data")
    p.add_argument("--batch-size", type=int, default=32, help="samples per gradient step")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the weights, shuffling and split")  # fmt: skip
    p.add_argument("--validation-split", type=float, default=0.0,
                   help="fraction of the training data held out for val_ metrics")  # fmt: skip
    p.add_argument("--early-stopping", type=int, metavar="PATIENCE",
                   help="stop after PATIENCE epochs without improvement of val_loss (loss "
                   "without --validation-split) and keep the best weights (default: off)")  # fmt: skip
    p.add_argument("--standardize", action=argparse.BooleanOptionalAction,
                   help="scale features with training-set mean and std (stored in the model; "
                   "default: on, off with --dask)")  # fmt: skip
    p.add_argument("--regression", action="store_true", help="treat the labels as numbers")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction,
                   help="a progress bar on stderr in place of the per-epoch log lines "
                   "(default: when stderr is a terminal; --quiet turns it off)")  # fmt: skip
    p.add_argument("--out", default=DEFAULT_OUT,
                   help="model file; - writes it to stdout (not a terminal)")  # fmt: skip
    p.add_argument("--history", metavar="PREFIX", help="write PREFIX.json and PREFIX.csv")
    p.add_argument("--plot", metavar="PNG", help="loss/accuracy curves (needs matplotlib)")
    p.add_argument("--dask", metavar="SCHEDULER",
                   help="train on the Dask cluster at this address (tcp://host:8786) with "
                   "nablanet.dask; --data is then a glob pattern ('part-*.csv') of CSV or .npz "
                   "files, each read on a worker, never here")  # fmt: skip
    add_json_option(p, "a summary of the run")


def run(args: argparse.Namespace) -> int:
    """Run ``nablanet train``."""
    from ..callbacks import EarlyStopping
    from ..preprocessing import Standardizer

    started = time.perf_counter()
    to_stdout = args.out == STD_STREAM
    if to_stdout and args.json:
        raise ValueError("--out - and --json both write to stdout; give --out a file name")
    if to_stdout:
        check_binary_stdout("--out")  # before training, so that nothing is written
    args.stdout_taken = to_stdout  # the human text then goes to stderr (see ``say``)
    if args.standardize is None:
        args.standardize = args.dask is None
    check_positive_int("--epochs", args.epochs)
    check_positive_int("--batch-size", args.batch_size)
    check_fraction("--validation-split", args.validation_split, low_open=False)
    check_fraction("--test-size", args.test_size)
    if args.lr is not None:
        check_positive_float("--lr", args.lr)
    if args.early_stopping is not None:
        check_positive_int("--early-stopping", args.early_stopping, minimum=0)
    _optimizer(args)  # refuse a bad --momentum / --nesterov before reading any data
    _check_train_paths(args)
    outputs = AtomicFiles()
    out = STD_STREAM if to_stdout else outputs.check(args.out)
    history_paths = []
    if args.history:
        history_paths = [outputs.check(f"{args.history}.{ext}") for ext in ("json", "csv")]
    if args.dask is not None:
        from .train_dask import check_dask_args, run_dask

        check_dask_args(args)
        return run_dask(args, out, outputs)
    plot_path = outputs.check(args.plot) if args.plot else None
    want_plot = plot_path is not None and importlib.util.find_spec("matplotlib") is not None
    if plot_path is not None and not want_plot:
        print(f"{PROG}: note: --plot needs matplotlib (pip install nablanet[plot]); "
              "no plot written", file=sys.stderr)  # fmt: skip

    data = load_training_data(args, _default_dataset())
    model, sizes = _build_model(args, data)
    scaler = Standardizer().fit(data.X_train) if args.standardize else None
    X_train = scaler.transform(data.X_train) if scaler else data.X_train
    X_test = scaler.transform(data.X_test) if scaler else data.X_test
    for X in (X_train, X_test):  # standardized features always fit; raw ones may not
        check_float32_range(X, data.name, model.dtype, "rescale the features or drop "
                            "--no-standardize", rows=False)  # fmt: skip
    callbacks = []
    if args.early_stopping is not None:
        monitor = "val_loss" if args.validation_split else "loss"
        callbacks.append(EarlyStopping(monitor, args.early_stopping, restore_best_weights=True))
    progress = (sys.stderr.isatty() and not args.quiet) if args.progress is None else args.progress
    say(args, f"data: {data.name}: {len(X_train)} training and {len(X_test)} test samples, "
        f"{X_train.shape[1]} features" + (f", {len(data.classes)} classes"
        if data.classes is not None else ", regression"))  # fmt: skip
    say(args, f"network: {'-'.join(map(str, sizes))}, {args.activation} hidden, {args.output} "
        f"output, loss {model.loss.name}, optimizer {model.optimizer!r}, initial weights "
        f"{initializers_text(model)}")  # fmt: skip
    history = _fit(model, args, X_train, data.y_train, callbacks, progress)
    if data.classes is not None:
        model.classes_ = data.classes
    # an early stop's reason is the training logger's "training stopped: ..." line
    with np.errstate(over="ignore", invalid="ignore"):
        metrics = model.evaluate(X_test, data.y_test)
    epochs_run = len(history.epoch)
    metadata = {"dataset": data.name, "feature_names": data.feature_names,
                "epochs": epochs_run, "test_metrics": metrics}  # fmt: skip

    def save(path: Any) -> None:
        model.save(path, preprocessing=scaler, metadata=metadata)

    with outputs:
        if not to_stdout:
            stage(outputs, out, save)
        if history_paths:
            stage(outputs, history_paths[0], lambda p: write_history_json(p, history))
            stage(outputs, history_paths[1], lambda p: write_history_csv(p, history))
        if want_plot and plot_path is not None:
            from ..plot import plot_history

            stage(outputs, plot_path, lambda p: plot_history(history).savefig(p, format="png"))

    if to_stdout:  # last, once everything else is written: the bytes cannot be taken back
        write_binary_stdout(save, "--out")
    if args.json:
        print_json(summary(args, data, sizes, history, metrics, out, time.perf_counter() - started))
        return 0
    shown = ", ".join(f"{k} {v[-1]:.4f}" for k, v in history.history.items() if v)
    say(args, f"trained {epochs_run} epochs; last epoch: {shown}")
    for name, value in metrics.items():
        say(args, f"test {name}: {value:.4f}")
    where = "stdout" if to_stdout else str(out)
    say(args, f"saved model to {where}" + "".join(f", {p}" for p in outputs.done if p != out))
    return 0


def summary(
    args: argparse.Namespace, data: TrainData, sizes: list[int], history: Any,
    metrics: dict[str, float], out: Any, seconds: float,
) -> dict[str, Any]:  # fmt: skip
    """``train --json``'s object: the run's data, network, last epoch's training and
    validation metrics (``val_`` dropped; null without --validation-split), test metrics,
    output files and wall time."""
    last = {k: v[-1] for k, v in history.history.items() if v}
    train = {k: v for k, v in last.items() if not k.startswith("val_")}
    val = {k[len("val_") :]: v for k, v in last.items() if k.startswith("val_")}
    return {
        "model": "-" if args.out == STD_STREAM else os.fspath(out),
        "dataset": data.name,
        "n_train": len(data.X_train),
        "n_test": len(data.X_test),
        "layers": sizes,
        "task": "regression" if data.classes is None else "classification",
        "epochs": len(history.epoch),
        "stopped_early": history.stop_reason,
        "train": train,
        "validation": val or None,
        "test": metrics,
        "history": [f"{args.history}.json", f"{args.history}.csv"] if args.history else None,
        "seconds": round(seconds, 3),
    }


def _default_dataset() -> str:
    return "digits" if importlib.util.find_spec("sklearn") is not None else "moons"


def architecture(args: argparse.Namespace, n_features: int, n_out: int) -> list[int]:
    """Layer sizes from --layers: the first may be the input size, the last must be n_out."""
    if args.layers is None:
        hidden = [128] if n_features >= 256 else [64] if n_features > 8 else [16, 16]
        return [n_features, *hidden, n_out]
    sizes = parse_sizes(args.layers)
    if len(sizes) >= 2 and sizes[0] == n_features:
        sizes = sizes[1:]
    if sizes[-1] != n_out:
        raise ValueError(
            f"--layers {args.layers} ends with {sizes[-1]} outputs, but this data and "
            f"--output-activation {args.output} need {n_out}; end it with -{n_out}"
        )
    return [n_features, *sizes]


def _build_model(args: argparse.Namespace, data: TrainData) -> tuple[Any, list[int]]:
    """The network for ``data``: sizes from --layers, activations, output and loss."""
    from ..model import Sequential

    output = args.output or ("softmax" if data.classes is not None else "identity")
    args.output = output
    if data.classes is None:
        n_out = 1
    elif output == "sigmoid":
        # one sigmoid output for two classes; or, when --layers ends with one output per
        # class, independent sigmoid outputs on one-hot targets (the tutorial "Neural
        # Networks: The Backward Pass"): predict is their argmax
        n_classes = len(data.classes)
        n_out = n_classes if _ends_with(args.layers, n_classes) else 1
        if n_out == 1 and n_classes != 2:
            raise ValueError(
                f"--output-activation sigmoid with {n_classes} classes needs one output per class: end "
                f"--layers with -{n_classes} (independent sigmoid outputs, predict = their "
                "argmax), or use --output-activation softmax"
            )
    else:
        n_out = len(data.classes)
    sizes = architecture(args, data.X_train.shape[1], n_out)
    acts = [*parse_activations(args.activation, len(sizes) - 2), output]
    default_loss = {"softmax": "categorical_cross_entropy", "sigmoid": "binary_cross_entropy"}
    loss = args.loss or default_loss.get(output, "mse")
    check_loss_output(loss, output)
    model = Sequential.from_sizes(
        sizes, acts, kernel_initializer=args.init, loss=loss, optimizer=_optimizer(args),
        seed=args.seed,
    )  # fmt: skip
    # The data decided the task (class labels, or numbers with --regression); say so, rather
    # than let the model guess it from the loss: with a squared-error loss and one output the
    # guess is regression, and a classifier would lose predict --proba and its accuracy.
    if data.classes is None:
        model.task = "regression"
    else:
        model.task = "binary" if n_out == 1 else "multiclass"
    if model.task == "binary" and model.loss.name in CATEGORICAL_LOSSES:
        raise ValueError(
            f"--loss {model.loss.name} needs one output per class (--output-activation softmax); with one "
            "sigmoid output use binary_cross_entropy or a squared error"
        )
    if n_out > 1 and output == "sigmoid" and model.loss.name in CATEGORICAL_LOSSES:
        raise ValueError(
            f"--loss {model.loss.name} never pushes the other classes' sigmoid outputs down "
            "(-log a of the true class only); with independent sigmoid outputs use "
            "sum_squared_error, mse or binary_cross_entropy, or use --output-activation softmax"
        )
    return model, sizes


def _ends_with(layers: str | None, n_out: int) -> bool:
    """True when --layers is given and its last size is ``n_out``."""
    return layers is not None and parse_sizes(layers)[-1] == n_out


def _optimizer(args: argparse.Namespace) -> Any:
    """The optimizer of --optimizer, --lr, --momentum and --nesterov (checked before any data
    is read). Without --optimizer it is Adam, or SGD when --momentum or --nesterov is given."""
    from ..optimizers import get_optimizer

    wants_momentum = args.momentum is not None or args.nesterov
    name = args.optimizer or ("sgd" if wants_momentum else "adam")
    kwargs: dict[str, Any] = {} if args.lr is None else {"lr": args.lr}
    if wants_momentum:
        if name != "sgd":
            raise ValueError(
                f"--momentum and --nesterov are options of --optimizer sgd, got --optimizer "
                f"{name} (Adam, AdamW and RMSProp keep their own running averages)"
            )
        momentum = 0.0 if args.momentum is None else args.momentum
        kwargs["momentum"] = check_fraction("--momentum", momentum, low_open=False)
        if args.nesterov and kwargs["momentum"] == 0:
            given = "no --momentum" if args.momentum is None else f"--momentum {momentum!r}"
            raise ValueError(f"--nesterov needs --momentum above 0 (e.g. 0.9), got {given}")
        kwargs["nesterov"] = bool(args.nesterov)
    return get_optimizer(name, **kwargs)


def _check_train_paths(args: argparse.Namespace) -> None:
    """``train``'s outputs (--out, the files --history derives, --plot) must differ from its
    inputs (--data, the files of --idx-dir) and from each other."""
    inputs: list[tuple[str, Any]] = []
    if args.data is not None:
        inputs.append(("--data", args.data))
    if args.idx_dir is not None and os.path.isdir(args.idx_dir):
        for entry in sorted(os.scandir(args.idx_dir), key=lambda e: e.name):
            if entry.is_file():
                inputs.append(("--idx-dir file", entry.path))
    outputs: list[tuple[str, Any]] = [("--out", args.out)]
    if args.history:
        outputs += [(f"--history {args.history!r} (writes {args.history}.{ext})",
                     f"{args.history}.{ext}") for ext in ("json", "csv")]  # fmt: skip
    if args.plot:
        outputs.append(("--plot", args.plot))
    check_distinct_paths(inputs, outputs)


@contextlib.contextmanager
def _bar_or_lines(progress: bool) -> Iterator[None]:
    """The epochs' progress on stderr once: the bar (``--progress``, on by default on a
    terminal) or the ``nablanet.training`` INFO lines (one per epoch) that the ``nablanet``
    logger shows otherwise, never both (a line would break the bar's ``\\r`` redraws)."""
    logger = get_logger("training")

    def not_an_epoch_line(record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO and str(record.msg).startswith("epoch "))

    if progress:
        logger.addFilter(not_an_epoch_line)
    try:
        yield
    finally:
        logger.removeFilter(not_an_epoch_line)  # no-op when it was not added


def _fit(
    model: Any, args: argparse.Namespace, X: Any, y: Any, callbacks: list[Any], progress: bool
) -> Any:
    """``model.fit``; divergence (a non-finite loss) is an error, with one message and no
    NumPy overflow warnings, so that nothing is written."""
    from ..training import DivergenceWarning

    with warnings.catch_warnings(record=True) as caught, _bar_or_lines(progress):
        warnings.simplefilter("always")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            history = model.fit(
                X, y, epochs=args.epochs, batch_size=args.batch_size,
                validation_split=args.validation_split, callbacks=callbacks, verbose=progress,
            )  # fmt: skip
    diverged: DivergenceWarning | None = None
    for w in caught:
        if isinstance(w.message, DivergenceWarning):
            diverged = w.message
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if diverged is None and np.isfinite(model.parameters_to_vector()).all():
        return history
    if diverged is not None:
        reason = (
            f"training diverged: the training loss became {diverged.loss} at iteration "
            f"{diverged.epoch} (epoch {diverged.epoch}, batch {diverged.step})"
        )
    else:  # finite losses, but the last step left non-finite weights
        reason = "training diverged"
    raise ValueError(
        f"{reason}; nothing was written. Try a smaller --lr (it was {model.optimizer.lr:g})"
        + ("" if args.standardize else " or --standardize")
    )
