"""Tests for nablanet.training.callbacks: driven by scripted logs, then through real fits."""

from __future__ import annotations

import io

import numpy as np
import pytest

import nablanet as nn
from _helpers import X12, Y12_CLASS, classifier, softmax_net, three_class_data


class FakeModel:
    """Just what the callbacks touch: the stop flag and reason, weights, an optimizer."""

    def __init__(self, lr: float = 0.1) -> None:
        self.stop_training = False
        self.stop_reason: str | None = None
        self.optimizer = nn.SGD(lr=lr)
        self.weights = [{"W": np.zeros(2)}]
        self.fit_epochs = 0

    def get_weights(self):
        return [{k: v.copy() for k, v in layer.items()} for layer in self.weights]

    def set_weights(self, weights):
        self.weights = [{k: v.copy() for k, v in layer.items()} for layer in weights]


def drive(callback, values, key="val_loss", model=None, extra=None):
    """Feed ``values`` as epoch logs until the callback stops training; return epochs run."""
    model = model or FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    epochs = 0
    for epoch, value in enumerate(values):
        logs = {key: value, **(extra or {})}
        callback.on_epoch_end(epoch, logs)
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end()
    return epochs, model


# ----------------------------------------------------------------------- EarlyStopping
@pytest.mark.parametrize("patience", [0, 1, 3])
def test_early_stopping_after_exactly_patience_plus_one_bad_epochs(patience):
    # best at epoch 1 (0.5), then nothing better
    values = [1.0, 0.5] + [0.6] * 20
    epochs, model = drive(nn.EarlyStopping(patience=patience), values)
    assert epochs == 2 + patience + 1
    assert model.stop_training
    assert "val_loss" in model.stop_reason and "early stopping" in model.stop_reason


def test_early_stopping_never_stops_while_improving():
    epochs, model = drive(nn.EarlyStopping(patience=0), [1.0 / (e + 1) for e in range(30)])
    assert epochs == 30 and not model.stop_training


def test_min_delta_respected():
    # improvements of 0.001 per epoch are below min_delta=0.01: they do not count
    values = [1.0 - 0.001 * e for e in range(20)]
    epochs, _ = drive(nn.EarlyStopping(patience=2, min_delta=0.01), values)
    assert epochs == 1 + 3
    # ... while improvements of 0.02 do
    values = [1.0 - 0.02 * e for e in range(20)]
    epochs, model = drive(nn.EarlyStopping(patience=2, min_delta=0.01), values)
    assert epochs == 20 and not model.stop_training


def test_mode_max_for_accuracy():
    rising = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    epochs, model = drive(nn.EarlyStopping(monitor="val_accuracy", patience=0), rising,
                          key="val_accuracy")  # fmt: skip
    assert epochs == len(rising) and not model.stop_training  # auto mode: larger is better
    epochs, _ = drive(nn.EarlyStopping(monitor="val_accuracy", patience=1), [0.9, 0.8, 0.7, 0.6],
                      key="val_accuracy")  # fmt: skip
    assert epochs == 3
    # mode="min" explicitly would treat rising accuracy as getting worse
    epochs, _ = drive(nn.EarlyStopping(monitor="val_accuracy", patience=1, mode="min"), rising,
                      key="val_accuracy")  # fmt: skip
    assert epochs == 3


def test_restore_best_weights_with_scripted_logs():
    model = nn.Sequential.from_sizes([2, 3, 1], "tanh", seed=0)
    stopper = nn.EarlyStopping(patience=2, restore_best_weights=True)
    stopper.set_model(model)
    stopper.on_train_begin()
    dense = model.layers[0]
    losses = [0.9, 0.4, 0.7, 0.8, 0.85, 0.1]
    for epoch, value in enumerate(losses):
        dense.params["W"][...] = epoch  # a recognisable set of weights per epoch
        stopper.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            break
    assert epoch == 4
    stopper.on_train_end()
    np.testing.assert_array_equal(dense.params["W"], np.ones_like(dense.params["W"]))  # epoch 1


