"""The measurements behind ``benchmarks/speed.py``; each runs inside one child process.

``speed.py`` puts the thread-count variables into the child's environment before this module
(and so NumPy) is imported; :func:`limit_threads` then caps every thread pool again after the
libraries have loaded. Every function here takes its sizes as arguments so that the smoke test
(``tests/test_benchmark_smoke.py``) can run it on a toy problem.
"""

from __future__ import annotations

import cProfile
import functools
import gc
import io
import itertools
import os
import pstats
import resource
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

SIZES = (784, 256, 128, 10)  # the 784-256-128-10 ReLU network
LR = {"sgd": 0.01, "adam": 1e-3}
XOR_X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float32)  # seed 003
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
_LIMITERS: list[Any] = []  # keeps threadpoolctl's limits in force for the child's lifetime


# -- environment ------------------------------------------------------------------------------
def limit_threads(n: int, libraries: tuple[str, ...] = ()) -> dict[str, Any]:
    """Import ``libraries`` ("torch", "sklearn"), then cap every thread pool at ``n``."""
    if "sklearn" in libraries:
        import sklearn.neural_network  # noqa: F401  (loads SciPy's BLAS before the limit)
    torch_threads = None
    if "torch" in libraries:
        import torch

        torch.set_num_threads(n)
        torch_threads = torch.get_num_threads()
    from threadpoolctl import threadpool_info, threadpool_limits

    _LIMITERS.append(threadpool_limits(limits=n))
    pools = [
        {k: pool.get(k) for k in ("internal_api", "version", "num_threads")}
        for pool in threadpool_info()
    ]
    env = {
        k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    }
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "threads": n,
        "usable_cpus": usable,
        "env": env,
        "threadpools": pools,
        "torch_threads": torch_threads,
    }


def load_data(
    n_samples: int, seed: int = 0, synthetic: bool = False
) -> tuple[np.ndarray, np.ndarray, str]:
    """``n_samples`` rows of Fashion-MNIST (float32, labels int64), or synthetic data of that shape
    (uniform [0, 1) pixels, 10 random classes) when it is missing or ``synthetic`` is True.

    Returns ``(X of shape (n_samples, 784), y of shape (n_samples,), source)``.
    """
    X: np.ndarray | None = None
    y: np.ndarray | None = None
    source = "synthetic (requested)"
    if not synthetic:
        try:
            from nablanet.datasets import load_fashion_mnist

            X, y, X_test, _ = load_fashion_mnist()
            del X_test
            source = "fashion-mnist"
        except (ImportError, OSError, ValueError) as exc:
            source = f"synthetic ({type(exc).__name__}: {exc})"[:200]
    if X is None or y is None or len(X) < n_samples:
        rng = np.random.default_rng(seed)
        X = rng.random((n_samples, SIZES[0]), dtype=np.float32)
        y = rng.integers(0, SIZES[-1], n_samples)
        source = source if source.startswith("synthetic") else "synthetic (too few samples)"
    if len(X) > n_samples:  # copy, so that the full set's memory is freed
        X, y = X[:n_samples].copy(), y[:n_samples].copy()
    gc.collect()
    return X, y.astype(np.int64, copy=False), source


def maxrss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident set size right now, in MiB (from /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); True if it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


# -- timing -----------------------------------------------------------------------------------
def busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy (or stolen by the hypervisor) since boot."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def time_repeats(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> dict[str, Any]:
    """Wall and process-CPU seconds of each of ``repeats`` calls of ``fn`` after ``warmup`` calls.

    Also ``others_cpus``: how many CPUs other processes (and the hypervisor) kept busy on
    average meanwhile. CPU time well below wall time (one thread), or other processes using
    the CPUs this run's threads needed, mean the numbers are not clean.
    """
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    busy0, cpu0, wall0 = busy_cpu_seconds(), time.process_time(), time.perf_counter()
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    busy1, cpu1, wall1 = busy_cpu_seconds(), time.process_time(), time.perf_counter()
    others = None
    if busy0 is not None and busy1 is not None:
        others = max(0.0, (busy1 - busy0) - (cpu1 - cpu0)) / (wall1 - wall0)
    return {"wall": wall, "cpu": cpu, "others_cpus": others}


