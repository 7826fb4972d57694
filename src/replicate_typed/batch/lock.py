"""One runner per journal: an OS lock on a file beside the journal, held for the whole run.

``<journal>.lock`` (``out/journal.sqlite3.lock``) is locked with ``fcntl.flock`` (POSIX;
``msvcrt.locking`` on Windows) for as long as a batch runs; the operating system drops the lock
when the process ends, however it ends (SIGKILL included), so a stale lock never blocks a resume.
The file also holds the owner's record (JSON: pid, host, since, command, heartbeat), written in
place (never replaced: a new file would be a new lock) and refreshed every
:data:`HEARTBEAT_SECONDS`, so a runner that is refused can say who holds the journal.

File locks do not always reach other machines (an NFS mount with ``nolock``, SMB/CIFS without
byte-range locks, sshfs and other FUSE file systems). The record is the second line of defence:
a runner that got the OS lock but finds a record from **another host** whose heartbeat is
younger than :data:`FOREIGN_STALE_SECONDS` (and that was not released) refuses as if locked; a
holder whose record was overwritten by another runner stops creating (see
:attr:`JournalLock.taken_over`). Both are best effort: two machines starting within the same
heartbeat are not caught (see ``docs/batch-limits.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from replicate_typed.client._logging import redact
from replicate_typed.client.errors import ReplicateError

__all__ = [
    "FOREIGN_STALE_SECONDS",
    "HEARTBEAT_SECONDS",
    "JournalLock",
    "JournalLockedError",
    "LockOwner",
    "lock_path",
]

HEARTBEAT_SECONDS = 10.0
"""How often the holder refreshes its record (fsynced, so another machine can see it)."""
FOREIGN_STALE_SECONDS = 60.0
"""A record from another host with a heartbeat younger than this means "in use" even when the
OS lock was granted (the lock does not reach that machine)."""
_RETRY_SECONDS = 0.25
_RECORD_BYTES = 4096
_COMMAND_CHARS = 300


def lock_path(journal_path: Path | str) -> Path:
    """The lock file of the journal at ``journal_path``."""
    return Path(f"{journal_path}.lock")


@dataclass(frozen=True)
class LockOwner:
    """Who holds (or last held) a journal: read from its lock file."""

    pid: int
    host: str
    since: float
    command: str
    heartbeat: float
    released: bool = False
    token: str = ""

    def describe(self, now: float | None = None) -> str:
        """``pid 1234 on host build-7 since 2026-12-05 17:20:01 UTC (replicate-typed batch ...)``."""
        now = time.time() if now is None else now
        when = datetime.fromtimestamp(self.since, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        beat = max(0.0, now - self.heartbeat)
        command = f": {self.command}" if self.command else ""
        return (
            f"pid {self.pid} on host {self.host} since {when} "
            f"(last heartbeat {beat:.0f} s ago){command}"
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "pid": self.pid,
                "host": self.host,
                "since": self.since,
                "command": self.command,
                "heartbeat": self.heartbeat,
                "released": self.released,
                "token": self.token,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> LockOwner | None:
        try:
            data: Any = json.loads(text)
            return cls(
                pid=int(data["pid"]),
                host=str(data["host"])[:255],
                since=float(data["since"]),
                command=str(data.get("command", ""))[:_COMMAND_CHARS],
                heartbeat=float(data.get("heartbeat", data["since"])),
                released=bool(data.get("released", False)),
                token=str(data.get("token", "")),
            )
        except (ValueError, KeyError, TypeError):
            return None


class JournalLockedError(ReplicateError):
    """Another runner holds this journal (``owner``: who, when known). Nothing was sent.

    ``waited``: seconds spent waiting for it (``wait_for_lock``); ``foreign``: True when the OS
    lock was granted but a live record from another host says the journal is in use.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str,
        owner: LockOwner | None,
        waited: float = 0.0,
        foreign: bool = False,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.owner = owner
        self.waited = waited
        self.foreign = foreign


def _command() -> str:
    argv = list(sys.argv) or ["python"]
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name:  # python -m package
        argv[:1] = ["python", "-m", spec.name.removesuffix(".__main__")]
    else:
        argv[0] = os.path.basename(argv[0]) or argv[0]
    text = redact(shlex.join(argv))
    return text if len(text) <= _COMMAND_CHARS else text[: _COMMAND_CHARS - 1] + "…"


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    _WIN_OFFSET = 1 << 30  # lock a byte far past the record, which stays readable

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WIN_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WIN_OFFSET, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)


def read_owner(path: Path | str) -> LockOwner | None:
    """The record in the lock file at ``path`` (None when there is none or it is unreadable).

    A record being rewritten may read as partial JSON: read again a few times."""
    for attempt in range(5):
        try:
            with open(path, "rb") as handle:
                raw = handle.read(_RECORD_BYTES)
        except OSError:
            return None
        text = raw.decode("utf-8", "replace").strip("\0 \n")
        if not text:
            return None
        owner = LockOwner.from_json(text)
        if owner is not None:
            return owner
        time.sleep(0.01 * (attempt + 1))
    return None


