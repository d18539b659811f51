r"""The stochastic solvers on Dask: local SGD with periodic averaging (``sync_every > 1``) and
synchronous gradient averaging (``sync_every = 1``).

Each worker that holds training chunks is one replica :math:`r` with :math:`n_r` of the
:math:`N` rows. An epoch has ``steps = ceil(N / batch_size)`` steps, as in one process; at each,
replica :math:`r` takes ``ceil(n_r / steps)`` of its rows (its share of the global batch), in an
order drawn from ``(seed, epoch, r)``. A round is ``sync_every`` steps:

- ``sync_every > 1``: every replica steps alone from the same state, then the state
  :math:`s = (\theta, \text{optimizer buffers})` is averaged, :math:`s \leftarrow \sum_r n_r
  s_r / N` (Zinkevich et al. 2010; Lin et al. 2020);
- ``sync_every = 1``: every replica returns its batch's gradient sum, and one step is taken
  with :math:`g = \sum_r S_r g_r / \sum_r S_r` (what PyTorch DDP's all-reduce gives).

The sums are the fixed-order tree of :func:`._setup.tree_sum`, on the workers. The state passes
from round to round as a future, worker to worker: the client submits a whole epoch of rounds at
once and receives only the epoch's loss (and, with early stopping, the validation sums). The
L2 term of a step is scikit-learn's, ``alpha / 2B ||W||^2`` with ``B`` the global batch's
weight, estimated on replica :math:`r` as its batch's weight times :math:`S / S_r`.

The default ``sync_every`` (:data:`SYNC_EVERY`) comes from ``benchmarks/dask_round.py``; see the
documentation's "Train data-parallel on Dask" (docs/howto/dask.md).
"""

from __future__ import annotations

import copy
import functools
import math
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._log import Reporter, get_logger
from ..layers import Dropout
from ..model import Sequential
from ..optimizers import Optimizer
from . import _tasks
from ._setup import Chunks, put, tree_sum

Array = np.ndarray
#: local steps between two averagings when ``sync_every=None``
SYNC_EVERY = 1024


# -- the state as one flat vector (so that the tree sum adds vectors) ---------------------------
def state_keys(opt: Optimizer) -> list[str]:
    return sorted(k for k in opt.get_state() if k not in ("iterations", "epochs"))


def dump(model: Sequential, opt: Optimizer) -> Array:
    """``theta`` then every optimizer buffer, as one float64 vector."""
    state = opt.get_state()
    parts = [model.parameters_to_vector()] + [state[k].ravel() for k in state_keys(opt)]
    return np.concatenate(parts).astype(np.float64)


def load(model: Sequential, opt: Optimizer, vector: Array, iterations: int) -> None:
    """The inverse of :func:`dump` (``opt`` compiled into ``model``)."""
    n = model.n_params
    model.vector_to_parameters(vector[:n])
    state: dict[str, Array] = {"iterations": np.asarray(iterations)}
    offset = n
    for key, template in ((k, v) for k, v in opt.get_state().items() if k in state_keys(opt)):
        state[key] = vector[offset : offset + template.size].reshape(template.shape)
        offset += template.size
    opt.set_state(state)


def _ready(
    engine: _tasks.Engine, total: tuple[float, float, Array], spec: dict[str, Any]
) -> tuple[Sequential, Optimizer]:
    model = _tasks.scratch_model(engine)
    assert engine.optimizer is not None
    opt = copy.deepcopy(engine.optimizer)  # fresh each task: nothing carried between tasks
    model.compile(optimizer=opt)
    load(model, opt, total[2] / total[0], spec["iterations"])
    opt.lr = spec["lr"]
    return model, opt


@functools.lru_cache(maxsize=4)
def _order(seed: int, epoch: int, replica: int, n: int, shuffle: bool) -> Array:
    """The replica's row order for one epoch (read-only), drawn from ``(seed, epoch, replica)``.

    Kept between the tasks of a worker (a permutation of 10^5 rows costs about 2 ms, as much
    as several training steps); a function of its arguments, so the tasks stay pure."""
    rng = np.random.default_rng([seed, epoch, replica])
    order = rng.permutation(n) if shuffle else np.arange(n)
    order.flags.writeable = False
    return order


