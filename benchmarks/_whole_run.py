"""Whole training runs on Fashion-MNIST (``speed.py --whole-run``, issue 20): one child process
per (library, optimizer, batch) and round, every epoch timed in CPU time (1 thread), and a
machine-speed probe between epochs.

The quick benchmark times a few epochs over 2,048 samples; a real run lasts 10-30 epochs over
60,000, long enough for slow-downs that only come with training (subnormal optimizer state from
dead ReLU units, ``nablanet.optimizers``) to show. Each child trains the 784-256-128-10 ReLU
network (softmax cross-entropy, float32) for ``epochs`` epochs, records the CPU time of each
epoch and the final accuracy on the 10,000 test images.

**The probe.** A 2-vCPU virtual machine speeds up and slows down by 10-30% over minutes, for
every process alike, so one child's epochs and two children's totals differ by that much even
when the work is the same. Before the first epoch and after every epoch, each child (whatever
its library) therefore also times a fixed piece of work: the step's eight float32 matrix
products (``_common.gemm_epochs``) over the first :data:`PROBE_SAMPLES` rows at the run's
batch size (4,096 of 60,000 samples: about 6% of a ``fit`` epoch's time at batch 128). An epoch's time divided by the probe's time around it (the
mean of the probe just before and just after it) is its cost in machine-independent units:
the "normalised" figures of :func:`summarize`.

The child-side code is here; ``speed.py`` plans the children and :func:`format_whole_run`
prints the table.
"""

from __future__ import annotations

import gc
import itertools
import statistics
import time
from typing import Any

import _protocol as protocol
import numpy as np

#: (batch, epochs) of the headline runs, in the order they run (the headline first: on a busy
#: machine a run that is stopped early has the rows that matter most), and the contenders of each
PLAN = ((128, 30), (512, 10), (32, 10))
LIBS = ("fit", "partial_fit", "torch", "sklearn")
EXTRA_AT_128 = ("fit-numpy",)  # NABLANET_FAST=0: the NumPy-only path, at batch 128 only
NAMES = {"fit": "nablanet Sequential.fit", "fit-numpy": "nablanet fit, NumPy only",
         "partial_fit": "nablanet MLPClassifier.partial_fit", "torch": "PyTorch eager",
         "sklearn": "scikit-learn MLPClassifier"}  # fmt: skip
#: Rows the machine-speed probe covers (whole batches, at most the training set): 4,096 rows are
#: 32 steps at batch 128, 7% of a 60,000-sample epoch's samples.
PROBE_SAMPLES = 4096


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


