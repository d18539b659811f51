"""Input checks with clear messages, shared by the model, the estimators and the CLI.

Every check raises ``ValueError`` or ``TypeError`` naming the argument, what was expected and
the value received, so that bad input never surfaces as a NumPy traceback from deep inside.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


def _short(value: Any) -> str:
    """``repr`` of a value, cut short so that error messages stay one line."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {_short(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {_short(value)}")
    return int(value)


def check_positive_float(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number > 0 (>= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_short(value)}")
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not (np.isfinite(value) and ok):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return value


def check_fraction(
    name: str, value: Any, *, low_open: bool = True, high_open: bool = True
) -> float:
    """Return ``value`` as a float inside (0, 1) (bounds open or closed as asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number between 0 and 1, got {_short(value)}")
    value = float(value)
    low_ok = value > 0 if low_open else value >= 0
    high_ok = value < 1 if high_open else value <= 1
    if not (low_ok and high_ok):
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(f"{name} must be in {lo}0, 1{hi}, got {value!r}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices`` (a string), else raise naming them all."""
    options = sorted(choices)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"unknown {name} {_short(value)}; expected one of {options}")
    return value


def check_dtype(dtype: Any) -> np.dtype[Any]:
    """Return ``dtype`` as float32 or float64, or raise."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32 or float64, got {_short(dtype)}") from exc
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


def check_array(
    X: Any,
    name: str = "X",
    *,
    ndim: int | tuple[int, ...] = 2,
    dtype: Any = None,
) -> np.ndarray:
    """Return ``X`` as a finite, non-empty float array with ``ndim`` dimensions.

    Parameters
    ----------
    X : array-like
        Numeric data. Booleans and integers are accepted and converted; strings and objects are
        refused.
    name : str
        The argument's name, used in error messages.
    ndim : int or tuple of int
        Allowed numbers of dimensions.
    dtype : float32, float64 or None
        Target dtype. ``None`` keeps float32/float64 input as it is and converts anything else to
        float32 (no silent upcast of float32 data).
    """
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if X is None:
        raise TypeError(f"{name} must be a numeric array, got None")
    try:
        arr = np.asarray(X)
    except ValueError as exc:  # ragged nested lists: rows of different lengths
        raise ValueError(
            f"{name} must be a rectangular array (every row the same length), got {_short(X)}"
        ) from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must contain numbers, got an array of dtype {arr.dtype} "
            f"(first value {_short(arr.flat[0]) if arr.size else 'none'})"
        )
    if arr.ndim not in allowed:
        hint = ""
        if arr.ndim == 1 and 2 in allowed:
            hint = (
                "; reshape it with X.reshape(-1, 1) for a single feature or "
                "X.reshape(1, -1) for a single sample"
            )
        raise ValueError(
            f"{name} must be a {' or '.join(f'{d}-D' for d in allowed)} array, "
            f"got {arr.ndim}-D array of shape {arr.shape}{hint}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); at least one sample is needed")
    if dtype is None:
        target = arr.dtype if arr.dtype in FLOAT_DTYPES else np.dtype(np.float32)
    else:
        target = check_dtype(dtype)
    arr = np.asarray(arr, dtype=target)
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{name} contains NaN or infinity (first at index {tuple(int(i) for i in bad)}: "
            f"{arr[tuple(bad)]!r})"
        )
    return arr


def check_consistent_length(
    X: np.ndarray, y: np.ndarray, names: tuple[str, str] = ("X", "y")
) -> None:
    """Raise if ``X`` and ``y`` do not have the same number of rows."""
    if len(X) != len(y):
        raise ValueError(
            f"{names[0]} and {names[1]} have different numbers of samples: {len(X)} and {len(y)}"
        )


def check_n_features(X: np.ndarray, expected: int, name: str = "X") -> None:
    """Raise if ``X`` does not have ``expected`` columns."""
    if X.shape[1] != expected:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the model expects {expected} "
            f"(got shape {X.shape})"
        )


def as_generator(seed: Any) -> np.random.Generator:
    """Return a ``np.random.Generator`` from ``None``, an int seed or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        return np.random.default_rng(None if seed is None else int(seed))
    raise TypeError(
        f"seed must be None, a non-negative int or a np.random.Generator, got {_short(seed)}"
    )
