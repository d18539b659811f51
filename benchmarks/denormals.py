"""Subnormal optimizer state (issue 20): what it costs, and the two ways out, measured.

    python benchmarks/denormals.py            # the step times, float32 and float64
    python benchmarks/denormals.py --threads  # which threads see flush-to-zero set by one thread

**Step times.** One Adam (or SGD-momentum) step over the 784-256-128-10 network's 235,146
packed parameters, whose state is seeded as a long Fashion-MNIST run leaves it: 13 dead units
of the first hidden layer (13 x 784 weights, one column each in the (in, out) layout, spread
over the whole buffer) have gradient 0 and first moment ``4 * 2**-149`` (float32; ``2**-1074``
scaled alike in float64), the fixed point of ``m <- 0.9 m``. Contenders, timed in CPU time in
interleaved rounds (``_protocol.interleave``), 1 thread:

- ``kernel`` / ``numpy``: the update as it was before the fix (no flush), state clean (the
  epoch-1 speed) and state subnormal (the collapse);
- ``... now``: nablanet's update now (a per-element select to 0 below ``tiny``: every step in
  the kernel, every ``FLUSH_EVERY`` steps in NumPy; and NumPy's select at every step);
- ``... + FTZ/DAZ``: the old update with the processor's flush-to-zero and denormals-are-zero
  bits set for the calling thread (``torch.set_flush_denormal``; skipped without torch).

**Threads.** MXCSR (where FTZ/DAZ live) is per thread. ``--threads`` sets FTZ/DAZ in the main
thread and multiplies a subnormal by 1 in: the main thread, a Python thread started before and
one started after, numba's worker threads (a ``prange`` loop) and OpenBLAS's worker threads (a
matrix product), printing for each whether the subnormal was flushed.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import threading
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SIZES = (784, 256, 128, 10)
DEAD = 13  # dead units of the first hidden layer: 13 x 784 = 10,192 stuck moments


def _seeded_state(dtype: Any) -> tuple[Any, ...]:
    """``(p, g, m, v, stuck)``: packed buffers with the dead units' entries stuck subnormal."""
    import numpy as np

    rng = np.random.default_rng(0)
    n = sum(a * b + b for a, b in itertools.pairwise(SIZES))
    p = (rng.standard_normal(n) * 0.05).astype(dtype)
    g = (rng.standard_normal(n) * 1e-3).astype(dtype)
    m = (rng.standard_normal(n) * 1e-4).astype(dtype)
    v = (rng.random(n) * 1e-6).astype(dtype)
    stuck = np.zeros(n, dtype=bool)
    W1 = stuck[: SIZES[0] * SIZES[1]].reshape(SIZES[0], SIZES[1])
    W1[:, rng.choice(SIZES[1], DEAD, replace=False)] = True  # columns: (in, out) layout
    g[stuck] = 0
    # float32: 4 * 2**-149 (0.9 * 4 rounds back to 4); float64 likewise at its own scale
    m[stuck] = np.finfo(dtype).smallest_subnormal * 4
    return p, g, m, v, stuck


def _old_kernels() -> dict[str, Any]:
    """The compiled updates as they were before the flush (``_fast/update.py`` at 378beab)."""
    import numba
    import numpy as np

    @numba.njit(nogil=True, error_model="numpy")
    def adam(p, g, m, v, b1, c1, b2, c2, lr_t, eps_t):  # pragma: no cover - compiled
        for i in range(p.size):
            gi = g[i]
            mi = m[i] * b1 + gi * c1
            vi = v[i] * b2 + gi * gi * c2
            m[i] = mi
            v[i] = vi
            p[i] -= mi / (np.sqrt(vi) + eps_t) * lr_t

    return {"adam": adam}


def _numpy_adam_old(p, g, m, v, tmp, f) -> None:
    """nablanet's NumPy Adam before the flush (the same passes, scalars of PyTorch's defaults)."""
    import numpy as np

    np.multiply(g, f(0.1), out=tmp)
    m *= f(0.9)
    m += tmp
    np.multiply(g, g, out=tmp)
    tmp *= f(0.001)
    v *= f(0.999)
    v += tmp
    np.sqrt(v, out=tmp)
    tmp += f(1e-8)
    np.divide(m, tmp, out=tmp)
    tmp *= f(1e-3)
    p -= tmp


def _contender(kind: str, dtype: Any, subnormal: bool, set_ftz: Any = None) -> Any:
    """One Adam step per call on a freshly seeded state (see the module docstring).

    ``kind``: "kernel-old" / "numpy-old" (the update before the fix), "kernel-now" (the
    compiled update now: ``_fast.update.run``), "numpy-now" (the NumPy update now, flushing
    every ``FLUSH_EVERY`` steps) or "numpy-every-step" (the same, flushing at every step). ``set_ftz``: a function setting FTZ/DAZ on/off around the step.
    """
    import numpy as np

    from nablanet import _fast
    from nablanet.optimizers import Adam

    p, g, m, v, stuck = _seeded_state(dtype)
    if not subnormal:
        m[stuck] = 0
    tmp = np.empty_like(p)
    f = dtype
    scalars = (f(0.9), f(0.1), f(0.999), f(0.001), f(1e-3), f(1e-8))
    if kind == "kernel-old":
        adam = _old_kernels()["adam"]

        def step() -> None:
            adam(p, g, m, v, *scalars)
    elif kind == "kernel-now":

        def step() -> None:
            _fast.update.run("adam", p, g, (m, v), *scalars)
    elif kind == "numpy-old":

        def step() -> None:
            _numpy_adam_old(p, g, m, v, tmp, f)
    else:  # "numpy-now" / "numpy-every-step": the optimizer's own NumPy update
        from nablanet.optimizers import FLUSH_EVERY

        # every step a flushing step: the select's full cost, as if FLUSH_EVERY were 1
        advance = FLUSH_EVERY if kind == "numpy-every-step" else 1
        opt = Adam(lr=1e-3)
        opt.build([("w", p, g)])
        np.copyto(opt.state["w"]["m"], m)
        np.copyto(opt.state["w"]["v"], v)
        state = opt.state["w"]

        def step() -> None:
            opt.iterations += advance
            with _fast.use_fast(False):
                opt._update(p, g, state, tmp)

    if set_ftz is None:
        return step

    def with_ftz() -> None:
        set_ftz(True)
        try:
            step()
        finally:
            set_ftz(False)

    return with_ftz


