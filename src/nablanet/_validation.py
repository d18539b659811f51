"""Input checks with clear messages, shared by the model, the estimators and the CLI.

Every check raises ``ValueError`` or ``TypeError`` naming the argument, what was expected and
the value received, so that bad input never surfaces as a NumPy traceback from deep inside.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


def short_repr(value: Any) -> str:
    """``repr`` of a value, cut short so that error messages stay one line.

    The one helper every module quotes a bad value with (``f"got {short_repr(value)}"``): at
    most 80 characters on one line, and it never fails, even on an integer too long for
    ``repr`` (more than ``sys.get_int_max_str_digits()`` digits: ``10**5000`` -> ``2**16609``).
    """
    try:
        text = repr(value)
    except ValueError:  # an int too long for Python's int-to-str limit (4300 digits)
        if isinstance(value, numbers.Integral):
            text = format_count(int(value))
        elif isinstance(value, list | tuple):
            inner = ", ".join(short_repr(v) for v in value[:10]) + (
                ", ..." if len(value) > 10 else ""
            )
            if isinstance(value, tuple):
                text = f"({inner},)" if len(value) == 1 else f"({inner})"
            else:
                text = f"[{inner}]"
        else:
            return f"a {type(value).__name__} too large to print"
    text = re.sub(r"\n\s*", " ", text)  # one line: an array's repr spans several
    return text if len(text) <= 80 else text[:77] + "..."


def format_count(n: int) -> str:
    """An exact count for ordinary sizes, ``1.2e+30``-style beyond 15 digits (any int size)."""
    n = int(n)
    if abs(n) < 10**15:
        return str(n)
    if n.bit_length() < 1000:
        return f"{float(n):.3g}"
    return f"2**{n.bit_length() - 1}"  # too long for a float: its power of two


def format_sizes(sizes: Iterable[int]) -> str:
    """``[3, 1e+12, 2]``: a list of layer sizes, readable whatever their magnitude."""
    return "[" + ", ".join(format_count(s) for s in sizes) + "]"


_BYTE_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def format_bytes(n: int) -> str:
    """``n`` bytes in binary units: ``512 bytes``, ``22.1 GiB``, ``29.8 TiB``, ``1.5e+40 bytes``."""
    n = int(n)
    if n < 1024:
        return f"{n} bytes"
    power = (n.bit_length() - 1) // 10
    if power >= len(_BYTE_UNITS):  # beyond 1024 YiB: say it in bytes, 1.5e+40 bytes
        return f"{format_count(n)} bytes"
    return f"{n / 1024**power:.1f} {_BYTE_UNITS[power]}"


#: Assumed available memory when the machine's cannot be read (neither ``/proc/meminfo``, the
#: cgroup limits nor ``os.sysconf`` answer, e.g. on Windows): 1 TiB, so that only absurd
#: requests are refused there.
FALLBACK_AVAILABLE_MEMORY = 2**40


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
        return int(text)
    except (OSError, ValueError):
        return None


def available_memory() -> int:
    """Bytes this process can still allocate without swapping, as well as can be told.

    The smallest of: ``MemAvailable`` from ``/proc/meminfo`` (else ``os.sysconf``'s available
    physical pages), and the room left under a cgroup memory limit (containers). Falls back
    to :data:`FALLBACK_AVAILABLE_MEMORY` when none of them can be read.
    """
    candidates: list[int] = []
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    candidates.append(int(line.split()[1]) * 1024)  # the value is in kB
                    break
    except (OSError, ValueError, IndexError):
        pass
    if not candidates:
        try:
            pages = os.sysconf("SC_AVPHYS_PAGES")
            page_size = os.sysconf("SC_PAGE_SIZE")
            if pages > 0 and page_size > 0:
                candidates.append(pages * page_size)
        except (AttributeError, OSError, ValueError):
            pass
    for limit_path, usage_path in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),  # cgroup v2
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",  # cgroup v1
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        limit = _read_int(limit_path)  # None for "max" (no limit)
        if limit is not None and limit < 2**60:
            candidates.append(max(limit - (_read_int(usage_path) or 0), 0))
    return min(candidates) if candidates else FALLBACK_AVAILABLE_MEMORY


def check_memory(n_bytes: int, what: str, *, purpose: str = "", hint: str = "") -> None:
    """Raise ``ValueError`` if ``n_bytes`` exceed :func:`available_memory`.

    The message reads ``"{what} needs about {n_bytes}{purpose}; this machine has ...
    available; {hint}"``: ``what`` names the request and the value received (``"the network
    [3, 1e+12, 2] (5e+12 float32 parameters)"``), ``purpose`` says what the memory is for
    (``" for its parameters, gradients and optimizer state"``), ``hint`` what to do instead.
    """
    limit = available_memory()
    if n_bytes > limit:
        message = (
            f"{what} needs about {format_bytes(n_bytes)}{purpose}; this machine has "
            f"{format_bytes(limit)} available"
        )
        raise ValueError(message + (f"; {hint}" if hint else ""))


def check_positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {short_repr(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {short_repr(value)}")
    return int(value)


def check_positive_float(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number > 0 (>= 0)."""
    if type(value) is float and (0.0 <= value < math.inf if allow_zero else 0.0 < value < math.inf):
        return value  # the common case first: the engine checks ``l2`` three times a step
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {short_repr(value)}")
    bound = ">= 0" if allow_zero else "> 0"
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        raise ValueError(
            f"{name} must be a finite number {bound}, got {short_repr(value)}"
        ) from None
    ok = number >= 0 if allow_zero else number > 0
    if not (np.isfinite(number) and ok):
        raise ValueError(f"{name} must be a finite number {bound}, got {number!r}")
    return number


