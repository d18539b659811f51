"""Atomic file writing: a file is either fully written or not touched at all.

Every file nablanet writes (model files, ONNX exports, the command line's outputs) goes through
this module. The recipe is the usual one: write a temporary file in the target's own directory
(so that the final rename stays on one file system), flush and ``fsync`` it, give it mode
``0o644`` (``tempfile`` makes it private, ``0o600``), then ``os.replace`` it onto the target,
which is atomic. On any failure, ``KeyboardInterrupt`` included, the temporary file is removed
and an existing target is left byte for byte as it was.

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
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o644  # what ``open`` gives under the usual umask, not tempfile's private 0o600
_MODES = ("w", "wb", "wt")


def check_target(path: str | os.PathLike[str], action: str = "write") -> Path:
    """Return ``path`` as a Path, or raise an ``OSError`` naming it if it cannot be written.

    ``action`` completes the message ``"cannot <action> '<path>': ..."``. Raises
    ``IsADirectoryError`` if ``path`` is a directory, ``FileNotFoundError`` if its directory is
    missing or not a directory, ``PermissionError`` if that directory is not writable.
    """
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


@contextlib.contextmanager
def _temp_beside(path: Path) -> Iterator[tuple[int, Path]]:
    """Create an empty temporary file in ``path``'s directory; yield its open descriptor (the
    caller closes it) and its path; remove the file if the ``with`` block raises."""
    fd, name = tempfile.mkstemp(dir=path.absolute().parent, prefix=f".{path.name}.")
    tmp = Path(name)
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


def _publish(tmp: Path, target: Path) -> None:
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, target)


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
    left untouched and the exception propagates. The new file has mode ``0o644``.
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    target = check_target(path, action)
    with _temp_beside(target) as (fd, tmp):
        with open(fd, mode, encoding=encoding, newline=newline) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        _publish(tmp, target)


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
            os.close(fd)
            write(tmp)
            _fsync_path(tmp)
        self.staged.append((tmp, path))

    def commit(self) -> None:
        """Rename every staged file onto its target, in the order staged."""
        try:
            while self.staged:
                tmp, target = self.staged[0]
                _publish(tmp, target)
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
