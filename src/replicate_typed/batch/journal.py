"""The batch journal: one SQLite database (WAL mode) in the output folder.

Each input of a batch is one row, keyed by its *fingerprint* (see :func:`fingerprint`), moving
through these states::

    queued -> creating -> created -> finished -> downloaded
                 |                      |
                 +-> rejected           +-> (status failed/canceled/aborted, or an error noted)

* ``creating`` is written (with a fresh idempotency marker ``attempt`` and the time
  ``creating_at``) **before** the create request is sent, and the prediction id right after the
  answer. A row found in ``creating`` on resume therefore means "the process died (or the
  outcome was unknown) between sending and recording": it must be reconciled against the
  server's list of predictions before anything is created again.
* ``created`` holds the prediction id; ``finished`` the terminal status (and output JSON);
  ``downloaded`` the files written with their sha256 checksums.
* ``rejected``: the API refused the input (nothing was created); final.

Every create attempt is also logged in ``attempts`` (marker, time, outcome, prediction id) so
what happened to an input can be audited. Each transition names the attempt it is about (the
marker this journal handed out for it, or the attempt an earlier run left) and applies only
if the row is still where that attempt left it: an outcome is never written onto another
attempt's row, an attempt that got a prediction id is never called "not created", and an
input that has a prediction is never moved back to ``queued``. An attempt whose prediction a
reconciliation could not find is logged ``not found on the server`` (not "not created": a
server may still create it later). Secrets never reach the journal: inputs are stored only as their
fingerprint, which is computed without the values of secret fields.

The journal survives a killed process (SQLite's WAL is crash-safe; ``synchronous=NORMAL`` may
lose the last transactions only on an operating-system crash or power loss).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Journal",
    "StateConflict",
    "JournalEntry",
    "OutputFile",
    "fingerprint",
    "canonical",
    "JOURNAL_NAME",
    "STATES",
]

JOURNAL_NAME = "journal.sqlite3"
STATES = ("queued", "creating", "created", "finished", "downloaded", "rejected")
_SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    key TEXT PRIMARY KEY,
    line INTEGER NOT NULL,
    model TEXT NOT NULL,
    state TEXT NOT NULL,
    attempt TEXT,
    creating_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    prediction_id TEXT,
    status TEXT,
    output TEXT,
    files TEXT,
    error TEXT,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS items_prediction ON items (prediction_id);
CREATE TABLE IF NOT EXISTS attempts (
    key TEXT NOT NULL,
    attempt TEXT NOT NULL,
    sent_at REAL NOT NULL,
    outcome TEXT,
    prediction_id TEXT,
    PRIMARY KEY (key, attempt)
);
"""


class StateConflict(Exception):
    """A transition found the row moved on by someone else (another runner on this journal)."""

    def __init__(self, key: str, state: str, prediction_id: str | None) -> None:
        super().__init__(f"input {key[:12]}… is already {state!r}")
        self.key = key
        self.state = state
        self.prediction_id = prediction_id


