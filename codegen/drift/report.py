"""Comparing specs with upstream, and the report: exit code, text, JSON and Markdown."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from rich.console import Console
from rich.markup import escape

from ..spec import ModelSpec
from . import changes as k
from .changes import MISSING, Change, Severity, show, worst
from .schema_diff import diff_model_schemas
from .sources import Upstream, UpstreamError

# Exit codes (docs/codegen.md, "API drift").
EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_BREAKING = 2
EXIT_ERROR = 3


@dataclass
class ModelReport:
    spec: ModelSpec
    upstream: Upstream | None
    changes: list[Change] = field(default_factory=list)
    upgrade: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def latest_id(self) -> str | None:
        return self.upstream.latest.id if self.upstream and self.upstream.latest else None

    @property
    def checked(self) -> bool:
        return self.upstream is not None and (
            self.upstream.pinned is not None
            or self.upstream.latest is not None
            or self.upstream.unavailable is not None
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.spec.ref,
            "call": self.spec.call,
            "version": self.spec.version,
            "latest_version": self.latest_id,
            "checked": self.checked,
            "status": _status(self.changes) if self.checked else "not checked",
            "changes": [c.to_json() for c in self.changes],
            "upgrade": [c.to_json() for c in self.upgrade],
            "notes": self.notes,
        }


def _status(found: list[Change]) -> str:
    top = worst(found)
    return "unchanged" if top is None else top.label


def compare_model(spec: ModelSpec, upstream: Upstream) -> ModelReport:
    """The drift of one spec: its pinned version as published now, and a newer version."""
    report = ModelReport(spec, upstream, notes=list(upstream.notes))
    if upstream.unavailable is not None:
        kind = k.VERSION_UNAVAILABLE if "version" in upstream.unavailable else k.MODEL_UNAVAILABLE
        report.changes.append(
            Change(
                spec.ref,
                kind,
                "/version" if kind == k.VERSION_UNAVAILABLE else "/model",
                spec.version if kind == k.VERSION_UNAVAILABLE else spec.ref,
                MISSING,
                Severity.BREAKING,
                upstream.unavailable,
            )
        )
        return report
    current = upstream.pinned
    if spec.call == "path" or spec.version is None:
        current = upstream.latest
    if current is not None:
        report.changes.extend(
            diff_model_schemas(spec.ref, spec.openapi_schema, current.openapi_schema)
        )
    latest = upstream.latest
    if (
        spec.call == "version"
        and spec.version
        and latest is not None
        and latest.id
        and latest.id != spec.version
    ):
        report.changes.append(
            Change(
                spec.ref,
                k.VERSION_PUBLISHED,
                "/version",
                spec.version,
                latest.id,
                Severity.COMPATIBLE,
                f"a newer version {latest.id} is published "
                "(`--update --to-latest` moves the spec to it)",
            )
        )
        report.upgrade = diff_model_schemas(spec.ref, spec.openapi_schema, latest.openapi_schema)
    return report


@dataclass
class DriftReport:
    source: str
    models: list[ModelReport] = field(default_factory=list)
    api: list[Change] | None = None
    api_source: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        out = [c for m in self.models for c in m.changes]
        return out + (self.api or [])

    def severity(self) -> Severity | None:
        return worst(self.changes)

    def exit_code(self, fail_on: Severity = Severity.COSMETIC) -> int:
        """3 when upstream could not be compared; else 2 for breaking drift, 1 for other drift at
        or above ``fail_on``, 0 otherwise."""
        if self.errors:
            return EXIT_ERROR
        top = self.severity()
        if top is None or top < fail_on:
            return EXIT_OK
        return EXIT_BREAKING if top is Severity.BREAKING else EXIT_DRIFT

    def counts(self) -> dict[str, int]:
        out = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for change in self.changes:
            out[change.severity.label] += 1
        return out

    def to_json(self, fail_on: Severity = Severity.COSMETIC) -> dict[str, Any]:
        top = self.severity()
        return {
            "source": self.source,
            "severity": top.label if top else "none",
            "exit_code": self.exit_code(fail_on),
            "counts": self.counts(),
            "models": [m.to_json() for m in self.models],
            "api": None
            if self.api is None
            else {"document": self.api_source, "changes": [c.to_json() for c in self.api]},
            "errors": self.errors,
        }


def _sorted(found: list[Change]) -> list[Change]:
    return sorted(found, key=lambda c: (-c.severity, c.path, c.kind))


COLOURS = {Severity.BREAKING: "bold red", Severity.COMPATIBLE: "yellow", Severity.COSMETIC: "dim"}


def _values(change: Change) -> str:
    if change.kind in (k.PROPERTY_ADDED, k.PROPERTY_REMOVED, k.SCHEMA_ADDED, k.SCHEMA_REMOVED):
        return ""
    if change.old is MISSING and change.new is MISSING:
        return ""
    if change.kind != k.ANNOTATION_CHANGED and (
        show(change.new).strip('"') in change.message
        or show(change.old).strip('"') in change.message
    ):
        return ""
    return f"{_short(change.old)} -> {_short(change.new)}"


def _short(value: Any, limit: int = 60) -> str:
    text = show(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def render_text(report: DriftReport, out: IO[str], fail_on: Severity = Severity.COSMETIC) -> None:
    console = Console(file=out, highlight=False, soft_wrap=True, width=200)
    against = [report.source] if report.models else []
    against += [report.api_source] if report.api_source else []
    console.print(f"[bold]API drift[/bold] against {escape(' and '.join(against) or 'nothing')}")
    for model in report.models:
        status = model.to_json()["status"]
        style = {
            "unchanged": "green",
            "not checked": "dim",
            "breaking": COLOURS[Severity.BREAKING],
            "compatible": COLOURS[Severity.COMPATIBLE],
            "cosmetic": COLOURS[Severity.COSMETIC],
        }[status]
        pinned = f" @ {model.spec.version[:12]}" if model.spec.version else " (by path)"
        console.print(f"\n[{style}]{status.upper():<11}[/{style}] {escape(model.spec.ref)}{pinned}")
        for note in model.notes:
            console.print(f"            note: {escape(note)}")
        _print_changes(console, model.changes)
        if model.upgrade:
            top = worst(model.upgrade)
            console.print(
                f"            moving to the latest version would be {top.label if top else 'a no-op'}:"
            )
            _print_changes(console, model.upgrade, indent="              ")
    if report.api is not None:
        top = worst(report.api)
        label = top.label.upper() if top else "UNCHANGED"
        style = COLOURS[top] if top else "green"
        console.print(
            f"\n[{style}]{label:<11}[/{style}] API document "
            f"{escape(report.api_source or '')} vs specs/api/openapi.json"
        )
        _print_changes(console, report.api)
    for error in report.errors:
        console.print(f"\n[bold red]error[/bold red]: {escape(error)}")
    counts = report.counts()
    checked = sum(1 for m in report.models if m.checked)
    scope = f"{checked}/{len(report.models)} models checked" if report.models else "API only"
    console.print(
        f"\n{scope}: "
        + ", ".join(f"{n} {label}" for label, n in counts.items())
        + f" -> exit {report.exit_code(fail_on)}"
    )


def _print_changes(console: Console, found: list[Change], indent: str = "            ") -> None:
    for change in _sorted(found):
        style = COLOURS[change.severity]
        values = _values(change)
        console.print(
            f"{indent}[{style}]{change.severity.label:<10}[/{style}] {escape(change.path)}  "
            f"{escape(change.message)}" + (f"  ({escape(values)})" if values else "")
        )


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: DriftReport, fail_on: Severity = Severity.COSMETIC) -> str:
    top = report.severity()
    icon = {None: "✅", Severity.COSMETIC: "ℹ️", Severity.COMPATIBLE: "⚠️", Severity.BREAKING: "❌"}
    lines = [
        f"## {icon[top]} API drift: {top.label if top else 'none'}",
        "",
        f"Compared `specs/` with {report.source}"
        + (f" and `{report.api_source}`" if report.api_source else "")
        + f". Exit code {report.exit_code(fail_on)}.",
        "",
        "| model | pinned | status | breaking | compatible | cosmetic |",
        "|---|---|---|---|---|---|",
    ]
    for model in report.models:
        per = {s: sum(1 for c in model.changes if c.severity is s) for s in Severity}
        lines.append(
            f"| `{model.spec.ref}` | {('`' + model.spec.version[:12] + '`') if model.spec.version else 'path'} "
            f"| {model.to_json()['status']} | {per[Severity.BREAKING]} | {per[Severity.COMPATIBLE]} "
            f"| {per[Severity.COSMETIC]} |"
        )
    if report.api is not None:
        per = {s: sum(1 for c in report.api if c.severity is s) for s in Severity}
        lines.append(
            f"| API document | | {_status(report.api)} | {per[Severity.BREAKING]} "
            f"| {per[Severity.COMPATIBLE]} | {per[Severity.COSMETIC]} |"
        )
    found = _sorted(report.changes)
    if found:
        lines += [
            "",
            "### Changes",
            "",
            "| severity | subject | path | change | old | new |",
            "|---|---|---|---|---|---|",
        ]
        for c in found:
            lines.append(
                f"| {c.severity.label} | `{c.subject}` | `{_md(c.path)}` | {_md(c.message)} "
                f"| {_md(_short(c.old))} | {_md(_short(c.new))} |"
            )
    upgrades = [m for m in report.models if m.spec.call == "version" and m.latest_id]
    upgrades = [m for m in upgrades if m.latest_id != m.spec.version]
    if upgrades:
        lines += ["", "### Newer versions", ""]
        for m in upgrades:
            top = worst(m.upgrade)
            verdict = f"would be {top.label}" if top else "changes no schema"
            lines.append(
                f"- `{m.spec.ref}`: `{m.latest_id}` ({len(m.upgrade)} schema changes; "
                f"moving to it {verdict})"
            )
            lines += [
                f"  - {c.severity.label}: `{_md(c.path)}` {_md(c.message)}"
                for c in _sorted(m.upgrade)
            ]
    if report.errors:
        lines += ["", "### Errors", ""] + [f"- {_md(e)}" for e in report.errors]
    return "\n".join(lines) + "\n"


def render_json(report: DriftReport, fail_on: Severity = Severity.COSMETIC) -> str:
    return json.dumps(report.to_json(fail_on), indent=2, ensure_ascii=False) + "\n"


def collect(
    specs: list[ModelSpec], fetch: Callable[[ModelSpec], Upstream], report: DriftReport
) -> DriftReport:
    """Fetch upstream for every spec and compare; errors are recorded per model."""
    for spec in specs:
        try:
            upstream = fetch(spec)
        except UpstreamError as exc:
            report.errors.append(str(exc))
            report.models.append(ModelReport(spec, None, notes=[f"error: {exc}"]))
            continue
        report.models.append(compare_model(spec, upstream))
    return report
