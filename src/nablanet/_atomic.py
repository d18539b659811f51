"""Atomic file writing: a file is either fully written or not touched at all.

Every file nablanet writes (model files, ONNX exports, the command line's outputs) goes through
this module. The recipe is the usual one: write a temporary file in the target's own directory
(so that the final rename stays on one file system), flush and ``fsync`` it, give it its mode,
then ``os.replace`` it onto the target, which is atomic. On any failure, ``KeyboardInterrupt``
included, the temporary file is removed and an existing target is left byte for byte as it was.

Modes: a new file gets ``0o666 & ~umask``, as ``open`` would give it; a file that is
overwritten keeps its mode.

Temporary files are named ``.<target name>.nbtmp-<pid>-<random>``. A process killed while
saving (SIGKILL, power loss) cannot remove its own; the next save of the same target removes
those that are stale: older than ``STALE_SECONDS`` (10 minutes, by modification time) *and*
written by a process id that is no longer running on this machine. Nothing else is touched
(other targets' temporary files, files of any other name). On Windows, where a process id
cannot be probed safely, nothing is removed.

:func:`terminate_as_interrupt` turns SIGTERM into ``KeyboardInterrupt`` for the duration of a
``with`` block, so that ``kill <pid>`` cleans up like Ctrl-C does.

- :func:`check_target` raises an ``OSError`` naming the target when it cannot be written: the
  target is a directory, its directory is missing or not a directory, or is not writable;
- :func:`atomic_write` is a context manager yielding an open file that replaces the target when
  the ``with`` block ends without an exception::

      with atomic_write("model.onnx") as f:
          f.write(data)

- :class:`AtomicFiles` commits several files together: :meth:`AtomicFiles.stage` writes each
  one into a temporary file beside its target (through a function given the temporary path),
  :meth:`AtomicFiles.commit` renames them all; as a context manager it commits on success and
  removes the staged files on any error, so a failure before the commit changes no target.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

NEW_FILE_MODE = 0o666  # before the umask, as ``open`` creates files
TEMP_MARK = ".nbtmp-"
#: A temporary file of a dead process is removed once it is this old (seconds since written).
STALE_SECONDS = 600.0
_MODES = ("w", "wb", "wt")


def check_target(path: str | os.PathLike[str], action: str = "write") -> Path:
    """Return ``path`` as a Path, or raise an ``OSError`` naming it if it cannot be written.

    ``action`` completes the message ``"cannot <action> '<path>': ..."``. Raises
    ``IsADirectoryError`` if ``path`` is a directory or names one (it ends in a separator, or
    in ``.`` or ``..``: ``Path("newdir/")`` would drop the separator and write a file
    ``newdir``), ``FileNotFoundError`` if its directory is missing or not a directory,
    ``PermissionError`` if that directory is not writable.
    """
    text = os.fspath(path)
    name = os.path.basename(os.fsdecode(text))
    if name in ("", ".", ".."):
        raise IsADirectoryError(
            f"cannot {action} {text!r}: it ends in {name or text[-1:]!r}, so it names a "
            "directory, not a file; give a file name (inside it, if that directory was meant)"
        )
    path = Path(path)
    parent = path.absolute().parent
    if path.is_dir():
        raise IsADirectoryError(f"cannot {action} '{path}': it is a directory")
    if not parent.is_dir():
        missing = "is not a directory" if parent.exists() else "does not exist"
        raise FileNotFoundError(f"cannot {action} '{path}': directory '{parent}' {missing}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot {action} '{path}': directory '{parent}' is not writable")
    return path


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (True when that cannot be told)."""
    if sys.platform == "win32":
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError, OSError):
        return True  # PermissionError: alive under another user
    return True


def remove_stale_temporaries(path: str | os.PathLike[str], now: float | None = None) -> list[Path]:
    """Remove the stale temporary files of ``path`` (the rule of the module docstring); return
    those removed. Errors (a file vanishing, no permission) are ignored."""
    path = Path(path)
    parent = path.absolute().parent
    pattern = re.compile(re.escape(f".{path.name}{TEMP_MARK}") + r"([0-9]{1,10})-[0-9a-f]{8,32}")
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        candidate = parent / name
        try:
            info = candidate.lstat()
            if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < STALE_SECONDS:
                continue
            if _pid_alive(int(match.group(1))):
                continue
            candidate.unlink()
        except OSError:
            continue
        removed.append(candidate)
    return removed


def _temp_name(path: Path) -> Path:
    return path.absolute().parent / f".{path.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(8)}"


