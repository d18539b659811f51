"""Does a long run slow down? A trained model's epochs against epoch 1, paired in one process.

    python benchmarks/drift.py [--optimizer adam|sgd] [--epochs 30] [--batch 128] [--json F]

Issue 20's first target is that training keeps its epoch-1 speed however long it runs (epoch 30
<= 1.1x epoch 1). Timing epoch 30 against epoch 1 of the same run compares two moments of the
machine as much as two states of the model: on a shared 2-vCPU VM the same epoch takes 10-30%
more or less from one minute to the next. Here every epoch of the model being trained is
paired with an epoch 1 timed right after it: a second model, reset before each of its epochs to
the same initial weights with a zeroed optimizer state (so it is always at epoch 1), on the
same data. The ratio of the two (``trained / epoch-1``) is the slow-down the trained state
causes (subnormals, caches, memory growth), with the machine's own drift divided out.

Both models are nablanet ``Sequential.fit`` on Fashion-MNIST (``apt-get install
dataset-fashion-mnist``), 784-256-128-10 ReLU, softmax cross-entropy, float32, 1 thread, CPU time
(``time.process_time``). The summary is the median ratio over the last three epochs over the
median over the first three (the target: <= 1.1), and the largest count of subnormal numbers
found in the trained model's weights and optimizer state after an epoch.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _protocol as protocol  # noqa: E402  (standard library only)

if __name__ == "__main__":
    protocol.set_thread_env(1)  # before NumPy loads

import numpy as np  # noqa: E402


def subnormals(model: Any) -> int:
    """How many subnormal numbers the model's parameters and optimizer state hold."""
    tiny = np.finfo(model.dtype).tiny
    arrays = [model.parameters_to_vector()]
    for state in model.optimizer.state.values():
        arrays.extend(state.values())
    return sum(int(np.count_nonzero((a != 0) & (np.abs(a) < tiny))) for a in arrays)


def reset(model: Any, initial: np.ndarray) -> None:
    """Put ``model`` back at epoch 1: its initial weights, a zeroed optimizer state."""
    model.vector_to_parameters(initial)
    for state in model.optimizer.state.values():
        for buf in state.values():
            buf.fill(0)
    model.optimizer.iterations = 0
    model.optimizer.epochs = 0


def run(optimizer: str, epochs: int, batch: int, n_train: int | None = None) -> dict[str, Any]:
    """Train for ``epochs`` epochs, pairing each with a reset model's epoch 1; the times."""
    import _common

    from nablanet.datasets import load_fashion_mnist

    X, y, _, _ = load_fashion_mnist()
    X, y = np.ascontiguousarray(X[:n_train]), y[:n_train].astype(np.int64)
    trained, fresh = _common.make_nablanet(optimizer), _common.make_nablanet(optimizer)
    warm = slice(0, 2 * batch)  # builds both models and loads the compiled kernels
    trained.fit(X[warm], y[warm], epochs=1, batch_size=batch, verbose=False)
    fresh.fit(X[warm], y[warm], epochs=1, batch_size=batch, verbose=False)
    initial = trained.parameters_to_vector()  # one set of starting weights for both
    reset(trained, initial)

    def epoch(model: Any) -> float:
        start = time.process_time()
        model.fit(X, y, epochs=1, batch_size=batch, verbose=False)
        return time.process_time() - start

    rows = []
    for k in range(epochs):
        t_trained = epoch(trained)
        count = subnormals(trained)
        reset(fresh, initial)
        t_fresh = epoch(fresh)
        rows.append({"epoch": k + 1, "trained": t_trained, "epoch_1": t_fresh,
                     "ratio": t_trained / t_fresh, "subnormals": count})  # fmt: skip
        print(f"epoch {k + 1:3d}  trained {t_trained:6.3f} s  epoch 1 {t_fresh:6.3f} s  "
              f"ratio {t_trained / t_fresh:5.3f}  subnormals {count}", flush=True)  # fmt: skip
    ratios = [r["ratio"] for r in rows]
    n = min(3, len(ratios))
    return {
        "rows": rows,
        "drift": statistics.median(ratios[-n:]) / statistics.median(ratios[:n]),
        "raw_drift": statistics.median([r["trained"] for r in rows[-n:]])
        / statistics.median([r["trained"] for r in rows[:n]]),
        "max_subnormals": max(r["subnormals"] for r in rows),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--n-train", type=int, default=None, help="use the first N images")
    parser.add_argument("--json", help="also write the epochs and the summary here")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    import speed

    protocol.limit_threads(1)
    print(f"# {speed.machine_info()['cpu']}, load {protocol.loadavg()}")
    result = run(args.optimizer, args.epochs, args.batch, args.n_train)
    print(f"last 3 / first 3 epochs, paired with epoch 1: {result['drift']:.3f} "
          f"(unpaired: {result['raw_drift']:.3f}); most subnormals after an epoch: "
          f"{result['max_subnormals']}")  # fmt: skip
    if args.json:
        command = "python benchmarks/drift.py " + " ".join(sys.argv[1:] if argv is None else argv)
        payload = {"command": command, "machine": speed.machine_info(), "optimizer": args.optimizer,
                   "batch": args.batch, **result}  # fmt: skip
        Path(args.json).write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
