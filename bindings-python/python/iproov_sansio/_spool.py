"""The journey service's spool as a file: JSON lines, appended durably, taken whole by one
replayer at a time. What goes in it and what to do with its lines is core's
(``core/src/service/spool.rs``: ``_core.spool_due``, ``_core.spool_tombstone``); this module
only moves bytes.

Appending opens the file, takes a shared ``flock`` and checks that the file it opened is
still the one at the path; taking renames the file to a private name (atomic: one taker),
then takes an exclusive ``flock`` on it, which waits for every append that opened it before
the rename. An append that finds the file taken opens the new one. A private file left by a
replayer that died (its lock gone with it) is taken over by the next replayer. On a system
without ``fcntl`` (Windows) the locks are skipped: one process per spool there.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterable, List, Optional, Tuple, Union

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["Spool", "Taken"]

_SUFFIX = ".replay"


def _lock(fd: int, exclusive: bool, wait: bool = True) -> bool:
    if fcntl is None:  # pragma: no cover - Windows
        return True
    flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        fcntl.flock(fd, flags if wait else flags | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: List[bytes] = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks).decode("utf-8", "replace")
        chunks.append(chunk)


class Taken:
    """Files taken for a replay: their text, held (locked) until :meth:`Spool.release`.
    ``waiting``: the file this replayer renamed, open, when ``take(wait=False)`` found an
    append still writing to it (:meth:`Spool.wait` takes it)."""

    def __init__(self) -> None:
        self.files: List[Tuple[Path, int]] = []
        self.text = ""
        self.waiting: Optional[Tuple[Path, int]] = None


class Spool:
    """The spool file at ``path`` (its directory made when missing)."""

    def __init__(self, path: Union[str, "os.PathLike[str]"]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"Spool({str(self.path)!r})"

    def append(self, lines: Iterable[str], durable: bool, wait: bool = True) -> bool:
        """Appends ``lines`` (each without its newline); ``durable``: on disk (fsync) before
        this returns. ``wait=False``: when a replayer holds the file this moment, nothing is
        written and the answer is ``False`` (call again, waiting); otherwise ``True``. Raises
        ``OSError``."""
        data = "".join(f"{line}\n" for line in lines).encode("utf-8")
        if not data:
            return True
        while True:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if not _lock(fd, exclusive=False, wait=wait):
                    return False
                try:
                    same = os.path.samestat(os.fstat(fd), os.stat(self.path))
                except FileNotFoundError:
                    same = False
                if not same:
                    continue  # a replayer took the file between our open and our lock
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if durable:
                    os.fsync(fd)
                return True
            finally:
                os.close(fd)

    def has_lines(self) -> bool:
        """True when the spool file exists and is not empty."""
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def take(self, wait: bool = True) -> Optional[Taken]:
        """The spool's text, the file renamed to a private name and locked, with any private
        file a dead replayer left; ``None`` when there is nothing. ``wait=False``: when an
        append still writes to the renamed file, it is left in ``waiting`` (call :meth:`wait`,
        which may block) rather than waited for here. Raises ``OSError``."""
        taken = Taken()
        private = self.path.with_name(f"{self.path.name}.{uuid.uuid4().hex}{_SUFFIX}")
        try:
            os.rename(self.path, private)
            candidates = [private]
        except FileNotFoundError:
            candidates = []
        candidates += [p for p in self.path.parent.glob(f"{self.path.name}.*{_SUFFIX}") if p != private]
        for path in candidates:
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue  # another replayer finished it
            # Ours waits for the appends that opened it before the rename; an orphan is one
            # whose replayer died (no lock); a file already unlinked was handled by another.
            if path == private and not wait and not _lock(fd, exclusive=True, wait=False):
                taken.waiting = (path, fd)
                continue
            if not _lock(fd, exclusive=True, wait=path == private) or os.fstat(fd).st_nlink == 0:
                os.close(fd)
                continue
            taken.files.append((path, fd))
        if not taken.files and taken.waiting is None:
            return None
        taken.text = "\n".join(_read(fd) for _, fd in taken.files)
        return taken

    def wait(self, taken: Taken) -> None:
        """Takes ``taken.waiting`` (see :meth:`take`): waits for the appends writing to it,
        then adds its text. Raises ``OSError``."""
        if taken.waiting is None:
            return
        path, fd = taken.waiting
        taken.waiting = None
        _lock(fd, exclusive=True)
        taken.files.insert(0, (path, fd))
        taken.text = "\n".join(_read(fd) for _, fd in taken.files)

    def release(self, taken: Taken, done: bool) -> None:
        """Ends a replay: ``done`` (what was to be kept is appended back) deletes the taken
        files; otherwise they stay for the next replayer."""
        if taken.waiting is not None:  # never read: it stays, an orphan for the next replayer
            os.close(taken.waiting[1])
            taken.waiting = None
        for path, fd in taken.files:
            try:
                if done:
                    os.unlink(path)
            finally:
                os.close(fd)