def _batch(chunks: tuple[_tasks.Chunk, ...], spec: dict[str, Any], step: int) -> _tasks.Chunk:
    """Rows of the replica's batch at ``step`` of the epoch, gathered across its chunks."""
    sizes = [len(c[0]) for c in chunks]
    n = sum(sizes)
    order = _order(spec["seed"], spec["epoch"], spec["replica"], n, spec["shuffle"])
    rows = order[step * spec["local_batch"] : (step + 1) * spec["local_batch"]]
    if len(chunks) == 1:
        X, Y, sw = chunks[0]
        return X[rows], Y[rows], None if sw is None else sw[rows]
    start = 0
    parts = []
    for (X, Y, sw), size in zip(chunks, sizes, strict=True):
        mine = rows[(rows >= start) & (rows < start + size)] - start
        parts.append((X[mine], Y[mine], None if sw is None else sw[mine]))
        start += size
    sws = [p[2] for p in parts if p[2] is not None]
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate(sws) if sws else None,
    )


def _step_loss(
    model: Sequential, batch: _tasks.Chunk, spec: dict[str, Any], training_step: int
) -> float:
    """Forward and backward of one local batch (L2 included); the loss as reported."""
    X, Y, sw = batch
    weight = float(len(X)) if sw is None else float(sw.sum())
    l2 = spec["alpha"] * spec["share"] / weight  # alpha / (the global batch's weight)
    for layer in model.layers:
        if isinstance(layer, Dropout):
            layer.rng = np.random.default_rng(
                [spec["seed"], spec["epoch"], training_step, spec["replica"], 1]
            )
    loss, _ = model.loss_and_grads(X, Y, sw, training=True, l2=l2)
    if spec["data_scale"] != 1.0:
        penalty = model.penalty(l2)
        loss = (loss - penalty) * spec["data_scale"] + penalty
    return float(loss)


def local_round(
    engine: _tasks.Engine, total: Any, spec: dict[str, Any], *chunks: _tasks.Chunk
) -> tuple[float, float, Array]:
    """``sync_every > 1``: ``spec["steps"]`` local steps from the averaged state ``total``;
    returns ``(n_r, sum of loss * rows, n_r * state)`` for the next average."""
    model, opt = _ready(engine, total, spec)
    loss_sum = 0.0
    for step in range(spec["first"], spec["first"] + spec["steps"]):
        batch = _batch(chunks, spec, step)
        if len(batch[0]) == 0 or (batch[2] is not None and not batch[2].sum() > 0):
            continue
        loss_sum += _step_loss(model, batch, spec, step) * len(batch[0])
        model.apply_gradients()
    n_r = float(spec["rows"])
    return n_r, loss_sum, n_r * dump(model, opt)


def replica_gradient(
    engine: _tasks.Engine, total: Any, spec: dict[str, Any], *chunks: _tasks.Chunk
) -> tuple[float, float, Array]:
    """``sync_every = 1``: ``(S_b, rows * loss, S_b * grad)`` of the replica's batch (no L2)."""
    model, _ = _ready(engine, total, spec)
    batch = _batch(chunks, spec, spec["first"])
    X, _, sw = batch
    weight = float(len(X)) if sw is None else float(sw.sum())
    if weight == 0:
        return 0.0, 0.0, np.zeros(model.n_params)
    loss = _step_loss(model, batch, {**spec, "alpha": 0.0}, spec["first"])
    return weight, loss * len(X), weight * model.gradients_to_vector().astype(np.float64)


def averaged_step(
    engine: _tasks.Engine, total: Any, grads: tuple[float, float, Array], spec: dict[str, Any]
) -> tuple[float, float, Array]:
    """One optimizer step with the averaged gradient and the L2 term of the global batch."""
    model, opt = _ready(engine, total, spec)
    weight, loss_sum, grad_sum = grads
    if weight > 0:
        l2 = spec["alpha"] / weight
        model.set_gradients(grad_sum / weight)
        model.penalty_gradients(l2)
        loss_sum += model.penalty(l2) * spec["batch_rows"]
        model.apply_gradients()
    return 1.0, loss_sum, dump(model, opt)


