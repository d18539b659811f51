"""Training hooks, Keras style: ``on_train_begin``, ``on_epoch_begin(epoch)``,
``on_epoch_end(epoch, logs)``, ``on_train_end``. ``logs`` holds the epoch's metrics, with ``val_``
in front of those measured on validation data. A callback stops training by setting
``model.stop_training = True``.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .._log import Reporter, get_logger, silenced
from .._validation import check_choice, check_fraction, check_positive_float, check_positive_int

if TYPE_CHECKING:
    from ..model import Sequential

Logs = dict[str, float]


class Callback:
    """Base class; every hook does nothing. ``self.model`` is set before training starts."""

    model: Sequential

    def set_model(self, model: Sequential) -> None:
        self.model = model

    def on_train_begin(self, logs: Logs | None = None) -> None: ...

    def on_train_end(self, logs: Logs | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None: ...

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...


class History(Callback):
    """Records every epoch's logs: ``history["loss"][e]`` is the loss of epoch ``e``.

    Attributes
    ----------
    history : dict of str to list of float
    epoch : list of int
    stop_reason : str or None
        Why training stopped before ``epochs`` (early stopping, divergence), if it did.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stop_reason: str | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.history, self.epoch, self.stop_reason = {}, [], None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __repr__(self) -> str:
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


def _better(mode: str, value: float, best: float, min_delta: float) -> bool:
    if mode == "min":
        return value < best - min_delta
    return value > best + min_delta


