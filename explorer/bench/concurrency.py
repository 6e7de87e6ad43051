"""Concurrency: one What-if session, then many at once, on the same fresh server in the same run.

The sessions are driven by :mod:`explorer.bench.sessions` (Streamlit's websocket protocol, no browser: one Chromium
page per session would take the machine's CPU for itself). Both runs use the same think times (0.5-2 s
between changes: everyone dragging sliders non-stop) and duration; the figure is the ratio of the p95s of the
reruns after a slider change (each session's first page load is reported apart). A third run, 30 sessions at
a workshop's pace (5-15 s between changes: people look at the map between moves), is reported beside it.

On What if a change is two runs, as in the browser: the map's fragment, then the details fragment (charts,
save/load, exports) that the after-map component's trigger asks for; a change's latency counts both (the map's
run alone is reported as ``to_map_p50_s`` / ``to_map_p95_s``).
"""

from __future__ import annotations

from typing import Any

from explorer.bench.common import checkout_file, ratio, rss_mb, streamlit_server
from explorer.bench.sessions import drive_sessions

TARGET_P95_RATIO = 3.0
TARGET_WORKSHOP_RATIO = 1.5


def _summary(res: dict[str, Any]) -> dict[str, Any]:
    keep = ("sessions", "actions", "p50_s", "p95_s", "max_s", "errors", "error_samples", "wall_s", "mb_received",
            "references", "rss_before_mb", "rss_after_mb", "rss_per_session_mb", "change_p50_s", "change_p95_s",
            "first_load_p50_s", "to_map_p50_s", "to_map_p95_s", "triggers")
    out = {k: res.get(k) for k in keep}
    out["reruns"] = len(res.get("latencies_s", []))
    return out


def run(n_sessions: int = 30, duration_s: float = 40.0, query: str = "city=los-angeles",
        workshop_think_s: tuple[float, float] | None = (5.0, 15.0)) -> dict[str, Any]:
    """p95 rerun latency of ``n_sessions`` concurrent sessions against one session alone, memory per session;
    with ``workshop_think_s``, also ``n_sessions`` at that pace."""
    with streamlit_server(checkout_file("app.py"), launcher="explorer") as (proc, url):
        single = drive_sessions(url, 1, duration_s=duration_s, query=query, server_pid=proc.pid, warmup=True,
                                ramp_s=0.0)
        many = drive_sessions(url, n_sessions, duration_s=duration_s, query=query, server_pid=proc.pid,
                              warmup=False)
        pace = (drive_sessions(url, n_sessions, duration_s=duration_s, query=query, server_pid=proc.pid,
                               warmup=False, think_s=workshop_think_s, seed=1)
                if workshop_think_s else None)
        server_rss = rss_mb(proc.pid)
    s, m = _summary(single), _summary(many)
    out = {
        "query": query, "duration_s": duration_s, "single": s, "concurrent": m, "server_rss_end_mb": server_rss,
        "ratio_p95": ratio(m["change_p95_s"] or 0.0, s["change_p95_s"] or 0.0),
        "ratio_median": ratio(m["change_p50_s"] or 0.0, s["change_p50_s"] or 0.0),
        "ratio_p95_all_reruns": ratio(m["p95_s"] or 0.0, s["p95_s"] or 0.0),
        "rss_per_session_mb": m["rss_per_session_mb"], "target_ratio": TARGET_P95_RATIO,
        "workshop_target_ratio": TARGET_WORKSHOP_RATIO,
    }  # fmt: skip
    if pace is not None:
        w = _summary(pace)
        out["workshop_pace"] = {**w, "think_s": list(workshop_think_s),
                                "ratio_p95": ratio(w["change_p95_s"] or 0.0, s["change_p95_s"] or 0.0),
                                "ratio_median": ratio(w["change_p50_s"] or 0.0, s["change_p50_s"] or 0.0)}
    return out
