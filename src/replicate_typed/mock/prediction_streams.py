"""The two answers that follow a prediction over time: a held create (``Prefer: wait``) and the
SSE stream (``urls.stream``). Each reads the prediction through a :class:`Lifecycle` and the
clock; the transport drives them (:mod:`replicate_typed.mock.streams`). Given ``changes``, a
change to the prediction out of schedule (a cancel: ``changes.notify(id)``) wakes them at once,
so the answer or the ``done`` event goes out the moment the prediction ends."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

from replicate_typed.mock.clock import Clock
from replicate_typed.mock.lifecycle import EPS, TERMINAL, Lifecycle, Prediction
from replicate_typed.mock.messages import dumps
from replicate_typed.mock.streams import MockStream, Pause, Signals, Watch

__all__ = ["HoldStream", "SSEStream"]


class HoldStream(MockStream):
    """``Prefer: wait``: hold until the prediction ends or the wait runs out, then answer."""

    def __init__(
        self,
        lifecycle: Lifecycle,
        clock: Clock,
        p: Prediction,
        until: float,
        prefix: str,
        base: str,
        *,
        changes: Signals | None = None,
    ) -> None:
        super().__init__(clock)
        self.lifecycle, self.p, self.until, self.prefix, self.base = (
            lifecycle,
            p,
            until,
            prefix,
            base,
        )
        self.changes = changes

    def steps(self) -> Iterator[bytes | Pause]:
        lifecycle, p = self.lifecycle, self.p
        while True:
            watch = _watch(self.changes, p.id)
            now = self.clock.now()
            st = lifecycle.state(p, now)
            if st.status in TERMINAL or now >= self.until:
                yield dumps(lifecycle.render(p, now, self.prefix, self.base))
                return
            target = min(p.end[0], self.until)
            yield Pause(min(max(target - now, 1e-3), 0.5), wake=watch)


class SSEStream(MockStream):
    """``urls.stream``: ``output``/``logs`` events while it runs, then ``error``/``done``.

    Event ids (``<created epoch>:<n>``) number the prediction's events in a fixed order (by the
    time each log line or output item appeared), so a client reconnecting with ``Last-Event-ID``
    gets exactly the events after that one. The stream ends after ``idle_timeout`` seconds of
    the clock without an event.
    """

    def __init__(
        self,
        lifecycle: Lifecycle,
        clock: Clock,
        p: Prediction,
        prefix: str,
        base: str,
        *,
        idle_timeout: float,
        last_event_id: str | None = None,
        changes: Signals | None = None,
    ) -> None:
        super().__init__(clock)
        self.lifecycle, self.p, self.prefix, self.base = lifecycle, p, prefix, base
        self.idle_timeout = idle_timeout
        self.changes = changes
        self.skip_through = -1
        if last_event_id:
            _, _, number = last_event_id.strip().rpartition(":")
            if number.isdigit():
                self.skip_through = int(number)

    def steps(self) -> Iterator[bytes | Pause]:
        lifecycle, p = self.lifecycle, self.p
        counter = 0
        sent_logs = 0
        sent_items = 0
        idle_since = self.clock.now()

        def event(name: str, data: str) -> bytes:
            nonlocal counter
            number = counter
            counter += 1
            if number <= self.skip_through:
                return b""
            lines = data.split("\n") if data else [""]
            text = f"event: {name}\nid: {int(p.created_at)}:{number}\n"
            text += "".join(f"data: {line}\n" for line in lines) + "\n"
            return text.encode()

        while True:
            watch = _watch(self.changes, p.id)
            now = self.clock.now()
            st = lifecycle.state(p, now)
            end_at = p.end[0]
            batch: list[tuple[float, int, str, str]] = []
            if not st.removed:
                lines = lifecycle.logs(p, st).splitlines()
                progress_lines = int(math.floor(st.fraction * p.log_lines + EPS))
                for index in range(sent_logs, len(lines)):
                    if index == 0:
                        when = p.start_at
                    elif index <= progress_lines:
                        when = p.start_at + p.run_s * index / p.log_lines
                    else:
                        when = end_at
                    batch.append((when, 0, "logs", lines[index]))
                sent_logs = max(sent_logs, len(lines))
                output = lifecycle.output(p, st, self.prefix, self.base)
                if p.plan.progressive and isinstance(output, list):
                    total = len(p.plan.template) if isinstance(p.plan.template, list) else 1
                    for index in range(sent_items, len(output)):
                        item = output[index]
                        when = p.start_at + p.run_s * (index + 1) / max(total, 1)
                        text = item if isinstance(item, str) else json.dumps(item, allow_nan=False)
                        batch.append((min(when, end_at), 1, "output", text))
                    sent_items = max(sent_items, len(output))
                elif st.status == "succeeded" and output is not None and sent_items == 0:
                    text = (
                        output if isinstance(output, str) else json.dumps(output, allow_nan=False)
                    )
                    batch.append((end_at, 1, "output", text))
                    sent_items = 1
            batch.sort(key=lambda e: (e[0], e[1]))
            out = [event(name, data) for _, _, name, data in batch]
            if st.status in TERMINAL:
                if st.status == "failed":
                    out.append(event("error", json.dumps({"detail": st.error or "failed"})))
                    out.append(event("done", json.dumps({"reason": "error"})))
                elif st.status in ("canceled", "aborted"):
                    out.append(event("done", json.dumps({"reason": "canceled"})))
                else:
                    out.append(event("done", "{}"))
                yield b"".join(out)
                return
            if batch:
                idle_since = now
                yield b"".join(out)
            elif now - idle_since >= self.idle_timeout:
                return
            target = min(lifecycle.next_change(p, now), idle_since + self.idle_timeout)
            yield Pause(min(max(target - now, 1e-3), 0.5), wake=watch)


def _watch(changes: Signals | None, pid: str) -> Watch | None:
    """Taken before the state is read: a change after it ends the pause that follows."""
    return changes.watch(pid) if changes is not None else None