def check_fraction(
    name: str, value: Any, *, low_open: bool = True, high_open: bool = True
) -> float:
    """Return ``value`` as a float inside (0, 1) (bounds open or closed as asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number between 0 and 1, got {short_repr(value)}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"{name} must be between 0 and 1, got {short_repr(value)}") from None
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
        raise ValueError(f"unknown {name} {short_repr(value)}; expected one of {options}")
    return value


def check_dtype(dtype: Any) -> np.dtype[Any]:
    """Return ``dtype`` as float32 or float64, or raise."""
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError, OverflowError) as exc:  # ValueError: a 4300-digit int
        raise TypeError(f"dtype must be float32 or float64, got {short_repr(dtype)}") from exc
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
    refuse_pandas_na(X, name)
    try:
        try:
            arr = np.asarray(X)
        except OverflowError:  # a Python int past float64 beside other numbers: named below
            arr = np.asarray(X, dtype=object)
    except ValueError as exc:  # ragged nested lists: rows of different lengths
        raise ValueError(
            f"{name} must be a rectangular array (every row the same length), got {short_repr(X)}"
        ) from exc
    if arr.dtype == object:
        arr = _numbers_from_objects(X, arr, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must contain numbers, got an array of dtype {arr.dtype} "
            f"(first value {short_repr(arr.flat[0]) if arr.size else 'none'})"
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
    source = arr
    with np.errstate(over="ignore"):  # a finite value past float32's range: named below
        arr = np.asarray(arr, dtype=target)
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        original = source[tuple(bad)]
        if np.isfinite(original):
            raise ValueError(
                f"{name} has {original.item()!r} at index {tuple(int(i) for i in bad)}, beyond "
                f"the range of {target} (largest finite value {np.finfo(target).max:.6g}); "
                "rescale the data or use float64"
            )
        raise ValueError(
            f"{name} contains NaN or infinity (first at index {tuple(int(i) for i in bad)}: "
            f"{arr[tuple(bad)].item()!r})"
        )
    return arr


def refuse_pandas_na(X: Any, name: str) -> None:
    """Raise naming the first ``pd.NA`` of a pandas nullable column (``Int64``, ``Float64``...).

    NumPy would turn it into NaN or an object array and the message would not say ``pd.NA``.
    """
    if type(X).__module__.partition(".")[0] != "pandas" or not hasattr(X, "isna"):
        return
    series = getattr(X, "ndim", 2) == 1
    frame = X.to_frame() if series else X
    for j, (column, dtype) in enumerate(frame.dtypes.items()):
        if type(getattr(dtype, "na_value", None)).__name__ != "NAType":
            continue  # a NumPy column: its NaN gets the NaN message below
        missing = np.flatnonzero(np.asarray(frame.iloc[:, j].isna()))
        if missing.size:
            row = int(missing[0])
            where = "" if series else f" in column {short_repr(column)}"
            raise ValueError(
                f"{name} has a missing value (pd.NA){where} of dtype {dtype}, row {row} (index "
                f"label {short_repr(frame.index[row])}); fill or drop the missing values first"
            )


def _numbers_from_objects(X: Any, arr: np.ndarray, name: str) -> np.ndarray:
    """An object array of numbers as float64: a pandas frame of nullable numeric columns
    (``Int64``, ``Float64``, ``boolean``), or Python ints too large for int64. Anything else
    (strings, None, mixed objects) is returned as it is, for the caller's message."""
    dtypes = getattr(X, "dtypes", None)
    if type(X).__module__.partition(".")[0] == "pandas" and dtypes is not None:
        kinds = {getattr(dtype, "kind", "O") for dtype in dtypes}
        if kinds <= set("biuf"):
            return np.asarray(X.to_numpy(dtype=np.float64))
        return arr
    flat = arr.ravel()
    if flat.size == 0 or not all(
        isinstance(v, numbers.Real) and not isinstance(v, np.timedelta64 | np.datetime64)
        for v in flat
    ):
        return arr
    try:
        return arr.astype(np.float64)
    except OverflowError:  # a Python int past float64 (about 1.8e308)
        i = next(i for i, v in enumerate(flat) if not _fits_float(v))
        index = tuple(int(k) for k in np.unravel_index(i, arr.shape))
        raise ValueError(
            f"{name} has {format_count(flat[i])} at index {index}, beyond the range of float64 "
            f"(largest finite value {np.finfo(np.float64).max:.6g})"
        ) from None


def _fits_float(value: Any) -> bool:
    try:
        float(value)
    except OverflowError:
        return False
    return True


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
        f"seed must be None, a non-negative int or a np.random.Generator, got {short_repr(seed)}"
    )
