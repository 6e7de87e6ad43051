"""The two halves of a backtest's inputs: held-out episodes as a planner's requests (:func:`cases`, with the real
window each is scored on) and the event responses compared with the model's (:mod:`explorer.models.generator.backtest`
runs and scores them): the request painted around its place, the real deviation of a window, the most similar past
surge transplanted (:class:`Analogues`) and the real outcome as the ceiling."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.geo import great_circle_km
from explorer.models.generator.data import Prepared, deviation, inverse
from explorer.models.generator.episodes import episodes
from explorer.scenarios.schema import MAX_REACH_KM, Scenario


@dataclass
class BacktestSettings:
    """Sizes of one backtest run."""

    n_samples: int = 64
    pre: int = 3  # the window starts this many hours before the event
    lead: int = 2  # footprint hours scored before the event starts ...
    lag: int = 4  # ... and after it ends
    max_events: int | None = None  # held-out episodes used (None: all), evenly spread over the period
    val_events: int = 60  # validation episodes to choose the painted reach
    seed: int = 0

    @classmethod
    def quick(cls) -> BacktestSettings:
        return cls(n_samples=16, max_events=20, val_events=10)


@dataclass
class Case:
    """One held-out episode as a planner's request, with the real window."""

    episode: int
    scenario: Scenario
    w0: int  # flat hour where the 24-hour window starts
    origin: int
    size: float  # at the origin: fraction slower (speeds) or extra people per hour (counts)
    sensors: np.ndarray  # sensors of the episode's runs (origin included)
    hours: slice  # footprint hours inside the window


def _split_hours(prep: Prepared, split: str) -> tuple[int, int]:
    d = prep.splits[split]
    return int(d[0]) * 24, (int(d[-1]) + 1) * 24


