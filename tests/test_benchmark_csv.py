"""Smoke test of benchmarks/csv_reader.py on a tiny file (no timing is asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "csv_reader.py"


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_csv_reader_benchmark_runs_every_contender(capsys, monkeypatch) -> None:
    spec = importlib.util.spec_from_file_location("nablanet_bench_csv_reader", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    src = str(Path(__file__).resolve().parents[1] / "src")
    monkeypatch.setenv("PYTHONPATH", src)  # the children import this tree's nablanet
    assert module.main(["--rows", "40", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "40 x 21 CSV" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "reader" not in line]
    assert {line.split(" | ")[0][2:] for line in rows} >= {
        "load_csv (numpy)",
        "load_csv (python, exact)",
        "np.loadtxt",
    }
