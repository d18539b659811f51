"""``nablanet predict``: labels (and with ``--proba`` class probabilities) of a saved model for
raw features in a CSV, .npz or Parquet file (``-``: stdin), as CSV (or with ``--json`` JSON
lines) on stdout or in ``--output``."""

from __future__ import annotations

import argparse
import sys

from .._atomic import AtomicFiles
from ..saving import read_model
from .common import add_header_option, add_json_option, check_input_range, log
from .data import (
    STD_STREAM,
    check_distinct_paths,
    predictions_csv,
    predictions_json,
    read_features,
    stage,
)

HELP = "predict with a saved model"
EXAMPLES = """\
  nablanet predict model.nbnet new.csv                      # labels to stdout
  nablanet predict model.nbnet new.csv --proba --output predictions.csv
  nablanet predict model.nbnet test.csv --label-column species   # ignore that column
  nablanet predict model.nbnet - --json < new.csv | head          # stdin in, JSON lines out
INPUT holds the raw feature columns in training order; the stored preprocessing and class
labels are applied. A CSV header row is optional. With --json, each line is
{"prediction": ..., "proba": [...]}, "proba" (classifiers only) in the order of the classes.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``nablanet predict``."""
    p.add_argument("model", metavar="MODEL")
    p.add_argument("input", metavar="INPUT", help="CSV of feature columns (header optional), "
                   ".npz with an array X, or .parquet; - reads stdin")  # fmt: skip
    p.add_argument("--label-column", metavar="COL",
                   help="drop this CSV or Parquet column (name or index)")  # fmt: skip
    add_header_option(p)
    p.add_argument("--proba", action="store_true", help="add one probability column per class")
    p.add_argument("--output", metavar="FILE",
                   help="write the predictions here instead of stdout (- is stdout)")  # fmt: skip
    add_json_option(p, "one JSON object per row (JSON lines)")


def run(args: argparse.Namespace) -> int:
    """Run ``nablanet predict``."""
    if args.output == STD_STREAM:
        args.output = None
    if args.output:
        check_distinct_paths(
            [("MODEL", args.model), ("INPUT", args.input)], [("--output", args.output)]
        )
    outputs = AtomicFiles()
    target = outputs.check(args.output) if args.output else None
    saved = read_model(args.model)
    model = saved.model
    if args.proba and not model.is_classifier():
        raise ValueError("--proba needs a classifier; this model does regression")
    X = read_features(args.input, model.input_dim, args.label_column, args.header)
    X_net = saved.transform(X)
    check_input_range(X_net, args.input, saved)
    labels = model.predict(X_net)
    if args.json:
        proba = model.predict_proba(X_net) if model.is_classifier() else None
        text = predictions_json(labels, proba)
    else:
        proba = model.predict_proba(X_net) if args.proba else None
        text = predictions_csv(labels, proba, model.classes_)
    if target is None:
        sys.stdout.write(text)
    else:
        with outputs:
            stage(outputs, target, lambda p: p.write_text(text, encoding="utf-8"))
        log.info("wrote %d predictions to %s", len(labels), target)
    return 0