@contextlib.contextmanager
def _temp_beside(path: Path) -> Iterator[tuple[int, Path]]:
    """Create an empty temporary file in ``path``'s directory (mode ``0o666 & ~umask``, after
    removing stale ones); yield its open descriptor (the caller closes it) and its path; remove
    the file if the ``with`` block raises."""
    remove_stale_temporaries(path)
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0)
    while True:
        tmp = _temp_name(path)
        try:
            fd = os.open(tmp, flags, NEW_FILE_MODE)
            break
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
    try:
        yield fd, tmp
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)  # not O_RDONLY: Windows cannot flush a read-only handle
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(tmp: Path, target: Path, new_mode: int) -> None:
    """Give ``tmp`` the target's mode if it is an existing file (``new_mode`` otherwise) and
    rename it onto ``target``."""
    try:
        existing = target.stat()
    except OSError:
        existing = None
    if existing is not None and stat.S_ISREG(existing.st_mode):
        mode = stat.S_IMODE(existing.st_mode)
    else:
        mode = new_mode
    os.chmod(tmp, mode)
    os.replace(tmp, target)


def _created_mode(fd: int) -> int:
    """The mode the kernel gave a file just created with ``NEW_FILE_MODE`` (umask applied)."""
    return stat.S_IMODE(os.fstat(fd).st_mode)


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str],
    mode: str = "wb",
    *,
    encoding: str | None = None,
    newline: str | None = None,
    action: str = "write",
) -> Iterator[IO[Any]]:
    """Yield a file open for writing that replaces ``path`` when the ``with`` block succeeds.

    Parameters
    ----------
    path : str or path-like
        The target; it need not exist. Its directory must.
    mode : {"wb", "w", "wt"}
        Binary (default) or text.
    encoding, newline : str, optional
        As for :func:`open`, in text mode.
    action : str
        Names the operation in error messages (``"cannot <action> '<path>': ..."``).

    Raises the ``OSError`` of :func:`check_target` before creating anything. If the block (or
    the final flush, ``fsync`` or rename) raises, the temporary file is removed, ``path`` is
    left untouched and the exception propagates. A new file has mode ``0o666 & ~umask``; an
    existing file keeps its mode.
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    target = check_target(path, action)
    with _temp_beside(target) as (fd, tmp):
        new_mode = _created_mode(fd)
        with open(fd, mode, encoding=encoding, newline=newline) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        _publish(tmp, target, new_mode)


class AtomicFiles:
    """Several output files written all or nothing.

    :meth:`check` every target before the (possibly long) work that produces them, then
    :meth:`stage` each one, then :meth:`commit`. As a context manager: commit when the block
    succeeds, :meth:`discard` the staged files when it raises. Until the commit no target is
    touched; the commit is one ``os.replace`` per file, so only a failure of a rename itself
    (the checks passed and each temporary file sits beside its target) can leave the files
    before it replaced; the remaining temporary files are removed even then.

    ``done`` lists the targets committed so far, in order.
    """

    def __init__(self, action: str = "write") -> None:
        self.action = action
        self.staged: list[tuple[Path, Path]] = []
        self.done: list[Path] = []
        self._modes: dict[Path, int] = {}

    def __enter__(self) -> AtomicFiles:
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def check(self, target: str | os.PathLike[str]) -> Path:
        """Return ``target`` as a Path; raise ``OSError`` naming it unless it can be written."""
        return check_target(target, self.action)

    def stage(self, target: str | os.PathLike[str], write: Callable[[Path], Any]) -> None:
        """Run ``write(tmp)`` on a new empty temporary file beside ``target`` and fsync it.

        ``write`` may replace the file at ``tmp`` rather than write into it. If it raises, the
        temporary file is removed and the exception propagates.
        """
        path = self.check(target)
        with _temp_beside(path) as (fd, tmp):
            self._modes[tmp] = _created_mode(fd)
            os.close(fd)
            write(tmp)
            _fsync_path(tmp)
        self.staged.append((tmp, path))

    def commit(self) -> None:
        """Rename every staged file onto its target, in the order staged."""
        try:
            while self.staged:
                tmp, target = self.staged[0]
                _publish(tmp, target, self._modes.pop(tmp, 0o644))
                self.staged.pop(0)
                self.done.append(target)
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the staged temporary files; no target is touched."""
        for tmp, _ in self.staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self.staged = []
        self._modes = {}


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"terminated by signal {signum} (SIGTERM)")


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``KeyboardInterrupt`` (as Ctrl-C does), so that the
    ``finally`` clauses that remove temporary files run; the previous handler is restored at
    the end. Does nothing outside the main thread or where SIGTERM does not exist.

    For a command line's ``main``::

        with terminate_as_interrupt():
            return run(args)
    """
    if not hasattr(signal, "SIGTERM") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
