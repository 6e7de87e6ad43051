"""Summaries of a city's history: per-sensor statistics, a data summary and the daily profile."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Statistic name -> (label, function of the wide table -> per-sensor Series).
SENSOR_STATISTICS: dict[str, str] = {
    "mean": "Mean",
    "peak": "Busiest-hour mean",
    "std": "Variability (std)",
    "missing": "Share missing",
}


def sensor_statistic(series: pd.DataFrame, stat: str, higher_is_busier: bool = True) -> pd.Series:
    """One number per sensor. ``peak`` is the mean at the city's busiest hour of the day."""
    if stat == "mean":
        return series.mean()
    if stat == "std":
        return series.std()
    if stat == "missing":
        return series.isna().mean()
    if stat == "peak":
        hourly = series.groupby(series.index.hour).mean()
        city = hourly.mean(axis=1)
        hour = city.idxmax() if higher_is_busier else city.idxmin()
        return hourly.loc[hour]
    raise ValueError(f"unknown statistic '{stat}'; choose one of {', '.join(SENSOR_STATISTICS)}")


@dataclass(frozen=True)
class DataSummary:
    sensors: int
    start: pd.Timestamp
    end: pd.Timestamp
    resolution: pd.Timedelta
    share_missing: float
    steps: int

    @property
    def span_days(self) -> float:
        return (self.end - self.start) / pd.Timedelta(days=1)


def data_summary(series: pd.DataFrame, freq: pd.Timedelta) -> DataSummary:
    return DataSummary(sensors=series.shape[1], start=series.index[0], end=series.index[-1], resolution=freq,
                       share_missing=float(np.isnan(series.to_numpy()).mean()), steps=series.shape[0])


def daily_profile(series: pd.DataFrame) -> pd.DataFrame:
    """City-wide mean by time of day, for weekdays and weekends, with P10/P50/P90 across days.

    Returns a long frame: day_type, minute (of the day), p10, p50, p90, mean.
    """
    city = series.mean(axis=1)
    frame = pd.DataFrame({
        "value": city.to_numpy(),
        "date": series.index.normalize(),
        "minute": series.index.hour * 60 + series.index.minute,
        "day_type": np.where(series.index.day_of_week >= 5, "Weekend", "Weekday"),
    })
    g = frame.groupby(["day_type", "minute"])["value"]
    out = pd.DataFrame({"p10": g.quantile(0.1), "p50": g.quantile(0.5), "p90": g.quantile(0.9), "mean": g.mean()})
    return out.reset_index()


# ---------------------------------------------------------------- gaps while a sensor was installed (Data health)


@dataclass(frozen=True)
class Gaps:
    """Missing readings inside each sensor's active span (first to last reading): the only gaps the imputer fills."""

    missing: pd.DataFrame  # (time, sensor) True where an installed sensor did not report
    active: pd.DataFrame  # (time, sensor) True inside the sensor's active span

    @classmethod
    def of(cls, series: pd.DataFrame, active: pd.DataFrame) -> Gaps:
        return cls(series.isna() & active, active)

    @property
    def share(self) -> float:
        """Share of the installed sensor-hours that are missing."""
        return float(self.missing.to_numpy().sum() / self.active.to_numpy().sum())

    def worst_sensor(self) -> str:
        """The sensor with the most missing readings while installed (the first such, on a tie)."""
        return self.missing.sum().idxmax()

    def middle_gap_day(self, sensor: str) -> dt.date:
        """The day of the sensor's middle missing reading (the last day of the history when it has none)."""
        gaps = self.missing[sensor]
        when = gaps[gaps].index
        return (when[len(when) // 2] if len(when) else self.missing.index[-1]).date()
