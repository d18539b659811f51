"""Smoke test of benchmarks/speed.py: every measurement runs on a toy size."""

# No timing is asserted; the tests check that each function runs, returns what the table needs,
# that the hand-written baselines compute what nablanet computes, and the table arithmetic.

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"nablanet_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


common = _load("_common")
speed = _load("speed")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Toy sizes on a busy machine: extra BLAS/OpenMP threads would only wait for each other."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    try:
        import torch
    except ImportError:
        torch = None
    before = torch.get_num_threads() if torch is not None else None
    with threadpoolctl.threadpool_limits(limits=1):
        if torch is not None:
            torch.set_num_threads(1)
        yield
    if torch is not None and before is not None:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    X, y, source = common.load_data(64, synthetic=True)
    assert source.startswith("synthetic")
    return X, y


def test_load_data_synthetic_has_the_training_shape(data):
    X, y = data
    assert X.shape == (64, 784) and X.dtype == np.float32
    assert y.shape == (64,) and y.dtype == np.int64
    assert 0 <= y.min() and y.max() <= 9


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("lib", ["nablanet", "torch", "sklearn"])
def test_each_library_trains_one_epoch(data, lib, optimizer):
    if lib != "nablanet":
        pytest.importorskip(lib)
    X, y = data
    result = common.TRAINERS[lib](X, y, 16, optimizer, 2)
    assert len(result["epoch_seconds"]) == 2
    assert result["samples_per_s"] > 0 and math.isfinite(result["samples_per_s"])
    assert math.isfinite(result["final_loss"])


def test_gemm_ceiling_counts_whole_batches(data):
    X, _ = data
    result = common.gemm_ceiling(X[:40], 16, 1)  # 2 whole batches of 16 rows
    assert result["samples_per_s"] > 0
    with pytest.raises(ValueError, match="at least one batch"):
        common.gemm_ceiling(X[:8], 16, 1)


def test_numpy_forward_is_a_softmax_of_the_logits():
    # One layer, W = 0, b = (0, ln 3): logits (0, ln 3), probabilities (1/4, 3/4).
    W = np.zeros((2, 2), dtype=np.float32)
    b = np.array([0.0, np.log(3.0)], dtype=np.float32)
    out = common.numpy_forward(np.ones((3, 2), dtype=np.float32), [(W, b)])
    np.testing.assert_allclose(out, np.tile([0.25, 0.75], (3, 1)), rtol=1e-6)


def test_hand_written_xor_loop_follows_nablanet_step_for_step():
    from nablanet import SGD, Sequential

    model = Sequential.from_sizes(
        [3, 4, 1], "sigmoid", "sigmoid", loss="sum_squared_error", optimizer=SGD(lr=1.0), seed=3
    )
    params = [p.copy() for layer in model.get_weights() if layer for p in (layer["W"], layer["b"])]
    for _ in range(10):
        nab_loss, _ = model.train_step(common.XOR_X, common.XOR_Y)
    # the hand loop reports the loss of its last step's forward pass, before that update
    hand_loss = common.numpy_xor_steps(params, 10)
    assert hand_loss == pytest.approx(nab_loss, rel=1e-5)
    updated = [p for layer in model.get_weights() if layer for p in (layer["W"], layer["b"])]
    for hand, nab in zip(params, updated, strict=True):  # W1, b1, W2, b2 after 10 updates
        np.testing.assert_allclose(hand, nab, rtol=1e-5, atol=1e-6)


def test_tiny_xor_reports_every_library():
    result = common.tiny_xor(steps=5, repeats=1)
    assert result["nablanet_train_step_us"] > 0
    assert result["nablanet_fit_us"] > 0
    assert result["numpy_us"] > 0
    if "torch_error" not in result:
        assert result["torch_us"] > 0


