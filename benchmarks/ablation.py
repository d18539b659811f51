"""What the one remaining speed trick buys: one flat parameter buffer for the optimizer.

    python benchmarks/ablation.py [--quick] [--rounds N]

Trains speed.py's network (784-256-128-10 ReLU, softmax cross-entropy, float32, 1 thread) for
one epoch per round, with the optimizer updating the packed flat buffer ("packed", nablanet's
default) and, in the same process, once per parameter array ("per-parameter"). The two variants
alternate in every round; the table gives the median CPU time of an epoch and the ratio
per-parameter / packed (> 1: packing is faster). The data is synthetic, of Fashion-MNIST's shape.
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # one BLAS thread, set before NumPy loads (not when imported)
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"

import argparse
import statistics
import time

import numpy as np

import nablanet as nn

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
    model.fit(X[: 4 * batch], y[: 4 * batch], epochs=1, batch_size=batch, verbose=False)
    if variant == "per-parameter":
        model.optimizer.build(model.slots(), None)  # one update per parameter array
    return model


def run(n_samples: int, n_features: int, batches: tuple[int, ...], rounds: int) -> list[dict]:
    """Median epoch CPU time of each variant; one row per (optimizer, batch size)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, n_features)).astype(np.float32)
    y = rng.integers(0, 10, n_samples)
    rows = []
    for optimizer in ("sgd", "adam"):
        for batch in batches:
            models = {v: make_model(optimizer, v, X, y, batch) for v in VARIANTS}
            times: dict[str, list[float]] = {v: [] for v in VARIANTS}
            for _ in range(rounds):
                for variant, model in models.items():
                    start = time.process_time()
                    model.fit(X, y, epochs=1, batch_size=batch, verbose=False)
                    times[variant].append(time.process_time() - start)
            medians = {v: statistics.median(t) for v, t in times.items()}
            rows.append({
                "optimizer": optimizer, "batch": batch, **medians,
                "ratio": medians["per-parameter"] / medians["packed"],
            })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 samples, 3 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 9)")
    args = parser.parse_args()
    n = 2_000 if args.quick else 10_000
    rounds = args.rounds or (3 if args.quick else 9)
    print("| optimizer | batch | packed s/epoch | per-parameter s/epoch | per-parameter / packed |")
    print("|---|---:|---:|---:|---:|")
    for row in run(n, 784, (32, 128), rounds):
        print(f"| {row['optimizer']} | {row['batch']} | {row['packed']:.3f} | "
              f"{row['per-parameter']:.3f} | {row['ratio']:.2f}x |")  # fmt: skip


if __name__ == "__main__":
    main()