def per_call(
    fns: dict[str, Callable[[], Any]], repeat: int, min_time: float = 0.05
) -> dict[str, dict[str, list[float]]]:
    """Wall and CPU seconds per call of each function, timeit-style, interleaved.

    Each function gets a loop count ``number`` such that ``number`` calls last >= ``min_time``;
    then ``repeat`` rounds each time one loop of every function in turn, so that a slow spell of
    the machine hits every contender alike. Returns ``{name: {"wall": [...], "cpu": [...]}}``.
    """
    numbers = {}
    for name, fn in fns.items():
        fn()
        number = 1
        while True:
            start = time.perf_counter()
            for _ in range(number):
                fn()
            if time.perf_counter() - start >= min_time:
                break
            number *= 2
        numbers[name] = number
    out: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            number = numbers[name]
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(number):
                fn()
            out[name]["wall"].append((time.perf_counter() - start) / number)
            out[name]["cpu"].append((time.process_time() - start_cpu) / number)
    return out


def _epochs_result(n_samples: int, times: dict[str, Any], loss: float | None) -> dict:
    """Median samples/s over the timed epochs, plus the raw times and the CPU/wall ratio."""
    wall = times["wall"]
    return {
        "epoch_seconds": wall,
        "epoch_cpu_seconds": times["cpu"],
        "cpu_per_wall": sum(times["cpu"]) / sum(wall),
        "others_cpus": times["others_cpus"],
        "samples_per_s": n_samples / statistics.median(wall),
        "cpu_samples_per_s": n_samples / statistics.median(times["cpu"]),
        "best_samples_per_s": n_samples / min(wall),
        "final_loss": loss,
    }


# -- training: 784-256-128-10 -----------------------------------------------------------------
def make_nablanet(optimizer: str, sizes: tuple[int, ...] = SIZES) -> Any:
    from nablanet import SGD, Adam, Sequential

    opt = SGD(lr=LR["sgd"], momentum=0.9) if optimizer == "sgd" else Adam(lr=LR["adam"])
    return Sequential.from_sizes(
        list(sizes), "relu", "softmax", loss="categorical_cross_entropy", optimizer=opt,
        seed=0, dtype="float32",
    )  # fmt: skip


def train_nablanet(X: np.ndarray, y: np.ndarray, batch: int, optimizer: str, epochs: int) -> dict:
    """``model.fit(X, y, epochs=1, batch_size=batch)`` per timed epoch."""
    model = make_nablanet(optimizer)
    losses: list[float] = []

    def epoch() -> None:
        history = model.fit(X, y, epochs=1, batch_size=batch, verbose=False)
        losses.append(history.history["loss"][-1])

    return _epochs_result(len(X), time_repeats(epoch, epochs), losses[-1])


def train_torch(X: np.ndarray, y: np.ndarray, batch: int, optimizer: str, epochs: int) -> dict:
    """The idiomatic eager loop: shuffled index batches of pre-made tensors."""
    import torch

    torch.manual_seed(0)
    n_in, h1, h2, n_out = SIZES
    net = torch.nn.Sequential(
        torch.nn.Linear(n_in, h1), torch.nn.ReLU(),
        torch.nn.Linear(h1, h2), torch.nn.ReLU(),
        torch.nn.Linear(h2, n_out),
    )  # fmt: skip
    if optimizer == "sgd":
        opt: Any = torch.optim.SGD(net.parameters(), lr=LR["sgd"], momentum=0.9)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=LR["adam"])
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(0)
    losses: list[float] = []

    def epoch() -> None:
        perm = torch.randperm(len(X), generator=gen)
        total = 0.0
        for start in range(0, len(X), batch):
            idx = perm[start : start + batch]
            xb, yb = Xt[idx], yt[idx]
            opt.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(X))

    return _epochs_result(len(X), time_repeats(epoch, epochs), losses[-1])


