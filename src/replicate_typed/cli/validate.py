"""Checks of the values a user types, before any request: bad input is exit 2 with one line that
names the argument or option, the value and the rule (``invalid value for ID: '../../x' is not a
prediction id (...)``).

The rules are the client's own validators (one source for each rule); this module only says
which option a value came from. Values the *server* sends are checked where they are used
(:func:`check_server_id`): a bad one is a failure (exit 1), not bad usage.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from replicate_typed.cli.errors import EXIT_FAILURE, EXIT_USAGE, CliError

__all__ = [
    "usage_error",
    "check_prediction_id",
    "check_cancel_after",
    "check_base_url",
    "check_server_id",
    "prediction_id_callback",
    "cancel_after_callback",
    "IdArgument",
]


def usage_error(name: str, rule: str) -> CliError:
    """``invalid value for NAME: RULE`` with exit 2 (the rule quotes the value)."""
    return CliError(f"invalid value for {name}: {rule}", exit_code=EXIT_USAGE)


def _rule(exc: Exception) -> str:
    """The client's message without its own field prefix (``id: '..' is not ...``)."""
    text = str(exc)
    field, sep, rest = text.partition(": ")
    return rest if sep and field.isidentifier() else text


def _dots_only(value: str) -> bool:
    return bool(value) and set(value) <= {"."}


def check_prediction_id(value: str, name: str = "ID") -> str:
    """A prediction id the API can be asked about, usable as one path segment."""
    from replicate_typed.client import validate_prediction_id
    from replicate_typed.client.errors import InputError

    if _dots_only(value):
        raise usage_error(name, f"{value!r} is a path step, not a prediction id")
    try:
        return validate_prediction_id(value)
    except InputError as exc:
        raise usage_error(name, _rule(exc)) from None


def check_cancel_after(value: str | None, name: str = "--cancel-after") -> str | None:
    """``30s``, ``5m``, ``1h30m`` (at least 5 s), or None."""
    if value is None:
        return None
    from replicate_typed.client import validate_cancel_after
    from replicate_typed.client.errors import InputError

    try:
        return validate_cancel_after(value)
    except InputError as exc:
        raise usage_error(name, _rule(exc)) from None


def check_base_url(value: str, name: str = "--base-url (REPLICATE_BASE_URL)") -> str:
    """An http(s) base URL without query or fragment (``https://host/replicate`` works)."""
    from replicate_typed.client import resolve_base_url
    from replicate_typed.client.errors import InputError

    try:
        return resolve_base_url(value)
    except InputError as exc:
        raise usage_error(name, _rule(exc)) from None


def check_server_id(value: Any) -> str:
    """A prediction id from the server, before it names a folder: one safe path segment."""
    from replicate_typed.client import validate_prediction_id
    from replicate_typed.client.errors import InputError

    text = value if isinstance(value, str) else ""
    try:
        if _dots_only(text):
            raise InputError(f"id: {text!r} is a path step")
        return validate_prediction_id(text)
    except InputError as exc:
        raise CliError(
            f"the server sent prediction id {value!r}, which cannot name an output folder "
            f"({_rule(exc)}); nothing was saved",
            exit_code=EXIT_FAILURE,
        ) from None


def prediction_id_callback(value: str) -> str:
    """Typer callback for an ``ID`` argument."""
    return check_prediction_id(value)


def cancel_after_callback(value: str | None) -> str | None:
    """Typer callback for ``--cancel-after``."""
    return check_cancel_after(value)


IdArgument = Annotated[
    str,
    typer.Argument(
        help="Prediction id (letters, digits, '-', '_', '.', '~').",
        metavar="ID",
        callback=prediction_id_callback,
    ),
]
"""The ``ID`` argument of ``get``, ``cancel``, ``download``: checked before any request."""
