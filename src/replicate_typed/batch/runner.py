"""The batch runner: many predictions, at most ``concurrency`` at a time, none paid twice, none lost.

``await arun_many(client, inputs, out_dir=..., concurrency=8)`` (or ``run_many(client, ...)``)
runs every input through create -> wait -> download, recording each step in a
:class:`~replicate_typed.batch.journal.Journal` in ``out_dir`` so that a run killed at any
moment (even with SIGKILL) resumes where it stopped when started again on the same folder:

* **Never pay twice.** ``creating`` (with an idempotency marker and the input's fingerprint) is
  journaled *before* the create is sent and the prediction id right after. An input found in
  ``creating`` (the process died in between), and a create whose outcome is unknown (a read
  timeout, a dropped connection or a 5xx after the request was sent: the client's error says
  ``prediction_may_exist``), is **reconciled** first: the runner lists the predictions created
  since the ``creating`` timestamp minus ``reconcile_margin`` and matches their echoed ``input``
  (the same fingerprint). Only when none matches is the input created again. The Replicate API
  has no idempotency key, so the fingerprint is the match: identical inputs in one batch are run
  once (the later lines point at the first), and a prediction of the same model with the same
  input made by someone else inside the window is adopted rather than paid for again.
* **Never lose an output.** Output files are downloaded as soon as a prediction succeeds (links
  expire after about an hour), written atomically to ``out_dir/<prediction id>/`` and recorded
  with their sha256 checksum; ``output.json`` holds the raw output. A prediction whose data was
  already removed (``data_removed``) is reported as such, with its id.
* **Rate limits.** Creates go through a token bucket (default 540 a minute, burst 10: under the
  API's 600), reads through another (2400 a minute); a 429 pauses all workers for its
  ``Retry-After``.
* Every result names its input line and, once one exists, its prediction id.
* **One runner per journal.** The run holds an OS lock on ``<journal>.lock`` (see
  :mod:`.lock`) from before it reads the journal until it ends: a second runner on the same
  folder raises :class:`~replicate_typed.batch.lock.JournalLockedError` at once, naming the
  holder (pid, host, since when, command), or waits up to ``wait_for_lock`` seconds for it.
* **Every job ends.** Each input's create + wait + download has a deadline (``job_timeout``,
  default 2400 s: Replicate ends a prediction after 30 minutes), also handed to the client
  (:func:`replicate_typed.client.limits.deadline`) so each request fits in the time left.
  When it passes the input is reported unresolved with its prediction id, which stays in the
  journal for the next run; a status the runner has never seen cannot keep it waiting longer.
* **Streamed input.** Inputs are read one at a time as workers free up (at most
  ``concurrency`` read ahead): the first create does not wait for the whole input, and memory
  does not grow with its length (with ``keep_results=False``, only results that are not ok are
  kept; counts cover every input).
* **One output rule.** A succeeded prediction's output goes through the client's rule
  (:func:`replicate_typed.client.outputs.succeeded_output`, as ``run()``): a null output the
  model's type does not accept is a failure with the prediction id, never "succeeded, 0 files".

* **Without a predictions list** (a router that serves only create and get), an unknown create
  outcome cannot be reconciled: the input is left ``creating`` in the journal and reported as
  unresolved with its line and what to do, never created again on its own. Only with
  ``recreate_unknown=True`` (CLI ``--recreate-unknown``) is it created again, accepting that it
  may then be paid for twice. A create answer that carries an id is never unknown: that
  prediction is adopted, whatever else its answer lacks.

Residual risks (documented, not hidden): a server that creates a prediction *later* than its
failed answer (after the ``reconcile_delay`` grace period) is not seen; inputs holding local
files that get uploaded cannot be matched (the echo holds the upload URL), so give URLs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr, ValidationError

from replicate_typed.batch.journal import (
    JOURNAL_NAME,
    Journal,
    JournalEntry,
    OutputFile,
    StateConflict,
    fingerprint,
)
from replicate_typed.batch.lock import JournalLock, lock_path
from replicate_typed.batch.ratelimit import TokenBucket
from replicate_typed.client import errors
from replicate_typed.client._logging import logger
from replicate_typed.client.limits import DEFAULT_REQUEST_DEADLINE, DEFAULT_WAIT_TIMEOUT
from replicate_typed.client.limits import deadline as client_deadline
from replicate_typed.client.outputs import succeeded_output
from replicate_typed.client.polling import Poller, PollPolicy, is_terminal
from replicate_typed.core.model import ModelInfo, ModelInput
from replicate_typed.predictions import status_of

if TYPE_CHECKING:
    from replicate_typed.client import AsyncClient
    from replicate_typed.types.api import Prediction

__all__ = [
    "BatchOptions",
    "BatchResult",
    "BatchReport",
    "BatchItem",
    "OUTCOMES",
    "InvalidInput",
    "DEFAULT_JOB_TIMEOUT",
    "arun_many",
    "iter_items",
    "prepare_items",
    "secret_fields",
    "item_key",
]

EventHook = Callable[[str, "BatchResult"], None]
"""``on_event(kind, result)``: kinds ``created``, ``reconciled``, ``finished``, ``downloaded``,
``failed``, ``skipped``, ``rejected``, ``duplicate`` (the same input as an earlier line),
``done`` (the input needs nothing more this run)."""

DEFAULT_JOB_TIMEOUT = DEFAULT_WAIT_TIMEOUT + DEFAULT_REQUEST_DEADLINE
"""Seconds for one input's create + wait + download (2400): the client's default wait (2100 s:
Replicate ends a prediction after 30 minutes, plus 5) and one request deadline (300 s) for
the create, a reconciliation and the download."""


@dataclass(frozen=True)
class BatchOptions:
    """Knobs of a batch run (all have working defaults)."""

    concurrency: int = 8
    creates_per_minute: float | None = 540.0
    create_burst: int = 10
    reads_per_minute: float | None = 2400.0
    read_burst: int = 50
    max_create_attempts: int = 5
    reconcile_margin: float = 120.0
    """Seconds subtracted from the ``creating`` timestamp when listing (clock skew, latency)."""
    reconcile_delay: float = 2.0
    """Seconds to let a server finish a create whose answer was lost before listing."""
    download: bool = True
    max_download_bytes: int = 1 << 31
    poll_policy: PollPolicy = field(default_factory=PollPolicy)
    max_consecutive_errors: int = 8
    """Failed GETs/lists in a row (each after the client's own retries) before an input is left
    for the next run (its prediction id is kept)."""
    error_backoff: float = 1.0
    create_options: Mapping[str, Any] = field(default_factory=dict)
    """Passed to every create: ``webhook``, ``webhook_events_filter``, ``wait``, ``cancel_after``."""
    recreate_unknown: bool = False
    """Create an input again when its create's outcome is unknown and cannot be checked (the
    server has no predictions list, or listing kept failing). Off by default: such an input is
    reported unresolved, because creating it again may pay for it twice."""
    job_timeout: float = DEFAULT_JOB_TIMEOUT
    """Deadline in seconds of each input's create + wait + download (see the module)."""
    wait_for_lock: float = 0.0
    """Seconds to wait for another runner holding the journal (0: refuse at once)."""
    keep_results: bool = True
    """False: the report keeps only results that are not ok (memory independent of the number
    of inputs; every count stays complete)."""

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise errors.InputError(f"concurrency: {self.concurrency!r} must be at least 1")
        if not (0 < self.job_timeout < math.inf):
            raise errors.InputError(
                f"job_timeout: {self.job_timeout!r} must be a number of seconds > 0"
            )
        if not (0 <= self.wait_for_lock < math.inf):
            raise errors.InputError(
                f"wait_for_lock: {self.wait_for_lock!r} must be a number of seconds >= 0"
            )
        if self.max_create_attempts < 1:
            raise errors.InputError("max_create_attempts must be at least 1")
        if self.reconcile_margin < 0 or self.reconcile_delay < 0:
            raise errors.InputError("reconcile_margin and reconcile_delay must be >= 0")
        unknown = set(self.create_options) - {
            "webhook",
            "webhook_events_filter",
            "wait",
            "cancel_after",
        }
        if unknown:
            raise errors.InputError(f"create_options: unknown option(s) {sorted(unknown)}")


