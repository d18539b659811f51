"""The training loop: epochs of shuffled mini-batches, metrics, validation and callbacks.

``fit`` checks everything once, up front; the per-batch work is a gather of the batch, one
``model.train_step`` and a finiteness check of the loss (:mod:`.divergence`).
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._batching import take
from .._validation import (
    as_generator,
    check_array,
    check_choice,
    check_fraction,
    check_positive_float,
    check_positive_int,
    short_repr,
)
from ..layers import Dropout
from ..metrics import batch_metric
from .callbacks import (
    Callback,
    EarlyStopping,
    History,
    ProgressBar,
    ProgressLogger,
    ReduceLROnPlateau,
)
from .divergence import DivergenceGuard
from .rollback import unchanged_on_error

if TYPE_CHECKING:
    from ..model import Sequential

Array = np.ndarray


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
    validation_data: tuple[Any, ...] | None = None,
    validation_split: float = 0.0,
    sample_weight: Any = None,
    class_weight: Any = None,
    callbacks: Sequence[Callback] | None = None,
    verbose: Any = "auto",
    progress: str = "epoch",
) -> History:
    """Body of :meth:`nablanet.Sequential.fit` (see there)."""
    epochs = check_positive_int("epochs", epochs)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False, got {short_repr(shuffle)}")
    if verbose not in (True, False, "auto", 2):
        raise ValueError(
            f"verbose must be True, False, 'auto', 0, 1 or 2, got {short_repr(verbose)}"
        )
    progress = check_choice("progress", progress, ("epoch", "batch"))
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
                f"callbacks must be nablanet.Callback instances, got {short_repr(cb)}; subclass "
                "nablanet.Callback and override on_epoch_end(epoch, logs) to hook in a function"
            )
    generator = None if seed is None else as_generator(seed)
    # All or nothing up to the first step: a failure leaves the model unbuilt if it was, with
    # its generator (state included), task and optimizer binding as before the call.
    with unchanged_on_error(model):
        if generator is not None:
            model.rng = generator
            for layer in model.layers:
                if isinstance(layer, Dropout) and layer.built:
                    layer.rng = model.rng
        Xc, Y, sw, val = _training_data(
            model, X, y, sample_weight, class_weight, validation_data, validation_split
        )
        _check_monitors(cbs, list(_metric_fns(model)), validated=val is not None)

    history = History()
    n = len(Xc)
    bs = n if batch_size is None else min(batch_size, n)
    steps = math.ceil(n / bs)
    # verbose is True or 1 (a bar), 2 (the logger's lines on stdout), "auto" or False or 0
    if verbose == 1 or (verbose == "auto" and epochs * steps >= 2000):
        cbs.append(ProgressBar(stream=sys.stderr, force=verbose != "auto", unit=progress))
    if not any(isinstance(cb, ProgressLogger) for cb in cbs):  # the user's own, if given
        cbs.append(ProgressLogger(verbose=verbose == 2, per=progress))
    cbs.append(history)  # last, as in Keras: it records what the other callbacks add to logs
    for cb in cbs:
        cb.set_model(model)
    metric_fns = _metric_fns(model)
    guard = DivergenceGuard(model)
    link = model.training_loss.link  # what the metrics apply to ``out``
    total_weight = float(n if sw is None else sw.sum())
    model.stop_training, model.stop_reason, model.fit_epochs = False, None, epochs
    model.fit_steps = steps
    for cb in cbs:
        cb.on_train_begin()

    for epoch in range(epochs):
        model.optimizer.begin_epoch()
        for cb in cbs:
            cb.on_epoch_begin(epoch)
        guard.begin_epoch()
        order: Array | None = model.rng.permutation(n) if (shuffle and bs < n) else None
        total_loss = 0.0
        sums = dict.fromkeys(metric_fns, 0.0)
        for step in range(steps):
            start = step * bs
            rows = slice(start, start + bs) if order is None else order[start : start + bs]
            xb, yb = take(Xc, rows), take(Y, rows)  # a view without shuffling, else a copy
            swb = None if sw is None else sw[rows]
            loss, out = model.train_step(xb, yb, swb)
            if not guard.check(loss, epoch, step):
                assert guard.warning is not None
                warnings.warn(guard.warning, stacklevel=3)
                break
            # the epoch loss is the mean over samples: each batch counts by its (weighted) size
            total_loss += loss * (len(xb) if swb is None else float(swb.sum()))
            for name, fn in metric_fns.items():
                sums[name] += fn(out, yb, link)
            for cb in cbs:
                cb.on_batch_end(step, {"loss": loss})
        if guard.diverged:
            break
        logs = {"loss": total_loss / total_weight, **{k: v / n for k, v in sums.items()}}
        if val is not None:
            val_logs = _evaluate_batches(model, val[0], val[1], val[2], metric_fns)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        for cb in cbs:
            cb.on_epoch_end(epoch, logs)
        if model.stop_training:
            break

    # a divergence is reported by its DivergenceWarning; the logs say so to the callbacks
    end_logs = {"diverged": 1.0} if guard.diverged else None
    for cb in cbs:
        cb.on_train_end(end_logs)
    history.stop_reason = model.stop_reason
    return history


def _training_data(
    model: Sequential,
    X: Any,
    y: Any,
    sample_weight: Any,
    class_weight: Any,
    validation_data: tuple[Any, ...] | None,
    validation_split: float,
) -> tuple[Array, Array, Array | None, tuple[Array, Array, Array | None] | None]:
    """``fit``'s data checked and split: ``(X, Y, weights, (X_val, Y_val, weights_val))``.

    Builds the model on first use and fixes its task (:meth:`Sequential.prepare`).
    """
    Xc, Y = model.prepare(X, y)
    sw = sample_weights(model, Y, sample_weight, class_weight)
    if validation_split:
        n_val = round(len(Xc) * validation_split)
        if n_val < 1 or n_val >= len(Xc):
            raise ValueError(
                f"validation_split={validation_split} leaves {n_val} of {len(Xc)} samples for "
                "validation; both parts need at least one sample"
            )
        perm = model.rng.permutation(len(Xc))
        held, kept = perm[-n_val:], perm[:-n_val]
        if sw is not None:  # each part needs some weight, as the whole did
            _check_total(sw[kept], "sample_weight of the samples kept for training")
            _check_total(sw[held], f"sample_weight of the {n_val} samples held out for validation")
        val: tuple[Array, Array, Array | None] | None
        val = (Xc[held], Y[held], None if sw is None else sw[held])
        Xc, Y, sw = Xc[kept], Y[kept], None if sw is None else sw[kept]
    elif validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "validation_data must be a tuple (X_val, y_val) or (X_val, y_val, "
                f"sample_weight_val), got {_describe(validation_data)}"
            )
        X_val, Y_val = model.prepare(*validation_data[:2])
        w_val = validation_data[2] if len(validation_data) == 3 else None
        val = (X_val, Y_val, sample_weights(model, Y_val, w_val, None))
    else:
        val = None
    return Xc, Y, sw, val


def _check_monitors(callbacks: list[Callback], metrics: list[str], validated: bool) -> None:
    """Refuse, before training, an EarlyStopping or ReduceLROnPlateau that watches a value the
    epochs will not log (it would raise at the end of the first epoch, after training it)."""
    logged = ["loss", *metrics]
    if validated:
        logged += [f"val_{key}" for key in logged]
    if any(isinstance(cb, ReduceLROnPlateau) for cb in callbacks):
        logged.append("lr")
    for cb in callbacks:
        if not isinstance(cb, EarlyStopping | ReduceLROnPlateau):
            continue
        monitor = cb.monitor
        if not isinstance(monitor, str):
            raise TypeError(f"{type(cb).__name__} monitor must be a str, got {short_repr(monitor)}")
        if monitor not in logged and monitor.removeprefix("val_") not in logged:
            raise ValueError(
                f"{type(cb).__name__} monitors {monitor!r}, which the epochs will not log; "
                f"they log {logged}"
            )


def _describe(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"{type(value).__name__}"


def sample_weights(
    model: Sequential, Y: Array, sample_weight: Any, class_weight: Any
) -> Array | None:
    """Per-sample weights from ``sample_weight`` and ``class_weight`` (their product), or None.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_outputs)
        Prepared targets (one-hot rows for multiclass).
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative, finite.
    class_weight : dict, "balanced" or None
        ``{label: weight}`` keyed by the labels given to ``fit`` (``classes_`` if the model has
        them, else class indices 0..K-1); missing classes weigh 1. ``"balanced"`` weighs class
        ``c`` by ``n_samples / (n_classes * count(c))``, as scikit-learn does.
    """
    weights = None
    if sample_weight is not None:
        weights = check_array(sample_weight, "sample_weight", ndim=1, dtype=model.dtype)
        if len(weights) != len(Y):
            raise ValueError(
                f"sample_weight has {len(weights)} entries, but there are {len(Y)} samples"
            )
        if (weights < 0).any():
            raise ValueError(f"sample_weight must be >= 0, got {float(weights.min())!r}")
    if class_weight is None:
        if weights is not None:
            _check_total(weights, "sample_weight")
        return weights
    task = model.task
    if task not in ("binary", "multiclass"):
        raise ValueError(
            f"class_weight needs a binary or multiclass classifier; this model's task is {task!r}"
        )
    index = Y.argmax(axis=1) if task == "multiclass" else (Y[:, 0] > 0.5).astype(np.int64)
    n_classes = max(Y.shape[1], 2)
    if isinstance(class_weight, str) and class_weight == "balanced":
        counts = np.bincount(index, minlength=n_classes)
        per_class = np.where(counts > 0, len(Y) / (n_classes * np.maximum(counts, 1)), 1.0)
    elif isinstance(class_weight, dict):
        labels = list(model.classes_) if model.classes_ is not None else list(range(n_classes))
        unknown = [key for key in class_weight if key not in labels]
        if unknown:
            raise ValueError(
                f"class_weight names classes {short_repr(unknown)} not among the labels "
                f"{short_repr(labels)}"
            )
        per_class = np.array(
            [
                check_positive_float(
                    f"class_weight[{short_repr(label)}]",
                    class_weight.get(label, 1.0),
                    allow_zero=True,
                )
                for label in labels
            ]
        )
        for label, value in zip(labels, per_class, strict=True):
            if value > np.finfo(model.dtype).max:
                raise ValueError(
                    f"class_weight[{short_repr(label)}] is {float(value)!r}, more than "
                    f"{model.dtype} holds ({np.finfo(model.dtype).max:.3g})"
                )
    else:
        raise ValueError(
            f"class_weight must be a dict, 'balanced' or None, got {short_repr(class_weight)}"
        )
    by_class = per_class[index].astype(model.dtype)
    combined = by_class if weights is None else weights * by_class
    what = f"class_weight {short_repr(class_weight)}"
    if weights is not None:
        what = f"sample_weight times {what}"
    _check_total(combined, what)
    return combined


def _check_total(weights: Array, what: str) -> None:
    r"""Refuse weights whose sum (in their dtype, as the loss adds them) is 0 or overflows: the
    weighted mean loss :math:`\sum_i s_i \ell_i / \sum_i s_i` would be undefined."""
    with np.errstate(over="ignore"):
        total = float(weights.sum())
    if total == 0:
        raise ValueError(
            f"{what} gives every one of the {len(weights)} samples weight 0; the weighted mean "
            "loss (divided by the sum of the weights) is undefined: give some a weight > 0"
        )
    if not math.isfinite(total):
        raise ValueError(
            f"{what}: the weights of the {len(weights)} samples sum to {total} in "
            f"{weights.dtype}; scale them down"
        )


def _evaluate_batches(
    model: Sequential,
    Xc: Array,
    Y: Array,
    sw: Array | None,
    metric_fns: dict[str, Any],
    batch_size: int = 8192,
) -> dict[str, float]:
    """Loss (training form, weighted, with the L2 penalty) and metrics of prepared data."""
    total, sums = 0.0, dict.fromkeys(metric_fns, 0.0)
    link = model.training_loss.link  # what the metrics apply to ``out``
    for i in range(0, len(Xc), batch_size):
        xb, yb = Xc[i : i + batch_size], Y[i : i + batch_size]
        swb = None if sw is None else sw[i : i + batch_size]
        out = model.forward(xb, loss_input=True)
        batch_weight = len(xb) if swb is None else float(swb.sum())
        total += model.training_loss.forward(out, yb, swb) * batch_weight
        for name, fn in metric_fns.items():
            sums[name] += fn(out, yb, link)
    weight = len(Xc) if sw is None else float(sw.sum())
    loss = total / weight if weight > 0 else 0.0
    return {"loss": loss + model.penalty(), **{k: v / len(Xc) for k, v in sums.items()}}


def evaluate(
    model: Sequential, X: Any, y: Any, batch_size: int = 8192, sample_weight: Any = None
) -> dict[str, float]:
    """Body of :meth:`nablanet.Sequential.evaluate`; the model is left as it was (a task
    inferred from ``y`` for an unfitted model is not kept)."""
    batch_size = check_positive_int("batch_size", batch_size)
    task = model.task
    try:
        Xc, Y = model.prepare(X, y)
        sw = sample_weights(model, Y, sample_weight, None)
        return _evaluate_batches(model, Xc, Y, sw, _metric_fns(model), batch_size)
    finally:
        model.task = task