def canonical(value: Any) -> Any:
    """``value`` with integral floats as ints (``7.0`` -> ``7``), so a server that re-serialises
    numbers differently still yields the same fingerprint."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def fingerprint(model: str, input: Mapping[str, Any], *, exclude: Iterable[str] = ()) -> str:
    """The identity of one input: sha256 of the canonical JSON of ``{model, input}``.

    ``model`` is ``owner/name``; ``input`` the JSON input as sent (and as the API echoes it in
    ``prediction.input``); keys in ``exclude`` (secret fields) are left out, so their values never
    reach the journal and an API that masks them in its echo still matches.
    """
    skip = set(exclude)
    data = {k: v for k, v in input.items() if k not in skip}
    text = json.dumps(
        {"model": model, "input": canonical(data)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class OutputFile:
    """One downloaded output file: where it is, its checksum and size, the URL it came from."""

    path: str
    sha256: str
    size: int
    url: str


@dataclass(frozen=True)
class JournalEntry:
    key: str
    line: int
    model: str
    state: str
    attempt: str | None
    creating_at: float | None
    attempts: int
    prediction_id: str | None
    status: str | None
    output: Any
    files: tuple[OutputFile, ...]
    error: str | None


def _url_for_display(url: str) -> str:
    if url[:5].lower() == "data:":
        return url[:40].split(",", 1)[0] + ",…"
    return url.split("?", 1)[0]


class Journal:
    """The durable record of a batch (``path``: a file, or ``":memory:"`` for none)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)", (_SCHEMA_VERSION,)
        )
        self._mine: dict[str, str] = {}  # key -> the marker of the create this object sent

    @classmethod
    def in_dir(cls, directory: Path | str) -> Journal:
        return cls(Path(directory) / JOURNAL_NAME)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"

    # --- meta

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # --- rows

    def add(self, key: str, line: int, model: str) -> JournalEntry:
        """Queue an input (no-op when it is already known); returns its current entry."""
        self._db.execute(
            "INSERT OR IGNORE INTO items (key, line, model, state, updated_at) "
            "VALUES (?, ?, ?, 'queued', ?)",
            (key, line, model, time.time()),
        )
        entry = self.get(key)
        assert entry is not None
        return entry

    def get(self, key: str) -> JournalEntry | None:
        row = self._db.execute(
            "SELECT key, line, model, state, attempt, creating_at, attempts, prediction_id, "
            "status, output, files, error FROM items WHERE key = ?",
            (key,),
        ).fetchone()
        return None if row is None else _entry(row)

    def entries(self) -> Iterator[JournalEntry]:
        rows = self._db.execute(
            "SELECT key, line, model, state, attempt, creating_at, attempts, prediction_id, "
            "status, output, files, error FROM items ORDER BY line"
        ).fetchall()
        for row in rows:
            yield _entry(row)

    def known_prediction_ids(self) -> set[str]:
        """Every prediction id this journal holds: the inputs' and every attempt's."""
        rows = self._db.execute(
            "SELECT prediction_id FROM items WHERE prediction_id IS NOT NULL "
            "UNION SELECT prediction_id FROM attempts WHERE prediction_id IS NOT NULL"
        ).fetchall()
        return {str(r[0]) for r in rows}

    def oldest_creating(self) -> float | None:
        """The oldest ``creating_at`` of an input left in ``creating`` (None when there is none)."""
        row = self._db.execute(
            "SELECT MIN(creating_at) FROM items WHERE state = 'creating'"
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    # --- this run's inputs (a temporary table: constant memory, gone when the journal closes)

    def begin_run(self) -> None:
        """Forget which inputs the current run has seen (see :meth:`add_for_run`)."""
        self._db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS run_lines (key TEXT PRIMARY KEY, line INTEGER)"
        )
        self._db.execute("DELETE FROM run_lines")

    def add_for_run(self, key: str, line: int, model: str) -> tuple[JournalEntry, int | None]:
        """:meth:`add`, and the line of this run that had the same input first (None: this is
        the first)."""
        entry = self.add(key, line, model)
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO run_lines (key, line) VALUES (?, ?)", (key, line)
        )
        if cursor.rowcount == 1:
            return entry, None
        row = self._db.execute("SELECT line FROM run_lines WHERE key = ?", (key,)).fetchone()
        return entry, int(row[0])

    def attempts(self, key: str) -> list[tuple[str, float, str | None, str | None]]:
        rows = self._db.execute(
            "SELECT attempt, sent_at, outcome, prediction_id FROM attempts WHERE key = ? "
            "ORDER BY sent_at",
            (key,),
        ).fetchall()
        return [(str(a), float(t), o, p) for a, t, o, p in rows]

    # --- transitions (each one transaction)

    def _attempt_of(self, key: str, attempt: str | None) -> str | None:
        """The attempt a transition is about: given, else the create this object sent, else
        the one the row holds (an earlier run's)."""
        if attempt is not None:
            return attempt
        mine = self._mine.get(key)
        if mine is not None:
            return mine
        row = self._db.execute("SELECT attempt FROM items WHERE key = ?", (key,)).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def mark_creating(self, key: str) -> tuple[str, float]:
        """Record that a create is about to be sent; returns (marker, timestamp). Call BEFORE
        sending. Raises :class:`StateConflict` when the input is no longer ``queued`` or
        ``creating`` (another runner created it meanwhile): then send nothing."""
        marker = uuid.uuid4().hex
        now = time.time()
        with self._tx():
            cursor = self._db.execute(
                "UPDATE items SET state = 'creating', attempt = ?, creating_at = ?, "
                "attempts = attempts + 1, error = NULL, updated_at = ? "
                "WHERE key = ? AND state IN ('queued', 'creating')",
                (marker, now, now, key),
            )
            if cursor.rowcount != 1:
                row = self._db.execute(
                    "SELECT state, prediction_id FROM items WHERE key = ?", (key,)
                ).fetchone()
                state, pid = (row[0], row[1]) if row is not None else ("missing", None)
                raise StateConflict(key, str(state), pid)
            self._db.execute(
                "INSERT INTO attempts (key, attempt, sent_at, outcome) VALUES (?, ?, ?, 'sent')",
                (key, marker, now),
            )
        self._mine[key] = marker
        return marker, now

    def mark_created(
        self, key: str, prediction_id: str, *, how: str = "created", attempt: str | None = None
    ) -> str:
        """The create answered (or reconciliation found it): record the prediction id on its
        attempt, and on the input unless the input already has another one (then that one
        stays, this one is kept in the attempt and logged). Returns the input's prediction id."""
        now = time.time()
        marker = self._attempt_of(key, attempt)
        with self._tx():
            self._db.execute(
                "UPDATE attempts SET outcome = ?, prediction_id = ? WHERE key = ? AND attempt = ?",
                (how, prediction_id, key, marker),
            )
            self._db.execute(
                "UPDATE items SET state = 'created', prediction_id = ?, error = NULL, "
                "updated_at = ? WHERE key = ? AND state IN ('queued', 'creating')",
                (prediction_id, now, key),
            )
            row = self._db.execute(
                "SELECT prediction_id FROM items WHERE key = ?", (key,)
            ).fetchone()
        self._mine.pop(key, None)
        current = None if row is None or row[0] is None else str(row[0])
        if current is not None and current != prediction_id:
            self.note_error(
                key, f"prediction {prediction_id} was also created for this input (kept: {current})"
            )
        return current or prediction_id

    def _settle(self, key: str, attempt: str | None, outcome: str, state: str, reason: str) -> None:
        """An attempt that created nothing (as far as is known): its outcome, and the input back
        to ``state`` -- only if neither moved on meanwhile."""
        now = time.time()
        marker = self._attempt_of(key, attempt)
        with self._tx():
            self._db.execute(
                "UPDATE attempts SET outcome = ? WHERE key = ? AND attempt = ? "
                "AND prediction_id IS NULL",
                (outcome, key, marker),
            )
            self._db.execute(
                "UPDATE items SET state = ?, error = ?, updated_at = ? "
                "WHERE key = ? AND attempt = ? AND state = 'creating'",
                (state, reason, now, key, marker),
            )
        self._mine.pop(key, None)

    def mark_not_created(
        self, key: str, reason: str, *, final: bool = False, attempt: str | None = None
    ) -> None:
        """The create surely created nothing (the server said so): back to ``queued`` (or
        ``rejected`` if final)."""
        outcome = "rejected" if final else "not created"
        self._settle(key, attempt, outcome, "rejected" if final else "queued", reason)

    def mark_not_found(self, key: str, reason: str, *, attempt: str | None = None) -> None:
        """Reconciliation did not find the attempt's prediction on the server: back to
        ``queued`` (logged ``not found on the server``, not "not created")."""
        self._settle(key, attempt, "not found on the server", "queued", reason)

    def note_unknown(self, key: str, reason: str, *, attempt: str | None = None) -> None:
        """The create's outcome is unknown (it may exist): stays ``creating`` until reconciled."""
        marker = self._attempt_of(key, attempt)
        with self._tx():
            self._db.execute(
                "UPDATE items SET error = ?, updated_at = ? WHERE key = ?",
                (reason, time.time(), key),
            )
            self._db.execute(
                "UPDATE attempts SET outcome = 'unknown' WHERE key = ? AND attempt = ? "
                "AND prediction_id IS NULL",
                (key, marker),
            )

    def requeue_unknown(self, key: str, reason: str, *, attempt: str | None = None) -> None:
        """Give up on an unknown create outcome that cannot be checked (the user chose to create
        again): back to ``queued``; the attempt keeps the outcome ``unknown`` in the audit log."""
        self._settle(key, attempt, "unknown, created again", "queued", reason)

    def mark_finished(self, key: str, status: str, output: Any, error: str | None = None) -> None:
        self._db.execute(
            "UPDATE items SET state = 'finished', status = ?, output = ?, error = ?, "
            "updated_at = ? WHERE key = ?",
            (status, json.dumps(output, default=str), error, time.time(), key),
        )

    def note_error(self, key: str, error: str | None) -> None:
        """Remember the last problem of an input without changing its state."""
        self._db.execute(
            "UPDATE items SET error = ?, updated_at = ? WHERE key = ?", (error, time.time(), key)
        )

    def mark_downloaded(
        self, key: str, files: Iterable[OutputFile], error: str | None = None
    ) -> None:
        """Every output file saved (``error``: what is still wrong with the output, if any)."""
        data = [
            {"path": f.path, "sha256": f.sha256, "size": f.size, "url": _url_for_display(f.url)}
            for f in files
        ]
        self._db.execute(
            "UPDATE items SET state = 'downloaded', files = ?, error = ?, updated_at = ? "
            "WHERE key = ?",
            (json.dumps(data), error, time.time(), key),
        )

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    key, line, model, state, attempt, creating_at, attempts, pid, status, output, files, error = row
    parsed_files = tuple(
        OutputFile(path=f["path"], sha256=f["sha256"], size=int(f["size"]), url=f["url"])
        for f in (json.loads(files) if files else [])
    )
    return JournalEntry(
        key=str(key),
        line=int(line),
        model=str(model),
        state=str(state),
        attempt=attempt,
        creating_at=creating_at,
        attempts=int(attempts),
        prediction_id=pid,
        status=status,
        output=json.loads(output) if output else None,
        files=parsed_files,
        error=error,
    )
