"""What one synchronous all-workers gradient step costs on Dask, per round.

A round is what synchronous data parallelism (PyTorch DDP's all-reduce, ``sync_every=1``) needs
at every step: scatter the parameters to every worker, one gradient task per worker on its
share of a batch, the tree sum on the workers, the result to the client. This script times
that round (``nablanet.dask``'s L-BFGS evaluation, which is exactly that) against the compute
of the same step in one process, on ``LocalCluster(n_workers=2, threads_per_worker=1,
processes=True)``::

    python benchmarks/dask_round.py            # prints one line per network
    python benchmarks/dask_round.py --rounds 50

The ratio "round / compute" says how many local steps a worker must take between two
synchronisations for the synchronisation to cost less than the work (``sync_every``).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import numpy as np


def _one_hot(part: tuple[np.ndarray, np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray, None]:
    return part[0], np.eye(k, dtype=np.float32)[part[1]], None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--batch", type=int, default=200, help="global batch (split in two)")
    args = parser.parse_args()

    import dask.array as da
    from distributed import Client, LocalCluster

    from nablanet import Sequential
    from nablanet.dask import _lbfgs, _setup, _tasks

    nets = {
        "20-32-3": [20, 32, 3],
        "100-128-3": [100, 128, 3],
        "784-256-128-10": [784, 256, 128, 10],
    }
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    client = Client(cluster)
    try:
        for name, sizes in nets.items():
            model = Sequential.from_sizes(
                sizes, output="softmax", loss="categorical_cross_entropy", seed=0
            )
            rng = np.random.default_rng(0)
            X = rng.normal(size=(args.batch, sizes[0])).astype(np.float32)
            y = rng.integers(0, sizes[-1], args.batch)
            Y = np.eye(sizes[-1], dtype=np.float32)[y]
            parts = _setup.raw_parts(
                da.from_array(X, chunks=args.batch // 2),
                da.from_array(y, chunks=args.batch // 2),
                None,
            )
            raw = client.compute(parts)
            chunks = [client.submit(_one_hot, r, sizes[-1]) for r in raw]
            client.gather(chunks)
            engine = _tasks.Engine(uuid.uuid4().hex, model.get_config())
            objective = _lbfgs.DistributedObjective(client, engine, chunks, model, 0.0)
            theta = model.parameters_to_vector()
            objective.sums(theta)  # warm up: the workers build their scratch networks
            rounds = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                objective.sums(theta)
                rounds.append(time.perf_counter() - start)
            computes = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                model.loss_and_grads(X, Y)
                model.apply_gradients()
                computes.append(time.perf_counter() - start)
            r, c = statistics.median(rounds), statistics.median(computes)
            print(
                f"{name:>16}: round {1000 * r:7.1f} ms (p10 {1000 * sorted(rounds)[len(rounds) // 10]:.1f}), "
                f"one step of batch {args.batch} in one process {1000 * c:6.2f} ms, ratio {r / c:6.0f}"
            )
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
