"""Summaries of a city's history: per-sensor statistics, a data summary and the daily profile."""

from __future__ import annotations

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
