"""Interleaved A/B of a server setting: two app servers (A: as configured, B: with extra environment variables),
one browser, the What-if map's Hour slider pressed on each page in turn, so both see the same machine load.

    .venv/bin/python bench/ab_server_env.py STREAMLIT_RUNNER_POST_SCRIPT_GC=false [--presses 12]

Prints median and p95 ms of A and B and the ratio B / A (below 1: the setting helps).
"""

from __future__ import annotations

import argparse
import json

from explorer.bench.browser import STAMP_JS, press_slider, wait_ready
from explorer.bench.common import CHROMIUM, CHROMIUM_FLAGS, checkout_file, chromium, dist, ratio, streamlit_server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("env", nargs="+", help="NAME=VALUE for server B")
    ap.add_argument("--presses", type=int, default=12, help="presses per page, in rounds of two")
    ap.add_argument("--slider", default="Hour", help="'Hour' (map fragment) or 'Start hour' (full rerun)")
    args = ap.parse_args()
    extra = dict(e.split("=", 1) for e in args.env)
    app = checkout_file("app.py")
    times: dict[str, list[float]] = {"A": [], "B": []}
    with streamlit_server(app) as (_, url_a), streamlit_server(app, extra_env=extra) as (_, url_b):
        with chromium()() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            pages = {}
            for name, url in (("A", url_a), ("B", url_b)):
                pages[name] = browser.new_page(viewport={"width": 1400, "height": 1000})
                pages[name].goto(f"{url}/scenario?city=los-angeles")
                wait_ready(pages[name])
            for _ in range(max(1, args.presses // 2)):
                for name in ("A", "B"):
                    pages[name].bring_to_front()  # a background tab may not draw
                    ms, _, _ = press_slider(pages[name], args.slider, STAMP_JS, 2)
                    times[name] += ms
            browser.close()
    a, b = dist(times["A"]), dist(times["B"])
    print(json.dumps({"B_env": extra, "slider": args.slider, "A_ms": a, "B_ms": b,
                      "ratio_median_B_to_A": ratio(b["median"], a["median"]),
                      "ratio_p95_B_to_A": ratio(b["p95"], a["p95"])}, indent=2))


if __name__ == "__main__":
    main()