def train_sklearn(X: np.ndarray, y: np.ndarray, batch: int, optimizer: str, epochs: int) -> dict:
    """``MLPClassifier(max_iter=1, warm_start=True).fit`` per epoch (alpha=0: no L2, as the others)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=SIZES[1:-1], activation="relu", solver=optimizer, alpha=0.0,
        batch_size=batch, learning_rate_init=LR[optimizer], momentum=0.9,
        nesterovs_momentum=False, max_iter=1, warm_start=True, shuffle=True, random_state=0,
    )  # fmt: skip

    def epoch() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)

    times = time_repeats(epoch, epochs)
    return _epochs_result(len(X), times, float(clf.loss_))


TRAINERS = {"nablanet": train_nablanet, "torch": train_torch, "sklearn": train_sklearn}


def gemm_ceiling(X: np.ndarray, batch: int, epochs: int) -> dict:
    """Only the step's eight matrix products, on preallocated float32 arrays, for an epoch.

    Forward ``x@W1, h1@W2, h2@W3``; backward ``dW = a.T@dz`` for the 3 layers and
    ``dx = dz@W.T`` for the 2 upper ones. Rows come as contiguous slices of ``X``.
    """
    rng = np.random.default_rng(0)
    Ws = [
        rng.standard_normal((a, b), dtype=np.float32) * 0.05 for a, b in itertools.pairwise(SIZES)
    ]
    W1, W2, W3 = Ws
    gW1, gW2, gW3 = (np.empty_like(W) for W in Ws)
    h1, h2, z3 = (np.empty((batch, k), dtype=np.float32) for k in SIZES[1:])
    d1, d2, d3 = (rng.standard_normal((batch, k), dtype=np.float32) for k in SIZES[1:])
    steps = len(X) // batch
    if steps == 0:
        raise ValueError(f"need at least one batch of {batch} rows, got {len(X)}")

    def epoch() -> None:
        for s in range(steps):
            xb = X[s * batch : (s + 1) * batch]
            np.matmul(xb, W1, out=h1)  # (b, 784) @ (784, 256)
            np.matmul(h1, W2, out=h2)  # (b, 256) @ (256, 128)
            np.matmul(h2, W3, out=z3)  # (b, 128) @ (128, 10)
            np.matmul(h2.T, d3, out=gW3)  # (128, b) @ (b, 10)
            np.matmul(d3, W3.T, out=d2)  # (b, 10) @ (10, 128)
            np.matmul(h1.T, d2, out=gW2)  # (256, b) @ (b, 128)
            np.matmul(d2, W2.T, out=d1)  # (b, 128) @ (128, 256)
            np.matmul(xb.T, d1, out=gW1)  # (784, b) @ (b, 256)

    return _epochs_result(steps * batch, time_repeats(epoch, epochs), None)


def profile_nablanet_epoch(X: np.ndarray, y: np.ndarray, batch: int, top: int = 15) -> str:
    """cProfile of one SGD-momentum ``fit`` epoch (after a warm-up epoch), top lines by tottime."""
    model = make_nablanet("sgd")
    model.fit(X, y, epochs=1, batch_size=batch, verbose=False)
    profiler = cProfile.Profile()
    profiler.runcall(model.fit, X, y, epochs=1, batch_size=batch, verbose=False)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


# -- the tiny network: seed 003's 3-4-1 sigmoid XOR net, full batch ---------------------------
def numpy_xor_steps(params: list[np.ndarray], steps: int, lr: float = 1.0) -> float:
    """The hand-written loop: forward, backward, update (sum-of-squares loss, mean over rows)."""
    W1, b1, W2, b2 = params
    X, Y = XOR_X, XOR_Y
    n = len(X)
    loss = 0.0
    for _ in range(steps):
        h = 1.0 / (1.0 + np.exp(-(X @ W1 + b1)))  # (4, 4)
        out = 1.0 / (1.0 + np.exp(-(h @ W2 + b2)))  # (4, 1)
        loss = float(np.sum((out - Y) ** 2)) / n
        d2 = (2.0 / n) * (out - Y) * out * (1.0 - out)  # delta of the output layer
        d1 = (d2 @ W2.T) * h * (1.0 - h)  # delta of the hidden layer
        W2 -= lr * (h.T @ d2)
        b2 -= lr * d2.sum(axis=0)
        W1 -= lr * (X.T @ d1)
        b1 -= lr * d1.sum(axis=0)
    return loss


def tiny_xor(steps: int, repeats: int) -> dict:
    """Microseconds per full-batch step; each repeat runs ``steps`` steps."""
    from nablanet import SGD, Sequential

    def model() -> Any:
        return Sequential.from_sizes(
            [3, 4, 1], "sigmoid", "sigmoid", loss="sum_squared_error", optimizer=SGD(lr=1.0),
            seed=0,
        )  # fmt: skip

    stepper = model()
    fitter = model()
    params = [
        p.copy()
        for layer in stepper.get_weights()
        for p in (layer.get("W"), layer.get("b"))
        if p is not None
    ]

    def run_steps() -> None:
        for _ in range(steps):
            stepper.train_step(XOR_X, XOR_Y)

    def run_fit() -> None:
        fitter.fit(XOR_X, XOR_Y, epochs=steps, verbose=False)

    runs = {
        "nablanet_train_step": run_steps,
        "nablanet_fit": run_fit,
        "numpy": lambda: numpy_xor_steps(params, steps),
    }
    result: dict[str, Any] = {}
    try:
        runs["torch"] = _torch_xor(steps)
    except ImportError as exc:
        result["torch_error"] = repr(exc)
    timings = per_call(runs, repeats, min_time=0.0)  # one call = ``steps`` steps
    for name, times in timings.items():
        result[f"{name}_us"] = statistics.median(times["wall"]) / steps * 1e6
        result[f"{name}_cpu_us"] = statistics.median(times["cpu"]) / steps * 1e6
        result[f"{name}_cpu_per_wall"] = sum(times["cpu"]) / sum(times["wall"])
    result["final_loss"] = {
        "nablanet_train_step": float(stepper.train_step(XOR_X, XOR_Y)[0]),
        "numpy": numpy_xor_steps(params, 1),
    }
    return result


def _torch_xor(steps: int) -> Callable[[], None]:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 1), torch.nn.Sigmoid()
    )
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    Xt, Yt = torch.from_numpy(XOR_X), torch.from_numpy(XOR_Y)

    def run() -> None:
        for _ in range(steps):
            opt.zero_grad()
            loss = ((net(Xt) - Yt) ** 2).sum(dim=1).mean()
            loss.backward()
            opt.step()
            loss.item()

    return run


# -- inference through 784-256-128-10 ---------------------------------------------------------
def numpy_forward(X: np.ndarray, weights: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The hand-written forward pass: ReLU hidden layers, then a row-max-shifted softmax."""
    a = X
    for W, b in weights[:-1]:
        a = a @ W  # (n, n_in) @ (n_in, n_out)
        a += b
        np.maximum(a, 0, out=a)
    z = a @ weights[-1][0]
    z += weights[-1][1]
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _onnx_session(weights: list[tuple[np.ndarray, np.ndarray]], threads: int) -> Any:
    """An onnxruntime session for the same network, built inline with ``onnx.helper``."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, prev = [], [], "x"
    for i, (W, b) in enumerate(weights):
        inits += [numpy_helper.from_array(W, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("Gemm", [prev, f"W{i}", f"b{i}"], [f"z{i}"]))
        prev = f"z{i}"
        if i < len(weights) - 1:
            nodes.append(helper.make_node("Relu", [prev], [f"a{i}"]))
            prev = f"a{i}"
    nodes.append(helper.make_node("Softmax", [prev], ["y"], axis=1))
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", SIZES[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", SIZES[-1]])], inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def inference(threads: int, repeat: int, min_time: float, batches: tuple[int, ...] = (1, 1000)):
    """Median seconds per call of each library's forward pass, for each batch size."""
    model = make_nablanet("sgd")
    model.task = "multiclass"
    weights = [(lay["W"], lay["b"]) for lay in model.get_weights() if lay]
    X = np.random.default_rng(1).random((max(batches), SIZES[0]), dtype=np.float32)
    fns: dict[str, Callable[[np.ndarray], Any]] = {
        "nablanet": model.predict_proba,
        "numpy": lambda x: numpy_forward(x, weights),
    }
    notes: dict[str, str] = {}
    try:
        import torch

        net = torch.nn.Sequential(
            torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
            torch.nn.ReLU(), torch.nn.Linear(128, 10), torch.nn.Softmax(dim=1),
        )  # fmt: skip
        with torch.no_grad():
            linears = [m for m in net if isinstance(m, torch.nn.Linear)]
            for layer, (W, b) in zip(linears, weights, strict=True):
                layer.weight.copy_(torch.from_numpy(W.T))
                layer.bias.copy_(torch.from_numpy(b))
        net.eval()
        tensors = {n: torch.from_numpy(X[:n]) for n in batches}
        fns["torch"] = lambda x: net(tensors[len(x)])  # the tensor is made once, outside the loop
    except ImportError as exc:
        notes["torch"] = f"skipped: {exc}"
    try:
        session = _onnx_session(weights, threads)
        fns["onnxruntime"] = lambda x: session.run(None, {"x": x})[0]
    except ImportError as exc:
        notes["onnxruntime"] = f"skipped: {exc}"
    result: dict[str, Any] = {"notes": notes}
    grad_off = _no_grad()
    with grad_off:
        for n in batches:
            x = X[:n]
            reference = numpy_forward(x, weights)
            for name, fn in fns.items():
                out = np.asarray(fn(x))
                result[f"{name}_max_abs_diff_{n}"] = float(np.max(np.abs(out - reference)))
            calls: dict[str, Callable[[], Any]] = {
                name: functools.partial(fn, x) for name, fn in fns.items()
            }
            for name, samples in per_call(calls, repeat, min_time).items():
                result[f"{name}_{n}_us"] = statistics.median(samples["wall"]) * 1e6
                result[f"{name}_{n}_min_us"] = min(samples["wall"]) * 1e6
                result[f"{name}_{n}_cpu_us"] = statistics.median(samples["cpu"]) * 1e6
                result[f"{name}_{n}_cpu_per_wall"] = sum(samples["cpu"]) / sum(samples["wall"])
    return result


