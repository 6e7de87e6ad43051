"""Drive many Streamlit sessions at once over the real websocket protocol (no browser).

    .venv/bin/python -m explorer.bench.sessions http://127.0.0.1:8501 --sessions 30 --duration 40 [--pid PID]

Each session is what a browser tab is to the server: a websocket at ``/_stcore/stream`` speaking Streamlit's own
protobufs (``BackMsg.rerun_script`` with widget states out, ``ForwardMsg`` deltas and ``script_finished`` back).
A session opens the What-if page, reads the widgets from the deltas, then repeatedly moves one of the
scenario sliders (start hour, hours to simulate, event size, reach) to a random value and waits until the
server has finished the rerun.

Like a browser, a session sends the state of **every** widget the last run drew, not only the one it moved
(each widget's value as the page set it, else the one this client chose, else the widget's default; widgets the
last run did not draw are dropped, as Streamlit's frontend does), and it keeps the large messages it received
(``metadata.cacheable``) and reports their hashes, so the server answers an unchanged large element (the map's
payload carriers) with a reference, as it does for a browser. Without the first, Streamlit resets every keyed
widget the client leaves out to its default on the next rerun (the scenario falls back to hour 0, two hours,
no event); without the second, every rerun would carry the map's layers again.

About 1 MB of client memory and a few ms of CPU per rerun, against ~150 MB and a full CPU for each headless
Chromium page, so 30 sessions fit on a 2-core machine.

The simulated tab itself is :mod:`explorer.bench.ws_session`. API (also used by ``explorer bench``)::

    from explorer.bench.sessions import drive_sessions
    res = drive_sessions("http://127.0.0.1:8501", 30, duration_s=40, server_pid=proc.pid)
    res["latencies_s"], res["errors"], res["error_samples"], res["rss_before_mb"], res["rss_after_mb"]

An error is anything a user would see as a failure: a Python exception shown by the page, an ``st.error``
message, a script that does not compile, a page not found, a dropped websocket or a rerun slower than
``rerun_timeout_s``.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from explorer.bench.ws_session import SCENARIO_SLIDERS, Session, Stats, Writer

__all__ = ["drive_sessions", "server_rss_mb", "SCENARIO_SLIDERS"]


def server_rss_mb(pid: int) -> float | None:
    """Resident memory of a process (and its children, for ``streamlit run``'s single process) in MB, Linux."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def _summary(stats: Stats, n: int, first_loads: int) -> dict[str, Any]:
    lat = stats.latencies_s
    changes = list(lat)
    for x in stats.first_s:  # the reruns after a user's action, without the page's first run
        changes.remove(x)
    return {"sessions": n, "actions": max(0, len(lat) - first_loads), "latencies_s": lat,
            "p50_s": statistics.median(lat) if lat else None, "p95_s": _pct(lat, 95),
            "max_s": max(lat, default=None), "errors": stats.errors, "error_samples": stats.error_samples,
            "mb_received": stats.bytes_in / 1e6, "references": stats.references, "first_load_s": stats.first_s,
            "change_s": changes,
            "change_p50_s": statistics.median(changes) if changes else None, "change_p95_s": _pct(changes, 95),
            "first_load_p50_s": statistics.median(stats.first_s) if stats.first_s else None,
            "to_map_s": stats.to_map_s, "to_map_p50_s": statistics.median(stats.to_map_s) if stats.to_map_s else None,
            "to_map_p95_s": _pct(stats.to_map_s, 95), "triggers": stats.triggers,
            "trigger_elements": dict(stats.trigger_elements)}


def _run(coro) -> None:
    """``asyncio.run``, in a thread of its own when this thread already runs a loop (Playwright's sync API)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    t = threading.Thread(target=target, name="drive-sessions")
    t.start()
    t.join()
    if failure:
        raise failure[0]


def drive_sessions(base_url: str, n_sessions: int = 30, *, duration_s: float | None = 30.0,
                   n_actions: int | None = None, page: str = "scenario", query: str = "city=los-angeles",
                   think_s: tuple[float, float] = (0.5, 2.0), ramp_s: float = 5.0,
                   feedback_writers: int = 0, feedback_each: int = 3, feedback_tag: str = "load",
                   server_pid: int | None = None, rerun_timeout_s: float = 120.0, warmup: bool = True,
                   seed: int = 0) -> dict[str, Any]:
    """Open ``n_sessions`` What-if sessions on ``base_url`` and move scenario sliders until ``duration_s`` has
    passed or each session made ``n_actions`` changes (whichever comes first; set one of them to None).

    Sessions start spread over ``ramp_s`` seconds and wait ``think_s`` (uniform) between changes, like people.
    At the same time ``feedback_writers`` phones open the Have-your-say page and each sends ``feedback_each``
    entries (text ``f"{feedback_tag}-w{i}-{k}: ..."``, unique per run when the tag is); keep ``feedback_each``
    at most 5 (the store's per-session rate limit). With ``warmup`` one session first opens the page alone
    (city, model and caches loaded; not counted), so memory growth is that of the sessions.

    Returns a dict: sessions, actions (slider changes answered), latencies_s (every rerun, first page loads
    included, seconds), p50_s, p95_s, max_s, the same for the reruns after a change only (change_s,
    change_p50_s, change_p95_s) and for the first page loads (first_load_s, first_load_p50_s), errors,
    error_samples, mb_received, references (large messages answered by reference), wall_s; on What if, a change
    counts both runs (the map's fragment, then the details fragment the after-map trigger asks for), with
    to_map_s / to_map_p50_s / to_map_p95_s until the map's run finished, triggers (after-map triggers sent) and
    trigger_elements (element kinds the triggered runs drew, e.g. ``plotly_chart``); ``feedback``: the
    same keys for the writers plus ``acked`` (the texts the page thanked for); and when ``server_pid`` is given
    rss_before_mb, rss_after_mb and rss_per_session_mb (growth / (sessions + writers)).
    """
    if duration_s is None and n_actions is None:
        raise ValueError("give duration_s or n_actions")
    parts = urlsplit(base_url)
    ws_url = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"
    stats, wstats = Stats(), Stats()

    async def main() -> None:
        t_end = time.monotonic() + (duration_s if duration_s is not None else 10 * 365 * 86400)
        sessions: list[Session] = [
            Session(ws_url, page, query, stats, random.Random(seed * 1000 + i), rerun_timeout_s)
            for i in range(n_sessions)]
        sessions += [Writer(ws_url, "have_your_say", query, wstats, random.Random(seed * 1000 + 500 + i),
                             rerun_timeout_s, tag=f"{feedback_tag}-w{i}", each=feedback_each)
                     for i in range(feedback_writers)]
        rng = random.Random(seed)
        rng.shuffle(sessions)  # phones and planners arrive mixed

        async def start(i: int, s: Session) -> None:
            await asyncio.sleep(ramp_s * i / max(len(sessions), 1))
            await s.run(t_end, n_actions, think_s)

        await asyncio.gather(*(start(i, s) for i, s in enumerate(sessions)))

    if warmup:
        warm = Stats()
        _run(Session(ws_url, page, query, warm, random.Random(seed), rerun_timeout_s).run(0, 0, (0, 0)))
        if warm.errors:
            stats.error(f"warm-up: {warm.error_samples[0]}")
    rss_before = server_rss_mb(server_pid) if server_pid else None
    t0 = time.perf_counter()
    _run(main())
    out = _summary(stats, n_sessions, n_sessions) | {"wall_s": time.perf_counter() - t0}
    out["feedback"] = _summary(wstats, feedback_writers, feedback_writers) | {"acked": wstats.acked}
    if server_pid:
        rss_after = server_rss_mb(server_pid)
        out |= {"rss_before_mb": rss_before, "rss_after_mb": rss_after,
                "rss_per_session_mb": (rss_after - rss_before) / max(1, n_sessions + feedback_writers)
                if rss_before is not None and rss_after is not None else None}
    return out


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", help="the app's address, e.g. http://127.0.0.1:8501")
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds")
    ap.add_argument("--actions", type=int, default=None, help="slider changes per session (instead of a duration)")
    ap.add_argument("--writers", type=int, default=0, help="Have-your-say phones sending feedback meanwhile")
    ap.add_argument("--query", default="city=los-angeles")
    ap.add_argument("--think", type=float, nargs=2, default=(0.5, 2.0), metavar=("MIN", "MAX"),
                    help="seconds each person waits between changes (uniform)")
    ap.add_argument("--pid", type=int, default=None, help="server process id, to report its memory")
    args = ap.parse_args()
    res = drive_sessions(args.url, args.sessions, duration_s=None if args.actions else args.duration,
                         n_actions=args.actions, query=args.query, server_pid=args.pid, think_s=tuple(args.think),
                         feedback_writers=args.writers, feedback_tag=f"bench-{int(time.time())}")
    for part in (res, res["feedback"]):
        for key in ("latencies_s", "first_load_s", "change_s", "to_map_s"):
            part.pop(key)
    res["feedback"]["acked"] = len(res["feedback"]["acked"])
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
