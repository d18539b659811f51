"""Speed benchmark: nablanet against PyTorch (CPU, eager), scikit-learn, hand-written NumPy
and onnxruntime.

    python benchmarks/speed.py [--quick] [--json out.json] [--profile]

Every configuration runs in its own child process (``python benchmarks/speed.py --run CONFIG``),
strictly one after another, with OMP/OPENBLAS/MKL_NUM_THREADS set in the child's environment
before NumPy or torch load, and threadpoolctl / ``torch.set_num_threads`` applied after import.
The measurements themselves live in ``_common.py``; this file plans the runs, starts the
children and prints one table of ratios (nablanet / other, > 1 means nablanet is faster).

This module imports only the standard library at the top, so that the child can set its thread
variables before anything loads NumPy.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
LIBS = ("nablanet", "torch", "sklearn")
OTHER_NAMES = {"torch": "PyTorch eager", "sklearn": "sklearn MLP", "numpy": "hand NumPy",
               "onnxruntime": "onnxruntime"}  # fmt: skip

FULL = {"n_samples": 60_000, "epochs": 5, "batches": (32, 128, 512), "threads": (1, 2),
        "tiny_steps": 1000, "tiny_repeats": 15, "repeat": 15, "min_time": 0.05}  # fmt: skip
QUICK = {"n_samples": 10_000, "epochs": 2, "batches": (128,), "threads": (1,),
         "tiny_steps": 1000, "tiny_repeats": 3, "repeat": 5, "min_time": 0.02}  # fmt: skip


# -- the plan ---------------------------------------------------------------------------------
def plan(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Every configuration, one child each: training (per library, batch, optimizer, threads),
    the tiny XOR net, inference and the peak memory of one fit."""
    s = settings
    configs: list[dict[str, Any]] = []
    for threads in s["threads"]:
        for batch in s["batches"]:
            for optimizer in ("sgd", "adam"):
                for lib in LIBS:
                    configs.append({"kind": "train", "lib": lib, "batch": batch,
                                    "optimizer": optimizer, "threads": threads,
                                    "n_samples": s["n_samples"], "epochs": s["epochs"]})  # fmt: skip
    configs.append({"kind": "tiny", "threads": 1, "steps": s["tiny_steps"],
                    "repeats": s["tiny_repeats"]})  # fmt: skip
    configs.append({"kind": "inference", "threads": 1, "repeat": s["repeat"],
                    "min_time": s["min_time"]})  # fmt: skip
    configs.append({"kind": "memory", "threads": 1, "n_samples": s["n_samples"], "batch": 128})
    return configs


def describe(config: dict[str, Any]) -> str:
    if config["kind"] == "train":
        c = config
        return f"train {c['lib']:<8} batch {c['batch']:<3} {c['optimizer']:<4} {c['threads']}t"
    return f"{config['kind']} ({config['threads']} thread)"


# -- parent side ------------------------------------------------------------------------------
def child_env(threads: int) -> dict[str, str]:
    """The parent's environment with every thread-count variable set to ``threads``."""
    env = dict(os.environ)
    env.update({var: str(threads) for var in THREAD_VARS})
    return env


def _renice(nice: int) -> None:
    """In the child (a new session, so its own scheduler autogroup): change its niceness."""
    os.nice(nice)
    try:  # with autogroup scheduling, niceness only counts against the same session's tasks
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:
        pass


def run_child(config: dict[str, Any], nice: int = 0, timeout: float = 3600) -> dict[str, Any]:
    """Run one configuration in a fresh interpreter and return its results (or its error).

    ``nice`` is added to the child's niceness (negative, as root: priority over other work).
    """
    with tempfile.TemporaryDirectory() as tmp:
        out_path = Path(tmp) / "result.json"
        cmd = [sys.executable, str(HERE / "speed.py"), "--run", json.dumps(config), str(out_path)]
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        start = time.perf_counter()
        proc = subprocess.run(
            cmd, env=child_env(config["threads"]), capture_output=True, text=True,
            timeout=timeout, check=False, start_new_session=bool(nice),
            preexec_fn=(lambda: _renice(nice)) if nice else None,
        )  # fmt: skip
        wall = time.perf_counter() - start
        if proc.returncode != 0 or not out_path.exists():
            tail = (proc.stderr or "").strip().splitlines()[-5:]
            return {"config": config, "error": "\n".join(tail) or f"exit {proc.returncode}",
                    "wall_seconds": wall, "loadavg_before": load}  # fmt: skip
        result: dict[str, Any] = json.loads(out_path.read_text())
    result["wall_seconds"] = wall
    result["loadavg_before"] = load
    return result


