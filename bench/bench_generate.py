"""Latency of ``generate()``: 64 samples (scenario with one event) for a bundled city, on CPU.

    python bench/bench_generate.py [--city los-angeles] [--samples 64] [--calls 50] [--threads N]

Prints P50 / P95 / max in ms and the ratio to the 100 ms budget. Loading the model is excluded (the app loads it
once). The measurement lives in ``explorer/bench/generation.py``; ``explorer bench --only generation`` runs it
with the synthetic-city scaling.
"""

from __future__ import annotations

import argparse

import torch

from explorer.bench.generation import BUDGET_MS, scenario_for, time_generate
from explorer.models.generator.api import load_generator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--city", default="los-angeles")
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--horizon", type=int, default=8)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    bundle = load_generator(args.city)
    res = time_generate(bundle, scenario_for(bundle, args.horizon), args.calls, args.samples)
    ms = res["ms"]
    print(f"{args.city}: {args.samples} samples, {args.horizon} h, threads={torch.get_num_threads()}: "
          f"P50 {ms['median']:.1f} ms, P95 {ms['p95']:.1f} ms, max {ms['max']:.1f} ms; "
          f"P50 / budget {ms['median'] / BUDGET_MS:.2f}; peak RSS {res['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
