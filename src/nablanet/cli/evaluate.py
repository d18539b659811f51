"""``nablanet evaluate``: the loss and metrics of a saved model on labelled data."""

from __future__ import annotations

import argparse

from ..saving import read_model
from .common import add_header_option, check_input_range, label_codes
from .data import read_labelled

HELP = "loss and accuracy of a saved model on labelled data"
EXAMPLES = "  nablanet evaluate model.nbnet test.csv --label-column species\n"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``nablanet evaluate``."""
    p.add_argument("model", metavar="MODEL")
    p.add_argument("input", metavar="INPUT", help="CSV with a label column, or .npz (X, y)")
    p.add_argument("--label-column", default="-1", metavar="COL", help="default: -1, the last")
    add_header_option(p)


def run(args: argparse.Namespace) -> int:
    """Run ``nablanet evaluate``."""
    saved = read_model(args.model)
    model = saved.model
    X, y = read_labelled(args.input, model.input_dim, args.label_column, args.header)
    codes = label_codes(y, model.classes_) if model.is_classifier() else y
    X_net = saved.transform(X)
    check_input_range(X_net, args.input, saved)
    metrics = model.evaluate(X_net, codes)
    print(f"{args.input}: {len(X)} samples")
    for name, value in metrics.items():
        print(f"{name}: {value:.4f}")
    return 0
