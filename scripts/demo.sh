#!/usr/bin/env bash
# `make demo`: start the built-in mock server on 127.0.0.1 (a free port, in the background, its
# PID in a file), run stability-ai/sdxl (called by version) and black-forest-labs/flux-schnell
# (called by model path) through the replicate-typed CLI, save their images under ./out, and
# stop the server by its PID -- also when something fails (trap).
#
# Environment: OUT (default ./out), PYTHON (default .venv/bin/python), DEMO_RUN_DIR (where the
# PID file and server log go; default a fresh temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
OUT="${OUT:-out}"
RUN_DIR="${DEMO_RUN_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/replicate-typed-demo.XXXXXX")}"
mkdir -p "$RUN_DIR"
PID_FILE="$RUN_DIR/mock.pid"
LOG="$RUN_DIR/mock.log"
cli() { "$PYTHON" -m replicate_typed.cli "$@"; }

stop_server() {
    local status=$?
    if [[ -f "$PID_FILE" ]]; then
        local pid
        pid="$(cat "$PID_FILE")"
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        fi
        echo "demo: mock server (pid $pid) stopped"
        rm -f "$PID_FILE"
    fi
    if [[ $status -ne 0 ]]; then
        echo "demo: FAILED (exit $status); mock server log: $LOG" >&2
        tail -n 20 "$LOG" >&2 2>/dev/null || true
    fi
    exit $status
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ! -x "$PYTHON" ]]; then
    echo "demo: $PYTHON not found; run make setup first (make demo does)" >&2
    exit 2
fi

# 1. The mock server, on a free port (--port 0), in the background.
"$PYTHON" -m replicate_typed.cli mock --host 127.0.0.1 --port 0 >"$LOG" 2>&1 &
echo $! >"$PID_FILE"
URL=""
for _ in $(seq 1 600); do
    URL="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$LOG" | head -n 1 || true)"
    [[ -n "$URL" ]] && break
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
        echo "demo: the mock server exited before it was ready" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ -z "$URL" ]]; then
    echo "demo: the mock server did not report its URL in 60 s" >&2
    exit 1
fi
echo "demo: mock server (pid $(cat "$PID_FILE")) on $URL"

# The demo talks to the local mock only, with a throwaway token (a real one is never needed).
export REPLICATE_BASE_URL="$URL"
export REPLICATE_API_TOKEN="r8_demo_token_for_the_local_mock"
unset REPLICATE_TYPED_DEBUG

# 2. Two models through the CLI; each prints the paths of the files it saved.
mkdir -p "$OUT"
FILES="$RUN_DIR/files.txt"
: >"$FILES"

echo
echo "demo: replicate-typed run stability-ai/sdxl  (called by version, from its spec)"
cli run stability-ai/sdxl \
    --prompt "a lighthouse on a cliff at dusk, oil painting" \
    --width 1024 --height 768 --num-outputs 2 --scheduler K_EULER \
    --out "$OUT" | tee -a "$FILES"

echo
echo "demo: replicate-typed run black-forest-labs/flux-schnell  (called by model path)"
cli run black-forest-labs/flux-schnell \
    --prompt "a red fox in fresh snow, morning light" \
    --aspect-ratio 16:9 --megapixels 0.25 --output-format png \
    --out "$OUT" | tee -a "$FILES"

# 3. Check that every saved file is a real image, and say where they are.
echo
echo "demo: images saved under $OUT/:"
"$PYTHON" - "$FILES" <<'PY'
import sys
from pathlib import Path

from PIL import Image

paths = [Path(line.strip()) for line in Path(sys.argv[1]).read_text().splitlines() if line.strip()]
if not paths:
    sys.exit("demo: no files were saved")
for path in paths:
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        print(f"  {path}  ({image.format} {image.size[0]}x{image.size[1]})")
PY
