"""Tables of ``speed.py``'s results: every ratio > 1 means nablanet is faster.

A ratio is the median of per-round ratios (the two contenders timed in the same round of
:func:`_protocol.interleave`), shown with the lowest and highest round. Standard library only.
"""

from __future__ import annotations

import statistics
from typing import Any

import _protocol as protocol

START, END = "<!-- speed-table:start -->", "<!-- speed-table:end -->"
#: A multi-threaded ratio reaches docs/benchmarks.md only when its rounds agree: (max - min) / median
#: below this (issue 20: the quick 2-thread rows ranged 0.12x-41x between rounds).
MAX_SPREAD = 0.20
OTHERS = {"torch": "PyTorch eager", "sklearn": "scikit-learn MLP", "gemm": "GEMM ceiling"}
OURS = {"fit": "Sequential.fit", "fit-numpy": "Sequential.fit, NumPy only",
        "partial_fit": "MLPClassifier.partial_fit"}  # fmt: skip


def _row(group: str, name: str, ours: Any, other: Any, unit: str, ratio: Any, **extra: Any) -> dict:
    target = extra.get("target")
    met = None if target is None or ratio is None else ratio["median"] >= target
    return {"group": group, "measurement": name, "nablanet": ours, "other": other, "unit": unit,
            "ratio": ratio, "target": target, "met": met, "note": extra.get("note", "")}  # fmt: skip


def _load_note(timing: dict[str, Any], threads: int, usable: int | None) -> str:
    """A warning when other processes wanted the CPUs this measurement's threads needed."""
    load, others = timing.get("loadavg_before"), timing.get("others_cpus")
    notes = []
    if load is not None:
        notes.append(f"load {load:.1f}")
    if usable and others is not None and others > usable - threads + 0.15:
        notes.append(f"contended: others used {others:.1f} of {usable} CPUs")
    return ", ".join(notes)


def training_targets(batch: int, optimizer: str, threads: int) -> dict[tuple[str, str], float]:
    """Issue 13's targets for one training configuration, keyed (ours, other)."""
    targets = {(o, lib): bound for o in ("fit", "partial_fit")
               for lib, bound in (("torch", 1.5), ("sklearn", 1.4))}  # fmt: skip
    if threads == 1 and batch == 128:
        sgd = optimizer == "sgd"
        targets[("fit", "gemm")] = 0.90 if sgd else 0.85
        targets[("fit-numpy", "gemm")] = 0.75 if sgd else 0.70
    return targets


def _training_rows(result: dict[str, Any]) -> list[dict]:
    rows = []
    threads = result["config"]["threads"]
    usable = result.get("threading", {}).get("usable_cpus")
    for run in result["train"]["runs"]:
        b, opt = run["batch"], run["optimizer"]
        label = f"{threads}t b{b} {'SGD-momentum' if opt == 'sgd' else 'Adam'}"
        per_sample = {
            name: [t / run["samples"][name] for t in times] for name, times in run["times"].items()
        }
        speed = {name: 1 / statistics.median(t) for name, t in per_sample.items()}
        targets = training_targets(b, opt, threads)
        note = _load_note(run, threads, usable)
        for ours in OURS:
            for other in OTHERS:
                if ours not in per_sample or other not in per_sample:
                    continue
                if ours == "fit-numpy" and other == "sklearn":
                    continue
                rows.append(_row(
                    label, f"{OURS[ours]} vs {OTHERS[other]}", speed[ours], speed[other],
                    "samples/s", protocol.ratio(per_sample[other], per_sample[ours]),
                    target=targets.get((ours, other)), note=note,
                ))  # fmt: skip
                rows[-1]["key"] = [threads, b, opt, ours, other]
    return rows


def _timed_rows(group: str, timing: dict[str, Any], pairs: list[tuple], scale: float, unit: str):
    rows = []
    times = timing["times"]
    for ours, other, name, target in pairs:
        if ours not in times or other not in times:
            continue
        rows.append(_row(
            group, name, statistics.median(times[ours]) * scale,
            statistics.median(times[other]) * scale, unit,
            protocol.ratio(times[other], times[ours]), target=target,
            note=_load_note(timing, 1, None),
        ))  # fmt: skip
    return rows