def test_inference_outputs_agree_with_the_hand_forward():
    result = common.inference(threads=1, repeat=1, min_time=0.0, batches=(1, 3))
    for lib in ("nablanet", "numpy", "torch", "onnxruntime"):
        if lib in result["notes"]:
            continue  # optional library missing
        for n in (1, 3):
            assert result[f"{lib}_{n}_us"] > 0
            assert result[f"{lib}_max_abs_diff_{n}"] < 1e-5


def test_fit_memory_reports_the_data_size():
    result = common.fit_memory(256, 64, synthetic=True)
    assert result["data_mb"] == pytest.approx((256 * 784 * 4 + 256 * 8) / 2**20)
    assert result["maxrss_after_fit_mb"] > 0


def test_profile_lists_the_busiest_functions(data):
    X, y = data
    text = common.profile_nablanet_epoch(X, y, 16, top=5)
    assert "function calls" in text and "tottime" in text


def test_plan_runs_one_configuration_per_child():
    quick = speed.plan(speed.QUICK)
    train = [c for c in quick if c["kind"] == "train"]
    assert len(train) == 6  # 3 libraries x 2 optimizers, batch 128, 1 thread
    assert {c["batch"] for c in train} == {128} and {c["threads"] for c in train} == {1}
    assert [c["kind"] for c in quick[-3:]] == ["tiny", "inference", "memory"]
    full = speed.plan(speed.FULL)
    assert sum(c["kind"] == "train" for c in full) == 36  # 3 x 3 batches x 2 opt x 2 threads


def _train(lib: str, sps: float, key: str = "train", **extra: float) -> dict:
    config = {"kind": "train", "lib": lib, "batch": 128, "optimizer": "sgd", "threads": 1}
    return {"config": config, key: {"samples_per_s": sps, **extra}}


def test_table_ratios_say_how_much_faster_nablanet_is():
    ours = _train("nablanet", 300.0)
    ours["gemm"] = {"samples_per_s": 400.0}
    results = [
        ours,
        _train("torch", 200.0),
        _train("sklearn", 250.0),
        {"config": {"kind": "tiny", "threads": 1},
         "tiny": {"nablanet_train_step_us": 10.0, "nablanet_fit_us": 20.0, "numpy_us": 12.5,
                  "torch_us": 50.0}},
        {"config": {"kind": "memory", "threads": 1},
         "memory": {"maxrss_after_fit_mb": 300.0, "data_mb": 180.0, "fit_overhead_mb": 20.0,
                    "maxrss_start_mb": 40.0}},
    ]  # fmt: skip
    rows = {r["measurement"]: r for r in speed.build_table(results)}
    torch_row = rows["train b128 SGD-mom 1t vs PyTorch eager"]
    assert torch_row["ratio"] == pytest.approx(1.5) and torch_row["met"] is True  # >= 1.4
    sk_row = rows["train b128 SGD-mom 1t vs sklearn MLP"]
    assert sk_row["ratio"] == pytest.approx(1.2) and sk_row["met"] is False  # >= 1.3
    gemm_row = rows["train b128 SGD-mom 1t vs GEMM ceiling (fraction)"]
    assert gemm_row["ratio"] == pytest.approx(0.75) and gemm_row["met"] is False  # >= 0.9
    step = rows["XOR 3-4-1 train_step vs hand NumPy"]
    assert step["ratio"] == pytest.approx(1.25) and step["met"] is True  # time 0.8x NumPy's
    assert rows["XOR 3-4-1 train_step vs PyTorch eager"]["ratio"] == pytest.approx(5.0)
    assert rows["XOR 3-4-1 fit vs hand NumPy"]["met"] is None  # no target for fit
    mem = rows["fit peak RSS vs data size"]
    assert mem["ratio"] == pytest.approx(120.0) and mem["met"] is True  # < 150 MiB over data
    text = speed.format_table(speed.build_table(results))
    assert "| 1.50x |" in text and "**NO**" in text and "+120 MiB" in text


