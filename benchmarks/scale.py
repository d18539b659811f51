"""Data-parallel training on Dask against one process and against dask-ml's ``Incremental``.

One script, one ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
host="127.0.0.1")``. For each data set and solver it times ``fit`` three ways:

- **one process**: ``nablanet.estimators.MLPClassifier`` in a child process of its own, with
  every thread pool (BLAS, numba) at 1 thread, on the same rows;
- **nablanet.dask**: ``DaskMLPClassifier`` on the 2 workers, the data generated (or read) on
  the workers and persisted there before the clock starts;
- **dask-ml Incremental** (stochastic path only): ``Incremental(MLPClassifier)``, one
  ``partial_fit`` pass over the blocks per epoch, on the same persisted blocks.

Data sets: synthetic, ``--rows`` x ``--features`` float32 rows from a fixed random two-layer
teacher with 3 classes, generated chunk by chunk on the workers (never on the client), network
``features-128-3``; and Fashion-MNIST (60,000 training images, read on the workers by
``nablanet.datasets.load_fashion_mnist``), network 784-256-128-10. L-BFGS runs ``--lbfgs-iter``
iterations everywhere (``tol=0``); Adam runs ``--epochs`` epochs everywhere (``tol=0``, so no
early stop). Reported: wall seconds of ``fit``, test accuracy (held-out rows: 20,000 fresh
synthetic rows, the 10,000 Fashion-MNIST test images) and the client's peak RSS growth during
``fit`` (psutil, sampled every 5 ms), next to the load average. It also reports the CPU
seconds of the busiest process (the one-process child; the busier worker): on a shared machine
whose kernel groups a session's processes for scheduling (``sched_autogroup``), the two
workers share one group's CPU with each other, so wall time can hide the parallelism::

    python benchmarks/scale.py                          # everything (about 10-20 min loaded)
    python benchmarks/scale.py --only synthetic --json scale.json
    python benchmarks/scale.py --cost-model             # the cost model's table only

The cost model (:func:`cost_model`) estimates one synchronous step for W workers; see
docs/howto/dask.md, "Train data-parallel on Dask", for its derivation and the measured values it is checked with.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import threading
import time
import warnings
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
N_CLASSES = 3
TEACHER_WIDTH = 16


# -- data: the same rows on a worker and in the one-process child ------------------------------
def synthetic_chunk(k: int, rows: int, features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Chunk ``k``: rows ~ N(0, 1) in float32 and labels of a fixed random two-layer teacher,
    ``argmax(tanh(X A) B + 0.5 noise)`` (the noise keeps accuracy below 1)."""
    teacher = np.random.default_rng([seed, 0])
    A = teacher.normal(size=(features, TEACHER_WIDTH)) * (2.0 / math.sqrt(features))
    B = teacher.normal(size=(TEACHER_WIDTH, N_CLASSES))
    rng = np.random.default_rng([seed, 1, k])
    X = rng.standard_normal((rows, features), dtype=np.float32)
    scores = np.tanh(X @ A) @ B + 0.5 * rng.standard_normal((rows, N_CLASSES))
    return X, scores.argmax(1)


