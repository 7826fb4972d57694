"""The documentation site, looked at in a real browser.

Builds the site (``mkdocs build --strict``, as ``make docs``), serves it on 127.0.0.1 and opens
the home page and a model page in headless Chromium (Debian's ``chromium``, installed by ``make
browser``; CI runs it): the DOM after the page's scripts ran must show the key content -- the
model's input table with every input, the three examples, the home page's typed example -- and
the screenshots are kept as build artifacts under ``.artifacts/docs/``.
"""

from __future__ import annotations

import functools
import html.parser
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from contract_tests.conftest import ROOT
from replicate_typed.models import registry

pytestmark = pytest.mark.slow  # a site build and a browser: `make test-slow` (CI)

ARTIFACTS = ROOT / ".artifacts" / "docs"
MODEL = "stability-ai/sdxl"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "headless Chromium is needed: `make browser` (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


class Page(html.parser.HTMLParser):
    """What a reader sees of a page: table cells by row, the text of code blocks, headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.code_blocks: list[str] = []
        self.headings: list[str] = []
        self._cell: list[str] | None = None
        self._pre: list[str] | None = None
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "pre":
            self._pre = []
        elif tag in ("h1", "h2"):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "pre" and self._pre is not None:
            self.code_blocks.append("".join(self._pre))
            self._pre = None
        elif tag in ("h1", "h2") and self._heading is not None:
            self.headings.append("".join(self._heading).strip().rstrip("¶").strip())
            self._heading = None

    def handle_data(self, data: str) -> None:
        for sink in (self._cell, self._pre, self._heading):
            if sink is not None:
                sink.append(data)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site, served on a free 127.0.0.1 port (stopped at the end)."""
    out = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).with_name("mkdocs")
    built = subprocess.run(
        [str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    handler = functools.partial(QuietHandler, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


def browse(url: str, shot: Path, tmp_path: Path) -> Page:
    """The page's DOM after its scripts ran, and its screenshot at ``shot``."""
    browser = chromium()
    common = [
        browser,
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        "--window-size=1280,1600",
    ]
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.unlink(missing_ok=True)
    taken = subprocess.run(
        [*common, f"--screenshot={shot}", url], capture_output=True, text=True, timeout=120
    )
    assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    dumped = subprocess.run(
        [*common, "--dump-dom", url], capture_output=True, text=True, timeout=120
    )
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    page = Page()
    page.feed(dumped.stdout)
    return page


def test_the_home_page_renders(site: str, tmp_path: Path) -> None:
    page = browse(f"{site}/", ARTIFACTS / "home.png", tmp_path)
    assert "replicate-typed" in page.headings
    assert any("client.run(sdxl.Input(" in block for block in page.code_blocks)
    assert any(row and "Model reference" in row[-1] for row in page.rows)


def test_a_model_page_renders_its_inputs_and_examples(site: str, tmp_path: Path) -> None:
    page = browse(f"{site}/models/{MODEL}/", ARTIFACTS / "model-sdxl.png", tmp_path)
    assert MODEL in page.headings and "Inputs" in page.headings
    header = next(row for row in page.rows if row[:2] == ["name", "type"])
    assert header == ["name", "type", "required", "default", "range", "choices", "description"]
    names = [row[0] for row in page.rows if len(row) == len(header) and row != header]
    assert sorted(names) == sorted(registry.get_model(MODEL).input_schema["properties"])
    steps = next(row for row in page.rows if row and row[0] == "num_outputs")
    assert steps[4] == "1 ≤ x ≤ 4"
    code = "\n".join(page.code_blocks)
    assert "from replicate_typed.models.stability_ai import sdxl" in code
    assert f"replicate-typed run {MODEL}" in code
    assert "curl -sS -X POST" in code and "Prefer: wait" in code
