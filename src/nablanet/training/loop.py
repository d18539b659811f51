"""The training loop: epochs of shuffled mini-batches, metrics, validation and callbacks.

``fit`` checks everything once, up front; the per-batch work is a gather of the batch, one
``model.train_step`` and a finiteness check of the loss.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import (
    as_generator,
    check_consistent_length,
    check_fraction,
    check_positive_int,
)
from ..layers import Dropout
from ..metrics import batch_metric
from ..targets import infer_task, prepare_targets
from .callbacks import Callback, History, ProgressBar

if TYPE_CHECKING:
    from ..model import Sequential

Array = np.ndarray


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN or infinite."""


def _prepare(model: Sequential, X: Any, y: Any) -> tuple[Array, Array]:
    """Check ``X``, build the model if needed, fix the task and return (X, targets)."""
    Xc = model._check_X(X)
    if not getattr(model, "built", False):
        model.build(Xc.shape[1])
    y_arr = np.asarray(y)
    if y_arr.dtype.kind in "USO":
        # prepare_targets raises the clear error; do not let infer_task compare strings first
        prepare_targets(y_arr, model.n_outputs, "regression", model.dtype)
    task = model.task or infer_task(model.loss.name, model.n_outputs, y_arr)
    Y = prepare_targets(y_arr, model.n_outputs, task, model.dtype, model.label_smoothing)
    check_consistent_length(Xc, Y)
    model.task = task
    return Xc, Y


def _metric_fns(model: Sequential) -> dict[str, Any]:
    assert model.task is not None
    names = model.metrics
    if names is None:
        names = [] if model.task == "regression" else ["accuracy"]
    return {name: batch_metric(name, model.task) for name in names}


def fit(
    model: Sequential,
    X: Any,
    y: Any,
    *,
    epochs: int = 1,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: Any = None,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    callbacks: Sequence[Callback] | None = None,
    verbose: Any = "auto",
) -> History:
    """Body of :meth:`nablanet.Sequential.fit` (see there)."""
    epochs = check_positive_int("epochs", epochs)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    if verbose not in (True, False, "auto"):
        raise ValueError(f"verbose must be True, False or 'auto', got {verbose!r}")
    if batch_size is not None:
        batch_size = check_positive_int("batch_size", batch_size)
    validation_split = check_fraction("validation_split", validation_split, low_open=False)
    if validation_split and validation_data is not None:
        raise ValueError("give validation_data or validation_split, not both")
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]  # one callback given on its own
    cbs: list[Callback] = list(callbacks or [])
    for cb in cbs:
        if not isinstance(cb, Callback):
            raise TypeError(
                f"callbacks must be nablanet.Callback instances, got {cb!r}; subclass "
                "nablanet.Callback and override on_epoch_end(epoch, logs) to hook in a function"
            )
    if seed is not None:
        model.rng = as_generator(seed)
        for layer in model.layers:
            if isinstance(layer, Dropout) and layer.built:
                layer.rng = model.rng
    Xc, Y = _prepare(model, X, y)
    if validation_split:
        n_val = round(len(Xc) * validation_split)
        if n_val < 1 or n_val >= len(Xc):
            raise ValueError(
                f"validation_split={validation_split} leaves {n_val} of {len(Xc)} samples for "
                "validation; both parts need at least one sample"
            )
        perm = model.rng.permutation(len(Xc))
        val = (Xc[perm[-n_val:]], Y[perm[-n_val:]])
        Xc, Y = Xc[perm[:-n_val]], Y[perm[:-n_val]]
    elif validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a tuple (X_val, y_val)")
        val = _prepare(model, *validation_data)
    else:
        val = None

    history = History()
    n = len(Xc)
    bs = n if batch_size is None else min(batch_size, n)
    steps = math.ceil(n / bs)
    if verbose is True or (verbose == "auto" and epochs * steps >= 2000):
        cbs.append(ProgressBar(stream=sys.stderr, force=verbose is True))
    cbs.append(history)  # last, as in Keras: it records what the other callbacks add to logs
    for cb in cbs:
        cb.set_model(model)
    metric_fns = _metric_fns(model)
    batches = _Batcher(Xc, Y, bs)
    params = model._packed[0] if model._packed is not None else np.empty(0, model.dtype)
    snapshot, previous = np.empty_like(params), np.empty_like(params)
    from_logits = model._train_loss.from_logits
    model.stop_training, model.stop_reason, model.fit_epochs = False, None, epochs
    for cb in cbs:
        cb.on_train_begin()

    for epoch in range(epochs):
        model.optimizer.begin_epoch()
        for cb in cbs:
            cb.on_epoch_begin(epoch)
        # The weights at the start of this epoch and of the one before (one copy of the packed
        # parameters each): should this epoch diverge, the last ones known to give a finite loss
        # are put back.
        snapshot, previous = previous, snapshot
        np.copyto(snapshot, params)
        order: Array | None = model.rng.permutation(n) if (shuffle and bs < n) else None
        total_loss = 0.0
        sums = dict.fromkeys(metric_fns, 0.0)
        for step in range(steps):
            xb, yb = batches(order, step * bs)
            loss, out = model.train_step(xb, yb)
            if not math.isfinite(loss):
                # batch 1's loss was measured on this epoch's starting weights: if it is the one
                # that failed, those weights are bad too, and the previous epoch's are restored
                bad_start = step == 0 and epoch > 0
                _diverged(model, previous if bad_start else snapshot, epoch, step, loss, bad_start)
                break
            total_loss += loss * len(xb)
            for name, fn in metric_fns.items():
                sums[name] += fn(out, yb, from_logits)
        if model.stop_reason is not None and "diverged" in model.stop_reason:
            break
        logs = {"loss": total_loss / n, **{k: v / n for k, v in sums.items()}}
        if val is not None:
            val_logs = _evaluate_prepared(model, val[0], val[1], metric_fns)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        for cb in cbs:
            cb.on_epoch_end(epoch, logs)
        if model.stop_training:
            break

    for cb in cbs:
        cb.on_train_end()
    history.stop_reason = model.stop_reason
    return history


