"""Slider change -> updated map, in headless Chromium, against a trivial one-slider page in the same run.

    .venv/bin/python bench/bench_interaction.py [--repeats 15] [--json]

Prints the median and p95 latency of both, their ratio (target: the app within 1.5x of the trivial page) and the
websocket bytes per interaction. The measurement lives in ``explorer/bench/browser.py``;
``explorer bench --only interaction,payload --markdown docs/performance.md`` records it in the docs.
"""

from __future__ import annotations

import argparse
import json

from explorer.bench.browser import interaction_and_payload


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = interaction_and_payload(args.repeats)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    i, p = res["interaction"], res["payload"]
    t, a = i["trivial_page_ms"], i["whatif_map_hour_ms"]
    print(f"trivial one-slider page: median {t['median']:.0f} ms, p95 {t['p95']:.0f} ms")
    print(f"what-if map (hour slider): median {a['median']:.0f} ms, p95 {a['p95']:.0f} ms")
    print(f"ratio: median {i['ratio_median']:.2f}x, p95 {i['ratio_p95']:.2f}x (target <= {i['target_ratio']}x)")
    print(f"payload per new map hour: median {p['map_new_hour_bytes']['median'] / 1000:.0f} kB, "
          f"scenario change: median {p['scenario_change_bytes']['median'] / 1000:.0f} kB (target <= 1 MB)")


if __name__ == "__main__":
    main()
