"""The ``nablanet`` command: train, predict, evaluate, info, gradcheck, explain, export and playground.

Run ``nablanet`` with no arguments to train a small network on a built-in data set and see its
test accuracy; ``nablanet COMMAND --help`` shows each command's options and examples.

Exit status: 0 on success, 1 when ``gradcheck`` fails its tolerance, 2 on bad usage or bad
input (with one line on stderr, ``nablanet: error: ...``). Output files are written only after
everything succeeded, each atomically, so a failed run never damages an existing file.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _cli_io as io_
from ._atomic import AtomicFiles, terminate_as_interrupt
from ._cli_teach import (
    EXPLAIN_EXAMPLES,
    EXPLAIN_HELP,
    GRADCHECK_EXAMPLES,
    GRADCHECK_HELP,
    add_explain_arguments,
    add_gradcheck_arguments,
    cmd_explain,
    cmd_gradcheck,
)
from ._validation import check_fraction, check_positive_float, check_positive_int
from .initializers import INITIALIZERS
from .model_io import read_model
from .onnx_export import EXPORT_EXAMPLES, add_export_arguments, cmd_export
from .playground import PLAYGROUND_EXAMPLES, add_playground_arguments, cmd_playground
from .targets import CATEGORICAL_LOSSES

PROG = "nablanet"
DEFAULT_OUT = "model.nbnet"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit status 2)."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def _version() -> str:
    from . import __version__

    return __version__


# -- train --------------------------------------------------------------------------------
def _default_dataset() -> str:
    return "digits" if importlib.util.find_spec("sklearn") is not None else "moons"


def _architecture(args: argparse.Namespace, n_features: int, n_out: int) -> list[int]:
    """Layer sizes from --layers: the first may be the input size, the last must be n_out."""
    if args.layers is None:
        hidden = [128] if n_features >= 256 else [64] if n_features > 8 else [16, 16]
        return [n_features, *hidden, n_out]
    sizes = io_.parse_sizes(args.layers)
    if len(sizes) >= 2 and sizes[0] == n_features:
        sizes = sizes[1:]
    if sizes[-1] != n_out:
        raise ValueError(
            f"--layers {args.layers} ends with {sizes[-1]} outputs, but this data and "
            f"--output {args.output} need {n_out}; end it with -{n_out}"
        )
    return [n_features, *sizes]


def _build_model(args: argparse.Namespace, data: io_.TrainData) -> tuple[Any, list[int]]:
    """The network for ``data``: sizes from --layers, activations, output and loss."""
    from .model import Sequential

    output = args.output or ("softmax" if data.classes is not None else "identity")
    args.output = output
    if data.classes is None:
        n_out = 1
    elif output == "sigmoid":
        if len(data.classes) != 2:
            raise ValueError(
                f"--output sigmoid is for two classes; the data has {len(data.classes)} "
                "classes, use --output softmax"
            )
        n_out = 1
    else:
        n_out = len(data.classes)
    sizes = _architecture(args, data.X_train.shape[1], n_out)
    acts = [*io_.parse_activations(args.activation, len(sizes) - 2), output]
    default_loss = {"softmax": "categorical_cross_entropy", "sigmoid": "binary_cross_entropy"}
    loss = args.loss or default_loss.get(output, "mse")
    io_.check_loss_output(loss, output)
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
            f"--loss {model.loss.name} needs one output per class (--output softmax); with one "
            "sigmoid output use binary_cross_entropy or a squared error"
        )
    return model, sizes


def _optimizer(args: argparse.Namespace) -> Any:
    """The optimizer of --optimizer, --lr, --momentum and --nesterov (checked before any data
    is read). Without --optimizer it is Adam, or SGD when --momentum or --nesterov is given."""
    from .optimizers import get_optimizer

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
    io_.check_distinct_paths(inputs, outputs)


def _fit(
    model: Any, args: argparse.Namespace, X: Any, y: Any, callbacks: list[Any], progress: bool
) -> Any:
    """``model.fit``; divergence (a non-finite loss) is an error, with one message and no
    NumPy overflow warnings, so that nothing is written."""
    from .training import DivergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            history = model.fit(
                X, y, epochs=args.epochs, batch_size=args.batch_size,
                validation_split=args.validation_split, callbacks=callbacks, verbose=progress,
            )  # fmt: skip
    diverged = False
    for w in caught:
        if issubclass(w.category, DivergenceWarning):
            diverged = True
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    params = model.parameters_to_vector()
    if diverged or not np.isfinite(params).all():
        reason = (model.stop_reason or "training diverged").split(" Training stopped")[0]
        lr = model.optimizer.lr
        raise ValueError(
            f"{reason.rstrip('.')}; nothing was written. Try a smaller --lr (it was {lr:g})"
            + ("" if args.standardize else " or --standardize")
        )
    return history


def cmd_train(args: argparse.Namespace) -> int:
    from .callbacks import EarlyStopping
    from .preprocessing import Standardizer

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
    out = outputs.check(args.out)
    history_paths = []
    if args.history:
        history_paths = [outputs.check(f"{args.history}.{ext}") for ext in ("json", "csv")]
    plot_path = outputs.check(args.plot) if args.plot else None
    want_plot = plot_path is not None and importlib.util.find_spec("matplotlib") is not None
    if plot_path is not None and not want_plot:
        print(f"{PROG}: note: --plot needs matplotlib (pip install nablanet[plot]); "
              "no plot written", file=sys.stderr)  # fmt: skip

    data = io_.load_training_data(args, _default_dataset())
    model, sizes = _build_model(args, data)
    scaler = Standardizer().fit(data.X_train) if args.standardize else None
    X_train = scaler.transform(data.X_train) if scaler else data.X_train
    X_test = scaler.transform(data.X_test) if scaler else data.X_test
    for X in (X_train, X_test):  # standardized features always fit; raw ones may not
        io_.check_float32_range(X, data.name, model.dtype, "rescale the features or drop "
                                "--no-standardize", rows=False)  # fmt: skip
    callbacks = []
    if args.early_stopping is not None:
        monitor = "val_loss" if args.validation_split else "loss"
        callbacks.append(EarlyStopping(monitor, args.early_stopping, restore_best_weights=True))
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    print(f"data: {data.name}: {len(X_train)} training and {len(X_test)} test samples, "
          f"{X_train.shape[1]} features" + (f", {len(data.classes)} classes"
          if data.classes is not None else ", regression"))  # fmt: skip
    print(f"network: {'-'.join(map(str, sizes))}, {args.activation} hidden, {args.output} "
          f"output, loss {model.loss.name}, optimizer {model.optimizer!r}, initial weights "
          f"{_initializers(model)}")  # fmt: skip
    history = _fit(model, args, X_train, data.y_train, callbacks, progress)
    if data.classes is not None:
        model.classes_ = data.classes
    if history.stop_reason:
        print(f"stopped early: {history.stop_reason}", file=sys.stderr)
    with np.errstate(over="ignore", invalid="ignore"):
        metrics = model.evaluate(X_test, data.y_test)
    epochs_run = len(history.epoch)
    metadata = {"dataset": data.name, "feature_names": data.feature_names,
                "epochs": epochs_run, "test_metrics": metrics}  # fmt: skip
    with outputs:
        _stage(outputs, out, lambda p: model.save(p, preprocessing=scaler, metadata=metadata))
        if history_paths:
            _stage(outputs, history_paths[0], lambda p: io_.write_history_json(p, history))
            _stage(outputs, history_paths[1], lambda p: io_.write_history_csv(p, history))
        if want_plot and plot_path is not None:
            from .plot import plot_history

            _stage(outputs, plot_path, lambda p: plot_history(history).savefig(p, format="png"))

    shown = ", ".join(f"{k} {v[-1]:.4f}" for k, v in history.history.items() if v)
    print(f"trained {epochs_run} epochs; last epoch: {shown}")
    for name, value in metrics.items():
        print(f"test {name}: {value:.4f}")
    print(f"saved model to {out}" + "".join(f", {p}" for p in outputs.done if p != out))
    return 0


def _initializers(model: Any) -> str:
    """The Dense layers' kernel initializers, as stored in the model's config: one name if
    they all agree, else one per layer (``W1 he_uniform, W2 glorot_uniform``)."""
    names = [layer.kernel_initializer for layer in model.layers if hasattr(layer,
             "kernel_initializer")]  # fmt: skip
    if len(set(names)) == 1:
        return str(names[0])
    return ", ".join(f"W{i + 1} {name}" for i, name in enumerate(names))


def _stage(outputs: AtomicFiles, target: Any, write: Any) -> None:
    """``outputs.stage(target, write)``; an ``OSError`` (a full disk, a file size limit) names
    ``target``, not the temporary file or no file at all."""
    try:
        outputs.stage(target, write)
    except OSError as exc:
        raise io_.named_os_error(exc, target) from exc


# -- predict / evaluate / info ------------------------------------------------------------
def _check_input_range(X_net: Any, path: Any, saved: Any) -> None:
    if saved.preprocessing is not None:
        what = f"'{path}' after the stored standardisation"
        hint = "these features lie far outside the range of the training data"
    else:
        what, hint = f"'{path}'", "the model was trained on smaller values"
    io_.check_float32_range(X_net, what, saved.model.dtype, hint, rows=True)


def cmd_predict(args: argparse.Namespace) -> int:
    if args.output:
        io_.check_distinct_paths(
            [("MODEL", args.model), ("INPUT", args.input)], [("--output", args.output)]
        )
    outputs = AtomicFiles()
    target = outputs.check(args.output) if args.output else None
    saved = read_model(args.model)
    model = saved.model
    if args.proba and not model.is_classifier():
        raise ValueError("--proba needs a classifier; this model does regression")
    X = io_.read_features(args.input, model.input_dim, args.label_column, args.header)
    X_net = saved.transform(X)
    _check_input_range(X_net, args.input, saved)
    labels = model.predict(X_net)
    proba = model.predict_proba(X_net) if args.proba else None
    text = io_.predictions_csv(labels, proba, model.classes_)
    if target is None:
        sys.stdout.write(text)
    else:
        with outputs:
            _stage(outputs, target, lambda p: p.write_text(text, encoding="utf-8"))
        print(f"wrote {len(labels)} predictions to {target}", file=sys.stderr)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    saved = read_model(args.model)
    model = saved.model
    X, y = io_.read_labelled(args.input, model.input_dim, args.label_column, args.header)
    codes = io_.label_codes(y, model.classes_) if model.is_classifier() else y
    X_net = saved.transform(X)
    _check_input_range(X_net, args.input, saved)
    metrics = model.evaluate(X_net, codes)
    print(f"{args.input}: {len(X)} samples")
    for name, value in metrics.items():
        print(f"{name}: {value:.4f}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    saved = read_model(args.model)
    model = saved.model
    print(f"model file: {args.model}")
    model.summary()
    classes = None if model.classes_ is None else model.classes_.tolist()
    print(f"task: {model.task}  input features: {model.input_dim}  classes: {classes}")
    print(f"initial weights: {_initializers(model)}")
    print(f"preprocessing: {saved.preprocessing!r}")
    for key, value in saved.metadata.items():
        print(f"{key}: {value}")
    if args.weights:
        model.info()
    return 0


# -- parser -------------------------------------------------------------------------------
def _sub(subs: Any, name: str, help_: str, epilog: str) -> argparse.ArgumentParser:
    return subs.add_parser(
        name, help=help_, description=help_, epilog="examples:\n" + epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``nablanet`` command."""
    parser = _Parser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Multilayer perceptrons from scratch in NumPy. With no arguments: train a "
        "small network on a built-in data set and print its test accuracy.",
        epilog="examples:\n  nablanet\n  nablanet train --dataset circles --epochs 50\n"
        "  nablanet predict model.nbnet new.csv --proba\n  nablanet explain --example seed001",
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = _sub(subs, "train", "train a network and save it to a model file", io_.TRAIN_EXAMPLES)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--dataset", help=f"built-in data set: {', '.join(io_.dataset_names())} "
                     "(default: digits with scikit-learn, else moons)")  # fmt: skip
    src.add_argument("--data", metavar="FILE", help="a CSV file or an .npz archive (arrays X, y)")
    src.add_argument("--idx-dir", metavar="DIR", help="directory of (Fashion-)MNIST IDX files")
    p.add_argument("--label-column", default="-1", metavar="COL",
                   help="CSV label column, name or index (default: -1, the last)")  # fmt: skip
    p.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                   help="the CSV's first line holds column names (--no-header: it is data); "
                   "default: decided from the whole file")  # fmt: skip
    p.add_argument("--test-size", type=float, default=0.2, help="for --data (default 0.2)")
    p.add_argument("--layers", metavar="SIZES",
                   help="e.g. 784-256-128-10: (inputs-)hidden...-outputs; the input size is "
                   "optional, the output size must match the classes")  # fmt: skip
    p.add_argument("--activation", default="relu", help="hidden activation, or a comma list")
    p.add_argument("--output", choices=["softmax", "sigmoid", "identity"],
                   help="output activation (default softmax; identity for regression)")  # fmt: skip
    p.add_argument("--loss", help="default: matches --output (cross-entropy or mse)")
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
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--validation-split", type=float, default=0.0)
    p.add_argument("--early-stopping", type=int, metavar="PATIENCE")
    p.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True,
                   help="scale features with training-set mean and std (stored in the model)")  # fmt: skip
    p.add_argument("--regression", action="store_true", help="treat the labels as numbers")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction,
                   help="progress bar per epoch (default: when stderr is a terminal)")  # fmt: skip
    p.add_argument("--out", default=DEFAULT_OUT, help=f"model file (default {DEFAULT_OUT})")
    p.add_argument("--history", metavar="PREFIX", help="write PREFIX.json and PREFIX.csv")
    p.add_argument("--plot", metavar="PNG", help="loss/accuracy curves (needs matplotlib)")
    p.set_defaults(func=cmd_train)

    p = _sub(subs, "predict", "predict with a saved model", io_.PREDICT_EXAMPLES)
    p.add_argument("model", metavar="MODEL")
    p.add_argument("input", metavar="INPUT", help="CSV of feature columns (header optional), "
                   "or .npz with an array X")  # fmt: skip
    p.add_argument("--label-column", metavar="COL", help="drop this CSV column (name or index)")
    p.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                   help="the CSV's first line holds column names (--no-header: it is data); "
                   "default: decided from the whole file")  # fmt: skip
    p.add_argument("--proba", action="store_true", help="add one probability column per class")
    p.add_argument("--output", metavar="FILE", help="write the CSV here instead of stdout")
    p.set_defaults(func=cmd_predict)

    p = _sub(subs, "evaluate", "loss and accuracy of a saved model on labelled data",
             "  nablanet evaluate model.nbnet test.csv --label-column species\n")  # fmt: skip
    p.add_argument("model", metavar="MODEL")
    p.add_argument("input", metavar="INPUT", help="CSV with a label column, or .npz (X, y)")
    p.add_argument("--label-column", default="-1", metavar="COL", help="default: -1, the last")
    p.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                   help="the CSV's first line holds column names (--no-header: it is data); "
                   "default: decided from the whole file")  # fmt: skip
    p.set_defaults(func=cmd_evaluate)

    p = _sub(subs, "info", "describe a saved model",
             "  nablanet info model.nbnet\n  nablanet info model.nbnet --weights\n")  # fmt: skip
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--weights", action="store_true", help="print every bias and weight")
    p.set_defaults(func=cmd_info)

    p = _sub(subs, "gradcheck", GRADCHECK_HELP, GRADCHECK_EXAMPLES)
    add_gradcheck_arguments(p)
    p.set_defaults(func=cmd_gradcheck)

    p = _sub(subs, "explain", EXPLAIN_HELP, EXPLAIN_EXAMPLES)
    add_explain_arguments(p)
    p.set_defaults(func=cmd_explain)

    p = _sub(subs, "export", "convert a model file to ONNX (needs nablanet[onnx])", EXPORT_EXAMPLES)
    add_export_arguments(p)
    p.set_defaults(func=cmd_export)

    p = _sub(subs, "playground", "train a network live in your web browser (a local page)",
             PLAYGROUND_EXAMPLES)  # fmt: skip
    add_playground_arguments(p)
    p.set_defaults(func=cmd_playground)
    return parser


def _showwarning(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
    print(f"{PROG}: warning: {' '.join(str(message).split())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nablanet`` command with ``argv`` (default ``sys.argv[1:]``); return the status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(arguments or ["train"])
    # SIGTERM (e.g. from a job scheduler) cleans up like Ctrl-C: no temporary file is left behind
    with warnings.catch_warnings(), terminate_as_interrupt():
        warnings.showwarning = _showwarning
        try:
            return int(args.func(args))
        except (ValueError, TypeError, OSError, ImportError) as exc:
            print(f"{PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # e.g. `nablanet predict ... | head`: stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted; nothing was written", file=sys.stderr)
            return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
