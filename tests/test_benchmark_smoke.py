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


speed = _load("speed")  # puts benchmarks/ on sys.path for the modules below
common = _load("_common")
small = _load("_small_nets")
protocol = _load("_protocol")
table = _load("_table")


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
def test_every_training_contender_trains_one_epoch(data, optimizer):
    X, y = data
    epochs, samples, notes = common.train_contenders(X, y, 16, optimizer)
    assert set(epochs) | set(notes) == set(common.TRAIN_LIBS)
    assert {"fit", "fit-numpy", "partial_fit", "gemm"} <= set(epochs)  # nablanet's own
    for name, epoch in epochs.items():
        loss = epoch()
        if name != "gemm":
            assert math.isfinite(loss) and loss > 0, name
        assert samples[name] == 64


def test_gemm_ceiling_counts_whole_batches(data):
    X, y = data
    _, samples, _ = common.train_contenders(X[:40], y[:40], 16, "sgd", ("gemm",))
    assert samples == {"gemm": 32}  # 2 whole batches of 16 rows
    with pytest.raises(ValueError, match="at least one batch"):
        common.gemm_epochs(X[:8], 16)


def test_training_child_times_every_contender_in_rounds(data):
    config = {"n_samples": 48, "synthetic": True, "rounds": 2, "threads": 1, "batches": [16],
              "optimizers": ["sgd"], "libs": ["fit", "fit-numpy", "gemm"]}  # fmt: skip
    (run,) = common.train(config)["runs"]
    assert run["clock"] == "cpu" and run["rounds"] == 2
    assert set(run["times"]) == {"fit", "fit-numpy", "gemm"}
    assert all(len(t) == 2 and min(t) > 0 for t in run["times"].values())
    assert run["final_loss"]["fit"] > 0


def test_numpy_forward_is_a_softmax_of_the_logits():
    # One layer, W = 0, b = (0, ln 3): logits (0, ln 3), probabilities (1/4, 3/4).
    W = np.zeros((2, 2), dtype=np.float32)
    b = np.array([0.0, np.log(3.0)], dtype=np.float32)
    out = small.numpy_forward(np.ones((3, 2), dtype=np.float32), [(W, b)])
    np.testing.assert_allclose(out, np.tile([0.25, 0.75], (3, 1)), rtol=1e-6)


def test_hand_written_xor_loop_follows_nablanet_step_for_step():
    from nablanet import SGD, Sequential

    model = Sequential.from_sizes(
        [3, 4, 1], "sigmoid", "sigmoid", loss="sum_squared_error", optimizer=SGD(lr=1.0), seed=3
    )
    params = [p.copy() for layer in model.get_weights() if layer for p in (layer["W"], layer["b"])]
    for _ in range(10):
        nab_loss, _ = model.train_step(small.XOR_X, small.XOR_Y)
    # the hand loop reports the loss of its last step's forward pass, before that update
    hand_loss = small.numpy_xor_steps(params, 10)
    assert hand_loss == pytest.approx(nab_loss, rel=1e-5)
    updated = [p for layer in model.get_weights() if layer for p in (layer["W"], layer["b"])]
    for hand, nab in zip(params, updated, strict=True):  # W1, b1, W2, b2 after 10 updates
        np.testing.assert_allclose(hand, nab, rtol=1e-5, atol=1e-6)


def test_tiny_xor_reports_every_library():
    result = small.tiny_xor(steps=5, rounds=1)
    expected = {"nablanet_train_step", "nablanet_fit", "numpy"} | (
        set() if "torch" in result["notes"] else {"torch"}
    )
    assert set(result["times"]) == expected
    assert all(t[0] > 0 for t in result["times"].values())


def test_inference_outputs_agree_with_the_hand_forward():
    result = small.inference(threads=1, rounds=1, min_time=0.0, batches=(1, 3))
    for lib in ("nablanet", "numpy", "torch", "onnxruntime"):
        if lib in result["notes"]:
            continue  # optional library missing
        for n in ("1", "3"):
            assert result["batches"][n]["times"][lib][0] > 0
            assert result["batches"][n]["max_abs_diff"][lib] < 1e-5