def probe_for(X: np.ndarray, batch: int) -> tuple[Any, int]:
    """``(probe, samples)``: the step's eight matrix products (``_common.gemm_epochs``) over the
    first ``samples`` rows of ``X``, :data:`PROBE_SAMPLES` rounded down to whole batches (at
    least one batch, at most all whole batches of ``X``; ``gemm_epochs`` raises ValueError
    when ``X`` is shorter than one batch)."""
    import _common

    steps = max(1, min(PROBE_SAMPLES // batch, len(X) // batch))
    return _common.gemm_epochs(X[: steps * batch], batch), steps * batch


def run(config: dict[str, Any]) -> dict[str, Any]:
    """One child: train ``config["lib"]`` for ``config["epochs"]`` epochs, timing the probe
    (:func:`probe_for`) before the first epoch and after each one.

    Returns the data's ``source``, ``n_train``, ``n_test``; per epoch ``epoch_cpu``,
    ``epoch_wall`` and ``loadavg`` (before it); ``probe_cpu`` (``epochs + 1`` CPU times: before
    epoch 1, then after each epoch) with ``probe_samples``; and the final test ``accuracy``.
    """
    X, y, X_test, y_test, source = load(
        config.get("n_train"), config.get("n_test"), bool(config.get("synthetic"))
    )
    out: dict[str, Any] = {"source": source, "n_train": len(X), "n_test": len(X_test)}
    lib, optimizer, batch = config["lib"], config["optimizer"], config["batch"]
    _warm_up(lib, optimizer, batch)
    epoch, predict = contender(lib, X, y, batch, optimizer)
    probe, probe_samples = probe_for(X, batch)
    probe()  # untimed: the first touch of its arrays

    def timed_probe() -> float:
        start = time.process_time()
        probe()
        return time.process_time() - start

    gc.collect()
    cpu, wall, loads, probes = [], [], [], [timed_probe()]
    for _ in range(config["epochs"]):
        loads.append(protocol.loadavg())
        start, start_wall = time.process_time(), time.perf_counter()
        epoch()
        cpu.append(time.process_time() - start)
        wall.append(time.perf_counter() - start_wall)
        probes.append(timed_probe())
    accuracy = float(np.mean(predict(X_test) == y_test))
    out.update({"epoch_cpu": cpu, "epoch_wall": wall, "loadavg": loads, "accuracy": accuracy,
                "probe_cpu": probes, "probe_samples": probe_samples})  # fmt: skip
    return out


# -- parent side: the plan and the table ------------------------------------------------------
def plan(
    optimizers: tuple[str, ...] = ("adam", "sgd"),
    runs: tuple[tuple[int, int], ...] = PLAN,
    extra: dict[str, Any] | None = None,
    rounds: int = 1,
) -> list[dict[str, Any]]:
    """Every child, in order: ``rounds`` times the whole plan; in each round, per (batch,
    optimizer), the libraries in an order that rotates from one group to the next and, for the
    same group, from one round to the next (so that no library always runs first or last)."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    configs: list[dict[str, Any]] = []
    for r in range(rounds):
        group = 0
        for batch, epochs in runs:
            for optimizer in optimizers:
                libs = list(LIBS) + (list(EXTRA_AT_128) if batch == 128 else [])
                k = (group + r) % len(libs)
                for lib in libs[k:] + libs[:k]:
                    configs.append({"kind": "whole", "threads": 1, "lib": lib, "batch": batch,
                                    "optimizer": optimizer, "epochs": epochs, "round": r,
                                    **(extra or {})})  # fmt: skip
                group += 1
    return configs


def _ends_ratio(times: list[float]) -> float:
    """Median of the last 3 epochs over the median of the first 3 (single epochs are noisy)."""
    k = min(3, len(times))
    return statistics.median(times[-k:]) / statistics.median(times[:k])


def figures(whole: dict[str, Any]) -> dict[str, Any]:
    """One child's figures: ``total`` CPU seconds, ``epochs``, ``ends`` (last 3 / first 3
    epochs), ``accuracy``, ``load``; and from its probe (None without one):

    - ``gemm[i]``, the matrix products' seconds for epoch ``i``'s ``n_train`` samples at the
      machine's speed around it: ``(probe[i] + probe[i + 1]) / 2 * n_train / probe_samples``,
      the mean of the probes just before and just after the epoch (they bracket it, and two
      short probes are steadier than one);
    - ``norm_total``, the sum over epochs of ``epoch_cpu[i] / gemm[i]`` (an epoch's cost in
      units of its own matrix products), and ``norm_ends``, the same last 3 / first 3 on those;
    - ``gemm_share``, ``sum(gemm) / sum(epoch_cpu)``: the share of the run its matrix products
      alone would take, measured in the same process and minutes.
    """
    times = whole["epoch_cpu"]
    fig: dict[str, Any] = {
        "total": sum(times), "epochs": len(times), "ends": _ends_ratio(times),
        "accuracy": whole["accuracy"], "n_train": whole["n_train"],
        "load": [x for x in whole["loadavg"] if x is not None],
        "probe_per_sample": [], "norm_total": None, "norm_ends": None, "gemm_share": None,
    }  # fmt: skip
    probes = whole.get("probe_cpu")
    if probes:
        per_sample = [p / whole["probe_samples"] for p in probes]
        gemm = [(a + b) / 2 * whole["n_train"] for a, b in itertools.pairwise(per_sample)]
        norm = [t / g for t, g in zip(times, gemm, strict=True)]
        fig.update(probe_per_sample=per_sample, norm_total=sum(norm), norm_ends=_ends_ratio(norm),
                   gemm_share=sum(gemm) / sum(times))  # fmt: skip
    return fig


def _spread(values: list[float | None]) -> dict[str, float] | None:
    """Median, lowest and highest of the values that exist (None when none does)."""
    kept = [v for v in values if v is not None]
    return {**protocol.summary(kept), "n": len(kept)} if kept else None


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per (batch, optimizer) and library, over the rounds: ``mean`` (CPU s/epoch), ``ends``,
    ``norm_ends``, ``gemm_share``, ``accuracy``, and ``vs_fit`` / ``vs_fit_norm`` (the run's
    total, raw or normalised, over nablanet ``fit``'s of the same round), each as the median,
    lowest and highest over the rounds (``n`` of them); plus ``epochs``, ``rounds``, ``load``
    and, per batch size, every probe's CPU seconds per sample (``probe_per_sample``)."""
    runs: dict[tuple[int, str], dict[str, dict[int, dict[str, Any]]]] = {}
    for r in results:
        config = r.get("config", {})
        if "error" in r or config.get("kind") != "whole" or config.get("lib") == "gemm":
            continue  # an older payload's separate GEMM-ceiling child: replaced by the probes
        key = (config["batch"], config["optimizer"])
        runs.setdefault(key, {}).setdefault(config["lib"], {})[config.get("round", 0)] = figures(
            r["whole"]
        )
    groups: dict[tuple[int, str], dict[str, Any]] = {}
    probe_per_sample: dict[int, list[float]] = {}
    for key, libs in runs.items():
        fit = libs.get("fit", {})
        groups[key] = {}
        for lib, by_round in libs.items():
            figs = list(by_round.values())
            paired = [(f, fit[r]) for r, f in by_round.items() if r in fit]
            norm_pairs = [(f, o) for f, o in paired if f["norm_total"] and o["norm_total"]]
            groups[key][lib] = {
                "rounds": len(figs), "epochs": max(f["epochs"] for f in figs),
                "mean": _spread([f["total"] / f["epochs"] for f in figs]),
                "ends": _spread([f["ends"] for f in figs]),
                "norm_ends": _spread([f["norm_ends"] for f in figs]),
                "gemm_share": _spread([f["gemm_share"] for f in figs]),
                "accuracy": _spread([f["accuracy"] for f in figs]),
                "vs_fit": _spread([f["total"] / o["total"] for f, o in paired]),
                "vs_fit_norm": _spread([f["norm_total"] / o["norm_total"] for f, o in norm_pairs]),
                "load": [x for f in figs for x in f["load"]],
            }  # fmt: skip
            probes = probe_per_sample.setdefault(key[0], [])
            probes += [p for f in figs for p in f["probe_per_sample"]]
    return {"groups": groups, "probe_per_sample": probe_per_sample}


def _cell(stat: dict[str, float] | None, suffix: str = "") -> str:
    """``1.23x`` for one round, ``1.23x (1.10-1.30)`` for several, ``n/a`` for none."""
    if stat is None:
        return "n/a"
    text = f"{stat['median']:.2f}{suffix}"
    return text + (f" ({stat['min']:.2f}-{stat['max']:.2f})" if stat["n"] > 1 else "")


def format_whole_run(payload: dict[str, Any]) -> str:
    """The Markdown table of a whole run: per (batch, optimizer), every library's CPU seconds
    per epoch, last 3 / first 3 epochs (raw and normalised by the probe), test accuracy, the
    whole-run ratio to nablanet ``fit`` (raw and normalised) and the GEMM share; with several
    rounds, each figure is the median over the rounds, the lowest-highest in brackets."""
    s = summarize(payload["results"])
    m = payload["machine"]
    rounds = max((r["rounds"] for libs in s["groups"].values() for r in libs.values()), default=1)
    how = "one round" if rounds == 1 else f"median of {rounds} rounds (lowest-highest)"
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['usable_cpus']} CPUs), commit {m['git']}; "
        f"`{payload['command']}`. Fashion-MNIST 784-256-128-10 ReLU, float32, 1 thread, CPU "
        f"time, {how}, each run in its own process; ratios > 1: nablanet `fit` is faster. "
        "Normalised: each epoch's time over the machine-speed probe's around it.",
        "",
        "| batch | optimizer | library | epochs | CPU s/epoch | last 3 / first 3 epochs "
        "| same, normalised | test accuracy | whole run vs nablanet fit | same, normalised "
        "| GEMM share |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    loads: list[float] = []
    for (batch, optimizer), libs in sorted(
        s["groups"].items(), key=lambda kv: (kv[0][0] != 128, kv[0])
    ):
        for lib in ("fit", "fit-numpy", "partial_fit", "torch", "sklearn"):
            r = libs.get(lib)
            if r is None:
                continue
            loads += r["load"]
            ours = lib == "fit"
            vs_fit = "-" if ours else _cell(r["vs_fit"], "x")
            vs_fit_norm = "-" if ours else _cell(r["vs_fit_norm"], "x")
            lines.append(
                f"| {batch} | {'SGD-momentum' if optimizer == 'sgd' else 'Adam'} | {NAMES[lib]} "
                f"| {r['epochs']} | {_cell(r['mean'])} | {_cell(r['ends'])} "
                f"| {_cell(r['norm_ends'])} | {r['accuracy']['median']:.4f} | {vs_fit} "
                f"| {vs_fit_norm} | {_cell(r['gemm_share'])} |"
            )
    if loads:
        lines += ["", f"Load average during the epochs: {min(loads):.1f}-{max(loads):.1f}."]
    probes = [(b, p) for b, p in sorted(s["probe_per_sample"].items()) if p]
    if probes:
        ranges = "; ".join(
            f"batch {b}: {min(p) * 1e6:.2f}-{max(p) * 1e6:.2f} (slowest / fastest "
            f"{max(p) / min(p):.2f})"
            for b, p in probes
        )
        lines += ["", f"Machine-speed probe, µs of CPU per sample over every run: {ranges}."]
    return "\n".join(lines)
