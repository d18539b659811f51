"""Speed benchmark: nablanet against PyTorch (CPU, eager), scikit-learn, hand-written NumPy
and onnxruntime, every figure by one protocol (``_protocol.py``).

    python benchmarks/speed.py [--quick] [--json out.json] [--markdown] [--readme [PATH]]
    python benchmarks/speed.py --whole-run [--rounds R] [--json out.json] [--readme [PATH]]

``--whole-run`` is the headline: whole trainings on Fashion-MNIST (30 epochs at batch 128, 10 at
batches 32 and 512; Adam and SGD-momentum; nablanet ``fit`` and ``partial_fit``, PyTorch eager
and scikit-learn), one child process per run and round, per-epoch CPU time, a machine-speed
probe between epochs, and final test accuracy (``_whole_run.py``). The quick synthetic run stays as the smoke test of the protocol.

One child process per kind of measurement and thread count (``python benchmarks/speed.py --run
CONFIG OUT``), strictly one after another, with OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS set in the
child's environment before NumPy, torch or numba load, and threadpoolctl, ``torch.set_num_threads``
and ``numba.set_num_threads`` applied after import. Inside a child the contenders run in
interleaved rounds (CPU time with 1 thread, wall time with 2), and every ratio is the median of
the per-round ratios with its lowest-highest spread. The measurements live in ``_common.py``, the
tables in ``_table.py``.

This module imports only the standard library at the top, so that the child can set its thread
variables before anything loads NumPy.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _protocol as protocol  # noqa: E402  (standard library only)
import _table as table  # noqa: E402  (standard library only)

WHOLE_START, WHOLE_END = "<!-- whole-run-table:start -->", "<!-- whole-run-table:end -->"

FULL = {"n_samples": 60_000, "rounds": 5, "batches": (32, 128, 512), "threads": (1, 2),
        "optimizers": ("sgd", "adam"), "tiny_steps": 1000, "min_time": 0.05}  # fmt: skip
QUICK = {"n_samples": 2_048, "rounds": 5, "batches": (32, 128, 512), "threads": (1, 2),
         "optimizers": ("sgd", "adam"), "tiny_steps": 200, "min_time": 0.02}  # fmt: skip


# -- the plan ---------------------------------------------------------------------------------
def plan(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Every child, in order: one training child per thread count (all batches, optimizers and
    contenders inside, interleaved), then the kernels' compile cost (cold and warm disk cache),
    the Perceptron, the tiny XOR net, inference and the peak memory of one fit."""
    s = settings
    configs: list[dict[str, Any]] = [
        {"kind": "train", "threads": t, "n_samples": s["n_samples"], "rounds": s["rounds"],
         "batches": list(s["batches"]), "optimizers": list(s["optimizers"])}
        for t in s["threads"]
    ]  # fmt: skip
    configs += [
        {"kind": "compile", "threads": 1, "cache": "cold"},
        {"kind": "compile", "threads": 1, "cache": "warm"},
        {"kind": "perceptron", "threads": 1, "rounds": s["rounds"], "min_time": s["min_time"]},
        {"kind": "tiny", "threads": 1, "steps": s["tiny_steps"], "rounds": s["rounds"]},
        {"kind": "inference", "threads": 1, "rounds": s["rounds"], "min_time": s["min_time"]},
        {"kind": "memory", "threads": 1, "n_samples": s["n_samples"], "batch": 128},
    ]
    return configs


def describe(config: dict[str, Any]) -> str:
    if config["kind"] == "whole":
        if config["lib"] == "gemm":  # an older payload's GEMM-ceiling child
            return f"whole run: GEMM ceiling, batches {config['batches']}"
        return (f"whole run: {config['lib']} {config['optimizer']} batch {config['batch']} "
                f"x{config['epochs']} r{config.get('round', 0) + 1}")  # fmt: skip
    extra = f" {config['cache']} cache" if config["kind"] == "compile" else ""
    return f"{config['kind']}{extra} ({config['threads']} thread{'s' * (config['threads'] > 1)})"


# -- parent side ------------------------------------------------------------------------------
def child_env(threads: int, cache_dir: str | None = None) -> dict[str, str]:
    """The parent's environment with every thread-count variable set to ``threads`` (and
    ``NUMBA_CACHE_DIR`` when given)."""
    env = protocol.set_thread_env(threads, dict(os.environ))
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    return env


def _renice(nice: int) -> None:
    """In the child (a new session, so its own scheduler autogroup): change its niceness."""
    os.nice(nice)
    try:  # with autogroup scheduling, niceness only counts against the same session's tasks
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:
        pass


