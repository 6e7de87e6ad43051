"""Surges learned from the history: detection, labels and the event-intensity field.

A surge is a run of consecutive hours at one sensor where the reading departs from its seasonal
profile (same sensor, day type and hour) by more than ``z`` robust standard deviations **and** by a
practically relevant amount: counts at least ``min_rel`` above the profile (as a log ratio), speeds
at least ``min_rel`` slower (as a fraction). Each run is labelled with its place (sensor), start,
duration and size (mean deviation over the run, in event units: log ratio for counts, fraction slower
for speeds; also given in native units). The event-intensity field is sensors x time, holding each
run's size over its hours and 0 elsewhere; it is what the generator is conditioned on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from explorer.cities.calendar import HolidayCalendar
from explorer.cities.manifest import Kind
from explorer.models.generator.data import (
    Prepared,
    day_type,
    deviation,
    forward,
    hourly,
    inverse,
    profile,
)

EVENT_COLUMNS = ["sensor_id", "sensor", "start", "duration_hours", "size", "size_native", "peak_native"]
DEFAULT_Z = 3.0
DEFAULT_MIN_REL = {"counts": float(np.log(1.5)), "speed": 0.2}


def label_runs(
    dev: np.ndarray,
    r: np.ndarray,
    mask: np.ndarray,
    domain: Kind,
    z: float = DEFAULT_Z,
    min_rel: float | None = None,
    max_hours: int = 24,
) -> list[tuple[int, int, int, float]]:
    """Runs of surge hours per sensor on a flat timeline (runs longer than ``max_hours`` are level
    shifts or sensor faults, not events, and are left out).

    dev, r, mask: (T, N) deviation in event units, standardised residual, observed flag.
    Returns (sensor, start index, length, mean deviation) per run.
    """
    min_rel = DEFAULT_MIN_REL[domain] if min_rel is None else min_rel
    signed_r = r if domain == "counts" else -r
    hot = mask & (signed_r > z) & (dev > min_rel)  # (T, N)
    out: list[tuple[int, int, int, float]] = []
    pad = np.zeros((1, hot.shape[1]), bool)
    edges = np.diff(np.vstack([pad, hot, pad]).astype(np.int8), axis=0)  # (T+1, N)
    for n in range(hot.shape[1]):
        starts = np.flatnonzero(edges[:, n] == 1)
        ends = np.flatnonzero(edges[:, n] == -1)
        for s, e in zip(starts, ends, strict=True):
            if e - s <= max_hours:
                out.append((n, int(s), int(e - s), float(dev[s:e, n].mean())))
    return out


def intensity_field(runs: list[tuple[int, int, int, float]], shape: tuple[int, int]) -> np.ndarray:
    """(T, N) event-intensity field: each run's size over its hours."""
    f = np.zeros(shape, np.float32)
    for n, s, length, size in runs:
        f[s : s + length, n] = size
    return f


def _table(
    runs: list[tuple[int, int, int, float]],
    index: pd.DatetimeIndex,
    ids: list[str],
    native: np.ndarray,
    base: np.ndarray,
    domain: Kind,
) -> pd.DataFrame:
    rows = []
    for n, s, length, size in runs:
        y, b = native[s : s + length, n], base[s : s + length, n]
        if domain == "counts":
            size_native, peak = float(np.nanmean(y - b)), float(np.nanmax(y - b))
        else:
            size_native = float(100 * np.nanmean((b - y) / np.maximum(b, 1.0)))
            peak = float(100 * np.nanmax((b - y) / np.maximum(b, 1.0)))
        rows.append((ids[n], n, index[s], length, size, size_native, peak))
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)


def detect_surges(
    series: pd.DataFrame,
    domain: Kind,
    holidays: HolidayCalendar | None = None,
    z: float = DEFAULT_Z,
    min_rel: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Detect surges in a wide series (native units) against its own seasonal profile.

    Returns (events table, intensity field as a wide hourly DataFrame). ``size_native`` is the mean
    extra people per hour (counts) or the mean percent slower (speeds).
    """
    h = hourly(series)
    days = len(h) // 24
    h = h.iloc[: days * 24]
    y = forward(h.to_numpy(np.float32), domain).reshape(days, 24, -1)
    dates = h.index[::24]
    hol = (holidays or HolidayCalendar()).flags(dates)
    dtype = day_type(dates.day_of_week.to_numpy(), hol)
    mu, sd = profile(y, dtype, 0.25 if domain == "counts" else 1.0)
    return _detect(y, mu[dtype], sd[dtype], domain, h.index, [str(c) for c in h.columns], z, min_rel)


def _detect(
    y: np.ndarray,
    mu_d: np.ndarray,
    sd_d: np.ndarray,
    domain: Kind,
    index: pd.DatetimeIndex,
    ids: list[str],
    z: float,
    min_rel: float | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = y.shape[2]
    mask = ~np.isnan(y)
    r = np.nan_to_num((y - mu_d) / sd_d)
    dev = np.nan_to_num(deviation(r, mu_d, sd_d, domain))

    def flat(a: np.ndarray) -> np.ndarray:
        return a.reshape(-1, n)

    runs = label_runs(flat(dev), flat(r), flat(mask), domain, z, min_rel)
    field = intensity_field(runs, (len(index), n))
    table = _table(runs, index, ids, inverse(flat(y), domain), inverse(flat(mu_d), domain), domain)
    return table, pd.DataFrame(field, index=index, columns=ids)


def surges_from_prepared(prep: Prepared, z: float = DEFAULT_Z, min_rel: float | None = None) -> Any:
    """Surges of a prepared city against its training-split profile: (table, field (D, 24, N)). Sensors with
    (almost) no readings in the training split have only a placeholder profile, against which every reading
    would look like a surge: none are labelled there."""
    index = pd.date_range(pd.Timestamp(prep.dates[0]), periods=len(prep.dates) * 24, freq="1h")
    y = np.where(prep.has_history[None, None, :], prep.y, np.nan)
    table, field = _detect(
        y, prep.mu[prep.dtype], prep.sd[prep.dtype], prep.view.domain, index, prep.view.sensor_ids, z, min_rel
    )
    return table, field.to_numpy(np.float32).reshape(prep.y.shape)
