"""Tests for nablanet.schedules: rates by hand, followed during fit, config round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nablanet as nn
from nablanet.optimizers import optimizer_from_config
from nablanet.schedules import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    StepDecay,
    schedule_from_config,
)

# (schedule, {epoch: expected rate}), every rate computed by hand
CASES = [
    (Constant(0.3), {0: 0.3, 1: 0.3, 50: 0.3}),
    # 0.1 * 0.5 ** (epoch // 3)
    (StepDecay(0.1, step_size=3, gamma=0.5), {0: 0.1, 2: 0.1, 3: 0.05, 5: 0.05, 6: 0.025, 9: 0.0125}),
    # 0.2 * 0.9 ** epoch: 0.2, 0.18, 0.162, 0.1458
    (ExponentialDecay(0.2, gamma=0.9), {0: 0.2, 1: 0.18, 2: 0.162, 3: 0.1458}),
    # 0.5 (1 + cos(pi t / 4)): t=1 -> 0.5 (1 + 0.70710678) = 0.85355339; t=2 -> 0.5; t>=4 -> 0
    (CosineDecay(1.0, epochs=4), {0: 1.0, 1: 0.8535533906, 2: 0.5, 3: 0.1464466094, 4: 0.0, 9: 0.0}),
    # 0.1 + 0.5 * 0.9 * (1 + cos(pi t / 4)): t=2 -> 0.55; t>=4 -> min_lr
    (CosineDecay(1.0, epochs=4, min_lr=0.1), {0: 1.0, 2: 0.55, 4: 0.1, 7: 0.1}),
]  # fmt: skip


@pytest.mark.parametrize(("schedule", "expected"), CASES, ids=lambda c: repr(c)[:40])
def test_values_at_chosen_epochs(schedule, expected):
    for epoch, rate in expected.items():
        assert schedule(epoch) == pytest.approx(rate, rel=1e-9, abs=1e-12), epoch


@pytest.mark.parametrize(("schedule", "expected"), CASES, ids=lambda c: repr(c)[:40])
def test_schedule_config_round_trip(schedule, expected):
    config = json.loads(json.dumps(schedule.get_config()))
    twin = schedule_from_config(config)
    assert type(twin) is type(schedule)
    for epoch, rate in expected.items():
        assert twin(epoch) == pytest.approx(rate, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: StepDecay(0.1, step_size=0), r"step_size.*got 0"),
        (lambda: StepDecay(0.1, gamma=1.5), r"gamma.*got 1\.5"),
        (lambda: ExponentialDecay(0.1, gamma=0.0), r"gamma.*got 0\.0"),
        (lambda: CosineDecay(-1.0, epochs=3), r"lr.*got -1\.0"),
        (lambda: CosineDecay(1.0, epochs=3, min_lr=-0.1), r"min_lr.*got -0\.1"),
        (lambda: schedule_from_config({"name": "triangle", "lr": 0.1}), r"triangle"),
    ],
)
def test_bad_arguments(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


class LRRecorder(nn.Callback):
    def __init__(self) -> None:
        self.rates: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        self.rates.append(self.model.optimizer.lr)


@pytest.mark.parametrize(("schedule", "expected"), CASES[1:4], ids=["step", "exp", "cosine"])
def test_optimizer_lr_follows_the_schedule_during_fit(schedule, expected, regression_data):
    X, y = regression_data
    epochs = 6
    model = nn.Sequential.from_sizes([3, 4, 1], "tanh", optimizer=nn.SGD(lr=schedule), seed=0)
    recorder = LRRecorder()
    model.fit(X, y, epochs=epochs, callbacks=[recorder])
    assert len(recorder.rates) == epochs
    for epoch, rate in expected.items():
        if epoch < epochs:
            assert recorder.rates[epoch] == pytest.approx(rate, rel=1e-9, abs=1e-12)


def test_scheduled_rate_is_the_one_applied():
    """With a StepDecay that halves each epoch, epoch e moves the bias by lr_e * gradient."""
    X = np.zeros((4, 1))  # zero inputs: only the bias learns
    y = np.full(4, 1.0)
    model = nn.Sequential(
        [nn.Dense(1, weights=[[0.0]], bias=[0.0])],
        loss="half_squared_error",
        optimizer=nn.SGD(lr=StepDecay(0.5, step_size=1, gamma=0.5)),
        dtype="float64",
    )
    biases = []

    class Recorder(nn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            biases.append(float(self.model.layers[0].params["b"][0]))

    model.fit(X, y, epochs=3, callbacks=[Recorder()])
    # L = mean of 1/2 (b - 1)^2, so dL/db = b - 1. epoch 0, lr 0.5: b = 0 - 0.5 (0 - 1) = 0.5
    # epoch 1, lr 0.25: b = 0.5 - 0.25 (0.5 - 1) = 0.625; epoch 2, lr 0.125: 0.625 + 0.046875
    assert biases == pytest.approx([0.5, 0.625, 0.671875], rel=1e-12)


def test_optimizer_and_model_config_round_trip_keep_the_schedule():
    opt = nn.Adam(lr=CosineDecay(0.01, epochs=10, min_lr=0.001))
    config = json.loads(json.dumps(opt.get_config()))
    twin = optimizer_from_config(config)
    assert twin.schedule is not None
    twin.set_epoch(5)
    # 0.001 + 0.5 * 0.009 * (1 + cos(pi / 2)) = 0.0055
    assert twin.lr == pytest.approx(0.0055)

    model = nn.Sequential.from_sizes(
        [2, 3, 1], "relu", optimizer=nn.SGD(lr=StepDecay(0.1, step_size=2, gamma=0.1)), seed=0
    )
    rebuilt = nn.Sequential.from_config(json.loads(json.dumps(model.get_config())))
    rebuilt.optimizer.set_epoch(4)
    assert rebuilt.optimizer.lr == pytest.approx(0.001)  # 0.1 * 0.1 ** 2
