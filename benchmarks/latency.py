"""Inference latency: nablanet's ``predict_proba`` against onnxruntime, side by side (issue 20).

    python benchmarks/latency.py [--rounds 15] [--json benchmarks/results/latency-DATE.json]

The 784-256-128-10 network (ReLU, softmax, float32) of ``speed.py``, exported with nablanet's
own ``to_onnx`` and run by onnxruntime with one intra-op and one inter-op thread (its output
``probabilities`` only). Contenders, all in this one process, 1 thread everywhere:

- ``Sequential``: ``Sequential.predict_proba`` (its fast path, ``nablanet/_inference.py``);
- ``Sequential-checked``: the same call with the fast path switched off (the code before it);
- ``MLPClassifier``: the estimator's ``predict_proba`` (trained one epoch on float32 data, so
  its network is float32), and its ONNX export gives the same graph;
- ``onnxruntime``;
- ``product-numpy`` and ``product-onnxruntime``: the first layer's matrix product alone
  (``X @ W1``, (n, 784) @ (784, 256), about 85% of the network's work at 1,000 rows), by NumPy's
  OpenBLAS and by onnxruntime's MLAS (a one-``MatMul`` graph): what the two libraries' products
  cost without the rest (the ``product`` line of the printout is their ratio);
- with ``--kernel-sweep``, ``Sequential-kernel`` and ``Sequential-blas``: the fast path forced
  through the one-call kernel or through BLAS whatever the number of rows (where
  ``nablanet._inference.KERNEL_ROWS`` should be).

For 1 and 1,000 samples (float32, uniform in [0, 1)), every contender runs in interleaved
rounds (``_protocol.interleave``: CPU time, the order rotating, each call repeated to last
~50 ms a round); a time is the median over the rounds, a ratio the median of the per-round
ratios ``onnxruntime / contender`` (> 1: nablanet is faster) with its range. The load average
before and after goes into the JSON and the printout.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _protocol as protocol  # noqa: E402  (standard library only)

protocol.set_thread_env(1)  # before NumPy loads

import numpy as np  # noqa: E402

SIZES = (784, 256, 128, 10)


def contenders(n: int, kernel_sweep: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """The calls to time on ``n`` samples, and their outputs' largest difference."""
    import onnxruntime as ort

    import nablanet as nn
    import nablanet.model as model_module
    from nablanet import _inference
    from nablanet.estimators import MLPClassifier

    rng = np.random.default_rng(0)
    model = nn.Sequential.from_sizes(
        SIZES, activation="relu", output="softmax", loss="categorical_cross_entropy", seed=0
    )
    X = rng.random((n, SIZES[0]), dtype=np.float32)
    est = MLPClassifier(hidden_layer_sizes=SIZES[1:-1], max_iter=1, random_state=0)
    Xt = rng.random((200, SIZES[0]), dtype=np.float32)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # max_iter=1 does not converge: that is the point
            est.fit(Xt, np.arange(200) % SIZES[-1])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    folder = tempfile.mkdtemp()
    sessions = {}
    for name, source in (("Sequential", model), ("MLPClassifier", est)):
        path = os.path.join(folder, f"{name}.onnx")
        source.to_onnx(path)
        sessions[name] = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    input_name = sessions["Sequential"].get_inputs()[0].name

    def checked() -> Any:
        saved = model_module.fast_predict
        model_module.fast_predict = lambda *args: None
        try:
            return model.predict_proba(X)
        finally:
            model_module.fast_predict = saved

    def ort_run(which: str) -> Any:
        return sessions[which].run(["probabilities"], {input_name: X})[0]

    def rows_limit(limit: int) -> Any:
        def run() -> Any:
            saved, _inference.KERNEL_ROWS = _inference.KERNEL_ROWS, limit
            try:
                return model.predict_proba(X)
            finally:
                _inference.KERNEL_ROWS = saved

        return run

    W1 = model.layers[0].params["W"]
    product = _matmul_session(W1, options)

    fns = {
        "Sequential": lambda: model.predict_proba(X),
        "Sequential-checked": checked,
        "MLPClassifier": lambda: est.predict_proba(X),
        "onnxruntime": lambda: ort_run("Sequential"),
        "product-numpy": lambda: X @ W1,
        "product-onnxruntime": lambda: product.run(None, {"x": X})[0],
    }
    if kernel_sweep:  # the one-call kernel against BLAS, whatever the number of rows
        fns["Sequential-kernel"] = rows_limit(1 << 30)
        fns["Sequential-blas"] = rows_limit(0)
    diffs = {
        "Sequential vs onnxruntime": float(
            np.abs(fns["Sequential"]() - ort_run("Sequential")).max()
        ),
        "Sequential vs checked": float(np.abs(fns["Sequential"]() - checked()).max()),
        "product numpy vs onnxruntime": float(
            np.abs(fns["product-numpy"]() - fns["product-onnxruntime"]()).max()
        ),
        "MLPClassifier vs onnxruntime": float(
            np.abs(est.predict_proba(X) - ort_run("MLPClassifier")).max()
        ),
    }
    return fns, diffs