def test_fit_memory_reports_the_data_size():
    result = common.fit_memory(256, 64, synthetic=True)
    assert result["data_mb"] == pytest.approx((256 * 784 * 4 + 256 * 8) / 2**20)
    assert result["maxrss_after_fit_mb"] > 0


def test_profile_lists_the_busiest_functions(data):
    X, y = data
    text = common.profile_nablanet_epoch(X, y, 16, top=5)
    assert "function calls" in text and "tottime" in text


def test_perceptron_row_times_both_estimators():
    pytest.importorskip("sklearn")
    result = common.perceptron(rounds=1, min_time=0.0)
    assert "sklearn" in result["times"]
    if "nablanet" not in result["notes"]:
        assert result["times"]["nablanet"][0] > 0
        assert result["accuracy"]["nablanet"] > 0.8  # it learned the digits, as sklearn does
    assert result["accuracy"]["sklearn"] > 0.8


# -- the protocol -------------------------------------------------------------------------------
def test_interleave_rotates_the_order_and_times_every_round():
    calls: list[str] = []
    result = protocol.interleave(
        {name: (lambda name=name: calls.append(name)) for name in "abc"}, rounds=3, warmup=1
    )
    assert calls[:3] == ["a", "b", "c"]  # the warm-up
    assert calls[3:] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]  # rotated each round
    assert result["clock"] == "cpu" and all(len(t) == 3 for t in result["times"].values())
    assert protocol.interleave({"a": lambda: None}, 1, threads=2)["clock"] == "wall"
    with pytest.raises(ValueError, match="rounds must be at least 1, got 0"):
        protocol.interleave({"a": lambda: None}, 0)


def test_ratio_is_the_median_of_per_round_ratios():
    # round by round: 2/1, 3/1, 8/2 -> 2, 3, 4; the ratio of medians would be 3/1
    r = protocol.ratio([2.0, 3.0, 8.0], [1.0, 1.0, 2.0])
    assert r == {"median": 3.0, "min": 2.0, "max": 4.0}
    assert protocol.ratio([1.0], [0.0]) is None


def test_calibrate_reaches_the_minimum_time():
    number = protocol.calibrate(lambda: sum(range(1000)), 0.01)
    assert number >= 1 and number & (number - 1) == 0  # a power of two


def test_plan_runs_one_training_child_per_thread_count():
    quick = speed.plan(speed.QUICK)
    train = [c for c in quick if c["kind"] == "train"]
    assert [c["threads"] for c in train] == [1, 2]
    assert train[0]["batches"] == [32, 128, 512] and train[0]["rounds"] >= 5
    kinds = [c["kind"] for c in quick[2:]]
    assert kinds == ["compile", "compile", "perceptron", "tiny", "inference", "memory"]
    assert [c.get("cache") for c in quick[2:4]] == ["cold", "warm"]


# -- the tables -------------------------------------------------------------------------------
def _train_result(threads: int, per_epoch: dict[str, list[float]], samples: int = 100) -> dict:
    run = {"batch": 128, "optimizer": "sgd", "times": per_epoch, "loadavg_before": 0.5,
           "others_cpus": 0.0, "samples": dict.fromkeys(per_epoch, samples)}  # fmt: skip
    return {"config": {"kind": "train", "threads": threads}, "threading": {"usable_cpus": 2},
            "train": {"runs": [run]}}  # fmt: skip


