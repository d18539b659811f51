"""``nablanet train --dask ADDRESS --data 'part-*.csv'``: train on a Dask cluster from many files.

The files are never opened here: :func:`nablanet.dask.read_files` expands the pattern on a
worker and each file is read on a worker by nablanet's reader (``load_csv``, or ``load_npz``
for ``.npz``), with the same header inference, label parsing and error messages as ``--data``
on one machine. The network is trained by :class:`nablanet.dask.DaskMLPClassifier` (or
``DaskMLPRegressor`` with ``--regression``), local SGD with the default ``sync_every``, and
saved (all or nothing) as the plain estimator's model file, which ``nablanet predict`` reads.

The options map onto the estimator: hidden sizes from ``--layers`` (``IN-H1-...-OUT`` or
``H1-...-OUT``; the output layer is the data's, checked once its classes are known),
``--activation``, ``--optimizer``/``--lr``/``--momentum``/``--nesterov``, ``--epochs``
(``max_iter``), ``--batch-size`` (the global batch), ``--seed``, and ``--early-stopping N`` with
``--validation-split`` (``early_stopping=True``, ``n_iter_no_change=N``). Features are not
standardized (that needs a pass over every file first), and there is no test split.
"""

from __future__ import annotations

import argparse
import importlib
import warnings
from typing import Any

from .._atomic import AtomicFiles
from .._validation import check_fraction
from .common import parse_sizes, say
from .data import _column, _header, stage

#: options that mean something only for training in this process, at their defaults
ONE_MACHINE_ONLY = {
    "output": None,
    "loss": None,
    "init": None,
    "history": None,
    "plot": None,
    "progress": None,
    "json": False,
}


def check_dask_args(args: argparse.Namespace) -> None:
    """Refuse what ``--dask`` cannot do before connecting to anything."""
    if args.data is None:
        raise ValueError("--dask needs --data: a file or a glob pattern such as 'part-*.csv'")
    given = [name for name, default in ONE_MACHINE_ONLY.items() if getattr(args, name) != default]
    if given:
        names = ", ".join("--" + n.replace("_", "-") for n in given)
        raise ValueError(f"{names}: not available with --dask (they train in this process)")
    if args.out == "-":
        raise ValueError("--out - (stdout) is not available with --dask; give a file name")
    if args.data == "-":
        raise ValueError("--data - (stdin) is not available with --dask: the workers read files")
    if args.standardize:
        raise ValueError(
            "--standardize is not available with --dask (it needs a pass over every file "
            "first): scale the files' features, or pass --no-standardize"
        )


def estimator(args: argparse.Namespace, n_features: int) -> Any:
    """The Dask estimator of the command's options (hidden sizes from --layers)."""
    from ..dask import DaskMLPClassifier, DaskMLPRegressor

    hidden: list[int] = [128] if n_features >= 256 else [64] if n_features > 8 else [16, 16]
    if args.layers is not None:
        sizes = parse_sizes(args.layers)
        if len(sizes) >= 2 and sizes[0] == n_features:
            sizes = sizes[1:]
        hidden = sizes[:-1]
    name = args.optimizer or ("sgd" if args.momentum is not None or args.nesterov else "adam")
    momentum = (
        0.0
        if args.momentum is None
        else check_fraction("--momentum", args.momentum, low_open=False)
    )
    if args.nesterov and momentum == 0:
        raise ValueError("--nesterov needs --momentum above 0 (e.g. 0.9)")
    if name != "sgd" and (args.momentum is not None or args.nesterov):
        raise ValueError(f"--momentum and --nesterov are options of --optimizer sgd, got {name}")
    params = dict(
        hidden_layer_sizes=tuple(hidden),
        activation=args.activation,
        solver="sgd" if name == "sgd" else "adam",
        optimizer=name,
        learning_rate_init=args.lr if args.lr is not None else (0.01 if name == "sgd" else 0.001),
        momentum=momentum,
        nesterovs_momentum=bool(args.nesterov),
        max_iter=args.epochs,
        batch_size=args.batch_size,
        random_state=args.seed,
        early_stopping=args.early_stopping is not None,
        n_iter_no_change=args.early_stopping if args.early_stopping is not None else 10,
        validation_fraction=args.validation_split or 0.1,
        tol=0.0 if args.early_stopping is None else 1e-4,
    )
    return (DaskMLPRegressor if args.regression else DaskMLPClassifier)(**params)


def run_dask(args: argparse.Namespace, out: Any, outputs: AtomicFiles) -> int:
    """Train on the cluster at ``args.dask``; write ``out`` only if training succeeded."""
    from ..dask import read_files  # first: without the extra, its ImportError names it

    distributed = importlib.import_module("distributed")

    with distributed.Client(args.dask, timeout="30s") as client:
        chunks = read_files(
            args.data,
            label_column=_column(args.label_column),
            header=_header(args.header),
            client=client,
        )
        n_features = int(client.compute(chunks[0][0].shape[1]).result())  # one file, on a worker
        est = estimator(args, n_features)
        est.set_params(client=client)
        say(args, f"data: {len(chunks)} files matching {args.data!r}, {n_features} features, "
            f"read on the workers of {args.dask}")  # fmt: skip
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():  # --epochs is a budget, not a convergence test
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            est.fit(chunks)
        est.set_params(client=None)
    if args.layers is not None:
        wanted = parse_sizes(args.layers)[-1]
        if wanted != est.n_outputs_:
            raise ValueError(
                f"--layers {args.layers} ends with {wanted} outputs, but this data needs "
                f"{est.n_outputs_}; end it with -{est.n_outputs_} (nothing was written)"
            )
    local = est.to_local()
    metadata = {"dataset": args.data, "epochs": int(est.n_iter_), "dask": args.dask}
    with outputs:
        stage(outputs, out, lambda p: local.save(p, metadata=metadata))
    sizes = [n_features, *est.hidden_layer_sizes, est.n_outputs_]
    say(args, f"network: {'-'.join(map(str, sizes))}, {est.n_replicas_} replicas; trained "
        f"{est.n_iter_} epochs, last loss {est.loss_:.4f}")  # fmt: skip
    say(args, f"saved model to {out}")
    return 0


__all__ = ["check_dask_args", "run_dask"]
