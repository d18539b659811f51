"""Optional compiled kernels: the ``nablanet[fast]`` extra (numba).

The plain NumPy code elsewhere in nablanet is the reference and the default. When numba is
installed, a few hot loops (optimizer updates, bias + activation, softmax cross-entropy, the
batch gather, the Perceptron's per-sample loop) can run as compiled kernels instead. Each
kernel is written once, in plain Python over NumPy arrays, and decorated with :func:`jit`:

    @jit
    def _perceptron_epoch(X, y, w, b, order): ...

Without numba, :func:`jit` returns the function unchanged (it then runs as ordinary,
slow-but-correct Python). Callers choose between the compiled kernel and the NumPy
reference with :func:`enabled`, so both paths can be tested against each other:

    if enabled(): kernel(...)
    else: numpy_reference(...)

Set the environment variable ``NABLANET_FAST=0`` (or call :func:`set_enabled`) to force the
NumPy path even when numba is installed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_numba: Any
try:  # the optional extra
    import numba as _numba
except ImportError:  # pragma: no cover - exercised where numba is absent
    _numba = None

AVAILABLE = _numba is not None
_enabled = AVAILABLE and os.environ.get("NABLANET_FAST", "1") != "0"


def jit(func: Callable[..., Any]) -> Any:
    """Compile ``func`` with numba (no Python objects, cached on disk) when numba is installed.

    Without numba the plain function is returned, so a kernel is always callable.
    """
    if _numba is None:
        return func
    return _numba.njit(cache=True, nogil=True)(func)


def enabled() -> bool:
    """True when compiled kernels are available and switched on."""
    return _enabled


def set_enabled(flag: bool) -> None:
    """Switch the compiled kernels on or off (off always works; on needs numba)."""
    global _enabled
    if flag and not AVAILABLE:
        raise RuntimeError("compiled kernels need numba: pip install 'nablanet[fast]'")
    _enabled = bool(flag)


@contextmanager
def use_fast(flag: bool) -> Iterator[None]:
    """Context manager: run the block with compiled kernels on (``True``) or off (``False``)."""
    previous = _enabled
    set_enabled(flag)
    try:
        yield
    finally:
        set_enabled(previous)
