"""``nablanet gradcheck``: compare backprop's gradients with central finite differences, on a
network built from the options or read from a model file (exit status 1 on failure)."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .._validation import check_positive_float, check_positive_int
from ..saving import read_model
from .common import add_output_activation, check_loss_output, parse_activations, parse_sizes, say

HELP = "compare backprop with finite differences (exit 1 on failure)"
EXAMPLES = (
    "  nablanet gradcheck --layers 2-4-3-1 --activation relu,tanh --output-activation sigmoid "
    "--loss binary_cross_entropy\n  nablanet gradcheck model.nbnet\n"
    "  nablanet gradcheck model.nbnet --quiet && echo ok   # the exit status only\n"
)
POISSON_LOSSES = {"half_poisson_deviance", "exp_half_poisson_deviance"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``nablanet gradcheck``."""
    p.add_argument("model", metavar="MODEL", nargs="?",
                   help="a model file to check; without it, a network built from the options")  # fmt: skip
    p.add_argument("--layers", default="4-8-3", metavar="SIZES", help="inputs-hidden...-outputs")
    p.add_argument("--activation", default="tanh", help="hidden activation, or a comma list")
    add_output_activation(p, default="softmax", help="activation of the output layer")
    p.add_argument("--loss", default="categorical_cross_entropy", help="loss function")
    p.add_argument("--samples", type=int, default=8, help="random samples in the batch")
    p.add_argument("--max-checks", type=int, default=200, help="entries checked per array")
    p.add_argument("--tol", type=float, default=1e-6,
                   help="largest relative error that passes (exit status 1 above it)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch")


def run(args: argparse.Namespace) -> int:
    """Run ``nablanet gradcheck``: 0 when every checked entry is within ``--tol``, else 1."""
    from ..gradcheck import check_gradcheck_memory, gradcheck
    from ..model import Sequential

    check_positive_int("--samples", args.samples)
    check_positive_int("--max-checks", args.max_checks)
    check_positive_float("--tol", args.tol)
    if args.model is not None:
        model = read_model(args.model).model
    else:
        sizes = parse_sizes(args.layers)
        if len(sizes) < 2:
            raise ValueError(
                f"--layers needs the input and output sizes at least, got {args.layers!r}"
            )
        acts = [*parse_activations(args.activation, len(sizes) - 2), args.output]
        check_loss_output(args.loss, args.output)
        model = Sequential.from_sizes(sizes, acts, loss=args.loss, seed=args.seed)
    check_gradcheck_memory(model, args.samples, "--samples")  # before the batch is drawn
    X, y = random_batch(model, args.samples, args.seed)
    report = gradcheck(model, X, y, max_checks=args.max_checks, seed=args.seed)
    say(args, f"gradcheck: {args.samples} random samples, float64, central differences")
    say(args, str(report))
    verdict = "PASSED" if report.passed(args.tol) else "FAILED"
    say(args, f"{verdict}: max relative error {report.max_error:.2e} (tolerance {args.tol:g})")
    return 0 if verdict == "PASSED" else 1


def random_batch(model: Any, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs and targets that suit ``model``: class labels for the classification
    losses, counts (Poisson, mean 2) for the Poisson deviances, standard normal numbers for
    the squared errors."""
    from ..targets import CATEGORICAL_LOSSES, CLASSIFICATION_LOSSES

    rng = np.random.default_rng(seed)
    n_out = model.n_outputs
    X = rng.normal(size=(n, model.input_dim))
    if model.loss.name in POISSON_LOSSES:  # y >= 0: negative counts are outside the loss
        return X, rng.poisson(2.0, size=(n, n_out)).astype(np.float64)
    if model.task == "multiclass" or model.loss.name in CATEGORICAL_LOSSES:
        return X, rng.integers(0, n_out, size=n)
    if model.task in ("binary", "multilabel") or model.loss.name in CLASSIFICATION_LOSSES:
        return X, rng.integers(0, 2, size=(n, n_out)).astype(np.float64)
    return X, rng.normal(size=(n, n_out))
