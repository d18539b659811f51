"""The estimators' per-step overflow check, before and after it looked at the packed buffer.

    python benchmarks/overflow_check.py

``MLPClassifier`` and ``MLPRegressor`` turn into ``±inf`` the gradient entries that overflow in
scikit-learn's arithmetic (:func:`nablanet.estimators._base.overflow_as_sklearn`), once a step.
The check used to take a max and a min of every parameter array (12 reductions for
784-256-128-10); it now takes one max and one min over the packed gradient buffer and goes
array by array only when they find an entry past the limit or a NaN. This times both on the
float32 784-256-128-10 network of an estimator at batch 128 (``timeit``, best of 7 x 2,000
calls, 1 thread).
"""

from __future__ import annotations

import sys
import timeit
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _protocol as protocol  # standard library only

protocol.set_thread_env(1)  # before NumPy loads

import numpy as np  # noqa: E402


def per_array(model, total: float) -> None:
    """The check as it was: a max and a min of every parameter array's gradient."""
    for _, _, grad in model.slots():
        limit = np.finfo(grad.dtype).max / total
        if grad.max() > limit or grad.min() < -limit:
            grad[np.abs(grad) > limit] *= np.inf


def main() -> int:
    from nablanet.estimators import MLPClassifier
    from nablanet.estimators._base import overflow_as_sklearn

    rng = np.random.default_rng(0)
    X, y = rng.random((256, 784), dtype=np.float32), np.arange(256) % 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one iteration does not converge: that is the point
        clf = MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=1, batch_size=128,
                            random_state=0).fit(X, y)  # fmt: skip
    print(f"# load {protocol.loadavg()}")
    for name, check in (("per parameter array (before)", per_array),
                        ("packed buffer first (now)", overflow_as_sklearn)):  # fmt: skip
        best = min(timeit.repeat(lambda c=check: c(clf.model_, 128.0), number=2000, repeat=7))
        print(f"{name:30s} {best / 2000 * 1e6:6.1f} us a step")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
