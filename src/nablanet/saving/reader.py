"""Read a model file (the container of :mod:`.container`) back, every size checked first.

Reading is bounded: ``header.json`` is read only up to ``MAX_HEADER_BYTES`` (4 MiB) and must
hold finite numbers only; every ``"arrays"`` entry is checked (dtype, shape, sha256) and its
size against ``MAX_ARRAY_BYTES`` (2 GiB per array), the total against ``MAX_TOTAL_BYTES``
(8 GiB) and ``LOAD_MEMORY_FACTOR`` times it against the available memory, all before any member
is read; a member must be stored or deflated and hold exactly its ``.npy`` preamble (at most
``NPY_HEADER_MAX`` bytes, checked against the entry) plus the declared data, read in 1 MiB
chunks. Any failure is a :class:`~nablanet.saving.ModelFileError` naming the file and the field.
The limits live in :mod:`.limits`.
"""

import hashlib
import json
import math
import os
import pathlib
import re
import struct
import zipfile
import zlib
from typing import IO, Any

import numpy as np

from .._validation import short_repr
from . import limits
from .container import (
    ALLOWED_KINDS,
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_MEMBER,
    ArraySpec,
    HeaderCheck,
    ModelFileError,
)

_MAX_DEFLATE_RATIO = 1032  # deflate cannot expand one byte into more than ~1032
_CHUNK = 2**20
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DTYPE = re.compile(r"[<>|=]?[biufc][0-9]{1,2}")
# What a damaged archive can raise from zipfile, zlib and the seeks they do on bad offsets
# ("[Errno 22] Invalid argument"); ModelFileError (a ValueError) is re-raised before these.
_ZIP_ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError,
    RuntimeError, OSError, ValueError, struct.error, OverflowError, IndexError, KeyError,
)  # fmt: skip