def step_times(rounds: int, min_time: float) -> list[dict[str, Any]]:
    """Median CPU time of one Adam step per contender, float32 and float64."""
    import _protocol as protocol
    import numpy as np

    try:
        import torch

        set_ftz = torch.set_flush_denormal
    except ImportError:
        set_ftz = None
    rows = []
    for dtype in (np.float32, np.float64):
        contenders = {
            "kernel before the fix, clean state": _contender("kernel-old", dtype, False),
            "kernel before the fix, subnormal state": _contender("kernel-old", dtype, True),
            "kernel now (select every step)": _contender("kernel-now", dtype, True),
            "NumPy before the fix, clean state": _contender("numpy-old", dtype, False),
            "NumPy before the fix, subnormal state": _contender("numpy-old", dtype, True),
            "NumPy now (select every 16 steps)": _contender("numpy-now", dtype, True),
            "NumPy, select every step": _contender("numpy-every-step", dtype, True),
        }
        if set_ftz is not None:
            contenders["kernel before the fix + FTZ/DAZ"] = _contender(
                "kernel-old", dtype, True, set_ftz
            )
            contenders["NumPy before the fix + FTZ/DAZ"] = _contender(
                "numpy-old", dtype, True, set_ftz
            )
        timing = protocol.interleave(contenders, rounds, 1, warmup=2, min_time=min_time)
        for name, times in timing["times"].items():
            rows.append({"dtype": np.dtype(dtype).name, "contender": name,
                         "us": protocol.summary([t * 1e6 for t in times])})  # fmt: skip
    return rows


def thread_check() -> dict[str, Any]:
    """Set FTZ/DAZ in the main thread; report which threads flush a subnormal operand."""
    import numba
    import numpy as np
    import torch  # the one portable way to set MXCSR from Python here

    sub = np.float32(np.finfo(np.float32).smallest_subnormal * 8)
    flushed = lambda x: bool(x == 0)  # noqa: E731
    result: dict[str, Any] = {}
    before: dict[str, bool] = {}
    go = threading.Event()

    def early() -> None:
        go.wait()
        before["value"] = flushed(np.multiply(sub, np.float32(1)))

    t_early = threading.Thread(target=early)
    t_early.start()

    @numba.njit(parallel=True)
    def times_one(x, one, out, tid):  # pragma: no cover - compiled
        for i in numba.prange(x.size):
            out[i] = x[i] * one
            tid[i] = numba.get_thread_id()

    x = np.full(1 << 16, sub, dtype=np.float32)
    out, tid = np.empty_like(x), np.empty(x.size, dtype=np.int64)
    one = np.float32(1)
    times_one(x, one, out, tid)  # numba's workers start here, before FTZ is set
    result["control: numba prange flushed before FTZ"] = bool(np.any(out == 0))
    A = np.full((512, 512), sub, dtype=np.float32)
    C = A @ np.eye(512, dtype=np.float32)  # OpenBLAS's workers are up
    result["control: OpenBLAS flushed before FTZ"] = bool(np.any(C == 0))

    torch.set_flush_denormal(True)
    try:
        result["main thread"] = flushed(np.multiply(sub, np.float32(1)))
        go.set()
        t_early.join()
        result["Python thread started before"] = before["value"]
        late: dict[str, bool] = {}
        t_late = threading.Thread(target=lambda: late.update(v=flushed(sub * np.float32(1))))
        t_late.start()
        t_late.join()
        result["Python thread started after"] = late["v"]
        times_one(x, one, out, tid)
        result["numba prange, by thread id"] = {
            int(t): bool(np.all(out[tid == t] == 0)) for t in np.unique(tid)
        }
        C = A @ np.eye(512, dtype=np.float32)
        rows_flushed = np.all(C == 0, axis=1)
        result["OpenBLAS product: share of output rows flushed"] = float(rows_flushed.mean())
    finally:
        torch.set_flush_denormal(False)
    result["main thread after restore"] = flushed(np.multiply(sub, np.float32(1)))
    times_one(x, one, out, tid)
    result["numba prange after restore, by thread id"] = {
        int(t): bool(np.all(out[tid == t] == 0)) for t in np.unique(tid)
    }
    C = A @ np.eye(512, dtype=np.float32)
    result["OpenBLAS after restore: share of rows flushed"] = float(np.all(C == 0, axis=1).mean())
    result["threads"] = {"numba": numba.get_num_threads(), "layer": numba.threading_layer(),
                         "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")}  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", action="store_true", help="the per-thread FTZ/DAZ check")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    if args.threads:
        for key, value in thread_check().items():
            print(f"{key}: {value}")
        return 0
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    rows = step_times(args.rounds, min_time=0.05)
    print("| dtype | one Adam step over 235,146 parameters | CPU us (median, range) |")
    print("|---|---|---:|")
    for row in rows:
        us = row["us"]
        print(f"| {row['dtype']} | {row['contender']} | {us['median']:,.0f} "
              f"({us['min']:,.0f}-{us['max']:,.0f}) |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