def _infer_mode(mode: str, monitor: str) -> str:
    if mode != "auto":
        return mode
    return "max" if ("acc" in monitor or monitor.endswith("r2")) else "min"


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Parameters
    ----------
    monitor : str
        A key of the epoch logs; ``"val_loss"`` by default, falling back to ``"loss"`` (with a note
        in ``stop_reason``) when there is no validation data.
    patience : int
        Epochs without improvement to tolerate: training stops on the ``patience + 1``-th
        epoch in a row without improvement (as scikit-learn's ``n_iter_no_change`` and
        PyTorch's ``ReduceLROnPlateau`` count; Keras stops one epoch earlier).
    min_delta : float
        Smallest change that counts as an improvement.
    mode : {"auto", "min", "max"}
        Whether smaller or larger is better; ``auto`` picks max for accuracy-like names.
    restore_best_weights : bool
        At the end, put back the weights of the best epoch.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ) -> None:
        self.monitor = monitor
        self.patience = check_positive_int("patience", patience, minimum=0)
        self.min_delta = check_positive_float("min_delta", min_delta, allow_zero=True)
        self.mode = check_choice("mode", mode, ("auto", "min", "max"))
        self.restore_best_weights = bool(restore_best_weights)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        # Reset, so that one instance can drive several fits.
        self.wait = 0
        self.best = math.inf if _infer_mode(self.mode, self.monitor) == "min" else -math.inf
        self.best_epoch = -1
        self.best_weights: list[dict[str, np.ndarray]] | None = None
        self.stopped_epoch: int | None = None
        self._key = self.monitor

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self._key not in logs and self._key.startswith("val_") and self._key[4:] in logs:
            self._key = self._key[4:]  # no validation data: watch the training value
        if self._key not in logs:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r}, which is not among the logged "
                f"values {sorted(logs)}"
            )
        value = logs[self._key]
        mode = _infer_mode(self.mode, self._key)
        if _better(mode, value, self.best, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            self.model.stop_reason = (
                f"early stopping at epoch {epoch + 1}: {self._key} did not improve for "
                f"{self.wait} epochs (best {self.best:.6g} at epoch {self.best_epoch + 1})"
            )

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class ReduceLROnPlateau(Callback):
    """Multiply the optimizer's learning rate by ``factor`` when ``monitor`` stalls.

    Parameters
    ----------
    monitor, patience, min_delta, mode
        As for :class:`EarlyStopping`.
    factor : float in (0, 1)
        Multiplier applied to the learning rate.
    min_lr : float
        The rate never goes below this.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.5,
        patience: int = 3,
        min_delta: float = 1e-4,
        mode: str = "auto",
        min_lr: float = 0.0,
    ) -> None:
        self.monitor = monitor
        self.factor = check_fraction("factor", factor)
        self.patience = check_positive_int("patience", patience, minimum=0)
        self.min_delta = check_positive_float("min_delta", min_delta, allow_zero=True)
        self.mode = check_choice("mode", mode, ("auto", "min", "max"))
        self.min_lr = check_positive_float("min_lr", min_lr, allow_zero=True)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait = 0
        self.best = math.inf if _infer_mode(self.mode, self.monitor) == "min" else -math.inf

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        key = self.monitor if self.monitor in logs else self.monitor.removeprefix("val_")
        if key not in logs:
            raise ValueError(f"ReduceLROnPlateau monitors {self.monitor!r}, not in {sorted(logs)}")
        logs["lr"] = self.model.optimizer.lr  # the rate this epoch used (History runs after)
        if _better(_infer_mode(self.mode, key), logs[key], self.best, self.min_delta):
            self.best, self.wait = logs[key], 0
            return
        self.wait += 1
        if self.wait > self.patience:
            opt = self.model.optimizer
            opt.schedule = None  # a plateau overrides any schedule from now on
            opt.lr = max(opt.lr * self.factor, self.min_lr)
            self.wait = 0


class ProgressLogger(Callback):
    """Log the progress of training on the ``"nablanet.training"`` logger.

    :meth:`~nablanet.Sequential.fit` adds one to every call. Each epoch gives one INFO record,
    ``epoch 3/10 loss=0.1234 accuracy=0.9``; with ``per="batch"`` each batch also gives a DEBUG
    record, ``epoch 3/10 batch 7/40 loss=0.1301``; when training stops early the reason is a
    record, ``training stopped: ...``: INFO for early stopping, DEBUG for a divergence, which
    reaches the user as a :class:`~nablanet.training.DivergenceWarning` already.

    Parameters
    ----------
    verbose : bool
        Also show the records on the ``sys.stdout`` current when training starts
        (``fit(verbose=2)``), unless the application's logging already shows them or silenced
        ``"nablanet"`` (the rules are in :mod:`nablanet._log`).
    per : {"epoch", "batch"}
        ``"batch"`` adds the per-batch records.
    """

    def __init__(self, verbose: bool = False, per: str = "epoch") -> None:
        self.verbose = bool(verbose)
        self.per = check_choice("per", per, ("epoch", "batch"))
        self._reporter: Reporter | None = None
        self._epoch = 0
        self._batches = False

    def on_train_begin(self, logs: Logs | None = None) -> None:
        level = logging.DEBUG if self.per == "batch" else logging.INFO
        self._reporter = Reporter(get_logger("training"), self.verbose, level)
        self._batches = self.per == "batch" and self._reporter.enabled_for(logging.DEBUG)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._batches and self._reporter is not None:
            loss = (logs or {}).get("loss", math.nan)
            model = self.model
            self._reporter.debug(
                "epoch %d/%d batch %d/%d loss=%.4g",
                self._epoch + 1, model.fit_epochs, batch + 1, model.fit_steps, loss,
            )  # fmt: skip

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        reporter = self._reporter
        if reporter is not None and reporter.enabled_for(logging.INFO):
            reporter.info("epoch %d/%d %s", epoch + 1, self.model.fit_epochs, _format_logs(logs))

    def on_train_end(self, logs: Logs | None = None) -> None:
        reporter, self._reporter = self._reporter, None
        if reporter is None:
            return
        if self.model.stop_reason:
            # a divergence already reaches the user as a DivergenceWarning (and as an error in
            # the CLI): its stop is a DEBUG record, an early stop an INFO record
            diverged = bool(logs and logs.get("diverged"))
            level = logging.DEBUG if diverged else logging.INFO
            if reporter.enabled_for(level):
                reporter.log(level, "training stopped: %s", self.model.stop_reason)
        reporter.close()


def _format_logs(logs: Logs | None) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in (logs or {}).items())


class ProgressBar(Callback):
    """A progress bar on ``stream``: tqdm's when tqdm is installed (the ``progress`` extra), else
    one line of text redrawn in place.

    Parameters
    ----------
    stream : file-like, optional
        Where to draw; ``sys.stderr`` by default.
    force : bool
        Draw even when ``stream`` is not a terminal.
    unit : {"epoch", "batch"}
        Tick once per epoch, or once per batch (for long epochs: ``fit(progress="batch")``).
        Either way the epoch's logs are shown at the end of each epoch.
    mininterval : float
        Seconds between two redraws within an epoch (as tqdm's ``mininterval``); the end of every
        epoch is always drawn.

    Nothing is drawn when the application silenced the ``"nablanet"`` logger (a level above
    INFO, or ``disabled``): one switch turns off all of nablanet's progress output.
    """

    def __init__(
        self, stream: Any = None, force: bool = False, unit: str = "epoch", mininterval: float = 0.1
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.force = force
        self.unit = check_choice("unit", unit, ("epoch", "batch"))
        self.mininterval = check_positive_float("mininterval", mininterval, allow_zero=True)
        self._bar: Any = None
        self._on = False
        self._epoch = 0
        self._last_draw = -math.inf
        self._width = 0

    def _enabled(self) -> bool:
        if silenced(get_logger("training"), logging.INFO):
            return False
        return self.force or bool(getattr(self.stream, "isatty", lambda: False)())

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._bar = None
        self._on = self._enabled()
        self._width = 0
        if not self._on:
            return
        model = self.model
        total = model.fit_epochs * (model.fit_steps if self.unit == "batch" else 1)
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self._bar = tqdm(
            total=total, unit=self.unit, file=self.stream, leave=True, mininterval=self.mininterval
        )

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self._on or self.unit != "batch":
            return
        loss = (logs or {}).get("loss", math.nan)
        if self._bar is not None:
            self._bar.set_postfix_str(f"epoch {self._epoch + 1} loss={loss:.4g}", refresh=False)
            self._bar.update(1)
            return
        now = time.monotonic()
        if now - self._last_draw < self.mininterval and batch + 1 < self.model.fit_steps:
            return
        self._last_draw = now
        model = self.model
        self._draw(
            f"epoch {self._epoch + 1}/{model.fit_epochs} batch {batch + 1}/{model.fit_steps} "
            f"loss={loss:.4g}"
        )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if not self._on:
            return
        text = _format_logs(logs)
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            if self.unit == "epoch":
                self._bar.update(1)
            else:
                self._bar.refresh()
        else:
            end = "\n" if epoch + 1 == self.model.fit_epochs else ""
            self._draw(f"epoch {epoch + 1}/{self.model.fit_epochs} {text}", end)

    def _draw(self, line: str, end: str = "") -> None:
        """Redraw the line in place, blanking what a longer previous line left behind."""
        padded = line.ljust(self._width)
        self._width = 0 if end else len(line)
        print(f"\r{padded}", end=end, file=self.stream, flush=True)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._on and self._width:  # stopped before the last epoch's line: end the line
            print(file=self.stream)
            self._width = 0
