"""The setup pass: turn Dask collections into prepared chunks on the workers, and learn the
global facts (rows, sum of weights, classes, class counts, width, dtype) on the way.

Nothing here brings data to the client: the client receives one small dict of facts per chunk
and keeps futures. A chunk stays on the worker that computed it; the prepared chunk is computed
there too (Dask runs a task where its input lives).

Inputs accepted (``X``, ``y``, ``sample_weight``):

- Dask arrays (``X`` 2-D; ``y`` 1-D or 2-D; weights 1-D), rechunked to ``X``'s row chunks;
- Dask DataFrames / Series (converted with their partition lengths);
- a list of ``dask.delayed`` objects (or futures), each evaluating to ``(X_k, y_k)`` or
  ``(X_k, y_k, w_k)``, with ``y=None``: the form a reader per file gives (the CLI's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _tasks

Array = np.ndarray


@dataclass
class Chunks:
    """Prepared chunks on the workers, in a fixed order, and the global facts."""

    train: list[Any]  # futures of (X, Y, sw), in chunk order
    validation: list[Any] | None
    n_samples: int
    sum_weights: float  # of the training rows (rows without weights)
    n_features: int
    dtype: str
    facts: list[dict[str, Any]]

    def release(self) -> None:
        self.train, self.validation = [], None


def _is_dask_collection(value: Any) -> bool:
    import dask

    return dask.is_dask_collection(value)


def as_array(value: Any, name: str) -> Any:
    """A Dask array with known chunk sizes from an array, DataFrame or Series."""
    import dask.array as da
    import dask.dataframe as dd

    if isinstance(value, dd.DataFrame | dd.Series):
        return value.to_dask_array(lengths=True)
    if isinstance(value, da.Array):
        if any(np.isnan(c) for c in value.chunks[0]):
            return value.compute_chunk_sizes()
        return value
    if isinstance(value, np.ndarray | list | tuple) and name != "X":
        return da.from_array(np.asarray(value))  # small targets/weights given in memory
    raise TypeError(
        f"{name} must be a Dask array, DataFrame or Series (or a list of delayed chunks for X), "
        f"got {type(value).__name__}; for data in memory use nablanet.estimators"
    )


def raw_parts(X: Any, y: Any, sample_weight: Any) -> list[Any]:
    """One delayed ``(X_k, y_k[, w_k])`` per chunk of rows, in order."""
    import dask

    if isinstance(X, list | tuple) and X and not _is_dask_collection(X):
        if y is not None or sample_weight is not None:
            raise ValueError(
                "with X a list of delayed chunks, each chunk carries its own (X, y[, w]): "
                f"pass y=None and sample_weight=None (got y of type {type(y).__name__})"
            )
        return list(X)
    if y is None:
        raise ValueError("y is required (or X must be a list of delayed (X, y) chunks)")
    Xa = as_array(X, "X")
    if Xa.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got {Xa.ndim} dimensions")
    if Xa.numblocks[1] > 1:
        Xa = Xa.rechunk({1: -1})
    rows = Xa.chunks[0]
    columns = [Xa]
    for value, name in ((y, "y"), (sample_weight, "sample_weight")):
        if value is None:
            continue
        arr = as_array(value, name)
        if arr.shape[0] != Xa.shape[0]:
            raise ValueError(f"X has {Xa.shape[0]} rows but {name} has {arr.shape[0]}")
        arr = arr.rechunk({0: rows, **({1: -1} if arr.ndim == 2 else {})})
        columns.append(arr)
    blocks = [list(arr.to_delayed().ravel()) for arr in columns]
    return [dask.delayed(tuple)(list(parts)) for parts in zip(*blocks, strict=True)]


def setup(
    client: Any,
    parts: list[Any],
    classifier: bool,
    prepare: Any,
) -> Chunks:
    """Compute the raw parts on the workers, gather their facts, prepare them in place.

    ``prepare(facts) -> PrepareSpec`` turns the per-chunk facts into the global spec (the
    estimator decides classes and class weights).
    """
    if not parts:
        raise ValueError("X has no chunks")
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise RuntimeError("the Dask cluster has no workers")
    raw = [  # chunk i on worker i mod W: every worker holds data, and it stays there
        client.compute(part, workers=[workers[i % len(workers)]], allow_other_workers=True)
        for i, part in enumerate(parts)
    ]
    facts_futures = [
        client.submit(_tasks.chunk_facts, part, i, classifier, pure=False)
        for i, part in enumerate(raw)
    ]
    facts = client.gather(facts_futures)
    widths = {f["n_features"] for f in facts}
    if len(widths) != 1:
        raise ValueError(f"the chunks of X have different numbers of features: {sorted(widths)}")
    n_samples = sum(f["n"] for f in facts)
    if n_samples == 0:
        raise ValueError("X has 0 samples; at least one is needed")
    spec = prepare(facts)
    pairs = [
        client.submit(_tasks.prepare_chunk, part, i, spec, pure=False) for i, part in enumerate(raw)
    ]
    train = [client.submit(_tasks.pick, pair, 0, pure=False) for pair in pairs]
    validation = (
        None
        if spec.validation is None
        else [client.submit(_tasks.pick, pair, 1, pure=False) for pair in pairs]
    )
    del raw, pairs  # the scheduler keeps their recipes for recomputation
    sum_w = sum(f["sum_w"] for f in facts)
    if validation is not None:  # the training rows are fewer: count them
        sizes = client.gather([client.submit(_tasks.size, c, pure=False) for c in train])
        n_samples, sum_w = sum(s[0] for s in sizes), sum(s[1] for s in sizes)
    return Chunks(train, validation, n_samples, sum_w, widths.pop(), spec.dtype, facts)


def tree_sum(client: Any, futures: list[Any]) -> Any:
    """The sum of ``futures`` (tuples of sums) by a pairwise tree on the workers, in a fixed
    order: ``((f0 + f1) + (f2 + f3)) + ...``, whatever order the tasks finish in. The result
    is one future; floating-point sums are bitwise reproducible."""
    level = list(futures)
    while len(level) > 1:
        level = [
            client.submit(_tasks.add, level[i], level[i + 1], pure=False)
            if i + 1 < len(level)
            else level[i]
            for i in range(0, len(level), 2)
        ]
    return level[0]


def put(client: Any, value: Any) -> Any:
    """A future holding ``value`` that the scheduler can recompute if its worker dies.

    ``client.scatter`` keeps no recipe: a scattered value lost with its worker is gone, and a
    broadcast to a dying worker stalls in 30 s connection timeouts. A task returning the value
    carries it (once, through the scheduler) and is simply run again.
    """
    return client.submit(_tasks.identity, value, pure=False)
