"""Multi-threaded training rows: every contender in its own process, rounds still interleaved.

Why: with 2 threads on 2 cores, PyTorch's thread pool (GNU OpenMP) and NumPy's (OpenBLAS) in
one process fight over the cores: their idle threads keep spinning while the other library
works. Measured at batch 512, SGD-momentum (``/tmp``-free repro: time each contender alone, then
all four in one process): the GEMM-only ceiling's epoch took 124-170 ms alone and 1,590 ms
beside PyTorch in the same process, PyTorch's 225-236 ms alone and 2,370 ms beside NumPy, and a
0.5 s pause between contenders did not cure it (330 ms / 760 ms). A user runs one library per
process, so that is what the 2-thread rows time.

The parent starts one worker process per contender (the thread variables are already set in
its environment, so the workers inherit them), sends "run" to one worker at a time, in the
rotating order of :func:`_protocol.interleave`, and times the epoch in the worker with the wall
clock. Idle workers block on their pipe, so only one library computes at any moment; a short
pause before each epoch lets the previous worker's spinning threads go to sleep.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any

import _protocol as protocol

PAUSE = 0.05  # seconds between two contenders' epochs (idle BLAS/OpenMP threads stop spinning)
LIBS = {"torch": ("torch",), "sklearn": ("sklearn",), "partial_fit": ("sklearn",)}


def _worker(conn: Any, name: str, threads: int, n_samples: int, synthetic: bool) -> None:
    """One contender, in its own process: set up on ("setup", batch, optimizer), time on "run"."""
    protocol.set_thread_env(threads)
    protocol.limit_threads(threads, LIBS.get(name, ()))
    import _common

    X, y, _source = _common.load_data(n_samples, synthetic=synthetic)
    epoch = None
    while True:
        message = conn.recv()
        if message[0] == "setup":
            _kind, batch, optimizer = message
            epochs, samples, notes = _common.train_contenders(X, y, batch, optimizer, (name,))
            epoch = epochs.get(name)
            if epoch is None:
                conn.send(("skipped", notes.get(name, "not available")))
                continue
            try:
                loss = epoch()  # the warm-up epoch
            except Exception as exc:  # report the others rather than lose the whole run
                epoch = None
                conn.send(("failed", f"failed: {type(exc).__name__}: {exc}"[:200]))
                continue
            conn.send(("ready", samples[name], loss))
        elif message[0] == "run":
            assert epoch is not None
            start = time.perf_counter()
            loss = epoch()
            conn.send((time.perf_counter() - start, loss))
        else:  # "stop"
            return


class Workers:
    """One process per contender; use as a context manager so they are always stopped."""

    def __init__(self, names: tuple[str, ...], threads: int, n_samples: int, synthetic: bool):
        ctx = mp.get_context("spawn")  # fresh interpreters: thread variables before NumPy loads
        self.threads = threads
        self.conns: dict[str, Any] = {}
        self.procs: list[Any] = []
        for name in names:
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=_worker, args=(child, name, threads, n_samples, synthetic), daemon=True
            )
            proc.start()
            self.conns[name], self.procs = parent, [*self.procs, proc]

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        for conn in self.conns.values():
            try:
                conn.send(("stop",))
            except OSError:
                pass
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()

    def time_rounds(self, batch: int, optimizer: str, rounds: int) -> dict[str, Any]:
        """Set every worker up for (batch, optimizer), then time ``rounds`` interleaved rounds.

        Returns what :func:`_protocol.interleave` returns (wall clock), plus ``samples``,
        ``notes`` and ``final_loss``.
        """
        samples, notes, losses, ready = {}, {}, {}, []
        for name, conn in self.conns.items():  # one at a time: warm-ups do not overlap
            conn.send(("setup", batch, optimizer))
            reply = conn.recv()
            if reply[0] == "ready":
                samples[name], losses[name] = reply[1], reply[2]
                ready.append(name)
            else:
                notes[name] = reply[1]
        times: dict[str, list[float]] = {name: [] for name in ready}
        load0, busy0, wall0 = protocol.loadavg(), protocol.busy_cpu_seconds(), time.time()
        paused = 0.0
        for r in range(rounds):
            for name in ready[r % len(ready) :] + ready[: r % len(ready)]:
                time.sleep(PAUSE)
                paused += PAUSE
                self.conns[name].send(("run",))
                seconds, losses[name] = self.conns[name].recv()
                times[name].append(seconds)
        busy1, wall = protocol.busy_cpu_seconds(), time.time() - wall0
        others = None
        if busy0 is not None and busy1 is not None and wall > 0:
            # CPUs kept busy beyond the contenders' own threads while they ran (an estimate)
            others = max(0.0, (busy1 - busy0) - self.threads * (wall - paused)) / wall
        return {
            "clock": "wall",
            "rounds": rounds,
            "number": dict.fromkeys(ready, 1),
            "times": times,
            "wall": times,
            "loadavg_before": load0,
            "loadavg_after": protocol.loadavg(),
            "others_cpus": others,
            "isolated": True,
            "samples": samples,
            "notes": notes,
            "final_loss": losses,
        }
