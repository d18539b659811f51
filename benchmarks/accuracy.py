"""Accuracy benchmark: nablanet's recipes on real data, beside scikit-learn and PyTorch.

    python benchmarks/accuracy.py [--quick] [--seeds 0 1 2] [--threads 2] [--json PATH]
                                  [--only fashion|digits ...]

Every model trains once per seed on the training set and is scored once on the held-out test set;
the table gives the median test accuracy over the seeds, each seed's accuracy and the median
training time: wall-clock seconds of ``fit`` alone (not loading or scoring), and the CPU seconds
of all the process's threads in that time (about threads x wall when the cores were free).

- Fashion-MNIST: the official 60,000 / 10,000 split. The recipe (``FASHION``) was chosen on a
  validation split of the training set (the last 10,000 training images); the test set was not
  used to choose anything. Beside it: the same network, optimizer, schedule and epochs in PyTorch;
  scikit-learn's MLPClassifier with the same hidden layers, batch size and number of epochs, and
  with layers (256, 128); and seed 002's own setting (784-32-10, sigmoid, squared error, plain
  mini-batch SGD).
- scikit-learn's 8x8 digits: a stratified 75/25 split drawn with each seed (so the seeds vary the
  split as well as the initialisation), the recipe ``DIGITS`` chosen on a validation split of the
  75%, beside PyTorch with the same recipe and scikit-learn's default MLP on standardised inputs.

Thread pools are capped at ``--threads`` (default 2): the OMP/OPENBLAS/MKL variables are set
before NumPy is imported (this module imports only the standard library at the top), then
threadpoolctl and ``torch.set_num_threads`` cap them again. ``--quick`` runs one seed on a
10,000-image slice for 2 epochs, to check that everything runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
Result = tuple[float, tuple[float, float]]  # (test accuracy, (wall seconds, CPU seconds))

# The Fashion-MNIST recipe, chosen by training on train[:50000] and scoring train[50000:]
# (the exploration log is in docs/benchmarks.md, "Results on real data"); then trained on all 60,000 images.
FASHION: dict[str, Any] = {
    "sizes": [784, 512, 256, 10],
    "activation": "relu",
    "dropout": 0.2,
    "lr": 1e-3,  # Adam's, decayed to 0 along a cosine over the epochs
    "epochs": 30,
    "batch_size": 128,
    "label_smoothing": 0.1,
}
# The digits recipe, chosen on a stratified 80/20 split of the 75% training part.
DIGITS: dict[str, Any] = {
    "sizes": [64, 512, 256, 10],
    "activation": "relu",
    "dropout": 0.2,
    "lr": 1e-3,
    "epochs": 200,
    "batch_size": 32,
    "label_smoothing": 0.1,
}
# Seed 002's network and training, on Fashion-MNIST: 784-32-10 sigmoid units, the per-sample
# sum of squared errors (averaged over the batch), plain SGD on mini-batches of 256 for the
# seed's 300 epochs. The seed does not give its MNIST learning rate; 1.0 was the best of
# 0.3, 1, 3 and 10 on the validation split.
SEED002: dict[str, Any] = {
    "sizes": [784, 32, 10],
    "lr": 1.0,
    "epochs": 300,
    "batch_size": 256,
}


# -- environment ------------------------------------------------------------------------------
def limit_threads(n: int) -> dict[str, Any]:
    """Cap NumPy's BLAS and torch's pools at ``n`` threads (those installed); report the pools."""
    info: dict[str, Any] = {"threads": n}
    if importlib.util.find_spec("torch"):
        import torch

        torch.set_num_threads(n)
    if importlib.util.find_spec("threadpoolctl"):  # a scikit-learn dependency
        from threadpoolctl import threadpool_info, threadpool_limits

        threadpool_limits(limits=n)
        info["pools"] = [(p["internal_api"], p["num_threads"]) for p in threadpool_info()]
    return info


def machine_info() -> dict[str, Any]:
    """CPU model, core count, Python and library versions."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    for line in cpuinfo.read_text().splitlines() if cpuinfo.exists() else []:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    versions: dict[str, str | None] = {}
    for name in ("numpy", "nablanet", "torch", "scikit-learn"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


class Timer:
    """Wall-clock and CPU seconds (all threads of this process) spent inside the block.

    CPU time near ``threads x wall`` means the run had its cores; much less means other
    processes took them, and the wall time overstates the cost.
    """

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.times: tuple[float, float] = (
            time.perf_counter() - self._wall,
            time.process_time() - self._cpu,
        )


# -- data -------------------------------------------------------------------------------------
def fashion_data(quick: bool, standardise: bool) -> tuple[Any, Any, Any, Any]:
    """Fashion-MNIST; ``standardise``: shift and scale all pixels by the training set's mean and
    standard deviation, else keep them in [0, 1] (what seed 002 feeds its network)."""
    from nablanet.datasets import load_fashion_mnist

    X_train, y_train, X_test, y_test = load_fashion_mnist()
    if quick:
        X_train, y_train = X_train[:10000], y_train[:10000]
    if not standardise:
        return X_train, y_train, X_test, y_test
    mean, std = X_train.mean(), X_train.std()  # one scale for all pixels
    return (X_train - mean) / std, y_train, (X_test - mean) / std, y_test


def digits_data(seed: int) -> tuple[Any, Any, Any, Any]:
    """scikit-learn's digits (pixels / 16), a stratified 75/25 split drawn with ``seed``."""
    from nablanet.datasets import load_dataset

    d = load_dataset("digits", seed=seed)
    return d.X_train, d.y_train, d.X_test, d.y_test


# -- the models -------------------------------------------------------------------------------
def nablanet_recipe(recipe: dict[str, Any], data: tuple, seed: int) -> Result:
    """ReLU MLP, dropout, softmax + cross-entropy, Adam with cosine decay; (accuracy, times)."""
    import nablanet as nn
    from nablanet.schedules import CosineDecay

    epochs = recipe["epochs"]
    optimizer = nn.Adam(CosineDecay(recipe["lr"], epochs))
    model = nn.Sequential.from_sizes(
        recipe["sizes"],
        activation=recipe["activation"],
        output="softmax",
        dropout=recipe["dropout"],
        loss="categorical_cross_entropy",
        optimizer=optimizer,
        label_smoothing=recipe["label_smoothing"],
        seed=seed,
    )
    return fit_and_score(model, data, epochs, recipe["batch_size"])


def fit_and_score(model: Any, data: tuple, epochs: int, batch_size: int) -> Result:
    """Time ``model.fit`` on the training part, then score ``model.predict`` on the test part."""
    import numpy as np

    X_train, y_train, X_test, y_test = data
    with Timer() as timer:
        model.fit(X_train, y_train, epochs=epochs, batch_size=batch_size, verbose=False)
    return float(np.mean(model.predict(X_test) == y_test)), timer.times


def nablanet_seed002(recipe: dict[str, Any], data: tuple, seed: int) -> Result:
    """Seed 002: sigmoid everywhere, sum of squared errors, plain mini-batch SGD."""
    import nablanet as nn

    model = nn.Sequential.from_sizes(
        recipe["sizes"],
        activation="sigmoid",
        output="sigmoid",
        loss="sum_squared_error",
        optimizer="sgd",
        lr=recipe["lr"],
        seed=seed,
    )
    return fit_and_score(model, data, recipe["epochs"], recipe["batch_size"])


def torch_recipe(recipe: dict[str, Any], data: tuple, seed: int) -> Result:
    """The same recipe written the usual PyTorch way (PyTorch's default initialisation)."""
    import numpy as np
    import torch

    X_train, y_train, X_test, y_test = data
    torch.manual_seed(seed)
    layers: list[Any] = []
    sizes = recipe["sizes"]
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
            if recipe["dropout"]:
                layers.append(torch.nn.Dropout(recipe["dropout"]))
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=recipe["lr"])
    epochs, batch = recipe["epochs"], recipe["batch_size"]
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=recipe["label_smoothing"])
    Xt = torch.from_numpy(np.ascontiguousarray(X_train, dtype=np.float32))
    yt = torch.from_numpy(np.asarray(y_train, dtype=np.int64))
    gen = torch.Generator().manual_seed(seed)
    net.train()
    with Timer() as timer:
        for _ in range(epochs):
            perm = torch.randperm(len(Xt), generator=gen)
            for i in range(0, len(Xt), batch):
                idx = perm[i : i + batch]
                opt.zero_grad()
                loss_fn(net(Xt[idx]), yt[idx]).backward()
                opt.step()
            sched.step()
    net.eval()
    with torch.no_grad():
        scores = net(torch.from_numpy(np.ascontiguousarray(X_test, dtype=np.float32)))
    return float(np.mean(scores.argmax(1).numpy() == y_test)), timer.times


