"""``nablanet export``: convert a model file to ONNX with :func:`nablanet.onnx_export.to_onnx`
(needs ``nablanet[onnx]``)."""

from __future__ import annotations

import argparse
from typing import Any

from ..onnx_export import DEFAULT_OPSET, MIN_OPSET
from ..saving import read_model
from .common import say
from .data import STD_STREAM, check_binary_stdout, check_distinct_paths, write_binary_stdout

HELP = "convert a model file to ONNX (needs nablanet[onnx])"
EXAMPLES = (
    "  nablanet export model.nbnet model.onnx\n  nablanet export model.nbnet m.onnx --opset 13\n"
    "  nablanet export model.nbnet - | gzip > model.onnx.gz   # ONNX bytes to stdout\n"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``nablanet export``: MODEL, OUTPUT and ``--opset``."""
    parser.add_argument("model", metavar="MODEL", help="nablanet model file (e.g. model.nbnet)")
    parser.add_argument("output", metavar="OUTPUT", help="ONNX file to write (e.g. model.onnx); - writes "
                        "to stdout (not a terminal)")  # fmt: skip
    parser.add_argument(
        "--opset",
        type=int,
        default=DEFAULT_OPSET,
        help=f"ONNX opset, from {MIN_OPSET} to the newest the installed onnx (and onnxruntime, "
        "if installed) supports",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``nablanet export``.

    The model file's Standardizer, if any, is folded into the graph, so the ONNX model takes
    the same raw features as ``nablanet predict``.
    """
    from ..onnx_export import to_onnx

    check_distinct_paths([("MODEL", args.model)], [("OUTPUT", args.output)])
    if args.output == STD_STREAM:
        check_binary_stdout("OUTPUT")  # before reading and converting the model
    saved = read_model(args.model)
    graph: list[Any] = []

    def write(path: Any) -> None:
        graph.append(to_onnx(saved.model, path, preprocessing=saved.preprocessing,
                             opset=args.opset))  # fmt: skip

    if args.output == STD_STREAM:
        args.stdout_taken = True  # the message goes to stderr
        write_binary_stdout(write, "OUTPUT")
    else:
        write(args.output)
    outputs = ", ".join(o.name for o in graph[0].graph.output)
    where = "stdout" if args.output == STD_STREAM else args.output
    say(args, f"wrote {where} (ONNX opset {args.opset}; input X; outputs {outputs})")
    return 0
