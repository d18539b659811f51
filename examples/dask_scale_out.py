"""Train nablanet's MLP data-parallel on a Dask array that never comes to the client
=================================================================================

Each block of rows is generated (or, with real data, read) on a worker and stays there;
``nablanet.dask.DaskMLPClassifier`` trains on all workers at once: full-batch L-BFGS with the
gradient summed on the workers, or Adam with local steps and averaging. Prediction and scoring
run block by block on the workers too; ``to_local()`` gives the plain estimator back.

Run on a local two-process cluster, or on a real one::

    python examples/dask_scale_out.py                       # starts a LocalCluster
    python examples/dask_scale_out.py tcp://scheduler:8786  # an existing cluster
    python examples/dask_scale_out.py --rows 20000000 --chunk 500000 tcp://scheduler:8786

Needs ``pip install 'nablanet[dask]'`` on the client and every worker.
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


def train(n_rows: int, chunk: int, epochs: int, client: object = None) -> dict[str, float]:
    """Fit with L-BFGS and with Adam on the cluster; return the test accuracies."""
    from nablanet.dask import DaskMLPClassifier

    X, y = make_task(n_rows, chunk, seed=0)
    X_test, y_test = make_task(max(chunk, n_rows // 10), chunk, seed=1)
    scores = {}
    for solver, params in {
        "lbfgs": {"max_iter": 10 * epochs},
        "adam": {"max_iter": epochs, "batch_size": 200, "learning_rate_init": 0.003},
    }.items():
        clf = DaskMLPClassifier((32,), solver=solver, random_state=0, client=client, **params)
        start = time.perf_counter()
        clf.fit(X, y)
        print(
            f"{solver}: {n_rows:,} rows in {X.numblocks[0]} blocks, {clf.n_iter_} iterations, "
            f"{time.perf_counter() - start:.1f} s"
        )
        scores[solver] = clf.score(X_test, y_test)  # computed on the workers
    proba = clf.predict_proba(X_test)
    print(f"probabilities: a lazy {type(proba).__name__} of shape {proba.shape}")
    print(f"the plain estimator: {type(clf.to_local()).__name__}")
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("address", nargs="?", help="scheduler address; default: LocalCluster")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    from dask.distributed import Client, LocalCluster

    cluster = None
    if args.address:
        client = Client(args.address)
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
        for solver, accuracy in train(args.rows, args.chunk, args.epochs, client).items():
            print(f"{solver} test accuracy: {accuracy:.4f}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