def test_training_rows_say_how_much_faster_nablanet_is():
    result = _train_result(1, {
        "fit": [1.0, 1.0, 1.0], "fit-numpy": [1.2, 1.2, 1.2], "partial_fit": [1.1, 1.1, 1.1],
        "torch": [1.6, 1.4, 1.8], "sklearn": [1.3, 1.3, 1.3], "gemm": [0.92, 0.92, 0.92],
    })  # fmt: skip
    rows = {r["measurement"]: r for r in table.build_rows([result])}
    torch_row = rows["Sequential.fit vs PyTorch eager"]
    assert torch_row["ratio"]["median"] == pytest.approx(1.6)  # per round: 1.6, 1.4, 1.8
    assert (torch_row["ratio"]["min"], torch_row["ratio"]["max"]) == pytest.approx((1.4, 1.8))
    assert torch_row["met"] is True and torch_row["target"] == 1.5
    sk_row = rows["Sequential.fit vs scikit-learn MLP"]
    assert sk_row["ratio"]["median"] == pytest.approx(1.3) and sk_row["met"] is False  # 1.4
    gemm_row = rows["Sequential.fit vs GEMM ceiling"]
    assert gemm_row["ratio"]["median"] == pytest.approx(0.92) and gemm_row["met"] is True
    numpy_gemm = rows["Sequential.fit, NumPy only vs GEMM ceiling"]
    assert numpy_gemm["ratio"]["median"] == pytest.approx(0.92 / 1.2)
    assert numpy_gemm["met"] is True and numpy_gemm["target"] == 0.75
    text = table.format_full(list(rows.values()))
    assert "| 1.60x (1.40-1.80) | >= 1.5 | yes |" in text and "**NO**" in text


def test_samples_per_epoch_enter_the_ratio():
    # the GEMM ceiling covers only whole batches: 50 samples in 0.5 s is as fast as 100 in 1 s
    result = _train_result(1, {"fit": [1.0], "gemm": [0.5]})
    result["train"]["runs"][0]["samples"]["gemm"] = 50
    (row,) = table.build_rows([result])
    assert row["ratio"]["median"] == pytest.approx(1.0)


def test_two_thread_rows_are_flagged_when_others_used_the_cpus():
    result = _train_result(2, {"fit": [1.0], "torch": [2.0]})
    result["train"]["runs"][0]["others_cpus"] = 0.6
    (row,) = table.build_rows([result])
    assert "contended: others used 0.6 of 2 CPUs" in row["note"]


def test_readme_table_is_written_between_the_markers():
    payload = {
        "command": "python benchmarks/speed.py --quick --markdown",
        "machine": {"cpu": "CPU", "usable_cpus": 2, "git": "abc", "versions": {}, "date": "d"},
        "settings": {"n_samples": 100, "rounds": 5},
        "results": [_train_result(1, {"fit": [1.0], "torch": [2.0], "gemm": [0.5]}),
                    {"config": {"kind": "compile", "threads": 1, "cache": "cold"},
                     "compile": {"one_time_seconds": 3.25}}],
    }  # fmt: skip
    short = table.format_readme(payload)
    assert "| 1 | 128 | SGD-momentum | 2.00x | n/a | n/a | n/a | 0.50 (target 0.9) | n/a |" in short
    assert "kernels' one-time cost, cold disk cache | 3.2 s" in short
    readme = f"# Title\n\nbefore\n{table.START}\nold table\n{table.END}\nafter\n"
    new = table.replace_between_markers(readme, short)
    assert new.startswith("# Title\n\nbefore\n") and new.endswith(f"{table.END}\nafter\n")
    assert "old table" not in new and short in new
    with pytest.raises(ValueError, match="no <!-- speed-table:start -->"):
        table.replace_between_markers("no markers here", short)


def test_a_child_runs_with_every_thread_pool_capped(tmp_path):
    pytest.importorskip("threadpoolctl")
    config = {"kind": "train", "threads": 1, "n_samples": 48, "synthetic": True, "rounds": 1,
              "batches": [16], "optimizers": ["sgd"], "libs": ["fit", "gemm"]}  # fmt: skip
    out = tmp_path / "result.json"
    cmd = [sys.executable, str(BENCH / "speed.py"), "--run", json.dumps(config), str(out)]
    subprocess.run(cmd, env=speed.child_env(1), check=True, timeout=300)
    result = json.loads(out.read_text())
    assert result["threading"]["env"] == dict.fromkeys(protocol.THREAD_VARS, "1")
    assert all(pool["num_threads"] == 1 for pool in result["threading"]["threadpools"])
    if result["threading"]["numba_threads"] is not None:
        assert result["threading"]["numba_threads"] == 1
    (run,) = result["train"]["runs"]
    assert run["times"]["fit"][0] > 0 and run["times"]["gemm"][0] > 0
    assert result["train"]["source"].startswith("synthetic")
    assert run["others_cpus"] is None or run["others_cpus"] >= 0


