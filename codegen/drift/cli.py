"""``python -m codegen drift``: compare specs/ with upstream and classify every change."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from .. import generate as gen
from ..errors import SpecError, SpecErrors
from ..spec import load_model_specs, read_json
from . import update as updater
from .api_diff import DriftError, diff_api_documents, trimmed_upstream
from .changes import Severity
from .report import (
    EXIT_ERROR,
    EXIT_OK,
    DriftReport,
    collect,
    render_json,
    render_markdown,
    render_text,
)
from .sources import DirSource, LiveSource, Source, UpstreamError


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


class FailOn(StrEnum):
    breaking = "breaking"
    compatible = "compatible"
    cosmetic = "cosmetic"


def _error(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_ERROR)


def _load_upstream_document(where: str) -> dict[str, Any]:
    """Replicate's OpenAPI document from a file, or an http(s) URL (fetched without credentials)."""
    try:
        if where.startswith(("http://", "https://")):
            response = httpx.get(where, timeout=30.0, follow_redirects=True)
            response.raise_for_status()
            data = response.json()
        else:
            data = json.loads(Path(where).read_text(encoding="utf-8"))
    except (OSError, ValueError, httpx.HTTPError) as exc:
        raise _error(f"{where}: cannot read the API document: {exc}") from None
    if not isinstance(data, dict):
        raise _error(f"{where}: not an OpenAPI document")
    return data


def drift(
    root: Annotated[
        Path | None,
        typer.Option(
            "--root",
            help="Project folder whose pyproject.toml names the specs and the generated package "
            "([tool.replicate-typed]; default: the nearest one, from here up).",
        ),
    ] = None,
    from_dir: Annotated[
        Path | None,
        typer.Option(
            "--from-dir",
            help="Offline: a folder of OWNER__NAME.version.json (pinned version as published now) "
            "and optional OWNER__NAME.latest.json files, each {id, openapi_schema}.",
        ),
    ] = None,
    api_document: Annotated[
        str | None,
        typer.Option(
            "--api-document",
            help="Replicate's OpenAPI document (JSON file or http(s) URL): compare "
            "specs/api/openapi.json with it.",
        ),
    ] = None,
    no_models: Annotated[
        bool, typer.Option("--no-models", help="Only compare the API document.")
    ] = False,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Only this model (owner/name); repeatable."),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Report format.")
    ] = OutputFormat.text,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            help="Lowest severity that makes the exit code non-zero "
            "(breaking drift always exits 2 unless nothing reaches this level).",
        ),
    ] = FailOn.cosmetic,
    cosmetic_ok: Annotated[
        bool, typer.Option("--cosmetic-ok", help="Same as --fail-on compatible.")
    ] = False,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Write the upstream schemas into specs/ and regenerate (exit 0 when done).",
        ),
    ] = False,
    to_latest: Annotated[
        bool,
        typer.Option("--to-latest", help="With --update: move pinned specs to the latest version."),
    ] = False,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="Live mode: API base URL (default: REPLICATE_BASE_URL)."),
    ] = None,
    step_summary: Annotated[
        bool,
        typer.Option(
            "--step-summary/--no-step-summary",
            help="Append the Markdown report to $GITHUB_STEP_SUMMARY when it is set.",
        ),
    ] = True,
) -> None:
    """Detect and classify upstream changes to model schemas and to the API.

    Exit codes: 0 no drift at or above --fail-on; 1 compatible or cosmetic drift;
    2 breaking drift; 3 upstream could not be compared (configuration, network, bad files).
    """
    threshold = Severity.COMPATIBLE if cosmetic_ok else Severity.parse(fail_on.value)
    if to_latest and not update:
        raise _error("--to-latest only makes sense with --update")
    try:
        root = gen.Paths(root).root
        specs = [] if no_models else load_model_specs(gen.Paths(root).specs)
    except (SpecError, SpecErrors) as exc:
        for err in gen.iter_errors(exc):
            typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    if model:
        known = {s.ref for s in specs}
        unknown = [m for m in model if m not in known]
        if unknown:
            raise _error(f"no spec for {', '.join(unknown)} under {gen.Paths(root).specs}")
        specs = [s for s in specs if s.ref in model]

    source: Source | None = None
    if not no_models:
        try:
            if from_dir is not None:
                source = DirSource(from_dir)
            else:
                if not os.environ.get("REPLICATE_API_TOKEN"):
                    raise _error(
                        "live mode needs REPLICATE_API_TOKEN (and REPLICATE_BASE_URL for a "
                        "router); use --from-dir DIR for recorded versions"
                    )
                source = LiveSource.from_environment(base_url)
        except UpstreamError as exc:
            raise _error(str(exc)) from None

    report = DriftReport(source=source.description if source else "no model source")
    if source is not None:
        collect(specs, source.fetch, report)
    upstream_api: dict[str, Any] | None = None
    if api_document is not None:
        upstream_api = _load_upstream_document(api_document)
        report.api_source = str(api_document)
        try:
            spec_doc = read_json(gen.Paths(root).api_document)
            report.api = diff_api_documents(spec_doc, upstream_api)
        except (DriftError, SpecError) as exc:
            report.errors.append(str(exc))
            upstream_api = None

    if output_format is OutputFormat.json:
        sys.stdout.write(render_json(report, threshold))
    elif output_format is OutputFormat.markdown:
        sys.stdout.write(render_markdown(report, threshold))
    else:
        render_text(report, sys.stdout, threshold)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary and summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(render_markdown(report, threshold))
    sys.stdout.flush()

    if update:
        try:
            result = updater.apply(
                root,
                report,
                to_latest=to_latest,
                api_document=trimmed_upstream(upstream_api)
                if upstream_api is not None and report.api
                else None,
            )
        except (SpecError, SpecErrors) as exc:
            for err in gen.iter_errors(exc):
                typer.echo(f"error: {err}", err=True)
            raise typer.Exit(EXIT_ERROR) from None
        for path in result.written:
            typer.echo(f"updated {path.relative_to(root)}", err=True)
        for warning in result.warnings:
            typer.echo(f"warning: {warning}", err=True)
        if result.written:
            typer.echo(f"regenerated {result.regenerated} files", err=True)
        else:
            typer.echo("nothing to update", err=True)
        raise typer.Exit(EXIT_ERROR if report.errors else EXIT_OK)
    raise typer.Exit(report.exit_code(threshold))
