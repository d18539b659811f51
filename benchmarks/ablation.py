"""What the one remaining speed trick buys: one flat parameter buffer for the optimizer.

    python benchmarks/ablation.py [--quick] [--rounds N]

Trains speed.py's network (784-256-128-10 ReLU, softmax cross-entropy, float32, 1 thread) for
one epoch per round, with the optimizer updating the packed flat buffer ("packed", nablanet's
default) and, in the same process, once per parameter array ("per-parameter"), both on the plain
NumPy path (the compiled kernels are switched off: their one pass makes packing moot). The two
variants are timed by the shared protocol (``_protocol.interleave``: interleaved rounds, CPU
time); the table gives the median CPU time of an epoch and the median per-round ratio
per-parameter / packed (> 1: packing is faster), with its lowest-highest round. The data is
synthetic, of Fashion-MNIST's shape.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _protocol as protocol

if __name__ == "__main__":  # one thread everywhere, set before NumPy loads (not when imported)
    protocol.set_thread_env(1)

import argparse
import statistics

import numpy as np

import nablanet as nn
from nablanet import _fast

VARIANTS = ("packed", "per-parameter")


def make_model(
    optimizer: str, variant: str, X: np.ndarray, y: np.ndarray, batch: int
) -> nn.Sequential:
    """The benchmark network, warmed up by one short fit, its optimizer bound as ``variant``."""
    opt = nn.optimizers.SGD(0.01, momentum=0.9) if optimizer == "sgd" else nn.optimizers.Adam()
    model = nn.Sequential.from_sizes(
        [X.shape[1], 256, 128, 10], "relu", "softmax", loss="categorical_cross_entropy",
        optimizer=opt, seed=0,
    )  # fmt: skip
    with _fast.use_fast(False):
        model.fit(X[: 4 * batch], y[: 4 * batch], epochs=1, batch_size=batch, verbose=False)
    if variant == "per-parameter":
        model.optimizer.build(model.slots(), None)  # one update per parameter array
    return model


def run(n_samples: int, n_features: int, batches: tuple[int, ...], rounds: int) -> list[dict]:
    """Median epoch CPU time of each variant; one row per (optimizer, batch size)."""

    def epoch(model: nn.Sequential, batch: int):  # type: ignore[no-untyped-def]
        def call() -> None:
            with _fast.use_fast(False):
                model.fit(X, y, epochs=1, batch_size=batch, verbose=False)

        return call

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, n_features)).astype(np.float32)
    y = rng.integers(0, 10, n_samples)
    rows = []
    for optimizer in ("sgd", "adam"):
        for batch in batches:
            fns = {v: epoch(make_model(optimizer, v, X, y, batch), batch) for v in VARIANTS}
            times = protocol.interleave(fns, rounds, 1, warmup=0)["times"]
            ratio = protocol.ratio(times["per-parameter"], times["packed"])
            assert ratio is not None
            rows.append({
                "optimizer": optimizer, "batch": batch,
                **{v: statistics.median(t) for v, t in times.items()},
                "ratio": ratio["median"], "range": (ratio["min"], ratio["max"]),
            })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 samples, 3 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 9)")
    args = parser.parse_args()
    n = 2_000 if args.quick else 10_000
    rounds = args.rounds or (5 if args.quick else 9)
    print("| optimizer | batch | packed s/epoch | per-parameter s/epoch | per-parameter / packed |")
    print("|---|---:|---:|---:|---:|")
    for row in run(n, 784, (32, 128), rounds):
        low, high = row["range"]
        print(f"| {row['optimizer']} | {row['batch']} | {row['packed']:.3f} | "
              f"{row['per-parameter']:.3f} | {row['ratio']:.2f}x ({low:.2f}-{high:.2f}) |")  # fmt: skip


if __name__ == "__main__":
    main()
