"""Preset scenarios of a city: the workshop tour and sensible starting points.

A city folder may hold ``presets.json`` (a list of ``{"title", "story", "scenario"}``; the scenario's ``city`` may
be left out). Otherwise the presets are derived from the city's own history:

* **a typical weekday**: the weekday whose mean day is the median of Monday-Friday, from two hours before its
  morning peak (no event: what the model expects);
* **its largest surges**: the biggest runs of hours where one sensor read far above its usual level for that
  day type and hour (counts: at least twice the median; speeds: at least 30 % slower), replayed on their
  real dates as an event of the measured size, place, duration and reach;
* **a public holiday** from the city's calendar inside the history (no event).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from explorer.errors import CityDataError
from explorer.geo import great_circle_km
from explorer.scenarios.schema import Scenario, ScenarioError, validate_for_city

if TYPE_CHECKING:
    from explorer.cities import City

PRESETS_FILE = "presets.json"
MAX_PRESETS_BYTES = 200_000
SURGES = 2  # surge presets derived from the history
MIN_RUN_HOURS = 2
SURGE_RATIO = 2.0  # counts: at least twice the usual
SURGE_SLOWER = 0.3  # speeds: at least 30 % slower than usual
MIN_USUAL_COUNT = 20.0  # counts: ignore sensors/hours where the usual count is tiny (ratios explode)


@dataclass(frozen=True)
class Preset:
    title: str
    story: str
    scenario: Scenario


_CACHE: dict[tuple[str, str, float], list[Preset]] = {}
_LOCK = threading.Lock()


def presets_for(city: City | str) -> list[Preset]:
    """The city's presets: its ``presets.json`` when there is one, else derived from its history.

    ``city``: a loaded City (preferred) or a slug (loaded once per process). Cached per city folder, data hash
    and presets file.
    """
    if isinstance(city, str):
        city = _load(city)
    path = city.folder / PRESETS_FILE
    key = (str(city.folder), city.data_hash, path.stat().st_mtime if path.is_file() else 0.0)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    presets = read_presets_file(path, city) if path.is_file() else derive_presets(city)
    with _LOCK:
        _CACHE[key] = presets
    return presets


@lru_cache(maxsize=4)
def _load(slug: str) -> City:
    from explorer.cities import load_city

    return load_city(slug)


def read_presets_file(path: Path, city: City) -> list[Preset]:
    """Validated presets from a ``presets.json``; CityDataError names the file, the entry and the fix."""
    if path.stat().st_size > MAX_PRESETS_BYTES:
        raise CityDataError("the presets file is over 200 kB", where=str(path), fix="keep a short tour (2-10)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CityDataError(f"the presets file is not valid JSON ({exc})", where=str(path),
                            fix="correct the JSON syntax") from None
    if not isinstance(raw, list) or not raw:
        raise CityDataError("the presets file must hold a non-empty list of presets", where=str(path),
                            fix='write [{"title": ..., "story": ..., "scenario": {...}}, ...]')
    out = []
    for i, entry in enumerate(raw):
        where = f"{path} (preset {i + 1})"
        if not isinstance(entry, dict) or not {"title", "scenario"} <= set(entry) or set(entry) - {
                "title", "story", "scenario"}:
            raise CityDataError("a preset needs 'title', 'scenario' and optionally 'story', nothing else",
                                where=where, fix='write {"title": ..., "story": ..., "scenario": {...}}')
        sc = entry["scenario"]
        if not isinstance(sc, dict):
            raise CityDataError("'scenario' must be an object", where=where, fix="see docs: a Scenario's JSON")
        if sc.get("city", city.slug) != city.slug:
            raise CityDataError(f"the scenario is for city '{sc['city']}', not '{city.slug}'", where=where,
                                fix="remove 'city' from the scenario (the folder's city is used)")
        try:
            scenario = Scenario.model_validate({**sc, "city": city.slug})
            validate_for_city(scenario, city)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise CityDataError(f"the scenario is invalid ({loc}: {err['msg']})", where=where,
                                fix="correct that field") from None
        except ScenarioError as exc:
            raise CityDataError(f"the scenario does not fit the city ({exc})", where=where,
                                fix="use one of the city's sensors or a place near them") from None
        out.append(Preset(str(entry["title"])[:120], str(entry.get("story", ""))[:600], scenario))
    return out


# ---------------------------------------------------------------- derived from the history


def _hourly(series: pd.DataFrame) -> pd.DataFrame:
    step = series.index[1] - series.index[0]
    return series.resample("1h").mean() if step < pd.Timedelta("1h") else series


def _clock(hour: int) -> str:
    return f"{hour % 12 or 12} {'am' if hour % 24 < 12 else 'pm'}"


def _scenario(city: City, **kw: Any) -> Scenario:
    return Scenario.model_validate({"city": city.slug, **kw})


def _typical_weekday(city: City, x: pd.DataFrame, speeds: bool) -> Preset:
    """The weekday whose mean level is the median of Monday-Friday, from two hours before its morning peak."""
    level = x.mean(axis=1)
    by_dow = level.groupby(level.index.day_of_week).mean().reindex(range(7))
    weekdays = by_dow.iloc[:5].dropna()
    dow = int((weekdays - weekdays.median()).abs().idxmin()) if len(weekdays) else 2
    day = level[level.index.day_of_week == dow]
    prof = day.groupby(day.index.hour).mean().reindex(range(24))
    act = (-prof if speeds else prof).to_numpy()
    morning = act[5:12]  # the morning peak (busiest, or slowest, hour from 5 to 11 am)
    rise = 5 + int(np.nanargmax(morning)) if np.isfinite(morning).any() else 8
    start = max(0, rise - 2)
    name = dt.date(2024, 1, 1 + dow).strftime("%A")
    return Preset(f"A typical {name}", f"An ordinary {name} from {_clock(start)} with no event: what the model "
                  f"expects from the city's history.",
                  _scenario(city, day={"day_of_week": dow}, start_hour=start, horizon_hours=14))


def _runs(hot: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sensor, start, end) of every run of True along time in a (T, N) array, end exclusive."""
    pad = np.zeros((1, hot.shape[1]), bool)
    edges = np.diff(np.vstack([pad, hot, pad]).astype(np.int8), axis=0)
    st_t, st_n = np.nonzero(edges == 1)
    en_t, en_n = np.nonzero(edges == -1)
    a, b = np.lexsort((st_t, st_n)), np.lexsort((en_t, en_n))
    return st_n[a], st_t[a], en_t[b]


