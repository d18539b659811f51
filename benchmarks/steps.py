"""Time one training step of nablanet's benchmark networks: best of 7 repeats, 1 thread.

    python benchmarks/steps.py [LABEL]

Prints one line: seed 003's XOR 3-4-1 step and the 784-256-128-10 step at batch 128 with
SGD-momentum and with Adam (one fixed batch, no data gathering). For an A/B of two commits, run
it at each (e.g. from a ``git worktree`` with ``PYTHONPATH=<worktree>/src``), alternating a few
times, and compare the lines; the best-of-repeats time is robust to a shared machine's noise.
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # one BLAS thread, set before NumPy loads (not when imported)
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"

import sys
import timeit

import numpy as np

import nablanet as nn


def best_step_us(model: nn.Sequential, X: np.ndarray, Y: np.ndarray, number: int) -> float:
    """Best of 7 repeats of ``number`` train steps, in microseconds per step."""
    model.fit(X, Y, epochs=1, verbose=False)  # builds, and warms up
    return (
        min(timeit.repeat(lambda: model.train_step(X, Y), number=number, repeat=7)) / number * 1e6
    )


def main(label: str = "", xor_steps: int = 5000, big_steps: int = 200) -> dict[str, float]:
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float32)
    Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    xor = nn.Sequential.from_sizes([3, 4, 1], "sigmoid", "sigmoid", loss="mse", lr=0.5, seed=0)
    Xb = np.random.default_rng(0).normal(size=(128, 784)).astype(np.float32)
    Yb = np.eye(10, dtype=np.float32)[np.arange(128) % 10]
    times = {"xor": best_step_us(xor, X, Y, xor_steps)}
    for name, optimizer in [
        ("sgd-momentum", nn.optimizers.SGD(0.01, momentum=0.9)),
        ("adam", nn.optimizers.Adam()),
    ]:
        big = nn.Sequential.from_sizes(
            [784, 256, 128, 10], "relu", "softmax", loss="categorical_cross_entropy",
            optimizer=optimizer, seed=0,
        )  # fmt: skip
        times[name] = best_step_us(big, Xb, Yb, big_steps)
    print(f"{label:8s} " + "   ".join(f"{k} step {v:8.1f} us" for k, v in times.items()))
    return times


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