def build_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every comparison of a run's results, as rows (see :func:`format_full`)."""
    rows: list[dict[str, Any]] = []
    compile_runs = {}
    for result in results:
        kind = result["config"]["kind"]
        if "error" in result:
            rows.append(_row(kind, f"{kind}: failed", None, None, "", None,
                             note=result["error"].splitlines()[-1][:120]))  # fmt: skip
        elif kind == "train":
            rows += _training_rows(result)
        elif kind == "perceptron":
            # issue 20's target: 1.2x scikit-learn
            pairs = [("nablanet", "sklearn", "Perceptron().fit(digits) vs scikit-learn", 1.2)]
            rows += _timed_rows("perceptron", result["perceptron"], pairs, 1e3, "ms/fit")
        elif kind == "tiny":
            tiny = result["tiny"]
            pairs = [("nablanet_train_step", "numpy", "XOR 3-4-1 train_step vs hand NumPy", 0.8),
                     ("nablanet_train_step", "torch", "XOR 3-4-1 train_step vs PyTorch", 4.0),
                     ("nablanet_fit", "numpy", "XOR 3-4-1 fit vs hand NumPy", None)]  # fmt: skip
            rows += _timed_rows("tiny", tiny, pairs, 1e6 / tiny["steps"], "us/step")
        elif kind == "inference":
            for n, timing in result["inference"]["batches"].items():
                target = {"1": 0.833, "1000": 0.909}.get(n)
                pairs = [("nablanet", "numpy", f"predict_proba {n} vs hand NumPy", target),
                         ("nablanet", "torch", f"predict_proba {n} vs PyTorch", None),
                         ("nablanet", "onnxruntime", f"predict_proba {n} vs onnxruntime", None)]  # fmt: skip
                rows += _timed_rows("inference", timing, pairs, 1e6, "us/call")
        elif kind == "compile":
            compile_runs[result["config"]["cache"]] = result["compile"]
        elif kind == "memory":
            mem = result["memory"]
            own = mem["fit_overhead_mb"]  # peak during fit less the resident size before it
            row = _row("memory", "fit's peak memory beyond the data (one epoch)",
                       mem["maxrss_after_fit_mb"], mem["data_mb"], "MiB", None,
                       note=f"process peak {mem['maxrss_after_fit_mb']:.0f} MiB with "
                       "the interpreter and libraries")  # fmt: skip
            row.update(ratio={"median": own, "min": own, "max": own}, met=own < 150)
            rows.append(row)
    for cache, run in compile_runs.items():
        seconds = run.get("one_time_seconds")
        rows.append(_row("compile", f"kernels' one-time cost, {cache} disk cache", seconds,
                         None, "s", None, note=run.get("error", "")))  # fmt: skip
    return rows


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "samples/s":
        return f"{value:,.0f}/s"
    if unit in ("us/step", "us/call", "ms/fit"):
        return f"{value:,.2f} {unit.split('/')[0]}"
    if unit == "s":
        return f"{value:.1f} s"
    return f"{value:,.0f} {unit}"


def _fmt_ratio(ratio: dict[str, float] | None, unit: str = "", spread: bool = True) -> str:
    if ratio is None:
        return "n/a"
    if unit == "MiB":
        return f"+{ratio['median']:,.0f} MiB"
    text = f"{ratio['median']:.2f}x"
    return text + (f" ({ratio['min']:.2f}-{ratio['max']:.2f})" if spread else "")


def format_full(rows: list[dict[str, Any]]) -> str:
    """Every row: measurement, nablanet, other, ratio (lowest-highest round), target, met."""
    lines = ["| run | measurement | nablanet | other | ratio (range) | target | met? | note |",
             "|---|---|---:|---:|---:|---|---|---|"]  # fmt: skip
    for r in rows:
        met = "" if r["met"] is None else ("yes" if r["met"] else "**NO**")
        target = "" if r["target"] is None else f">= {r['target']:g}"
        lines.append(
            f"| {r['group']} | {r['measurement']} | {_fmt(r['nablanet'], r['unit'])} | "
            f"{_fmt(r['other'], r['unit'])} | {_fmt_ratio(r['ratio'], r['unit'])} | {target} | "
            f"{met} | {r['note']} |"
        )
    return "\n".join(lines)


