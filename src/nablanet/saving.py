"""The nablanet model file: a ZIP archive of one JSON header and raw ``.npy`` arrays, no pickle.

Loading never runs code from the file (as in tinygrad's ``nn/state.py``); the model's
description is kept apart from its weights (as in Keras).

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

Saving is atomic (:func:`nablanet._atomic.atomic_write`): write a temporary file in the
target's directory, fsync, ``os.replace``. On any failure the temporary file is removed and an
existing target is left untouched.
"""

import hashlib
import importlib.metadata
import io
import json
import os
import pathlib
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._atomic import atomic_write

FORMAT_NAME = "nablanet"
FORMAT_VERSION = 1
DEFAULT_SUFFIX = ".nbnet"
HEADER_MEMBER = "header.json"
ALLOWED_KINDS = "biufc"  # bool, signed int, unsigned int, float, complex
_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError)

try:
    NABLANET_VERSION = importlib.metadata.version("nablanet")
except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
    NABLANET_VERSION = "unknown"


class ModelFileError(ValueError):
    """A model file is damaged, unsafe, or not a nablanet model file; the message names it."""


def _check_json(value: Any, where: str) -> None:
    """Raise ``TypeError`` naming the first part of ``value`` that JSON cannot hold exactly."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}; JSON keys must be str")
            _check_json(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")
    elif isinstance(value, float) and not np.isfinite(value):
        raise TypeError(f"{where} is {value!r}; JSON cannot store NaN or infinity")
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise TypeError(f"{where} is not JSON-serialisable: got {type(value).__name__} {value!r}")


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
    ``OSError`` naming ``path`` if it is a directory or its directory is missing or unwritable;
    nothing is written. Any failure while writing leaves an existing ``path`` untouched.
    """
    path = pathlib.Path(path)
    if not isinstance(header, dict):
        raise TypeError(f"header must be a dict, got {type(header).__name__}")
    _check_json(header, "header")
    checked = _check_arrays(arrays)
    with atomic_write(path, action="save model to") as file:
        _write_archive(file, header, checked)
    return path


def _read_header(zf: zipfile.ZipFile, where: str) -> dict[str, Any]:
    """Parse and check ``header.json``; ``where`` names the file in error messages."""
    try:
        header = json.loads(zf.read(HEADER_MEMBER).decode("utf-8"))
    except KeyError:
        raise ModelFileError(f"{where} has no {HEADER_MEMBER}; not a nablanet model file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{where}: {HEADER_MEMBER} is not valid UTF-8 JSON ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        found = header.get("format") if isinstance(header, dict) else header
        raise ModelFileError(f"{where} is not a nablanet model file (format is {found!r})")
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{where} has an invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        by = f"a newer nablanet ({header.get('nablanet_version')}, format_version {version})"
        raise ModelFileError(f"{where} was written by {by}; upgrade nablanet to read it")
    if not isinstance(header.get("model"), dict) or not isinstance(header.get("arrays"), dict):
        raise ModelFileError(f"{where}: header.json must hold 'model' and 'arrays' objects")
    return header


def _read_array(zf: zipfile.ZipFile, name: str, entry: Any, where: str) -> np.ndarray:
    """Read one array member and check it against its header ``entry``."""
    try:
        member, digest = str(entry["file"]), str(entry["sha256"])
        dtype, shape = np.dtype(entry["dtype"]), tuple(int(n) for n in entry["shape"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: bad header entry for array {name!r}: {entry!r}") from exc
    try:
        data = zf.read(member)
    except KeyError:
        raise ModelFileError(f"{where}: member {member!r} (array {name!r}) is missing") from None
    except _ZIP_ERRORS as exc:
        raise ModelFileError(f"{where}: member {member!r} is corrupted ({exc})") from exc
    if hashlib.sha256(data).hexdigest() != digest:
        raise ModelFileError(f"{where}: member {member!r} is corrupted (sha256 mismatch)")
    try:
        array = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ModelFileError(
            f"{where}: member {member!r} is not a plain numeric .npy array; pickled data "
            f"and object arrays are refused ({exc})"
        ) from exc
    if array.dtype != dtype or array.shape != shape:
        found = f"is {array.dtype} of shape {array.shape}"
        raise ModelFileError(f"{where}: array {name!r} should be {dtype} {shape}, {found}")
    return array


def read_model_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a model file written by :func:`write_model_file`, verifying every array.

    Parameters
    ----------
    path : str or path-like
        The model file (any suffix).

    Returns
    -------
    header : dict
        The caller's header, as given to :func:`write_model_file`.
    arrays : dict of str to ndarray
        The arrays, bitwise equal to those saved, in the order they were saved.

    Raises ``FileNotFoundError`` if ``path`` does not exist, and ``ModelFileError`` naming it
    if it is not a nablanet model file, is truncated or corrupted, comes from a newer format
    version, or holds pickled data (which is never unpickled).
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    where = f"model file '{path}'"
    try:
        with zipfile.ZipFile(path, "r") as zf:
            header = _read_header(zf, where)
            entries = header["arrays"].items()
            arrays = {name: _read_array(zf, name, entry, where) for name, entry in entries}
    except _ZIP_ERRORS as exc:
        raise ModelFileError(f"{where} is not a valid zip archive (truncated?): {exc}") from exc
    return header["model"], arrays
