"""``nablanet evaluate``: the loss and metrics of a saved model on labelled data."""

from __future__ import annotations

import argparse

import numpy as np

from ..metrics import r2_score
from ..saving import read_model
from .common import add_header_option, add_json_option, check_input_range, label_codes, print_json
from .data import STD_STREAM, STDIN_NAME, read_labelled

HELP = "loss and accuracy of a saved model on labelled data"
EXAMPLES = """\
  nablanet evaluate model.nbnet test.csv --label-column species
  nablanet evaluate model.nbnet test.parquet --json | python -m json.tool
  nablanet evaluate model.nbnet - < test.csv
With --json: {"loss": ..., "accuracy": ... (classifiers) or "r2": ... (regression), ...,
"n_samples": ...}: the model's metrics (see docs/howto/cli-scripting.md).
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``nablanet evaluate``."""
    p.add_argument("model", metavar="MODEL")
    p.add_argument("input", metavar="INPUT", help="CSV or .parquet with a label column, or .npz "
                   "(X, y); - reads stdin")  # fmt: skip
    p.add_argument("--label-column", default="-1", metavar="COL",
                   help="CSV or Parquet label column, name or index (default: %(default)s, "
                   "the last)")  # fmt: skip
    add_header_option(p)
    add_json_option(p, "the metrics")


def run(args: argparse.Namespace) -> int:
    """Run ``nablanet evaluate``."""
    saved = read_model(args.model)
    model = saved.model
    X, y = read_labelled(args.input, model.input_dim, args.label_column, args.header)
    codes = label_codes(y, model.classes_) if model.is_classifier() else y
    X_net = saved.transform(X)
    check_input_range(X_net, args.input, saved)
    metrics = model.evaluate(X_net, codes)
    if not model.is_classifier():
        metrics["r2"] = r2_score(np.asarray(y, dtype=np.float64), model.predict(X_net))
    if args.json:
        print_json({**metrics, "n_samples": len(X)})
        return 0
    name = STDIN_NAME if args.input == STD_STREAM else args.input
    print(f"{name}: {len(X)} samples")
    for key, value in metrics.items():
        print(f"{key}: {value:.4f}")
    return 0