def cases(prep: Prepared, split: str, s: BacktestSettings, eps: pd.DataFrame | None = None,
          runs: pd.DataFrame | None = None, limit: int | None = None) -> list[Case]:
    """Episodes whose 24-hour window lies inside ``split``, as requests (evenly thinned to ``limit``)."""
    if eps is None or runs is None:
        eps, runs = episodes(prep)
    lo, hi = _split_hours(prep, split)
    hist = prep.has_history
    pick = eps[(eps["t0"] - s.pre >= lo) & (eps["t0"] - s.pre + 24 <= hi) & hist[eps["origin"].to_numpy()]
               & (eps["duration_hours"] + s.pre <= 24)]
    if limit is not None and len(pick) > limit:
        pick = pick.iloc[np.linspace(0, len(pick) - 1, limit).round().astype(int)]
    speed = prep.view.domain == "speed"
    by_episode = runs.groupby("episode")["sensor"].unique()
    out = []
    for ep in pick.itertuples(index=False):
        w0 = int(ep.t0) - s.pre
        if speed:
            mag, unit = float(np.clip(ep.size_native, 1.0, 90.0)), "percent_slower"
        else:
            mag, unit = float(np.clip(ep.size_native, 1.0, 50_000.0)), "people"
        sc = Scenario(
            city=prep.view.slug, day={"date": prep.dates[w0 // 24]}, start_hour=w0 % 24, horizon_hours=24,
            events=[{"place": {"sensor_id": str(ep.origin_id)}, "magnitude": round(mag, 1), "unit": unit,
                     "start_offset_hours": s.pre, "duration_hours": int(ep.duration_hours),
                     "reach_km": MAX_REACH_KM}],
        )  # fmt: skip
        hours = slice(max(0, s.pre - s.lead), min(24, s.pre + int(ep.duration_hours) + s.lag))
        size = float(ep.size) if speed else float(ep.size_native)
        out.append(Case(int(ep.episode), sc, w0, int(ep.origin), size,
                        np.asarray(by_episode.loc[ep.episode], int), hours))
    return out


# ---------------------------------------------------------------- the event responses compared


def apply_deviation(base: np.ndarray, dev: np.ndarray, domain: str) -> np.ndarray:
    """Samples (S, 24, N) native with a field (24, N) added: extra people per hour (counts) or the fraction
    slower (speeds), as the generator applies its own response."""
    if domain == "counts":
        return np.maximum(base + dev[None], 0.0)
    return np.clip(base * (1.0 - dev[None]), 0.0, 90.0)


def profile_window(prep: Prepared, w0: int) -> tuple[np.ndarray, np.ndarray]:
    """(24, N) profile and spread (model space) of the 24 hours from flat hour ``w0``."""
    t = np.arange(w0, w0 + 24)
    k = prep.dtype[t // 24]
    return prep.mu[k, t % 24], prep.sd[k, t % 24]


def painted_field(prep: Prepared, case: Case, reach_km: float) -> np.ndarray:
    """The request times Gaussian weights of scale ``reach_km`` around the place, over the event's hours."""
    v = prep.view
    ev = case.scenario.events[0]
    w = np.zeros(prep.n)
    if reach_km > 0:
        d = great_circle_km(v.lat[case.origin], v.lon[case.origin], v.lat, v.lon)
        w = np.exp(-0.5 * (d / reach_km) ** 2)
        w[w < 0.05] = 0.0
    w[case.origin] = 1.0
    f = np.zeros((24, prep.n), np.float32)
    t = slice(ev.start_offset_hours, ev.start_offset_hours + ev.duration_hours)
    f[t] = case.size * w[None]
    return np.minimum(f, 0.95) if v.domain == "speed" else f


def real_deviation(prep: Prepared, w0: int) -> np.ndarray:
    """(24, N) what really departed from the profile in the window from ``w0`` (0 where missing): extra people per
    hour (counts) or the fraction slower (speeds), the units the responses are applied in."""
    t = np.arange(w0, w0 + 24)
    mu, sd = profile_window(prep, w0)
    y = prep.y.reshape(-1, prep.n)[t]
    if prep.view.domain == "counts":
        return np.nan_to_num(inverse(y, "counts") - inverse(mu, "counts")).astype(np.float32)
    return np.nan_to_num(deviation((y - mu) / sd, mu, sd, prep.view.domain)).astype(np.float32)


def oracle_field(prep: Prepared, case: Case) -> np.ndarray:
    """The real deviation at the episode's own sensors over the whole window: what a method that knew the outcome
    would add (the ceiling of the footprint scores; not a method)."""
    f = np.zeros((24, prep.n), np.float32)
    f[:, case.sensors] = real_deviation(prep, case.w0)[:, case.sensors]
    return np.minimum(f, 0.95) if prep.view.domain == "speed" else f


class Analogues:
    """The training split's episodes and their real footprints, to transplant the most similar one."""

    def __init__(self, prep: Prepared, eps: pd.DataFrame, runs: pd.DataFrame, s: BacktestSettings) -> None:
        self.prep, self.s = prep, s
        lo, hi = _split_hours(prep, "train")
        self.eps = eps[(eps["t0"] - s.pre >= lo) & (eps["t0"] - s.pre + 24 <= hi)].reset_index(drop=True)
        self.sensors = runs.groupby("episode")["sensor"].unique()
        v = prep.view
        self.km = lambda i: great_circle_km(v.lat[i], v.lon[i], v.lat, v.lon)

    def pick(self, case: Case) -> pd.Series | None:
        """The most similar past episode at the origin, else at the nearest of the 3 closest sensors with one."""
        if self.eps.empty:
            return None
        cand = self.eps[self.eps["origin"] == case.origin]
        if cand.empty:
            near = np.argsort(self.km(case.origin))[:4]
            cand = self.eps[self.eps["origin"].isin(near[1:])]
        if cand.empty:
            return None
        hour = (case.w0 + self.s.pre) % 24
        day = self.prep.dtype[case.w0 // 24 + (1 if (case.w0 % 24) + self.s.pre >= 24 else 0)] >= 5
        c_hour = (cand["t0"].to_numpy() % 24)
        dh = np.minimum(np.abs(c_hour - hour), 24 - np.abs(c_hour - hour))
        c_day = self.prep.dtype[cand["t0"].to_numpy() // 24] >= 5
        col = "size" if self.prep.view.domain == "speed" else "size_native"
        ratio = np.abs(np.log(np.maximum(np.abs(cand[col].to_numpy()), 1e-3) / max(abs(case.size), 1e-3)))
        dur = np.abs(cand["duration_hours"].to_numpy() - case.scenario.events[0].duration_hours)
        score = ratio + dur / 3 + dh / 3 + (c_day != day)
        return cand.iloc[int(np.argmin(score))]

    def field(self, case: Case) -> np.ndarray:
        """(24, N) deviation field of the chosen analogue, on its own episode's sensors, scaled to the request."""
        ep = self.pick(case)
        f = np.zeros((24, self.prep.n), np.float32)
        if ep is None:
            return f
        p = self.prep
        dev = real_deviation(p, int(ep["t0"]) - self.s.pre)
        size = float(ep["size_native"] if p.view.domain == "counts" else ep["size"])
        cols = self.sensors.loc[ep["episode"]]
        k = float(np.clip(case.size / size, 0.25, 4.0)) if size else 1.0
        f[:, cols] = k * dev[:, cols]
        return np.minimum(f, 0.95) if p.view.domain == "speed" else f
