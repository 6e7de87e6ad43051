"""Server-side phases of a What-if scenario change, timed one by one in one process (no browser, no Streamlit).

    .venv/bin/python bench/whatif_phases.py [--city los-angeles] [--changes 12]

Starts from the city's opening preset and steps its start hour (as ``explorer bench`` does), so every change is
a cache miss, and times what the page runs for it: ``generate()``, the quantile summary, the headline, the map's
scenario payload, the two Plotly series figures and their JSON (what ``st.plotly_chart`` serialises). Prints
the CPU-time medians in ms as one JSON line. The Streamlit rerun itself (widgets, session state, deltas) is the
rest of ``bench/cpu_per_rerun.py``'s figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import defaultdict

import torch

from explorer.cities import load_city
from explorer.models.generator.api import generate, load_generator
from explorer.presets import presets_for
from explorer.render.mapdata import base_payload, scenario_payload
from explorer.render.scenario import Summary, headline_cards, peak_place, sensor_labels, series_figure


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--city", default="los-angeles")
    ap.add_argument("--changes", type=int, default=12)
    args = ap.parse_args()
    torch.set_num_threads(1)  # as the app does for small cities (explorer/ui/models.py)
    city = load_city(args.city)
    bundle = load_generator(city)
    base = base_payload(city)
    first = next((p for p in presets_for(city) if p.scenario.events), presets_for(city)[0]).scenario
    value_name = city.manifest.series.value_name
    times: dict[str, list[float]] = defaultdict(list)

    def timed(name, fn):
        t = time.process_time()
        out = fn()
        times[name].append(1000 * (time.process_time() - t))
        return out

    for i in range(args.changes + 1):
        scenario = first.model_copy(update={"start_hour": (first.start_hour + i) % 24})
        result = timed("generate", lambda s=scenario: generate(city, s, 64, 0, model=bundle))
        summary = timed("summary", lambda r=result: Summary.of(r))
        timed("headline", lambda r=result: (headline_cards(r, city), peak_place(r, city)))
        payload = timed("map_payload", lambda r=result, s=summary: scenario_payload(city, r, s, base, None))
        sensor = result.headline["peak_sensor"]
        figs = timed("chart_figures", lambda r=result, s=summary, se=sensor: (
            series_figure(r, s, None, value_name, "City-wide"),
            series_figure(r, s, se, value_name, sensor_labels(city)[se])))
        timed("chart_json", lambda f=figs: [x.to_json() for x in f])
        times["map_payload_kb"].append(payload.nbytes / 1000)
        times["chart_json_kb"].append(sum(len(x.to_json()) for x in figs) / 1000)
        if i == 0:  # warm-up
            times.clear()
    out = {k: round(statistics.median(v), 1) for k, v in times.items()}
    out |= {"changes": args.changes, "load_avg_1m": os.getloadavg()[0],
            "time_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
