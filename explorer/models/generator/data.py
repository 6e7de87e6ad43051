"""Data preparation for the scenario generator.

Turns a city's wide series into the hourly, transformed, masked arrays the generator learns from:

* resolution: **hourly** for every city (Los Angeles' 5-minute speeds are averaged per hour over the
  readings present; an hour with no reading stays missing);
* transform: counts -> ``log1p(count)``, speeds -> mph as they are;
* seasonal profile: robust median and spread per sensor x day type x hour of day, from the training
  split only (day type = day of week, holidays count as Sunday);
* residual: ``r = (y - mu) / sd``, clipped to +-16; missing readings stay masked (the generator trains on
  **masked history**, it never needs an imputer).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from explorer.cities.manifest import Kind
from explorer.cities.view import CityView, as_view

R_CLIP = 16.0
SPLIT = (0.7, 0.1, 0.2)  # sequential train / validation / test days
MIN_SD = {"counts": 0.25, "speed": 1.0}  # floor of the robust spread, model space (log1p counts, mph)
MIN_TRAIN_OBSERVED = 0.05  # sensors observed less than this in the training split have no usable history

def is_holiday(view: CityView, day: dt.date) -> bool:
    """Whether ``day`` is a public holiday of the city (its calendar: ``city.toml``'s ``[calendar]``)."""
    return view.holidays.is_holiday(day)


def day_type(dow: int | np.ndarray, holiday: bool | np.ndarray) -> np.ndarray:
    """Day type 0..6 (Monday..Sunday); holidays are treated as Sundays."""
    return np.where(np.asarray(holiday, bool), 6, np.asarray(dow, int))


# ---------------------------------------------------------------- hourly arrays and profile


def hourly(series: pd.DataFrame) -> pd.DataFrame:
    """Mean per clock hour over the readings present, on a complete hourly index (whole days)."""
    s = series.astype(np.float32)
    step = pd.Series(s.index[:50]).diff().min()
    if pd.notna(step) and step < pd.Timedelta("1h"):
        s = s.resample("1h").mean()
    start = s.index.min().normalize()
    end = s.index.max().normalize() + pd.Timedelta("23h")
    return s.reindex(pd.date_range(start, end, freq="1h"))


def forward(y: np.ndarray, domain: Kind) -> np.ndarray:
    """Native values -> model space."""
    return np.log1p(np.maximum(y, 0)) if domain == "counts" else y


def inverse(z: np.ndarray, domain: Kind) -> np.ndarray:
    """Model space -> native values."""
    if domain == "counts":
        return np.maximum(np.expm1(z), 0.0)
    return np.clip(z, 0.0, 90.0)


def inverse_inplace(z: np.ndarray, domain: Kind) -> np.ndarray:
    """:func:`inverse` written into ``z`` (float array) and returned."""
    if domain == "counts":
        np.expm1(z, out=z)
        return np.maximum(z, 0.0, out=z)
    return np.clip(z, 0.0, 90.0, out=z)


@dataclass
class Prepared:
    """Hourly arrays of one city, reshaped to days: ``(days, 24, n)``."""

    view: CityView
    dates: list[dt.date]
    y: np.ndarray  # (D, 24, N) model space, NaN missing
    mask: np.ndarray  # (D, 24, N) bool observed
    dtype: np.ndarray  # (D,) day type 0..6
    dow: np.ndarray  # (D,)
    holiday: np.ndarray  # (D,) bool
    mu: np.ndarray  # (7, 24, N) profile (model space)
    sd: np.ndarray  # (7, 24, N) robust spread (model space)
    splits: dict[str, np.ndarray]  # day indices for train / val / test

    @property
    def n(self) -> int:
        return self.y.shape[2]

    @property
    def has_history(self) -> np.ndarray:
        """(N,) sensors observed in at least ``MIN_TRAIN_OBSERVED`` of the training split's hours (the others
        were installed later: their profile is a placeholder)."""
        return self.mask[self.splits["train"]].mean(axis=(0, 1)) >= MIN_TRAIN_OBSERVED

    @property
    def observed_range(self) -> tuple[np.ndarray, np.ndarray]:
        """(N,) lowest and highest hourly value of each sensor on the training days, native units."""
        return observed_range(inverse(self.y[self.splits["train"]].reshape(-1, self.n), self.view.domain))

    def residual(self, clip: float = R_CLIP) -> np.ndarray:
        """(D, 24, N) standardised residual clipped to +-clip, 0 where missing."""
        r = (self.y - self.mu[self.dtype]) / self.sd[self.dtype]
        return np.clip(np.nan_to_num(r, nan=0.0), -clip, clip).astype(np.float32)


def profile(y: np.ndarray, dtype: np.ndarray, min_sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Median and robust spread (1.4826 MAD) per day type x hour x sensor, with fallbacks."""
    n = y.shape[2]
    mu = np.full((7, 24, n), np.nan, np.float32)
    sd = np.full((7, 24, n), np.nan, np.float32)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for k in range(7):
            sel = y[dtype == k]
            if len(sel) == 0:
                continue
            med = np.nanmedian(sel, axis=0)
            mu[k], sd[k] = med, 1.4826 * np.nanmedian(np.abs(sel - med), axis=0)
        # fallback: same hour over all day types, then the sensor's overall level
        all_med = np.nanmedian(y, axis=0)
        all_sd = 1.4826 * np.nanmedian(np.abs(y - all_med), axis=0)
        mu = np.where(np.isnan(mu), all_med[None], mu)
        sd = np.where(np.isnan(sd), all_sd[None], sd)
        lvl = np.nanmedian(y.reshape(-1, n), axis=0)
        mu = np.where(np.isnan(mu), np.where(np.isnan(lvl), 0.0, lvl)[None, None], mu)
    sd = np.where(np.isnan(sd), min_sd * 4, np.maximum(sd, min_sd))
    return mu.astype(np.float32), sd.astype(np.float32)


def prepare(city: Any, splits: tuple[float, float, float] = SPLIT) -> Prepared:
    """Hourly, transformed, masked day arrays plus the training-split seasonal profile."""
    view = as_view(city)
    h = hourly(view.series[view.sensor_ids])
    days = len(h) // 24
    y = forward(h.to_numpy(np.float32)[: days * 24], view.domain).reshape(days, 24, -1)
    dates = [d.date() for d in h.index[::24][:days]]
    dow = np.array([d.weekday() for d in dates])
    hol = view.holidays.flags(dates)
    dtype = day_type(dow, hol)
    n_tr, n_va = int(round(days * splits[0])), int(round(days * splits[1]))
    idx = np.arange(days)
    sp = {"train": idx[:n_tr], "val": idx[n_tr : n_tr + n_va], "test": idx[n_tr + n_va :]}
    mu, sd = profile(y[sp["train"]], dtype[sp["train"]], MIN_SD[view.domain])
    return Prepared(view, dates, y, ~np.isnan(y), dtype, dow, hol, mu, sd, sp)


def observed_range(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,) lowest and highest of ``values`` (T, N) per sensor, native units; -inf / inf where a sensor recorded
    nothing. Generated event-free values are kept inside this range (a rule that is set, not learned: the
    evaluation reports how often the generator's samples fall outside it)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN sensors
        lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    return (np.where(np.isnan(lo), -np.inf, lo).astype(np.float32),
            np.where(np.isnan(hi), np.inf, hi).astype(np.float32))


def training_range(view: CityView, first_day: str, last_day: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`observed_range` of the hourly values from ``first_day`` to ``last_day`` (the training split a
    checkpoint records), as :attr:`Prepared.observed_range` computes it."""
    h = hourly(view.series[view.sensor_ids])
    h = h.loc[pd.Timestamp(first_day) : pd.Timestamp(last_day) + pd.Timedelta("23h")]
    y = forward(h.to_numpy(np.float32), view.domain)
    return observed_range(inverse(y, view.domain))


def deviation(r: np.ndarray, mu: np.ndarray, sd: np.ndarray, domain: Kind) -> np.ndarray:
    """Residual -> event units: counts: log ratio to the profile; speeds: fraction slower."""
    if domain == "counts":
        return r * sd
    return -(r * sd) / np.maximum(mu, 1.0)


def residual_from_deviation(dev: np.ndarray, mu: np.ndarray, sd: np.ndarray, domain: Kind) -> np.ndarray:
    """Inverse of :func:`deviation`."""
    if domain == "counts":
        return dev / sd
    return -dev * np.maximum(mu, 1.0) / sd


def window_calendar(
    dow: int, holiday: bool, start_hour: int, next_holiday: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clock hour, day of week and holiday flag of the 24 hours from ``start_hour`` (may run into the
    next day)."""
    k = np.arange(24) + start_hour
    hours = k % 24
    nxt = k >= 24
    dows = np.where(nxt, (dow + 1) % 7, dow)
    hol = np.where(nxt, next_holiday, holiday)
    return hours, dows, hol


def flat_calendar(prep: Prepared) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clock hour, day of week and holiday flag of every hour of the prepared timeline, (D * 24,)."""
    hours = np.tile(np.arange(24), len(prep.dates))
    return hours, np.repeat(prep.dow, 24), np.repeat(prep.holiday, 24)
