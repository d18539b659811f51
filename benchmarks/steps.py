"""Time one training step of nablanet's benchmark networks, with and without the kernels.

    python benchmarks/steps.py [LABEL] [--rounds R] [--threads N] [--batch B]

Seed 003's XOR 3-4-1 step and the 784-256-128-10 step (one fixed batch, no data gathering) with
SGD-momentum and with Adam, each with the compiled kernels (``nablanet[fast]``) and with plain
NumPy, and the step's eight matrix products alone (the GEMM ceiling). All of them are timed by
the shared protocol (``_protocol.interleave``: interleaved rounds, CPU time with 1 thread,
medians). Prints one line per step: median microseconds, the lowest-highest round, and the
GEMM-only time as a share of the step. ``--parts`` times instead where one step of the
784-256-128-10 network (kernels on) spends its time: forward, loss, backward, penalty,
optimizer update and accuracy metric, each summed over the steps of a round, beside the
step's eight matrix products alone. For an A/B of two commits, run it at each (e.g. from a
``git worktree`` with ``PYTHONPATH=<worktree>/src``), alternating, and compare the lines.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _protocol as protocol

if __name__ == "__main__":  # thread counts, set before NumPy loads (not when imported)
    _threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
    protocol.set_thread_env(_threads)

import argparse
import itertools
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
from _common import gemm_epochs

import nablanet as nn
from nablanet import _fast


def _stepper(model: nn.Sequential, X: np.ndarray, Y: np.ndarray, fast: bool) -> Callable[[], Any]:
    def step() -> None:
        with _fast.use_fast(fast):
            model.train_step(X, Y)

    with _fast.use_fast(fast):
        model.fit(X, Y, epochs=1, verbose=False)  # builds, compiles, warms up
    return step


def _updater(model: nn.Sequential, fast: bool) -> Callable[[], Any]:
    """The optimizer's update alone (``apply_gradients``) over the model's 235,146 parameters."""

    def update() -> None:
        with _fast.use_fast(fast):
            model.apply_gradients()

    return update


def contenders(batch: int = 128, kernels: bool = True) -> dict[str, Callable[[], Any]]:
    """Every step to time, by name: ``xor``, ``sgd-momentum``, ``adam`` and the two optimizers'
    updates alone (each ``/numpy`` and, with numba, ``/kernels``), and ``gemm``."""
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float32)
    Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    Xb = np.random.default_rng(0).normal(size=(batch, 784)).astype(np.float32)
    Yb = np.eye(10, dtype=np.float32)[np.arange(batch) % 10]
    modes = ["numpy"] + (["kernels"] if kernels and _fast.AVAILABLE else [])
    fns: dict[str, Callable[[], Any]] = {}
    for mode in modes:
        xor = nn.Sequential.from_sizes([3, 4, 1], "sigmoid", "sigmoid", loss="mse", lr=0.5, seed=0)
        fns[f"xor/{mode}"] = _stepper(xor, X, Y, mode == "kernels")
        for name, make in (
            ("sgd-momentum", lambda: nn.optimizers.SGD(0.01, momentum=0.9)),
            ("adam", lambda: nn.optimizers.Adam()),
        ):
            big = nn.Sequential.from_sizes(
                [784, 256, 128, 10], "relu", "softmax", loss="categorical_cross_entropy",
                optimizer=make(), seed=0,
            )  # fmt: skip
            fns[f"{name}/{mode}"] = _stepper(big, Xb, Yb, mode == "kernels")
            fns[f"{name} update/{mode}"] = _updater(big, mode == "kernels")
    fns["gemm"] = gemm_epochs(Xb, batch)  # one batch: one step's eight products
    return fns


def parts(
    batch: int = 128, optimizer: str = "sgd", rounds: int = 7, steps: int = 200
) -> dict[str, float]:
    """Median µs per step of each part of one ``train_step`` (kernels on, ``perf_counter``
    around each part, summed over ``steps`` steps a round), and of the eight products alone."""
    import time

    from nablanet.metrics import batch_metric

    Xb = np.random.default_rng(0).normal(size=(batch, 784)).astype(np.float32)
    Yb = np.eye(10, dtype=np.float32)[np.arange(batch) % 10]
    opt = nn.optimizers.SGD(0.01, momentum=0.9) if optimizer == "sgd" else nn.optimizers.Adam()
    model = nn.Sequential.from_sizes(
        [784, 256, 128, 10], "relu", "softmax", loss="categorical_cross_entropy",
        optimizer=opt, seed=0,
    )  # fmt: skip
    model.fit(Xb, Yb, epochs=1, verbose=False)  # builds, compiles, warms up
    loss, link = model._train_loss, model.training_loss.link
    correct = batch_metric("accuracy", "multiclass")
    gemm = gemm_epochs(Xb, batch)
    clock = time.perf_counter_ns
    names = ("forward", "loss", "backward", "penalty", "update", "metric", "eight products")
    rows: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        total = dict.fromkeys(names, 0)
        for _ in range(steps):
            t0 = clock()
            out = model.forward(Xb, True, loss_input=True)
            t1 = clock()
            loss.forward(out, Yb, None)
            grad = loss.backward()
            t2 = clock()
            model.backward(grad, loss_input=True)
            t3 = clock()
            model.penalty_gradients(0.0)
            model.penalty(0.0)
            t4 = clock()
            model.apply_gradients()
            t5 = clock()
            correct(out, Yb, link)
            t6 = clock()
            gemm()
            t7 = clock()
            marks = (t0, t1, t2, t3, t4, t5, t6, t7)
            for name, (a, b) in zip(names, itertools.pairwise(marks), strict=True):
                total[name] += b - a
        for name in names:
            rows[name].append(total[name] / steps / 1e3)
    out = {name: statistics.median(v) for name, v in rows.items()}
    step = sum(v for k, v in out.items() if k != "eight products")
    print(f"# one {optimizer} step at batch {batch}, {rounds} rounds of {steps} steps, "
          f"wall time, load {protocol.loadavg()}")  # fmt: skip
    for name, us in out.items():
        print(f"{name:<16} {us:8.1f} us")
    print(f"{'step (sum)':<16} {step:8.1f} us   GEMM share {out['eight products'] / step:.2f}")
    return out


def main(
    label: str = "", rounds: int = 7, threads: int = 1, batch: int = 128, min_time: float = 0.1
) -> dict[str, dict[str, float]]:
    """Time :func:`contenders`; print and return ``{name: {"median", "min", "max"}}`` in us."""
    if threads > 1:
        protocol.limit_threads(threads)
    timing = protocol.interleave(contenders(batch), rounds, threads, warmup=0, min_time=min_time)
    out = {
        name: {k: v * 1e6 for k, v in protocol.summary(times).items()}
        for name, times in timing["times"].items()
    }
    gemm = statistics.median(timing["times"]["gemm"])
    print(f"# {label} {timing['clock']} time, {rounds} rounds, batch {batch}, {threads} thread(s),"
          f" load {timing['loadavg_before']:.1f}")  # fmt: skip
    for name, s in out.items():
        whole_step = "xor" not in name and "update" not in name
        share = gemm / statistics.median(timing["times"][name]) if whole_step else None
        extra = f"   GEMM share {share:.2f}" if share is not None else ""
        print(f"{name:<22} {s['median']:9.1f} us  ({s['min']:.1f}-{s['max']:.1f}){extra}")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("label", nargs="?", default="")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--parts", choices=("sgd", "adam"), default=None,
                        help="time the parts of one step with this optimizer instead")  # fmt: skip
    args = parser.parse_args()
    if args.parts:
        parts(args.batch, args.parts, args.rounds)
    else:
        main(args.label, args.rounds, args.threads, args.batch)