class JournalLock:
    """The lock of one journal for one run: :meth:`acquire` then :meth:`release` (or
    ``async with``). ``path`` is the lock file (see :func:`lock_path`)."""

    def __init__(self, path: Path | str, *, heartbeat: float | None = None) -> None:
        self.path = Path(path)
        self.heartbeat = HEARTBEAT_SECONDS if heartbeat is None else heartbeat
        self.owner: LockOwner | None = None
        self.taken_over: LockOwner | None = None
        """Set when another runner's record replaced ours while we ran (a lock that does not
        reach the other machine): the runner stops creating."""
        self._fd: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"JournalLock({str(self.path)!r}, held={self._fd is not None})"

    @property
    def held(self) -> bool:
        return self._fd is not None

    async def acquire(self, wait: float = 0.0) -> None:
        """Take the lock; with ``wait`` > 0, retry for up to that many seconds. Raises
        :class:`JournalLockedError` naming the holder when it cannot."""
        if self._fd is not None:
            raise RuntimeError("this JournalLock is already held")
        if not (wait >= 0 and wait != float("inf") and wait == wait):
            raise ValueError(f"wait_for_lock must be a number of seconds >= 0, not {wait!r}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        delay = 0.05
        while True:
            refusal = self._try_acquire()
            if refusal is None:
                return
            owner, foreign = refusal
            waited = time.monotonic() - started
            if waited >= wait:
                raise self._locked_error(owner, foreign, waited, wait)
            await asyncio.sleep(min(delay, max(0.0, wait - waited)))
            delay = min(delay * 2, _RETRY_SECONDS * 4)

    def _try_acquire(self) -> tuple[LockOwner | None, bool] | None:
        """None when acquired, else (the holder's record, whether it is another host's)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            return read_owner(self.path), False
        previous = read_owner(self.path)
        now = time.time()
        host = socket.gethostname()
        if (
            previous is not None
            and not previous.released
            and previous.host != host
            and now - previous.heartbeat < FOREIGN_STALE_SECONDS
        ):
            _unlock(fd)
            os.close(fd)
            return previous, True
        self._fd = fd
        self.owner = LockOwner(
            pid=os.getpid(),
            host=host,
            since=now,
            command=_command(),
            heartbeat=now,
            token=uuid.uuid4().hex,
        )
        self._write(self.owner)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._beat, name=f"journal-lock-heartbeat {self.path.name}", daemon=True
        )
        self._thread.start()
        return None

    def _locked_error(
        self, owner: LockOwner | None, foreign: bool, waited: float, wait: float
    ) -> JournalLockedError:
        if owner is None or (owner.released and not foreign):
            who = "another process (it has not written its owner record yet)"
        else:
            who = owner.describe()
        waited_note = f" after waiting {waited:.0f} s (--wait-for-lock {wait:g})" if wait else ""
        if foreign:
            message = (
                f"the batch journal {self.path.with_suffix('')} is in use by {who}: the OS lock "
                "was granted here, so file locks on this folder do not reach that machine; "
                f"nothing was sent{waited_note}. Run one batch per folder at a time (see "
                f"docs/batch-limits.md); the record goes stale {FOREIGN_STALE_SECONDS:.0f} s "
                "after that runner stops"
            )
        else:
            message = (
                f"another batch runner holds the journal {self.path.with_suffix('')}: {who}; "
                f"nothing was sent{waited_note}. Wait for it to finish (or stop it), or ask "
                "to wait: --wait-for-lock SECONDS (wait_for_lock=...)"
            )
        return JournalLockedError(
            message, path=str(self.path), owner=owner, waited=waited, foreign=foreign
        )

    def _write(self, owner: LockOwner) -> None:
        fd = self._fd
        if fd is None:
            return
        # one fixed-size write in place (no truncation: a reader never sees an empty file)
        data = owner.to_json().encode("utf-8")[: _RECORD_BYTES - 1]
        data = data.ljust(_RECORD_BYTES - 1, b" ") + b"\n"
        with self._write_lock:
            os.pwrite(fd, data, 0)
            with contextlib.suppress(OSError):
                os.fsync(fd)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            owner = self.owner
            if owner is None or self._fd is None:
                return
            current = read_owner(self.path)
            if current is not None and current.token and current.token != owner.token:
                # another runner wrote its record over ours: the lock did not hold it back
                self.taken_over = current
                return
            self.owner = owner = LockOwner(
                owner.pid, owner.host, owner.since, owner.command, time.time(), False, owner.token
            )
            try:
                self._write(owner)
            except OSError:  # pragma: no cover - the folder went away
                return

    def release(self) -> None:
        """Mark the record released and drop the lock (idempotent)."""
        fd = self._fd
        if fd is None:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        owner = self.owner
        if owner is not None and self.taken_over is None:
            with contextlib.suppress(OSError):
                self._write(
                    LockOwner(
                        owner.pid,
                        owner.host,
                        owner.since,
                        owner.command,
                        time.time(),
                        True,
                        owner.token,
                    )
                )
        _unlock(fd)
        os.close(fd)
        self._fd = None

    async def __aenter__(self) -> JournalLock:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()
