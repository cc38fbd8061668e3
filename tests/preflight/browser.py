"""Mermaid diagrams rendered in a real browser: mermaid.js (tests/browser/, from the npm registry,
pinned by its package-lock.json) in the system's headless Chromium.

`render(diagrams)` writes one page holding them (tests/browser/render.html), lets Chromium run it
(`--dump-dom` with a virtual-time budget: the page's scripts, mermaid's layout included, finish
before the DOM is printed) and returns what the page measured for each: a parse or render error,
the SVG's size, its nodes and their classes, the drawn edges, the edge labels, and any edge
label that overlaps a node or another label.

Where the browser or mermaid is missing, the tests that need them skip, unless
USDR_BROWSER_TESTS=required (set by .ci/run, which installs Chromium, and by the preview
workflow): then it is a failure. Why a skip on a laptop is acceptable: Chromium is a system
package that `dev.py bootstrap` cannot install, these tests prove how GitHub will *draw* the map,
not what the gate decides (the map's content, every place and edge, is asserted without a browser
in test_residency_map.py), and every CI run of the project requires them, so a map that no
longer renders cannot reach main.
mermaid is installed here on first use with `npm ci` (the suite starts what it needs).
"""

from __future__ import annotations

import fcntl
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

BROWSER_DIR = Path(__file__).resolve().parents[1] / "browser"
MERMAID = BROWSER_DIR / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
REQUIRED = os.environ.get("USDR_BROWSER_TESTS") == "required"
# What the machine's network allows: no background connections (they are refused here, and a
# test must not reach the internet), no first-run or sync, a throw-away profile.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",
    "--virtual-time-budget=60000",
    "--window-size=1920,1080",
)
_OUT = re.compile(r'<pre id="out">(.*?)</pre>', re.DOTALL)


def _unavailable(why: str) -> None:
    if REQUIRED:
        pytest.fail(f"USDR_BROWSER_TESTS=required, but {why}")
    pytest.skip(why)


def chromium() -> str:
    for name in (os.environ.get("USDR_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name) if name else None
        if found:
            return found
    _unavailable("no Chromium on PATH (Debian: apt-get install chromium; or set USDR_CHROMIUM)")
    raise AssertionError  # unreachable: _unavailable skips or fails


def mermaid_js() -> Path:
    """tests/browser/node_modules/mermaid, installed with `npm ci` when missing (one process at a
    time: pytest-xdist workers wait on a lock)."""
    if MERMAID.is_file():
        return MERMAID
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("mermaid is not installed in tests/browser/ and there is no npm to install it")
    with open(BROWSER_DIR / ".install-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not MERMAID.is_file():
            proc = subprocess.run(
                [str(npm), "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                cwd=BROWSER_DIR,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if proc.returncode != 0:
                _unavailable(f"npm ci in tests/browser failed: {proc.stderr.strip()[-500:]}")
    return MERMAID


def render(diagrams: Sequence[str]) -> list[dict[str, Any]]:
    """What mermaid.js in Chromium made of each diagram (see the module docstring)."""
    browser, _ = chromium(), mermaid_js()
    page = (BROWSER_DIR / "render.html").read_text(encoding="utf-8")
    # JSON in a script: `</` is escaped so no diagram text can close the script element.
    data = json.dumps(list(diagrams)).replace("</", "<\\/")
    page = page.replace("/*DIAGRAMS*/[]", data)
    with tempfile.TemporaryDirectory(prefix="usdr-map-") as tmp:
        # The page sits beside node_modules (it loads mermaid by relative path), under a name of
        # its own so parallel test processes never share one.
        page_path = BROWSER_DIR / f".page-{os.getpid()}-{Path(tmp).name}.html"
        page_path.write_text(page, encoding="utf-8")
        try:
            proc = subprocess.run(
                [
                    browser,
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={tmp}/profile",
                    "--dump-dom",
                    page_path.as_uri(),
                ],
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
        finally:
            page_path.unlink()
    found = _OUT.search(proc.stdout)
    assert found is not None and found[1] != "pending", (
        f"Chromium did not finish the page (exit {proc.returncode}): {proc.stderr[-1500:]}"
    )
    results: list[dict[str, Any]] = json.loads(html.unescape(found[1]))
    assert len(results) == len(diagrams)
    return results