def test_ablation_runs_both_variants_at_toy_size():
    ablation = _load("ablation")
    rows = ablation.run(n_samples=64, n_features=8, batches=(16,), rounds=1)
    assert [(r["optimizer"], r["batch"]) for r in rows] == [("sgd", 16), ("adam", 16)]
    for row in rows:
        assert row["packed"] > 0 and row["per-parameter"] > 0
        assert row["range"][0] <= row["ratio"] <= row["range"][1]


def test_steps_times_every_network_at_toy_repeats():
    times = _load("steps").main("smoke", rounds=1, batch=8, min_time=0.0)
    assert {"xor/numpy", "sgd-momentum/numpy", "adam/numpy", "gemm"} <= set(times)
    assert all(t["median"] > 0 for t in times.values())


def test_memory_row_reports_the_fit_s_own_growth():
    result = {"config": {"kind": "memory", "threads": 1},
              "memory": {"maxrss_after_fit_mb": 300.0, "data_mb": 180.0,
                         "fit_overhead_mb": 20.0}}  # fmt: skip
    (row,) = table.build_rows([result])
    assert row["ratio"]["median"] == 20.0 and row["met"] is True  # < 150 MiB
    assert "process peak 300 MiB" in row["note"]
    assert "+20 MiB" in table.format_full([row])


def test_two_thread_rows_run_each_contender_in_its_own_process():
    config = {"n_samples": 48, "synthetic": True, "rounds": 2, "threads": 2, "batches": [16],
              "optimizers": ["sgd", "adam"], "libs": ["fit", "gemm"]}  # fmt: skip
    result = common.train(config)
    assert [(r["batch"], r["optimizer"]) for r in result["runs"]] == [(16, "sgd"), (16, "adam")]
    for run in result["runs"]:
        assert run["isolated"] is True and run["clock"] == "wall" and run["rounds"] == 2
        assert set(run["times"]) == {"fit", "gemm"}
        assert all(len(t) == 2 and min(t) > 0 for t in run["times"].values())
        assert run["samples"] == {"fit": 48, "gemm": 48} and run["final_loss"]["fit"] > 0
    # the two processes trained their own models: adam's loss is not sgd's
    assert result["runs"][0]["final_loss"]["fit"] != result["runs"][1]["final_loss"]["fit"]


# -- the whole-run mode (speed.py --whole-run) ----------------------------------------------------
whole = _load("_whole_run")


@pytest.mark.parametrize("lib", ["fit", "fit-numpy", "partial_fit", "torch", "sklearn"])
def test_whole_run_child_trains_and_scores_every_library(lib):
    if lib == "torch":
        pytest.importorskip("torch")
    config = {"lib": lib, "optimizer": "adam", "batch": 16, "epochs": 2, "synthetic": True,
              "n_train": 64, "n_test": 32}  # fmt: skip
    result = whole.run(config)
    assert result["source"] == "synthetic" and (result["n_train"], result["n_test"]) == (64, 32)
    assert len(result["epoch_cpu"]) == 2 and min(result["epoch_cpu"]) > 0
    assert 0.0 <= result["accuracy"] <= 1.0 and len(result["loadavg"]) == 2
    # the machine-speed probe: before epoch 1 and after each epoch, over all 4 batches of 16
    assert len(result["probe_cpu"]) == 3 and min(result["probe_cpu"]) > 0
    assert result["probe_samples"] == 64


def test_whole_run_probe_covers_about_4096_rows_in_whole_batches():
    X = np.zeros((5000, 784), dtype=np.float32)
    assert whole.probe_for(X, 128)[1] == 4096  # 32 steps
    assert whole.probe_for(X, 3000)[1] == 3000  # one batch, however large
    assert whole.probe_for(X[:40], 16)[1] == 32  # at most the whole batches of the data
    assert whole.probe_for(X, 600)[1] == 3600  # 6 steps of 600: 4,096 rounded down
    with pytest.raises(ValueError, match="at least one batch"):
        whole.probe_for(X[:8], 16)


