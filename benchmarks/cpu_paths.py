"""How far the tutorial replays' numbers move between CPU paths (issue 17).

Runs seed 000's 150 logged epochs and seed 001's 100-epoch replay (Output.5) in child processes,
one per CPU path (NumPy's SIMD kernels switched off, OpenBLAS's kernel forced, glibc's exp
build switched), and in this process with ``np.exp`` moved one ulp on about 1 input in 20 (what
NumPy's AVX-512 exp does against the AVX2/libm one), then prints, per path, the largest relative
change of seed 000's losses and of seed 001's printed numbers against the default path.

Run:  python benchmarks/cpu_paths.py [--salts N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NO_SIMD = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"
PATHS: dict[str, dict[str, str]] = {
    "default": {},
    "NumPy baseline SIMD + OpenBLAS Nehalem": {
        "NPY_DISABLE_CPU_FEATURES": NO_SIMD,
        "OPENBLAS_CORETYPE": "Nehalem",
    },
    "NumPy baseline SIMD": {"NPY_DISABLE_CPU_FEATURES": NO_SIMD},
    **{f"OpenBLAS {core}": {"OPENBLAS_CORETYPE": core} for core in (
        "Haswell", "Sandybridge", "Nehalem", "Core2", "Prescott")},
    "glibc exp without FMA/AVX2": {"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA"},
}  # fmt: skip


def replay_numbers() -> dict[str, list[float] | str]:
    """Seed 000's 150 losses and accuracies, seed 001's Output.5 text and its numbers."""
    from nablanet.tutorial import seed001
    from nablanet.tutorial.seed000 import seed000_data, seed000_model, train_like_seed000

    X, y = seed000_data()
    log = train_like_seed000(seed000_model(), X, y, epochs=150)
    replay = seed001.replay()
    numbers: list[float] = []
    for values in replay.forward:
        numbers += np.ravel(values).tolist()
    for dense in replay.model.layers[::2]:
        numbers += dense.params["b"].tolist() + dense.params["W"].ravel().tolist()
    return {
        "loss": [e.loss for e in log],
        "accuracy": [e.accuracy for e in log],
        "lines": [str(e) for e in log],
        "output5": replay.info(),
        "seed001": numbers,
    }


def exp_one_ulp_off(salt: int):
    """``np.exp`` moved one ulp up or down on about 1 input in 20, by a hash of its bits."""
    numpy_exp = np.exp

    def exp(x, *args, **kwargs):
        out = np.array(numpy_exp(x, *args, **kwargs), dtype=np.float64)
        bits = (np.asarray(x, dtype=np.float64).view(np.uint64) ^ np.uint64(salt)) * np.uint64(
            0x9E3779B97F4A7C15
        )
        bits ^= bits >> np.uint64(31)
        moved = bits % np.uint64(20) == 0
        up = moved & ((bits >> np.uint64(40)) % np.uint64(2) == 1)
        out[up] = np.nextafter(out[up], np.inf)
        out[moved & ~up] = np.nextafter(out[moved & ~up], -np.inf)
        return out

    return exp


class NumpyWithExp(types.ModuleType):
    """NumPy with another ``exp`` (every other name is NumPy's)."""

    def __init__(self, exp: Callable[..., np.ndarray]) -> None:
        super().__init__("numpy")
        self.exp = exp

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


def child(env: dict[str, str]) -> dict:
    environ = {**os.environ, **env, "PYTHONPATH": str(ROOT / "src")}
    code = f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import cpu_paths, json; "
    code += "print(json.dumps(cpu_paths.replay_numbers()))"
    run = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True
    )
    return json.loads(run.stdout)


def row(name: str, run: dict, ref: dict) -> str:
    loss, ref_loss = np.array(run["loss"]), np.array(ref["loss"])
    moved = np.abs(loss - ref_loss) / ref_loss
    lines = sum(a != b for a, b in zip(run["lines"], ref["lines"], strict=True))
    accuracy = sum(a != b for a, b in zip(run["accuracy"], ref["accuracy"], strict=True))
    s1, ref_s1 = np.array(run["seed001"]), np.array(ref["seed001"])
    moved1 = np.max(np.abs(s1 - ref_s1) / np.abs(ref_s1))
    same = "same" if run["output5"] == ref["output5"] else "differs"
    return f"| {name} | {moved.max():.1e} | {lines} | {accuracy} | {same} | {moved1:.1e} |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--salts", type=int, default=8, help="emulated exp kernels (default 8)")
    args = parser.parse_args(argv)
    runs = {name: child(env) for name, env in PATHS.items()}
    from nablanet.tutorial import conventions

    for salt in range(1, args.salts + 1):  # the tutorial's np.exp only (numba reads NumPy's)
        conventions.np = NumpyWithExp(exp_one_ulp_off(salt))  # type: ignore[assignment]
        try:
            runs[f"np.exp one ulp off, hash {salt}"] = replay_numbers()
        finally:
            conventions.np = np
    ref = runs["default"]
    print(
        "| path | seed 000: max rel. change of the 150 losses | printed lines changed "
        "| accuracies changed | seed 001: Output.5 | max rel. change of its numbers |"
    )
    print("|---|---|---|---|---|---|")
    for name, run in runs.items():
        if name != "default":
            print(row(name, run, ref))


if __name__ == "__main__":
    main()
