"""The size limits of reading a model file, checked before anything is allocated.

Kept in a module of their own so that a test can lower one (``monkeypatch.setattr(limits,
"MAX_TOTAL_BYTES", 1000)``) and the reader sees it: :mod:`.reader` reads them as
``limits.NAME`` at call time.
"""

import os

#: Largest ``header.json`` read, in bytes (a real header is a few kB).
MAX_HEADER_BYTES = 4 * 2**20
#: Largest array a model file may declare, in bytes (a 2 GiB weight matrix is 537M float32).
MAX_ARRAY_BYTES = 2 * 2**30
#: Largest total of all the arrays a model file may declare, in bytes.
MAX_TOTAL_BYTES = 8 * 2**30
#: Loading needs about this many times the arrays' bytes (the arrays read, then the model's
#: parameters and optimizer buffers they are copied into); refused above the available memory.
LOAD_MEMORY_FACTOR = 2
#: Longest ``.npy`` preamble (magic, version, length and header dict) accepted, in bytes.
NPY_HEADER_MAX = 4096
#: Deepest nesting of lists and objects accepted in ``header.json``.
MAX_JSON_DEPTH = 64
#: Most dimensions an array may have (NumPy's own limit is 64).
MAX_NDIM = 32


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