def test_whole_run_plan_covers_the_issue_s_runs():
    configs = speed.whole_plan()
    runs = [(c["lib"], c["optimizer"], c["batch"], c["epochs"]) for c in configs]
    assert len(runs) == len(set(runs)) == 2 * 5 + 2 * 4 + 2 * 4  # fit-numpy at batch 128 only
    assert {e for _, _, b, e in runs if b == 128} == {30}
    assert {e for _, _, b, e in runs if b != 128} == {10}
    assert {lib for lib, *_ in runs} == {"fit", "fit-numpy", "partial_fit", "torch", "sklearn"}
    assert "gemm" not in {c["lib"] for c in configs}  # the probe in every child replaced it
    assert [c["batch"] for c in configs[:10]] == [128] * 10  # the headline runs first
    assert all(c["kind"] == "whole" and c["threads"] == 1 and c["round"] == 0 for c in configs)
    firsts = [c["lib"] for c in configs if c["batch"] != 128][::4]
    assert len(set(firsts)) > 1  # the order rotates: no library always runs first
    narrow = speed.whole_plan(epochs=2, batches=[512], optimizers=["sgd"], samples=1024)
    assert [(c["batch"], c["epochs"], c["n_train"]) for c in narrow] == [(512, 2, 1024)] * 4


def _whole_result(lib: str, times: list[float], accuracy: float, batch: int = 128) -> dict:
    config = {"kind": "whole", "threads": 1, "lib": lib, "batch": batch, "optimizer": "adam",
              "epochs": len(times)}  # fmt: skip
    return {"config": config, "whole": {"epoch_cpu": times, "accuracy": accuracy,
            "n_train": 1000, "loadavg": [1.0] * len(times)}}  # fmt: skip


def test_whole_run_table_shows_whole_run_ratios_and_the_slow_down():
    # an older payload (no probes, a separate GEMM-ceiling child), one round:
    # fit: 1, 1, 1, 1.2, 1.2, 1.2 s (6.6 s, 1.10 s an epoch): last 3 / first 3 epochs = 1.2;
    # torch: 12 s in all -> 12 / 6.6 = 1.82x; no probe: the normalised cells are n/a
    results = [
        _whole_result("fit", [1.0, 1.0, 1.0, 1.2, 1.2, 1.2], 0.88),
        _whole_result("torch", [2.0] * 6, 0.87),
        {"config": {"kind": "whole", "threads": 1, "lib": "gemm"},
         "whole": {"gemm": {"128": {"epoch_cpu": [0.5, 0.5], "samples": 1000}}}},
        {"config": {"kind": "whole", "lib": "sklearn", "batch": 128}, "error": "boom"},
    ]  # fmt: skip
    payload = {"command": "python benchmarks/speed.py --whole-run", "results": results,
               "machine": {"date": "d", "cpu": "AMD EPYC", "usable_cpus": 2, "git": "abc"}}  # fmt: skip
    text = whole.format_whole_run(payload)
    assert "on AMD EPYC (2 CPUs)" in text and "`python benchmarks/speed.py --whole-run`" in text
    assert "one round" in text and "(" not in text.split("|---")[1]  # no brackets: one round
    fit_row = next(line for line in text.splitlines() if "Sequential.fit" in line)
    assert "| 6 | 1.10 | 1.20 | n/a | 0.8800 | - | - | n/a |" in fit_row
    torch_row = next(line for line in text.splitlines() if "PyTorch" in line)
    assert "| 6 | 2.00 | 1.00 | n/a | 0.8700 | 1.82x | n/a | n/a |" in torch_row
    assert "scikit-learn" not in text  # the failed run has no row
    assert all(line.count("|") == 12 for line in text.splitlines() if line.startswith("|"))
    summary = whole.summarize(results)
    assert summary["groups"][(128, "adam")]["fit"]["ends"]["median"] == pytest.approx(1.2)


def _probed(lib: str, rnd: int, times: list[float], probes: list[float], accuracy: float) -> dict:
    """A child's result with its probe: ``probes`` CPU seconds over 100 samples, n_train 1000."""
    result = _whole_result(lib, times, accuracy)
    result["config"]["round"] = rnd
    result["whole"].update(probe_cpu=probes, probe_samples=100)
    return result


