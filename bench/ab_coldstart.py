"""Interleaved A/B of the cold start: fresh ``explorer app`` servers, A as configured and B with extra environment
variables (or another checkout), alternated with the bare ``import torch, streamlit``, so all see the same load.

    .venv/bin/python bench/ab_coldstart.py [NAME=VALUE ...] [--b-root /path/to/other/checkout] [--rounds 4]

Each round: the import, then A, then B (the order flips every round). Timed as ``explorer bench --only coldstart``
times its first figure: from the server's start until Home's map is drawn and the page idle; ``_chart``: until
Home's daily-profile chart is drawn too (Plotly's SVG on the page). Prints the medians,
each as a ratio to the import, B / A, and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from explorer.bench.browser import _import_time_s, wait_ready, whatif_next_s
from explorer.bench.common import CHROMIUM, CHROMIUM_FLAGS, ROOT, chromium, dist, ratio, streamlit_server

CHART = '[data-testid="stPlotlyChart"] .main-svg'


def cold(browser, script: Path, env: dict[str, str], whatif: bool,  # type: ignore[no-untyped-def]
         chart_first: bool = True) -> tuple[float, float | None, float | None]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    t0 = time.perf_counter()
    try:
        with streamlit_server(script, launcher="explorer", extra_env=env) as (_, url):
            page.goto(url)
            wait_ready(page)
            ready = time.perf_counter() - t0
            chart = None
            if chart_first:
                page.wait_for_selector(CHART, timeout=120_000)
                chart = time.perf_counter() - t0
            w = whatif_next_s(page, url) if whatif else None
    finally:
        ctx.close()
    return ready, chart, w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("env", nargs="*", help="NAME=VALUE for server B")
    ap.add_argument("--a-env", nargs="*", default=[], help="NAME=VALUE for server A")
    ap.add_argument("--b-root", type=Path, help="B runs this checkout's app.py (its own explorer package)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--whatif", action="store_true", help="also time What if opened next")
    ap.add_argument("--no-chart", action="store_true", help="open What if as soon as Home's map is drawn and idle "
                                                            "(as explorer bench does), not once its chart is drawn")
    args = ap.parse_args()
    env_a = dict(e.split("=", 1) for e in args.a_env)
    env_b = dict(e.split("=", 1) for e in args.env)
    script_b = ROOT / "app.py"
    if args.b_root:
        script_b = args.b_root / "app.py"
        env_b["PYTHONPATH"] = str(args.b_root) + os.pathsep + os.environ.get("PYTHONPATH", "")
    load = [round(os.getloadavg()[0], 2)]
    times: dict[str, list[float]] = {"import": [], "A": [], "B": [], "A_chart": [], "B_chart": [], "A_whatif": [],
                                     "B_whatif": []}
    _import_time_s()
    with chromium()() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for i in range(args.rounds):
                times["import"].append(_import_time_s())
                order = (("A", ROOT / "app.py", env_a), ("B", script_b, env_b))
                for name, script, env in order if i % 2 == 0 else order[::-1]:
                    r, c, w = cold(browser, script, env, args.whatif, not args.no_chart)
                    times[name].append(r)
                    if c is not None:
                        times[f"{name}_chart"].append(c)
                    if w is not None:
                        times[f"{name}_whatif"].append(w)
                print(f"round {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in times.items() if v), flush=True)
        finally:
            browser.close()
    load.append(round(os.getloadavg()[0], 2))
    ms = {k: dist([1000 * x for x in v]) for k, v in times.items() if v}
    imp = ms["import"]["median"]
    print(json.dumps({
        "A_env": env_a, "B_env": env_b, "B_root": str(args.b_root or ROOT), "load_avg_1m": load,
        "median_ms": {k: round(v["median"]) for k, v in ms.items()},
        "all_s": {k: [round(x, 2) for x in v] for k, v in times.items() if v},
        "A_vs_import": round(ratio(ms["A"]["median"], imp), 3), "B_vs_import": round(ratio(ms["B"]["median"], imp), 3),
        "B_to_A": round(ratio(ms["B"]["median"], ms["A"]["median"]), 3),
    }, indent=1))


if __name__ == "__main__":
    main()
