r"""What runs on the workers: pure functions of their arguments.

Every task here is a function of its inputs alone (a chunk, a parameter vector, a spec), so a
task that Dask retries after a worker dies returns the same bits. The one thing kept between
tasks is a scratch :class:`~nablanet.Sequential` per (fit, thread), rebuilt from a config; every
task overwrites its parameters (and, for the stochastic rounds, its optimizer state) before use.

A chunk is a tuple ``(X, Y, sw)``: ``X`` of shape (n_k, n_features) in the model's dtype, ``Y``
the target matrix of shape (n_k, n_outputs) that the loss compares with, ``sw`` of shape (n_k,)
or None.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _fast
from ..model import Sequential
from ..optimizers import Optimizer

Array = np.ndarray
Chunk = tuple[Array, Array, Array | None]


@dataclass(frozen=True)
class Engine:
    """What a worker needs to rebuild the network: its config (no weights) and the optimizer
    of the stochastic solvers, both small. ``token`` names one fit."""

    token: str
    config: dict[str, Any] = field(hash=False)
    optimizer: Optimizer | None = field(default=None, hash=False)


_SCRATCH: dict[tuple[str, int], Sequential] = {}


def one_kernel_thread() -> None:
    """Run nablanet's compiled kernels on one thread in this task's thread.

    Dask gives every worker thread one BLAS thread (``OMP_NUM_THREADS=1``); numba would
    otherwise use one thread per core in each worker, oversubscribing the cores. One thread
    also keeps a task's result independent of the machine that runs it: a multi-threaded
    kernel's sums (``db``, the loss) are split by thread count, so a task recomputed on a
    worker with another count could round differently. numba's count is per calling thread,
    so this leaves the client's threads alone. Nothing to do without numba or with the
    kernels switched off.
    """
    if _fast.enabled() and _fast.threads() != 1:
        import numba

        numba.set_num_threads(1)


def scratch_model(engine: Engine) -> Sequential:
    """This thread's model for ``engine``: the same layers, parameters to be overwritten.
    Every task that computes calls this (or :func:`one_kernel_thread`) first."""
    one_kernel_thread()
    key = (engine.token, threading.get_ident())
    model = _SCRATCH.get(key)
    if model is None:
        if len(_SCRATCH) >= 16:  # models of finished fits
            _SCRATCH.clear()
        model = Sequential.from_config(engine.config, seed=0)
        _SCRATCH[key] = model
    return model


# -- setup: facts, then prepared chunks -------------------------------------------------------
def unpack(part: Any, index: int) -> tuple[Array, Array, Array | None]:
    """``(X, y, sw)`` of one raw part as arrays: ``(X, y)`` or ``(X, y, sw)``."""
    if not isinstance(part, tuple | list) or len(part) not in (2, 3):
        raise TypeError(
            f"chunk {index}: expected a tuple (X, y) or (X, y, sample_weight), got "
            f"{type(part).__name__}"
        )
    X = np.asarray(part[0])
    y = np.asarray(part[1])
    sw = None if len(part) == 2 or part[2] is None else np.asarray(part[2], dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"chunk {index}: X must be 2-D (n_samples, n_features), got {X.shape}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"chunk {index}: X must hold numbers, got dtype {X.dtype}")
    if len(y) != len(X) or (sw is not None and sw.shape != (len(X),)):
        raise ValueError(
            f"chunk {index}: X has {len(X)} rows but y has {len(y)}"
            + ("" if sw is None else f" and sample_weight has shape {sw.shape}")
        )
    if not np.isfinite(X).all():
        raise ValueError(f"chunk {index}: X contains NaN or infinity")
    if sw is not None and not (np.isfinite(sw).all() and (sw >= 0).all()):
        raise ValueError(f"chunk {index}: sample_weight must be finite and >= 0")
    return X, y, sw


def chunk_facts(part: Any, index: int, classifier: bool) -> dict[str, Any]:
    """What the setup pass needs from one raw part: rows, width, dtype, weights, labels."""
    X, y, sw = unpack(part, index)
    facts: dict[str, Any] = {
        "n": len(X),
        "n_features": X.shape[1],
        "float32": X.dtype == np.float32,
        "sum_w": float(len(X)) if sw is None else float(sw.sum()),
        "y_shape": y.shape[1:],
    }
    if classifier:
        if y.ndim == 2 and y.shape[1] > 1:
            facts["labels"] = np.unique(y)  # an indicator matrix holds 0 and 1 only
        else:
            labels, counts = np.unique(y.ravel(), return_counts=True)
            facts["labels"], facts["counts"] = labels, counts
    else:
        if y.dtype.kind not in "biuf" or not np.isfinite(y).all():
            raise ValueError(f"chunk {index}: y must hold finite numbers")
        facts["y_min"] = float(y.min()) if y.size else np.inf
    return facts


@dataclass(frozen=True)
class PrepareSpec:
    """The global facts every chunk is prepared with."""

    dtype: str
    n_features: int
    binarizer: Any = None  # a fitted LabelBinarizer (classifier)
    class_weight: dict[Any, float] | None = None  # label -> weight, resolved globally
    validation: tuple[float, int] | None = None  # (fraction, seed) held out per chunk


def prepare_chunk(part: Any, index: int, spec: PrepareSpec) -> tuple[Chunk, Chunk | None]:
    """One raw part as ``(train, validation)`` chunks of the model's dtype (validation None
    without early stopping). The held-out rows are drawn from ``(seed, index)``."""
    X, y, sw = unpack(part, index)
    if X.shape[1] != spec.n_features:
        raise ValueError(f"chunk {index}: X has {X.shape[1]} features, expected {spec.n_features}")
    X = X.astype(spec.dtype, copy=False)
    if spec.binarizer is not None:
        y = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
        Y = spec.binarizer.transform(y).astype(spec.dtype)
        if spec.class_weight is not None and y.ndim == 1:
            weights = np.array([spec.class_weight.get(label, 1.0) for label in y.tolist()])
            sw = weights if sw is None else sw * weights
    else:
        Y = np.asarray(y, dtype=spec.dtype).reshape(len(y), -1)
    sw = None if sw is None else sw.astype(spec.dtype)
    if spec.validation is None:
        return (X, Y, sw), None
    fraction, seed = spec.validation
    held = np.random.default_rng([seed, index]).random(len(X)) < fraction
    keep = ~held
    val = (X[held], Y[held], None if sw is None else sw[held])
    return (X[keep], Y[keep], None if sw is None else sw[keep]), val


def size(chunk: Chunk) -> tuple[int, float]:
    """Rows and sum of weights of a prepared chunk."""
    X, _, sw = chunk
    return len(X), float(len(X)) if sw is None else float(np.sum(sw, dtype=float))


def identity(value: Any) -> Any:
    return value


def pick(pair: tuple[Any, Any], i: int) -> Any:
    return pair[i]


# -- L-BFGS: one evaluation -------------------------------------------------------------------
def chunk_sums(engine: Engine, theta: Array, chunk: Chunk) -> tuple[float, float, Array]:
    """``(S_k, S_k * loss_k, S_k * grad_k)`` of the data term on one chunk at ``theta``."""
    model = scratch_model(engine)
    model.vector_to_parameters(theta)
    return model.loss_and_grad_sums(*chunk)


def add(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    """Element-wise sum of two tuples of sums (one node of the tree reduction)."""
    return tuple(x + y for x, y in zip(a, b, strict=True))


# -- inference -------------------------------------------------------------------------------
def forward_block(X: Array, model: Sequential, logits: bool = False) -> Array:
    """The network's output (or logits) on one block of rows, shape (n_rows, n_outputs)."""
    one_kernel_thread()
    X = np.asarray(X, dtype=model.dtype)
    if len(X) == 0:
        return np.zeros((0, model.n_outputs), dtype=model.dtype)
    return model.forward(X, loss_input=logits)
