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

Set the environment variable ``NABLANET_FAST=0`` (or ``off``, ``false``, ``no``; any case) or
call :func:`set_enabled` to force the NumPy path even when numba is installed. ``1``, ``on``,
``true``, ``yes`` or an empty value keep the default (the kernels when numba is installed); any
other value is refused with a ValueError naming it when nablanet is imported.

The kernels live beside this file, one concept each: :mod:`.update` (optimizer updates),
:mod:`.dense` (bias + activation, forward and backward), :mod:`.loss` (softmax cross-entropy),
:mod:`.gather` (the batch gather), :mod:`.network` (the model's forward/backward through them),
:mod:`.infer` (``predict_proba``'s fast path: a whole forward pass of a few rows in one call)
and ``perceptron.py``.

**Threads.** Kernels over large arrays also come in a multi-threaded form (:func:`parallel_jit`,
numba's ``prange``), used when numba may run more than one thread (``numba.get_num_threads()``,
set by ``NUMBA_NUM_THREADS`` or ``numba.set_num_threads``) and the array has at least
:data:`PARALLEL_MIN` elements; otherwise the single-threaded form runs.

**Compilation cache.** Kernels compile on first use (about a second each) and are cached on disk
(numba ``cache=True``): next to this file when the package directory is writable, else in numba's
user-wide cache (``~/.cache/numba``), else in ``$TMPDIR/nablanet-numba-cache-<user>``; set
``NUMBA_CACHE_DIR`` to choose the place yourself.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import tempfile
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# numba itself loads on first use (it takes about a second to import): ``import nablanet`` and
# the command line stay quick, and a run that never trains never pays for it.
AVAILABLE = importlib.util.find_spec("numba") is not None
_numba: Any = None
#: The spellings ``NABLANET_FAST`` accepts (compared in lower case, spaces stripped)
SWITCH_ON = ("1", "on", "true", "yes", "")
SWITCH_OFF = ("0", "off", "false", "no")


def switch_from_environment(value: str | None) -> bool | None:
    """``NABLANET_FAST`` read: ``False`` for an off spelling, ``None`` (the default: kernels
    when numba is installed) when unset or on; any other value raises ValueError naming it."""
    if value is None or value.strip().lower() in SWITCH_ON:
        return None
    if value.strip().lower() in SWITCH_OFF:
        return False
    raise ValueError(
        f"NABLANET_FAST must be one of {', '.join(SWITCH_ON[:-1])} (kernels on when numba is "
        f"installed) or {', '.join(SWITCH_OFF)} (off), got {value!r}"
    )


#: None until the first :func:`enabled`: then True or False
_enabled: bool | None = switch_from_environment(os.environ.get("NABLANET_FAST"))


def _load_numba() -> Any:
    """Import numba once; on failure (e.g. a numba too old for this NumPy) mark it missing."""
    global _numba, AVAILABLE
    if _numba is None and AVAILABLE:
        try:
            import numba
        except ImportError as exc:  # pragma: no cover - a broken install
            import warnings

            AVAILABLE = False
            warnings.warn(f"numba failed to import ({exc}); using NumPy", stacklevel=3)
            return None
        _numba = numba
    return _numba


#: Arrays with at least this many elements go to the multi-threaded kernels (when threads > 1).
#: Set high on purpose: each parallel region wakes numba's worker threads (tens of microseconds
#: on a VM), and OpenBLAS's own threads spin between matrix products; on the 2-vCPU benchmark
#: machine a 2-thread epoch of the 784-256-128-10 network at batch 512 took 2.2x as long with
#: the parallel forms (over 65k-235k elements) as with the single-threaded ones (issue 13).
PARALLEL_MIN = 1 << 20


def jit(func: Callable[..., Any], parallel: bool = False) -> Any:
    """Compile ``func`` with numba (no Python objects, cached on disk) when numba is installed.

    Without numba the plain function is returned, so a kernel is always callable.
    ``parallel=True`` compiles numba's ``prange`` loops to run on several threads.
    """
    numba = _load_numba()
    if numba is None:
        return func
    # error_model="numpy": x / 0 gives inf or nan as NumPy does, with no zero check in the loop
    # (Python's ZeroDivisionError check keeps LLVM from vectorising a division)
    # numba keys its disk cache on the kernel's source file, not on these options: after
    # changing them, delete the cached *.nbi/*.nbc files (__pycache__ beside the kernels)
    options = {"cache": True, "nogil": True, "parallel": parallel, "error_model": "numpy"}
    try:
        return numba.njit(**options)(func)
    except RuntimeError:  # "no locator available": neither the package dir nor ~ is writable
        _fallback_cache_dir()
    try:
        return numba.njit(**options)(func)
    except RuntimeError:  # pragma: no cover - no writable place at all: compile every run
        return numba.njit(**{**options, "cache": False})(func)


def parallel_jit(func: Callable[..., Any]) -> Any:
    """:func:`jit` with ``parallel=True``: the kernel's ``prange`` loops use numba's threads.

    The function is compiled as a copy named ``<name>_parallel``, so that its disk cache does
    not share files with the single-threaded form of the same source.
    """
    twin = types.FunctionType(
        func.__code__, func.__globals__, func.__name__, func.__defaults__, func.__closure__
    )
    twin.__qualname__ = f"{func.__qualname__}_parallel"
    twin.__module__ = func.__module__
    return jit(twin, parallel=True)


def _fallback_cache_dir() -> str:
    """Point numba's cache at ``$TMPDIR/nablanet-numba-cache-<uid>`` unless a place was chosen."""
    config = _load_numba().core.config
    if not config.CACHE_DIR:
        uid = os.getuid() if hasattr(os, "getuid") else "user"
        config.CACHE_DIR = os.path.join(tempfile.gettempdir(), f"nablanet-numba-cache-{uid}")
    return str(config.CACHE_DIR)


def threads() -> int:
    """How many threads the compiled kernels may use (1 without numba)."""
    numba = _load_numba()
    return 1 if numba is None else int(numba.get_num_threads())


def use_parallel(size: int) -> bool:
    """True when a kernel over ``size`` elements should take its multi-threaded form."""
    return size >= PARALLEL_MIN and threads() > 1


def enabled() -> bool:
    """True when compiled kernels are available and switched on."""
    global _enabled
    if _enabled is None:  # the first call: load numba now
        _enabled = _load_numba() is not None
    return _enabled


def __getattr__(name: str) -> Any:
    """Import the kernel modules (``nablanet._fast.update``, ...) and ``prange`` on first use."""
    if name in ("update", "dense", "loss", "gather", "network", "infer"):
        return importlib.import_module(f"{__name__}.{name}")
    if name == "prange":  # numba's parallel range inside kernels; plain ``range`` without numba
        numba = _load_numba()
        return range if numba is None else numba.prange
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def set_enabled(flag: bool) -> None:
    """Switch the compiled kernels on or off (off always works; on needs numba)."""
    global _enabled
    if flag and not AVAILABLE:
        raise RuntimeError("compiled kernels need numba: pip install 'nablanet[fast]'")
    _enabled = bool(flag)


@contextmanager
def use_fast(flag: bool) -> Iterator[None]:
    """Context manager: run the block with compiled kernels on (``True``) or off (``False``)."""
    previous = enabled()
    set_enabled(flag)
    try:
        yield
    finally:
        set_enabled(previous)
