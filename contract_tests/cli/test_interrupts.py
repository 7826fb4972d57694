"""Ctrl-C always ends the command line (cli/interrupts.py): a watchdog after the first SIGINT,
an immediate exit on the second, asyncio's own handling around ``asyncio.run``."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

from replicate_typed.cli import interrupts

# A process that installs the handler, then, once interrupted, gets stuck in cleanup (a lock the
# interrupted code left held): only the watchdog can end it.
STUCK = textwrap.dedent(
    """
    import sys, threading
    from replicate_typed.cli import interrupts
    interrupts.GRACE_SECONDS = 0.5
    interrupts.install()
    held = threading.Lock()
    held.acquire()
    try:
        print("ready", flush=True)  # inside the try: the SIGINT may come at once
        threading.Event().wait()
    finally:
        print("cleaning up", flush=True)
        held.acquire()  # never returns
    """
)


def start(env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


def test_a_stuck_cleanup_ends_130_after_the_grace() -> None:
    proc = start({"REPLICATE_API_TOKEN": "r8_secret_token_never_shown_0123456789"})
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "cleaning up" in out
    assert "still running 0.5s after Ctrl-C; exiting now" in err
    # every thread's stack, to report what was stuck: names and lines, never values
    assert "Current thread" in err or "Thread 0x" in err
    assert 'File "<string>", line' in err
    assert "r8_secret_token" not in err


def test_a_second_ctrl_c_exits_at_once() -> None:
    proc = start()
    proc.send_signal(signal.SIGINT)
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "still running" not in err  # the watchdog did not have to


def test_asyncio_gets_the_default_handler_back_and_ours_returns() -> None:
    previous = signal.getsignal(signal.SIGINT)
    try:
        interrupts.install()
        assert signal.getsignal(signal.SIGINT) is interrupts._on_sigint
        with interrupts.asyncio_handling():
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

            async def inside() -> object:
                return signal.getsignal(signal.SIGINT)

            # asyncio.run replaces the default handler with its own (a clean cancellation)
            assert asyncio.run(inside()) is not signal.default_int_handler
        assert signal.getsignal(signal.SIGINT) is interrupts._on_sigint
    finally:
        signal.signal(signal.SIGINT, previous)
