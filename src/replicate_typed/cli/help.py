"""``--help`` that reads well at any width: option names are never cut, help text wraps instead.

Typer's Rich help puts names, types and help in a table that shrinks *every* column when the
terminal (or a pipe, 80 columns) is narrow, so long option names come out as
``--num-inference-…``. This renderer lays the panels out itself: the names column is as wide as
the longest name (each name on one line, ``--flag`` and ``--no-flag`` on two), the type column
wraps choices at ``|``, and only the help text wraps. When even that does not fit, every option
is stacked: its names on their own line, the help indented below. Nothing is ever truncated.

Commands use it through :class:`HelpCommand` and :class:`HelpGroup` (``cls=`` in Typer).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.highlighter import RegexHighlighter
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.text import Text
from rich.theme import Theme
from typer.core import TyperCommand, TyperGroup

__all__ = ["HelpCommand", "HelpGroup", "render_help", "help_console", "HELP_MIN_WIDTH"]

HELP_MIN_WIDTH = 28
"""Narrowest help column of the side-by-side layout; below it, options are stacked."""
TYPE_MAX_WIDTH = 24
"""Widest type column (choices wrap at ``|`` inside it)."""
STACK_INDENT = 4
_GAP = 2
_PANEL_CHROME = 4  # two borders, one space of padding on each side

_THEME = Theme(
    {
        "help.option": "bold cyan",
        "help.switch": "bold green",
        "help.negative": "bold magenta",
        "help.type": "bold yellow",
        "help.extra": "dim",
        "help.required": "red",
        "help.command": "bold cyan",
        "help.usage": "yellow",
    }
)


class _TextHighlighter(RegexHighlighter):
    """Option names inside help text."""

    base_style = "help."
    highlights = [  # noqa: RUF012 - RegexHighlighter's interface is a class attribute
        r"(^|\W)(?P<switch>-\w+)(?![a-zA-Z0-9])",
        r"(^|\W)(?P<option>--[\w-]+)(?![a-zA-Z0-9])",
        r"(?P<usage>Usage: )",
    ]


_highlight = _TextHighlighter()


def help_console() -> Console:
    """stdout, as wide as the terminal (or ``COLUMNS`` / ``TERMINAL_WIDTH``; 80 in a pipe)."""
    width = os.environ.get("TERMINAL_WIDTH", "").strip()
    return Console(
        theme=_THEME,
        highlight=False,
        width=int(width) if width.isdigit() and int(width) > 0 else None,
    )


@dataclass(frozen=True)
class _Row:
    names: tuple[Text, ...]
    """One line per name group (``--flag, -f`` / ``--no-flag``), never broken."""
    type: str
    help: Text
    required: bool


def _markup(text: str) -> Text:
    try:
        return Text.from_markup(text)
    except Exception:  # help text that is not valid markup is shown as it is
        return Text(text)


def _one_paragraph(text: str) -> str:
    return " ".join(inspect.cleandoc(text).partition("\f")[0].split())


def _is_argument(param: Any) -> bool:
    return getattr(param, "param_type_name", "") == "argument"


def _param_row(param: Any, ctx: Any) -> _Row | None:
    record = param.get_help_record(ctx)
    if record is None or getattr(param, "hidden", False):
        return None
    base = getattr(param, "help", None) or ""
    full = record[1] or ""
    extra = full[len(base) :].strip() if full.startswith(base) else ""
    help_text = _highlight(_markup(_one_paragraph(base)))
    if extra:
        if help_text.plain:
            help_text.append("  ")
        help_text.append(extra, style="help.extra")
    shown_type = ""
    display = getattr(param, "display_type_rich", None)
    if _is_argument(param):
        name = str(param.metavar or (param.name or "").upper())
        names: tuple[Text, ...] = (Text(name, style="help.option"),)
        kind = display(ctx=ctx) if callable(display) else param.make_metavar(ctx)
        shown_type = str(kind) if kind and str(kind).strip("[]{}.") != name else ""
    else:
        primary = Text(", ").join(
            Text(opt, style="help.option" if opt.startswith("--") else "help.switch")
            for opt in sorted(param.opts, key=lambda o: not o.startswith("--"))
        )
        lines = [primary]
        if param.secondary_opts:
            lines.append(
                Text(", ").join(Text(opt, style="help.negative") for opt in param.secondary_opts)
            )
        names = tuple(lines)
        if not (getattr(param, "is_flag", False) or getattr(param, "count", False)):
            kind = display(ctx=ctx) if callable(display) else param.make_metavar(ctx)
            shown_type = str(kind or "")
    return _Row(names=names, type=shown_type, help=help_text, required=param.required)


def _type_lines(kind: str, width: int, console: Console) -> list[Text]:
    """The type in lines of at most ``width``: choices ``<a|b|c>`` break after a ``|``."""
    if not kind:
        return []
    pieces = [kind]
    if len(kind) > width and kind.startswith("<") and "|" in kind:
        parts = kind.split("|")
        pieces = [p + "|" for p in parts[:-1]] + [parts[-1]]
    packed: list[str] = []
    for piece in pieces:
        if packed and len(packed[-1]) + len(piece) <= width:
            packed[-1] += piece
        else:
            packed.append(piece)
    lines: list[Text] = []
    for line in packed:  # a single choice wider than the column is folded, never cut
        lines.extend(Text(line, style="help.type").wrap(console, width, overflow="fold"))
    return lines


def _pad(text: Text, width: int) -> Text:
    padded = text.copy()
    padded.pad_right(max(0, width - padded.cell_len))
    return padded


@dataclass(frozen=True)
class _Layout:
    """Column widths shared by every options panel of one help page (so they line up)."""

    marker: int
    names: int
    type: int
    stacked: bool


def _layout(rows: Sequence[_Row], inner: int) -> _Layout:
    marker = 2 if any(r.required for r in rows) else 0
    names = max((line.cell_len for r in rows for line in r.names), default=0)
    kind = min(max((len(r.type) for r in rows), default=0), TYPE_MAX_WIDTH)
    used = marker + names + _GAP + (kind + _GAP if kind else 0)
    return _Layout(marker, names, kind, stacked=inner - used < HELP_MIN_WIDTH)


def _side_by_side(row: _Row, layout: _Layout, inner: int, console: Console) -> list[Text]:
    help_width = (
        inner - layout.marker - layout.names - _GAP - (layout.type + _GAP if layout.type else 0)
    )
    help_lines = list(row.help.wrap(console, help_width, overflow="fold")) if row.help else []
    type_lines = _type_lines(row.type, layout.type, console)
    height = max(len(row.names), len(type_lines), len(help_lines), 1)
    lines: list[Text] = []
    for index in range(height):
        line = Text()
        if layout.marker:
            mark = "*" if row.required and index == 0 else ""
            line.append(mark.ljust(layout.marker), style="help.required")
        name = row.names[index] if index < len(row.names) else Text()
        line.append_text(_pad(name, layout.names + _GAP))
        if layout.type:
            kind = type_lines[index] if index < len(type_lines) else Text()
            line.append_text(_pad(kind, layout.type + _GAP))
        if index < len(help_lines):
            line.append_text(help_lines[index])
        line.rstrip()
        lines.append(line)
    return lines


def _stacked(row: _Row, layout: _Layout, inner: int, console: Console) -> list[Text]:
    """Names on their own lines (the type after the last one if it fits), help indented below."""
    indent = min(STACK_INDENT, inner // 4)
    type_inline = bool(row.type) and (
        layout.marker + row.names[-1].cell_len + 1 + len(row.type) <= inner
    )
    lines: list[Text] = []
    for index, name in enumerate(row.names):
        line = Text()
        if layout.marker:
            mark = "*" if row.required and index == 0 else ""
            line.append(mark.ljust(layout.marker), style="help.required")
        line.append_text(name)
        if type_inline and index == len(row.names) - 1:
            line.append(" ")
            line.append(row.type, style="help.type")
        lines.extend(line.wrap(console, inner, overflow="fold"))
    width = max(inner - indent, 1)
    if row.type and not type_inline:
        lines.extend(Text(" " * indent) + kind for kind in _type_lines(row.type, width, console))
    if row.help:
        lines.extend(Text(" " * indent) + h for h in row.help.wrap(console, width, overflow="fold"))
    return lines


def _panel(title: str, body: Iterable[Text]) -> Panel:
    return Panel(
        Group(*body),
        title=escape(title),
        title_align="left",
        border_style="dim",
        padding=(0, 1),
    )


def _option_panels(command: Any, ctx: Any, console: Console) -> list[RenderableType]:
    panels: dict[str, list[_Row]] = {}
    arguments: dict[str, list[_Row]] = {}
    for param in command.get_params(ctx):
        row = _param_row(param, ctx)
        if row is None:
            continue
        is_argument = _is_argument(param)
        default = "Arguments" if is_argument else "Options"
        title = getattr(param, "rich_help_panel", None) or default
        (arguments if is_argument else panels).setdefault(title, []).append(row)
    ordered: list[tuple[str, list[_Row]]] = []
    for group in (arguments, panels):
        first = "Arguments" if group is arguments else "Options"
        if first in group:
            ordered.append((first, group[first]))
        ordered.extend((title, rows) for title, rows in group.items() if title != first)
    inner = console.width - _PANEL_CHROME
    layout = _layout([row for _, rows in ordered for row in rows], inner)
    result: list[RenderableType] = []
    for title, rows in ordered:
        body: list[Text] = []
        for row in rows:
            render = _stacked if layout.stacked else _side_by_side
            body.extend(render(row, layout, inner, console))
        result.append(_panel(title, body))
    return result


def _command_panels(group: TyperGroup, ctx: Any, console: Console) -> list[Panel]:
    by_panel: dict[str, list[tuple[str, Text]]] = {}
    for listed in group.list_commands(ctx):
        command = group.get_command(ctx, listed)
        if command is None or command.hidden:
            continue
        first = (command.short_help or command.help or "").split("\n\n")[0]
        title = getattr(command, "rich_help_panel", None) or "Commands"
        by_panel.setdefault(title, []).append(
            (command.name or listed, _markup(_one_paragraph(first)))
        )
    inner = console.width - _PANEL_CHROME
    name_width = max((len(n) for rows in by_panel.values() for n, _ in rows), default=0)
    stacked = inner - name_width - _GAP < HELP_MIN_WIDTH
    ordered = sorted(by_panel.items(), key=lambda item: item[0] != "Commands")
    panels: list[Panel] = []
    for title, rows in ordered:
        body: list[Text] = []
        for command_name, summary in rows:
            label = Text(command_name, style="help.command")
            if stacked:
                body.extend(label.wrap(console, inner, overflow="fold"))
                width = max(inner - STACK_INDENT, 1)
                body.extend(Text(" " * STACK_INDENT) + s for s in summary.wrap(console, width))
                continue
            help_lines = list(summary.wrap(console, inner - name_width - _GAP, overflow="fold"))
            for index in range(max(len(help_lines), 1)):
                line = _pad(label if index == 0 else Text(), name_width + _GAP)
                if index < len(help_lines):
                    line.append_text(help_lines[index])
                line.rstrip()
                body.append(line)
        panels.append(_panel(title, body))
    return panels


def render_help(command: Any, ctx: Any, console: Console | None = None) -> None:
    """Print the help page of ``command`` (usage, description, option and command panels)."""
    console = console or help_console()
    usage = _highlight(Text(command.get_usage(ctx)))
    console.print(Padding(usage, 1))
    if command.help:
        paragraphs = [
            _one_paragraph(p)
            for p in inspect.cleandoc(command.help).partition("\f")[0].split("\n\n")
        ]
        description = Text("\n\n").join(_markup(p) for p in paragraphs if p)
        console.print(Padding(description, (0, 1, 1, 1)))
    for panel in _option_panels(command, ctx, console):
        console.print(panel)
    if isinstance(command, TyperGroup):
        for panel in _command_panels(command, ctx, console):
            console.print(panel)
    if command.epilog:
        console.print(Padding(_markup(_one_paragraph(command.epilog)), 1))


class HelpCommand(TyperCommand):
    """A Typer command whose ``--help`` never cuts option names."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        render_help(self, ctx)


class HelpGroup(TyperGroup):
    """A Typer group whose ``--help`` never cuts option or command names."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        render_help(self, ctx)
