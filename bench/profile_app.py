"""Where the time goes: py-spy samples of the real server during a cold start and during What-if reruns.

    .venv/bin/python bench/profile_app.py [--reruns 6] [--top 25] [--out artifacts/profile]

1. cold start: ``py-spy record`` runs ``streamlit run app.py``; Chromium opens the default page until its map
   is drawn; the server is stopped and the samples written;
2. What-if reruns: a fresh server opens the What-if page (warm: model and city loaded), then ``py-spy record
   --pid`` samples it while the sidebar's Start hour slider is stepped (each step: new samples, full rerun).
   (The map's Hour steps run in the browser and cost the server nothing: ``bench/profile_map.py`` profiles them.)

Prints, per phase, the functions holding the most samples (inclusive and self), with the share of all samples.
Raw collapsed stacks are kept under ``--out`` (flamegraph.pl / speedscope can read them).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from explorer.bench.browser import RENDERED_DATA, press_slider, wait_ready
from explorer.bench.common import CHROMIUM, CHROMIUM_FLAGS, ROOT, chromium, free_port, wait_healthy

PYSPY = str(Path(sys.executable).with_name("py-spy"))
FRAME = re.compile(r"^(?P<fn>.+?) \((?P<file>[^:]+):\d+\)$")


def _server_cmd(port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", "127.0.0.1",
            "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]


def _short(file: str) -> str:
    for mark in ("site-packages/", "/work/main/"):
        if mark in file:
            return file.split(mark, 1)[1]
    return file


IDLE = ("Condition.wait", "Queue.get", "EpollSelector.select", "PollingPathWatcher", "select (selectors")


def top(raw: Path, n: int) -> str:
    """Shares of the busy samples per function from py-spy's raw (collapsed) output: inclusive, self, and
    inclusive for the project's own code. Samples of threads waiting (queues, conditions, selectors,
    Streamlit's 200 ms config-file poll) are counted apart as idle."""
    incl: collections.Counter[str] = collections.Counter()
    self_: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        k = int(count)
        frames = [fr.strip() for fr in stack.split(";")]
        if any(mark in fr for fr in frames[-3:] for mark in IDLE):
            idle += k
            continue
        total += k
        names = []
        for fr in frames:
            m = FRAME.match(fr)
            names.append(f"{m['fn']} ({_short(m['file'])})" if m else fr)
        for name in set(names):
            incl[name] += k
        if names:
            self_[names[-1]] += k
    own = [(name, c) for name, c in incl.most_common() if name.split("(")[-1].startswith(("explorer/", "app"))]
    out = [f"{total} busy samples ({idle} idle samples left out)"]
    out += ["inclusive:"] + [f"  {100 * c / total:5.1f}%  {name}" for name, c in incl.most_common(n)]
    out += ["self:"] + [f"  {100 * c / total:5.1f}%  {name}" for name, c in self_.most_common(n)]
    out += ["project code, inclusive:"] + [f"  {100 * c / total:5.1f}%  {name}" for name, c in own[:n]]
    return "\n".join(out)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cold_start(out: Path, rate: int) -> Path:
    raw = out / "coldstart.raw"
    port = free_port()
    spy = subprocess.Popen([PYSPY, "record", "-r", str(rate), "-f", "raw", "-o", str(raw), "--"] + _server_cmd(port),
                           cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(spy, url, 180)
        with chromium()() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            wait_ready(page)
            browser.close()
    finally:
        for pid in _children(spy.pid):  # the server, started by this py-spy
            os.kill(pid, signal.SIGINT)
        spy.wait(60)
    return raw


def reruns(out: Path, rate: int, n: int) -> list[tuple[str, Path]]:
    """Sample a warm server while the What-if page's Start hour (a full rerun) steps."""
    port = free_port()
    server = subprocess.Popen(_server_cmd(port), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    done = []
    try:
        wait_healthy(server, url, 180)
        with chromium()() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/scenario?city=los-angeles")
            wait_ready(page)
            for slider, name, label in (("Start hour", "whatif_reruns", "What-if reruns (Start hour steps)"),):
                raw = out / f"{name}.raw"
                spy = subprocess.Popen([PYSPY, "record", "-r", str(rate), "-f", "raw", "-o", str(raw), "--pid",
                                        str(server.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1.0)
                ms, _, _ = press_slider(page, slider, RENDERED_DATA, n)  # until the map draws the new scenario
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
                print(f"{label}: {', '.join(f'{x:.0f}' for x in ms)} ms")
                done.append((label, raw))
            browser.close()
    finally:
        server.terminate()
        server.wait(20)
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reruns", type=int, default=6)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--rate", type=int, default=100, help="samples per second")
    ap.add_argument("--out", type=Path, default=ROOT / "artifacts" / "profile")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    phases = [("cold start (server start to the Home map drawn)", cold_start(args.out, args.rate))]
    phases += reruns(args.out, args.rate, args.reruns)
    for name, raw in phases:
        print(f"== {name}: {raw}\n{top(raw, args.top)}\n")


if __name__ == "__main__":
    main()
