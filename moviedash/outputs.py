"""Files moviedash writes (rejects, reports, image exports): never over data, never half-written.

Two rules, for every file a command writes:

- :func:`refuse_overwrite`: an output path that is (through symlinks,
  relative paths or hard links) the database, one of SQLite's ``-wal``,
  ``-shm`` or ``-journal`` files, or an input file is refused before anything
  is written (a typo such as ``--rejects victim.db`` must not destroy data);
- :class:`AtomicFile`: the content goes to a temporary file in the target's
  folder and is renamed over the target only once complete and flushed to
  disk, so a failed write (a full disk, an error, a kill) leaves no
  half-written file and any previous file intact.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from . import store
from .errors import MoviedashError


def database_files(db: str | os.PathLike[str]) -> list[Path]:
    """The files of a SQLite database (the file and its sidecars); none for PostgreSQL."""
    if store.is_postgres(db):
        return []
    path = store.parse(db).path
    return [path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]


def _same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name one file: the same resolved path, or (existing) the same inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): not the same file
        return False


def refuse_overwrite(output: str | os.PathLike[str], *, database: Iterable[Path] = (),
                     inputs: Iterable[Path] = (), what: str = "output") -> None:
    """Raise :class:`MoviedashError` when ``output`` is the database (or a sidecar) or an input file."""
    target = Path(output)
    for path in database:
        if _same_file(target, path):
            raise MoviedashError(
                f"refusing to write the {what} to {output}: that is the database file {path}; nothing changed"
            )
    for path in inputs:
        if _same_file(target, path):
            raise MoviedashError(
                f"refusing to write the {what} to {output}: that is the input file {path}; nothing changed"
            )


class AtomicFile:
    """A file written whole or not at all: ``with AtomicFile(path) as fh: fh.write(...)``.

    Writes go to a temporary file next to ``path`` (same folder, so the
    rename cannot cross file systems); a clean exit flushes, fsyncs and renames
    it over ``path`` (its resolved target when ``path`` is a symlink); an
    exception removes it.  Also usable without ``with``: :meth:`open`,
    :meth:`commit`, :meth:`discard`.
    """

    def __init__(self, path: str | os.PathLike[str], mode: str = "w", **open_args: Any) -> None:
        self.path = Path(path)
        self.target = Path(os.path.realpath(self.path))
        self.temp = self.target.with_name(f".{self.target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        self.mode = mode
        self.open_args = open_args
        self.handle: IO[Any] | None = None

    def open(self) -> IO[Any]:
        """Create the temporary file (``OSError`` when the folder is not writable).

        A target that exists and is not a regular file (``/dev/stdout``, a
        pipe) is written directly: it cannot be half-written, and renaming over
        it would replace the device.
        """
        if self.target.exists() and not self.target.is_file():
            self.temp = self.target
        self.handle = open(self.temp, self.mode, **self.open_args)  # noqa: SIM115 -- closed in commit/discard
        return self.handle

    def commit(self) -> Path:
        """Flush the temporary file to disk and rename it onto the target; returns the target."""
        handle, self.handle = self.handle, None
        if handle is None:
            raise RuntimeError("AtomicFile.commit() without open()")
        try:
            handle.flush()
            if self.temp != self.target:
                os.fsync(handle.fileno())
            handle.close()
            if self.temp != self.target:
                os.replace(self.temp, self.target)
        except BaseException:
            try:
                handle.close()
            except OSError:
                pass
            self._remove_temp()
            raise
        return self.path

    def _remove_temp(self) -> None:
        if self.temp != self.target:
            self.temp.unlink(missing_ok=True)

    def discard(self) -> None:
        """Close and remove the temporary file (if any); the target is untouched."""
        handle, self.handle = self.handle, None
        if handle is not None:
            try:
                handle.close()
            except OSError:  # flushing the rest failed (e.g. a full disk): the file goes anyway
                pass
        self._remove_temp()

    def __enter__(self) -> IO[Any]:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def replace_from(temp: Path, target: Path) -> None:
    """Rename a finished temporary file ``temp`` onto ``target`` (after an fsync)."""
    with open(temp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, os.path.realpath(target))


def temporary_name(target: Path) -> Path:
    """A temporary file name next to ``target`` with the same suffix (image writers infer formats from it)."""
    return target.with_name(f".{target.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp{target.suffix}")
