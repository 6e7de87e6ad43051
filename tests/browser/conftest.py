"""Start the real app on 127.0.0.1 and drive it with Debian's headless Chromium through Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("EXPLORER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
    "--enable-unsafe-swiftshader", "--use-angle=swiftshader",
]


def _unavailable(reason: str) -> None:
    """In CI a browser test that cannot start fails; elsewhere it is skipped with the reason."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser test could not start in CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPLORER_TEST_")}
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    log = open(ROOT / "artifacts" / "server.log", "w") if (ROOT / "artifacts").mkdir(exist_ok=True) is None else None
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            break
    else:
        proc.terminate()
        _unavailable("the streamlit server did not answer within 90 s")
    if proc.poll() is not None:
        _unavailable(f"the streamlit server exited with {proc.returncode}; see artifacts/server.log")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    if log:
        log.close()


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    """A fresh page; after the test, checks that no request left the machine (the app works offline)."""
    from urllib.parse import urlparse

    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    p = ctx.new_page()
    hosts: set[str] = set()
    p.on("request", lambda r: hosts.add(urlparse(r.url).hostname or ""))
    yield p
    ctx.close()
    outside = hosts - {"127.0.0.1", ""}
    assert not outside, f"the page requested outside hosts: {sorted(outside)}"


@pytest.fixture(scope="session")
def shots() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