def validation_sums(
    engine: _tasks.Engine, total: Any, chunk: _tasks.Chunk, classifier: bool
) -> Array:
    """Sums for the validation score and loss of one held-out chunk at the averaged state:
    ``[S, S * loss, correct]`` (classifier) or ``[S, S * loss, sum w y, sum w y^2, sum w r^2]``."""
    model = _tasks.scratch_model(engine)
    model.vector_to_parameters((total[2] / total[0])[: model.n_params])
    X, Y, sw = chunk
    w = np.ones(len(X)) if sw is None else sw.astype(np.float64)
    if len(X) == 0:
        return np.zeros(3 if classifier else 2 + 3 * model.n_outputs)
    logits = model.forward(X, loss_input=True)
    loss = float(model.training_loss.forward(logits, Y, sw)) * w.sum()
    out = model.forward(X)
    if classifier:
        hit = (
            out.argmax(1) == Y.argmax(1) if Y.shape[1] > 1 else (out[:, 0] > 0.5) == (Y[:, 0] > 0.5)
        )
        return np.array([w.sum(), loss, float(w @ hit)])
    return np.concatenate([[w.sum(), loss], w @ Y, w @ Y**2, w @ (Y - out) ** 2])


# -- the client's loop ---------------------------------------------------------------------------
def replicas(client: Any, chunks: list[Any]) -> list[tuple[str, list[int]]]:
    """Chunks grouped by the worker holding them: ``[(address, [chunk indices])]``."""
    holders = client.who_has(chunks)
    groups: dict[str, list[int]] = {}
    for i, future in enumerate(chunks):
        where = sorted(holders.get(future.key, ())) or ["any"]
        groups.setdefault(where[0], []).append(i)
    return sorted(groups.items(), key=lambda item: item[1][0])


def _seed(random: Any) -> int:
    if isinstance(random, np.random.Generator):
        return int(random.integers(2**31 - 1))
    return int(random.randint(2**31 - 1))