def test_restore_best_weights_in_a_real_fit(rng):
    X = rng.normal(size=(30, 2))
    y = X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=30)
    X_val = rng.normal(size=(10, 2))
    y_val = X_val[:, 0] - X_val[:, 1] + 0.5 * rng.normal(size=10)
    model = nn.Sequential.from_sizes([2, 16, 1], "tanh", optimizer="adam", lr=0.05, seed=0)

    snapshots: list = []

    class Snap(nn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.get_weights())

    stopper = nn.EarlyStopping(patience=3, restore_best_weights=True)
    history = model.fit(X, y, epochs=200, batch_size=5, validation_data=(X_val, y_val),
                        callbacks=[Snap(), stopper])  # fmt: skip
    best = int(np.argmin(history["val_loss"]))
    assert best > 0  # the val loss fell, then rose (8 epochs in with this seed)
    assert stopper.best_epoch == best
    assert len(history["val_loss"]) == (best + 1) + (3 + 1) < 200  # up to the best, then 4 more
    for layer, saved in zip(model.layers, snapshots[best], strict=True):
        for key, value in saved.items():
            np.testing.assert_array_equal(layer.params[key], value)
    assert model.evaluate(X_val, y_val)["loss"] == pytest.approx(history["val_loss"][best])


def test_early_stopping_resets_between_fits():
    stopper = nn.EarlyStopping(patience=1)
    epochs, model = drive(stopper, [0.1, 0.2, 0.3, 0.4])
    assert epochs == 3
    # a second run whose values never reach the first run's best (0.1) but improve steadily:
    # without the reset in on_train_begin every one of them would count as "no improvement"
    epochs, model = drive(stopper, [1.0, 0.9, 0.8, 0.7, 0.6], model=FakeModel())
    assert epochs == 5 and not model.stop_training
    assert stopper.best == pytest.approx(0.6)


def test_early_stopping_reused_across_two_real_fits(regression_data):
    X, y = regression_data
    stopper = nn.EarlyStopping(monitor="loss", patience=2)
    model = nn.Sequential.from_sizes([3, 4, 1], "tanh", optimizer="adam", lr=0.05, seed=0)
    model.fit(X, y, epochs=20, callbacks=[stopper])
    first_best = stopper.best
    fresh = nn.Sequential.from_sizes([3, 4, 1], "tanh", optimizer="sgd", lr=1e-4, seed=1)
    history = fresh.fit(X, y, epochs=5, callbacks=[stopper])
    assert history["loss"][0] > first_best  # worse than the first fit's best ...
    assert len(history.epoch) == 5  # ... yet improving, so it runs to the end
    assert stopper.best == pytest.approx(history["loss"][-1])


def test_falls_back_to_training_loss_without_validation(regression_data):
    epochs, model = drive(nn.EarlyStopping(patience=0), [1.0, 2.0, 3.0], key="loss")
    assert epochs == 2
    assert model.stop_reason.split(":")[1].strip().startswith("loss did not improve")

    X, y = regression_data
    real = nn.Sequential.from_sizes([3, 4, 1], "tanh", lr=0.05, seed=0)
    history = real.fit(X, y, epochs=3, callbacks=[nn.EarlyStopping(patience=1)])  # no val data
    assert len(history.epoch) == 3 and "val_loss" not in history.history


def test_monitor_missing_entirely_raises():
    stopper = nn.EarlyStopping(monitor="val_f1")
    stopper.set_model(FakeModel())
    stopper.on_train_begin()
    with pytest.raises(ValueError, match="val_f1"):
        stopper.on_epoch_end(0, {"loss": 1.0})


def test_bad_early_stopping_arguments():
    with pytest.raises(ValueError, match=r"patience.*-1"):
        nn.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="sideways"):
        nn.EarlyStopping(mode="sideways")
    with pytest.raises(ValueError, match=r"min_delta.*-0\.5"):
        nn.EarlyStopping(min_delta=-0.5)


# ------------------------------------------------------------------- ReduceLROnPlateau
def test_reduce_lr_on_plateau_halves_the_rate():
    reducer = nn.ReduceLROnPlateau(factor=0.5, patience=1, min_delta=0.0)
    model = FakeModel(lr=0.1)
    reducer.set_model(model)
    reducer.on_train_begin()
    rates = []
    for epoch, value in enumerate([1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4]):
        reducer.on_epoch_end(epoch, {"val_loss": value})
        rates.append(model.optimizer.lr)
    # epochs 2, 3 do not improve -> halve after the 2nd (patience 1); again after 4, 5
    assert rates == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_reduce_lr_respects_min_lr_and_overrides_a_schedule():
    from nablanet.schedules import ExponentialDecay

    reducer = nn.ReduceLROnPlateau(monitor="loss", factor=0.1, patience=0, min_lr=0.003)
    model = FakeModel()
    model.optimizer = nn.SGD(lr=ExponentialDecay(0.1, gamma=0.9))
    drive(reducer, [1.0, 1.0, 1.0, 1.0], key="loss", model=model)
    assert model.optimizer.lr == pytest.approx(0.003)
    model.optimizer.set_epoch(10)  # the schedule no longer applies
    assert model.optimizer.lr == pytest.approx(0.003)