def run_child(
    config: dict[str, Any], nice: int = 0, timeout: float = 3600, cache_dir: str | None = None
) -> dict[str, Any]:
    """Run one configuration in a fresh interpreter and return its results (or its error)."""
    with tempfile.TemporaryDirectory() as tmp:
        out_path = Path(tmp) / "result.json"
        cmd = [sys.executable, str(HERE / "speed.py"), "--run", json.dumps(config), str(out_path)]
        load = protocol.loadavg()
        start = time.perf_counter()
        proc = subprocess.run(
            cmd, env=child_env(config["threads"], cache_dir), capture_output=True, text=True,
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
    protocol.set_thread_env(config["threads"])  # the parent set them; make sure before NumPy
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
    for dist in ("nablanet", "numpy", "numba", "torch", "scikit-learn", "onnx", "onnxruntime",
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
        "usable_cpus": protocol.usable_cpus(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "blas": blas,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }


def run_plan(
    configs: list[dict[str, Any]], nice: int = 0, partial: tuple[str, dict] | None = None
) -> list[dict[str, Any]]:
    """Run every child in turn, printing one progress line each; the two compile children
    share a fresh numba cache directory (cold: empty, so the kernels compile; warm: loaded).
    With ``partial = (path, payload)``, the payload with the results so far is written to
    ``path`` (JSON) after every child."""
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="nablanet-bench-numba-") as cache_dir:
        for i, config in enumerate(configs, 1):
            cache = cache_dir if config["kind"] == "compile" else None
            result = run_child(config, nice, cache_dir=cache)
            results.append(result)
            if partial:
                Path(partial[0]).write_text(json.dumps({**partial[1], "results": results}))
            status = result.get("error", "").splitlines()[-1:] or ["ok"]
            print(f"[{i:>2}/{len(configs)}] {describe(config):<34} "
                  f"{result['wall_seconds']:6.1f} s  load {result['loadavg_before']}  "
                  f"{status[0]}", flush=True)  # fmt: skip
    return results


#: The page whose tables ``--readme`` rewrites by default (between the speed-table and
#: whole-run-table markers); the README links to it.
DOCS_PAGE = str(Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md")


# -- command line -----------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="2,048 samples per epoch: about 2 minutes")  # fmt: skip
    parser.add_argument("--json", metavar="PATH", help="write every result as JSON")
    parser.add_argument("--markdown", action="store_true",
                        help="print docs/benchmarks.md's speed table (Markdown) after the full table")  # fmt: skip
    parser.add_argument("--readme", metavar="PATH", nargs="?", const=DOCS_PAGE,
                        help="replace the table between its markers in PATH (default, with "
                        "--readme alone: docs/benchmarks.md, the docs site's benchmarks page)")  # fmt: skip
    parser.add_argument("--profile", action="store_true",
                        help="only profile one nablanet SGD epoch at batch 128 (cProfile)")  # fmt: skip
    parser.add_argument("--threads", type=int, nargs="+", metavar="N",
                        help="thread counts for training (default: 1 2)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=None, metavar="R",
                        help="interleaved rounds per measurement (default 5; at least 5 "
                        "for a published quick figure); with --whole-run, times the whole plan "
                        "is run, the library order rotating (default 1; 3 rounds of the "
                        "batch-128 plan take about 20 minutes)")  # fmt: skip
    parser.add_argument("--samples", type=int, default=None, metavar="N",
                        help="training samples per epoch (default 60,000; --quick 2,048)")  # fmt: skip
    parser.add_argument("--nice", type=int, default=0, metavar="N",
                        help="run the children at niceness +N (e.g. -10 as root on a busy machine)")  # fmt: skip
    parser.add_argument("--table-from", metavar="PATH",
                        help="print the tables of a JSON file written by --json, and exit")  # fmt: skip
    parser.add_argument("--only", nargs="+", metavar="KIND",
                        choices=("train", "compile", "perceptron", "tiny", "inference", "memory"),
                        help="run only these children of the plan (e.g. --only perceptron)")  # fmt: skip
    parser.add_argument("--whole-run", action="store_true",
                        help="whole Fashion-MNIST trainings, per-epoch CPU time and test "
                        "accuracy (26 children a round, one after another)")  # fmt: skip
    parser.add_argument("--epochs", type=int, metavar="E",
                        help="with --whole-run: epochs of every run (default: 30 at batch 128, "
                        "10 at 32 and 512)")  # fmt: skip
    parser.add_argument("--batches", type=int, nargs="+", metavar="B",
                        help="with --whole-run: only these batch sizes (of 32 128 512)")  # fmt: skip
    parser.add_argument("--optimizers", nargs="+", choices=("adam", "sgd"),
                        help="with --whole-run: only these optimizers")  # fmt: skip
    parser.add_argument("--run", nargs=2, metavar=("CONFIG", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        child_main(*args.run)
        return 0
    if args.table_from:
        payload = json.loads(Path(args.table_from).read_text())
        if payload.get("whole_run"):
            return report_whole_run(payload, args.readme)
        return report(payload, args.markdown, args.readme)
    if args.nice < 0 and hasattr(os, "geteuid") and os.geteuid() != 0:
        parser.error(f"--nice below 0 needs root, got --nice {args.nice}")
    settings = dict(QUICK if args.quick else FULL)
    if args.threads:
        if min(args.threads) < 1:
            parser.error(f"--threads must be positive, got {args.threads}")
        settings["threads"] = tuple(args.threads)
    if args.rounds is not None:
        if args.rounds < 1:
            parser.error(f"--rounds must be at least 1, got {args.rounds}")
        settings["rounds"] = args.rounds
    if args.samples is not None:
        if args.samples < 512:
            parser.error(f"--samples must be at least 512 (one batch of 512), got {args.samples}")
        settings["n_samples"] = args.samples
    if args.whole_run:
        if args.epochs is not None and args.epochs < 1:
            parser.error(f"--epochs must be at least 1, got {args.epochs}")
        if args.batches and not set(args.batches) <= {32, 128, 512}:
            parser.error(f"--batches must be among 32 128 512, got {args.batches}")
        return whole_run(args, argv)
    if args.profile:
        config = {"kind": "profile", "threads": 1, "n_samples": settings["n_samples"], "batch": 128}
        result = run_child(config, args.nice)
        print(result.get("profile") or result.get("error"))
        return 0 if "profile" in result else 1
    machine = machine_info()
    print(f"# {machine['cpu']}, {machine['usable_cpus']} usable CPUs, BLAS {machine['blas']}, "
          f"load {protocol.loadavg()}", flush=True)  # fmt: skip
    configs = [c for c in plan(settings) if not args.only or c["kind"] in args.only]
    results = run_plan(configs, args.nice)
    command = " ".join(["python benchmarks/speed.py", *(sys.argv[1:] if argv is None else argv)])
    machine["git_after"] = machine_info()["git"]  # other work may change the tree meanwhile
    payload = {"command": command, "nice": args.nice, "machine": machine, "settings": settings,
               "results": results}  # fmt: skip
    payload["table"] = table.build_rows(results)
    if args.json:
        Path(args.json).write_text(json.dumps(payload, indent=1))
    return report(payload, args.markdown, args.readme)


def whole_plan(
    epochs: int | None = None,
    batches: list[int] | None = None,
    optimizers: list[str] | None = None,
    samples: int | None = None,
    rounds: int = 1,
) -> list[dict[str, Any]]:
    """The whole-run children (``_whole_run.plan``), narrowed by the command-line options and
    repeated ``rounds`` times."""
    import _whole_run

    runs = tuple((b, epochs or e) for b, e in _whole_run.PLAN if not batches or b in batches)
    extra = {"n_train": samples} if samples else None
    return _whole_run.plan(tuple(optimizers or ("adam", "sgd")), runs, extra, rounds)


def whole_run(args: argparse.Namespace, argv: list[str] | None) -> int:
    """``--whole-run``: run every child in turn, then print (and write) the table."""
    configs = whole_plan(args.epochs, args.batches, args.optimizers, args.samples, args.rounds or 1)
    machine = machine_info()
    print(f"# {machine['cpu']}, {machine['usable_cpus']} usable CPUs, BLAS {machine['blas']}, "
          f"load {protocol.loadavg()}; {len(configs)} runs", flush=True)  # fmt: skip
    command = " ".join(["python benchmarks/speed.py", *(sys.argv[1:] if argv is None else argv)])
    base = {"command": command, "nice": args.nice, "machine": machine, "whole_run": True}
    # a long run: what is done so far stays in <json>.partial if it is stopped (--table-from)
    partial = (f"{args.json}.partial", base) if args.json else None
    results = run_plan(configs, args.nice, partial)
    machine["git_after"] = machine_info()["git"]
    payload = {"command": command, "nice": args.nice, "machine": machine, "whole_run": True,
               "results": results}  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(payload, indent=1))
        Path(f"{args.json}.partial").unlink(missing_ok=True)
    return report_whole_run(payload, args.readme)


def report_whole_run(payload: dict[str, Any], readme: str | None) -> int:
    """Print the whole-run table; write it between the whole-run markers of ``readme``."""
    import _whole_run

    text = _whole_run.format_whole_run(payload)
    print()
    print(text)
    failed = [r for r in payload["results"] if "error" in r]
    for r in failed:
        print(f"failed: {describe(r['config'])}: {r['error'].splitlines()[-1:]}")
    if readme:
        path = Path(readme)
        path.write_text(table.replace_between_markers(path.read_text(), text,
                                                      WHOLE_START, WHOLE_END))  # fmt: skip
        print(f"\nwrote the whole-run table into {path}")
    return 1 if failed else 0


def report(payload: dict[str, Any], markdown: bool, readme: str | None) -> int:
    """Print the full table (and the docs page's table); write it into ``readme`` if given."""
    rows = table.build_rows(payload["results"])
    print()
    print(table.format_full(rows))
    short = table.format_readme(payload)
    if markdown:
        print()
        print(short)
    if readme:
        path = Path(readme)
        path.write_text(table.replace_between_markers(path.read_text(), short))
        print(f"\nwrote the speed table into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