def child_main(config_json: str, out_path: str) -> None:
    """Entry point of a child: thread variables first, then NumPy and the measurement."""
    config = json.loads(config_json)
    for var in THREAD_VARS:  # the parent set them already; make sure before NumPy loads
        os.environ[var] = str(config["threads"])
    sys.path.insert(0, str(HERE))
    import _common

    result = _common.run_config(config)
    Path(out_path).write_text(json.dumps(result))


def machine_info() -> dict[str, Any]:
    """CPU model, core counts, library versions and NumPy's BLAS."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for dist in ("nablanet", "numpy", "torch", "scikit-learn", "onnx", "onnxruntime",
                 "threadpoolctl"):  # fmt: skip
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    blas = None
    try:
        import numpy

        info = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{info.get('name')} {info.get('version')}"
    except Exception:  # BLAS details are a nicety; never fail the benchmark over them
        pass
    try:
        commit = subprocess.run(
            ["git", "-C", str(HERE), "describe", "--always", "--dirty"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "cpu": cpu,
        "git": commit,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "blas": blas,
    }


# -- several rounds ---------------------------------------------------------------------------
def merge_rounds(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One result per configuration: every number is the median over the rounds that ran it
    without error (lists and strings come from the first such round)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        groups.setdefault(json.dumps(result["config"], sort_keys=True), []).append(result)
    merged = []
    for group in groups.values():
        ok = [r for r in group if "error" not in r] or group
        result = _median_merge(ok)
        result["config"] = ok[0]["config"]  # not medians: 128 must stay an int
        result["rounds_merged"] = len(ok)
        merged.append(result)
    return merged


def _median_merge(items: list[Any]) -> Any:
    first = items[0]
    if isinstance(first, dict):
        return {
            key: _median_merge([i[key] for i in items if isinstance(i, dict) and key in i])
            for key in first
        }
    numbers = [i for i in items if isinstance(i, (int, float)) and not isinstance(i, bool)]
    if numbers and len(numbers) == len(items):
        return statistics.median(numbers)
    return first


# -- the table --------------------------------------------------------------------------------
def _index(results: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """Results keyed ("train", lib, batch, optimizer, threads), or (kind,) for the others."""
    index: dict[tuple, dict[str, Any]] = {}
    for r in results:
        c = r["config"]
        if c["kind"] == "train":
            index[("train", c["lib"], c["batch"], c["optimizer"], c["threads"])] = r
        else:
            index[(c["kind"],)] = r
    return index


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _meets(ratio: float | None, target: tuple[str, float] | None) -> bool | None:
    if ratio is None or target is None:
        return None
    op, bound = target
    return ratio >= bound if op == ">=" else ratio > bound


def _row(
    name: str,
    unit: str,
    wall: tuple[float | None, float | None],
    cpu: tuple[float | None, float | None] = (None, None),
    shares: tuple[float | None, ...] = (),
    target: tuple[str, float] | None = None,
    note: str = "",
) -> dict[str, Any]:
    """One comparison of nablanet (first) with another run (second).

    ``wall``/``cpu`` hold (nablanet, other) as throughputs (samples/s: the ratio is
    nablanet / other) or as times (us: the ratio is other / nablanet), so a ratio > 1 always
    means nablanet is faster. ``shares`` are the runs' CPU/wall ratios: below 0.9 (one thread)
    another process took the CPU, and the CPU-time ratio is the one to trust.
    """
    faster = (lambda a, b: _div(a, b)) if unit == "samples/s" else (lambda a, b: _div(b, a))
    ratio, cpu_ratio = faster(*wall), faster(*cpu)
    known = [x for x in shares if x is not None]
    if known and min(known) < 0.9:
        note = "; ".join(filter(None, [note, f"contended: cpu/wall {min(known):.2f}"]))
    return {
        "measurement": name,
        "unit": unit,
        "nablanet": wall[0],
        "other": wall[1],
        "ratio": ratio,
        "cpu_ratio": cpu_ratio,
        "target": None if target is None else f"{target[0]} {target[1]:g}",
        "met": _meets(ratio, target),
        "met_cpu": _meets(cpu_ratio, target),
        "note": note,
    }


def training_targets(batch: int, optimizer: str, threads: int) -> dict[str, tuple[str, float]]:
    """The targets that apply to one training configuration, keyed by the comparison."""
    targets: dict[str, tuple[str, float]] = {}
    if threads == 1 and batch == 128:
        targets["torch"] = (">=", 1.4)
        targets["sklearn"] = (">=", 1.3)
        targets["gemm"] = (">=", 0.90 if optimizer == "sgd" else 0.80)
    elif threads == 1 and batch == 32:
        targets["torch"] = (">=", 1.3)
    elif threads == 2 and batch == 128:
        targets["torch"] = (">", 1.0)
    return targets


def _training_rows(idx: dict[tuple, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    train = {(k[4], k[2], k[3]) for k in idx if k[0] == "train"}
    for threads, batch, opt in sorted(train, key=lambda t: (t[0], t[1], t[2] != "sgd")):
        label = f"train b{batch} {'SGD-mom' if opt == 'sgd' else 'Adam'} {threads}t"
        ours_run = idx.get(("train", "nablanet", batch, opt, threads), {})
        ours = ours_run.get("train", {})
        targets = training_targets(batch, opt, threads)
        for lib in ("torch", "sklearn", "gemm"):
            if lib == "gemm":
                other, name = ours_run.get("gemm", {}), "GEMM ceiling (fraction)"
            else:
                other = idx.get(("train", lib, batch, opt, threads), {}).get("train", {})
                name = OTHER_NAMES[lib]
            one = threads == 1  # CPU time measures work, not speed, with more threads
            rows.append(_row(
                f"{label} vs {name}", "samples/s",
                (ours.get("samples_per_s"), other.get("samples_per_s")),
                (ours.get("cpu_samples_per_s"), other.get("cpu_samples_per_s")) if one else (None, None),
                (ours.get("cpu_per_wall"), other.get("cpu_per_wall")) if one else (),
                targets.get(lib), _crowded(threads, ours_run, ours, other),
            ))  # fmt: skip
    return rows


def _crowded(threads: int, run: dict[str, Any], *timings: dict[str, Any]) -> str:
    """A warning when other processes used CPUs that this run's threads needed."""
    usable = run.get("threading", {}).get("usable_cpus")
    others = [t["others_cpus"] for t in timings if t.get("others_cpus") is not None]
    if usable is None or not others or max(others) <= usable - threads + 0.15:
        return ""
    return f"contended: other processes used {max(others):.1f} of {usable} CPUs"