def test_reduce_lr_in_a_real_fit(regression_data):
    X, y = regression_data
    model = nn.Sequential.from_sizes([3, 4, 1], "tanh", optimizer="sgd", lr=0.05, seed=0)
    reducer = nn.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10.0)
    model.fit(X, y, epochs=4, callbacks=[reducer])
    # with min_delta=10 nothing counts as an improvement after the first epoch: 3 halvings
    assert model.optimizer.lr == pytest.approx(0.05 / 8)


# ----------------------------------------------------------------------------- History
def test_history_records_every_key_including_validation(rng):
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    X_val = rng.normal(size=(12, 2))
    y_val = (X_val[:, 0] * X_val[:, 1] > 0).astype(int)
    model = nn.Sequential.from_sizes([2, 6, 1], "tanh", "sigmoid", loss="binary_cross_entropy",
                                     optimizer="adam", lr=0.05, seed=0)  # fmt: skip
    history = model.fit(X, y, epochs=5, batch_size=16, validation_data=(X_val, y_val))
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 5 for v in history.history.values())
    assert history.epoch == [0, 1, 2, 3, 4]
    assert history["loss"] is history.history["loss"]
    assert all(0.0 <= a <= 1.0 for a in history["accuracy"] + history["val_accuracy"])
    final = model.evaluate(X_val, y_val)
    assert history["val_loss"][-1] == pytest.approx(final["loss"], rel=1e-5)
    assert history["val_accuracy"][-1] == pytest.approx(final["accuracy"])
    assert history.stop_reason is None


def test_history_resets_between_fits(regression_data):
    X, y = regression_data
    model = nn.Sequential.from_sizes([3, 4, 1], "tanh", seed=0)
    model.fit(X, y, epochs=3)
    history = model.fit(X, y, epochs=2)
    assert len(history["loss"]) == 2 and history.epoch == [0, 1]


def test_history_with_validation_split(regression_data):
    X, y = regression_data
    model = nn.Sequential.from_sizes([3, 4, 1], "tanh", seed=0)
    history = model.fit(X, y, epochs=2, validation_split=0.25)
    assert set(history.history) == {"loss", "val_loss"}


# ------------------------------------------------------------------------- ProgressBar
class TTYStringIO(io.StringIO):
    def isatty(self) -> bool:
        return True


def _fit_with_bar(stream, force, regression_data, epochs=3):
    X, y = regression_data
    model = nn.Sequential.from_sizes([3, 4, 1], "tanh", seed=0)
    model.fit(X, y, epochs=epochs, callbacks=[nn.ProgressBar(stream=stream, force=force)],
              verbose=False)  # fmt: skip
    return stream.getvalue()


def test_progress_bar_writes_when_forced(regression_data):
    text = _fit_with_bar(io.StringIO(), True, regression_data)
    assert "loss=" in text
    assert "3/3" in text


def test_progress_bar_silent_when_not_a_terminal(regression_data):
    assert _fit_with_bar(io.StringIO(), False, regression_data) == ""


def test_progress_bar_writes_on_a_terminal(regression_data):
    assert "loss=" in _fit_with_bar(TTYStringIO(), False, regression_data)


def test_progress_bar_without_tqdm(regression_data, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    text = _fit_with_bar(io.StringIO(), True, regression_data)
    assert "epoch 3/3" in text and "loss=" in text
    assert text.endswith("\n")


# ------------------------------------------------------------------- the callbacks argument
def test_a_single_callback_need_not_be_in_a_list():
    X, y = three_class_data()
    stop = nn.EarlyStopping(monitor="loss", patience=0, min_delta=100.0)
    history = softmax_net().fit(X, y, epochs=10, callbacks=stop)
    assert len(history["loss"]) == 2  # epoch 1 sets the best, epoch 2 fails to beat it by 100
    assert "early stopping" in history.stop_reason


def test_on_batch_end_is_called_for_every_batch_with_its_loss():
    calls = []

    class Recorder(nn.Callback):
        def on_batch_end(self, batch, logs=None):
            calls.append((batch, logs["loss"]))

    classifier().fit(X12, Y12_CLASS, epochs=2, batch_size=5, callbacks=[Recorder()])
    assert [b for b, _ in calls] == [0, 1, 2, 0, 1, 2]
    assert all(np.isfinite(loss) and loss > 0 for _, loss in calls)
