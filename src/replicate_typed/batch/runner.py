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
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr, ValidationError

from replicate_typed.batch.journal import Journal, JournalEntry, OutputFile, fingerprint
from replicate_typed.batch.ratelimit import TokenBucket
from replicate_typed.client import errors
from replicate_typed.client._logging import logger
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
    "arun_many",
    "prepare_items",
    "secret_fields",
    "item_key",
]

EventHook = Callable[[str, "BatchResult"], None]
"""``on_event(kind, result)``: kinds ``created``, ``reconciled``, ``finished``, ``downloaded``,
``failed``, ``skipped``, ``rejected``, ``done`` (the input needs nothing more this run)."""


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

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise errors.InputError(f"concurrency: {self.concurrency!r} must be at least 1")
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
    aborted: str | None = None
    journal_path: str | None = None

    @property
    def failures(self) -> list[BatchResult]:
        return [r for r in self.results if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.invalid and not self.failures and self.aborted is None

    @property
    def inputs(self) -> int:
        """Input lines (invalid ones included)."""
        return len(self.results) + len(self.invalid)

    def outcomes(self) -> dict[str, int]:
        """How many inputs ended in each outcome of :data:`OUTCOMES`; the values add up to
        :attr:`inputs`."""
        counts = dict.fromkeys(OUTCOMES, 0)
        for result in self.results:
            counts[result.outcome] += 1
        counts["invalid"] += len(self.invalid)
        return counts

    def activity(self) -> dict[str, int]:
        """What this run did (not outcomes: one input may be created and then fail)."""
        return {
            "created": self.created,
            "reconciled": self.reconciled,
            "downloaded": self.downloaded,
        }

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


def prepare_items(
    inputs: Iterable[tuple[int, ModelInput[Any] | Mapping[str, Any]]],
    model: str | ModelInfo[Any, Any] | None = None,
) -> tuple[list[BatchItem], list[InvalidInput]]:
    """Validate each ``(line, input)`` through its model's generated ``Input``.

    A generated ``Input`` carries its model; a mapping needs ``model`` (``owner/name``). A bad
    input becomes an :class:`InvalidInput` per failing field and does not stop the others.
    """
    info: ModelInfo[Any, Any] | None = None
    if isinstance(model, ModelInfo):
        info = model
    elif model is not None:
        from replicate_typed.models import registry

        info = registry.get_model(model)
    items: list[BatchItem] = []
    invalid: list[InvalidInput] = []
    for line, raw in inputs:
        if isinstance(raw, ModelInput):
            item_info = getattr(type(raw), "__model_info__", None)
            if not isinstance(item_info, ModelInfo):
                invalid.append(InvalidInput(line, "", "", "not a generated model Input"))
                continue
            items.append(BatchItem(line, item_info, raw, item_key(item_info, raw)))
            continue
        if not isinstance(raw, Mapping):
            invalid.append(InvalidInput(line, "", _shown(raw), "each input must be a JSON object"))
            continue
        if info is None:
            invalid.append(InvalidInput(line, "", "", "a mapping input needs model='owner/name'"))
            continue
        try:
            validated = info.input_type.model_validate(dict(raw))
        except ValidationError as exc:
            invalid.extend(_validation_problems(line, exc))
            continue
        items.append(BatchItem(line, info, validated, item_key(info, validated)))
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
        items: list[BatchItem],
        journal: Journal,
        out_dir: Path | None,
        options: BatchOptions,
        on_event: EventHook | None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.out_dir = out_dir
        self.options = options
        self.save = out_dir is not None and options.download
        self.on_event = on_event
        self.creates = TokenBucket(options.creates_per_minute, options.create_burst)
        self.reads = TokenBucket(options.reads_per_minute, options.read_burst)
        self.report = BatchReport(results=[], journal_path=journal.path)
        self.first: dict[str, BatchItem] = {}
        self.repeats: list[tuple[BatchItem, BatchItem]] = []
        for item in items:
            if item.key in self.first:
                self.repeats.append((item, self.first[item.key]))
            else:
                self.first[item.key] = item
        self.secrets = {item.info.ref: secret_fields(item.info) for item in self.first.values()}
        self.results: dict[str, BatchResult] = {}
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

    async def run(self) -> BatchReport:
        opts = self.options
        limits = httpx.Limits(
            max_connections=max(opts.concurrency, 4), max_keepalive_connections=opts.concurrency
        )
        self._downloads = httpx.AsyncClient(
            timeout=httpx.Timeout(60.0, connect=10.0), limits=limits, follow_redirects=True
        )
        try:
            for item in self.first.values():
                self.journal.add(item.key, item.line, item.info.ref)
            # inputs stuck in ``creating`` may be older than this run: widen the listing window
            stuck = [
                e.creating_at
                for e in (self.journal.get(k) for k in self.first)
                if e is not None and e.state == "creating" and e.creating_at is not None
            ]
            if stuck:
                self.reconciler._floor = min(stuck) - opts.reconcile_margin
            gate = asyncio.Semaphore(opts.concurrency)

            async def guarded(item: BatchItem) -> None:
                async with gate:
                    await self._process(item)

            await asyncio.gather(*(guarded(item) for item in self.first.values()))
        finally:
            await self._downloads.aclose()
        return self._finish()

    def _finish(self) -> BatchReport:
        report = self.report
        report.aborted = self.abort
        ran = {"succeeded": 0, "failed": 0, "rejected": 0, "unresolved": 0}
        for item in self.first.values():
            outcome = self._result(item).outcome
            if outcome in ran:
                ran[outcome] += 1
        report.succeeded += ran["succeeded"]
        report.failed += ran["failed"]
        report.rejected += ran["rejected"]
        report.unresolved += ran["unresolved"]
        for item, first in self.repeats:
            original = self._result(first)
            report.results.append(
                replace(original, line=item.line, same_as=first.line, skipped=True)
            )
            report.duplicates += 1
        report.results.extend(self._result(item) for item in self.first.values())
        report.results.sort(key=lambda r: r.line)
        return report

    async def _process(self, item: BatchItem) -> None:
        entry, result = self._sync(item)
        if self.abort is not None:
            result.error = f"not attempted: {self.abort}"
            return
        try:
            if self._done(entry):
                result.skipped = True
                result.error = entry.error
                self.report.skipped += 1
                self._emit("skipped", result)
                self._emit("done", result)
                return
            prediction: Prediction | None = None
            pid = entry.prediction_id
            if entry.state == "creating":
                pid = await self._reconcile(item, entry.creating_at or self.started_wall)
            while pid is None:
                prediction = await self._create(item)
                pid = prediction.id if prediction is not None else None
            entry, result = self._sync(item)
            if entry.state == "created":
                prediction = await self._wait(item, pid, prediction)
                status = str(prediction.status)
                error = None
                if status != "succeeded":
                    error = f"prediction {pid} {status}" + (
                        f": {prediction.error}" if prediction.error else ""
                    )
                self.journal.mark_finished(item.key, status, prediction.output, error)
                entry, result = self._sync(item)
                result.error = error
                self._emit("finished" if error is None else "failed", result)
            if entry.state == "finished" and entry.status == "succeeded" and self.save:
                await self._download(item, entry)
                entry, result = self._sync(item)
                result.error = entry.error
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
        self._emit("done", self._result(item))

    def _done(self, entry: JournalEntry) -> bool:
        if entry.state in ("downloaded", "rejected"):
            return True
        if entry.state == "finished":
            return (
                entry.status != "succeeded"
                or not self.save
                or bool(entry.error and "data_removed" in entry.error)
            )
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
        _, sent_at = self.journal.mark_creating(item.key)
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
            self.journal.mark_not_created(item.key, "reconciled: not created, creating again")
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

    async def _wait(self, item: BatchItem, pid: str, current: Prediction | None) -> Prediction:
        poller = Poller(self.options.poll_policy)
        started = time.monotonic()
        if current is None or current.id != pid:
            current = await self._get(item, pid)
        if not is_terminal(status_of(current)) and await self._stream_done(current):
            current = await self._get(item, pid)  # the stream said done: one GET for the result
        while not is_terminal(status_of(current)):
            delay = poller.next_delay(
                status_of(current), current.logs, elapsed=time.monotonic() - started
            )
            await asyncio.sleep(delay)
            current = await self._get(item, pid)
        return current

    async def _stream_done(self, current: Prediction) -> bool:
        """Wait on the prediction's stream (one read, counted like a GET); False: poll."""
        if not self.options.poll_policy.use_stream or not getattr(current.urls, "stream", None):
            return False
        await self.reads.acquire()
        try:
            return await self.client.predictions.stream_until_done(
                current, poll_policy=self.options.poll_policy
            )
        except errors.ReplicateError:
            return False

    # --- download

    async def _download(self, item: BatchItem, entry: JournalEntry) -> None:
        from replicate_typed.client.downloads import (
            DownloadHTTPError,
            adownload,
            file_urls,
            output_dir,
        )

        assert self.out_dir is not None and self._downloads is not None
        pid = entry.prediction_id
        assert pid is not None
        try:
            # the id came from a server (or a journal): never a folder outside out_dir
            folder = output_dir(self.out_dir, pid)
        except errors.DownloadError as exc:
            return self._download_failed(item, pid, exc)
        output = entry.output
        refreshed = False
        if output is None:
            prediction = await self._get(item, pid)
            output = prediction.output
            refreshed = True
            if output is None and prediction.data_removed:
                return self._removed(item, pid)
        try:
            typed = item.info.parse_output(output)
        except (ValidationError, ValueError, TypeError):
            typed = output
        _write_json_atomic(folder / "output.json", {"id": pid, "output": output})
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
        self.journal.mark_downloaded(item.key, files)
        self.report.downloaded += 1
        _, result = self._sync(item)
        self._emit("downloaded", result)

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
    (``owner/name``); with ``numbered=True`` ``(line, input)`` pairs. ``out_dir``: the journal
    (``journal.sqlite3``) and the downloaded outputs (``<prediction id>/``); without it the
    journal is in memory and nothing is downloaded. ``options`` or keyword fields of
    :class:`BatchOptions` (``concurrency=16``, ``creates_per_minute=300`` ...).
    """
    if options is None:
        options = BatchOptions(**option_fields)
    elif option_fields:
        options = replace(options, **option_fields)
    pairs: list[tuple[int, Any]] = (
        list(inputs)  # type: ignore[arg-type]
        if numbered
        else list(enumerate(inputs, start=1))
    )
    items, invalid = prepare_items(pairs, model)
    folder = Path(out_dir) if out_dir is not None else None
    owned = journal is None
    if journal is None:
        journal = Journal.in_dir(folder) if folder is not None else Journal(":memory:")
    try:
        runner = _Runner(client, items, journal, folder, options, on_event)
        report = await runner.run()
    finally:
        if owned:
            journal.close()
    report.invalid = invalid
    return report