def fit(
    est: Any, client: Any, engine: _tasks.Engine, chunks: Chunks, settings: Any, random: Any
) -> None:
    """Train ``est.model_`` for up to ``max_iter`` epochs with scikit-learn's stopping rules,
    applied between epochs on the averaged network.

    Each epoch logs scikit-learn's verbose line, ``Iteration k, loss = ...``, at INFO on
    ``"nablanet.dask"`` (and the stopping lines); ``est.verbose`` shows them on the current
    ``sys.stdout`` too (:class:`nablanet._log.Reporter`).
    """
    report = Reporter(get_logger("dask"), bool(est.verbose))
    model: Sequential = est.model_
    opt = copy.deepcopy(engine.optimizer)
    assert opt is not None
    model.compile(optimizer=opt)
    if est.optimizer_state_ is not None and (est.warm_start or est.epochs_):
        opt.set_state(est.optimizer_state_)
    sizes = client.gather([client.submit(_tasks.size, c, pure=False) for c in chunks.train])
    groups = replicas(client, chunks.train)  # the chunks are computed now: placement is known
    est.n_replicas_ = len(groups)
    n = sum(s[0] for s in sizes)
    total_weight = sum(s[1] for s in sizes)
    batch = min(200, n) if est.batch_size == "auto" else int(np.clip(est.batch_size, 1, n))
    steps = math.ceil(n / batch)
    sync = int(est.sync_every or SYNC_EVERY)
    seed = _seed(random)
    iterations = int(opt.iterations)
    state = put(client, (1.0, 0.0, dump(model, opt)))
    specs = []
    for r, (_, members) in enumerate(groups):
        rows = sum(sizes[i][0] for i in members)
        weight = sum(sizes[i][1] for i in members)
        specs.append(
            {
                "replica": r,
                "rows": rows,
                "local_batch": math.ceil(rows / steps),
                "share": weight / total_weight if weight else 0.0,
                "alpha": float(est.alpha),
                "shuffle": bool(est.shuffle),
                "seed": seed,
                "data_scale": 1.0 / est.n_outputs_ if est.out_activation_ == "identity" else 1.0,
                "batch_rows": batch,
            }
        )
    schedule_lr = est.optimizer is not None or est.solver == "sgd"
    best_state, no_improvement = state, 0
    best_loss, best_score = np.inf, -np.inf
    est.validation_scores_ = [] if chunks.validation is not None else None
    est.n_iter_ = 0
    for _ in range(est.max_iter):
        epoch = est.epochs_
        opt.set_epoch(epoch)
        losses = []
        for first in range(0, steps, sync):
            common = {"epoch": epoch, "first": first, "lr": float(opt.lr), "iterations": iterations}
            k = min(sync, steps - first)
            outs = [
                client.submit(
                    local_round if sync > 1 else replica_gradient,
                    engine,
                    state,
                    {**spec, **common, "steps": k},
                    *[chunks.train[i] for i in members],
                    workers=[address],
                    allow_other_workers=True,
                    pure=False,
                    retries=2,
                )
                for spec, (address, members) in zip(specs, groups, strict=True)
            ]
            total = tree_sum(client, outs)
            if sync == 1:
                total = client.submit(
                    averaged_step,
                    engine,
                    state,
                    total,
                    {**specs[0], **common},
                    pure=False,
                    retries=2,
                )
            state = total
            iterations += k
            losses.append(client.submit(_tasks.pick, total, 1, pure=False))
        est.loss_ = float(sum(client.gather(losses))) / n
        est.epochs_ += 1
        est.n_iter_ += 1
        est.t_ += n
        est.loss_curve_.append(est.loss_)
        report.info("Iteration %d, loss = %.8f", est.n_iter_, est.loss_)
        if chunks.validation is not None:
            score = _validation_score(est, client, engine, state, chunks.validation)
            est.validation_scores_.append(score)
            no_improvement = no_improvement + 1 if score < best_score + est.tol else 0
            if score > best_score:
                best_score, best_state = score, state
            est.best_validation_score_ = best_score
        else:
            no_improvement = no_improvement + 1 if est.loss_ > best_loss - est.tol else 0
            best_loss = min(best_loss, est.loss_)
            est.best_loss_ = best_loss
        if schedule_lr and est.learning_rate == "invscaling":
            opt.lr = float(est.learning_rate_init) / (est.t_ + 1) ** est.power_t
        if est.checkpoint is not None and est.epochs_ % est.checkpoint_every == 0:
            _adopt(est, model, opt, client.gather(state), iterations)
            est.save_checkpoint(est.checkpoint)
        if no_improvement > settings.n_iter_no_change:
            what = "Validation score" if chunks.validation is not None else "Training loss"
            stalled = (
                f"{what} did not improve more than tol={est.tol:f} for "
                f"{settings.n_iter_no_change:g} consecutive epochs."
            )
            if schedule_lr and est.learning_rate == "adaptive" and opt.lr > 1e-6:
                opt.lr /= 5.0
                no_improvement = 0
                report.info("%s Setting learning rate to %f", stalled, opt.lr)
            else:
                report.info("%s Stopping.", stalled)
                break
    else:
        warnings.warn(
            f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached and the "
            "optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=3,
        )
    _adopt(
        est,
        model,
        opt,
        client.gather(best_state if chunks.validation is not None else state),
        iterations,
    )
    report.close()


def _adopt(
    est: Any, model: Sequential, opt: Optimizer, total: tuple[float, float, Array], iterations: int
) -> None:
    """Bring the averaged state to the client's model (one vector: O(parameters))."""
    load(model, opt, total[2] / total[0], iterations)
    est.optimizer_state_ = opt.get_state()


def _validation_score(
    est: Any, client: Any, engine: _tasks.Engine, state: Any, validation: list[Any]
) -> float:
    """Accuracy or R^2 of the averaged network on every held-out row."""
    parts = [
        client.submit(validation_sums, engine, state, c, est._classifier, pure=False)
        for c in validation
    ]
    sums = np.sum(client.gather(parts), axis=0)
    if sums[0] == 0:
        raise ValueError("early stopping held out no rows: increase validation_fraction")
    if est._classifier:
        return float(sums[2] / sums[0])
    k = est.n_outputs_
    wy, wy2, res = sums[2 : 2 + k], sums[2 + k : 2 + 2 * k], sums[2 + 2 * k :]
    tot = wy2 - wy**2 / sums[0]
    return float(np.mean(np.where(tot > 0, 1 - res / np.where(tot > 0, tot, 1), 0.0)))
