"""The MCP server is an application on top: importing the package, the client or the CLI never
imports it or the SDK (only the ``mcp`` command does)."""

from __future__ import annotations

import subprocess
import sys


def test_the_sdk_is_imported_only_by_the_mcp_command() -> None:
    code = (
        "import sys, replicate_typed, replicate_typed.client, replicate_typed.cli.app\n"
        "from replicate_typed import Client\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'mcp_types') "
        "or m.startswith('replicate_typed.mcp')))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
