"""The nablanet model file container: a ZIP archive of one JSON header and raw ``.npy`` arrays.

No pickle: loading never runs code from the file (as in tinygrad's ``nn/state.py``); the
model's description is kept apart from its weights (as in Keras).

Format version 1: an ordinary ZIP archive (suffix ``.nbnet`` by convention, not enforced;
``unzip -l model.nbnet`` lists it) with members

- ``header.json``, UTF-8 JSON::

    {"format": "nablanet", "format_version": 1, "nablanet_version": "0.1.0",
     "arrays": {"<name>": {"dtype": "<f4", "shape": [3, 2], "file": "arrays/0000.npy",
                           "sha256": "<hex digest of the member's bytes>"}, ...},
     "model": {...the caller's header...}}

  where ``dtype`` is a NumPy dtype string of kind bool, int, uint, float or complex;
- ``arrays/0000.npy``, ``arrays/0001.npy``, ...: one array each in the standard ``.npy``
  format (``np.lib.format.write_array(..., allow_pickle=False)``).

By hand: ``json.loads(zipfile.ZipFile(p).read("header.json"))``, then for each ``"arrays"``
entry read its ``"file"`` member, compare ``hashlib.sha256(data).hexdigest()`` with
``"sha256"`` and ``np.load(io.BytesIO(data), allow_pickle=False)``. Other members are ignored.

This module writes the container (:func:`write_model_file`) and holds what writing and reading
share; :mod:`.reader` reads it back within the limits of :mod:`.limits`.

Saving is atomic (:func:`nablanet._atomic.atomic_write`): write a temporary file in the
target's directory, fsync, ``os.replace``. On any failure the temporary file is removed and an
existing target is left untouched.
"""

import hashlib
import importlib.metadata
import io
import json
import math
import os
import pathlib
import sys
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._atomic import atomic_write
from .._validation import short_repr
from . import limits

FORMAT_NAME = "nablanet"
FORMAT_VERSION = 1
DEFAULT_SUFFIX = ".nbnet"
HEADER_MEMBER = "header.json"
ALLOWED_KINDS = "biufc"  # bool, signed int, unsigned int, float, complex

try:
    NABLANET_VERSION = importlib.metadata.version("nablanet")
except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
    NABLANET_VERSION = "unknown"


class ModelFileError(ValueError):
    """A model file is damaged, unsafe, or not a nablanet model file; the message names it."""


@dataclass(frozen=True)
class ArraySpec:
    """What ``header.json`` declares about one array, checked against the limits."""

    member: str
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    sha256: str

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


#: ``check(model_header, specs, where)``: see :func:`nablanet.saving.reader.read_model_file`.
HeaderCheck = Callable[[dict[str, Any], dict[str, ArraySpec], str], None]


def _path_text(where: str, path: tuple[Any, ...]) -> str:
    return where + "".join(f"[{short_repr(key)}]" for key in path)


def check_json(value: Any, where: str, depth: int = 0) -> None:
    """Raise naming the first part of ``value`` that a model file cannot hold and read back.

    ``TypeError`` for what JSON cannot store (a set, an object, a NumPy integer, a non-string
    key, NaN or infinity); ``ValueError`` for what it stores but :func:`read_model_file` refuses
    or cannot parse: nesting deeper than ``MAX_JSON_DEPTH`` levels (``value`` itself sits
    ``depth`` levels down in ``header.json``), a string with a lone surrogate (not UTF-8), an
    integer of more digits than Python parses (``sys.get_int_max_str_digits()``, 4300 by
    default). Iterative, so that no value can exhaust the stack here. ``where`` names
    ``value`` in the message (``"metadata"`` -> ``metadata['notes'][3]``).
    """
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        field = _path_text(where, path)
        if depth + len(path) > limits.MAX_JSON_DEPTH:
            raise ValueError(
                f"{_path_text(where, path[:3])}... nests deeper than the {limits.MAX_JSON_DEPTH} "
                "levels a model file's header may have (saving.MAX_JSON_DEPTH)"
            )
        if isinstance(item, dict):
            for key in item:
                if not isinstance(key, str):
                    raise TypeError(
                        f"{field} has a non-string key {short_repr(key)}; JSON keys must be str"
                    )
                _check_text(key, f"{field} has a key {short_repr(key)} that")
            stack.extend((v, (*path, k)) for k, v in reversed(item.items()))
        elif isinstance(item, list | tuple):
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(item))))
        elif isinstance(item, str):
            _check_text(item, f"{field} is {short_repr(item)}, which")
        elif isinstance(item, float) and not math.isfinite(item):
            raise TypeError(f"{field} is {item!r}; JSON cannot store NaN or infinity")
        elif isinstance(item, int) and not isinstance(item, bool):
            try:
                str(item)
            except ValueError:  # more digits than sys.get_int_max_str_digits()
                raise ValueError(
                    f"{field} is {short_repr(item)}, an integer too long to store: JSON text "
                    f"of more than {sys.get_int_max_str_digits()} digits cannot be read back"
                ) from None
        elif item is not None and not isinstance(item, bool | float):
            raise TypeError(
                f"{field} is not JSON-serialisable: got {type(item).__name__} {short_repr(item)}"
            )


