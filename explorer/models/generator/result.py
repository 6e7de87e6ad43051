"""A generated scenario: its samples, their quantiles and the headline statistics a planner reads first."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from explorer.cities.manifest import Kind
from explorer.scenarios.schema import Event, Scenario

QUANTILES = (0.1, 0.5, 0.9)


@dataclass
class ScenarioResult:
    """Samples and summaries of one scenario (values in the series' native units). Treat it as read-only:
    summaries are computed once and kept."""

    scenario: Scenario
    city: str
    domain: Kind
    unit: str
    sensor_ids: list[str]
    times: pd.DatetimeIndex  # (H,) real timestamps when the scenario has a date, else on a reference week of
    # 2000 (Monday 2000-01-03): for display use ``time_labels``
    baseline: np.ndarray  # (S, H, N) samples without the events
    scenario_samples: np.ndarray  # (S, H, N) same noise, with the events
    event_field: np.ndarray  # (H, N) requested size at the events' origins, event units (log ratio / fraction slower)
    seed: int
    elapsed_ms: float
    headline: dict[str, Any] = field(default_factory=dict)
    sensors_without_history: list[str] = field(default_factory=list)  # values there are placeholders
    changed: np.ndarray | None = None  # sensor indices where scenario may differ from baseline (None: any)
    _quantiles: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def time_labels(self) -> list[str]:
        """Each hour as the scenario's day and clock time: 'Wed 31 Dec 2014 18:00' for a dated scenario, else
        'Saturday 18:00' (``times`` of an undated scenario sit on a reference week of 2000; never show them)."""
        fmt = "%a %d %b %Y %H:%M" if self.scenario.day.date is not None else "%A %H:%M"
        return [t.strftime(fmt) for t in self.times]

    @property
    def changed_idx(self) -> np.ndarray:
        """Indices of the sensors where the scenario can differ from its baseline."""
        return np.arange(len(self.sensor_ids)) if self.changed is None else self.changed

    @property
    def difference(self) -> np.ndarray:
        """(S, H, N) scenario minus baseline, per sample (same noise)."""
        if self.changed is None:
            return self.scenario_samples - self.baseline
        d = np.zeros_like(self.baseline)
        c = self.changed
        d[:, :, c] = self.scenario_samples[:, :, c] - self.baseline[:, :, c]
        return d

    def quantiles(self, which: str = "scenario") -> np.ndarray:
        """(3, H, N) P10 / P50 / P90 of 'baseline', 'scenario' or 'difference' (computed once)."""
        if which not in ("baseline", "scenario", "difference"):
            raise ValueError(f"which must be baseline, scenario or difference, not {which!r}")
        if which not in self._quantiles:
            self._quantiles[which] = self._compute_quantiles(which)
        return self._quantiles[which]

    def _compute_quantiles(self, which: str) -> np.ndarray:
        c = self.changed
        if c is None:
            arr = self.difference if which == "difference" else (
                self.baseline if which == "baseline" else self.scenario_samples)
            return np.quantile(arr, QUANTILES, axis=0).astype(np.float32)
        if which == "baseline":
            return np.quantile(self.baseline, QUANTILES, axis=0).astype(np.float32)
        # outside the changed sensors the scenario is the baseline and the difference is 0
        q = self.quantiles("baseline").copy() if which == "scenario" else np.zeros_like(self.quantiles("baseline"))
        part = self.scenario_samples[:, :, c]
        if which == "difference":
            part = part - self.baseline[:, :, c]
        q[:, :, c] = np.quantile(part, QUANTILES, axis=0)
        return q

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per sensor x hour with P10/P50/P90 of baseline, scenario and difference."""
        h, n = len(self.times), len(self.sensor_ids)
        cols: dict[str, Any] = {
            "time": np.repeat(self.times.to_numpy(), n),
            "sensor_id": np.tile(np.array(self.sensor_ids), h),
        }
        for which in ("baseline", "scenario", "difference"):
            q = self.quantiles(which)
            for j, name in enumerate(("p10", "p50", "p90")):
                cols[f"{which}_{name}"] = q[j].reshape(-1).astype(np.float32)
        return pd.DataFrame(cols)


def _median0(a: np.ndarray) -> np.ndarray:
    """Median over the first axis (a sort is several times faster than np.median here)."""
    s = np.sort(a, axis=0)
    n = len(s)
    return 0.5 * (s[(n - 1) // 2] + s[n // 2])


def headline(res: ScenarioResult) -> dict[str, Any]:
    """Peak change and where, sensors affected, extra pedestrian-hours or vehicle delay. Computed on the
    sensors the events can change (elsewhere the difference is 0)."""
    c = res.changed_idx if len(res.changed_idx) else np.array([0])  # no events: all zero, peak at the first
    base, scen = res.baseline[:, :, c], res.scenario_samples[:, :, c]
    diff = scen - base
    d50 = _median0(diff)  # (H, M)
    b50 = _median0(base)
    out: dict[str, Any] = {"unit": res.unit}
    if res.domain == "counts":
        t, k = np.unravel_index(int(np.argmax(d50)), d50.shape)
        affected = (d50 >= np.maximum(10.0, 0.1 * b50)).any(0)
        tot = diff.sum(axis=(1, 2), dtype=np.float64)  # (S,)
        out.update(
            peak_change=float(d50[t, k]),
            peak_change_percent=float(100 * d50[t, k] / max(b50[t, k], 1.0)),
            extra_pedestrian_hours_p10_p50_p90=[float(x) for x in np.quantile(tot, QUANTILES)],
        )
    else:
        slower = -d50
        t, k = np.unravel_index(int(np.argmax(slower)), slower.shape)
        affected = (slower >= np.maximum(2.0, 0.05 * b50)).any(0)
        # extra minutes to drive one mile past a sensor, summed over sensor-hours (per sample)
        delay = 60.0 * (1.0 / np.maximum(scen, 3.0) - 1.0 / np.maximum(base, 3.0))
        tot = delay.sum(axis=(1, 2), dtype=np.float64)
        out.update(
            peak_change=float(d50[t, k]),
            peak_change_percent=float(100 * d50[t, k] / max(b50[t, k], 1.0)),
            delay_min_per_mile_sensor_hours_p10_p50_p90=[float(x) for x in np.quantile(tot, QUANTILES)],
        )
    n = int(c[k])
    hit = np.sort(c[affected])
    out.update(
        peak_sensor=res.sensor_ids[n],
        peak_time=res.time_labels[t],
        sensors_affected=len(hit),
        affected_sensor_ids=[res.sensor_ids[i] for i in hit],
    )
    return out


def generated_size(res: ScenarioResult, ev: Event, p: int) -> float:
    """The event's generated size at sensor index ``p``, in the event's unit: the median over samples of the
    scenario-minus-baseline change averaged over the event's hours (extra people, percent more, percent slower)."""
    t = slice(ev.start_offset_hours, ev.start_offset_hours + ev.duration_hours)
    b = res.baseline[:, t, p].mean(1)
    s = res.scenario_samples[:, t, p].mean(1)
    if ev.unit == "people":
        return float(np.median(s - b))
    if ev.unit == "percent":
        return float(np.median(100 * (s / np.maximum(b, 1e-3) - 1)))
    return float(np.median(100 * (1 - s / np.maximum(b, 1e-3))))
