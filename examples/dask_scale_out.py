"""Train nablanet's MLPClassifier on a Dask array too large to hold in one place.

Training streams over the array's blocks with ``dask_ml.wrappers.Incremental``: each block is
generated (or read) on a worker, and ``partial_fit`` runs one epoch over it, the estimator
travelling from block to block. Prediction is spread over all workers (``ParallelPostFit``,
which ``Incremental`` extends).

Run on a local two-process cluster, or on a real one::

    python examples/dask_scale_out.py                       # starts a LocalCluster
    python examples/dask_scale_out.py tcp://scheduler:8786  # an existing cluster
    python examples/dask_scale_out.py --rows 20000000 --chunk 500000 tcp://scheduler:8786

Needs ``pip install 'nablanet[dask]'`` (dask, distributed, dask-ml) on the client and every
worker.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

N_FEATURES = 20
N_CLASSES = 3


def make_task(n_rows: int, chunk: int, seed: int) -> tuple[object, object]:
    """A synthetic classification task as lazy Dask arrays: nothing is computed here.

    ``X`` (float32, n_rows x 20) is standard normal; the label of a row is drawn from
    ``softmax(tanh(X A) B)`` (Gumbel-max trick) for a fixed "teacher" (A, B), so even the best
    classifier makes mistakes. Each block is generated on the worker that needs it.
    """
    import dask.array as da

    teacher = np.random.default_rng(12345)  # the same task for every seed
    A = teacher.normal(size=(N_FEATURES, 8)).astype(np.float32)
    B = (3.0 * teacher.normal(size=(8, N_CLASSES))).astype(np.float32)
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n_rows, N_FEATURES), chunks=(chunk, N_FEATURES), dtype=np.float32)
    noise = rng.gumbel(size=(n_rows, N_CLASSES), chunks=(chunk, N_CLASSES))
    y = (da.tanh(X @ A) @ B + noise).argmax(axis=1)
    return X, y


def train(client: object, n_rows: int, chunk: int, epochs: int) -> dict[str, float]:
    """Train incrementally on the cluster and score in parallel; return the accuracies."""
    from dask_ml.wrappers import Incremental, ParallelPostFit

    from nablanet.estimators import MLPClassifier

    X, y = make_task(n_rows, chunk, seed=0)
    X_test, y_test = make_task(max(chunk, n_rows // 10), chunk, seed=1)
    net = MLPClassifier(
        hidden_layer_sizes=(32,), batch_size=200, learning_rate_init=0.003, random_state=0
    )
    inc = Incremental(net, scoring="accuracy", shuffle_blocks=True, random_state=0)
    start = time.perf_counter()
    for _ in range(epochs):  # one pass over every block per epoch
        inc.partial_fit(X, y, classes=np.arange(N_CLASSES))
    print(
        f"trained on {n_rows:,} rows in {X.numblocks[0]} blocks, {epochs} epochs: "
        f"{time.perf_counter() - start:.1f} s"
    )
    result = {"incremental": float(inc.score(X_test, y_test))}  # predicted on the workers

    # The same estimator's predict_proba, again block by block on the workers:
    proba = ParallelPostFit(inc.estimator_).predict_proba(X_test)
    print(f"probabilities: a lazy {type(proba).__name__} of shape {proba.shape}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("address", nargs="?", help="scheduler address; default: LocalCluster")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    from dask.distributed import Client, LocalCluster

    if args.address:
        client = Client(args.address)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
        )
        client = Client(cluster)
    try:
        print(client)
        scores = train(client, args.rows, args.chunk, args.epochs)
        print(f"test accuracy: {scores['incremental']:.4f}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
