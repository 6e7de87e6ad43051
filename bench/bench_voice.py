"""Parsing speed of Ask the city's offline parser on every evaluation set (issue 19: under 50 ms a request).

    .venv/bin/python bench/bench_voice.py [--repeat 3] [--json]

Per city: the start-up cost (importing the parser's libraries, building the gazetteer and calendar once per
server), then every request of every evaluation set parsed ``--repeat`` times (warm); prints median, p95 and max ms
per request and the p95 as a share of the 50 ms budget (below 1: met). Numbers depend on machine load: say it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time

BUDGET_MS = 50.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    import dateparser  # noqa: F401
    import text_to_num  # noqa: F401

    from explorer.voice.context import city_of, context
    from explorer.voice.evaluate import SETS, load_set, set_path
    from explorer.voice.parser import parse_offline

    out: dict[str, dict[str, float]] = {"imports_s": {"all": round(time.perf_counter() - t0, 3)}}
    for slug in ("melbourne", "los-angeles"):
        city = city_of(slug)
        t1 = time.perf_counter()
        context(city)
        build_s = time.perf_counter() - t1
        rows = [r for n in SETS if set_path(slug, n).is_file() for r in load_set(slug, set_path(slug, n))]
        ms: list[float] = []
        for _ in range(args.repeat):
            for r in rows:
                today = dt.date.fromisoformat(r.get("today", "2026-11-30"))
                t2 = time.perf_counter()
                parse_offline(r["text"], city, today)
                ms.append(1000 * (time.perf_counter() - t2))
        ms.sort()
        p95 = ms[int(0.95 * (len(ms) - 1))]
        out[slug] = {"requests": len(rows), "gazetteer_build_s": round(build_s, 3),
                     "median_ms": round(statistics.median(ms), 2), "p95_ms": round(p95, 2),
                     "max_ms": round(ms[-1], 2), "p95_over_budget": round(p95 / BUDGET_MS, 3)}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"imports {out['imports_s']['all']:.2f} s")
    for slug, d in out.items():
        if slug != "imports_s":
            print(f"{slug}: {d['requests']} requests x {args.repeat}; gazetteer {d['gazetteer_build_s']:.2f} s; "
                  f"median {d['median_ms']:.1f} ms, p95 {d['p95_ms']:.1f} ms, max {d['max_ms']:.1f} ms; "
                  f"p95 / {BUDGET_MS:.0f} ms budget = {d['p95_over_budget']:.2f}")


if __name__ == "__main__":
    main()
