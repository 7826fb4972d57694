"""Ctrl-C always ends the command line, promptly.

The first SIGINT raises :class:`KeyboardInterrupt` as usual: the command says which prediction
keeps running and exits 130. It also starts a watchdog: if the process is still alive
:data:`GRACE_SECONDS` later (cleanup stuck on a lock the interrupted code left held, a socket
that does not close ...), the watchdog says so on stderr, with every thread's stack (file, line
and function names only: no values) to report what was stuck, and ends the process with 130. A
second Ctrl-C ends it at once.

Installed only by the console script (:func:`replicate_typed.cli.main`), never on import: a
program that runs the Typer app in its own process keeps its own SIGINT handling. Around
``asyncio.run`` (the batch runner), :func:`asyncio_handling` hands SIGINT back to asyncio, which
turns it into a clean cancellation of the running task.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from replicate_typed.cli.errors import EXIT_INTERRUPTED

GRACE_SECONDS = 10.0
"""How long cleanup may take after the first Ctrl-C (the mock server closes its connections,
the batch runner its journal)."""

_interrupted = threading.Event()


def _force_exit() -> None:
    try:
        sys.stderr.write(
            f"replicate-typed: still running {GRACE_SECONDS:g}s after Ctrl-C; exiting now "
            "(a bug: please report it with the stacks below)\n"
        )
        sys.stderr.flush()
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    finally:
        os._exit(EXIT_INTERRUPTED)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    if _interrupted.is_set():
        os._exit(EXIT_INTERRUPTED)  # the second Ctrl-C: now
    _interrupted.set()
    watchdog = threading.Timer(GRACE_SECONDS, _force_exit)
    watchdog.daemon = True
    watchdog.start()
    raise KeyboardInterrupt


def install() -> None:
    """Handle SIGINT as described above (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)


@contextmanager
def asyncio_handling() -> Iterator[None]:
    """Within the block, SIGINT is Python's default again, so ``asyncio.run`` installs its own
    handler (a clean cancellation of the main task, then :class:`KeyboardInterrupt`)."""
    installed = (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is _on_sigint
    )
    if installed:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if installed:
            signal.signal(signal.SIGINT, _on_sigint)
