"""Shared helpers of the benchmarks: the repository root, percentiles, memory peaks, Streamlit servers."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("EXPLORER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
    "--enable-unsafe-swiftshader", "--use-angle=swiftshader",
]  # fmt: skip  (tests/browser/conftest.py imports these)


class BenchUnavailable(RuntimeError):
    """A section cannot run here (no browser, no checkout, a missing module); the message says why."""


def checkout_file(rel: str) -> Path:
    """A file of the source checkout (app.py, bench/...): the browser sections need a checkout, not a wheel."""
    path = ROOT / rel
    if not path.exists():
        raise BenchUnavailable(f"{rel} not found under {ROOT}: run `explorer bench` from a source checkout")
    return path


def dist(xs: Sequence[float]) -> dict[str, float | int]:
    """Median, p95 and max of a sample (ms or bytes), with its size."""
    a = np.asarray(xs, float)
    return {"median": float(np.median(a)), "p95": float(np.percentile(a, 95)), "max": float(a.max()), "n": len(a)}


def ratio(a: float, b: float) -> float:
    """a / b, NaN when b is not positive (never a division error in a report)."""
    return float(a / b) if b > 0 else math.nan


def machine() -> dict[str, Any]:
    """CPU count and load average now: the context every figure is read in."""
    return {"cpu_count": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
            "python": sys.version.split()[0], "time_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def _status_kb(field: str, pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process now, MB (0 where /proc is not there)."""
    try:
        return _status_kb("VmRSS", pid) / 1024
    except OSError:
        return 0.0


@contextmanager
def peak_rss() -> Iterator[dict[str, float]]:
    """Peak resident memory of this process over the block, MB, and its growth over the RSS at the start.

    Resets the kernel's high-water mark (``/proc/self/clear_refs``, Linux >= 4.0) so the peak is the
    block's own; elsewhere the process-lifetime peak is reported and ``reset`` is False.
    """
    out: dict[str, float] = {}
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        out["reset"] = 1.0
    except OSError:
        out["reset"] = 0.0
    start = rss_mb()
    yield out
    try:
        peak = _status_kb("VmHWM") / 1024
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.update(peak_mb=peak, start_mb=start, growth_mb=max(peak - start, 0.0))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(script: Path, timeout_s: float = 180, extra_env: dict[str, str] | None = None,
                     log: Path | None = None,
                     drop_env: tuple[str, ...] = ("EXPLORER_TEST_",),
                     launcher: str = "streamlit") -> Iterator[tuple[subprocess.Popen, str]]:
    """A fresh ``streamlit run script`` on 127.0.0.1 (free port), stopped on exit; yields (process, url).

    ``launcher="explorer"`` starts the app the way the README does instead (``explorer app``: the same server,
    with the default city's caches warmed in the background; ``script`` must then be the checkout's app.py).

    ``log``: where the server's output goes (else discarded); ``drop_env``: prefixes of inherited
    environment variables the server must not see. Raises :class:`BenchUnavailable` when it does not start.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop_env)}
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    env.update(extra_env or {})
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "w") if log is not None else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    if launcher == "explorer":
        script_bin = Path(sys.executable).parent / "explorer"  # the console script `make app` runs
        entry = [str(script_bin)] if script_bin.exists() else [sys.executable, "-m", "explorer.serve"]
        cmd = [*entry, "app", "--address", "127.0.0.1", "--port", str(port)]
        env["STREAMLIT_SERVER_HEADLESS"] = "true"
    else:
        cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url, timeout_s)
        yield proc, url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log is not None:
            out.close()


def wait_healthy(proc: subprocess.Popen, url: str, timeout_s: float) -> None:
    """Poll ``/_stcore/health`` every 50 ms until it answers; raise if the server exits or times out."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise BenchUnavailable(f"the streamlit server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise BenchUnavailable(f"the streamlit server did not answer within {timeout_s:.0f} s")


def chromium():
    """(playwright context manager, browser launcher) or BenchUnavailable saying what to install."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BenchUnavailable("playwright is not installed (pip install -e '.[bench]')") from exc
    if not Path(CHROMIUM).exists():
        raise BenchUnavailable(f"{CHROMIUM} not found (make browser-deps, or set EXPLORER_TEST_CHROMIUM)")
    return sync_playwright
