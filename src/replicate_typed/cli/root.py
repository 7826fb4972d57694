"""The root command group: runs the CLI and turns every failure into one line and an exit code.

Exit codes (docs/cli.md): 0 success; 2 bad usage or input (unknown command or
option, a value outside its rule, a missing or unusable token, a client-side ``InputError``),
found before any request is sent; 1 everything else (API errors, failed predictions, timeouts);
75 (``batch``) when another batch run holds the folder's journal, nothing sent; 130 when
interrupted. ``error: <one line>`` goes to stderr with the token masked; tracebacks
only with ``REPLICATE_TYPED_DEBUG=1`` (still masked).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

import typer

from replicate_typed.cli.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CliError,
    debug_enabled,
    describe,
    print_debug_traceback,
    redactor,
)
from replicate_typed.cli.help import HelpGroup
from replicate_typed.client._logging import logger
from replicate_typed.client.errors import InputError, ReplicateError

__all__ = ["RootGroup", "exit_code_of"]


def _is_click_error(exc: BaseException) -> bool:
    """Typer's own usage errors (missing option, bad value ...), recognised by their interface."""
    return isinstance(getattr(exc, "exit_code", None), int) and callable(
        getattr(exc, "format_message", None)
    )


def _fail(exc: BaseException, code: int) -> int:
    if debug_enabled():
        print_debug_traceback(exc)
    sys.stderr.write(f"error: {describe(exc)}\n")
    sys.stderr.flush()
    return code


def _given_value(flags: Sequence[str], args: Sequence[str]) -> str | None:
    """The value given for one of ``flags`` on the command line (last one wins)."""
    found: str | None = None
    for index, arg in enumerate(args):
        for flag in flags:
            if arg == flag and index + 1 < len(args):
                found = args[index + 1]
            elif arg.startswith(flag + "="):
                found = arg[len(flag) + 1 :]
    return found


def _usage_message(exc: Exception, args: Sequence[str] | None) -> str:
    """Typer's usage error as one line that names the option, the value given and the rule."""
    message = str(exc.format_message()).strip()  # type: ignore[attr-defined]
    if not message:
        return ""
    message = message.replace("Value error, ", "")
    param = getattr(exc, "param", None)
    flags = [o for o in getattr(param, "opts", ()) if o.startswith("-")]
    if flags and message.startswith("Invalid value for"):
        value = _given_value(flags, list(sys.argv[1:] if args is None else args))
        _, _, rule = message.partition(": ")
        shown = f" {value!r}" if value is not None and repr(value) not in rule else ""
        message = f"invalid value for {flags[0]}{shown}: {rule or message}"
    usage_ctx = getattr(exc, "ctx", None)
    path = getattr(usage_ctx, "command_path", None)
    hint = f" (see '{path} --help')" if path else ""
    return message.rstrip(".") + hint


def exit_code_of(exc: BaseException) -> int:
    """The documented exit code of a failure."""
    if isinstance(exc, CliError):
        return exc.exit_code
    if isinstance(exc, InputError):  # bad input caught before any request was sent
        return EXIT_USAGE
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if _is_click_error(exc):
        return int(exc.exit_code)  # type: ignore[attr-defined]
    return EXIT_FAILURE


class _DebugHandler(logging.Handler):
    """``REPLICATE_TYPED_DEBUG=1``: the runtime's log records on stderr, the token masked."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(redactor(self.format(record)) + "\n")
        except Exception:  # pragma: no cover - logging must never break the command
            self.handleError(record)


_DEBUG_HANDLER = _DebugHandler()
_DEBUG_HANDLER.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))


def _debug_logging(enabled: bool) -> None:
    if enabled:
        if _DEBUG_HANDLER not in logger.handlers:
            logger.addHandler(_DEBUG_HANDLER)
        logger.setLevel(logging.DEBUG)
    elif _DEBUG_HANDLER in logger.handlers:
        logger.removeHandler(_DEBUG_HANDLER)
        logger.setLevel(logging.NOTSET)


class RootGroup(HelpGroup):
    """Runs the CLI and turns every failure into ``error: <one line>`` and an exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        code = self._run(args, prog_name, complete_var, windows_expand_args, **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx: Any) -> Any:
        # Typer turns Ctrl-C into a silent exit 130; say so on one line instead.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise CliError("interrupted", exit_code=EXIT_INTERRUPTED) from None

    def _run(
        self,
        args: Sequence[str] | None,
        prog_name: str | None,
        complete_var: str | None,
        windows_expand_args: bool,
        **extra: Any,
    ) -> int:
        _debug_logging(debug_enabled())
        try:
            result = super().main(
                args,
                prog_name or "replicate-typed",
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
            return result if isinstance(result, int) else 0
        except (CliError, ReplicateError) as exc:
            return _fail(exc, exit_code_of(exc))
        except typer.Abort as exc:
            return (
                _fail(CliError("aborted"), EXIT_FAILURE) if not debug_enabled() else _fail(exc, 1)
            )
        except KeyboardInterrupt:
            return _fail(CliError("interrupted"), EXIT_INTERRUPTED)
        except Exception as exc:
            if _is_click_error(exc):
                code = exit_code_of(exc)
                message = _usage_message(exc, args)
                if not message:  # no arguments: Typer has already shown the help
                    return code
                return _fail(CliError(message), code)
            if debug_enabled():
                return _fail(exc, EXIT_FAILURE)
            sys.stderr.write(
                f"error: {describe(exc)} (set REPLICATE_TYPED_DEBUG=1 for a traceback)\n"
            )
            return EXIT_FAILURE
