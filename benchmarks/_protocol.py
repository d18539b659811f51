"""The one timing protocol behind every figure the benchmarks publish.

``speed.py``, ``steps.py`` and ``ablation.py`` all time their contenders with :func:`interleave`:

- **Clock.** A 1-thread run is timed in CPU time of this process (``time.process_time``): what
  the work costs, whatever other processes on a shared machine do meanwhile. With more threads
  CPU time would add the threads' work up, so those runs are timed in wall time
  (``time.perf_counter``), and the load of the machine says how far to trust them.
- **Interleaved rounds.** Each round runs every contender once, one after the other (the order
  rotates from round to round), so a slow spell of the machine hits all of them alike.
- **Median and spread.** A time is the median over ``rounds`` (>= 5 for a published figure); a
  ratio is the median of the per-round ratios (both contenders timed in the same round), with
  the lowest and highest per-round ratio as its spread.
- **Load.** ``os.getloadavg()`` before and after, and the CPUs other processes kept busy
  meanwhile (from ``/proc/stat``), are recorded with every result.

Every thread pool is capped by :func:`limit_threads`: the BLAS/OpenMP variables must be set in
the environment before NumPy loads (``speed.py`` does it for its children), then threadpoolctl,
``torch.set_num_threads`` and ``numba.set_num_threads`` cap them again after import.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
_LIMITERS: list[Any] = []  # keeps threadpoolctl's limits in force for the process's lifetime


def set_thread_env(n: int, env: dict[str, str] | None = None) -> dict[str, str]:
    """Set every thread-count variable to ``n`` in ``env`` (default: ``os.environ``)."""
    target = os.environ if env is None else env
    for var in THREAD_VARS:
        target[var] = str(n)
    return dict(target)


def limit_threads(n: int, libraries: tuple[str, ...] = ()) -> dict[str, Any]:
    """Import ``libraries`` ("torch", "sklearn"), then cap every thread pool at ``n``.

    Returns what was found: the environment variables, every BLAS/OpenMP pool, torch's and
    numba's thread counts and the CPUs this process may use.
    """
    if "sklearn" in libraries:
        import sklearn.neural_network  # noqa: F401  (loads SciPy's BLAS before the limit)
    torch_threads = numba_threads = None
    if "torch" in libraries:
        import torch

        torch.set_num_threads(n)
        torch_threads = torch.get_num_threads()
    try:
        import numba

        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
        numba_threads = numba.get_num_threads()
    except ImportError:
        pass
    from threadpoolctl import threadpool_info, threadpool_limits

    _LIMITERS.append(threadpool_limits(limits=n))
    pools = [
        {k: pool.get(k) for k in ("internal_api", "version", "num_threads")}
        for pool in threadpool_info()
    ]
    return {
        "threads": n,
        "usable_cpus": usable_cpus(),
        "env": {k: os.environ.get(k) for k in THREAD_VARS},
        "threadpools": pools,
        "torch_threads": torch_threads,
        "numba_threads": numba_threads,
    }


def usable_cpus() -> int | None:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def loadavg() -> float | None:
    """The machine's 1-minute load average (None where the OS has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy (or stolen by the hypervisor) since boot."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def clock(threads: int) -> tuple[str, Callable[[], float]]:
    """``("cpu", time.process_time)`` for 1 thread, ``("wall", time.perf_counter)`` otherwise."""
    return ("cpu", time.process_time) if threads == 1 else ("wall", time.perf_counter)


def calibrate(fn: Callable[[], Any], min_time: float) -> int:
    """How many calls of ``fn`` (a power of 2) last at least ``min_time`` seconds of wall time."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - start >= min_time or number >= 1 << 20:
            return number
        number *= 2


def interleave(
    contenders: dict[str, Callable[[], Any]],
    rounds: int,
    threads: int = 1,
    *,
    warmup: int = 1,
    min_time: float = 0.0,
) -> dict[str, Any]:
    """Time every contender in ``rounds`` interleaved rounds; seconds per call, per round.

    Each contender is called ``warmup`` times first. With ``min_time`` > 0 a contender is
    called ``number`` times per round (:func:`calibrate`) and its time divided by ``number``.

    Returns ``{"clock", "rounds", "number", "times": {name: [seconds per call, per round]},
    "wall": {...}, "loadavg_before", "loadavg_after", "others_cpus"}``.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    kind, now = clock(threads)
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    numbers = {
        name: calibrate(fn, min_time) if min_time > 0 else 1 for name, fn in contenders.items()
    }
    names = list(contenders)
    times: dict[str, list[float]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    load0, busy0, own0, wall0 = loadavg(), busy_cpu_seconds(), time.process_time(), time.time()
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # rotate the order
            fn, number = contenders[name], numbers[name]
            start, start_wall = now(), time.perf_counter()
            for _ in range(number):
                fn()
            times[name].append((now() - start) / number)
            wall[name].append((time.perf_counter() - start_wall) / number)
    busy1, own1, wall1 = busy_cpu_seconds(), time.process_time(), time.time()
    others = None
    if busy0 is not None and busy1 is not None and wall1 > wall0:
        others = max(0.0, (busy1 - busy0) - (own1 - own0)) / (wall1 - wall0)
    return {
        "clock": kind,
        "rounds": rounds,
        "number": numbers,
        "times": times,
        "wall": wall,
        "loadavg_before": load0,
        "loadavg_after": loadavg(),
        "others_cpus": others,
    }


def summary(values: list[float]) -> dict[str, float]:
    """Median, lowest and highest of ``values``."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def ratio(numerator: list[float], denominator: list[float]) -> dict[str, float] | None:
    """Median (and range) of the per-round ratios ``numerator[r] / denominator[r]``.

    With times, ``ratio(other, ours)`` > 1 means ours is faster.
    """
    pairs = [a / b for a, b in zip(numerator, denominator, strict=False) if b > 0]
    return summary(pairs) if pairs else None
