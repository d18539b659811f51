"""The measurements behind ``benchmarks/speed.py``; each runs inside one child process.

``speed.py`` puts the thread-count variables into the child's environment before this module
(and so NumPy) is imported; :func:`_protocol.limit_threads` then caps every thread pool again
after the libraries have loaded. Every timing goes through :func:`_protocol.interleave` (CPU
time for 1 thread, interleaved rounds, medians). Every function here takes its sizes as
arguments so that the smoke test (``tests/test_benchmark_smoke.py``) can run it on a toy problem.
"""

from __future__ import annotations

import cProfile
import gc
import io
import itertools
import os
import pstats
import resource
import time
import warnings
from collections.abc import Callable
from typing import Any

import _protocol as protocol
import numpy as np

SIZES = (784, 256, 128, 10)  # the 784-256-128-10 ReLU network
LR = {"sgd": 0.01, "adam": 1e-3}
#: The training contenders: nablanet's fit with and without the kernels, the estimator path,
#: PyTorch eager, scikit-learn, and the GEMM-only ceiling.
TRAIN_LIBS = ("fit", "fit-numpy", "partial_fit", "torch", "sklearn", "gemm")
Epoch = Callable[[], Any]


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


# -- training 784-256-128-10: every contender of one (batch, optimizer), one epoch per call ----
def make_nablanet(optimizer: str, sizes: tuple[int, ...] = SIZES) -> Any:
    from nablanet import SGD, Adam, Sequential

    opt = SGD(lr=LR["sgd"], momentum=0.9) if optimizer == "sgd" else Adam(lr=LR["adam"])
    return Sequential.from_sizes(
        list(sizes), "relu", "softmax", loss="categorical_cross_entropy", optimizer=opt,
        seed=0, dtype="float32",
    )  # fmt: skip


def nablanet_fit(X: np.ndarray, y: np.ndarray, batch: int, optimizer: str, fast: bool) -> Epoch:
    """``model.fit(X, y, epochs=1, batch_size=batch)`` per call, with or without the kernels."""
    from nablanet import _fast

    model = make_nablanet(optimizer)
    if fast and not _fast.AVAILABLE:
        raise ImportError("nablanet[fast] needs numba")

    def epoch() -> float:
        with _fast.use_fast(fast):
            history = model.fit(X, y, epochs=1, batch_size=batch, verbose=False)
        return float(history.history["loss"][-1])

    return epoch


def nablanet_partial_fit(
    X: np.ndarray, y: np.ndarray, batch: int, optimizer: str, keep: dict | None = None
) -> Epoch:
    """The estimator path: ``MLPClassifier.partial_fit`` (one epoch per call). ``keep``, if
    given, receives the estimator as ``keep["model"]``."""
    from nablanet.estimators import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=SIZES[1:-1], solver=optimizer, alpha=0.0, batch_size=batch,
        learning_rate_init=LR[optimizer], momentum=0.9, nesterovs_momentum=False,
        random_state=0,
    )  # fmt: skip
    classes = np.arange(SIZES[-1])
    if keep is not None:
        keep["model"] = clf

    def epoch() -> float:
        clf.partial_fit(X, y, classes=classes)
        return float(clf.loss_)

    return epoch


def torch_epochs(
    X: np.ndarray, y: np.ndarray, batch: int, optimizer: str, keep: dict | None = None
) -> Epoch:
    """The idiomatic eager loop: shuffled index batches of pre-made tensors (``keep["model"]``:
    the network)."""
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
    if keep is not None:
        keep["model"] = net
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(0)

    def epoch() -> float:
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
        return total / len(X)

    return epoch


