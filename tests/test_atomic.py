"""Tests for nablanet._atomic: a target is fully replaced or left as it was, no temp file left."""

# Failures are injected by raising inside the ``with`` block and by replacing ``os.fsync`` and
# ``os.replace``; each such test first checks that the sabotage really fired.

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from nablanet import _atomic
from nablanet._atomic import AtomicFiles, atomic_write, check_target

pytestmark = pytest.mark.usefixtures("usual_umask")


@pytest.fixture
def usual_umask():
    """The tests below that expect 0o644 run under the usual umask 022 (new files get
    0o666 & ~umask since the umask is honoured)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


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


# ---------------------------------------------------------------------------------------------
# modes: the umask is honoured, an overwritten file keeps its mode


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
@pytest.mark.parametrize(("umask", "mode"), [(0o077, 0o600), (0o027, 0o640), (0o002, 0o664)])
def test_new_files_get_0o666_without_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        with atomic_write(tmp_path / "new.bin") as f:
            f.write(b"x")
        with AtomicFiles() as outputs:
            outputs.stage(tmp_path / "staged.bin", _write(b"y"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.bin").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "staged.bin").stat().st_mode) == mode


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755])
def test_an_overwritten_file_keeps_its_mode(tmp_path, mode):
    path = _existing(tmp_path)
    path.chmod(mode)
    with atomic_write(path) as f:
        f.write(b"new")
    staged = _existing(tmp_path, "staged.bin")
    staged.chmod(mode)
    with AtomicFiles() as outputs:
        outputs.stage(staged, _write(b"new"))
    for target in (path, staged):
        assert target.read_bytes() == b"new"
        assert stat.S_IMODE(target.stat().st_mode) == mode


# ---------------------------------------------------------------------------------------------
# stale temporary files of killed saves are removed by the next save of the same target


def _dead_pid() -> int:
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _temp(
    tmp_path: Path, target: str, pid: int, age: float, token: str = "0123456789abcdef"
) -> Path:
    path = tmp_path / f".{target}.nbtmp-{pid}-{token}"
    path.write_bytes(b"half a model")
    old = path.stat().st_mtime - age
    os.utime(path, (old, old))
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="process ids are not probed on Windows")
@pytest.mark.parametrize("via", ["atomic_write", "AtomicFiles"])
def test_stale_temporaries_of_the_same_target_are_removed(tmp_path, via):
    dead = _dead_pid()
    stale = _temp(tmp_path, "m.nbnet", dead, age=3600)
    young = _temp(tmp_path, "m.nbnet", dead, age=10, token="00000000aaaaaaaa")
    running = _temp(tmp_path, "m.nbnet", os.getpid(), age=3600, token="00000000bbbbbbbb")
    parent = _temp(tmp_path, "m.nbnet", os.getppid(), age=3600, token="00000000cccccccc")
    other = _temp(tmp_path, "other.nbnet", dead, age=3600)
    foreign = tmp_path / ".m.nbnet.abc123"  # not our naming: never touched
    foreign.write_bytes(b"x")
    os.utime(foreign, (0, 0))
    if via == "atomic_write":
        with atomic_write(tmp_path / "m.nbnet") as f:
            f.write(b"model")
    else:
        with AtomicFiles() as outputs:
            outputs.stage(tmp_path / "m.nbnet", _write(b"model"))
    assert not stale.exists()
    for kept in (young, running, parent, other, foreign):
        assert kept.exists(), kept.name
    assert (tmp_path / "m.nbnet").read_bytes() == b"model"


def test_temporary_files_are_named_for_the_target_and_the_process(tmp_path):
    with atomic_write(tmp_path / "m.nbnet") as f:
        f.flush()
        (name,) = [n for n in _files(tmp_path) if n != "m.nbnet"]
    assert name.startswith(f".m.nbnet.nbtmp-{os.getpid()}-")
    assert _atomic.STALE_SECONDS >= 60


# ---------------------------------------------------------------------------------------------
# terminate_as_interrupt: SIGTERM cleans up like Ctrl-C

_SIGTERM_CHILD = """
import sys, time
from pathlib import Path
from nablanet._atomic import atomic_write, terminate_as_interrupt

target = Path(sys.argv[1])
with terminate_as_interrupt():
    with atomic_write(target) as f:
        f.write(b"half of the new content")
        f.flush()
        print("ready", flush=True)
        time.sleep(60)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("existing", [True, False])
def test_sigterm_inside_terminate_as_interrupt_removes_the_temporary_file(tmp_path, existing):
    import signal
    import subprocess

    target = _existing(tmp_path) if existing else tmp_path / "target.bin"
    child = subprocess.Popen(
        [sys.executable, "-c", _SIGTERM_CHILD, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        assert len(_files(tmp_path)) == (2 if existing else 1)  # the temporary file exists
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode != 0
    assert b"KeyboardInterrupt" in err
    if existing:
        assert _files(tmp_path) == ["target.bin"]
        assert target.read_bytes() == OLD
    else:
        assert _files(tmp_path) == []


def test_terminate_as_interrupt_restores_the_previous_handler():
    import signal

    before = signal.getsignal(signal.SIGTERM)
    with _atomic.terminate_as_interrupt():
        assert signal.getsignal(signal.SIGTERM) is not before
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            import time

            time.sleep(5)  # the handler raises before this ends
    assert signal.getsignal(signal.SIGTERM) is before
