"""Generation cost: ``generate()`` with 64 samples on the bundled city and on synthetic cities of growing size.

Every figure comes from one run: samples per second per size, the time ratio to the smallest case, the
fitted exponent of time against sensors (1 = linear), the 64 x 10,000 x 24 case against its 1 s target and
the peak resident memory of the calls. Synthetic cities come from ``explorer.cities.synthetic`` (built
once under artifacts/synthetic-cities/, not timed). Loading the model is excluded (the app loads it once).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from explorer.bench.common import dist, peak_rss, ratio
from explorer.models.generator.api import GeneratorBundle, generate, load_generator
from explorer.scenarios import Scenario

SIZES = (200, 2_000, 10_000, 50_000)
QUICK_SIZES = (200, 2_000)
SAMPLES = 64
BUDGET_MS = 100.0  # the bundled city: one What-if rerun's generator call
TARGET_10K_MS = 1000.0  # 64 samples x 10,000 sensors x 24 steps on 2 cores


def scenario_for(bundle: GeneratorBundle, horizon: int = 24) -> Scenario:
    """A Friday 16:00 scenario with one event at the middle sensor, sized for the city's domain."""
    view = bundle.view
    speed = view.domain == "speed"
    event = {
        "place": {"sensor_id": view.sensor_ids[len(view.sensor_ids) // 2]},
        "magnitude": 30 if speed else 2000,
        "unit": "percent_slower" if speed else "people",
        "start_offset_hours": 2,
        "duration_hours": 3,
        "reach_km": 2.0 if speed else 0.3,
    }
    return Scenario(city=view.slug, day={"day_of_week": 4}, start_hour=16, horizon_hours=horizon, events=[event])


def time_generate(bundle: GeneratorBundle, scenario: Scenario, calls: int, n_samples: int = SAMPLES) -> dict:
    """Warm up once, then time ``calls`` calls (ms distribution) and the peak memory over them."""
    generate(bundle.view, scenario, n_samples=n_samples, seed=0, model=bundle)
    gc.collect()
    ts = []
    with peak_rss() as mem:
        for i in range(calls):
            t = time.perf_counter()
            generate(bundle.view, scenario, n_samples=n_samples, seed=i + 1, model=bundle)
            ts.append(1000 * (time.perf_counter() - t))
    d = dist(ts)
    return {"ms": d, "samples_per_s": ratio(n_samples * 1000, d["median"]),
            "peak_rss_mb": mem["peak_mb"], "rss_growth_mb": mem["growth_mb"]}


def fitted_exponent(sizes: Sequence[int], ms: Sequence[float]) -> float:
    """Slope of log(time) against log(sensors): 1 is linear growth, 2 quadratic."""
    if len(sizes) < 2:
        return float("nan")
    return float(np.polyfit(np.log(sizes), np.log(ms), 1)[0])


def run(sizes: Sequence[int] = SIZES, calls: int = 10, bundled: str | None = "los-angeles", seed: int = 0) -> dict:
    """The generation section: the bundled city against its 100 ms budget, then each synthetic size."""
    out: dict[str, Any] = {"samples": SAMPLES, "threads": torch.get_num_threads()}
    if bundled:
        b = load_generator(bundled)
        res = time_generate(b, scenario_for(b, horizon=8), calls=max(calls, 5))
        out["bundled"] = {"city": bundled, "sensors": len(b.view.sensor_ids), "horizon_hours": 8, **res,
                          "ratio_median_to_budget": ratio(res["ms"]["median"], BUDGET_MS),
                          "budget_ms": BUDGET_MS}  # fmt: skip
        # torch's intra-op threads spin-wait for each other: on a shared, loaded machine one thread can win
        default_threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            one = time_generate(b, scenario_for(b, horizon=8), calls=max(calls, 5))
        finally:
            torch.set_num_threads(default_threads)
        out["bundled"]["one_thread_ms"] = one["ms"]
        out["bundled"]["ratio_default_to_one_thread"] = ratio(res["ms"]["median"], one["ms"]["median"])
        del b
    from explorer.cities.synthetic import synthetic_generation_case

    out["synthetic_source"] = "explorer.cities.synthetic (resampled from los-angeles, derived generator, kNN graph)"
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for n in sizes:
        try:
            _, bundle = synthetic_generation_case(n, seed)
        except MemoryError as exc:
            skipped[str(n)] = f"out of memory: {exc}"
            continue
        reps = max(2, calls if n <= 2_000 else calls // 3 if n <= 10_000 else calls // 5)
        rows.append({"sensors": n, "horizon_hours": 24, **time_generate(bundle, scenario_for(bundle), reps)})
        del bundle
        gc.collect()
    if rows:
        ref = rows[0]["ms"]["median"]
        for r in rows:
            r["time_ratio_to_smallest"] = ratio(r["ms"]["median"], ref)
            r["per_sensor_us"] = 1000 * r["ms"]["median"] / r["sensors"]
    ns = [r["sensors"] for r in rows]
    mss = [r["ms"]["median"] for r in rows]
    out["sizes"] = rows
    out["skipped_sizes"] = skipped
    out["exponent_all"] = fitted_exponent(ns, mss)
    big = [(n, m) for n, m in zip(ns, mss, strict=True) if n >= 2_000]  # fixed overheads dominate 200 sensors
    out["exponent_2k_up"] = fitted_exponent([n for n, _ in big], [m for _, m in big]) if len(big) >= 2 else None
    ten_k = next((r for r in rows if r["sensors"] == 10_000), None)
    if ten_k:
        out["ms_64x10k_24"] = ten_k["ms"]["median"]
        out["ratio_10k_to_target"] = ratio(ten_k["ms"]["median"], TARGET_10K_MS)
    return out