def _matmul_session(W: np.ndarray, options: Any) -> Any:
    """An onnxruntime session of one ``MatMul`` by the constant ``W`` (input ``x``)."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "product",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, W.shape[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, W.shape[1]])],
        [numpy_helper.from_array(W, "W")],
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return ort.InferenceSession(
        onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 1000])
    parser.add_argument("--min-time", type=float, default=0.05)
    parser.add_argument(
        "--kernel-sweep",
        action="store_true",
        help="also time the one-call kernel and the BLAS path at every size "
        "(e.g. --sizes 1 2 3 4 8: where KERNEL_ROWS should be)",
    )
    today = datetime.date.today().isoformat()
    parser.add_argument("--json", default=str(HERE / "results" / f"latency-{today}.json"))
    args = parser.parse_args(argv)

    import speed

    pools = protocol.limit_threads(1)
    result: dict[str, Any] = {
        "command": "python benchmarks/latency.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": speed.machine_info(),
        "threads": pools,
        "runs": {},
    }
    print(f"# {result['machine']['cpu']}, load {protocol.loadavg()}")
    for n in args.sizes:
        fns, diffs = contenders(n, args.kernel_sweep)
        timing = protocol.interleave(fns, args.rounds, 1, warmup=3, min_time=args.min_time)
        times = timing["times"]
        ort_times = times["onnxruntime"]
        run = {
            "n_samples": n,
            "timing": timing,
            "max_abs_difference": diffs,
            "median_us": {k: protocol.summary(v)["median"] * 1e6 for k, v in times.items()},
            "onnxruntime_over": {
                k: protocol.ratio(ort_times, v)
                for k, v in times.items()
                if not k.startswith(("onnxruntime", "product"))
            },
            # > 1: onnxruntime's product is the slower one
            "product_onnxruntime_over_numpy": protocol.ratio(
                times["product-onnxruntime"], times["product-numpy"]
            ),
        }
        result["runs"][str(n)] = run
        load = f"load {timing['loadavg_before']:.2f} -> {timing['loadavg_after']:.2f}"
        print(f"\n{n} sample(s), {args.rounds} rounds, {timing['clock']} time, {load}")
        for name, us in run["median_us"].items():
            r = run["onnxruntime_over"].get(name)
            spread = "" if r is None else (
                f"  onnxruntime/this {r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f})"
            )  # fmt: skip
            print(f"  {name:<20} {us:10.1f} us{spread}")
        r = run["product_onnxruntime_over_numpy"]
        print(
            f"  product: onnxruntime/numpy {r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f})"
            " (> 1: NumPy's OpenBLAS product is the faster)"
        )
        print(f"  largest differences: {diffs}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))
    print(f"\nwritten {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
