"""Latency of ``generate()``: 64 samples (baseline + scenario) for a city, on CPU.

    python bench/bench_generate.py [--city los-angeles] [--samples 64] [--calls 50] [--threads N]

Prints P50 / P90 / max in ms and the ratio to the 100 ms budget. Loading the model is excluded
(the app loads it once); the call includes validation, the event field, sampling and the summaries.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from explorer.models.generator.api import generate, load_generator
from explorer.scenarios import Scenario

BUDGET_MS = 100.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--city", default="los-angeles")
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_generator(args.city)
    view = model.view
    speed = view.domain == "speed"
    event = {
        "place": {"sensor_id": view.sensor_ids[len(view.sensor_ids) // 2]},
        "magnitude": 30 if speed else 2000,
        "unit": "percent_slower" if speed else "people",
        "start_offset_hours": 2,
        "duration_hours": 3,
        "reach_km": 2.0 if speed else 0.3,
    }
    for label, events in (("one event", [event]), ("no event", [])):
        sc = Scenario(city=view.slug, day={"day_of_week": 4}, start_hour=16, horizon_hours=8, events=events)
        generate(view, sc, n_samples=args.samples, seed=0, model=model)  # warm-up
        ts = []
        for i in range(args.calls):
            t = time.perf_counter()
            generate(view, sc, n_samples=args.samples, seed=i, model=model)
            ts.append(1000 * (time.perf_counter() - t))
        p50, p90, mx = np.percentile(ts, 50), np.percentile(ts, 90), max(ts)
        print(
            f"{view.slug} {label}: {args.samples} samples, threads={torch.get_num_threads()}: "
            f"P50 {p50:.1f} ms, P90 {p90:.1f} ms, max {mx:.1f} ms; P50 / budget {p50 / BUDGET_MS:.2f}"
        )


if __name__ == "__main__":
    main()