def test_whole_run_summary_normalises_by_the_probe_and_takes_medians_over_rounds():
    # The probe's seconds per sample times n_train = 1000 give each epoch's matrix-product time
    # g; an epoch's normalised time is epoch / g, with g from the mean of the probes before and
    # after it. Round 0: fit 1 s epochs, probe 0.01 s (g = 0.1): 10 per epoch, 60 in all.
    # torch 2, 2, 2, 2.4, 2.4, 2.4 s while the machine slowed by 20% (probe 0.01 x4, 0.012 x3:
    # g = 0.1, 0.1, 0.1, 0.11, 0.12, 0.12): normalised 20, 20, 20, 21.818, 20, 20 = 121.818.
    #   raw: ends 2.4 / 2 = 1.2, vs fit 13.2 / 6 = 2.2; normalised: ends 1.0, vs fit 2.0303;
    #   GEMM share: fit 0.6 / 6 = 0.1, torch (0.3 + 0.11 + 0.24) / 13.2 = 0.04924.
    # Round 1, the machine 1.5x slower throughout (probe 0.015, g = 0.15): fit 1.5 s epochs
    # (normalised 10 each, 60), torch 3 s (20 each, 120): vs fit 18 / 9 = 2.0 both ways;
    # GEMM share fit 0.9 / 9 = 0.1, torch 0.9 / 18 = 0.05.
    # Medians of the 2 rounds: vs fit raw 2.1 (2.0-2.2), normalised 2.0152 (2.0-2.0303).
    slow = [0.01] * 4 + [0.012] * 3
    results = [
        _probed("torch", 1, [3.0] * 6, [0.015] * 7, 0.87),  # round 1 first: paired by round
        _probed("fit", 0, [1.0] * 6, [0.01] * 7, 0.88),
        _probed("torch", 0, [2.0] * 3 + [2.4] * 3, slow, 0.87),
        _probed("fit", 1, [1.5] * 6, [0.015] * 7, 0.90),
    ]
    groups = whole.summarize(results)["groups"][(128, "adam")]
    fit, torch = groups["fit"], groups["torch"]
    assert fit["rounds"] == torch["rounds"] == 2 and fit["epochs"] == 6
    assert fit["mean"] == pytest.approx({"median": 1.25, "min": 1.0, "max": 1.5, "n": 2})
    assert fit["gemm_share"]["median"] == pytest.approx(0.1)
    assert fit["accuracy"]["median"] == pytest.approx(0.89)
    assert torch["ends"] == pytest.approx({"median": 1.1, "min": 1.0, "max": 1.2, "n": 2})
    assert torch["norm_ends"] == pytest.approx({"median": 1.0, "min": 1.0, "max": 1.0, "n": 2})
    assert torch["vs_fit"] == pytest.approx({"median": 2.1, "min": 2.0, "max": 2.2, "n": 2})
    norm0 = (5 * 20 + 2.4 / 0.11) / 60  # 121.818 / 60 = 2.0303
    assert torch["vs_fit_norm"] == pytest.approx(
        {"median": (norm0 + 2.0) / 2, "min": 2.0, "max": norm0, "n": 2}
    )
    assert torch["gemm_share"]["median"] == pytest.approx((0.65 / 13.2 + 0.05) / 2)
    payload = {"command": "c", "results": results,
               "machine": {"date": "d", "cpu": "CPU", "usable_cpus": 2, "git": "abc"}}  # fmt: skip
    text = whole.format_whole_run(payload)
    assert "median of 2 rounds (lowest-highest)" in text
    torch_row = next(line for line in text.splitlines() if "PyTorch" in line)
    assert ("| 6 | 2.60 (2.20-3.00) | 1.10 (1.00-1.20) | 1.00 (1.00-1.00) | 0.8700 "
            "| 2.10x (2.00-2.20) | 2.02x (2.00-2.03) | 0.05 (0.05-0.05) |") in torch_row  # fmt: skip
    # probe seconds per sample: 1e-4, 1.2e-4, 1.5e-4 -> 100-150 µs
    assert "batch 128: 100.00-150.00 (slowest / fastest 1.50)" in text


