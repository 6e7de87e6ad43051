"""Server CPU per What-if rerun (a sidebar slider) and per map Hour step (in the browser: should be ~0).

    .venv/bin/python bench/cpu_per_rerun.py [--full 40] [--steps 12] [--query city=los-angeles]

CPU is the server process's own user + system time (``/proc/PID/stat``), so other load on a shared machine
changes it little, unlike wall-clock latency. Full reruns: one websocket session (``explorer/bench/sessions.py``) moves
scenario sliders back to back after a warm-up; map steps: headless Chromium steps the browser map's Hour control.
This is the figure that decides how many workshop sessions one server can carry (``docs/concurrency.md``).
Prints one JSON line: CPU ms per full rerun and per map step, bytes per full rerun, wall-clock medians.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from explorer.bench.browser import FrameCounter, hour_steps, wait_ready
from explorer.bench.common import CHROMIUM, CHROMIUM_FLAGS, checkout_file, chromium, streamlit_server
from explorer.bench.sessions import drive_sessions

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", type=int, default=40, help="slider changes (full reruns)")
    ap.add_argument("--steps", type=int, default=12, help="map Hour steps in the browser; 0 skips the browser")
    ap.add_argument("--query", default="city=los-angeles")
    args = ap.parse_args()
    out: dict[str, float | int] = {}
    with streamlit_server(checkout_file("app.py")) as (proc, url):
        drive_sessions(url, 1, n_actions=2, duration_s=None, think_s=(0.05, 0.05), query=args.query, ramp_s=0)
        c0 = cpu_s(proc.pid)
        res = drive_sessions(url, 1, n_actions=args.full, duration_s=None, think_s=(0.05, 0.05),
                             query=args.query, warmup=False, ramp_s=0)
        c1 = cpu_s(proc.pid)
        runs = len(res["latencies_s"])  # the session's first page load is a full rerun too
        out |= {"full_cpu_ms": 1000 * (c1 - c0) / runs, "full_reruns": runs, "errors": res["errors"],
                "full_p50_ms": 1000 * sorted(res["latencies_s"])[runs // 2],
                "kb_per_full": res["mb_received"] * 1000 / runs}
        if args.steps:
            with chromium()() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{url}/scenario?{args.query}")
                wait_ready(page)
                c0 = cpu_s(proc.pid)
                ms, _ = hour_steps(page, args.steps, FrameCounter(page))
                c1 = cpu_s(proc.pid)
                out |= {"map_step_cpu_ms": 1000 * (c1 - c0) / args.steps,
                        "map_step_p50_ms": sorted(ms)[len(ms) // 2]}
                browser.close()
    out["load_avg_1m"] = os.getloadavg()[0]
    out["time_utc"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in out.items()}))


if __name__ == "__main__":
    main()