def _check_text(text: str, subject: str) -> None:
    """Refuse a string UTF-8 cannot encode (a lone surrogate such as ``'\\udc80'``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{subject} is not valid Unicode: {short_repr(text[exc.start])} at position "
            f"{exc.start} is a lone surrogate, which UTF-8 cannot encode"
        ) from None


def _check_arrays(arrays: Any) -> dict[str, np.ndarray]:
    """Return ``arrays`` as a dict of ndarrays, or raise ``TypeError`` naming the bad entry."""
    if not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be a dict of name -> ndarray, got {type(arrays).__name__}")
    checked = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"array names must be non-empty strings, got {name!r}")
        try:
            array = np.asarray(value)
        except ValueError as exc:  # ragged nested lists
            raise TypeError(f"array {name!r} is not a regular numeric array: {exc}") from exc
        if array.dtype.kind not in ALLOWED_KINDS:
            raise TypeError(
                f"array {name!r} has dtype {array.dtype}; only bool, integer, float and complex "
                "arrays can be saved (object and string arrays would need pickle)"
            )
        checked[name] = array
    return checked


def _write_archive(file: Any, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write the ZIP archive described in the module docstring to the open binary ``file``."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as zf:
        entries = {}
        for i, (name, array) in enumerate(arrays.items()):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            data = buffer.getvalue()
            member = f"arrays/{i:04d}.npy"
            zf.writestr(member, data)
            digest = hashlib.sha256(data).hexdigest()
            entries[name] = dict(
                dtype=array.dtype.str, shape=list(array.shape), file=member, sha256=digest
            )
        full = dict(format=FORMAT_NAME, format_version=FORMAT_VERSION)
        full.update(nablanet_version=NABLANET_VERSION, arrays=entries, model=header)
        text = json.dumps(full, allow_nan=False, ensure_ascii=False)
        zf.writestr(HEADER_MEMBER, text.encode("utf-8"))


def write_model_file(
    path: str | os.PathLike[str], header: dict[str, Any], arrays: Mapping[str, Any]
) -> pathlib.Path:
    """Atomically write a model file (format in the module docstring); return its path.

    Parameters
    ----------
    path : str or path-like
        Target file; its suffix is kept as given (``DEFAULT_SUFFIX`` is ``".nbnet"``).
    header : dict
        JSON-serialisable description of the model (tuples come back as lists).
    arrays : dict of str to ndarray
        Named arrays of any shape with a bool, integer, float or complex dtype.

    Raises ``TypeError`` naming the key if ``header`` is not JSON or an array is not numeric,
    ``ValueError`` naming it if the header could not be read back (see :func:`check_json`),
    ``OSError`` naming ``path`` if it is (or ends in a separator, as a directory does) a
    directory or its directory is missing or unwritable; nothing is written. Any failure while writing leaves an existing ``path`` untouched.
    """
    if not isinstance(header, dict):
        raise TypeError(f"header must be a dict, got {type(header).__name__}")
    check_json(header, "header", depth=1)  # header.json holds it as {"model": header}
    checked = _check_arrays(arrays)
    with atomic_write(path, action="save model to") as file:  # the path as given: "dir/"
        _write_archive(file, header, checked)
    return pathlib.Path(path)
