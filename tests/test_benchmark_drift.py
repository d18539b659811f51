"""Smoke test of benchmarks/drift.py: the paired epoch-1 reference really is at epoch 1.

No timing is asserted: the tests check that ``reset`` puts a trained model back where an
untrained one starts (same weights, zero optimizer state, so the same next epoch), that the
subnormal count counts subnormals only, and that a short run gives the summary the table needs.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"nablanet_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


drift = _load("drift")
common = _load("_common")


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_reset_returns_a_trained_model_to_epoch_1(optimizer):
    rng = np.random.default_rng(0)
    X = rng.random((64, 784), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    a, b = common.make_nablanet(optimizer), common.make_nablanet(optimizer)
    for m in (a, b):
        m.fit(X[:8], y[:8], epochs=1, batch_size=8, verbose=False)  # build
    initial = a.parameters_to_vector()
    drift.reset(b, initial)
    a.fit(X, y, epochs=3, batch_size=16, verbose=False, shuffle=False)  # a: trained on
    drift.reset(a, initial)
    assert all(not buf.any() for s in a.optimizer.state.values() for buf in s.values())
    for m in (a, b):  # the same next epoch from the same state: the same weights after it
        m.fit(X, y, epochs=1, batch_size=16, verbose=False, shuffle=False)
    # two runs of the same float32 arithmetic in one process: equal to rounding noise only
    np.testing.assert_allclose(
        a.parameters_to_vector(), b.parameters_to_vector(), rtol=0, atol=1e-6
    )


def test_subnormals_are_counted_and_nothing_else():
    model = common.make_nablanet("adam", sizes=(4, 3, 2))
    model.fit(np.ones((4, 4), np.float32), [0, 1, 0, 1], epochs=1, verbose=False)
    assert drift.subnormals(model) == 0
    tiny = np.finfo(np.float32).tiny
    m = next(iter(model.optimizer.state.values()))["m"]
    m.reshape(-1)[:3] = [tiny / 4, -tiny / 8, tiny]  # two subnormals and the smallest normal
    assert drift.subnormals(model) == 2


def test_a_short_run_gives_the_summary():
    try:
        result = drift.run("sgd", epochs=2, batch=128, n_train=512)
    except FileNotFoundError:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    assert [r["epoch"] for r in result["rows"]] == [1, 2]
    for r in result["rows"]:
        assert r["trained"] > 0 and r["epoch_1"] > 0
    assert result["max_subnormals"] == 0
    assert math.isfinite(result["drift"]) and result["drift"] > 0