def stable(ratio: dict[str, float]) -> bool:
    """True when the per-round ratios spread by less than :data:`MAX_SPREAD` of their median."""
    return (ratio["max"] - ratio["min"]) / ratio["median"] < MAX_SPREAD


def format_readme(payload: dict[str, Any]) -> str:
    """The speed table of docs/benchmarks.md: one line per (threads, batch, optimizer), then the rest."""
    rows = build_rows(payload["results"])
    m, s = payload["machine"], payload["settings"]
    cells: dict[tuple, dict[tuple, Any]] = {}
    for r in rows:
        if "key" in r:
            t, b, opt, ours, other = r["key"]
            cells.setdefault((t, b, opt), {})[(ours, other)] = r
    columns = [("fit", "torch"), ("fit", "sklearn"), ("partial_fit", "torch"),
               ("partial_fit", "sklearn"), ("fit", "gemm"), ("fit-numpy", "gemm")]  # fmt: skip

    def cell(r: dict[str, Any] | None) -> str:
        if r is None or r["ratio"] is None:
            return "n/a"
        if r["key"][0] > 1 and not stable(r["ratio"]):
            return "-"
        text = _fmt_ratio(r["ratio"], spread=False)
        if r["key"][4] == "gemm":  # a share, not a speed-up
            text = f"{r['ratio']['median']:.2f}"
        return text if r["met"] is not False else f"{text} (target {r['target']:g})"

    lines = [
        f"Measured {m.get('date', '')} on {m['cpu']} ({m['usable_cpus']} CPUs), commit "
        f"{m.get('git')}, NumPy {m['versions'].get('numpy')}, numba {m['versions'].get('numba')}, "
        f"torch {m['versions'].get('torch')}, scikit-learn {m['versions'].get('scikit-learn')}; "
        f"`{payload['command']}` ({s['n_samples']:,} samples per epoch, median of "
        f"{s['rounds']} interleaved rounds; 1 thread: CPU time, 2 threads: wall time).",
        "",
        "| threads | batch | optimizer | fit / PyTorch | fit / scikit-learn | partial_fit / "
        "PyTorch | partial_fit / scikit-learn | share of GEMM ceiling | same, NumPy only |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    dropped = 0
    for (t, b, opt), found in sorted(
        cells.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] != "sgd")
    ):
        name = "SGD-momentum" if opt == "sgd" else "Adam"
        shown = [cell(found.get(c)) for c in columns]
        if t > 1 and all(v in ("-", "n/a") for v in shown):
            dropped += 1
            continue
        lines.append(f"| {t} | {b} | {name} | {' | '.join(shown)} |")
    if any(k[0] > 1 for k in cells):
        lines += ["", f"Multi-threaded cells (wall time) are shown only when their per-round "
                  f"ratios spread by less than {MAX_SPREAD:.0%} of the median ('-' otherwise); "
                  f"{dropped} multi-threaded row(s) had no such cell and are left out."]  # fmt: skip
    others = [r for r in rows if "key" not in r]
    if others:
        lines += ["", "| other measurement (1 thread) | nablanet | other | ratio |",
                  "|---|---:|---:|---:|"]  # fmt: skip
        for r in others:
            lines.append(f"| {r['measurement']} | {_fmt(r['nablanet'], r['unit'])} | "
                         f"{_fmt(r['other'], r['unit'])} | "
                         f"{_fmt_ratio(r['ratio'], r['unit'], spread=False)} |")  # fmt: skip
    loads = [r.get("loadavg_before") for r in payload["results"] if r.get("loadavg_before")]
    if loads:
        lines += ["", f"Load average before the children: {min(loads):.1f}-{max(loads):.1f}."]
    return "\n".join(lines)


def replace_between_markers(text: str, table: str, start: str = START, end: str = END) -> str:
    """``text`` with everything between ``start`` and ``end`` (default: :data:`START` and
    :data:`END`) replaced by ``table``."""
    if start not in text or end not in text or text.index(start) > text.index(end):
        raise ValueError(f"the file has no {start} ... {end} markers around its speed table")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{table}\n{end}{tail}"
