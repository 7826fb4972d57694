"""``python -m replicate_typed.mock [--host 127.0.0.1] [--port 0] [--token T] [--profile router] ...``

Prints ``Mock server listening on http://127.0.0.1:<port>`` (and the router base URL) and serves
until SIGTERM or SIGINT, then exits cleanly with status 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from replicate_typed.mock.config import FaultConfig, MockConfig
from replicate_typed.mock.profiles import PROFILES
from replicate_typed.mock.server import MockServer


def _timing(text: str) -> tuple[str, tuple[float, float]]:
    ref, _, values = text.partition("=")
    start, _, run = values.partition(",")
    try:
        return ref, (float(start), float(run))
    except ValueError:
        raise argparse.ArgumentTypeError("use owner/name=START_S,RUN_S") from None


def _pair(text: str) -> tuple[int, int]:
    creates, _, others = text.partition(",")
    try:
        return int(creates), int(others)
    except ValueError:
        raise argparse.ArgumentTypeError("use CREATES,OTHERS (e.g. 600,3000)") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m replicate_typed.mock")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--token", action="append", help="accepted API token (repeatable; default: any)"
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="replicate",
        help="replicate: the official API; router: only create (by version, by model path) and "
        "get, answered like the router's documents (everything else 404)",
    )
    parser.add_argument("--start", type=float, default=0.05, help="seconds in starting")
    parser.add_argument("--run", type=float, default=0.2, help="seconds in processing")
    parser.add_argument(
        "--timing", action="append", type=_timing, default=[], help="owner/name=START_S,RUN_S"
    )
    parser.add_argument("--output-ttl", type=float, default=3600.0)
    parser.add_argument("--rate-429", type=float, default=0.0)
    parser.add_argument("--rate-5xx", type=float, default=0.0)
    parser.add_argument("--rate-reset", type=float, default=0.0)
    parser.add_argument("--slow-rate", type=float, default=0.0)
    parser.add_argument("--slow-seconds", type=float, default=0.5)
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument(
        "--rate-limits",
        type=_pair,
        default=None,
        help="CREATES,OTHERS per minute (the API's: 600,3000); default: none",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=MockConfig.max_body_bytes,
        help="largest request body except uploads (default 10 MiB); larger: 413",
    )
    parser.add_argument(
        "--max-upload-bytes",
        type=int,
        default=MockConfig.max_upload_bytes,
        help="largest upload, files.create (default 100 MiB); larger: 413",
    )
    args = parser.parse_args(argv)
    config = MockConfig(
        api_tokens=tuple(args.token) if args.token else None,
        default_timing=(args.start, args.run),
        timings=dict(args.timing),
        output_ttl=args.output_ttl,
        rate_limits=args.rate_limits,
        max_body_bytes=args.max_body_bytes,
        max_upload_bytes=args.max_upload_bytes,
        profile=args.profile,
        faults=FaultConfig(
            rate_429=args.rate_429,
            rate_5xx=args.rate_5xx,
            rate_reset=args.rate_reset,
            slow_rate=args.slow_rate,
            slow_seconds=args.slow_seconds,
            seed=args.fault_seed,
        ),
    )
    server = MockServer(args.host, args.port, config=config)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    print(f"Mock server listening on {server.url}", flush=True)
    print(f"Router base URL: {server.url}/replicate", flush=True)
    print(
        f"Serving {len(server.backend.registry)} models; models added with add-model are "
        "picked up on the next request",
        flush=True,
    )
    if args.profile != "replicate":
        print(f"Profile: {args.profile}", flush=True)
    try:
        while not stop.wait(0.2):
            if not server.running:
                print("mock server stopped unexpectedly", file=sys.stderr)
                return 1
    finally:
        server.stop()
    print("Mock server stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
