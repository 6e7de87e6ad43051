"""The model card: real against generated day profiles and value distributions, and measured results."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    from explorer.cities import City
    from explorer.models.generator.api import ScenarioResult
    from explorer.models.generator.showcase import Showcase

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


def footprint_figure(show: Showcase) -> go.Figure:
    """A held-out event: the real change and the generated one at every sensor (mean over the event's hours and
    the hours after it), side by side on the same colour scale, and both over the hours on the sensors the real
    event reached (generated: median and P10–P90 of 64 samples)."""
    ev = show.scenario.events[0]
    hrs = slice(max(0, ev.start_offset_hours - 2), min(24, ev.start_offset_hours + ev.duration_hours + 4))
    with warnings.catch_warnings():  # a sensor with no reading in those hours stays NaN (not drawn)
        warnings.simplefilter("ignore", RuntimeWarning)
        real = np.nanmean(show.real[hrs], axis=0)
    gen = show.generated[1][hrs].mean(axis=0)
    lim = float(np.nanpercentile(np.abs(np.r_[real[np.isfinite(real)], gen]), 98)) or 1.0
    fig = make_subplots(rows=1, cols=3, column_widths=[0.3, 0.3, 0.4], horizontal_spacing=0.06,
                        subplot_titles=("What really happened", "Generated from the origin only",
                                        "Sensors it reached, by hour"))
    labels = np.array(show.sensor_ids)
    for col, vals in ((1, real), (2, gen)):
        ok = np.isfinite(vals)
        fig.add_trace(go.Scatter(
            x=show.lon[ok], y=show.lat[ok], mode="markers", text=labels[ok], showlegend=False,
            marker={"size": 9, "color": vals[ok], "colorscale": "RdBu_r", "cmin": -lim, "cmax": lim,
                    "line": {"width": 0.5, "color": "#555"}, "showscale": col == 2,
                    "colorbar": {"title": {"text": show.unit, "side": "top"}, "orientation": "h", "x": 0.32,
                                 "xanchor": "center", "y": -0.02, "yanchor": "top", "len": 0.5, "thickness": 12}},
            hovertemplate="sensor %{text}<br>%{marker.color:.1f} " + show.unit + "<extra></extra>"), row=1, col=col)
        fig.add_trace(go.Scatter(x=[show.lon[show.origin]], y=[show.lat[show.origin]], mode="markers",
                                 marker={"symbol": "star", "size": 18, "color": "black"}, name="origin (asked)",
                                 showlegend=col == 1), row=1, col=col)
        fig.update_xaxes(showticklabels=False, row=1, col=col)
        fig.update_yaxes(showticklabels=False, scaleanchor=f"x{'' if col == 1 else col}",
                         scaleratio=1 / max(np.cos(np.radians(float(np.mean(show.lat)))), 0.2), row=1, col=col)
    foot = show.footprint or [show.origin]
    x = np.arange(24)
    real_sum = np.nansum(show.real[:, foot], axis=1)
    q = show.generated[:, :, foot].sum(axis=2)  # sum of per-sensor quantiles: a band, not a joint quantile
    rgba = GENERATED.replace("rgb", "rgba").replace(")", ",0.25)")
    fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[q[2], q[0][::-1]], fill="toself", fillcolor=rgba,
                             line={"width": 0}, hoverinfo="skip", name="generated P10–P90"), row=1, col=3)
    fig.add_trace(go.Scatter(x=x, y=q[1], line={"color": GENERATED, "width": 3}, name="generated (median)"),
                  row=1, col=3)
    fig.add_trace(go.Scatter(x=x, y=real_sum, line={"color": REAL, "width": 3}, name="real"), row=1, col=3)
    fig.add_vrect(x0=ev.start_offset_hours - 0.5, x1=ev.start_offset_hours + ev.duration_hours - 0.5,
                  fillcolor="grey", opacity=0.15, line_width=0, row=1, col=3)
    ticks = list(range(0, 24, 4))
    fig.update_xaxes(tickvals=ticks, ticktext=[show.hours[i][-5:] for i in ticks], row=1, col=3)
    # the line chart's axis on its right: on the left its labels ran into the generated map at a laptop's width
    fig.update_yaxes(title_text=f"sum over {len(foot)} sensors ({show.unit})", side="right", row=1, col=3)
    # the legend under the colour scale (at a laptop's width they would share a line), anchored right: anchored
    # left of the right edge, a legend wider than the room left pushes the margin and shrinks all three panels
    fig.update_layout(height=500, font={"size": 14}, plot_bgcolor="white",
                      legend={"orientation": "h", "x": 1, "xanchor": "right", "y": -0.24, "yanchor": "top"},
                      margin={"l": 20, "r": 80, "t": 70, "b": 70})
    return fig


def generator_summary(city: City, meta: dict) -> str:
    """The generator in a planner's words: what it does, what it is good and not so good at, and on what it was
    measured (figures from the checkpoint's validation days; the tables below give the held-out ones)."""
    m = meta.get("metrics", {})
    splits = meta.get("splits", {})
    period = " to ".join(splits.get("train", [])) or "its history"
    what = city.manifest.series.value_name.lower()
    lines = [
        f"- **What it does**: draws many plausible days of {what} at every sensor of {city.name}, with and "
        "without the event you describe, from the same random draws, so the difference is the event's effect "
        "and the spread of the draws says how sure it is.",
        f"- **Learned from**: {city.name}'s own history, {period}, and the "
        f"{m.get('episodes_labelled', 'past')} events found in it (place, time, size, and what they did around "
        "them).",
    ]
    good = []
    if "val_coverage_calibrated" in m:
        good.append(f"the usual rhythm of each hour and day type (on validation days {m['val_coverage_calibrated']:.0%}"
                    " of real readings fall inside its P10–P90 band; 80 % is the aim)")
    if "val_ctrl_error_raw" in m:
        good.append(f"the size of an event at its own place (on validation requests {m['val_ctrl_error_raw']:.0%} "
                    "off on average before any calibration)")
    if good:
        lines.append("- **Good at**: " + "; ".join(good) + ".")
    lines.append(
        "- **Less sure about**: how far and how long an event spreads to other sensors — it learned that from a "
        "limited number of past events, so read the spread as the typical pattern, with its band; events unlike "
        "any in the history (far bigger, at new venues, closures) are guesses.")
    lines.append("- **Measured on**: days and events it never saw (the last fifth of the history), against simple "
                 "baselines, in the tables below.")
    return "\n".join(lines)


def training_details(meta: dict, weights: str) -> str:
    """How the checkpoint was made and calibrated, as a short readable list (no raw settings dictionary)."""
    m, cfg = meta.get("metrics", {}), meta.get("config", {})
    rows = [
        f"- Command: `{meta.get('command', '?')}`" + (f", recalibrated with `{meta['calibration_command']}`"
                                                      if meta.get("calibration_command") else ""),
        f"- Made on {str(meta.get('created', '?'))[:10]}: {m.get('steps', '?')} training steps in "
        f"{m.get('train_seconds', 0) / 60:.0f} min ({m.get('device', 'cpu')}, {m.get('torch_threads', '?')} "
        f"thread(s)); weights {weights}, data {str(meta.get('data_hash', ''))[:12]}.",
        f"- Model size: {cfg.get('hidden', '?')} hidden features, event response with {cfg.get('components', '?')} "
        f"components over {cfg.get('hops', '?')} graph hops and lags from {cfg.get('lag_before', '?')} h before "
        f"to {cfg.get('lag_after', '?')} h after the event.",
    ]
    if cfg.get("same_sign"):
        rows.append("- Sign of the event response (set, not learned): every sensor an event reaches moves the way "
                    "its place does (a crowd adds people, a slowdown slows); how far, when and how much is learned.")
    if "alpha" in m:
        rows.append(f"- Spread calibration (set, not learned): the noise is scaled by {m['alpha']:.2f}, which takes "
                    f"validation coverage from {m.get('val_coverage_raw', 0):.0%} to "
                    f"{m.get('val_coverage_calibrated', 0):.0%}.")
    if "event_gain" in m:
        rows.append(f"- Event-size calibration (set, not learned): the learned response is scaled by "
                    f"{m['event_gain']:.2f}; validation error {m.get('val_ctrl_error_raw', 0):.1%} as trained, "
                    f"{m.get('val_ctrl_error_calibrated', 0):.1%} calibrated.")
    return "\n".join(rows)