class _Batcher:
    """Mini-batches of ``(X, Y)`` in a given order, gathered into reused contiguous buffers.

    Only the shuffled index is per epoch; the data itself is never copied whole.
    """

    def __init__(self, X: Array, Y: Array, size: int) -> None:
        self.X, self.Y, self.size = X, Y, size
        self._bufs: dict[int, tuple[Array, Array]] = {}

    def __call__(self, order: Array | None, start: int) -> tuple[Array, Array]:
        X, Y, size = self.X, self.Y, self.size
        if order is None:
            if start == 0 and size >= len(X):
                return X, Y  # full batch: no copy
            return X[start : start + size], Y[start : start + size]
        idx = order[start : start + size]
        bufs = self._bufs.get(len(idx))
        if bufs is None:
            bufs = self._bufs[len(idx)] = (
                np.empty((len(idx), X.shape[1]), X.dtype),
                np.empty((len(idx), Y.shape[1]), Y.dtype),
            )
        # mode="clip": the indices come from a permutation, so none is out of range; the
        # default mode="raise" would gather into a temporary array and copy it into ``out``
        X.take(idx, axis=0, out=bufs[0], mode="clip")
        Y.take(idx, axis=0, out=bufs[1], mode="clip")
        return bufs


def _diverged(
    model: Sequential, snapshot: Array, epoch: int, step: int, loss: float, previous: bool = False
) -> None:
    # Always restore: weights that gave a non-finite loss, even if finite themselves, predict
    # inf or NaN; and the step taken from them may have overflowed.
    if model._packed is not None:
        np.copyto(model._packed[0], snapshot)
    model.optimizer.reset_nonfinite_state()
    where = f"the weights from the start of epoch {epoch if previous else epoch + 1}"
    model.stop_training = True
    model.stop_reason = (
        f"training diverged at epoch {epoch + 1}, batch {step + 1}: the loss is {loss}. "
        f"Training stopped; the model keeps {where}. Try a smaller learning rate "
        f"(it was {model.optimizer.lr:g})."
    )
    warnings.warn(model.stop_reason, DivergenceWarning, stacklevel=4)


def _evaluate_prepared(
    model: Sequential, Xc: Array, Y: Array, metric_fns: dict[str, Any], batch_size: int = 8192
) -> dict[str, float]:
    """Loss (training form, with the L2 penalty) and metrics of prepared data."""
    total, sums = 0.0, dict.fromkeys(metric_fns, 0.0)
    from_logits = model._train_loss.from_logits
    for i in range(0, len(Xc), batch_size):
        xb, yb = Xc[i : i + batch_size], Y[i : i + batch_size]
        out = xb
        for layer in model._train_layers:
            out = layer.forward(out, False)
        total += model._train_loss.forward(out, yb) * len(xb)
        for name, fn in metric_fns.items():
            sums[name] += fn(out, yb, from_logits)
    n = len(Xc)
    penalty = sum(layer.penalty() for layer in model._l2_layers)
    return {"loss": total / n + penalty, **{k: v / n for k, v in sums.items()}}


def evaluate(model: Sequential, X: Any, y: Any, batch_size: int = 8192) -> dict[str, float]:
    """Body of :meth:`nablanet.Sequential.evaluate`."""
    model._require_built()
    batch_size = check_positive_int("batch_size", batch_size)
    Xc, Y = _prepare(model, X, y)
    return _evaluate_prepared(model, Xc, Y, _metric_fns(model), batch_size)
