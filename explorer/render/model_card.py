"""The model card: real against generated day profiles and value distributions, and measured results."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    from explorer.cities import City
    from explorer.models.generator.api import ScenarioResult

REAL = "rgb(11,92,173)"
GENERATED = "rgb(230,120,20)"


def held_out_days(city: City, meta: dict, day_of_week: int) -> pd.DataFrame:
    """Hourly city-wide mean on the generator's held-out (test) days of one weekday: rows days, cols hours."""
    lo, hi = (meta.get("splits", {}).get("test") or [str(city.series.index[0].date()), None])[:2]
    hourly = city.series.loc[lo:hi].resample("1h").mean().mean(axis=1)
    frame = pd.DataFrame({"v": hourly.to_numpy(), "day": hourly.index.normalize(), "hour": hourly.index.hour,
                          "dow": hourly.index.day_of_week})
    frame = frame[frame["dow"] == day_of_week]
    return frame.pivot_table(index="day", columns="hour", values="v").dropna()


def profile_figure(city: City, real_days: pd.DataFrame, generated: ScenarioResult, day_name: str) -> go.Figure:
    """Side by side: the city-wide daily profile on real held-out days and in generated samples (P10–P90)."""
    unit = city.manifest.series.unit
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True,
                        subplot_titles=(f"Real: {len(real_days)} held-out {day_name}s",
                                        f"Generated: {generated.baseline.shape[0]} samples"))
    gen = generated.baseline.mean(axis=2)  # (S, 24) city-wide mean per sample
    for col, data, colour in ((1, real_days.to_numpy(), REAL), (2, gen, GENERATED)):
        q = np.nanquantile(data, (0.1, 0.5, 0.9), axis=0)
        x = np.arange(q.shape[1])
        rgba = colour.replace("rgb", "rgba").replace(")", ",0.25)")
        fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[q[2], q[0][::-1]], fill="toself", fillcolor=rgba,
                                 line={"width": 0}, hoverinfo="skip", showlegend=False), row=1, col=col)
        fig.add_trace(go.Scatter(x=x, y=q[1], line={"color": colour, "width": 3},
                                 name="real median" if col == 1 else "generated median"), row=1, col=col)
    fig.update_yaxes(title_text=f"{city.manifest.series.value_name} ({unit})", row=1, col=1)
    fig.update_xaxes(title_text="hour of day")
    fig.update_layout(height=380, font={"size": 14}, legend={"orientation": "h", "y": -0.25},
                      margin={"l": 60, "r": 20, "t": 60, "b": 40})
    return fig


def distribution_figure(city: City, real_days_values: np.ndarray, generated: ScenarioResult) -> go.Figure:
    """Histograms of sensor-hour values: real held-out days against generated samples (same day type)."""
    real = real_days_values[np.isfinite(real_days_values)]
    gen = generated.baseline.ravel()
    hi = float(np.nanpercentile(np.r_[real, gen], 99.5))
    fig = go.Figure()
    fig.add_trace(go.Histogram(x=real, name="real", histnorm="probability density", opacity=0.6,
                               marker_color=REAL, xbins={"start": 0, "end": hi, "size": hi / 60}))
    fig.add_trace(go.Histogram(x=gen, name="generated", histnorm="probability density", opacity=0.6,
                               marker_color=GENERATED, xbins={"start": 0, "end": hi, "size": hi / 60}))
    fig.update_layout(barmode="overlay", height=360, font={"size": 14},
                      title="Distribution of sensor-hour values",
                      xaxis={"title": f"{city.manifest.series.value_name} ({city.manifest.series.unit})"},
                      yaxis={"title": "density"}, margin={"l": 60, "r": 20, "t": 50, "b": 40})
    return fig


def real_sensor_hours(city: City, meta: dict, day_of_week: int) -> np.ndarray:
    lo, hi = (meta.get("splits", {}).get("test") or [str(city.series.index[0].date()), None])[:2]
    hourly = city.series.loc[lo:hi].resample("1h").mean()
    return hourly[hourly.index.day_of_week == day_of_week].to_numpy().ravel()


def results_section(path: Path, slug: str) -> str | None:
    """This city's part of a generated results file (between ``<!-- results:slug -->`` markers, or the
    markdown table rows naming the city), or None when the evaluation has not been run."""
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    m = re.search(rf"<!-- results:{re.escape(slug)} -->(.*?)<!-- /results:{re.escape(slug)} -->", text, re.S)
    if m:
        return m.group(1).strip()
    return text if slug in text else None