def _no_grad() -> Any:
    try:
        import torch
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return torch.no_grad()


# -- peak memory of one fit -------------------------------------------------------------------
def fit_memory(n_samples: int, batch: int, synthetic: bool = False) -> dict:
    """ru_maxrss before and after loading the data and after one ``fit`` epoch, in MiB."""
    model = make_nablanet("sgd")
    start = maxrss_mb()
    X, y, source = load_data(n_samples, synthetic=synthetic)
    after_load_peak, after_load_now = maxrss_mb(), current_rss_mb()
    reset = reset_peak_rss()  # so that the fit's own peak is not hidden by the loader's
    model.fit(X, y, epochs=1, batch_size=batch, verbose=False)
    after_fit = maxrss_mb()
    data_mb = (X.nbytes + y.nbytes) / 2**20
    return {
        "source": source,
        "maxrss_start_mb": start,
        "maxrss_after_load_mb": after_load_peak,
        "rss_after_load_mb": after_load_now,
        "peak_reset": reset,
        "maxrss_after_fit_mb": after_fit,
        "fit_overhead_mb": after_fit - after_load_now,
        "data_mb": data_mb,
    }


# -- one configuration ------------------------------------------------------------------------
def run_config(config: dict[str, Any]) -> dict[str, Any]:
    """Run the measurement described by ``config`` (see ``speed.plan``) and return its results."""
    kind, threads = config["kind"], config["threads"]
    lib = config.get("lib", "nablanet")
    synthetic = bool(config.get("synthetic", False))
    libs = {"train": (lib,), "tiny": ("torch",), "inference": ("torch",)}.get(kind, ())
    out: dict[str, Any] = {"config": config, "threading": limit_threads(threads, libs)}
    if kind == "train":
        X, y, out["source"] = load_data(config["n_samples"], synthetic=synthetic)
        args = (config["batch"], config["optimizer"], config["epochs"])
        out["train"] = TRAINERS[lib](X, y, *args)
        if lib == "nablanet":
            out["gemm"] = gemm_ceiling(X, config["batch"], config["epochs"])
    elif kind == "tiny":
        out["tiny"] = tiny_xor(config["steps"], config["repeats"])
    elif kind == "inference":
        out["inference"] = inference(threads, config["repeat"], config["min_time"])
    elif kind == "memory":
        out["memory"] = fit_memory(config["n_samples"], config["batch"], synthetic)
    elif kind == "profile":
        X, y, out["source"] = load_data(config["n_samples"], synthetic=synthetic)
        out["profile"] = profile_nablanet_epoch(X, y, config["batch"])
    else:
        raise ValueError(f"unknown benchmark kind {kind!r}")
    return out
