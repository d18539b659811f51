"""``nablanet explain``: backprop and the update, layer by layer, for one sample of a saved
model or of a seed's worked network (``--example seed000|seed001|seed004``: seed 000's circles
network, seed 001's 2-2-2 network, seed 004's sign question); ``--steps N`` traces N optimizer
steps, ``--tutorial`` replays seed 001's own training step."""

from __future__ import annotations

import argparse

from .._validation import check_positive_int
from ..saving import read_model
from .common import parse_numbers, parse_target

HELP = "print backprop and the update, layer by layer, for one sample"
EXAMPLES = (
    "  nablanet explain --example seed001\n"
    "  nablanet explain --example seed000   (seed 000's circles network, its conventions)\n"
    "  nablanet explain --example seed004   (why weight2 + lr * a1.T @ ((y - a2) ...) descends)\n"
    "  nablanet explain --example seed001 --steps 3\n"
    "  nablanet explain --example seed001 --tutorial   (Output.4 -> Output.5)\n"
    "  nablanet explain model.nbnet --input 1.2,1.6 --target 0 --steps 5\n"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``nablanet explain``."""
    p.add_argument("model", metavar="MODEL", nargs="?")
    p.add_argument("--example", choices=["seed000", "seed001", "seed004"],
                   help="a seed's worked network: seed 000's circles network, seed 001's 2-2-2 "
                   "network, seed 004's sign question")  # fmt: skip
    p.add_argument("--input", metavar="X", help="comma-separated raw feature values")
    p.add_argument("--target", metavar="Y", help="class label, or comma-separated targets")
    p.add_argument("--max-fd", type=int, default=64, help="finite differences per array")
    p.add_argument("--steps", type=int, metavar="N",
                   help="trace N optimizer steps: per step the loss, gradients and updates "
                   "(with --tutorial: the seed's epochs, default its 100)")  # fmt: skip
    p.add_argument("--tutorial", action="store_true",
                   help="with --example seed001: replay the seed's own training step (Output.4 "
                   "-> Output.5), its gradient printed beside the true one")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Run ``nablanet explain``."""
    from ..explain import explain, trace
    from ..tutorial.worked import load_example

    if args.steps is not None:
        from ..explain.steps import MAX_STEPS

        check_positive_int("--steps", args.steps)
        if args.steps > MAX_STEPS:
            raise ValueError(f"--steps must be at most {MAX_STEPS}, got {args.steps}")
    if args.tutorial:
        if args.example != "seed001":
            raise ValueError(
                "--tutorial replays a seed's own training: use it with --example seed001"
            )
        from ..tutorial.seed001 import EPOCHS, render_replay, replay

        print(render_replay(replay(args.steps or EPOCHS)))
        return 0
    if args.example is not None:
        if args.model is not None:
            raise ValueError("give either MODEL or --example, not both")
        if args.example == "seed004" and args.steps is None:
            from ..tutorial.seed004 import sign_step

            print(sign_step())  # the sign question, with the numbers of one step
            return 0
        model, x, y, header = load_example(args.example, batch=args.steps is not None)
        print(header)
    else:
        if args.model is None or args.input is None or args.target is None:
            raise ValueError(
                "explain needs MODEL --input X --target Y, or --example seed000|seed001|seed004"
            )
        saved = read_model(args.model)
        model = saved.model
        x = parse_numbers(args.input, "--input")
        if len(x) != model.input_dim:
            raise ValueError(f"--input has {len(x)} values but the model expects {model.input_dim}")
        if saved.preprocessing is not None:
            x = saved.transform(x.reshape(1, -1))[0]
            print(f"input standardized with the stored Standardizer: {x.tolist()}")
        y = parse_target(args.target, model)
    if args.steps is not None:
        print(trace(model, x, y, steps=args.steps))
    else:
        print(explain(model, x, y, max_fd=args.max_fd))
    return 0