def _surges(city: City, x: pd.DataFrame, speeds: bool) -> list[Preset]:
    """The largest runs of hours far from the usual level at one sensor, as replayable events."""
    idx = x.index
    days = pd.Index(idx.normalize().date)
    hol = pd.Series(city.holidays.flags(days.unique()), index=days.unique()).reindex(days).to_numpy()
    dtype = np.where(hol, 6, idx.day_of_week)
    key = dtype * 24 + idx.hour
    usual = x.groupby(key).median().reindex(key).to_numpy()
    y = x.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        if speeds:
            size = (usual - y) / usual  # fraction slower
            hot = size >= SURGE_SLOWER
            weight = size
        else:
            size = y / usual
            hot = (size >= SURGE_RATIO) & (usual >= MIN_USUAL_COUNT)
            weight = y - usual  # extra people
    hot &= np.isfinite(size)
    sensors, starts, ends = _runs(hot)
    long = ends - starts >= MIN_RUN_HOURS
    sensors, starts, ends = sensors[long], starts[long], ends[long]
    if not len(sensors):
        return []
    w = np.where(hot, weight, 0.0)
    cum = np.vstack([np.zeros((1, w.shape[1])), np.cumsum(w, axis=0)])
    score = cum[ends, sensors] - cum[starts, sensors]
    lat, lon = city.sensors.geometry.y.to_numpy(), city.sensors.geometry.x.to_numpy()
    out: list[Preset] = []
    used_days: set[dt.date] = set()
    unit_word = city.manifest.series.value_name.lower()
    for k in np.argsort(-score):
        n, a, b = int(sensors[k]), int(starts[k]), int(ends[k])
        t0 = idx[a]
        if t0.date() in used_days:
            continue
        used_days.add(t0.date())
        hours = min(b - a, 12)
        lead = min(3, t0.hour)
        start = t0.hour - lead
        together = hot[a:b].mean(axis=0) >= 0.5
        d = great_circle_km(lat[n], lon[n], lat[together], lon[together])
        reach = float(np.clip(d.max() if len(d) else 0.3, 0.3, 3.0))
        mean_size = float(np.nanmean(size[a:b, n]))
        if speeds:
            magnitude, unit = float(np.clip(round(100 * mean_size), 5, 90)), "percent_slower"
            told = f"{magnitude:.0f} % slower than usual"
        else:
            magnitude, unit = float(np.clip(5 * round(20 * (mean_size - 1)), 10, 1000)), "percent"
            told = f"{mean_size:.1f} times the usual {unit_word}"
            if magnitude == 1000:
                told += " (replayed at the largest event the app takes, +1000 %)"
        label = str(city.sensors["where"].iloc[n] if "where" in city.sensors else city.sensors["label"].iloc[n])
        holiday = city.holidays.name(t0.date())
        day = f"{t0:%A} {t0.day} {t0:%B %Y}" + (f" ({holiday})" if holiday else "")
        scenario = _scenario(city, day={"date": t0.date().isoformat(), "holiday": holiday is not None},
                             start_hour=start, horizon_hours=min(24, lead + hours + 3),
                             events=[{"place": {"sensor_id": str(city.sensors["sensor_id"].iloc[n])},
                                      "magnitude": magnitude, "unit": unit, "start_offset_hours": lead,
                                      "duration_hours": hours, "reach_km": round(reach, 1)}])
        rank = "The largest" if not out else "Another large"
        out.append(Preset(f"{label}, {t0:%a %d %b %Y}",
                          f"{rank} surge in the history: on {day}, {label} read {told} for {b - a} hours from "
                          f"{_clock(t0.hour)}. Replay it as a {hours}-hour event and see how far it spreads.",
                          scenario))
        if len(out) == SURGES:
            break
    return out


def _holiday(city: City, x: pd.DataFrame) -> list[Preset]:
    """The latest public holiday inside the history that has readings (no event)."""
    days = city.holidays.holidays_between(x.index[0], x.index[-1])
    daily = x.notna().any(axis=1).groupby(x.index.date).any()
    for day, name in sorted(days.items(), reverse=True):
        if bool(daily.get(day, False)):
            return [Preset(f"{name} {day.year}", f"{name}, {day:%A %d %B %Y}, a public holiday: how does the city "
                           "move on a day off? No event.",
                           _scenario(city, day={"date": day.isoformat(), "holiday": True}, start_hour=8,
                                     horizon_hours=14))]
    return []


def derive_presets(city: City) -> list[Preset]:
    """A typical weekday, the largest surges and a public holiday, from the city's own history."""
    x = _hourly(city.series)
    speeds = not city.manifest.series.counts
    return [_typical_weekday(city, x, speeds), *_surges(city, x, speeds), *_holiday(city, x)]
