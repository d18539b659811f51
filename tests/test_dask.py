"""Whole system on Dask: the estimators' partial_fit and predict on a dask.distributed cluster."""

# Scale-out on Dask: partial_fit streamed over a lazily generated Dask array on a real
# dask.distributed cluster (two worker processes on loopback), prediction spread over the workers.

from __future__ import annotations

import importlib.util
import pathlib
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from nablanet.estimators import MLPClassifier  # noqa: E402

EXAMPLE = pathlib.Path(__file__).parents[1] / "examples" / "dask_scale_out.py"
EPOCHS = 3


def load_example():
    spec = importlib.util.spec_from_file_location("dask_scale_out", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    with cluster, distributed.Client(cluster) as c:
        yield c


@pytest.mark.slow
def test_incremental_training_matches_in_memory_training(client):
    example = load_example()
    X, y = example.make_task(200_000, 20_000, seed=0)
    X_test, y_test = example.make_task(20_000, 5_000, seed=1)
    # Lazy: ten blocks that exist only as recipes (random draws on the worker that needs one).
    assert X.shape == (200_000, 20) and X.numblocks == (10, 1)
    assert len(client.scheduler_info()["workers"]) == 2

    net = MLPClassifier(
        hidden_layer_sizes=(32,), batch_size=200, learning_rate_init=0.003, random_state=0
    )
    inc = dask_ml_wrappers.Incremental(net, scoring="accuracy", shuffle_blocks=True, random_state=0)
    with distributed.get_task_stream(client) as stream:
        for _ in range(EPOCHS):
            inc.partial_fit(X, y, classes=np.arange(3))
        labels = inc.predict(X_test)  # a lazy Dask array, one task per block
        labels = labels.compute()
    workers = {task["worker"] for task in stream.data}
    assert len(workers) == 2  # both processes did work
    assert inc.estimator_.t_ == EPOCHS * 200_000

    X_mem, y_mem, X_test_mem, y_test_mem = dask.compute(X, y, X_test, y_test)
    dask_accuracy = float(np.mean(labels == y_test_mem))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory = clone(net).set_params(max_iter=EPOCHS).fit(X_mem, y_mem)
    memory_accuracy = in_memory.score(X_test_mem, y_test_mem)
    assert dask_accuracy > 0.8  # chance is 1/3
    print(f"accuracy: Dask incremental {dask_accuracy:.4f}, in memory {memory_accuracy:.4f}")
    assert abs(dask_accuracy - memory_accuracy) <= 0.01, (dask_accuracy, memory_accuracy)

    # ParallelPostFit spreads any fitted estimator's predictions over the workers.
    spread = dask_ml_wrappers.ParallelPostFit(in_memory).predict_proba(X_test)
    # float32: block-by-block and whole-array products round differently (BLAS blocking).
    np.testing.assert_allclose(
        spread.compute(), in_memory.predict_proba(X_test_mem), rtol=1e-5, atol=1e-6
    )
