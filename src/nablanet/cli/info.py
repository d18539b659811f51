"""``nablanet info``: describe a saved model (layers, task, classes, preprocessing, metadata;
``--weights`` prints every bias and weight)."""

from __future__ import annotations

import argparse

from ..saving import read_model
from .common import initializers_text

HELP = "describe a saved model"
EXAMPLES = "  nablanet info model.nbnet\n  nablanet info model.nbnet --weights\n"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``nablanet info``."""
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--weights", action="store_true", help="print every bias and weight")


def run(args: argparse.Namespace) -> int:
    """Run ``nablanet info``."""
    saved = read_model(args.model)
    model = saved.model
    print(f"model file: {args.model}")
    model.summary()
    classes = None if model.classes_ is None else model.classes_.tolist()
    print(f"task: {model.task}  input features: {model.input_dim}  classes: {classes}")
    print(f"initial weights: {initializers_text(model)}")
    print(f"preprocessing: {saved.preprocessing!r}")
    for key, value in saved.metadata.items():
        print(f"{key}: {value}")
    if args.weights:
        model.info()
    return 0
