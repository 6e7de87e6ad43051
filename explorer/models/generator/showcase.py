"""One real held-out event beside what the generator makes of its origin alone (for the Model card)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.models.generator.api import GeneratorBundle, generate
from explorer.models.generator.backtest_methods import BacktestSettings, cases, profile_window
from explorer.models.generator.data import inverse, prepare
from explorer.models.generator.episodes import episodes


@dataclass
class Showcase:
    """A held-out episode: the request made of it, the real change and the generated one (native units)."""

    title: str
    scenario: Any  # the Scenario a planner would have asked
    hours: list[str]  # labels of the window's hours
    sensor_ids: list[str]
    lat: np.ndarray
    lon: np.ndarray
    origin: int
    real: np.ndarray  # (24, N) reading minus the seasonal profile (NaN where missing)
    generated: np.ndarray  # (3, 24, N) P10 / P50 / P90 of scenario minus baseline
    footprint: list[int]  # other sensors the real episode reached
    unit: str


def showcase(bundle: GeneratorBundle, max_hours: int = 6, hours: range = range(8, 23)) -> Showcase | None:
    """The held-out episode that reached the most sensors (origin with history, at most ``max_hours`` long,
    starting in ``hours`` — when planners' events happen; any hour if none does), replayed from its origin with
    64 samples; None when the test days hold no episode."""
    prep = prepare(bundle.view)
    eps, runs = episodes(prep)
    s = BacktestSettings()
    pool = [c for c in cases(prep, "test", s, eps, runs) if c.scenario.events[0].duration_hours <= max_hours]
    pool = [c for c in pool if (c.w0 + s.pre) % 24 in hours] or pool
    if not pool:
        return None
    case = max(pool, key=lambda c: (len(c.sensors), -c.w0))
    res = generate(bundle.view, case.scenario, n_samples=64, seed=0, model=bundle)
    t = np.arange(case.w0, case.w0 + 24)
    y = prep.y.reshape(-1, prep.n)[t]
    mu, _ = profile_window(prep, case.w0)
    real = inverse(y, prep.view.domain) - inverse(mu, prep.view.domain)
    real = np.where(np.isnan(y) | ~prep.has_history[None], np.nan, real)
    ev = case.scenario.events[0]
    v = bundle.view
    when = res.time_labels[ev.start_offset_hours]
    size = f"{ev.magnitude:,.0f} extra people per hour" if ev.unit == "people" else f"{ev.magnitude:.0f} % slower"
    return Showcase(
        title=f"{size} at sensor {v.sensor_ids[case.origin]}, {when}, for {ev.duration_hours} h",
        scenario=case.scenario, hours=res.time_labels, sensor_ids=list(v.sensor_ids), lat=v.lat, lon=v.lon,
        origin=case.origin, real=real.astype(np.float32), generated=res.quantiles("difference"),
        footprint=[int(n) for n in case.sensors if n != case.origin], unit=v.unit,
    )