def _field(path: tuple[Any, ...]) -> str:
    """``("arrays", "W", "shape", 0)`` -> ``arrays['W'].shape[0]`` (a header field's name)."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        elif key.isidentifier():
            out += f".{key}" if out else key
        else:
            out += f"[{key!r}]"
    return out or "the top level"


def _check_json_values(value: Any, where: str) -> None:
    """Refuse NaN, infinities (``1e400`` parses as inf) and nesting deeper than MAX_JSON_DEPTH,
    naming the field; iterative, so that no header can exhaust the stack here."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if len(path) > limits.MAX_JSON_DEPTH:
            raise ModelFileError(
                f"{where}: {HEADER_MEMBER} nests deeper than {limits.MAX_JSON_DEPTH} levels "
                f"(at {_field(path)})"
            )
        if isinstance(item, float) and not math.isfinite(item):
            raise ModelFileError(
                f"{where}: {HEADER_MEMBER} field {_field(path)} is {item!r}; numbers must be "
                "finite (a literal such as 1e400 overflows to infinity)"
            )
        if isinstance(item, dict):
            stack.extend((v, (*path, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(item))


def _member_info(zf: zipfile.ZipFile, member: str, where: str, what: str) -> zipfile.ZipInfo:
    """The member's ZIP entry, refused unless stored or deflated with a possible size ratio."""
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise ModelFileError(f"{where}: member {member!r} ({what}) is missing") from None
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{where}: member {member!r} ({what}) is encrypted")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise ModelFileError(
                f"{where}: member {member!r} ({what}) is corrupted: stored with "
                f"{info.compress_size} bytes but claims {info.file_size}"
            )
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        if info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + 1024:
            raise ModelFileError(
                f"{where}: member {member!r} ({what}) is corrupted: {info.compress_size} "
                f"deflated bytes cannot hold the {info.file_size} it claims"
            )
    else:
        raise ModelFileError(
            f"{where}: member {member!r} ({what}) uses ZIP compression method "
            f"{info.compress_type}; nablanet reads stored or deflated members only"
        )
    return info


def _read_header(zf: zipfile.ZipFile, where: str) -> dict[str, Any]:
    """Read ``header.json`` (at most MAX_HEADER_BYTES, in chunks) and parse it."""
    try:
        info = zf.getinfo(HEADER_MEMBER)
    except KeyError:
        raise ModelFileError(f"{where} has no {HEADER_MEMBER}; not a nablanet model file") from None
    info = _member_info(zf, HEADER_MEMBER, where, "the header")
    if info.file_size > limits.MAX_HEADER_BYTES:
        raise ModelFileError(
            f"{where}: {HEADER_MEMBER} is {info.file_size} bytes, more than the "
            f"{limits.MAX_HEADER_BYTES} a model header may have (MAX_HEADER_BYTES)"
        )
    chunks, size = [], 0
    with zf.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > limits.MAX_HEADER_BYTES:  # the stream decompresses past its declared size
                raise ModelFileError(f"{where}: {HEADER_MEMBER} is larger than it declares")
            chunks.append(chunk)
    try:
        header = json.loads(b"".join(chunks).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{where}: {HEADER_MEMBER} is not valid UTF-8 JSON ({exc})") from exc
    except (RecursionError, ValueError) as exc:  # deep nesting; integers of > 4300 digits
        raise ModelFileError(f"{where}: {HEADER_MEMBER} cannot be parsed ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        found = header.get("format") if isinstance(header, dict) else header
        raise ModelFileError(
            f"{where} is not a nablanet model file (format is {short_repr(found)})"
        )
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{where} has an invalid format_version {short_repr(version)}")
    if version > FORMAT_VERSION:
        by = f"a newer nablanet ({short_repr(header.get('nablanet_version'))}, format_version {version})"
        raise ModelFileError(f"{where} was written by {by}; upgrade nablanet to read it")
    if not isinstance(header.get("model"), dict) or not isinstance(header.get("arrays"), dict):
        raise ModelFileError(f"{where}: header.json must hold 'model' and 'arrays' objects")
    _check_json_values(header, where)
    return header


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _array_spec(name: str, entry: Any, where: str) -> ArraySpec:
    """Check one ``"arrays"`` entry of the header against the schema and the size limits."""
    field = f"{HEADER_MEMBER} field arrays[{name!r}]"

    def bad(detail: str) -> ModelFileError:
        return ModelFileError(f"{where}: bad header entry for array {name!r}: {detail}")

    if not isinstance(entry, dict):
        raise bad(f"expected an object, got {short_repr(entry)}")
    missing = [key for key in ("dtype", "shape", "file", "sha256") if key not in entry]
    if missing:
        raise bad(f"{field} lacks {missing}")
    member, digest, dtype_text, shape = (entry[k] for k in ("file", "sha256", "dtype", "shape"))
    if not isinstance(member, str) or not member or len(member) > 1024:
        raise bad(f"{field}.file must be a member name, got {short_repr(member)}")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise bad(f"{field}.sha256 must be 64 hexadecimal digits, got {short_repr(digest)}")
    if isinstance(dtype_text, str) and dtype_text.lstrip("<>|=").startswith("O"):
        raise bad(
            f"{field}.dtype is {dtype_text!r}: object arrays are refused (they would need "
            "pickle, which nablanet never unpickles)"
        )
    if not isinstance(dtype_text, str) or not _DTYPE.fullmatch(dtype_text):
        raise bad(
            f"{field}.dtype must be a numeric dtype such as '<f4', got {short_repr(dtype_text)}"
        )
    try:
        dtype = np.dtype(dtype_text)
    except TypeError as exc:
        raise bad(f"{field}.dtype {dtype_text!r} is not a NumPy dtype ({exc})") from exc
    if dtype.kind not in ALLOWED_KINDS:
        raise bad(f"{field}.dtype {dtype_text!r} is not bool, integer, float or complex")
    if not isinstance(shape, list) or len(shape) > limits.MAX_NDIM:
        raise bad(
            f"{field}.shape must be a list of at most {limits.MAX_NDIM} sizes, got {short_repr(shape)}"
        )
    for i, n in enumerate(shape):
        if not _is_int(n) or n < 0:
            raise bad(f"{field}.shape[{i}] must be a whole number >= 0, got {short_repr(n)}")
        if n > limits.MAX_ARRAY_BYTES:
            raise bad(
                f"{field}.shape[{i}] is {n}, more elements than an array may have "
                f"(saving.MAX_ARRAY_BYTES is {limits.MAX_ARRAY_BYTES} bytes)"
            )
    spec = ArraySpec(member, dtype, tuple(shape), digest)
    if spec.nbytes > limits.MAX_ARRAY_BYTES:
        raise bad(
            f"{field} declares {dtype} {tuple(shape)}, {spec.nbytes} bytes, more than the "
            f"{limits.MAX_ARRAY_BYTES} bytes an array may have (saving.MAX_ARRAY_BYTES)"
        )
    return spec


def _check_total(specs: dict[str, ArraySpec], where: str) -> None:
    total = sum(spec.nbytes for spec in specs.values())
    if total > limits.MAX_TOTAL_BYTES:
        raise ModelFileError(
            f"{where}: header.json declares arrays of {total} bytes in all, more than the "
            f"{limits.MAX_TOTAL_BYTES} bytes a model file may hold (saving.MAX_TOTAL_BYTES)"
        )
    available = limits.available_memory()
    if available is not None and limits.LOAD_MEMORY_FACTOR * total > available:
        raise ModelFileError(
            f"{where}: loading its {total} bytes of arrays needs about "
            f"{limits.LOAD_MEMORY_FACTOR * total} bytes of memory; only {available} are available"
        )


class _Member:
    """Reads a member in chunks, hashing what it reads and never going past ``limit`` bytes."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream, self.left, self.sha = stream, limit, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.stream.read(n) if n else b""
        self.left -= len(data)
        self.sha.update(data)
        return data


def _read_npy_header(reader: _Member, spec: ArraySpec, name: str, where: str) -> bool:
    """Read the ``.npy`` preamble, check it against ``spec``; return its fortran_order."""
    member = spec.member
    try:
        version = np.lib.format.read_magic(reader)
        if version == (1, 0):
            read_header = np.lib.format.read_array_header_1_0
        elif version == (2, 0):
            read_header = np.lib.format.read_array_header_2_0
        else:
            raise ValueError(f"unsupported .npy format version {version}")
        shape, fortran, dtype = read_header(reader, max_header_size=limits.NPY_HEADER_MAX)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise ModelFileError(
            f"{where}: member {member!r} is not a plain numeric .npy array; pickled data "
            f"and object arrays are refused ({exc})"
        ) from exc
    if dtype.hasobject or dtype.kind not in ALLOWED_KINDS:
        raise ModelFileError(
            f"{where}: member {member!r} holds {dtype} data; pickled data and object arrays "
            "are refused"
        )
    if dtype != spec.dtype or tuple(shape) != spec.shape:
        found = f"its .npy header says {dtype} of shape {tuple(shape)}"
        raise ModelFileError(
            f"{where}: array {name!r} (member {member!r}) should be {spec.dtype} "
            f"{spec.shape}, {found}"
        )
    return bool(fortran)


def _read_array(zf: zipfile.ZipFile, name: str, spec: ArraySpec, where: str) -> np.ndarray:
    """Read one array member in chunks into an array of its declared (checked) size."""
    member = spec.member
    info = _member_info(zf, member, where, f"array {name!r}")
    if not spec.nbytes + 10 <= info.file_size <= spec.nbytes + limits.NPY_HEADER_MAX:
        raise ModelFileError(
            f"{where}: member {member!r} holds {info.file_size} bytes, but array {name!r} is "
            f"declared as {spec.dtype} {spec.shape}: {spec.nbytes} bytes of data plus a .npy "
            f"header of at most {limits.NPY_HEADER_MAX} bytes"
        )
    with zf.open(info) as stream:
        reader = _Member(stream, info.file_size)
        fortran = _read_npy_header(reader, spec, name, where)
        if reader.left != spec.nbytes:
            raise ModelFileError(
                f"{where}: member {member!r} holds {reader.left} bytes of data after its .npy "
                f"header; array {name!r} ({spec.dtype} {spec.shape}) needs {spec.nbytes}"
            )
        flat = np.empty(math.prod(spec.shape), dtype=spec.dtype)
        target = flat.view(np.uint8)
        done = 0
        while done < spec.nbytes:
            chunk = reader.read(_CHUNK)
            if not chunk:
                raise ModelFileError(f"{where}: member {member!r} is truncated")
            target[done : done + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
            done += len(chunk)
        if stream.read(1):
            raise ModelFileError(f"{where}: member {member!r} is longer than it declares")
    if reader.sha.hexdigest() != spec.sha256:
        raise ModelFileError(f"{where}: member {member!r} is corrupted (sha256 mismatch)")
    if fortran:
        return flat.reshape(spec.shape[::-1]).transpose()
    return flat.reshape(spec.shape)


def read_model_file(
    path: str | os.PathLike[str], check: HeaderCheck | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a model file written by :func:`~.container.write_model_file`, checking every array.

    Parameters
    ----------
    path : str or path-like
        The model file (any suffix).
    check : callable, optional
        ``check(model_header, specs, where)`` is called with the caller's header, the
        declared :class:`ArraySpec` of every array and the file's name for messages, after the
        container's own header is checked and before any array is read; it raises
        ``ModelFileError`` to refuse the file.

    Returns
    -------
    header : dict
        The caller's header, as given to :func:`~.container.write_model_file`.
    arrays : dict of str to ndarray
        The arrays, bitwise equal to those saved, in the order they were saved.

    Raises ``FileNotFoundError`` if ``path`` does not exist (and the ``OSError`` of ``open`` if
    it cannot be opened), and ``ModelFileError`` naming it and the field if it is not a
    nablanet model file, is truncated or corrupted, comes from a newer format version, holds
    pickled data (which is never unpickled), or declares more than the limits of the module
    docstring. Nothing larger than the checked, declared sizes is ever allocated.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    where = f"model file '{path}'"
    with open(path, "rb") as file:
        try:
            with zipfile.ZipFile(file, "r") as zf:
                header = _read_header(zf, where)
                specs = {
                    str(name): _array_spec(str(name), entry, where)
                    for name, entry in header["arrays"].items()
                }
                _check_total(specs, where)
                if check is not None:
                    check(header["model"], specs, where)
                arrays = {name: _read_array(zf, name, spec, where) for name, spec in specs.items()}
        except ModelFileError:
            raise
        except _ZIP_ERRORS as exc:
            raise ModelFileError(
                f"{where} is not a valid zip archive (truncated or corrupted?): {exc}"
            ) from exc
    return header["model"], arrays