def synthetic_rows(args: Any, test: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """All training chunks in order (or the test set), in memory."""
    if test:
        return synthetic_chunk(10**6, 20_000, args.features, args.seed)  # a chunk never trained on
    parts = [synthetic_chunk(k, *chunk_rows(args, k), args.seed) for k in range(args.chunks)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def chunk_rows(args: Any, k: int) -> tuple[int, int]:
    """(rows, features) of synthetic chunk ``k``: ``--rows`` split as evenly as possible."""
    base, extra = divmod(args.rows, args.chunks)
    return base + (k < extra), args.features


def fashion_chunk(k: int, chunks: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``k::chunks``-th block of the Fashion-MNIST training set (read where it runs)."""
    from nablanet.datasets import load_fashion_mnist

    X, y, _, _ = load_fashion_mnist()
    bounds = np.linspace(0, len(X), chunks + 1).astype(int)
    return X[bounds[k] : bounds[k + 1]].copy(), y[bounds[k] : bounds[k + 1]].copy()


def fashion_rows(test: bool = False) -> tuple[np.ndarray, np.ndarray]:
    from nablanet.datasets import load_fashion_mnist

    X, y, X_test, y_test = load_fashion_mnist()
    return (X_test, y_test) if test else (X, y)


# -- what is measured -------------------------------------------------------------------------
class PeakRSS:
    """The process's peak resident memory above its value at ``__enter__`` (sampled)."""

    def __init__(self, every: float = 0.005) -> None:
        import psutil

        self.process = psutil.Process()
        self.every = every
        self.growth = 0

    def __enter__(self) -> PeakRSS:
        self.base = self.process.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)
        self.growth = self.peak - self.base


def params_for(dataset: str, solver: str, args: Any) -> dict[str, Any]:
    hidden = (128,) if dataset == "synthetic" else (256, 128)
    common = dict(hidden_layer_sizes=hidden, random_state=0, tol=0.0, alpha=1e-4)
    if solver == "lbfgs":
        iters = args.lbfgs_iter if dataset == "synthetic" else args.fashion_lbfgs_iter
        return {**common, "solver": "lbfgs", "max_iter": iters, "max_fun": 10 * iters}
    return {**common, "solver": "adam", "max_iter": args.epochs, "n_iter_no_change": 10**6}


def load_average() -> float:
    return round(os.getloadavg()[0], 1)


# -- one process (runs in a child: python scale.py --single DATASET SOLVER ...) -----------------
def single(args: Any) -> dict[str, Any]:
    from nablanet.estimators import MLPClassifier

    X, y = synthetic_rows(args) if args.single[0] == "synthetic" else fashion_rows()
    est = MLPClassifier(**params_for(args.single[0], args.single[1], args))
    load = load_average()
    cpu = time.process_time()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    del X, y
    X_test, y_test = (
        synthetic_rows(args, test=True) if args.single[0] == "synthetic" else fashion_rows(True)
    )
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "accuracy": float(est.score(X_test, y_test)),
        "n_iter": int(est.n_iter_),
        "load": [load, load_average()],
    }


def run_single(dataset: str, solver: str, args: Any) -> dict[str, Any]:
    argv = [sys.executable, os.path.abspath(__file__), "--single", dataset, solver]
    argv += [f"--{k.replace('_', '-')}={v}" for k, v in sizes(args).items()]
    env = {**os.environ, **ONE_THREAD, "NUMBA_NUM_THREADS": "1"}
    run = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"the one-process child failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def sizes(args: Any) -> dict[str, Any]:
    keys = ("rows", "features", "chunks", "seed", "lbfgs_iter", "fashion_lbfgs_iter", "epochs")
    return {k: getattr(args, k) for k in keys}


# -- on the cluster ---------------------------------------------------------------------------
def cluster_data(client: Any, dataset: str, args: Any) -> tuple[Any, Any]:
    """Dask arrays ``(X, y)`` computed and persisted on the workers, chunk ``k`` on worker
    ``k mod 2``; the client holds only their keys."""
    import dask
    import dask.array as da

    if dataset == "synthetic":
        n_chunks, width = args.chunks, args.features
        parts = [
            dask.delayed(synthetic_chunk)(k, *chunk_rows(args, k), args.seed)
            for k in range(n_chunks)
        ]
        rows = [chunk_rows(args, k)[0] for k in range(n_chunks)]
    else:
        n_chunks, width = args.fashion_chunks, 784
        parts = [dask.delayed(fashion_chunk)(k, n_chunks) for k in range(n_chunks)]
        bounds = np.linspace(0, 60_000, n_chunks + 1).astype(int)
        rows = list(np.diff(bounds))
    X = da.concatenate(
        [
            da.from_delayed(p[0], (r, width), dtype=np.float32)
            for p, r in zip(parts, rows, strict=True)
        ]
    )
    y = da.concatenate(
        [da.from_delayed(p[1], (r,), dtype=np.int64) for p, r in zip(parts, rows, strict=True)]
    )
    from distributed import wait

    X, y = client.persist([X, y])
    wait([X, y])
    return X, y


def _process_cpu() -> float:
    import psutil

    t = psutil.Process().cpu_times()
    return float(t.user + t.system)


class ClusterCPU:
    """CPU seconds each worker process (and the client) spent inside the ``with`` block."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __enter__(self) -> ClusterCPU:
        self.before = self.client.run(_process_cpu)
        self.client_before = _process_cpu()
        return self

    def __exit__(self, *exc: Any) -> None:
        after = self.client.run(_process_cpu)
        self.workers = [after[w] - self.before[w] for w in sorted(after) if w in self.before]
        self.client_cpu = _process_cpu() - self.client_before


def run_dask(
    client: Any, X: Any, y: Any, dataset: str, solver: str, args: Any, sync_every: Any = None
) -> dict[str, Any]:
    from nablanet.dask import DaskMLPClassifier

    est = DaskMLPClassifier(**params_for(dataset, solver, args), client=client)
    if solver != "lbfgs":
        est.set_params(sync_every=sync_every)
    load = load_average()
    with warnings.catch_warnings(), ClusterCPU(client) as cpu, PeakRSS() as rss:
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - start
    out = {
        "seconds": seconds,
        "worker_cpu_s": cpu.workers,
        "client_cpu_s": cpu.client_cpu,
        "n_iter": int(est.n_iter_),
        "rss_growth_mib": rss.growth / 2**20,
        "load": [load, load_average()],
        "local": est.to_local(),
    }
    if solver == "lbfgs":
        out["evaluations"] = int(est.evaluations_)
    return out


def run_incremental(client: Any, X: Any, y: Any, dataset: str, args: Any) -> dict[str, Any]:
    from dask_ml.wrappers import Incremental

    from nablanet.estimators import MLPClassifier

    params = params_for(dataset, "adam", args)
    epochs = params.pop("max_iter")
    params.pop("n_iter_no_change")
    inc = Incremental(MLPClassifier(**params), random_state=0)
    classes = np.arange(N_CLASSES if dataset == "synthetic" else 10)
    load = load_average()
    with warnings.catch_warnings(), ClusterCPU(client) as cpu, PeakRSS() as rss:
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        for _ in range(epochs):
            inc.partial_fit(X, y, classes=classes)
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "worker_cpu_s": cpu.workers,
        "client_cpu_s": cpu.client_cpu,
        "n_iter": epochs,
        "rss_growth_mib": rss.growth / 2**20,
        "load": [load, load_average()],
        "local": inc.estimator_,
    }


def measure(args: Any) -> list[dict[str, Any]]:
    from distributed import Client, LocalCluster

    datasets = ["synthetic", "fashion-mnist"] if args.only is None else [args.only]
    rows: list[dict[str, Any]] = []
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        for dataset in datasets:
            X, y = cluster_data(client, dataset, args)
            data_mib = (X.nbytes + y.nbytes) / 2**20
            # warm every worker (imports, kernel caches) outside the clock: a few rows of every
            # chunk (so that each worker computes), both solvers
            from nablanet.dask import DaskMLPClassifier

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for solver in ("lbfgs", "adam"):
                    warm = {**params_for(dataset, solver, args), "max_iter": 1}
                    DaskMLPClassifier(**warm, client=client).fit(X[::50], y[::50])
            test = synthetic_rows(args, test=True) if dataset == "synthetic" else fashion_rows(True)
            runs: list[tuple[str, str, Any]] = [
                ("lbfgs", "one process", None),
                ("lbfgs", "nablanet.dask", None),
            ]
            runs += [("adam", "one process", None)]
            runs += [
                ("adam", f"nablanet.dask sync_every={s or 'default'}", s) for s in args.sync_every
            ]
            runs += [("adam", "dask-ml Incremental", None)]
            for solver, how, sync in runs:
                print(f"{dataset} {solver} {how} ...", file=sys.stderr, flush=True)
                if how == "one process":
                    result = run_single(dataset, solver, args)
                elif how == "dask-ml Incremental":
                    result = run_incremental(client, X, y, dataset, args)
                else:
                    result = run_dask(client, X, y, dataset, solver, args, sync)
                if "local" in result:
                    result["accuracy"] = float(result.pop("local").score(*test))
                row = {
                    "dataset": dataset,
                    "solver": solver,
                    "how": how,
                    "data_mib": data_mib,
                    **result,
                }
                print(json.dumps(row), file=sys.stderr, flush=True)
                rows.append(row)
            del X, y
    return rows


# -- the cost model ----------------------------------------------------------------------------
def cost_model(
    W: int,
    compute: float,
    params: int = 235_146,
    bytes_per: int = 8,
    bandwidth: float = 125e6,
    round_latency: float = 0.06,
    per_task: float = 1e-3,
    ring_hop: float = 50e-6,
) -> dict[str, float]:
    """Seconds and bytes of one synchronous step (an L-BFGS evaluation, or one ``sync_every=1``
    step) on ``W`` workers.

    ``compute`` is the step's arithmetic on one worker (split evenly over ``W``); a message is
    ``m = params * bytes_per`` bytes (8: scipy's float64 theta and the float64 sums);
    ``bandwidth`` is one link's bytes per second (125e6: 1 GbE); ``round_latency`` the fixed
    cost of a Dask round (client -> scheduler -> workers -> client), measured by
    ``benchmarks/dask_round.py``; ``per_task`` the scheduler's cost per task (Dask's
    documentation: 200 us to 1 ms); ``ring_hop`` the latency of one ring step of an all-reduce
    library (gloo/NCCL on a LAN; assumed, not measured here).

    - client reduction: the client sends theta to each worker and receives each gradient:
      ``2 W m`` bytes through the client's link, 2 message rounds, ``W`` tasks;
    - tree reduction (nablanet.dask): theta reaches the cluster once (``m``) and spreads by
      worker-to-worker fetches, ``W - 1`` pairwise sums in ``ceil(log2 W)`` levels, one vector
      back: ``2 m`` through the client, ``2 ceil(log2 W) + 2`` message rounds, ``2 W`` tasks;
    - ring all-reduce (PyTorch DDP, Horovod): every worker sends and receives
      ``2 (W - 1) / W * m`` bytes in ``2 (W - 1)`` steps; no client, no scheduler.
    """
    m = params * bytes_per
    depth = math.ceil(math.log2(W)) if W > 1 else 0
    work = compute / W
    return {
        "W": W,
        "client_bytes_client_reduction": 2 * W * m,
        "client_bytes_tree": 2 * m,
        "worker_bytes_ring": 2 * (W - 1) / W * m,
        "rounds_tree": 2 * depth + 2,
        "rounds_ring": 2 * (W - 1),
        "compute_s": work,
        "client_reduction_s": work + round_latency + 2 * W * m / bandwidth + W * per_task,
        "tree_s": work + round_latency + (2 * depth + 2) * m / bandwidth + 2 * W * per_task,
        "ring_s": work + 2 * (W - 1) / W * m / bandwidth + 2 * (W - 1) * ring_hop,
    }


def print_cost_model(
    compute: float, round_latency: float, per_task: float, bandwidth: float = 125e6
) -> None:
    """The cost model's table for W = 2 ... 1024 (Markdown)."""
    print(
        f"One step of 784-256-128-10 (235,146 parameters, 1.88 MB float64 messages), "
        f"{bandwidth * 8 / 1e9:g} Gbit/s links, "
        f"one-worker compute {compute:.3g} s, Dask round {round_latency * 1e3:.0f} ms, "
        f"{per_task * 1e3:.1f} ms per task, ring step 0.05 ms."
    )
    print(
        "\n| W | compute s | client MB: client reduction | client MB: tree | MB per worker: ring "
        "| rounds: tree / ring | step s: client reduction | tree (nablanet.dask) | ring (DDP) "
        "| speed-up: tree | ring |"
    )
    print("|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for W in (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024):
        c = cost_model(
            W, compute, bandwidth=bandwidth, round_latency=round_latency, per_task=per_task
        )
        print(
            f"| {W} | {c['compute_s']:.4f} | {c['client_bytes_client_reduction'] / 1e6:.0f} | "
            f"{c['client_bytes_tree'] / 1e6:.2f} | {c['worker_bytes_ring'] / 1e6:.2f} | "
            f"{c['rounds_tree']} / {c['rounds_ring']} | {c['client_reduction_s']:.3f} | "
            f"{c['tree_s']:.3f} | {c['ring_s']:.3f} | {compute / c['tree_s']:.1f}x | "
            f"{compute / c['ring_s']:.1f}x |"
        )
    best = min(
        range(1, 4097),
        key=lambda w: cost_model(
            w, compute, bandwidth=bandwidth, round_latency=round_latency, per_task=per_task
        )["tree_s"],
    )
    print(f"\nThe tree's step time is lowest at W = {best}; beyond it more workers cost time.")


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        "| data | solver | how | iterations / epochs | wall s | vs one process | CPU s: busiest process | vs one process | test accuracy | client RSS growth MiB (data MiB) | load |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        one = next(
            o
            for o in rows
            if o["dataset"] == r["dataset"]
            and o["solver"] == r["solver"]
            and o["how"] == "one process"
        )
        rss = (
            "" if "rss_growth_mib" not in r else f"{r['rss_growth_mib']:.1f} ({r['data_mib']:.0f})"
        )
        iters = str(r["n_iter"]) + (
            f" ({r['evaluations']} evaluations)" if "evaluations" in r else ""
        )
        busiest = max(r.get("worker_cpu_s") or [r.get("cpu_s", float("nan"))])
        print(
            f"| {r['dataset']} | {r['solver']} | {r['how']} | {iters} | {r['seconds']:.1f} | "
            f"{one['seconds'] / r['seconds']:.2f}x | {busiest:.1f} | {one['cpu_s'] / busiest:.2f}x | "
            f"{r['accuracy']:.4f} | {rss} | {r['load'][0]}-{r['load'][1]} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--fashion-chunks", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lbfgs-iter", type=int, default=20)
    parser.add_argument("--fashion-lbfgs-iter", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument(
        "--sync-every",
        type=lambda s: [None if v == "default" else int(v) for v in s.split(",")],
        default=[None],
        help="comma-separated, 'default' for nablanet.dask.SYNC_EVERY",
    )
    parser.add_argument("--only", choices=("synthetic", "fashion-mnist"))
    parser.add_argument("--json", help="write the rows here")
    parser.add_argument("--single", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--cost-model", action="store_true", help="print the cost model only")
    parser.add_argument("--compute", type=float, default=1.07,
                        help="cost model: one-worker seconds of a step (default: Fashion-MNIST's "
                        "full-batch evaluation, measured)")  # fmt: skip
    parser.add_argument(
        "--round",
        type=float,
        default=0.06,
        help="cost model: seconds of a Dask round (benchmarks/dask_round.py)",
    )
    parser.add_argument("--per-task", type=float, default=1e-3)
    parser.add_argument("--gbit", type=float, default=1.0, help="cost model: link speed, Gbit/s")
    args = parser.parse_args()
    if args.single:
        print(json.dumps(single(args)))
        return
    if args.cost_model:
        print_cost_model(args.compute, args.round, args.per_task, args.gbit * 1e9 / 8)
        return
    rows = measure(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "argv": sys.argv[1:]}, f, indent=1)
    print_table(rows)


if __name__ == "__main__":
    main()