@dataclass(frozen=True)
class BatchItem:
    """One input to run: its position (1-based line), model, validated input and fingerprint."""

    line: int
    info: ModelInfo[Any, Any]
    input: ModelInput[Any]
    key: str


@dataclass(frozen=True)
class InvalidInput:
    """An input rejected before anything was sent: its line, field, value and rule."""

    line: int
    field: str
    value: str
    rule: str

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        shown = f"{self.value}: " if self.value else ""
        return f"line {self.line}: {where}{shown}{self.rule}"


@dataclass
class BatchResult:
    """What happened to one input (``line``: 1-based position / JSONL line number)."""

    line: int
    model: str
    key: str
    state: str
    prediction_id: str | None = None
    status: str | None = None
    output: Any = None
    files: tuple[OutputFile, ...] = ()
    error: str | None = None
    skipped: bool = False
    """Already done by an earlier run on the same journal: nothing was sent for it now."""
    same_as: int | None = None
    """For an input identical to an earlier line: that line (it was run once)."""

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == "succeeded"

    @property
    def outcome(self) -> str:
        """This input's one outcome (a key of :data:`OUTCOMES`)."""
        if self.same_as is not None:
            return "duplicate"
        if self.skipped:
            return "already_succeeded" if self.ok else "already_failed"
        if self.ok:
            return "succeeded"
        if self.state == "rejected":
            return "rejected"
        if self.state in ("queued", "creating", "created"):
            return "unresolved"
        return "failed"

    def describe(self) -> str:
        who = f"line {self.line}"
        if self.prediction_id:
            who += f" (prediction {self.prediction_id})"
        if self.ok:
            return f"{who}: succeeded, {len(self.files)} file(s)"
        what = self.error or f"{self.status or self.state}"
        return f"{who}: {what}"


OUTCOMES: dict[str, str] = {
    "succeeded": "succeeded",
    "failed": "failed",
    "rejected": "rejected by the server",
    "unresolved": "unresolved (each named below: run again, or see what it needs)",
    "already_succeeded": "skipped: already succeeded in an earlier run",
    "already_failed": "skipped: already failed in an earlier run (not retried)",
    "duplicate": "duplicate lines (same input as an earlier line, run once)",
    "invalid": "invalid lines (not sent)",
}
"""Every input ends in exactly one of these outcomes (key: label)."""


