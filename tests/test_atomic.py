"""Tests for nablanet._atomic: a target is fully replaced or left as it was, no temp file left."""

# Failures are injected by raising inside the ``with`` block and by replacing ``os.fsync`` and
# ``os.replace``; each such test first checks that the sabotage really fired.

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from nablanet._atomic import AtomicFiles, atomic_write, check_target

OLD = b"old content\x00\xff kept byte for byte\n"


def _files(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


def _existing(tmp_path: Path, name: str = "target.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(OLD)
    return path


class _Sabotage:
    """Replaces ``os.<name>`` so that its ``fail_on``-th call raises ``OSError("sabotaged")``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str, fail_on: int = 1) -> None:
        self.real = getattr(os, name)
        self.calls = 0
        self.fail_on = fail_on
        monkeypatch.setattr(os, name, self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.fail_on:
            raise OSError("sabotaged")
        return self.real(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# atomic_write: success


def test_new_file_is_written_with_mode_644_and_nothing_else(tmp_path):
    path = tmp_path / "new.bin"
    with atomic_write(path) as f:
        f.write(b"abc")
        f.write(b"def")
    assert path.read_bytes() == b"abcdef"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not tempfile's private 0o600
    assert _files(tmp_path) == ["new.bin"]


def test_existing_file_is_replaced_as_a_whole(tmp_path):
    path = _existing(tmp_path)
    with atomic_write(str(path)) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"  # not b"new" followed by the rest of the old bytes
    assert _files(tmp_path) == ["target.bin"]


def test_writes_go_to_a_hidden_temporary_file_beside_the_target(tmp_path):
    path = _existing(tmp_path)
    with atomic_write(path) as f:
        f.write(b"new")
        f.flush()
        temps = [name for name in _files(tmp_path) if name != "target.bin"]
        assert len(temps) == 1
        assert temps[0].startswith(".target.bin.")
        assert (tmp_path / temps[0]).read_bytes() == b"new"
        assert path.read_bytes() == OLD  # the target is untouched until the block ends
    assert path.read_bytes() == b"new"


def test_text_mode_uses_the_given_encoding_and_newline(tmp_path):
    path = tmp_path / "t.txt"
    with atomic_write(path, "w", encoding="utf-8", newline="\r\n") as f:
        f.write("réseau ∇\nzwei\n")
    assert path.read_bytes() == "réseau ∇\r\nzwei\r\n".encode()


def test_relative_path_is_written_in_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with atomic_write("rel.bin") as f:
        f.write(b"x")
    assert _files(tmp_path) == ["rel.bin"]


# ---------------------------------------------------------------------------------------------
# atomic_write: failures leave the old file (or no file) and no temporary file


@pytest.mark.parametrize("exc_type", [OSError, ValueError, KeyboardInterrupt])
@pytest.mark.parametrize("existing", [True, False])
def test_failure_inside_the_block_changes_nothing(tmp_path, exc_type, existing):
    path = _existing(tmp_path) if existing else tmp_path / "target.bin"
    with pytest.raises(exc_type, match="disk full"), atomic_write(path) as f:
        f.write(b"half of the new cont")
        f.flush()
        raise exc_type("disk full")
    if existing:
        assert path.read_bytes() == OLD
        assert _files(tmp_path) == ["target.bin"]
    else:
        assert _files(tmp_path) == []


@pytest.mark.parametrize("sabotage", ["fsync", "replace", "chmod"])
@pytest.mark.parametrize("existing", [True, False])
def test_failure_to_sync_or_rename_changes_nothing(tmp_path, monkeypatch, sabotage, existing):
    path = _existing(tmp_path) if existing else tmp_path / "target.bin"
    broken = _Sabotage(monkeypatch, sabotage)
    with pytest.raises(OSError, match="sabotaged"), atomic_write(path) as f:
        f.write(b"complete new content")
    monkeypatch.undo()
    assert broken.calls == 1  # the step under test really ran, and failed
    if existing:
        assert path.read_bytes() == OLD
        assert _files(tmp_path) == ["target.bin"]
    else:
        assert _files(tmp_path) == []


def test_bad_mode_is_refused_before_anything_is_created(tmp_path):
    for mode in ("r", "ab", "w+b", "x"):
        with pytest.raises(ValueError, match="mode"), atomic_write(tmp_path / "m", mode):
            pass
    assert _files(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# target and directory checks (shared by atomic_write and AtomicFiles)


def test_missing_directory_raises_naming_the_path_and_creates_nothing(tmp_path):
    path = tmp_path / "missing" / "m.bin"
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        with atomic_write(path):
            pass
    assert str(path) in str(info.value)
    assert _files(tmp_path) == []


def test_parent_that_is_a_file_raises_naming_the_path(tmp_path):
    (tmp_path / "file").write_text("x")
    path = tmp_path / "file" / "m.bin"
    with pytest.raises(FileNotFoundError, match="is not a directory") as info:
        with atomic_write(path):
            pass
    assert str(path) in str(info.value)
    assert _files(tmp_path) == ["file"]
    assert (tmp_path / "file").read_text() == "x"


def test_target_that_is_a_directory_is_left_alone(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "inside").write_bytes(OLD)
    with pytest.raises(IsADirectoryError, match="it is a directory") as info:
        with atomic_write(tmp_path / "d"):
            pass
    assert str(tmp_path / "d") in str(info.value)
    assert _files(tmp_path) == ["d"]
    assert _files(tmp_path / "d") == ["inside"]


def test_unwritable_directory_is_reported_before_anything_is_created(tmp_path, monkeypatch):
    # Runs as root too (root ignores permissions): simulate the answer of the permission check.
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    path = tmp_path / "m.bin"
    with pytest.raises(PermissionError, match="is not writable") as info:
        with atomic_write(path, action="save model to"):
            pass
    monkeypatch.undo()
    assert str(info.value).startswith(f"cannot save model to '{path}': directory")
    assert _files(tmp_path) == []


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root ignores directory permissions"
)
def test_really_unwritable_directory_raises_permission_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "m.bin").write_bytes(OLD)
    locked.chmod(0o500)
    try:
        with pytest.raises(PermissionError) as info, atomic_write(locked / "m.bin") as f:
            f.write(b"new")
        assert str(locked / "m.bin") in str(info.value)
        assert _files(locked) == ["m.bin"]
        assert (locked / "m.bin").read_bytes() == OLD
    finally:
        locked.chmod(0o700)


def test_check_target_returns_a_path_and_names_the_action(tmp_path):
    assert check_target(str(tmp_path / "ok.bin")) == tmp_path / "ok.bin"
    with pytest.raises(FileNotFoundError, match=r"^cannot export '.*x\.onnx': directory '"):
        check_target(tmp_path / "no" / "x.onnx", "export")
    assert _files(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# AtomicFiles: several outputs, all or nothing


def _write(data: bytes):
    def write(path: Path) -> None:
        path.write_bytes(data)

    return write


def test_files_are_committed_together_on_success(tmp_path):
    a, b = _existing(tmp_path, "a.bin"), tmp_path / "b.txt"
    with AtomicFiles() as outputs:
        outputs.stage(a, _write(b"new a"))
        outputs.stage(b, lambda p: p.write_text("new b", encoding="utf-8"))
        assert a.read_bytes() == OLD and not b.exists()  # nothing touched before the commit
        assert len(_files(tmp_path)) == 3  # a.bin and two temporary files
    assert a.read_bytes() == b"new a"
    assert b.read_text(encoding="utf-8") == "new b"
    assert outputs.done == [a, b]
    assert outputs.staged == []
    assert _files(tmp_path) == ["a.bin", "b.txt"]
    for path in (a, b):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_writer_may_replace_the_temporary_file(tmp_path):
    # As model.save does: it writes its own temporary file and renames it onto the path given.
    target = _existing(tmp_path, "m.nbnet")

    def save(path: Path) -> None:
        with atomic_write(path) as f:
            f.write(b"saved model")

    with AtomicFiles() as outputs:
        outputs.stage(target, save)
    assert target.read_bytes() == b"saved model"
    assert _files(tmp_path) == ["m.nbnet"]


@pytest.mark.parametrize("exc_type", [OSError, KeyboardInterrupt])
def test_failure_before_the_commit_touches_no_target(tmp_path, exc_type):
    a, b = _existing(tmp_path, "a.bin"), _existing(tmp_path, "b.bin")
    with pytest.raises(exc_type, match="training failed"), AtomicFiles() as outputs:
        outputs.stage(a, _write(b"new a"))
        outputs.stage(b, _write(b"new b"))
        raise exc_type("training failed")
    assert a.read_bytes() == OLD and b.read_bytes() == OLD
    assert outputs.done == []
    assert _files(tmp_path) == ["a.bin", "b.bin"]


def test_failing_writer_leaves_no_temporary_file(tmp_path):
    a, b = _existing(tmp_path, "a.bin"), tmp_path / "b.bin"

    def half_written(path: Path) -> None:
        path.write_bytes(b"PK partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), AtomicFiles() as outputs:
        outputs.stage(a, _write(b"new a"))
        outputs.stage(b, half_written)
    assert a.read_bytes() == OLD
    assert _files(tmp_path) == ["a.bin"]


def test_failure_to_sync_a_staged_file_touches_no_target(tmp_path, monkeypatch):
    a = _existing(tmp_path, "a.bin")
    broken = _Sabotage(monkeypatch, "fsync")
    with pytest.raises(OSError, match="sabotaged"), AtomicFiles() as outputs:
        outputs.stage(a, _write(b"new a"))
    monkeypatch.undo()
    assert broken.calls == 1
    assert a.read_bytes() == OLD
    assert _files(tmp_path) == ["a.bin"]


def test_failed_rename_during_the_commit_leaves_no_temporary_file(tmp_path, monkeypatch):
    a, b, c = (_existing(tmp_path, name) for name in ("a.bin", "b.bin", "c.bin"))
    outputs = AtomicFiles()
    for path in (a, b, c):
        outputs.stage(path, _write(b"new " + path.name.encode()))
    broken = _Sabotage(monkeypatch, "replace", fail_on=2)
    with pytest.raises(OSError, match="sabotaged"):
        outputs.commit()
    monkeypatch.undo()
    assert broken.calls == 2
    assert a.read_bytes() == b"new a.bin"  # renamed before the failure: cannot be undone
    assert b.read_bytes() == OLD and c.read_bytes() == OLD
    assert outputs.done == [a]
    assert _files(tmp_path) == ["a.bin", "b.bin", "c.bin"]


def test_check_and_stage_refuse_unwritable_targets(tmp_path):
    outputs = AtomicFiles()
    assert outputs.check(str(tmp_path / "ok.csv")) == tmp_path / "ok.csv"
    with pytest.raises(FileNotFoundError, match=r"cannot write '.*nowhere.*p\.csv': directory"):
        outputs.check(tmp_path / "nowhere" / "p.csv")
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        outputs.stage(tmp_path / "d", _write(b"x"))
    assert outputs.staged == []
    assert _files(tmp_path) == ["d"]
    assert _files(tmp_path / "d") == []
