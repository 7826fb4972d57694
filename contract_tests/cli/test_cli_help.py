"""``--help`` reads well at any width: option names are never cut, only help text wraps.

Typer's own Rich layout shrank every column at 80 columns (the width of a pipe), so
``run stability-ai/sdxl --help`` showed ``--num-inference-…``. Checked here for every command and
every registry model at 80 and 200 columns, in a real pipe, and as a property over random option
names, help texts and widths.
"""

from __future__ import annotations

import inspect
import io
import os
import re
import subprocess
import sys
from typing import Annotated, Any, Literal

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from replicate_typed.cli.app import app
from replicate_typed.cli.commands.run import RUN_OPTIONS
from replicate_typed.cli.help import HelpCommand, render_help
from replicate_typed.cli.options import model_options
from replicate_typed.models import registry

WIDTHS = (80, 200)
COMMANDS = (
    [],
    ["run"],
    ["get"],
    ["cancel"],
    ["list"],
    ["download"],
    ["models"],
    ["mock"],
    ["batch"],
)


def shown_whole(name: str, text: str) -> bool:
    """``name`` appears as a whole token (not ``--num-inference-…``, not part of ``--no-x``)."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def option_names(command: Any) -> list[str]:
    ctx = typer.Context(command)
    names: list[str] = []
    for param in command.get_params(ctx):
        if getattr(param, "param_type_name", "") == "option" and not param.hidden:
            names.extend([*param.opts, *param.secondary_opts])
    return names


def help_of(args: list[str], width: int) -> str:
    env = {"COLUMNS": str(width), "TERMINAL_WIDTH": None, "REPLICATE_API_TOKEN": None}
    result = CliRunner().invoke(app, [*args, "--help"], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def assert_readable(text: str, width: int, names: list[str]) -> None:
    assert "…" not in text  # nothing is cut with an ellipsis, names or help
    for line in text.splitlines():
        assert len(line) <= width, line
    missing = {name for name in names if not shown_whole(name, text)}
    assert not missing, f"cut or missing at {width} columns: {sorted(missing)}\n{text}"


def resolve(args: list[str]) -> Any:
    command: Any = typer.main.get_command(app)
    ctx = typer.Context(command)
    for name in args:
        command = command.get_command(ctx, name)
        ctx = typer.Context(command, parent=ctx)
    return command


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("ref", sorted(registry))
def test_every_model_option_name_is_whole(ref: str, width: int) -> None:
    text = help_of(["run", ref], width)
    flags = [o.flag for o in model_options(registry.get_model(ref), reserved=RUN_OPTIONS)]
    names = option_names(resolve(["run", ref]))
    assert set(flags) <= set(names)
    assert set(RUN_OPTIONS) <= set(names)
    assert_readable(text, width, names)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "root")
def test_every_command_option_name_is_whole(args: list[str], width: int) -> None:
    assert_readable(help_of(args, width), width, option_names(resolve(args)))


def test_run_lists_every_model_name_whole_at_80_columns() -> None:
    text = help_of(["run"], 80)
    rows = {line.strip("│ ").split("  ")[0] for line in text.splitlines()}
    assert set(registry) <= rows


def test_sdxl_help_in_a_pipe_is_80_columns_with_whole_names() -> None:
    """The reported case: no COLUMNS, stdout a pipe (Rich then assumes 80 columns)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TERMINAL_WIDTH")}
    done = subprocess.run(
        [sys.executable, "-m", "replicate_typed.cli", "run", "stability-ai/sdxl", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) == 80
    assert_readable(done.stdout, 80, option_names(resolve(["run", "stability-ai/sdxl"])))


# --- the class: any names, any help, any width -----------------------------------------------

_name = st.from_regex(r"[a-z][a-z0-9]{0,7}(-[a-z0-9]{1,9}){0,4}", fullmatch=True)
_words = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_./:", min_size=1, max_size=40),
    max_size=40,
)


def _parameter(index: int, name: str, kind: str, help_text: str, choices: list[str]) -> Any:
    flag = f"--{name}"
    decl = f"{flag}/--no-{name}" if kind == "bool" else flag
    info = typer.Option(decl, help=help_text, rich_help_panel="Model input")
    annotation: Any = {
        "str": str | None,
        "int": int | None,
        "bool": bool,
        "required": str,
        "choice": Literal.__getitem__(tuple(choices)) | None,
    }[kind]
    default: Any = inspect.Parameter.empty if kind == "required" else None
    if kind == "bool":
        default = True
    return inspect.Parameter(
        f"p{index}",
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[annotation, info],
    )


@settings(max_examples=25, deadline=None)
@given(
    specs=st.lists(
        st.tuples(
            _name,
            st.sampled_from(["str", "int", "bool", "choice", "required"]),
            _words,
            st.lists(_name, min_size=1, max_size=8, unique=True),
        ),
        min_size=1,
        max_size=8,
        unique_by=lambda spec: spec[0],
    ),
    width=st.integers(min_value=24, max_value=240),
)
def test_property_names_are_never_cut(
    specs: list[tuple[str, str, list[str], list[str]]], width: int
) -> None:
    names: list[str] = []
    for name, kind, _, _ in specs:
        names += [f"--{name}", f"--no-{name}"] if kind == "bool" else [f"--{name}"]
    names.append("--help")
    width = max(width, max(len(n) for n in names) + 6)  # wider names can only be folded

    def command(**kwargs: Any) -> None:  # pragma: no cover - only its help is rendered
        pass

    setattr(  # noqa: B010
        command,
        "__signature__",
        inspect.Signature(
            [
                _parameter(i, name, kind, " ".join(words), choices)
                for i, (name, kind, words, choices) in enumerate(specs)
            ]
        ),
    )
    single = typer.Typer()
    single.command(cls=HelpCommand, help="A generated command.")(command)
    click_command: Any = typer.main.get_command(single)
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None)
    render_help(click_command, typer.Context(click_command, info_name="x"), console)
    assert_readable(buffer.getvalue(), width, names)
