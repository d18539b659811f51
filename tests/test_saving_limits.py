"""Tests for nablanet.saving's limits: hostile model files are refused before any big allocation.

Each crafted file states one lie (a size, a shape, a count) in a way that made the reader of
before allocate what the lie claims, or crash with an error other than ModelFileError. Peak
memory is measured with ``tracemalloc`` (NumPy reports its allocations to it), so "refused
cheaply" is checked, not assumed. The files are built with ``zipfile``, ``json``, ``zlib`` and
``np.lib.format`` directly, and some ZIP size fields are patched by hand.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _helpers import array_entry, crafted_header, flip_trials, npy_bytes, refused_cheaply
from nablanet.saving import limits, read_model_file, write_model_file


def _npy_header(dtype: str, shape: tuple[int, ...]) -> bytes:
    """The preamble of a .npy file (magic, version 1.0, header dict), no data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def _craft(path: Path, header: dict | bytes, members: dict[str, bytes] | None = None) -> Path:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("header.json", raw)
        for name, data in (members or {}).items():
            zf.writestr(name, data)
    return path


def _deflated_member(zf: zipfile.ZipFile, name: str, head: bytes, filler: bytes, size: int) -> int:
    """Write ``head`` then ``size`` bytes of ``filler`` as a deflated member, 1 MiB at a time
    (the test never holds it whole); return the sha256-free byte count written."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    chunk = filler * (2**20 // len(filler))
    with zf.open(info, "w") as out:
        out.write(head)
        left = size
        while left > 0:
            piece = chunk[: min(left, len(chunk))]
            out.write(piece)
            left -= len(piece)
    return len(head) + size


def _patch_size(path: Path, member: str, file_size: int) -> None:
    """Rewrite the uncompressed size that the ZIP records for ``member`` (local header and
    central directory) without touching its data: a lie about the size."""
    raw = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo(member)
    local = info.header_offset
    assert raw[local : local + 4] == b"PK\x03\x04"
    raw[local + 22 : local + 26] = struct.pack("<I", file_size)
    name = member.encode()
    central = raw.index(b"PK\x01\x02")
    while raw[central + 46 : central + 46 + len(name)] != name:
        central = raw.index(b"PK\x01\x02", central + 4)
    raw[central + 24 : central + 28] = struct.pack("<I", file_size)
    path.write_bytes(bytes(raw))


def _refused_cheaply(path: Path, read: Callable[[Path], Any] = read_model_file) -> str:
    """Read ``path``: expect ModelFileError naming it, with a small peak memory; the message."""
    return refused_cheaply(path, read)


# ---------------------------------------------------------------------------------------------
# array members


def test_npy_header_claiming_1e12_elements_is_refused_before_allocating(tmp_path):
    # 150 bytes: a .npy preamble for 10**12 float64 and no data; header.json says [2].
    data = _npy_header("<f8", (10**12,))
    path = _craft(
        tmp_path / "m.nbnet",
        crafted_header({"w": array_entry(data, "<f8", [2])}),
        {"arrays/0000.npy": data},
    )
    assert len(data) < 160 and path.stat().st_size < 1000
    message = _refused_cheaply(path)
    assert "arrays/0000.npy" in message


@pytest.mark.parametrize("shape", [[10**12], [10**6, 10**6], [30000, 30000], [2**31, 2, 2]])
def test_declared_shapes_beyond_the_array_limit_are_refused(tmp_path, shape):
    data = _npy_header("<f8", tuple(shape))
    path = _craft(
        tmp_path / "m.nbnet",
        crafted_header({"w": array_entry(data, "<f8", shape)}),
        {"arrays/0000.npy": data},
    )
    message = _refused_cheaply(path)
    assert "MAX_ARRAY_BYTES" in message
    assert "'w'" in message


def test_declared_total_beyond_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_TOTAL_BYTES", 1000)
    arrays, members = {}, {}
    for i in range(3):
        data = npy_bytes(np.zeros(50))  # 400 bytes each: 1200 in all
        arrays[f"a{i}"] = array_entry(data, "<f8", [50], f"arrays/{i:04d}.npy")
        members[f"arrays/{i:04d}.npy"] = data
    assert "MAX_TOTAL_BYTES" in _refused_cheaply(
        _craft(tmp_path / "m.nbnet", crafted_header(arrays), members)
    )


def test_more_than_the_available_memory_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 10_000)
    data = npy_bytes(np.zeros(1000))  # 8000 bytes, loading needs about twice that
    path = _craft(
        tmp_path / "m.nbnet",
        crafted_header({"w": array_entry(data, "<f8", [1000])}),
        {"arrays/0000.npy": data},
    )
    message = _refused_cheaply(path)
    assert "available" in message and "16000" in message


def test_a_file_declaring_a_huge_layer_in_a_few_kb_is_refused(tmp_path, monkeypatch):
    # 30000 x 30000 float32 is 3.6 GB: within a raised limit, the member's size betrays the lie.
    monkeypatch.setattr(limits, "MAX_ARRAY_BYTES", 2**40)
    monkeypatch.setattr(limits, "MAX_TOTAL_BYTES", 2**40)
    monkeypatch.setattr(limits, "available_memory", lambda: 2**50)
    data = _npy_header("<f4", (30000, 30000)) + b"\x00" * 10_000
    path = _craft(
        tmp_path / "m.nbnet",
        crafted_header({"W": array_entry(data, "<f4", [30000, 30000])}),
        {"arrays/0000.npy": data},
    )
    assert path.stat().st_size < 15_000
    message = _refused_cheaply(path)
    assert "3600000000 bytes of data" in message


def test_array_member_inflating_far_beyond_its_declared_size_is_refused(tmp_path):
    # A 64 MB member (64 kB deflated) whose .npy and header.json entries say 2 float64.
    head = _npy_header("<f8", (2,))
    path = tmp_path / "m.nbnet"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("header.json", json.dumps(crafted_header({"w": array_entry(head, "<f8", [2])})))
        _deflated_member(zf, "arrays/0000.npy", head, b"\x00", 64 * 2**20)
    assert path.stat().st_size < 200_000
    assert "declared as float64 (2,)" in _refused_cheaply(path)


def test_array_member_lying_about_its_size_stops_at_the_declared_size(tmp_path):
    # The neighbour: the ZIP records the honest small size, the deflate stream goes on for 64 MB.
    data = npy_bytes(np.array([1.0, 2.0]))
    path = tmp_path / "m.nbnet"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("header.json", json.dumps(crafted_header({"w": array_entry(data, "<f8", [2])})))
        _deflated_member(zf, "arrays/0000.npy", data, b"\x00", 64 * 2**20)
    _patch_size(path, "arrays/0000.npy", len(data))
    _refused_cheaply(path)


@pytest.mark.parametrize("extra", [1, 5000])
def test_member_longer_than_its_array_is_refused(tmp_path, extra):
    data = npy_bytes(np.array([1.0, 2.0])) + b"\x00" * extra
    path = _craft(
        tmp_path / "m.nbnet",
        crafted_header({"w": array_entry(data, "<f8", [2])}),
        {"arrays/0000.npy": data},
    )
    _refused_cheaply(path)


def test_member_shorter_than_its_array_is_refused(tmp_path):
    data = npy_bytes(np.arange(4.0))[:-8]
    path = _craft(
        tmp_path / "m.nbnet",
        crafted_header({"w": array_entry(data, "<f8", [4])}),
        {"arrays/0000.npy": data},
    )
    _refused_cheaply(path)


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("shape", "1e400", "shape"),  # overflows to inf when parsed
        ("shape", "[1e400]", "shape[0]"),
        ("shape", "[-1]", "shape[0]"),
        ("shape", "[2.0]", "shape[0]"),
        ("shape", "[true, 2]", "shape[0]"),
        ("shape", '["2"]', "shape[0]"),
        ("shape", "2", "shape"),
        ("shape", "[" + ",".join(["1"] * 40) + "]", "shape"),
        ("shape", "[" + "9" * 5000 + "]", "header.json"),  # beyond Python's int parsing limit
        ("dtype", '"(1000000000,)f8"', "dtype"),
        ("dtype", '"U10"', "dtype"),
        ("dtype", '"V8"', "dtype"),
        ("dtype", "8", "dtype"),
        ("sha256", '"abc"', "sha256"),
        ("file", "[]", "file"),
        ("file", '""', "file"),
    ],
)
def test_malformed_array_entries_name_the_field(tmp_path, field, value, named):
    data = npy_bytes(np.array([1.0, 2.0]))
    entry = json.dumps(array_entry(data, "<f8", [2]))
    entry = entry.replace(
        f'"{field}": ' + json.dumps(array_entry(data, "<f8", [2])[field]), f'"{field}": {value}'
    )
    raw = json.dumps(crafted_header({"w": "ENTRY"})).replace('"ENTRY"', entry).encode()
    path = _craft(tmp_path / "m.nbnet", raw, {"arrays/0000.npy": data})
    message = _refused_cheaply(path)
    assert named in message


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_non_finite_numbers_anywhere_in_the_header_are_refused(tmp_path, value):
    raw = json.dumps(crafted_header({}, model={"kind": "crafted", "lr": "X"})).replace('"X"', value)
    message = _refused_cheaply(_craft(tmp_path / "m.nbnet", raw.encode()))
    assert "model.lr" in message
    assert "finite" in message


def test_deeply_nested_header_is_refused(tmp_path):
    raw = json.dumps(crafted_header({}, model="X")).replace('"X"', "[" * 100_000 + "]" * 100_000)
    _refused_cheaply(_craft(tmp_path / "m.nbnet", raw.encode()))
    raw = json.dumps(crafted_header({}, model={"kind": "X"})).replace('"X"', "[" * 100 + "]" * 100)
    assert "deeper" in _refused_cheaply(_craft(tmp_path / "m.nbnet", raw.encode()))


# ---------------------------------------------------------------------------------------------
# header.json


def test_header_json_inflating_to_gigabytes_is_refused_unread(tmp_path):
    # The zip bomb: header.json declares 1.5 GB; its deflate stream is 64 kB.
    path = tmp_path / "m.nbnet"
    with zipfile.ZipFile(path, "w") as zf:
        _deflated_member(
            zf, "header.json", json.dumps(crafted_header({})).encode(), b" ", 64 * 2**20
        )
    _patch_size(path, "header.json", 1_500_000_000)
    assert "header.json" in _refused_cheaply(path)


def test_header_json_beyond_the_header_limit_is_refused(tmp_path):
    # Honest sizes, valid JSON (a real header followed by 64 MB of spaces): too big all the same.
    path = tmp_path / "m.nbnet"
    with zipfile.ZipFile(path, "w") as zf:
        _deflated_member(
            zf, "header.json", json.dumps(crafted_header({})).encode(), b" ", 64 * 2**20
        )
    message = _refused_cheaply(path)
    assert "MAX_HEADER_BYTES" in message


def test_header_json_lying_about_its_size_is_refused(tmp_path):
    path = tmp_path / "m.nbnet"
    head = json.dumps(crafted_header({})).encode()
    with zipfile.ZipFile(path, "w") as zf:
        _deflated_member(zf, "header.json", head, b" ", 64 * 2**20)
    _patch_size(path, "header.json", len(head) + 10)
    _refused_cheaply(path)


def test_members_with_an_unsupported_compression_method_are_refused(tmp_path):
    path = tmp_path / "m.nbnet"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as zf:
        zf.writestr("header.json", json.dumps(crafted_header({})))
    assert "compression method" in _refused_cheaply(path)


def test_deflated_files_are_still_read(tmp_path):
    # A model file re-zipped with deflate (e.g. by ``zip``) is still a model file.
    data = npy_bytes(np.arange(1000.0))
    path = tmp_path / "m.nbnet"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "header.json", json.dumps(crafted_header({"w": array_entry(data, "<f8", [1000])}))
        )
        zf.writestr("arrays/0000.npy", data)
    np.testing.assert_array_equal(read_model_file(path)[1]["w"], np.arange(1000.0))


def test_fortran_order_arrays_round_trip(tmp_path):
    array = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    path = write_model_file(tmp_path / "m.nbnet", {}, {"f": array})
    got = read_model_file(path)[1]["f"]
    np.testing.assert_array_equal(got, array)
    assert got.flags.f_contiguous


# ---------------------------------------------------------------------------------------------
# random damage: every outcome is a correct load or a ModelFileError


def test_random_byte_flips_give_a_correct_load_or_model_file_error(tmp_path):
    arrays = {
        "W": np.random.default_rng(1).standard_normal((6, 5)).astype(np.float32),
        "b": np.arange(5, dtype=np.float64),
        "n": np.array(7, dtype=np.int64),
    }
    path = write_model_file(tmp_path / "m.nbnet", {"units": [5], "name": "x"}, arrays)

    def same(result: Any) -> bool:
        got = result[1]
        return list(got) == list(arrays) and all(
            got[k].dtype == v.dtype and np.array_equal(got[k], v) for k, v in arrays.items()
        )

    outcomes = flip_trials(path, 1000, seed=10, read=read_model_file, same=same)
    assert outcomes["refused"] > 900
