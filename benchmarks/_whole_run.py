"""Whole training runs on Fashion-MNIST (``speed.py --whole-run``, issue 20): one child process
per (library, optimizer, batch), one round, every epoch timed in CPU time (1 thread).

The quick benchmark times a few epochs over 2,048 samples; a real run lasts 10-30 epochs over
60,000, long enough for slow-downs that only come with training (subnormal optimizer state from
dead ReLU units, ``nablanet.optimizers``) to show. Each child trains the 784-256-128-10 ReLU
network (softmax cross-entropy, float32) for ``epochs`` epochs, records the CPU time of each
epoch and the final accuracy on the 10,000 test images. The GEMM-only ceiling's child times a
few epochs of the step's eight matrix products per batch size.

The child-side code is here; ``speed.py`` plans the children and ``format_whole_run`` prints
the table.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

import numpy as np

#: (batch, epochs) of the headline runs, in the order they run (the headline first: on a busy
#: machine a run that is stopped early has the rows that matter most), and the contenders of each
PLAN = ((128, 30), (512, 10), (32, 10))
LIBS = ("fit", "partial_fit", "torch", "sklearn")
EXTRA_AT_128 = ("fit-numpy",)  # NABLANET_FAST=0: the NumPy-only path, at batch 128 only
NAMES = {"fit": "nablanet Sequential.fit", "fit-numpy": "nablanet fit, NumPy only",
         "partial_fit": "nablanet MLPClassifier.partial_fit", "torch": "PyTorch eager",
         "sklearn": "scikit-learn MLPClassifier"}  # fmt: skip


def load(n_train: int | None, n_test: int | None, synthetic: bool) -> tuple[Any, ...]:
    """``(X, y, X_test, y_test, source)``: Fashion-MNIST, or synthetic data of its shape."""
    if not synthetic:
        from nablanet.datasets import load_fashion_mnist

        X, y, X_test, y_test = load_fashion_mnist()
        source = "fashion-mnist"
    else:
        rng = np.random.default_rng(0)
        X = rng.random((n_train or 256, 784), dtype=np.float32)
        X_test = rng.random((n_test or 64, 784), dtype=np.float32)
        y, y_test = rng.integers(0, 10, len(X)), rng.integers(0, 10, len(X_test))
        source = "synthetic"
    X, y = X[:n_train], y[:n_train]
    X_test, y_test = X_test[:n_test], y_test[:n_test]
    return (np.ascontiguousarray(X), y.astype(np.int64), np.ascontiguousarray(X_test),
            y_test.astype(np.int64), source)  # fmt: skip


def contender(lib: str, X, y, batch: int, optimizer: str) -> tuple[Any, Any]:
    """``(epoch, predict)``: one epoch of training per call, and class predictions."""
    import _common

    if lib in ("fit", "fit-numpy"):
        from nablanet import _fast

        fast = lib == "fit"
        model = _common.make_nablanet(optimizer)

        def epoch() -> None:
            with _fast.use_fast(fast):
                model.fit(X, y, epochs=1, batch_size=batch, verbose=False)

        return epoch, lambda Z: model.predict(Z)
    keep: dict[str, Any] = {}
    if lib == "partial_fit":
        return _common.nablanet_partial_fit(X, y, batch, optimizer, keep), keep["model"].predict
    if lib == "sklearn":
        return _common.sklearn_epochs(X, y, batch, optimizer, keep), keep["model"].predict
    if lib == "torch":
        import torch

        epoch = _common.torch_epochs(X, y, batch, optimizer, keep)

        def predict(Z: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return keep["model"](torch.from_numpy(Z)).argmax(1).numpy()

        return epoch, predict
    raise ValueError(f"unknown whole-run library {lib!r}")


def _warm_up(lib: str, optimizer: str, batch: int) -> None:
    """Load the compiled kernels (numba's disk cache) on a throwaway model, so that epoch 1
    times training, not loading."""
    if lib not in ("fit", "partial_fit"):
        return
    rng = np.random.default_rng(1)
    Xw = rng.random((2 * batch, 784), dtype=np.float32)
    yw = np.arange(2 * batch) % 10
    epoch, _ = contender(lib, Xw, yw, batch, optimizer)
    epoch()


def run(config: dict[str, Any]) -> dict[str, Any]:
    """One child: train ``config["lib"]`` for ``config["epochs"]`` epochs, or time the GEMM
    ceiling (``lib == "gemm"``) for ``config["epochs"]`` epochs per batch in ``config["batches"]``.
    """
    X, y, X_test, y_test, source = load(
        config.get("n_train"), config.get("n_test"), bool(config.get("synthetic"))
    )
    out: dict[str, Any] = {"source": source, "n_train": len(X), "n_test": len(X_test)}
    if config["lib"] == "gemm":
        import _common

        out["gemm"] = {}
        for batch in config["batches"]:
            epoch = _common.gemm_epochs(X, batch)
            epoch()  # warm-up
            times = []
            for _ in range(config["epochs"]):
                start = time.process_time()
                epoch()
                times.append(time.process_time() - start)
            out["gemm"][str(batch)] = {"epoch_cpu": times, "samples": (len(X) // batch) * batch}
        return out
    lib, optimizer, batch = config["lib"], config["optimizer"], config["batch"]
    _warm_up(lib, optimizer, batch)
    epoch, predict = contender(lib, X, y, batch, optimizer)
    gc.collect()
    cpu, wall, loads = [], [], []
    for _ in range(config["epochs"]):
        loads.append(_loadavg())
        start, start_wall = time.process_time(), time.perf_counter()
        epoch()
        cpu.append(time.process_time() - start)
        wall.append(time.perf_counter() - start_wall)
    accuracy = float(np.mean(predict(X_test) == y_test))
    out.update({"epoch_cpu": cpu, "epoch_wall": wall, "loadavg": loads, "accuracy": accuracy})
    return out


def _loadavg() -> float | None:
    import os

    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


# -- parent side: the plan and the table ------------------------------------------------------
def plan(
    optimizers: tuple[str, ...] = ("adam", "sgd"),
    runs: tuple[tuple[int, int], ...] = PLAN,
    extra: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every child, in order: the GEMM ceiling (short); then per (batch, optimizer), the
    libraries in an order that rotates from one group to the next (so that no library always
    runs first or last)."""
    configs: list[dict[str, Any]] = [
        {"kind": "whole", "threads": 1, "lib": "gemm", "epochs": 3,
         "batches": [b for b, _ in runs], **(extra or {})}
    ]  # fmt: skip
    group = 0
    for batch, epochs in runs:
        for optimizer in optimizers:
            libs = list(LIBS) + (list(EXTRA_AT_128) if batch == 128 else [])
            k = group % len(libs)
            for lib in libs[k:] + libs[:k]:
                configs.append({"kind": "whole", "threads": 1, "lib": lib, "batch": batch,
                                "optimizer": optimizer, "epochs": epochs, **(extra or {})})  # fmt: skip
            group += 1
    return configs


def _ends_ratio(times: list[float]) -> float:
    """Median of the last 3 epochs over the median of the first 3 (single epochs are noisy)."""
    k = min(3, len(times))
    return statistics.median(times[-k:]) / statistics.median(times[:k])


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per (batch, optimizer): each library's total CPU time, epochs, accuracy, end/start
    ratio; and the GEMM ceiling per batch (seconds per sample)."""
    groups: dict[tuple[int, str], dict[str, Any]] = {}
    gemm: dict[int, float] = {}
    for r in results:
        config = r.get("config", {})
        if "error" in r or config.get("kind") != "whole":
            continue
        whole = r["whole"]
        if config["lib"] == "gemm":
            for batch, g in whole["gemm"].items():
                gemm[int(batch)] = statistics.median(g["epoch_cpu"]) / g["samples"]
            continue
        times = whole["epoch_cpu"]
        groups.setdefault((config["batch"], config["optimizer"]), {})[config["lib"]] = {
            "total": sum(times), "epochs": len(times), "first": times[0], "last": times[-1],
            "ends": _ends_ratio(times), "accuracy": whole["accuracy"], "n_train": whole["n_train"],
            "load": [x for x in whole["loadavg"] if x is not None],
        }  # fmt: skip
    return {"groups": groups, "gemm": gemm}


def format_whole_run(payload: dict[str, Any]) -> str:
    """The Markdown table of a whole run: per (batch, optimizer), every library's CPU seconds
    per epoch (first, last, whole-run mean), last/first, accuracy, and nablanet fit's ratios."""
    s = summarize(payload["results"])
    m = payload["machine"]
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['usable_cpus']} CPUs), commit {m['git']}; "
        f"`{payload['command']}`. Fashion-MNIST 784-256-128-10 ReLU, float32, 1 thread, CPU "
        "time, one round, each run in its own process; ratios > 1: nablanet `fit` is faster.",
        "",
        "| batch | optimizer | library | epochs | CPU s/epoch: first | last | mean "
        "| last 3 / first 3 epochs | test accuracy | whole run vs nablanet fit |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    loads: list[float] = []
    for (batch, optimizer), libs in sorted(
        s["groups"].items(), key=lambda kv: (kv[0][0] != 128, kv[0])
    ):
        ours = libs.get("fit")
        for lib in ("fit", "fit-numpy", "partial_fit", "torch", "sklearn"):
            r = libs.get(lib)
            if r is None:
                continue
            loads += r["load"]
            per = r["total"] / r["epochs"]
            if lib == "fit":
                ratio = "-"
                gem = s["gemm"].get(batch)
                if gem is not None:
                    ratio = f"GEMM share {gem * r['n_train'] / per:.2f}"
            elif ours is not None:
                ratio = f"{r['total'] / ours['total']:.2f}x"
            else:
                ratio = "n/a"
            lines.append(
                f"| {batch} | {'SGD-momentum' if optimizer == 'sgd' else 'Adam'} | {NAMES[lib]} "
                f"| {r['epochs']} | {r['first']:.2f} | {r['last']:.2f} | {per:.2f} "
                f"| {r['ends']:.2f} | {r['accuracy']:.4f} | {ratio} |"
            )
    if loads:
        lines += ["", f"Load average during the epochs: {min(loads):.1f}-{max(loads):.1f}."]
    return "\n".join(lines)