def test_whole_run_plan_repeats_in_rounds_with_the_order_rotating():
    configs = speed.whole_plan(epochs=5, batches=[128], rounds=2)
    assert len(configs) == 2 * 10 and {c["epochs"] for c in configs} == {5}
    assert [c["round"] for c in configs] == [0] * 10 + [1] * 10
    runs = [(c["lib"], c["optimizer"], c["round"]) for c in configs]
    assert len(set(runs)) == 20  # every (library, optimizer) once a round
    for optimizer in ("adam", "sgd"):
        orders = [[c["lib"] for c in configs if (c["optimizer"], c["round"]) == (optimizer, r)]
                  for r in (0, 1)]  # fmt: skip
        assert sorted(orders[0]) == sorted(orders[1]) and orders[0][0] != orders[1][0]
    with pytest.raises(ValueError, match="rounds must be at least 1, got 0"):
        speed.whole_plan(rounds=0)


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--epochs", "0"], "--epochs must be at least 1, got 0"),
     (["--batches", "64"], "--batches must be among 32 128 512, got [64]"),
     (["--rounds", "0"], "--rounds must be at least 1, got 0")],
)  # fmt: skip
def test_whole_run_refuses_bad_options_before_running(args, message, capsys, monkeypatch):
    def run_plan(*args, **kwargs):
        raise AssertionError("started the benchmark")

    monkeypatch.setattr(speed, "run_plan", run_plan)
    with pytest.raises(SystemExit):
        speed.main(["--whole-run", *args])
    assert message in capsys.readouterr().err


def test_tiny_synthetic_whole_run_in_two_rounds_gives_normalised_ratios():
    libs = {"fit", "partial_fit", "sklearn"} | (
        {"torch"} if importlib.util.find_spec("torch") else set()
    )
    extra = {"synthetic": True, "n_train": 256, "n_test": 64}
    configs = [c for c in whole.plan(("adam",), ((16, 2),), extra, rounds=2) if c["lib"] in libs]
    results = [{"config": c, "whole": whole.run(c)} for c in configs]
    for r in results:
        assert len(r["whole"]["probe_cpu"]) == 3 and min(r["whole"]["probe_cpu"]) > 0
        assert r["whole"]["probe_samples"] == 256  # 16 batches of 16: all the data
    groups = whole.summarize(results)["groups"][(16, "adam")]
    assert set(groups) == libs
    for lib, row in groups.items():
        assert row["rounds"] == 2 and row["norm_ends"]["n"] == 2
        assert 0 < row["gemm_share"]["min"] <= row["gemm_share"]["max"]
        if lib != "fit":
            assert row["vs_fit_norm"]["n"] == 2 and row["vs_fit_norm"]["min"] > 0
    payload = {"command": "c", "results": results,
               "machine": {"date": "d", "cpu": "CPU", "usable_cpus": 2, "git": "abc"}}  # fmt: skip
    text = whole.format_whole_run(payload)
    assert "| whole run vs nablanet fit | same, normalised | GEMM share |" in text
    rows = [line for line in text.splitlines() if line.startswith("| 16 |")]
    assert len(rows) == len(libs) and all(line.count("(") == 6 for line in rows[1:])
    assert "n/a" not in text and "Machine-speed probe" in text


def test_readme_keeps_only_stable_multi_threaded_cells():
    stable = _train_result(2, {"fit": [1.0, 1.0, 1.0], "torch": [1.5, 1.6, 1.55]})
    unstable = _train_result(2, {"fit": [1.0, 1.0, 1.0], "torch": [0.5, 3.0, 1.5]})
    unstable["train"]["runs"][0]["batch"] = 512
    payload = {"command": "c", "settings": {"n_samples": 100, "rounds": 3},
               "machine": {"cpu": "CPU", "usable_cpus": 2, "git": "abc", "versions": {}},
               "results": [stable, unstable]}  # fmt: skip
    short = table.format_readme(payload)
    assert "| 2 | 128 | SGD-momentum | 1.55x |" in short  # spread 0.1 / 1.55 = 6%
    assert "| 2 | 512 |" not in short  # spread 2.5 / 1.5: the row is left out, and said so
    assert "1 multi-threaded row(s) had no such cell and are left out" in short
