"""Start the real app on 127.0.0.1 and drive it with Debian's headless Chromium through Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from explorer.bench.common import CHROMIUM, CHROMIUM_FLAGS  # noqa: F401 (one set of flags for tests and benchmarks)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"

def _unavailable(reason: str) -> None:
    """In CI a browser test that cannot start fails; elsewhere it is skipped with the reason."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser test could not start in CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_server(log_name: str, extra_env: dict[str, str] | None = None,
               drop_env: tuple[str, ...] = ("EXPLORER_TEST_",), launcher: str = "streamlit"
               ) -> Iterator[tuple[str, subprocess.Popen]]:
    """The real app on 127.0.0.1 (its output in ``artifacts/<log_name>``); yields (url, process).

    ``launcher="explorer"`` starts it as the README does (``explorer app``, caches warmed in the background)."""
    from explorer.bench.common import BenchUnavailable, streamlit_server

    server = streamlit_server(ROOT / "app.py", timeout_s=90, extra_env=extra_env, log=ROOT / "artifacts" / log_name,
                              drop_env=drop_env, launcher=launcher)
    try:
        proc, url = server.__enter__()
    except BenchUnavailable as exc:
        _unavailable(f"{exc}; see artifacts/{log_name}")
    try:
        yield url, proc
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    with app_server("server.log", launcher="explorer") as (url, _):
        yield url


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
