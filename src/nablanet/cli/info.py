"""``nablanet info``: describe a saved model (layers, task, classes, preprocessing, metadata;
``--weights`` prints every bias and weight)."""

from __future__ import annotations

import argparse
from typing import Any

from ..saving import read_model
from .common import add_json_option, initializers_text, print_json

HELP = "describe a saved model"
EXAMPLES = """\
  nablanet info model.nbnet
  nablanet info model.nbnet --weights
  nablanet info model.nbnet --json | jq .n_params
With --json: {"model", "task", "n_params", "input_dim", "n_outputs", "classes", "config",
"preprocessing", "metadata"} (see docs/howto/cli-scripting.md).
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``nablanet info``."""
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--weights", action="store_true", help="print every bias and weight")
    add_json_option(p, "the description (with --weights: the weights too)")


def run(args: argparse.Namespace) -> int:
    """Run ``nablanet info``."""
    saved = read_model(args.model)
    model = saved.model
    if args.json:
        print_json(describe(args.model, saved, weights=args.weights))
        return 0
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


def describe(path: str, saved: Any, weights: bool = False) -> dict[str, Any]:
    """``info --json``'s object: the model file's task, sizes, classes, config (as
    ``Sequential.get_config``), preprocessing (``Standardizer`` mean and scale, or null) and
    metadata; with ``weights``, each layer's parameters by name (``{"W": [[...]], "b": [...]}``,
    ``W`` of shape (n_in, n_out))."""
    model = saved.model
    pre = saved.preprocessing
    result: dict[str, Any] = {
        "model": path,
        "task": model.task,
        "n_params": int(model.n_params),
        "input_dim": model.input_dim,
        "n_outputs": model.n_outputs,
        "classes": None if model.classes_ is None else model.classes_.tolist(),
        "config": model.get_config(),
        "preprocessing": None if pre is None else {"class": type(pre).__name__, **pre.get_config()},
        "metadata": saved.metadata,
    }
    if weights:
        result["weights"] = [
            {name: value for name, value in layer.params.items()}
            for layer in model.layers
            if getattr(layer, "params", None)
        ]
    return result
