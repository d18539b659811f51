"""Time and peak memory of ``load_csv`` against ``np.loadtxt``, pandas and pyarrow.

    python benchmarks/csv_reader.py                      # 200,000 x 21 (about 38 MB), 3 rounds
    python benchmarks/csv_reader.py --rows 20000 --rounds 1   # a quick look

The file (20 features printed with ``%.6f``, an integer label from 0 to 9, a header row) is
written to a temporary directory. Every measurement runs in a fresh process, one after another:
the process imports NumPy, nablanet and the contender's library, reads a 3-row file of the
same shape (which loads the reader's code and thread pools: pyarrow's first read alone touches
some 36 MB of it), resets its peak resident memory (``5`` to ``/proc/self/clear_refs``), reads the file once, and reports

- wall time and CPU time (``time.process_time``, all threads) of the read;
- the growth of its peak resident memory: ``VmHWM`` after the read minus ``VmRSS`` before it,
  from ``/proc/self/status``, so that import costs do not count.

Rounds interleave the contenders (each round runs every one once, in turn); the table gives
medians. The targets of issue 22 are a wall time within 2x ``np.loadtxt``'s and a growth of at
most 3x the file's size.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CONTENDERS = {
    "load_csv (pyarrow)": "from nablanet.datasets import load_csv; import pyarrow.csv\n"
    "read = lambda p: load_csv(p, engine='pyarrow')",
    "load_csv (numpy)": "from nablanet.datasets import load_csv\n"
    "read = lambda p: load_csv(p, engine='numpy')",
    "load_csv (python, exact)": "from nablanet.datasets import load_csv\n"
    "read = lambda p: load_csv(p, engine='python')",
    "np.loadtxt": "read = lambda p: np.loadtxt(p, delimiter=',', skiprows=1)",
    "pandas.read_csv": "import pandas\nread = lambda p: pandas.read_csv(p)",
    "pyarrow.csv.read_csv": "import pyarrow.csv\nread = lambda p: pyarrow.csv.read_csv(p)",
}

CHILD = """
import json, sys, time
import numpy as np
import nablanet
{setup}

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)

read(sys.argv[2])  # warm-up on a 3-row file: loads the reader's code and thread pools
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets VmHWM to the current VmRSS
before = status("VmRSS")
wall, cpu = time.perf_counter(), time.process_time()
result = read(sys.argv[1])
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({{"wall": wall, "cpu": cpu, "growth": status("VmHWM") - before}}))
"""


def write_file(path: Path, rows: int, seed: int = 0) -> None:
    """``rows`` rows of 20 normal features (``%.6f``) and an integer label, under a header."""
    import numpy as np

    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        f.write(",".join([f"f{j}" for j in range(20)] + ["label"]) + "\n")
        block = 10_000
        for start in range(0, rows, block):
            n = min(block, rows - start)
            data = np.column_stack([rng.normal(size=(n, 20)), rng.integers(0, 10, size=n)])
            np.savetxt(f, data, fmt=["%.6f"] * 20 + ["%d"], delimiter=",")


def measure(name: str, path: Path, small: Path) -> dict[str, float]:
    code = CHILD.format(setup=CONTENDERS[name])
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), str(small)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--skip-exact", action="store_true", help="leave out the field-by-field reader (slow)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write every measurement here")
    args = parser.parse_args(argv)
    missing = [lib for lib in ("pyarrow", "pandas") if importlib.util.find_spec(lib) is None]
    names = [
        n
        for n in CONTENDERS
        if not (args.skip_exact and "exact" in n) and not any(lib in n for lib in missing)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        write_file(path, args.rows)
        small = Path(tmp) / "small.csv"
        write_file(small, 3, seed=1)
        size = path.stat().st_size
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
        loads = []
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                loads.append(os.getloadavg()[0])
                runs[name].append(measure(name, path, small))
    cpu_model = _cpu_model()
    print(f"{args.rows:,} x 21 CSV, {size / 1e6:.1f} MB; {args.rounds} round(s); CPU: {cpu_model}")
    print(f"load average during the runs: {min(loads):.1f} to {max(loads):.1f}")
    base = statistics.median(m["wall"] for m in runs["np.loadtxt"]) if "np.loadtxt" in runs else 0
    print()
    print("| reader | wall (s) | CPU (s) | x np.loadtxt (wall) | peak RSS growth (MB) | x file |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        wall = statistics.median(m["wall"] for m in runs[name])
        cpu = statistics.median(m["cpu"] for m in runs[name])
        growth = statistics.median(m["growth"] for m in runs[name])
        ratio = f"{wall / base:.2f}" if base else "-"
        print(
            f"| {name} | {wall:.2f} | {cpu:.2f} | {ratio} | {growth / 1e6:.0f} "
            f"| {growth / size:.1f} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"size": size, "runs": runs}, indent=1))
    return 0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