def test_contended_runs_are_flagged():
    ours = _train("nablanet", 300.0, cpu_per_wall=0.5, cpu_samples_per_s=600.0)
    other = _train("torch", 200.0, cpu_per_wall=1.0, cpu_samples_per_s=200.0)
    rows = speed.build_table([ours, other])
    assert "contended: cpu/wall 0.50" in rows[0]["note"]
    assert rows[0]["cpu_ratio"] == pytest.approx(3.0)


def test_two_thread_runs_are_flagged_when_others_used_the_cpus():
    ours = _train("nablanet", 300.0, others_cpus=0.6)
    ours["config"]["threads"] = 2
    ours["threading"] = {"usable_cpus": 2}
    other = _train("torch", 200.0, others_cpus=0.0)
    other["config"]["threads"] = 2
    rows = speed.build_table([ours, other])
    assert "other processes used 0.6 of 2 CPUs" in rows[0]["note"]
    ours["train"]["others_cpus"] = 0.05  # a quiet machine: no warning
    assert "contended" not in speed.build_table([ours, other])[0]["note"]


def test_rounds_merge_into_medians_and_skip_failed_rounds():
    rounds = [
        _train("torch", 200.0),
        _train("torch", 300.0),
        _train("torch", 900.0),
        {"config": _train("torch", 0.0)["config"], "error": "killed"},
    ]
    (merged,) = speed.merge_rounds(rounds)
    assert merged["train"]["samples_per_s"] == 300.0  # median of 200, 300, 900
    assert merged["config"]["batch"] == 128 and isinstance(merged["config"]["batch"], int)
    assert merged["rounds_merged"] == 3 and "error" not in merged


def test_summary_of_rounds_shows_the_lowest_and_highest_ratio():
    results = []
    for k, (ours, theirs) in enumerate([(300.0, 200.0), (300.0, 250.0), (400.0, 200.0)]):
        for run in (_train("nablanet", ours), _train("torch", theirs)):
            run["round"] = k
            results.append(run)
    (row, *_) = speed.summarize(results)
    assert row["ratio"] == pytest.approx(1.5)  # medians: 300 / 200
    assert row["ratio_range"] == pytest.approx([1.2, 2.0])  # 300/250 and 400/200
    assert "1.50x (1.20-2.00)" in speed.format_table([row])


def test_a_child_runs_with_every_thread_pool_capped(tmp_path):
    pytest.importorskip("threadpoolctl")
    config = {"kind": "train", "lib": "nablanet", "batch": 16, "optimizer": "sgd",
              "threads": 1, "n_samples": 48, "epochs": 1, "synthetic": True}  # fmt: skip
    out = tmp_path / "result.json"
    cmd = [sys.executable, str(BENCH / "speed.py"), "--run", json.dumps(config), str(out)]
    subprocess.run(cmd, env=speed.child_env(1), check=True, timeout=300)
    result = json.loads(out.read_text())
    assert result["threading"]["env"] == dict.fromkeys(speed.THREAD_VARS, "1")
    assert all(pool["num_threads"] == 1 for pool in result["threading"]["threadpools"])
    assert result["train"]["samples_per_s"] > 0 and result["gemm"]["samples_per_s"] > 0
    assert result["source"].startswith("synthetic")
    assert result["train"]["others_cpus"] is None or result["train"]["others_cpus"] >= 0


def test_ablation_runs_both_variants_at_toy_size():
    ablation = _load("ablation")
    rows = ablation.run(n_samples=64, n_features=8, batches=(16,), rounds=1)
    assert [(r["optimizer"], r["batch"]) for r in rows] == [("sgd", 16), ("adam", 16)]
    for row in rows:
        assert row["packed"] > 0 and row["per-parameter"] > 0
        assert row["ratio"] == pytest.approx(row["per-parameter"] / row["packed"])


def test_steps_times_every_network_at_toy_repeats():
    times = _load("steps").main("smoke", xor_steps=2, big_steps=1)
    assert set(times) == {"xor", "sgd-momentum", "adam"}
    assert all(t > 0 for t in times.values())
