"""The MCP server: one tool per model plus the generic prediction and model tools.

Built on the SDK's low-level :class:`mcp.server.lowlevel.Server`, which leaves every tool's
``inputSchema`` and ``outputSchema`` to us (the models' own schemas) and hands the handler the
request's context (progress, cancellation). A model call:

1. validates the arguments with the model's generated ``Input`` (JSON mode, strict, no extra
   fields): a bad value is a tool error naming the field and the rule, and nothing is sent;
2. creates the prediction (the client's create: retries only where no duplicate can result);
3. follows it (the client's wait: the prediction's stream, else adaptive polling) within the
   deadline, relaying the progress bar of its logs as ``notifications/progress`` when the caller
   gave a ``progressToken``;
4. checks a success's output by the client's one rule
   (:func:`replicate_typed.client.outputs.succeeded_output`, as ``run()``: a null output the
   model's type needs, a removed one or one that does not fit is a tool error with the id) and
   returns it (see :mod:`replicate_typed.mcp.results`) with the prediction's id.

Cancelling the call (``notifications/cancelled``) cancels the prediction; so does the deadline.
Every error names the prediction's id once one exists, and goes through the client's redaction,
so the token never reaches a result.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
import anyio.lowlevel
import jsonschema
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from replicate_typed.client import AsyncClient
from replicate_typed.client._logging import redact
from replicate_typed.client.errors import PredictionTimeoutError, ReplicateError
from replicate_typed.client.outputs import succeeded_output
from replicate_typed.core.model import ModelInfo
from replicate_typed.core.registry import UnknownModelError
from replicate_typed.mcp.progress import Progress, ProgressTracker
from replicate_typed.mcp.results import (
    InlineLimits,
    output_content,
    prediction_summary,
)
from replicate_typed.mcp.tools import GENERIC_TOOLS, ModelTool, model_tools

__all__ = ["ServerSettings", "build_server"]

logger = logging.getLogger("replicate_typed.mcp")

SERVER_NAME = "replicate-typed"
CANCEL_TIMEOUT = 15.0
MAX_LISTED = 100
_ID = r"^[A-Za-z0-9._~-]+$"


@dataclass(frozen=True)
class ServerSettings:
    """``deadline``: seconds one model call may wait for its prediction (then it is canceled;
    None: no deadline). ``inline``: the inline image limits."""

    deadline: float | None = 1800.0
    inline: InlineLimits = field(default_factory=InlineLimits)


class _GetArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: Annotated[str, Field(min_length=1, max_length=128, pattern=_ID)]


class _ListArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    limit: Annotated[int, Field(ge=1, le=MAX_LISTED)] = 20


class _ModelArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    model: Annotated[
        str,
        Field(max_length=300, pattern=r"^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+(:[0-9a-f]{64})?$"),
    ]


_GENERIC_ARGS: dict[str, type[BaseModel]] = {
    "predictions_get": _GetArgs,
    "predictions_list": _ListArgs,
    "predictions_cancel": _GetArgs,
    "models_get": _ModelArgs,
}


def _error(text: str, structured: dict[str, Any] | None = None) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=redact(text))],
        structured_content=redact(structured) if structured is not None else None,
        is_error=True,
    )


def describe_validation(exc: ValidationError, what: str) -> str:
    """One line per invalid field: its path, the message and the rule (never the whole input)."""
    lines = [f"invalid input for {what}; nothing was sent:"]
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in err["loc"]) or "(the input)"
        ctx = err.get("ctx") or {}
        detail = ", ".join(f"{k}={v}" for k, v in ctx.items() if k != "error")
        rule = err["type"] + (f" ({detail})" if detail else "")
        lines.append(f"- {where}: {err['msg']} [rule: {rule}]")
    return "\n".join(lines)


def _error_text(exc: BaseException, prediction_id: str | None) -> str:
    text = str(exc) or type(exc).__name__
    pid = prediction_id or getattr(exc, "prediction_id", None)
    if pid and pid not in text:
        text += f" (prediction {pid})"
    return f"{type(exc).__name__}: {text}"


async def _report(ctx: ServerRequestContext[Any, Any], pid: str, report: Progress) -> None:
    """One ``notifications/progress`` (a no-op when the caller gave no ``progressToken``)."""
    try:
        await ctx.session.report_progress(report.progress, report.total, report.message)
    except Exception as exc:  # the caller went away: the call goes on
        logger.debug("prediction %s: progress not sent: %s", pid, exc)


def _json(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=str)


class McpApp:
    """The tools of one server: the models, the client and the settings."""

    def __init__(
        self,
        models: list[ModelInfo[Any, Any]],
        client_factory: Callable[[], AsyncClient],
        settings: ServerSettings,
    ) -> None:
        self.tools = model_tools(models)
        self.by_ref = {tool.info.ref: tool for tool in self.tools.values()}
        self.client_factory = client_factory
        self.settings = settings
        self._client: AsyncClient | None = None
        self._validators: dict[str, Any] = {}

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            self._client = self.client_factory()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()

    # ------------------------------------------------------------------ listing

    def list_tools(self) -> list[types.Tool]:
        listed = [
            types.Tool(
                name=tool.name,
                title=tool.info.ref,
                description=tool.description,
                input_schema=tool.input_schema,
                output_schema=tool.output_schema,
                annotations=types.ToolAnnotations(
                    title=tool.info.ref,
                    read_only_hint=False,
                    destructive_hint=False,
                    idempotent_hint=False,
                    open_world_hint=True,
                ),
            )
            for tool in self.tools.values()
        ]
        for name, (description, schema, read_only) in GENERIC_TOOLS.items():
            listed.append(
                types.Tool(
                    name=name,
                    description=description,
                    input_schema=schema,
                    annotations=types.ToolAnnotations(
                        read_only_hint=read_only,
                        destructive_hint=False,
                        idempotent_hint=True,
                        open_world_hint=True,
                    ),
                )
            )
        return listed

    # ------------------------------------------------------------------ calls

    async def call(
        self, ctx: ServerRequestContext[Any, Any], name: str, arguments: dict[str, Any] | None
    ) -> types.CallToolResult:
        tool = self.tools.get(name)
        if tool is not None:
            return await self.run_model(ctx, tool, arguments or {})
        args_type = _GENERIC_ARGS.get(name)
        if args_type is None:
            return _error(f"no tool {name!r} (list the tools with tools/list)")
        try:
            args = args_type.model_validate_json(json.dumps(arguments or {}))
        except ValidationError as exc:
            return _error(describe_validation(exc, name))
        try:
            if isinstance(args, _GetArgs) and name == "predictions_get":
                return await self.get_prediction(args.id)
            if isinstance(args, _GetArgs):
                return await self.cancel_prediction(args.id)
            if isinstance(args, _ListArgs):
                return await self.list_predictions(args.limit)
            assert isinstance(args, _ModelArgs)
            return await self.get_model(args.model)
        except ReplicateError as exc:
            return _error(_error_text(exc, None))

    async def run_model(
        self, ctx: ServerRequestContext[Any, Any], tool: ModelTool, arguments: dict[str, Any]
    ) -> types.CallToolResult:
        info = tool.info
        try:
            model_input = info.input_type.model_validate_json(json.dumps(arguments))
        except ValidationError as exc:
            return _error(describe_validation(exc, info.ref))
        client = self.client
        # shielded: a call cancelled while its create is in flight still learns the id (the
        # create is bounded by the client's timeouts), so the prediction can be canceled
        with anyio.CancelScope(shield=True):
            try:
                created = await client.create(model_input)
            except ReplicateError as exc:
                return _error(_error_text(exc, None))
        pid = created.id
        try:
            await anyio.lowlevel.checkpoint()
        except anyio.get_cancelled_exc_class():
            await self._cancel_quietly(pid, "the tool call was cancelled as it was created")
            raise
        tracker = ProgressTracker()
        send, receive = anyio.create_memory_object_stream[Progress](math.inf)

        def on_update(prediction: Any) -> None:
            report = tracker.update(prediction.status, prediction.logs)
            if report is not None:
                send.send_nowait(report)

        async def relay() -> None:
            async with receive:
                async for report in receive:
                    await _report(ctx, pid, report)

        outcome: list[Any] = []

        async def follow() -> None:
            with send:
                on_update(created.raw)
                try:
                    outcome.append(
                        await client.predictions.wait(
                            created.raw,
                            timeout=self.settings.deadline,
                            cancel_on_timeout=True,
                            on_update=on_update,
                        )
                    )
                except ReplicateError as exc:
                    outcome.append(exc)

        try:
            async with anyio.create_task_group() as group:
                group.start_soon(relay)
                await follow()
        except anyio.get_cancelled_exc_class():
            await self._cancel_quietly(pid, "the tool call was cancelled")
            raise
        final = outcome[0]
        if isinstance(final, PredictionTimeoutError):
            return _error(
                _error_text(final, pid) + f" (deadline {self.settings.deadline:g} s)",
                {"id": pid, "status": final.last_status or "unknown"},
            )
        if isinstance(final, ReplicateError):
            return _error(_error_text(final, pid), {"id": pid})
        status = final.status
        if status != "succeeded":
            return _error(
                f"prediction {pid} of {info.ref} {status}: {final.error or 'no error given'}",
                {"id": pid, "status": status, "error": final.error},
            )
        try:  # the one rule for a success's output, as in run(): null, removed, does not fit
            succeeded_output(final, info)
        except ReplicateError as exc:
            return _error(_error_text(exc, pid), {"id": pid, "status": status})
        output = final.output
        if info.output_concatenate and isinstance(output, list):
            output = [chunk for chunk in output if chunk is not None]  # null chunks: no text
        structured = {"id": pid, "status": status, "model": info.ref, "output": output}
        problem = self._output_problem(tool, structured)
        if problem is not None:
            return _error(
                f"prediction {pid} of {info.ref} succeeded but its output does not match the "
                f"tool's output schema: {problem}",
                {"id": pid, "status": status},
            )
        last = tracker.finish(status)
        if last is not None:
            await _report(ctx, pid, last)
        blocks = await output_content(output, info, self.settings.inline)
        head = types.TextContent(text=f"prediction {pid} of {info.ref} succeeded")
        return types.CallToolResult(content=[head, *blocks], structured_content=structured)

    def _output_problem(self, tool: ModelTool, structured: dict[str, Any]) -> str | None:
        validator = self._validators.get(tool.name)
        if validator is None:
            cls = jsonschema.validators.validator_for(tool.output_schema)
            validator = self._validators[tool.name] = cls(tool.output_schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(structured))
        if error is None:
            return None
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        return f"at /{where}: {error.validator} ({error.message[:200]})"

    async def _cancel_quietly(self, pid: str, why: str) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_TIMEOUT) as scope:
            try:
                await self.client.predictions.cancel(pid)
            except ReplicateError as exc:
                logger.warning("prediction %s: %s, but cancelling it failed: %s", pid, why, exc)
                return
        if scope.cancelled_caught:
            logger.warning("prediction %s: %s, but cancelling it timed out", pid, why)
        else:
            logger.info("prediction %s: %s; canceled it", pid, why)

    # ------------------------------------------------------------------ generic tools

    async def _prediction_result(self, prediction: Any) -> types.CallToolResult:
        summary = prediction_summary(prediction)
        blocks: list[types.ContentBlock] = [types.TextContent(text=_json(summary))]
        if prediction.status == "succeeded" and prediction.output is not None:
            from replicate_typed.client.downloads import file_urls

            for index, url in enumerate(file_urls(prediction.output)):
                if not url.startswith("data:"):
                    name = url.rsplit("/", 1)[-1][:200] or f"output-{index}"
                    blocks.append(types.ResourceLink(name=name, uri=url))
        return types.CallToolResult(content=blocks, structured_content=redact(summary))

    async def get_prediction(self, pid: str) -> types.CallToolResult:
        return await self._prediction_result(await self.client.predictions.get(pid))

    async def cancel_prediction(self, pid: str) -> types.CallToolResult:
        return await self._prediction_result(await self.client.predictions.cancel(pid))

    async def list_predictions(self, limit: int) -> types.CallToolResult:
        rows: list[dict[str, Any]] = []
        async for prediction in self.client.predictions.list():
            data = prediction_summary(prediction)
            rows.append(
                {
                    k: data[k]
                    for k in ("id", "model", "version", "status", "created_at")
                    if k in data
                }
            )
            if len(rows) >= limit:
                break
        structured = {"predictions": rows}
        return types.CallToolResult(
            content=[types.TextContent(text=_json(structured))], structured_content=structured
        )

    async def get_model(self, ref: str) -> types.CallToolResult:
        name = ref.partition(":")[0]
        tool = self.by_ref.get(name)
        if tool is not None:
            info = tool.info
            data: dict[str, Any] = {
                "model": info.ref,
                "tool": tool.name,
                "version": info.version,
                "call_by": info.call_by,
                "input_schema": info.input_schema,
                "output_schema": info.output_schema,
            }
            return types.CallToolResult(
                content=[types.TextContent(text=_json(data))], structured_content=data
            )
        from replicate_typed.models import registry

        try:
            builtin: ModelInfo[Any, Any] | None = registry.get_model(name)
        except UnknownModelError:
            builtin = None
        if builtin is not None:
            data = {
                "model": builtin.ref,
                "tool": None,
                "version": builtin.version,
                "call_by": builtin.call_by,
                "input_schema": builtin.input_schema,
                "output_schema": builtin.output_schema,
                "note": "a built-in model this server does not offer as a tool (see --models)",
            }
            return types.CallToolResult(
                content=[types.TextContent(text=_json(data))], structured_content=data
            )
        model = await self.client.models.get(name)
        data = model.model_dump(mode="json", exclude_none=True, by_alias=True)
        data["tool"] = None
        data["note"] = "not generated in this package: its schema as the API describes it"
        text = _json(data)
        if len(text) > 200_000:
            text = text[:200_000] + "\n... (cut)"
        return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=data)


def build_server(
    models: list[ModelInfo[Any, Any]],
    client_factory: Callable[[], AsyncClient],
    settings: ServerSettings | None = None,
) -> Server[McpApp]:
    """The low-level MCP server offering ``models`` (and the generic tools), calling the API
    through the client ``client_factory`` makes (once, on first use; closed at shutdown)."""
    app = McpApp(models, client_factory, settings or ServerSettings())

    @asynccontextmanager
    async def lifespan(_: Server[McpApp]) -> AsyncIterator[McpApp]:
        try:
            yield app
        finally:
            with anyio.CancelScope(shield=True):
                await app.aclose()

    async def on_list_tools(
        ctx: ServerRequestContext[McpApp, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=app.list_tools())

    async def on_call_tool(
        ctx: ServerRequestContext[McpApp, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        return await app.call(ctx, params.name, params.arguments)

    from importlib.metadata import PackageNotFoundError, version

    try:
        server_version = version("replicate-typed")
    except PackageNotFoundError:
        server_version = "0"
    return Server(
        SERVER_NAME,
        version=server_version,
        instructions=(
            "Each model tool runs one model: its input schema is the model's own, and a bad "
            "value is refused before anything is paid for. File outputs come back as links."
        ),
        lifespan=lifespan,
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
    )
