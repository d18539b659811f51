"""Tests for nablanet.saving: the low-level model file container."""

# Foreign and hostile files are crafted by hand with ``zipfile``, ``json`` and ``np.save`` (not with
# the writer under test), so the reader is checked against the documented format, not itself.
# The pickle payloads below are live: control tests show that unpickling them really creates a
# marker file, so "the marker was not created" means the reader refused them.

import hashlib
import io
import json
import os
import pickle
import stat
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from _helpers import array_entry, crafted_header, npy_bytes
from nablanet import saving
from nablanet.saving import ModelFileError, read_model_file, write_model_file

# ---------------------------------------------------------------------------------------------
# helpers


class _WritesMarker:
    """Unpickling this object calls ``open(marker, "w")``, which creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _craft(path: Path, members: dict, header=None, header_bytes=None) -> Path:
    """Write a zip with ``header.json`` (from ``header`` or raw ``header_bytes``) and members."""
    with zipfile.ZipFile(path, "w") as zf:
        if header is not None:
            zf.writestr("header.json", json.dumps(header))
        if header_bytes is not None:
            zf.writestr("header.json", header_bytes)
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _read_error(path: Path) -> str:
    """Read ``path``, expect ModelFileError naming it, and return the message."""
    with pytest.raises(ModelFileError) as info:
        read_model_file(path)
    message = str(info.value)
    assert str(path) in message
    return message


def _all_arrays() -> dict:
    rng = np.random.default_rng(0)
    specials = np.array([np.nan, -0.0, np.inf, -np.inf, 5e-324, 1.0], dtype=np.float64)
    return {
        "float32": rng.standard_normal((3, 4)).astype(np.float32),
        "float64": specials,
        "int64": np.array([np.iinfo(np.int64).min, -1, 0, np.iinfo(np.int64).max]),
        "bool": np.array([[True, False], [False, True]]),
        "uint8": np.arange(256, dtype=np.uint8),
        "complex128": np.array([1 + 2j, -0.0 - 1j]),
        "big_endian": np.arange(3, dtype=">f8"),
        "fortran": np.asfortranarray(rng.standard_normal((2, 3))),
        "scalar_0d": np.array(2.5),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "layers.0/W": np.ones((2, 2), dtype=np.float32),  # a name that is not a file name
    }


# ---------------------------------------------------------------------------------------------
# round trips and the documented format


def test_round_trip_is_bitwise(tmp_path):
    arrays = _all_arrays()
    header = {"layers": [{"units": 4, "act": "relu", "extra": None}], "lr": 0.1, "ok": True}
    write_model_file(tmp_path / "m.nbnet", header, arrays)

    got_header, got = read_model_file(tmp_path / "m.nbnet")

    assert got_header == {
        "layers": [{"units": 4, "act": "relu", "extra": None}],
        "lr": 0.1,
        "ok": True,
    }
    assert list(got) == list(arrays)
    for name, expected in arrays.items():
        assert got[name].dtype == expected.dtype, name
        assert got[name].shape == expected.shape, name
        assert got[name].tobytes(order="A") == expected.tobytes(order="A"), name


def test_tuples_in_header_come_back_as_lists(tmp_path):
    write_model_file(tmp_path / "m.nbnet", {"shape": (2, 3), "nested": {"t": ((1,), [])}}, {})
    header, arrays = read_model_file(tmp_path / "m.nbnet")
    assert header == {"shape": [2, 3], "nested": {"t": [[1], []]}}
    assert arrays == {}


def test_unicode_header_is_stored_as_utf8_json(tmp_path):
    header = {"name": "réseau ∇ 日本語 🧠", "clés": ["ü", "ß"]}
    path = write_model_file(tmp_path / "m.nbnet", header, {})

    raw = zipfile.ZipFile(path).read("header.json")
    assert "日本語 🧠" in raw.decode("utf-8")
    assert json.loads(raw)["model"] == header
    assert read_model_file(path)[0] == header


def test_file_can_be_parsed_by_hand(tmp_path):
    W = np.arange(6, dtype=np.float32).reshape(2, 3)
    path = write_model_file(tmp_path / "m.nbnet", {"units": [3]}, {"W": W, "b": np.zeros(3)})

    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read("header.json").decode("utf-8"))
        assert header["format"] == "nablanet"
        assert header["format_version"] == 1 == saving.FORMAT_VERSION
        assert isinstance(header["nablanet_version"], str)
        assert header["model"] == {"units": [3]}
        assert list(header["arrays"]) == ["W", "b"]
        entry = header["arrays"]["W"]
        assert entry["dtype"] == "<f4"
        assert entry["shape"] == [2, 3]
        data = zf.read(entry["file"])
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    np.testing.assert_array_equal(np.load(io.BytesIO(data), allow_pickle=False), W)


def test_returns_path_and_keeps_any_suffix(tmp_path):
    assert saving.DEFAULT_SUFFIX == ".nbnet"
    path = write_model_file(str(tmp_path / "weights.bin"), {}, {"x": np.ones(2)})
    assert path == tmp_path / "weights.bin"
    assert isinstance(path, Path)
    assert sorted(os.listdir(tmp_path)) == ["weights.bin"]
    np.testing.assert_array_equal(read_model_file(path)[1]["x"], np.ones(2))


def test_saved_file_is_not_private_to_the_owner(tmp_path):
    # NamedTemporaryFile creates 0o600 files; the saved model should be readable like np.save's.
    # Under the usual umask 022: the umask is honoured (see the next test).
    old = os.umask(0o022)
    try:
        path = write_model_file(tmp_path / "m.nbnet", {}, {})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_saved_file_honours_the_umask_and_keeps_an_existing_mode(tmp_path):
    old = os.umask(0o077)
    try:
        path = write_model_file(tmp_path / "m.nbnet", {}, {})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # not world-readable under umask 077
    path.chmod(0o640)
    write_model_file(path, {"v": 2}, {})
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_saving_again_replaces_the_old_content(tmp_path):
    path = tmp_path / "m.nbnet"
    write_model_file(path, {"v": 1}, {"a": np.zeros(2), "old": np.ones(1)})
    write_model_file(path, {"v": 2}, {"a": np.full(3, 7.0)})
    header, arrays = read_model_file(path)
    assert header == {"v": 2}
    assert list(arrays) == ["a"]
    np.testing.assert_array_equal(arrays["a"], [7.0, 7.0, 7.0])
    assert sorted(os.listdir(tmp_path)) == ["m.nbnet"]


def test_crafted_well_formed_file_is_read(tmp_path):
    # Shows that the crafted files below are realistic: only their defect makes them fail.
    data = npy_bytes(np.array([1.5, 2.5]))
    path = _craft(
        tmp_path / "ok.nbnet",
        {"arrays/0000.npy": data},
        crafted_header({"w": array_entry(data, "<f8", [2])}),
    )
    header, arrays = read_model_file(path)
    assert header == {"kind": "crafted"}
    np.testing.assert_array_equal(arrays["w"], [1.5, 2.5])


# ---------------------------------------------------------------------------------------------
# bad input to the writer: TypeError naming the problem, nothing written


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ({"opt": {"betas": {0.9, 0.99}}}, "['opt']['betas']"),
        ({"loss": [1.0, float("nan")]}, "['loss'][1]"),
        ({"lr": float("inf")}, "['lr']"),
        ({"units": np.int64(3)}, "['units']"),
        ({"layer": object()}, "['layer']"),
        ({"layers": {1: "dense"}}, "['layers']"),
    ],
)
def test_non_json_header_is_refused_naming_the_key(tmp_path, header, named):
    with pytest.raises(TypeError) as info:
        write_model_file(tmp_path / "m.nbnet", header, {"W": np.ones(2)})
    assert named in str(info.value)
    assert os.listdir(tmp_path) == []


def test_header_must_be_a_dict(tmp_path):
    with pytest.raises(TypeError, match="header must be a dict, got list"):
        write_model_file(tmp_path / "m.nbnet", [1, 2], {})
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "value",
    [np.array([{"a": 1}], dtype=object), np.array(["text"]), [[1.0], [1.0, 2.0]]],
    ids=["object", "str", "ragged"],
)
def test_non_numeric_arrays_are_refused_naming_the_key(tmp_path, value):
    with pytest.raises(TypeError, match="'bad_array'"):
        write_model_file(tmp_path / "m.nbnet", {}, {"ok": np.ones(2), "bad_array": value})
    assert os.listdir(tmp_path) == []


def test_array_names_must_be_strings(tmp_path):
    with pytest.raises(TypeError, match="non-empty strings, got 0"):
        write_model_file(tmp_path / "m.nbnet", {}, {0: np.ones(2)})
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# pickle payloads are refused and never executed


def test_control_the_payloads_are_live(tmp_path):
    marker = tmp_path / "marker"
    pickle.loads(pickle.dumps(_WritesMarker(marker)))
    assert marker.exists()
    marker.unlink()
    payload = npy_bytes(np.array([_WritesMarker(marker)], dtype=object), allow_pickle=True)
    np.load(io.BytesIO(payload), allow_pickle=True)
    assert marker.exists()


@pytest.mark.parametrize("declared_dtype", ["<f8", "|O"])
def test_object_array_member_is_refused_and_not_executed(tmp_path, declared_dtype):
    marker = tmp_path / "marker"
    data = npy_bytes(np.array([_WritesMarker(marker)], dtype=object), allow_pickle=True)
    entry = array_entry(data, declared_dtype, [1])  # a valid checksum: only the content is wrong
    path = _craft(tmp_path / "evil.nbnet", {"arrays/0000.npy": data}, crafted_header({"w": entry}))

    message = _read_error(path)

    assert "pickle" in message
    assert not marker.exists()


def test_raw_pickle_member_is_refused_and_not_executed(tmp_path):
    marker = tmp_path / "marker"
    data = pickle.dumps(_WritesMarker(marker))
    path = _craft(
        tmp_path / "evil.nbnet",
        {"arrays/0000.npy": data},
        crafted_header({"w": array_entry(data, "<f8", [1])}),
    )

    message = _read_error(path)

    assert "pickle" in message
    assert not marker.exists()


def test_extra_members_are_ignored_and_not_executed(tmp_path):
    marker = tmp_path / "marker"
    path = write_model_file(tmp_path / "m.nbnet", {"k": 1}, {"w": np.arange(3.0)})
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("evil.pkl", pickle.dumps(_WritesMarker(marker)))
        zf.writestr(
            "arrays/9999.npy", npy_bytes(np.array([_WritesMarker(marker)]), allow_pickle=True)
        )

    header, arrays = read_model_file(path)

    assert header == {"k": 1}
    assert list(arrays) == ["w"]
    np.testing.assert_array_equal(arrays["w"], [0.0, 1.0, 2.0])
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------
# damaged or foreign files


@pytest.fixture
def saved(tmp_path) -> Path:
    arrays = {"W": np.arange(12, dtype=np.float64).reshape(3, 4), "b": np.ones(4)}
    return write_model_file(tmp_path / "m.nbnet", {"units": [4]}, arrays)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.1, 0.0])
def test_truncated_file_is_refused_naming_it(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[: int(len(data) * keep)])
    _read_error(saved)


def test_flipped_byte_in_array_member_is_detected(saved):
    raw = saved.read_bytes()
    member = zipfile.ZipFile(saved).read("arrays/0000.npy")
    position = raw.index(member) + len(member) - 1  # last byte of W's data (ZIP_STORED)
    flipped = bytearray(raw)
    flipped[position] ^= 0x01
    saved.write_bytes(bytes(flipped))

    assert "corrupted" in _read_error(saved)


def test_checksum_mismatch_in_a_valid_zip_is_detected(tmp_path):
    good, bad = npy_bytes(np.array([1.0, 2.0])), npy_bytes(np.array([1.0, 3.0]))
    path = _craft(
        tmp_path / "m.nbnet",
        {"arrays/0000.npy": bad},
        crafted_header({"w": array_entry(good, "<f8", [2])}),
    )
    message = _read_error(path)
    assert "corrupted" in message
    assert "sha256" in message


def test_newer_format_version_asks_to_upgrade(tmp_path):
    path = _craft(
        tmp_path / "m.nbnet", {}, crafted_header({}, format_version=2, nablanet_version="9.0")
    )
    message = _read_error(path)
    assert "newer nablanet" in message
    assert "upgrade" in message


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, True, None])
def test_invalid_format_version_is_refused(tmp_path, version):
    path = _craft(tmp_path / "m.nbnet", {}, crafted_header({}, format_version=version))
    assert "format_version" in _read_error(path)


@pytest.mark.parametrize(
    "header_bytes",
    [
        json.dumps(crafted_header({}, format="keras")).encode(),
        json.dumps([1, 2]).encode(),
        json.dumps({k: v for k, v in crafted_header({}).items() if k != "format"}).encode(),
        json.dumps(crafted_header({}, model=[1])).encode(),
        json.dumps(crafted_header([])).encode(),
        b"{not json",
        b"\xff\xfe\x00garbage",
    ],
    ids=[
        "wrong_format",
        "list",
        "no_format",
        "model_not_dict",
        "arrays_not_dict",
        "bad_json",
        "bad_utf8",
    ],
)
def test_foreign_or_broken_header_is_refused(tmp_path, header_bytes):
    path = _craft(tmp_path / "m.nbnet", {}, header_bytes=header_bytes)
    _read_error(path)


def test_zip_without_header_is_refused(tmp_path):
    np.savez(tmp_path / "weights.npz", W=np.ones(3))  # a zip, but not a model file
    assert "header.json" in _read_error(tmp_path / "weights.npz")


@pytest.mark.parametrize("content", [b"", b"hello, not a zip\n", b"PK\x03\x04" + b"\x00" * 40])
def test_not_a_zip_is_refused(tmp_path, content):
    path = tmp_path / "m.nbnet"
    path.write_bytes(content)
    _read_error(path)


def test_missing_member_is_refused(tmp_path):
    data = npy_bytes(np.ones(2))
    path = _craft(tmp_path / "m.nbnet", {}, crafted_header({"w": array_entry(data, "<f8", [2])}))
    message = _read_error(path)
    assert "missing" in message
    assert "arrays/0000.npy" in message


@pytest.mark.parametrize(("dtype", "shape"), [("<f8", [2, 2]), ("<f4", [4]), ("<i8", [4])])
def test_array_not_matching_its_header_entry_is_refused(tmp_path, dtype, shape):
    data = npy_bytes(np.arange(4.0))
    path = _craft(
        tmp_path / "m.nbnet",
        {"arrays/0000.npy": data},
        crafted_header({"w": array_entry(data, dtype, shape)}),
    )
    assert "should be" in _read_error(path)


@pytest.mark.parametrize(
    "entry",
    [
        {"dtype": "<f8", "shape": [1]},
        {"dtype": "nonsense", "shape": [1], "file": "a", "sha256": "0"},
        [1],
    ],
)
def test_malformed_array_entry_is_refused(tmp_path, entry):
    path = _craft(tmp_path / "m.nbnet", {}, crafted_header({"w": entry}))
    assert "'w'" in _read_error(path)


def test_missing_file_raises_file_not_found_naming_it(tmp_path):
    path = tmp_path / "nope.nbnet"
    with pytest.raises(FileNotFoundError, match=r"nope\.nbnet"):
        read_model_file(path)


# ---------------------------------------------------------------------------------------------
# atomic saving: a failure leaves the old file and no temporary file behind


def _fail_on_second_write_array(monkeypatch, exc):
    real = np.lib.format.write_array
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", flaky)
    return calls


def _fail(exc):
    def failing(*args, **kwargs):
        raise exc

    return failing


@pytest.mark.parametrize(
    "sabotage",
    ["write_array", "write_array_interrupt", "fsync", "replace"],
)
@pytest.mark.parametrize("existing", [True, False])
def test_failed_save_leaves_old_file_and_no_temp_files(tmp_path, monkeypatch, sabotage, existing):
    path = tmp_path / "m.nbnet"
    if existing:
        write_model_file(path, {"v": "old"}, {"w": np.zeros(3)})
    before = path.read_bytes() if existing else None
    exc_type = KeyboardInterrupt if sabotage == "write_array_interrupt" else OSError
    calls = []
    if sabotage.startswith("write_array"):
        calls = _fail_on_second_write_array(monkeypatch, exc_type("sabotaged"))
    else:
        monkeypatch.setattr(os, sabotage, _fail(OSError("sabotaged")))

    with pytest.raises(exc_type, match="sabotaged"):
        write_model_file(path, {"v": "new"}, {"a": np.ones(3), "b": np.ones(4), "c": np.ones(5)})

    monkeypatch.undo()
    if sabotage.startswith("write_array"):
        assert len(calls) == 2
    if existing:
        assert path.read_bytes() == before
        assert read_model_file(path)[0] == {"v": "old"}
        assert sorted(os.listdir(tmp_path)) == ["m.nbnet"]
    else:
        assert os.listdir(tmp_path) == []


def test_saving_into_a_missing_directory_creates_nothing(tmp_path):
    path = tmp_path / "missing" / "m.nbnet"
    with pytest.raises(OSError) as info:
        write_model_file(path, {}, {"w": np.ones(2)})
    assert str(path) in str(info.value)
    assert os.listdir(tmp_path) == []


def test_saving_below_a_regular_file_raises_naming_the_path(tmp_path):
    (tmp_path / "file").write_text("x")
    path = tmp_path / "file" / "m.nbnet"
    with pytest.raises(OSError) as info:
        write_model_file(path, {}, {})
    assert str(path) in str(info.value)
    assert os.listdir(tmp_path) == ["file"]


def test_saving_onto_a_directory_leaves_it_alone(tmp_path):
    (tmp_path / "m.nbnet").mkdir()
    with pytest.raises(OSError) as info:
        write_model_file(tmp_path / "m.nbnet", {}, {"w": np.ones(2)})
    assert "m.nbnet" in str(info.value)
    assert os.listdir(tmp_path) == ["m.nbnet"]
    assert os.listdir(tmp_path / "m.nbnet") == []


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root ignores directory permissions"
)
def test_saving_into_an_unwritable_directory_raises_naming_the_path(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(PermissionError) as info:
            write_model_file(locked / "m.nbnet", {}, {"w": np.ones(2)})
        assert str(locked / "m.nbnet") in str(info.value)
        assert os.listdir(locked) == []
    finally:
        locked.chmod(0o700)


def test_unwritable_directory_is_reported_before_anything_is_written(tmp_path, monkeypatch):
    # Runs as root too (root ignores permissions): simulate the answer of the permission check.
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    path = tmp_path / "m.nbnet"
    with pytest.raises(PermissionError) as info:
        write_model_file(path, {}, {"w": np.ones(2)})
    monkeypatch.undo()
    assert str(path) in str(info.value)
    assert "not writable" in str(info.value)
    assert os.listdir(tmp_path) == []