def sklearn_mlp(hidden: tuple[int, ...], recipe: dict[str, Any], data: tuple, seed: int) -> Result:
    """MLPClassifier(hidden) with Adam at the recipe's rate, batch size and epochs (max_iter).

    It has no dropout and no schedule; its default L2 penalty alpha=1e-4 stays. Early stopping on
    the training loss is switched off so that it runs every epoch.
    """
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=hidden,
        solver="adam",
        learning_rate_init=recipe["lr"],
        batch_size=recipe["batch_size"],
        max_iter=recipe["epochs"],
        n_iter_no_change=recipe["epochs"] + 1,
        random_state=seed,
    )
    return sklearn_fit_and_score(clf, data)


def sklearn_default(data: tuple, seed: int) -> Result:
    """scikit-learn's default MLPClassifier (100 ReLU units, Adam, 200 epochs) after scaling."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return sklearn_fit_and_score(
        make_pipeline(StandardScaler(), MLPClassifier(random_state=seed)), data
    )


def sklearn_fit_and_score(clf: Any, data: tuple) -> Result:
    """Time ``clf.fit`` (silencing "did not converge" at max_iter), score ``clf.predict``."""
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    X_train, y_train, X_test, y_test = data
    with Timer() as timer, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    return float(np.mean(clf.predict(X_test) == y_test)), timer.times


# -- the plan ---------------------------------------------------------------------------------
def describe(recipe: dict[str, Any]) -> str:
    sizes = "-".join(str(s) for s in recipe["sizes"])
    return (
        f"{sizes} {recipe['activation']}, dropout {recipe['dropout']}, Adam lr {recipe['lr']:g} "
        f"cosine, label smoothing {recipe['label_smoothing']}, {recipe['epochs']} epochs, "
        f"batch {recipe['batch_size']}"
    )


def plan(quick: bool) -> list[dict[str, Any]]:
    """Every row of the table: name, data set, library, settings and the function to run."""
    fashion = dict(FASHION, epochs=2) if quick else FASHION
    seed002 = dict(SEED002, epochs=2) if quick else SEED002
    digits = dict(DIGITS, epochs=10) if quick else DIGITS
    hidden = tuple(fashion["sizes"][1:-1])
    return [
        {"model": "nablanet recipe", "dataset": "fashion", "lib": "nablanet",
         "settings": describe(fashion), "run": lambda d, s: nablanet_recipe(fashion, d, s)},
        {"model": "PyTorch, same recipe", "dataset": "fashion", "lib": "torch",
         "settings": describe(fashion), "run": lambda d, s: torch_recipe(fashion, d, s)},
        {"model": f"sklearn MLPClassifier {hidden}", "dataset": "fashion", "lib": "sklearn",
         "settings": f"Adam lr {fashion['lr']:g}, alpha 1e-4, batch {fashion['batch_size']}, "
                     f"max_iter {fashion['epochs']}",
         "run": lambda d, s: sklearn_mlp(hidden, fashion, d, s)},
        {"model": "sklearn MLPClassifier (256, 128)", "dataset": "fashion", "lib": "sklearn",
         "settings": f"Adam lr {fashion['lr']:g}, alpha 1e-4, batch {fashion['batch_size']}, "
                     f"max_iter {fashion['epochs']}",
         "run": lambda d, s: sklearn_mlp((256, 128), fashion, d, s)},
        {"model": "nablanet, seed 002's setting", "dataset": "fashion-raw", "lib": "nablanet",
         "settings": f"784-32-10 sigmoid, sum of squared errors, SGD lr {seed002['lr']:g}, "
                     f"batch {seed002['batch_size']}, {seed002['epochs']} epochs, pixels in [0, 1]",
         "run": lambda d, s: nablanet_seed002(seed002, d, s)},
        {"model": "nablanet recipe", "dataset": "digits", "lib": "nablanet",
         "settings": describe(digits), "run": lambda d, s: nablanet_recipe(digits, d, s)},
        {"model": "PyTorch, same recipe", "dataset": "digits", "lib": "torch",
         "settings": describe(digits), "run": lambda d, s: torch_recipe(digits, d, s)},
        {"model": "sklearn default MLPClassifier + StandardScaler", "dataset": "digits",
         "lib": "sklearn", "settings": "(100,) ReLU, Adam lr 1e-3, alpha 1e-4, batch 200, 200 epochs",
         "run": sklearn_default},
    ]  # fmt: skip


def run(rows: list[dict[str, Any]], seeds: list[int], quick: bool) -> list[dict[str, Any]]:
    """Train and score every row for every seed, printing progress as it goes."""
    cache: dict[tuple[str, int], tuple] = {}

    def data(name: str, seed: int) -> tuple:
        key = (name, seed if name == "digits" else 0)  # only the digits split depends on the seed
        if key not in cache:
            if name == "digits":
                cache[key] = digits_data(seed)
            else:
                cache[key] = fashion_data(quick, standardise=name == "fashion")
        return cache[key]

    results = []
    for row in rows:
        out = {k: v for k, v in row.items() if k != "run"}
        if importlib.util.find_spec(row["lib"]) is None:
            out["skipped"] = f"skipped: {row['lib']} is not installed"
            print(f"{row['model']} ({row['dataset']}): {out['skipped']}", file=sys.stderr)
            results.append(out)
            continue
        out["accuracy"], out["seconds"], out["cpu_seconds"], out["load"] = [], [], [], []
        for seed in seeds:
            load_before = os.getloadavg()[0]
            accuracy, (seconds, cpu) = row["run"](data(row["dataset"], seed), seed)
            out["accuracy"].append(accuracy)
            out["seconds"].append(seconds)
            out["cpu_seconds"].append(cpu)
            # the 1-minute load average before and after: > threads means other processes ran
            out["load"].append((load_before, os.getloadavg()[0]))
            print(
                f"{row['model']} ({row['dataset']}) seed {seed}: accuracy {accuracy:.4f}, "
                f"{seconds:.1f} s wall, {cpu:.1f} s CPU",
                file=sys.stderr,
                flush=True,
            )
        out["median_accuracy"] = statistics.median(out["accuracy"])
        out["median_seconds"] = statistics.median(out["seconds"])
        out["median_cpu_seconds"] = statistics.median(out["cpu_seconds"])
        results.append(out)
    return results


DATASET_NAMES = {"fashion": "Fashion-MNIST", "fashion-raw": "Fashion-MNIST", "digits": "digits"}


def table(results: list[dict[str, Any]]) -> str:
    """A Markdown table: model, data set, median test accuracy, per seed, median training time."""
    lines = [
        "| model | dataset | test accuracy (median) | per seed | training s (median) | CPU s |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        name = DATASET_NAMES[r["dataset"]]
        if "skipped" in r:
            lines.append(f"| {r['model']} | {name} | {r['skipped']} | | | |")
            continue
        seeds = ", ".join(f"{a:.4f}" for a in r["accuracy"])
        lines.append(
            f"| {r['model']} | {name} | **{r['median_accuracy']:.4f}** | {seeds} | "
            f"{r['median_seconds']:.0f} | {r['median_cpu_seconds']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 10k images, 2 epochs")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default: 0 1 2")
    parser.add_argument("--threads", type=int, default=2, help="BLAS/torch threads (default 2)")
    parser.add_argument("--json", default="out/accuracy.json", help="where to write the results")
    parser.add_argument(
        "--only", nargs="+", choices=("fashion", "digits"), default=("fashion", "digits")
    )
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    for var in THREAD_VARS:  # before anything imports NumPy
        os.environ[var] = str(args.threads)
    seeds = args.seeds if args.seeds is not None else ([0] if args.quick else [0, 1, 2])

    threading = limit_threads(args.threads)
    rows = [r for r in plan(args.quick) if r["dataset"].split("-")[0] in args.only]
    results = run(rows, seeds, args.quick)
    text = table(results)
    command = " ".join(["python", "benchmarks/accuracy.py", *sys.argv[1:]])
    machine = machine_info()
    print(f"\n{text}\n")
    print(f"command: {command}")
    print(
        f"machine: {machine['cpu']}, {machine['logical_cpus']} logical CPUs, {args.threads} threads"
    )

    report = {
        "command": command,
        "quick": args.quick,
        "seeds": seeds,
        "machine": machine,
        "threading": threading,
        "recipes": {"fashion": FASHION, "digits": DIGITS, "seed002": SEED002},
        "results": results,
        "table": text,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str) + "\n")
    tmp.replace(path)  # atomic: an interrupted run never leaves half a file
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