def _tiny_rows(tiny: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    targets = {"numpy": ((">=", 0.8), "time <= 1.25x NumPy"), "torch": ((">=", 4.0), "")}
    for ours, label in (("nablanet_train_step", "train_step"), ("nablanet_fit", "fit")):
        for other in ("numpy", "torch"):
            target, note = targets[other] if ours == "nablanet_train_step" else (None, "")
            rows.append(_row(
                f"XOR 3-4-1 {label} vs {OTHER_NAMES[other]}", "us/step",
                (tiny.get(f"{ours}_us"), tiny.get(f"{other}_us")),
                (tiny.get(f"{ours}_cpu_us"), tiny.get(f"{other}_cpu_us")),
                (tiny.get(f"{ours}_cpu_per_wall"), tiny.get(f"{other}_cpu_per_wall")),
                target, note,
            ))  # fmt: skip
    return rows


def _inference_rows(inf: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    targets: dict[tuple[int, str], tuple[tuple[str, float], str]] = {
        (1, "numpy"): ((">=", 0.833), "time <= 1.2x NumPy"),
        (1, "torch"): ((">", 1.0), ""),
        (1000, "numpy"): ((">=", 0.909), "time <= 1.1x NumPy"),
    }
    for n in (1, 1000):
        for other in ("numpy", "torch", "onnxruntime"):
            target, note = targets.get((n, other), (None, inf["notes"].get(other, "")))
            rows.append(_row(
                f"predict_proba {n} vs {OTHER_NAMES[other]}", "us/call",
                (inf.get(f"nablanet_{n}_us"), inf.get(f"{other}_{n}_us")),
                (inf.get(f"nablanet_{n}_cpu_us"), inf.get(f"{other}_{n}_cpu_us")),
                (inf.get(f"nablanet_{n}_cpu_per_wall"), inf.get(f"{other}_{n}_cpu_per_wall")),
                target, note,
            ))  # fmt: skip
    return rows


def build_table(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of ratios nablanet / other (> 1: nablanet is faster) from the children's results."""
    idx = _index(results)
    rows = _training_rows(idx)
    if "tiny" in idx.get(("tiny",), {}):
        rows += _tiny_rows(idx[("tiny",)]["tiny"])
    if "inference" in idx.get(("inference",), {}):
        rows += _inference_rows(idx[("inference",)]["inference"])
    mem = idx.get(("memory",), {}).get("memory")
    if mem:
        peak, data = mem["maxrss_after_fit_mb"], mem["data_mb"]
        note = (f"fit's own overhead {mem['fit_overhead_mb']:.0f} MiB; peak includes the "
                f"interpreter and libraries ({mem['maxrss_start_mb']:.0f} MiB)")  # fmt: skip
        row = _row("fit peak RSS vs data size", "MiB", (peak, data), note=note)
        row.update(ratio=peak - data, target="< 150 MiB over data", met=peak - data < 150)
        rows.append(row)
    return rows


def summarize(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table of the rounds' medians; with several rounds each row also gets
    ``ratio_range``, the lowest and highest ratio of any single round."""
    rows = build_table(merge_rounds(results))
    rounds = sorted({r.get("round", 0) for r in results})
    if len(rounds) > 1:
        per_round = [
            {row["measurement"]: row["ratio"] for row in
             build_table([r for r in results if r.get("round", 0) == k])}
            for k in rounds
        ]  # fmt: skip
        for row in rows:
            found = [p.get(row["measurement"]) for p in per_round]
            values = [v for v in found if v is not None]
            if len(values) > 1:
                row["ratio_range"] = [min(values), max(values)]
    return rows


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "samples/s":
        return f"{value:,.0f}/s"
    if unit in ("us/step", "us/call"):
        return f"{value:,.1f} us"
    return f"{value:,.0f} MiB"


def _fmt_ratio(row: dict[str, Any], key: str) -> str:
    value = row[key]
    if value is None:
        return "n/a" if key == "ratio" else ""
    if row["unit"] == "MiB":
        return f"+{value:,.0f} MiB"
    spread = row.get("ratio_range") if key == "ratio" else None
    return f"{value:.2f}x" + (f" ({spread[0]:.2f}-{spread[1]:.2f})" if spread else "")


def format_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table: measurement, nablanet, other, ratio (wall; lowest-highest round),
    ratio (CPU time), target, met?, note."""
    lines = [
        "| measurement | nablanet | other | ratio | CPU-time ratio | target | met? | note |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        met = "" if r["met"] is None else ("yes" if r["met"] else "**NO**")
        if r.get("met_cpu") is not None and r["met_cpu"] != r["met"]:
            met += f" (CPU time: {'yes' if r['met_cpu'] else 'no'})"
        lines.append(
            f"| {r['measurement']} | {_fmt(r['nablanet'], r['unit'])} | "
            f"{_fmt(r['other'], r['unit'])} | {_fmt_ratio(r, 'ratio')} | "
            f"{_fmt_ratio(r, 'cpu_ratio')} | {r['target'] or ''} | {met} | {r['note']} |"
        )
    return "\n".join(lines)


# -- command line -----------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k samples, batch 128, 1 thread")
    parser.add_argument("--json", metavar="PATH", help="write every result as JSON")
    parser.add_argument("--profile", action="store_true",
                        help="only profile one nablanet SGD epoch at batch 128 (cProfile)")  # fmt: skip
    parser.add_argument("--threads", type=int, nargs="+", metavar="N",
                        help="thread counts for training (default: 1 2; --quick: 1)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1, metavar="R",
                        help="run every configuration R times, round-robin; report medians")  # fmt: skip
    parser.add_argument("--nice", type=int, default=0, metavar="N",
                        help="run the children at niceness +N (e.g. -10 as root on a busy machine)")  # fmt: skip
    parser.add_argument("--table-from", metavar="PATH",
                        help="print the table of a JSON file written by --json, and exit")  # fmt: skip
    parser.add_argument("--run", nargs=2, metavar=("CONFIG", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        child_main(*args.run)
        return 0
    if args.table_from:
        print(format_table(summarize(json.loads(Path(args.table_from).read_text())["results"])))
        return 0
    if args.nice < 0 and hasattr(os, "geteuid") and os.geteuid() != 0:
        parser.error(f"--nice below 0 needs root, got --nice {args.nice}")
    settings = dict(QUICK if args.quick else FULL)
    if args.threads:
        if min(args.threads) < 1:
            parser.error(f"--threads must be positive, got {args.threads}")
        settings["threads"] = tuple(args.threads)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    if args.profile:
        config = {"kind": "profile", "threads": 1, "n_samples": settings["n_samples"], "batch": 128}
        result = run_child(config, args.nice)
        print(result.get("profile") or result.get("error"))
        return 0 if "profile" in result else 1
    configs = plan(settings) * args.rounds  # round-robin: a slow spell hits every library
    machine = machine_info()
    print(f"# {machine['cpu']}, {machine['usable_cpus']} usable CPUs, BLAS {machine['blas']}")
    results = []
    for i, config in enumerate(configs, 1):
        result = run_child(config, args.nice)
        result["round"] = (i - 1) // (len(configs) // args.rounds)
        results.append(result)
        status = result.get("error", "").splitlines()[-1:] or ["ok"]
        print(f"[{i:>2}/{len(configs)}] {describe(config):<40} {result['wall_seconds']:6.1f} s  "
              f"{status[0]}", flush=True)  # fmt: skip
    rows = summarize(results)
    print()
    print(format_table(rows))
    if args.json:
        command = " ".join(
            ["python benchmarks/speed.py", *(sys.argv[1:] if argv is None else argv)]
        )
        machine["git_after"] = machine_info()["git"]  # other work may change the tree meanwhile
        payload = {"command": command, "nice": args.nice, "machine": machine, "settings": settings,
                   "rounds": args.rounds, "results": results, "table": rows}  # fmt: skip
        Path(args.json).write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