def sklearn_epochs(
    X: np.ndarray, y: np.ndarray, batch: int, optimizer: str, keep: dict | None = None
) -> Epoch:
    """``MLPClassifier(max_iter=1, warm_start=True).fit`` per epoch (alpha=0: no L2;
    ``keep["model"]``: the estimator)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=SIZES[1:-1], activation="relu", solver=optimizer, alpha=0.0,
        batch_size=batch, learning_rate_init=LR[optimizer], momentum=0.9,
        nesterovs_momentum=False, max_iter=1, warm_start=True, shuffle=True, random_state=0,
    )  # fmt: skip
    if keep is not None:
        keep["model"] = clf

    def epoch() -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        return float(clf.loss_)

    return epoch


def gemm_epochs(X: np.ndarray, batch: int) -> Epoch:
    """Only the step's eight matrix products, on preallocated float32 arrays, for an epoch.

    Forward ``x@W1, h1@W2, h2@W3``; backward ``dW = a.T@dz`` for the 3 layers and
    ``dx = dz@W.T`` for the 2 upper ones. Rows come as contiguous slices of ``X``; an epoch
    covers ``(len(X) // batch) * batch`` samples.
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

    return epoch


def train_contenders(
    X: np.ndarray, y: np.ndarray, batch: int, optimizer: str, libs: tuple[str, ...] = TRAIN_LIBS
) -> tuple[dict[str, Epoch], dict[str, int], dict[str, str]]:
    """``(epoch functions, samples per epoch, notes)`` of every contender in ``libs``.

    A contender whose library is missing is left out with a note saying why.
    """
    makers: dict[str, Callable[[], Epoch]] = {
        "fit": lambda: nablanet_fit(X, y, batch, optimizer, fast=True),
        "fit-numpy": lambda: nablanet_fit(X, y, batch, optimizer, fast=False),
        "partial_fit": lambda: nablanet_partial_fit(X, y, batch, optimizer),
        "torch": lambda: torch_epochs(X, y, batch, optimizer),
        "sklearn": lambda: sklearn_epochs(X, y, batch, optimizer),
        "gemm": lambda: gemm_epochs(X, batch),
    }
    epochs, samples, notes = {}, {}, {}
    for name in libs:
        try:
            epochs[name] = makers[name]()
        except ImportError as exc:
            notes[name] = f"skipped: {exc}"
            continue
        samples[name] = (len(X) // batch) * batch if name == "gemm" else len(X)
    return epochs, samples, notes


def train(config: dict[str, Any]) -> dict[str, Any]:
    """Every (batch, optimizer) of ``config``: its contenders timed in interleaved rounds."""
    if config["threads"] > 1:
        return _train_isolated(config)
    X, y, source = load_data(config["n_samples"], synthetic=bool(config.get("synthetic")))
    runs = []
    for batch in config["batches"]:
        for optimizer in config["optimizers"]:
            epochs, samples, notes = train_contenders(
                X, y, batch, optimizer, tuple(config.get("libs", TRAIN_LIBS))
            )
            losses: dict[str, Any] = {}
            timed = {}
            for name, fn in epochs.items():  # the warm-up epoch; a contender that fails is noted
                try:
                    losses[name] = fn()
                except Exception as exc:  # report the others rather than lose the whole run
                    notes[name] = f"failed: {type(exc).__name__}: {exc}"[:200]
                    continue
                timed[name] = _recording(fn, losses, name)
            timing = protocol.interleave(timed, config["rounds"], config["threads"], warmup=0)
            runs.append({"batch": batch, "optimizer": optimizer, "samples": samples,
                         "notes": notes, "final_loss": losses, **timing})  # fmt: skip
            del epochs, timed
            gc.collect()
    return {"source": source, "runs": runs}


def _train_isolated(config: dict[str, Any]) -> dict[str, Any]:
    """:func:`train` with more than one thread: each contender in its own process
    (``_isolated.py`` says why), rounds interleaved across the processes."""
    from _isolated import Workers

    synthetic = bool(config.get("synthetic"))
    _, _, source = load_data(config["n_samples"], synthetic=synthetic)
    libs = tuple(config.get("libs", TRAIN_LIBS))
    runs = []
    with Workers(libs, config["threads"], config["n_samples"], synthetic) as workers:
        for batch in config["batches"]:
            for optimizer in config["optimizers"]:
                timing = workers.time_rounds(batch, optimizer, config["rounds"])
                runs.append({"batch": batch, "optimizer": optimizer, **timing})
    return {"source": source, "runs": runs}


def _recording(fn: Epoch, losses: dict[str, Any], name: str) -> Callable[[], None]:
    def call() -> None:
        losses[name] = fn()

    return call


# -- the compiled kernels' one-time cost ------------------------------------------------------
def compile_cost(batch: int = 128) -> dict[str, Any]:
    """Seconds of the first SGD-momentum and Adam step with the kernels in a fresh process
    (compiling, or loading numba's disk cache), less the same step once warm."""
    from nablanet import _fast

    if not _fast.AVAILABLE:
        return {"error": "numba is not installed"}
    X, y, _ = load_data(2 * batch, synthetic=True)
    out: dict[str, Any] = {"numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR")}
    start = time.perf_counter()
    for optimizer in ("sgd", "adam"):
        make_nablanet(optimizer).fit(X, y, epochs=1, batch_size=batch, verbose=False)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for optimizer in ("sgd", "adam"):
        make_nablanet(optimizer).fit(X, y, epochs=1, batch_size=batch, verbose=False)
    out["first_seconds"] = first
    out["warm_seconds"] = time.perf_counter() - start
    out["one_time_seconds"] = first - out["warm_seconds"]
    return out


# -- the classic perceptron on digits ---------------------------------------------------------
def perceptron(rounds: int, min_time: float) -> dict[str, Any]:
    """``Perceptron().fit(X, y)`` on scikit-learn's digits, nablanet's and scikit-learn's
    estimators with default parameters, interleaved rounds, CPU time per fit."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import Perceptron as SkPerceptron

    X, y = load_digits(return_X_y=True)
    fns: dict[str, Callable[[], Any]] = {"sklearn": lambda: SkPerceptron().fit(X, y)}
    notes = {}
    try:
        from nablanet.estimators import Perceptron

        fns["nablanet"] = lambda: Perceptron().fit(X, y)
    except ImportError as exc:
        notes["nablanet"] = f"skipped: {exc}"
    result = protocol.interleave(fns, rounds, 1, min_time=min_time)
    result["notes"] = notes
    result["accuracy"] = {
        name: float(np.mean(fn().predict(X) == y)) for name, fn in fns.items()
    }  # training accuracy: both must learn the same problem
    return result


def profile_nablanet_epoch(X: np.ndarray, y: np.ndarray, batch: int, top: int = 15) -> str:
    """cProfile of one SGD-momentum ``fit`` epoch (after a warm-up epoch), top lines by tottime."""
    model = make_nablanet("sgd")
    model.fit(X, y, epochs=1, batch_size=batch, verbose=False)
    profiler = cProfile.Profile()
    profiler.runcall(model.fit, X, y, epochs=1, batch_size=batch, verbose=False)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


# -- peak memory of one fit -------------------------------------------------------------------
def fit_memory(n_samples: int, batch: int, synthetic: bool = False) -> dict:
    """ru_maxrss before and after loading the data and after one ``fit`` epoch, in MiB.

    A first ``fit`` on a few synthetic rows loads (or compiles) the kernels beforehand, so that
    their one-time memory counts in the start, not in the fit.
    """
    model = make_nablanet("sgd")
    warm_X, warm_y, _ = load_data(2 * batch, synthetic=True)
    make_nablanet("sgd").fit(warm_X, warm_y, epochs=1, batch_size=batch, verbose=False)
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
    synthetic = bool(config.get("synthetic", False))
    train_libs = tuple(lib for lib in ("torch", "sklearn") if lib in config.get("libs", TRAIN_LIBS))
    whole_libs = {"torch": ("torch",), "sklearn": ("sklearn",)}.get(config.get("lib", ""), ())
    libs = {"train": train_libs, "tiny": ("torch",), "inference": ("torch",),
            "perceptron": ("sklearn",), "whole": whole_libs}.get(kind, ())  # fmt: skip
    out: dict[str, Any] = {"config": config, "threading": protocol.limit_threads(threads, libs)}
    if kind == "train":
        out["train"] = train(config)
    elif kind == "tiny":
        from _small_nets import tiny_xor

        out["tiny"] = tiny_xor(config["steps"], config["rounds"])
    elif kind == "inference":
        from _small_nets import inference

        out["inference"] = inference(threads, config["rounds"], config["min_time"])
    elif kind == "perceptron":
        out["perceptron"] = perceptron(config["rounds"], config["min_time"])
    elif kind == "compile":
        out["compile"] = compile_cost()
    elif kind == "memory":
        out["memory"] = fit_memory(config["n_samples"], config["batch"], synthetic)
    elif kind == "whole":
        from _whole_run import run as whole_run

        out["whole"] = whole_run(config)
    elif kind == "profile":
        X, y, out["source"] = load_data(config["n_samples"], synthetic=synthetic)
        out["profile"] = profile_nablanet_epoch(X, y, config["batch"])
    else:
        raise ValueError(f"unknown benchmark kind {kind!r}")
    return out
