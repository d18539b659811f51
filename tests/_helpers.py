"""Helpers shared by several test files (not a test module): toy data, small models, tolerances.

Helpers used by one file only live in that file; pytest fixtures live in conftest.py.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

import nablanet as nn

# -- finite differences: test_layers, test_losses, test_model_engine, test_gradcheck ---------------
TOL = 1e-6
H = 1e-5

small = st.integers(min_value=1, max_value=5)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
fd_settings = settings(max_examples=25, deadline=None)


def max_rel_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """Largest ``|a - n| / (|a| + |n|)``.

    Central differences carry a round-off error of about ``eps * |f| / h`` (~1e-10 here), so an
    entry whose true gradient is near zero cannot be measured relatively; entries smaller than 1%
    of the array's largest gradient are judged against that 1% instead.
    """
    assert analytic.shape == numeric.shape
    floor = max(1e-2 * float(np.abs(numeric).max()), 1e-8)
    denominator = np.maximum(np.abs(analytic) + np.abs(numeric), floor)
    return float((np.abs(analytic - numeric) / denominator).max())


# (X, y) for a task: the data of the whole-model gradient checks
def task_data(rng: np.random.Generator, task: str, n: int = 12, d: int = 3, k: int = 2):
    X = rng.normal(size=(n, d))
    if task == "regression":
        return X, rng.normal(size=(n, k))
    if task == "binary":
        return X, rng.integers(0, 2, size=n)
    if task == "multilabel":
        return X, rng.integers(0, 2, size=(n, k)).astype(float)
    if task == "multiclass":
        return X, rng.integers(0, k, size=n)
    raise AssertionError(task)


# -- 30 samples, 3 features (seed 42): test_model, test_training, test_layers ----------------------
_RNG42 = np.random.default_rng(42)
X = _RNG42.normal(size=(30, 3))
Y_BINARY = (X[:, 0] + X[:, 1] > 0).astype(int)
Y_CLASS = np.digitize(X[:, 0], [-0.5, 0.5])  # 0, 1, 2
Y_MULTILABEL = (X[:, :2] > 0).astype(int)  # (30, 2)
Y_REG = X @ np.array([1.0, -2.0, 0.5])
Y_REG2 = np.stack([Y_REG, X[:, 2]], axis=1)


# -- 12 samples, 3 features (seed 3) and a small classifier: the engine's tests --------------------
_RNG3 = np.random.default_rng(3)
X12 = _RNG3.normal(size=(12, 3))
Y12_CLASS = np.arange(12) % 3
Y12_REG = np.c_[X12[:, 0] - X12[:, 1], X12[:, 2]]


def classifier(**kwargs) -> nn.Sequential:
    settings = dict(loss="categorical_cross_entropy", seed=0, dtype="float64", lr=0.1)
    settings.update(kwargs)
    return nn.Sequential.from_sizes([3, 5, 3], "tanh", "softmax", **settings)


# -- 60 samples, 4 features, 3 classes, and a softmax network for them -----------------------------
def three_class_data(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = rng.integers(0, 3, n)
    return X, y


def softmax_net(**kwargs) -> nn.Sequential:
    kwargs.setdefault("seed", 0)
    return nn.Sequential.from_sizes(
        [4, 8, 3], "relu", output="softmax", loss="categorical_cross_entropy", **kwargs
    )


# -- model files: test_saving_format, test_saving_limits, test_model_io -------------------------------
def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    """``array`` as the bytes of a ``.npy`` file."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def array_entry(data: bytes, dtype: str, shape: list, file: str = "arrays/0000.npy") -> dict:
    """A model-file header's entry for one array member holding ``data``."""
    return {
        "dtype": dtype,
        "shape": shape,
        "file": file,
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def crafted_header(arrays: dict, **overrides: Any) -> dict:
    """A minimal model-file header holding ``arrays`` (entries as :func:`array_entry` makes)."""
    header = {
        "format": "nablanet",
        "format_version": 1,
        "nablanet_version": "0.0-test",
        "arrays": arrays,
        "model": {"kind": "crafted"},
    }
    header.update(overrides)
    return header


def refused_cheaply(path: Path, read: Callable[[Path], Any], *named: str) -> str:
    """``read(path)`` must raise ``ModelFileError`` naming the file (and each of ``named``) while
    the traced peak memory stays under 16 MiB; returns the message."""
    import tracemalloc

    import pytest

    from nablanet.saving import ModelFileError

    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as info:
            read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"peak {peak} bytes while refusing {path.name}"
    message = str(info.value)
    assert str(path) in message
    for text in named:
        assert text in message
    return message


def flip_trials(
    path: Path, trials: int, seed: int, read: Callable[[Path], Any], same: Callable[[Any], bool]
) -> dict[str, int]:
    """Flip 1-3 random bytes of the file at ``path``, ``trials`` times: each damaged copy must
    load to something ``same`` accepts, or raise ``ModelFileError`` naming the file."""
    from nablanet.saving import ModelFileError

    raw = path.read_bytes()
    rng = np.random.default_rng(seed)
    damaged = path.with_name("damaged.nbnet")
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(trials):
        data = bytearray(raw)
        for position in rng.integers(0, len(data), size=rng.integers(1, 4)):
            data[position] ^= int(rng.integers(1, 256))
        damaged.write_bytes(bytes(data))
        try:
            result = read(damaged)
        except ModelFileError as exc:
            assert str(damaged) in str(exc)
            outcomes["refused"] += 1
        else:
            assert same(result)
            outcomes["loaded"] += 1
    return outcomes
