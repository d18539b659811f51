"""``nablanet export``: convert a model file to ONNX with :func:`nablanet.onnx_export.to_onnx`
(needs ``nablanet[onnx]``)."""

from __future__ import annotations

import argparse

from ..onnx_export import DEFAULT_OPSET, MIN_OPSET
from ..saving import read_model
from .data import check_distinct_paths

HELP = "convert a model file to ONNX (needs nablanet[onnx])"
EXAMPLES = (
    "  nablanet export model.nbnet model.onnx\n  nablanet export model.nbnet m.onnx --opset 13\n"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``nablanet export``: MODEL, OUTPUT and ``--opset``."""
    parser.add_argument("model", metavar="MODEL", help="nablanet model file (e.g. model.nbnet)")
    parser.add_argument("output", metavar="OUTPUT", help="ONNX file to write (e.g. model.onnx)")
    parser.add_argument(
        "--opset",
        type=int,
        default=DEFAULT_OPSET,
        help=f"ONNX opset, from {MIN_OPSET} to the newest the installed onnx (and onnxruntime, "
        f"if installed) supports (default {DEFAULT_OPSET})",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``nablanet export``.

    The model file's Standardizer, if any, is folded into the graph, so the ONNX model takes
    the same raw features as ``nablanet predict``.
    """
    from ..onnx_export import to_onnx

    check_distinct_paths([("MODEL", args.model)], [("OUTPUT", args.output)])
    saved = read_model(args.model)
    proto = to_onnx(saved.model, args.output, preprocessing=saved.preprocessing, opset=args.opset)
    outputs = ", ".join(o.name for o in proto.graph.output)
    print(f"wrote {args.output} (ONNX opset {args.opset}; input X; outputs {outputs})")
    return 0
