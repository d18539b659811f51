"""Seed 000 in tutorial mode: its own printed log, then what each change to its setting buys
=========================================================================================

Seed 000 ("Application of differentiations in neural networks") trains a [2, 4, 3, 1]
relu/relu/sigmoid network on make_circles by full-batch gradient descent, lr 0.005, 150 epochs,
from 0.1 * randn weights, and prints a climb to 0.818 accuracy at epoch 145, then divergence.

1. Tutorial mode (nablanet.tutorial.seed000) rebuilds that run exactly, with the seed's three
   conventions as named options on nablanet's layers and loss::

       reduction="sum"       the loss and dL/da summed over the 1000 samples (no 1/n)
       bias_grad="mean"      db = mean(delta) while dW = a.T @ delta is a sum
       derivative_scale=2    dsigmoid(z) = 2 s (1 - s)

   and prints the seed's lines, number for number.
2. Each convention switched off alone shows which of them makes lr 0.005 a large step.
3. An ablation on held-out data with nablanet's defaults (mean loss, exact gradients), 500
   full-batch epochs: initial weights (the seed's small normal vs He uniform) x optimizer
   (plain SGD vs momentum 0.9) x lr (0.05, 0.2), median test accuracy over (data seed, model
   seed) pairs. The initial weights buy most of it.

Run:  python examples/tutorial_seed000.py [--out DIR] [--quick] [--no-plot]
Writes DIR/tutorial_seed000.png when matplotlib is installed.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

import nablanet as nn
from nablanet.tutorial.figures import Panel, save_panels
from nablanet.tutorial.seed000 import seed000_data, seed000_model, train_like_seed000

INITS = ("small_normal", "he_uniform")
MOMENTA = (0.0, 0.9)
LRS = (0.05, 0.2)


def held_out_accuracy(init: str, momentum: float, lr: float, data_seed: int, model_seed: int,
                      epochs: int) -> tuple[float, list[float]]:  # fmt: skip
    """Train nablanet's own [2, 4, 3, 1] on 750 points, full batch; accuracy on the other 250."""
    X, y = seed000_data(seed=data_seed)
    split = np.random.default_rng(data_seed).permutation(len(X))
    train, test = split[:750], split[750:]
    model = nn.Sequential.from_sizes(
        [2, 4, 3, 1], ["relu", "relu", "sigmoid"], loss="binary_cross_entropy",
        optimizer=nn.SGD(lr=lr, momentum=momentum), kernel_initializer=init,
        bias_initializer="small_normal" if init == "small_normal" else "zeros", seed=model_seed,
    )  # fmt: skip
    Xp, Y = model.prepare(X[train], y[train])
    losses = [model.train_step(Xp, Y)[0] for _ in range(epochs)]  # one full-batch step an epoch
    return float(np.mean(model.predict(X[test]) == y[test])), losses


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Seed 000 in tutorial mode, and an ablation.")
    parser.add_argument("--out", default="out", help="directory for the plot (default: out)")
    parser.add_argument("--no-plot", action="store_true", help="skip the plot")
    parser.add_argument("--quick", action="store_true", help="a small ablation (for testing)")
    args = parser.parse_args(argv)

    X, y = seed000_data()
    print("1. Seed 000 in tutorial mode (its conventions, lr 0.005, its weights):")
    log = train_like_seed000(seed000_model(), X, y)
    for line in log[:4] + log[145:]:
        print(f"   {line}")
    best = max(log, key=lambda e: e.accuracy)
    print(f"   best accuracy {best.accuracy:g} at iteration {best.epoch} (among the lines the seed "
          "elides with '...')")  # fmt: skip

    print("\n2. Each convention switched off alone (best accuracy in 150 epochs, final loss):")
    variants = {
        "the seed's three conventions": {},
        "mean loss instead of sum": {"reduction": "mean"},
        "db summed, as dW": {"bias_grad": "sum"},
        "true sigmoid' (no factor 2)": {"derivative_scale": 1.0},
        "all three off (nablanet)": {"reduction": "mean", "bias_grad": "sum", "derivative_scale": 1.0},
    }  # fmt: skip
    curves = {}
    for name, options in variants.items():
        run = train_like_seed000(seed000_model(**options), X, y)
        curves[name] = [e.accuracy for e in run]
        top = max(run, key=lambda e: e.accuracy)
        print(f"   {name:<30} best {top.accuracy:.3f} (iteration {top.epoch:>3}), "
              f"final loss {run[-1].loss:.6g}")  # fmt: skip

    pairs = [(0, 0)] if args.quick else list(itertools.product(range(4), range(5)))
    epochs = 100 if args.quick else 500
    print(f"\n3. Ablation, nablanet's mean loss, {epochs} full-batch epochs, test accuracy over "
          f"{len(pairs)} (data seed, model seed) pairs:")  # fmt: skip
    print(f"   {'init':<13} {'optimizer':<13} {'lr':>5} {'median':>7} {'min':>6} {'max':>6}")
    table = {}
    loss_curves = {}
    for init, momentum, lr in itertools.product(INITS, MOMENTA, LRS):
        results = [held_out_accuracy(init, momentum, lr, d, m, epochs) for d, m in pairs]
        accs = [acc for acc, _ in results]
        table[init, momentum, lr] = accs
        loss_curves[init, momentum, lr] = results[0][1]
        opt = f"momentum {momentum}" if momentum else "SGD"
        print(f"   {init:<13} {opt:<13} {lr:>5} {np.median(accs):>7.3f} {min(accs):>6.3f} "
              f"{max(accs):>6.3f}")  # fmt: skip
    he = np.median(table["he_uniform", 0.9, 0.2])
    small = np.median(table["small_normal", 0.9, 0.2])
    print(f"   the recommended setting (He uniform + momentum 0.9, lr 0.2): median {he:.3f};")
    print(f"   the same with the seed's small-normal weights: median {small:.3f}.")
    if not args.no_plot:
        _plot(Path(args.out), curves, loss_curves)


def _plot(out: Path, curves: dict, loss_curves: dict) -> None:
    """Accuracy of the tutorial variants, and the ablation's loss curves (needs matplotlib)."""
    losses, styles = {}, {}
    for (init, momentum, lr), values in loss_curves.items():
        label = f"{init}, {'mom 0.9' if momentum else 'SGD'}, lr {lr}"
        losses[label] = values
        styles[label] = "-" if init == "he_uniform" else "--"
    save_panels(out / "tutorial_seed000.png", [
        Panel("Seed 000, lr 0.005: conventions", "training accuracy", curves),
        Panel("Ablation: init x optimizer x lr (first pair)", "training loss (mean BCE)",
              losses, yscale="log", styles=styles),
    ])  # fmt: skip


if __name__ == "__main__":
    main()
