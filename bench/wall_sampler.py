"""A wall-clock sampler of every Python thread of a server, without py-spy: where each thread *is* every few ms
(running or waiting for the GIL or a lock), with the time since the process started.

    .venv/bin/python bench/wall_sampler.py OUT.jsonl [--every-ms 5] -- app --port 8501 ...   # explorer app
    .venv/bin/python bench/wall_sampler.py --report OUT.jsonl [--thread Script] [--from 2 --to 6]

The first form runs the ``explorer`` console script's entry point (``explorer app`` with the arguments after
``--``) with a daemon thread that snapshots ``sys._current_frames()``; samples are appended to OUT as JSON lines
(``[t, thread name, [frame, ...]]``, innermost frame last) every half second, so nothing is lost when the server
is stopped. The second form prints, per thread, the share of samples under each function (inclusive), counting
only frames of this project and a few libraries' entry points; read shares, not milliseconds (a thread waiting
for the GIL is counted where it waits).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import threading
import time
from pathlib import Path

T0 = time.perf_counter()


def _frames(frame) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    while frame is not None:
        code = frame.f_code
        out.append(f"{code.co_name} ({_short(code.co_filename)}:{frame.f_lineno})")
        frame = frame.f_back
    return out[::-1]


def _short(file: str) -> str:
    for mark in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if mark in file:
            return file.split(mark, 1)[1]
    return file


def sample(out: Path, every_s: float) -> None:
    names = {}
    buf: list[str] = []
    last = time.perf_counter()
    me = threading.get_ident()
    while True:
        time.sleep(every_s)
        now = time.perf_counter()
        for t in threading.enumerate():
            names[t.ident] = t.name
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            buf.append(json.dumps([round(now - T0, 4), names.get(ident, str(ident)), _frames(frame)]))
        if now - last > 0.5:
            with out.open("a") as f:
                f.write("\n".join(buf) + "\n")
            buf.clear()
            last = now


def report(path: Path, thread: str, lo: float, hi: float, top: int) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    by_thread: dict[str, list] = collections.defaultdict(list)
    for t, name, frames in rows:
        if lo <= t <= hi and thread in name:
            by_thread[name].append((t, frames))
    for name, samples in by_thread.items():
        if not any("explorer" in f or "app_pages" in f for _, fr in samples for f in fr):
            continue
        n = len(samples)
        print(f"=== {name}: {n} samples, {samples[0][0]:.2f}-{samples[-1][0]:.2f} s")
        incl: collections.Counter[str] = collections.Counter()
        leaf: collections.Counter[str] = collections.Counter()
        for _, frames in samples:
            seen = set()
            for f in frames:
                key = f.rsplit(":", 1)[0] + ")"
                if key not in seen:
                    incl[key] += 1
                    seen.add(key)
            leaf[frames[-1].rsplit(":", 1)[0] + ")" if frames else "?"] += 1
        for key, c in incl.most_common(top):
            print(f"  {100 * c / n:5.1f}%  {key}")
        print("  -- innermost:")
        for key, c in leaf.most_common(12):
            print(f"  {100 * c / n:5.1f}%  {key}")


def timeline(path: Path, thread: str, step: float) -> None:
    """Per ``step`` seconds and thread: the most common innermost frame of this project (else the innermost)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    bins: dict[tuple[float, str], collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for t, name, frames in rows:
        if thread not in name or name == "MainThread" and not thread:
            continue
        own = [f for f in frames if f.startswith(("<module> (app", )) or "explorer/" in f or "app_pages/" in f]
        where = (own[-1].rsplit(":", 1)[0] + ")") if own else "-"
        inner = frames[-1].rsplit(":", 1)[0] + ")" if frames else "?"
        bins[(round(t // step * step, 2), name)][f"{where} > {inner}"] += 1
    for (t, name), c in sorted(bins.items()):
        (top, n), total = c.most_common(1)[0], sum(c.values())
        print(f"{t:6.2f} {name[:24]:24s} {n:3d}/{total:<3d} {top[:150]}")


def main() -> None:
    if "--timeline" in sys.argv:
        ap = argparse.ArgumentParser()
        ap.add_argument("--timeline", type=Path, required=True)
        ap.add_argument("--thread", default="")
        ap.add_argument("--step", type=float, default=0.2)
        a = ap.parse_args()
        timeline(a.timeline, a.thread, a.step)
        return
    if "--report" in sys.argv:
        ap = argparse.ArgumentParser()
        ap.add_argument("--report", type=Path, required=True)
        ap.add_argument("--thread", default="")
        ap.add_argument("--from", dest="lo", type=float, default=0.0)
        ap.add_argument("--to", dest="hi", type=float, default=1e9)
        ap.add_argument("--top", type=int, default=40)
        a = ap.parse_args()
        report(a.report, a.thread, a.lo, a.hi, a.top)
        return
    split = sys.argv.index("--")
    own, rest = sys.argv[1:split], sys.argv[split + 1:]
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--every-ms", type=float, default=5.0)
    a = ap.parse_args(own)
    a.out.write_text("")
    threading.Thread(target=sample, args=(a.out, a.every_ms / 1000), name="wall-sampler", daemon=True).start()
    from explorer.serve import entry

    sys.argv = ["explorer", *rest]
    entry()


if __name__ == "__main__":
    main()