@dataclass
class BatchReport:
    """Every input's result, in input order, and the counts of this run.

    :meth:`outcomes` counts every input exactly once (they add up to ``inputs``); ``created``,
    ``reconciled`` and ``downloaded`` count what this run did. ``succeeded``, ``failed``,
    ``rejected`` and ``unresolved`` count the inputs *run* now (not the ones done earlier:
    ``skipped``, nor the ``duplicates`` of another line).
    """

    results: list[BatchResult]
    invalid: list[InvalidInput] = field(default_factory=list)
    created: int = 0
    reconciled: int = 0
    succeeded: int = 0
    failed: int = 0
    downloaded: int = 0
    skipped: int = 0
    """Inputs done by an earlier run on the same journal (succeeded or not): nothing sent now."""
    rejected: int = 0
    unresolved: int = 0
    duplicates: int = 0
    cleaned: int = 0
    """Temporary files of interrupted downloads removed (an earlier run was killed mid-file)."""
    aborted: str | None = None
    journal_path: str | None = None
    duplicate_lines: list[tuple[int, int]] = field(default_factory=list)
    """``(line, same as line)`` for inputs identical to an earlier line (the first 100 only
    with ``keep_results=False``)."""
    counted: dict[str, int] = field(default_factory=dict)
    """The runner's count of every input's outcome (also those whose result was not kept)."""

    @property
    def failures(self) -> list[BatchResult]:
        return [r for r in self.results if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.invalid and not self.failures and self.aborted is None

    @property
    def inputs(self) -> int:
        """Input lines (invalid ones included)."""
        return sum(self.outcomes().values())

    def outcomes(self) -> dict[str, int]:
        """How many inputs ended in each outcome of :data:`OUTCOMES`; the values add up to
        :attr:`inputs`."""
        counts = dict.fromkeys(OUTCOMES, 0)
        if self.counted:
            counts.update(self.counted)
        else:
            for result in self.results:
                counts[result.outcome] += 1
        counts["invalid"] = len(self.invalid)
        return counts

    def activity(self) -> dict[str, int]:
        """What this run did (not outcomes: one input may be created and then fail)."""
        done = {
            "created": self.created,
            "reconciled": self.reconciled,
            "downloaded": self.downloaded,
        }
        if self.cleaned:
            done["temporary files removed"] = self.cleaned
        return done

    def counts(self) -> dict[str, int]:
        """``inputs``, then :meth:`outcomes`, then :meth:`activity`."""
        return {"inputs": self.inputs, **self.outcomes(), **self.activity()}


# --- preparing inputs ---------------------------------------------------------------------------


def _resolve_schema(prop: Any, defs: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(prop, Mapping):
        return {}
    out = dict(prop)
    for ref in ([prop["$ref"]] if "$ref" in prop else []) + [
        x.get("$ref") for x in prop.get("allOf", []) if isinstance(x, Mapping)
    ]:
        if isinstance(ref, str):
            target = defs.get(ref.rsplit("/", 1)[-1])
            if isinstance(target, Mapping):
                out = {**target, **out}
    return out


def secret_fields(info: ModelInfo[Any, Any]) -> frozenset[str]:
    """Input fields of ``info`` that hold secrets (``format: password`` / ``x-cog-secret``)."""
    schema = info.input_schema
    defs = schema.get("$defs", {})
    found = set()
    for name, prop in schema.get("properties", {}).items():
        resolved = _resolve_schema(prop, defs)
        variants = [resolved, *[_resolve_schema(v, defs) for v in resolved.get("anyOf", [])]]
        if any(v.get("format") == "password" or v.get("x-cog-secret") for v in variants):
            found.add(name)
    return frozenset(found)


def item_key(info: ModelInfo[Any, Any], input: ModelInput[Any]) -> str:
    """The fingerprint of ``input``: what the API will echo, minus secret values."""
    wire = input.to_request_input()
    exclude = set(secret_fields(info))
    exclude.update(k for k, v in input.request_values().items() if isinstance(v, SecretStr))
    return fingerprint(info.ref, wire, exclude=exclude)


def _validation_problems(line: int, exc: ValidationError) -> list[InvalidInput]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err.get("loc", ()))
        value = err.get("input")
        shown = "" if err.get("type") == "missing" else _shown(value)
        problems.append(InvalidInput(line, loc, shown, str(err.get("msg", "invalid"))))
    return problems


def _shown(value: Any) -> str:
    if isinstance(value, SecretStr):
        return "<secret>"
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def iter_items(
    inputs: Iterable[tuple[int, ModelInput[Any] | Mapping[str, Any]]],
    model: str | ModelInfo[Any, Any] | None = None,
) -> Iterator[BatchItem | InvalidInput]:
    """Validate each ``(line, input)`` through its model's generated ``Input``, one at a time
    (``inputs`` is read lazily: nothing is read ahead).

    A generated ``Input`` carries its model; a mapping needs ``model`` (``owner/name``), which is
    resolved now (an unknown model raises before anything is read). A bad input becomes an
    :class:`InvalidInput` per failing field and does not stop the others.
    """
    info: ModelInfo[Any, Any] | None = None
    if isinstance(model, ModelInfo):
        info = model
    elif model is not None:
        from replicate_typed.models import registry

        info = registry.get_model(model)
    return _validated(inputs, info)


def _validated(
    inputs: Iterable[tuple[int, ModelInput[Any] | Mapping[str, Any]]],
    info: ModelInfo[Any, Any] | None,
) -> Iterator[BatchItem | InvalidInput]:
    for line, raw in inputs:
        if isinstance(raw, ModelInput):
            item_info = getattr(type(raw), "__model_info__", None)
            if not isinstance(item_info, ModelInfo):
                yield InvalidInput(line, "", "", "not a generated model Input")
                continue
            yield BatchItem(line, item_info, raw, item_key(item_info, raw))
            continue
        if not isinstance(raw, Mapping):
            yield InvalidInput(line, "", _shown(raw), "each input must be a JSON object")
            continue
        if info is None:
            yield InvalidInput(line, "", "", "a mapping input needs model='owner/name'")
            continue
        try:
            validated = info.input_type.model_validate(dict(raw))
        except ValidationError as exc:
            yield from _validation_problems(line, exc)
            continue
        yield BatchItem(line, info, validated, item_key(info, validated))


def prepare_items(
    inputs: Iterable[tuple[int, ModelInput[Any] | Mapping[str, Any]]],
    model: str | ModelInfo[Any, Any] | None = None,
) -> tuple[list[BatchItem], list[InvalidInput]]:
    """:func:`iter_items` as two lists: the valid items and the problems."""
    items: list[BatchItem] = []
    invalid: list[InvalidInput] = []
    for entry in iter_items(inputs, model):
        if isinstance(entry, InvalidInput):
            invalid.append(entry)
        else:
            items.append(entry)
    return items, invalid


# --- reconciliation ------------------------------------------------------------------------------


class _Unresolved(Exception):
    """The input cannot move on this run (it stays in the journal for the next one)."""


class _Rejected(Exception):
    """The API refused the input: nothing was created, and trying again will not help."""


class _Fatal(Exception):
    """Stop the whole batch (bad credentials)."""


class _NoList(Exception):
    """The server has no predictions list (a router serving only create and get)."""


# answers that mean "this server does not serve GET /v1/predictions" (not a passing failure)
_NO_LIST_STATUSES = frozenset({404, 405, 501})


class _Reconciler:
    """Finds predictions by input fingerprint in the server's list, one listing for many asks.

    A listing started after an ask was made answers it; asks arriving while a listing runs wait
    for the next one. Predictions are matched on ``(model, input)`` exactly as journaled. A
    server without a list (404/405/501) is remembered: later asks raise :class:`_NoList` at once.
    """

    def __init__(
        self,
        client: AsyncClient,
        fingerprint_of: Callable[[Prediction], str | None],
        floor: float,
    ) -> None:
        self._client = client
        self._fingerprint_of = fingerprint_of
        self._floor = floor
        self._lock = asyncio.Lock()
        self._by_key: dict[str, list[Prediction]] = {}
        self._since = math.inf
        self._started = -math.inf
        self.listings = 0
        self.no_list: str | None = None
        """Why the server cannot list predictions (set once it answered 404/405/501)."""

    async def find(self, key: str, since: float, asked_at: float) -> list[Prediction]:
        async with self._lock:
            if self.no_list is not None:
                raise _NoList(self.no_list)
            if not (self._started >= asked_at and self._since <= since):
                try:
                    await self._fetch(min(since, self._floor))
                except errors.APIStatusError as exc:
                    if exc.status_code not in _NO_LIST_STATUSES:
                        raise
                    self.no_list = (
                        f"this server has no predictions list (GET /v1/predictions answered "
                        f"HTTP {exc.status_code})"
                    )
                    raise _NoList(self.no_list) from None
            return list(self._by_key.get(key, []))

    async def _fetch(self, since: float) -> None:
        started = time.monotonic()
        after = datetime.fromtimestamp(since, UTC).isoformat().replace("+00:00", "Z")
        found: dict[str, list[Prediction]] = {}
        async for prediction in self._client.predictions.list(created_after=after):
            key = self._fingerprint_of(prediction)
            if key is not None:
                found.setdefault(key, []).append(prediction)
        self._by_key, self._since, self._started = found, since, started
        self.listings += 1


_PREFERENCE = {"succeeded": 0, "processing": 1, "starting": 1}


def _best(matches: Sequence[Prediction]) -> Prediction:
    """Of several predictions with the same input, the one to adopt: a success, else one still
    running, else the oldest."""
    return min(
        matches,
        key=lambda p: (
            _PREFERENCE.get(str(p.status), 2),
            p.created_at.timestamp() if p.created_at is not None else math.inf,
            p.id,
        ),
    )


# --- the runner ---------------------------------------------------------------------------------


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _write_json_atomic(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


# an interrupted download's temporary file (the client's ``.<16 hex>.download``) and an
# interrupted ``output.json`` write (``.output.json.<pid>.tmp``)
_TEMPORARY = re.compile(r"\.[0-9a-f]{16}\.download|\.output\.json\.[0-9]+\.tmp")


def _remove_temporaries(folder: Path) -> int:
    """Delete the temporary files an interrupted run left in ``folder``; returns how many."""
    removed = 0
    try:
        names = [entry.name for entry in os.scandir(folder) if entry.is_file()]
    except OSError:  # no folder yet
        return 0
    for name in names:
        if _TEMPORARY.fullmatch(name):
            try:
                (folder / name).unlink()
            except FileNotFoundError:
                continue
            removed += 1
            logger.info("batch: removed %s left by an interrupted download", folder / name)
    return removed


_UNUSABLE_OUTPUT = "no usable output: "
"""The prefix of a succeeded prediction's output error that another run cannot fix."""


def _final_output_error(error: str | None) -> bool:
    return bool(error) and ("data_removed" in str(error) or str(error).startswith(_UNUSABLE_OUTPUT))


def _output_name(index: int, url: str) -> str:
    if url[:5].lower() == "data:":
        return f"output_{index}"
    suffix = Path(urlsplit(url).path).suffix
    if not (1 < len(suffix) <= 10 and suffix[1:].isalnum()):
        suffix = ""
    return f"output_{index}{suffix}"


def _cause(exc: BaseException | None) -> str:
    """Why a create's outcome is unknown, in a few words."""
    if exc is None:
        return "an earlier run left its outcome unknown"
    if isinstance(exc, errors.APIStatusError):
        return f"HTTP {exc.status_code} after it was sent"
    if isinstance(exc, errors.APIConnectionError):
        return f"{type(exc).__name__} after it was sent"
    return _short(exc)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 400 else text[:399] + "…"


class _Runner:
    def __init__(
        self,
        client: AsyncClient,
        journal: Journal,
        out_dir: Path | None,
        options: BatchOptions,
        on_event: EventHook | None,
        lock: JournalLock | None = None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.out_dir = out_dir
        self.options = options
        self.save = out_dir is not None and options.download
        self.on_event = on_event
        self.lock = lock
        self.creates = TokenBucket(options.creates_per_minute, options.create_burst)
        self.reads = TokenBucket(options.reads_per_minute, options.read_burst)
        self.report = BatchReport(results=[], journal_path=journal.path)
        self.secrets: dict[str, frozenset[str]] = {}
        # in flight (dropped when done), and the results kept for the report
        self.results: dict[str, BatchResult] = {}
        self.kept: dict[str, BatchResult] = {}
        self.repeats: list[tuple[int, int, str]] = []
        self.last_status: dict[str, str] = {}
        self.abort: str | None = None
        self.started_wall = time.time()
        self._downloads: httpx.AsyncClient | None = None
        self.reconciler = _Reconciler(
            client, self._fingerprint_of, self.started_wall - options.reconcile_margin
        )

    # fingerprints of listed predictions, the same way inputs are keyed
    def _fingerprint_of(self, prediction: Prediction) -> str | None:
        model = prediction.model
        exclude = self.secrets.get(model) if model is not None else None
        if model is None or exclude is None or not isinstance(prediction.input, Mapping):
            return None
        return fingerprint(model, prediction.input, exclude=exclude)

    def _emit(self, kind: str, result: BatchResult) -> None:
        if self.on_event is not None:
            try:
                self.on_event(kind, result)
            except Exception:  # a progress display must never break the batch
                logger.debug("batch: on_event hook failed", exc_info=True)

    def _result(self, item: BatchItem) -> BatchResult:
        result = self.results.get(item.key)
        if result is None:
            result = self.results[item.key] = BatchResult(
                item.line, item.info.ref, item.key, "queued"
            )
        return result

    def _sync(self, item: BatchItem) -> tuple[JournalEntry, BatchResult]:
        entry = self.journal.get(item.key)
        assert entry is not None
        result = self._result(item)
        result.state = entry.state
        result.prediction_id = entry.prediction_id
        result.status = entry.status
        result.output = entry.output
        result.files = entry.files
        return entry, result

    def _count(self, outcome: str) -> None:
        self.report.counted[outcome] = self.report.counted.get(outcome, 0) + 1

    def _settled(self, item: BatchItem) -> None:
        """The input needs nothing more this run: count its outcome, keep or drop its result."""
        result = self.results.pop(item.key, None) or self._result(item)
        self.results.pop(item.key, None)
        self.last_status.pop(item.key, None)
        self._count(result.outcome)
        if self.options.keep_results or not result.ok:
            self.kept[item.key] = result
        self._emit("done", result)

    async def run(self, items: Iterator[BatchItem | InvalidInput]) -> BatchReport:
        opts = self.options
        limits = httpx.Limits(
            max_connections=max(opts.concurrency, 4), max_keepalive_connections=opts.concurrency
        )
        self._downloads = httpx.AsyncClient(
            timeout=httpx.Timeout(60.0, connect=10.0), limits=limits, follow_redirects=True
        )
        self.journal.begin_run()
        # inputs left in ``creating`` may be older than this run: widen the listing window
        oldest = self.journal.oldest_creating()
        if oldest is not None:
            self.reconciler._floor = min(self.reconciler._floor, oldest - opts.reconcile_margin)
        queue: asyncio.Queue[BatchItem | None] = asyncio.Queue(maxsize=opts.concurrency)

        async def worker() -> None:
            while (item := await queue.get()) is not None:
                await self._process(item)

        try:
            async with asyncio.TaskGroup() as group:
                workers = [group.create_task(worker()) for _ in range(opts.concurrency)]
                await self._feed(items, queue)
                for _ in workers:
                    await queue.put(None)
        except BaseExceptionGroup as group_error:
            if len(group_error.exceptions) == 1:
                raise group_error.exceptions[0] from None
            raise
        finally:
            await self._downloads.aclose()
        return self._finish()

    async def _feed(
        self, items: Iterator[BatchItem | InvalidInput], queue: asyncio.Queue[BatchItem | None]
    ) -> None:
        """Read the inputs one at a time: journal each, hand the first of each input to the
        workers (blocking while ``concurrency`` wait), note repeats. Each input is read in a
        worker thread: a slow source (a pipe, a generator over a network) never stalls the
        predictions already running."""
        while True:
            entry = await asyncio.to_thread(next, items, None)
            if entry is None:
                return
            if isinstance(entry, InvalidInput):
                self.report.invalid.append(entry)
                continue
            item = entry
            if item.info.ref not in self.secrets:
                self.secrets[item.info.ref] = secret_fields(item.info)
            if self.abort is not None:
                self._not_attempted(item)
                continue
            _, first = self.journal.add_for_run(item.key, item.line, item.info.ref)
            if first is not None:
                self._repeat(item, first)
                continue
            await queue.put(item)

    def _not_attempted(self, item: BatchItem) -> None:
        result = BatchResult(
            item.line, item.info.ref, item.key, "queued", error=f"not attempted: {self.abort}"
        )
        self._count(result.outcome)
        if self.options.keep_results:
            self.kept[item.key] = result
        self._emit("done", result)

    def _repeat(self, item: BatchItem, first: int) -> None:
        self.report.duplicates += 1
        self._count("duplicate")
        if self.options.keep_results:
            self.repeats.append((item.line, first, item.key))
        if self.options.keep_results or len(self.report.duplicate_lines) < 100:
            self.report.duplicate_lines.append((item.line, first))
        result = BatchResult(item.line, item.info.ref, item.key, "queued", same_as=first)
        self._emit("duplicate", result)
        self._emit("done", result)

    def _finish(self) -> BatchReport:
        report = self.report
        report.aborted = self.abort
        counted = report.counted
        report.succeeded += counted.get("succeeded", 0)
        report.failed += counted.get("failed", 0)
        report.rejected += counted.get("rejected", 0)
        report.unresolved += counted.get("unresolved", 0)
        results = list(self.kept.values())
        for line, first_line, key in self.repeats:
            original = self.kept.get(key)
            if original is not None:
                results.append(replace(original, line=line, same_as=first_line, skipped=True))
        results.sort(key=lambda r: r.line)
        report.results = results
        return report

    async def _process(self, item: BatchItem) -> None:
        entry, result = self._sync(item)
        if self.abort is not None:
            result.error = f"not attempted: {self.abort}"
            self._settled(item)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.job_timeout
        scope = asyncio.timeout_at(deadline)
        try:
            # the client clamps each request to the time left; the scope ends the job regardless
            with client_deadline(self.options.job_timeout):
                async with scope:
                    await self._steps(item, entry, result, deadline)
        except TimeoutError:
            if not scope.expired():
                raise
            self._deadline_passed(item)
        except _Rejected as exc:
            _, result = self._sync(item)
            result.error = str(exc)
            self._emit("rejected", result)
        except _Unresolved as exc:
            _, result = self._sync(item)
            result.error = str(exc)
            self._emit("failed", result)
        except _Fatal as exc:
            _, result = self._sync(item)
            result.error = str(exc)
            self.abort = self.abort or str(exc)
            self._emit("failed", result)
        self._settled(item)

    async def _steps(
        self, item: BatchItem, entry: JournalEntry, result: BatchResult, deadline: float
    ) -> None:
        """create (or reconcile) -> wait -> output rule -> download, from wherever the journal
        says this input is."""
        if self._done(entry):
            result.skipped = True
            result.error = entry.error
            self.report.skipped += 1
            self._emit("skipped", result)
            return
        prediction: Prediction | None = None
        pid = entry.prediction_id
        if entry.state == "creating":
            pid = await self._reconcile(item, entry.creating_at or self.started_wall)
        while pid is None:
            prediction = await self._create(item)
            pid = prediction.id if prediction is not None else None
        entry, result = self._sync(item)
        pid = entry.prediction_id or pid
        fresh: Prediction | None = None
        if entry.state == "created":
            prediction = await self._wait(item, pid, prediction, deadline)
            status = str(prediction.status)
            error = None
            if status != "succeeded":
                error = f"prediction {pid} {status}" + (
                    f": {prediction.error}" if prediction.error else ""
                )
            self.journal.mark_finished(item.key, status, prediction.output, error)
            entry, result = self._sync(item)
            result.error = error
            fresh = prediction
            if error is not None:
                self._emit("failed", result)
        if entry.state == "finished" and entry.status == "succeeded":
            await self._settle_output(item, entry, fresh)
            entry, result = self._sync(item)
            result.error = entry.error

    def _deadline_passed(self, item: BatchItem) -> None:
        """``job_timeout`` ran out: say where the input stands; the journal keeps it for the
        next run (a create in flight is reconciled then, never sent blindly again)."""
        entry, result = self._sync(item)
        seconds = f"{self.options.job_timeout:g} s"
        pid = entry.prediction_id
        if entry.state == "creating":
            message = (
                f"deadline of {seconds} (job_timeout) passed while its create was in flight: "
                "the prediction may exist; it stays 'creating' in the journal and is reconciled "
                "(never created twice) when the batch runs again"
            )
            self.journal.note_unknown(item.key, message)
        elif entry.state == "queued" or pid is None:
            message = (
                f"deadline of {seconds} (job_timeout) passed before it was created (nothing "
                "was created); run again"
            )
            self.journal.note_error(item.key, message)
        elif entry.state == "created":
            last = self.last_status.get(item.key) or "unknown"
            message = (
                f"prediction {pid}: deadline of {seconds} (job_timeout) passed while waiting "
                f"for it (last status: {last}); it was not canceled and stays in the journal: "
                "run again to wait for it again"
            )
            self.journal.note_error(item.key, message)
        else:
            message = (
                f"prediction {pid}: deadline of {seconds} (job_timeout) passed while saving its "
                "output; run again to download it"
            )
            self.journal.note_error(item.key, message)
        logger.warning("batch: line %d: %s", item.line, message)
        entry, result = self._sync(item)
        result.error = message
        self._emit("failed", result)

    def _done(self, entry: JournalEntry) -> bool:
        if entry.state in ("downloaded", "rejected"):
            return True
        if entry.state == "finished":
            return entry.status != "succeeded" or not self.save or _final_output_error(entry.error)
        return False

    # --- create

    async def _create(self, item: BatchItem) -> Prediction | None:
        """One create attempt. Returns the prediction, or None when the input must be created
        again (surely not created, or reconciled and not found)."""
        entry = self.journal.get(item.key)
        assert entry is not None
        if entry.attempts >= self.options.max_create_attempts:
            raise _Unresolved(
                f"line {item.line}: gave up after {entry.attempts} create attempts "
                f"({entry.error or 'no prediction was created'})"
            )
        if self.abort is not None:
            raise _Unresolved(f"not attempted: {self.abort}")
        await self.creates.acquire()
        self._check_lock()
        try:
            _, sent_at = self.journal.mark_creating(item.key)
        except StateConflict as conflict:
            # another runner on this journal moved the input on: adopt, never create again
            if conflict.prediction_id is None:
                raise _Unresolved(
                    f"another runner on this journal has this input ({conflict.state}); "
                    "not created here"
                ) from None
            return await self._get(item, conflict.prediction_id)
        try:
            typed = await self.client.create(item.input, **dict(self.options.create_options))
        except errors.RateLimitError as exc:
            self.creates.pause(  # the client's one rate-limit rule: capped, jittered, announced
                self.client.options.retry_policy.pause_for(exc.retry_after or 5.0, "batch creates")
            )
            self.journal.mark_not_created(item.key, f"throttled: {_short(exc)}")
            return None
        except (errors.AuthenticationError, errors.PermissionDeniedError) as exc:
            self.journal.mark_not_created(item.key, _short(exc))
            raise _Fatal(f"line {item.line}: {_short(exc)}") from None
        except errors.InputError as exc:
            self.journal.mark_not_created(item.key, _short(exc), final=True)
            raise _Rejected(f"line {item.line}: {_short(exc)}") from None
        except errors.APIStatusError as exc:
            if exc.prediction_may_exist:
                return await self._unknown(item, exc, sent_at)
            if exc.status_code in (400, 404, 409, 413, 422):
                self.journal.mark_not_created(item.key, _short(exc), final=True)
                raise _Rejected(f"line {item.line}: {_short(exc)}") from None
            self.journal.mark_not_created(item.key, _short(exc))
            await asyncio.sleep(self.options.error_backoff)
            return None
        except errors.APIConnectionError as exc:
            if exc.sent or exc.prediction_may_exist:
                return await self._unknown(item, exc, sent_at)
            self.journal.mark_not_created(item.key, _short(exc))
            await asyncio.sleep(self.options.error_backoff)
            return None
        except errors.ReplicateError as exc:
            if exc.prediction_id:
                # a 2xx create answer that did not fit but carried the id: the prediction exists
                logger.warning(
                    "batch: line %d: create answer not understood (%s); adopting %s",
                    item.line, _short(exc), exc.prediction_id,
                )  # fmt: skip
                self._created(item, exc.prediction_id)
                return await self._get(item, exc.prediction_id)
            # e.g. a 201 whose body is not JSON: the prediction may exist, its id is unknown
            return await self._unknown(item, exc, sent_at)
        self._created(item, typed.id)
        return typed.raw

    def _check_lock(self) -> None:
        """Stop creating when another runner took this journal over (its record replaced ours:
        the folder's file locks do not reach its machine)."""
        other = self.lock.taken_over if self.lock is not None else None
        if other is not None:
            raise _Fatal(
                f"another batch runner took over this journal ({other.describe()}): file locks "
                "on this folder do not hold across machines; stopped before creating more"
            )

    def _created(self, item: BatchItem, prediction_id: str) -> None:
        self.journal.mark_created(item.key, prediction_id)
        self.report.created += 1
        _, result = self._sync(item)
        self._emit("created", result)

    async def _unknown(
        self, item: BatchItem, exc: BaseException, sent_at: float
    ) -> Prediction | None:
        self.journal.note_unknown(item.key, f"outcome unknown: {_short(exc)}")
        logger.info("batch: line %d: create outcome unknown, reconciling", item.line)
        if self.reconciler.no_list is None:  # no grace period for a listing that cannot happen
            await asyncio.sleep(self.options.reconcile_delay)
        # Only a listing that starts now can answer for this create: one started earlier (by
        # another worker) may predate the moment the create reached the server -- the client
        # may have waited out a 429 and sent it again, or the request may have been slow --
        # and not holding it proves nothing (the soak race: a duplicate create and an orphan).
        pid = await self._reconcile(item, sent_at, asked=time.monotonic(), cause=exc)
        if pid is None:
            return None
        return await self._get(item, pid)

    async def _reconcile(
        self,
        item: BatchItem,
        since: float,
        asked: float | None = None,
        cause: BaseException | None = None,
    ) -> str | None:
        """Look for the prediction of an input whose create may have happened; adopt it if found,
        else mark the input ``queued`` again. Returns the prediction id or None.

        When the server cannot be asked (no list, or listing keeps failing) the input stays
        ``creating`` and is reported unresolved, unless ``recreate_unknown`` allows creating it
        again."""
        asked = time.monotonic() if asked is None else asked
        failures = 0
        while True:
            try:
                matches = await self.reconciler.find(
                    item.key, since - self.options.reconcile_margin, asked
                )
                break
            except _NoList as exc:
                return self._cannot_reconcile(item, str(exc), cause)
            except errors.ReplicateError as exc:
                failures += 1
                self.journal.note_error(item.key, f"reconciling: {_short(exc)}")
                if failures >= self.options.max_consecutive_errors:
                    return self._cannot_reconcile(
                        item, f"the predictions list failed ({_short(exc)})", cause
                    )
                await asyncio.sleep(self.options.error_backoff * failures)
        if not matches:
            self.journal.mark_not_found(
                item.key, "reconciled: not found on the server, creating again"
            )
            return None
        chosen = _best(matches)
        self.journal.mark_created(item.key, chosen.id, how="reconciled")
        self.report.reconciled += 1
        if len(matches) > 1:
            others = ", ".join(p.id for p in matches if p.id != chosen.id)
            logger.warning(
                "batch: line %d: %d predictions have this input (%s adopted; also %s)",
                item.line, len(matches), chosen.id, others,
            )  # fmt: skip
        _, result = self._sync(item)
        self._emit("reconciled", result)
        return chosen.id

    def _cannot_reconcile(
        self, item: BatchItem, why: str, cause: BaseException | None
    ) -> str | None:
        """An unknown create outcome that cannot be checked: create again only if the user said
        so (returns None: the caller creates), else raise :class:`_Unresolved` naming the line,
        the journal state and how to resolve it."""
        what = f" ({_cause(cause)})"
        if self.options.recreate_unknown:
            logger.warning(
                "batch: line %d: create outcome unknown%s and %s; creating it again "
                "(recreate_unknown: it may be paid for twice)",
                item.line, what, why,
            )  # fmt: skip
            self.journal.requeue_unknown(
                item.key, f"outcome unknown{what}; {why}; created again (recreate_unknown)"
            )
            return None
        message = (
            f"the create may have been paid for{what} and {why} to check, so it was not created "
            "again; it stays 'creating' in the journal: look for the prediction on the server's "
            "dashboard, or run again with --recreate-unknown (recreate_unknown=True) to create "
            "it again, accepting it may be paid for twice"
        )
        self.journal.note_error(item.key, message)
        raise _Unresolved(message)

    # --- wait

    async def _get(self, item: BatchItem, pid: str) -> Prediction:
        failures = 0
        while True:
            await self.reads.acquire()
            try:
                return await self.client.predictions.get(pid)
            except errors.RateLimitError as exc:
                self.reads.pause(  # the client's one rate-limit rule
                    self.client.options.retry_policy.pause_for(
                        exc.retry_after or 5.0, "batch reads"
                    )
                )
                failures += 1
                last: BaseException = exc
            except (errors.AuthenticationError, errors.PermissionDeniedError) as exc:
                raise _Fatal(f"line {item.line} (prediction {pid}): {_short(exc)}") from None
            except errors.ReplicateError as exc:
                failures += 1
                last = exc
            self.journal.note_error(item.key, _short(last))
            if failures >= self.options.max_consecutive_errors:
                raise _Unresolved(
                    f"line {item.line} (prediction {pid}): {_short(last)}; "
                    "left in the journal for the next run"
                )
            await asyncio.sleep(self.options.error_backoff * failures)

    async def _wait(
        self, item: BatchItem, pid: str, current: Prediction | None, deadline: float
    ) -> Prediction:
        """Until the prediction is terminal; the job's deadline (``asyncio.timeout_at`` around
        the job) ends it whatever status the server reports, and the stream is given only the
        time left."""
        poller = Poller(self.options.poll_policy)
        started = time.monotonic()
        if current is None or current.id != pid:
            current = await self._get(item, pid)
        self.last_status[item.key] = status_of(current) or "none"
        if not is_terminal(status_of(current)) and await self._stream_done(current, deadline):
            current = await self._get(item, pid)  # the stream said done: one GET for the result
        while not is_terminal(status_of(current)):
            self.last_status[item.key] = status_of(current) or "none"
            delay = poller.next_delay(
                status_of(current), current.logs, elapsed=time.monotonic() - started
            )
            await asyncio.sleep(delay)
            current = await self._get(item, pid)
        return current

    async def _stream_done(self, current: Prediction, deadline: float) -> bool:
        """Wait on the prediction's stream (one read, counted like a GET); False: poll."""
        if not self.options.poll_policy.use_stream or not getattr(current.urls, "stream", None):
            return False
        await self.reads.acquire()
        left = deadline - asyncio.get_running_loop().time()
        try:
            return await self.client.predictions.stream_until_done(
                current, poll_policy=self.options.poll_policy, timeout=max(0.0, left)
            )
        except errors.ReplicateError:
            return False

    # --- output

    async def _settle_output(
        self, item: BatchItem, entry: JournalEntry, fresh: Prediction | None
    ) -> None:
        """A succeeded prediction's output through the client's one rule
        (:func:`~replicate_typed.client.outputs.succeeded_output`, as ``run()``), then saved."""
        from replicate_typed.types.api import Prediction as WirePrediction

        pid = entry.prediction_id
        assert pid is not None
        prediction = fresh
        asked = fresh is not None
        if prediction is None:
            if entry.output is None:  # nothing journaled (or null): ask the server
                prediction = await self._get(item, pid)
                asked = True
            else:
                prediction = WirePrediction.model_validate(
                    {"id": pid, "status": "succeeded", "output": entry.output}
                )
        while True:
            try:
                typed: Any = succeeded_output(prediction, item.info)
                problem = None
            except errors.OutputRemovedError:
                return self._removed(item, pid)
            except errors.OutputValidationError as exc:
                if "output" not in prediction.model_fields_set:
                    if not asked:
                        prediction = await self._get(item, pid)
                        asked = True
                        continue
                    # the server's answer lacked the field: not final, a later run asks again
                    return self._output_failed(item, pid, _short(exc), final=False)
                problem = f"{_UNUSABLE_OUTPUT}{_short(exc)}"
                if prediction.output is None or not self.save:
                    return self._output_failed(item, pid, problem, final=True)
                typed = prediction.output  # does not fit the type: save what it names anyway
            break
        if not self.save:
            return
        await self._download(item, pid, prediction, typed, problem)

    def _output_failed(self, item: BatchItem, pid: str, message: str, *, final: bool) -> None:
        if final and not message.startswith(_UNUSABLE_OUTPUT):
            message = _UNUSABLE_OUTPUT + message
        if pid not in message:
            message += f" [prediction {pid}]"
        self.journal.note_error(item.key, message)
        _, result = self._sync(item)
        result.error = message
        self._emit("failed", result)

    # --- download

    async def _download(
        self, item: BatchItem, pid: str, prediction: Prediction, typed: Any, problem: str | None
    ) -> None:
        from replicate_typed.client.downloads import (
            DownloadHTTPError,
            adownload,
            file_urls,
            output_dir,
        )

        assert self.out_dir is not None and self._downloads is not None
        try:
            # the id came from a server (or a journal): never a folder outside out_dir
            folder = output_dir(self.out_dir, pid)
        except errors.DownloadError as exc:
            return self._download_failed(item, pid, exc)
        # this run holds the journal's lock: any temporary file here is an earlier run's
        self.report.cleaned += _remove_temporaries(folder)
        refreshed = False
        _write_json_atomic(folder / "output.json", {"id": pid, "output": prediction.output})
        files: list[OutputFile] = []
        urls = file_urls(typed)
        index = 0
        failures = 0
        while index < len(urls):
            url = urls[index]
            try:
                path = await adownload(
                    url,
                    folder,
                    http=self._downloads,
                    overwrite=True,
                    filename=_output_name(index, url),
                    max_bytes=self.options.max_download_bytes,
                )
            except DownloadHTTPError as exc:
                failures += 1
                if exc.status_code in (404, 410, 403) and not refreshed:
                    # the link may have expired: fetch the prediction again for fresh URLs
                    prediction = await self._get(item, pid)
                    refreshed = True
                    if prediction.output is None and prediction.data_removed:
                        return self._removed(item, pid)
                    urls = file_urls(prediction.output)
                    continue
                if failures >= self.options.max_consecutive_errors or exc.status_code < 429:
                    return self._download_failed(item, pid, exc)
                await asyncio.sleep(self.options.error_backoff * min(failures, 4))
                continue
            except errors.DownloadError as exc:
                failures += 1
                if failures >= self.options.max_consecutive_errors:
                    return self._download_failed(item, pid, exc)
                await asyncio.sleep(self.options.error_backoff * min(failures, 4))
                continue
            digest, size = _sha256(path)
            files.append(OutputFile(str(path), digest, size, url))
            failures = 0
            index += 1
        self.journal.mark_downloaded(item.key, files, problem)
        self.report.downloaded += 1
        _, result = self._sync(item)
        result.error = problem
        self._emit("downloaded" if problem is None else "failed", result)

    def _removed(self, item: BatchItem, pid: str) -> None:
        message = (
            f"line {item.line} (prediction {pid}): succeeded but its output was removed "
            "(data_removed: outputs are deleted about an hour after a prediction) before it "
            "could be downloaded"
        )
        self.journal.note_error(item.key, message)
        _, result = self._sync(item)
        result.error = message
        self._emit("failed", result)

    def _download_failed(self, item: BatchItem, pid: str, exc: BaseException) -> None:
        message = f"line {item.line} (prediction {pid}): download failed: {_short(exc)}"
        self.journal.note_error(item.key, message)
        _, result = self._sync(item)
        result.error = message
        self._emit("failed", result)


async def arun_many(
    client: AsyncClient,
    inputs: Iterable[ModelInput[Any] | Mapping[str, Any]]
    | Iterable[tuple[int, ModelInput[Any] | Mapping[str, Any]]],
    *,
    model: str | None = None,
    out_dir: Path | str | None = None,
    journal: Journal | None = None,
    options: BatchOptions | None = None,
    on_event: EventHook | None = None,
    numbered: bool = False,
    **option_fields: Any,
) -> BatchReport:
    """Run every input (see the module docstring); returns a :class:`BatchReport`.

    ``inputs``: generated ``Input`` objects, or mappings validated through ``model``'s Input
    (``owner/name``); with ``numbered=True`` ``(line, input)`` pairs. Any iterable: it is read
    lazily, as workers free up (a generator over a huge file is fine). ``out_dir``: the journal
    (``journal.sqlite3``, locked for the run: see :class:`~replicate_typed.batch.lock.JournalLock`)
    and the downloaded outputs (``<prediction id>/``); without it the journal is in memory and
    nothing is downloaded. ``options`` or keyword fields of :class:`BatchOptions`
    (``concurrency=16``, ``job_timeout=600``, ``wait_for_lock=60`` ...).

    Raises :class:`~replicate_typed.batch.lock.JournalLockedError` (nothing sent) when another
    runner holds the journal and ``wait_for_lock`` seconds pass.
    """
    if options is None:
        options = BatchOptions(**option_fields)
    elif option_fields:
        options = replace(options, **option_fields)
    pairs: Iterable[tuple[int, Any]] = (
        inputs  # type: ignore[assignment]
        if numbered
        else enumerate(inputs, start=1)
    )
    items = iter_items(pairs, model)  # resolves ``model`` now; reads nothing yet
    folder = Path(out_dir) if out_dir is not None else None
    if journal is not None:
        journal_path = journal.path
    elif folder is not None:
        journal_path = str(folder / JOURNAL_NAME)
    else:
        journal_path = ":memory:"
    lock = JournalLock(lock_path(journal_path)) if journal_path != ":memory:" else None
    if lock is not None:
        await lock.acquire(options.wait_for_lock)
    try:
        owned = journal is None
        if journal is None:
            journal = Journal(journal_path)
        try:
            runner = _Runner(client, journal, folder, options, on_event, lock)
            report = await runner.run(iter(items))
        finally:
            if owned:
                journal.close()
    finally:
        if lock is not None:
            lock.release()
    return report
