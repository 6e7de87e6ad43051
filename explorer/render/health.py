"""Data health figures: where readings are missing, and observed against imputed values with bands.

Imputed values never look like measured ones: measured are solid blue dots and lines, imputed are
orange, dashed, with their P10–P90 band and a few thin sampled fills inside it, and their hover text says
"imputed".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

if TYPE_CHECKING:
    from explorer.cities import City
    from explorer.models.imputer.api import ImputationResult

MEASURED = "rgb(11,92,173)"
IMPUTED = "rgb(230,120,20)"


def missing_table(city: City) -> pd.DataFrame:
    """Per sensor: share missing inside its active span, and days before it started reporting."""
    active = city.active_mask()
    missing = city.series.isna() & active
    spans = city.active_spans()
    labels = city.sensors.set_index("sensor_id")["where"]
    return pd.DataFrame({
        "sensor_id": city.series.columns,
        "label": labels.reindex(city.series.columns).to_numpy(),
        "missing_in_span": (missing.sum() / active.sum().clip(lower=1)).to_numpy(),
        "first": spans["first"].to_numpy(),
        "last": spans["last"].to_numpy(),
    }).sort_values("missing_in_span", ascending=False, ignore_index=True)


def missing_by_sensor_figure(city: City, top: int = 40) -> go.Figure:
    t = missing_table(city).head(top)
    fig = go.Figure(go.Bar(x=t["missing_in_span"] * 100, y=t["label"] + " (" + t["sensor_id"] + ")",
                           orientation="h", marker_color=MEASURED,
                           hovertemplate="%{y}<br>%{x:.1f}% missing while installed<extra></extra>"))
    fig.update_layout(title=f"Share of readings missing while installed (worst {len(t)} sensors)",
                      xaxis={"title": "% missing"}, yaxis={"autorange": "reversed"}, height=max(360, 18 * len(t)),
                      margin={"l": 220, "r": 20, "t": 50, "b": 40}, font={"size": 14})
    return fig


def missing_over_time_figure(city: City) -> go.Figure:
    """Daily share missing per sensor; days before a sensor was installed are shown apart."""
    active = city.active_mask()
    miss = (city.series.isna() & active).groupby(city.series.index.normalize()).mean()
    installed = active.groupby(city.series.index.normalize()).mean() > 0
    z = np.where(installed.to_numpy(), miss.to_numpy() * 100, np.nan).T
    fig = go.Figure(go.Heatmap(z=z, x=miss.index, y=list(city.series.columns), colorscale="Cividis", zmin=0, zmax=100,
                               colorbar={"title": "% missing"},
                               hovertemplate="sensor %{y}<br>%{x|%Y-%m-%d}: %{z:.0f}% missing<extra></extra>"))
    fig.update_layout(title="Missing readings by day (blank = not installed yet)", height=460,
                      yaxis={"title": "sensor", "showticklabels": len(city.series.columns) <= 60},
                      margin={"l": 60, "r": 20, "t": 50, "b": 40}, font={"size": 14})
    return fig


def imputed_series_figure(result: ImputationResult, sensor: str, value_name: str, unit: str,
                          n_lines: int = 3) -> go.Figure:
    """Observed readings against imputed ones: the P10–P90 band over the gaps, ``n_lines`` sampled fills as
    thin lines inside it (each joins the measured values at its gap's ends), and the point estimate."""
    obs = result.observed[sensor]
    imp = result.imputed[sensor].to_numpy()
    x = result.observed.index
    mean = result.mean[sensor].where(imp)
    edge = imp | np.r_[imp[1:], False] | np.r_[False, imp[:-1]]  # imputed, or the measured value next to a gap
    fig = go.Figure()
    bx, by = band_path(x, result.p10[sensor].to_numpy(), result.p90[sensor].to_numpy(), edge)
    fig.add_trace(go.Scatter(x=bx, y=by, fill="toself", fillcolor="rgba(230,120,20,0.25)", line={"width": 0},
                             mode="lines", name="Imputed P10–P90", hoverinfo="skip"))
    col = list(result.observed.columns).index(sensor)
    label = np.where(imp, "imputed (sampled fill, not measured)", "measured")
    for k in range(min(n_lines, len(result.samples))):
        y = np.where(edge, result.samples[k][:, col], np.nan)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="Sampled fills (imputed)", legendgroup="samples",
                                 showlegend=k == 0, line={"color": "rgba(190,90,0,0.6)", "width": 1},
                                 text=label, connectgaps=False,
                                 hovertemplate=f"%{{x}}<br>sample {k + 1}: %{{y:.1f}} %{{text}}<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=obs, mode="lines+markers", name="Measured",
                             line={"color": MEASURED, "width": 1.5}, marker={"size": 3},
                             hovertemplate="%{x}<br>measured %{y:.1f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=mean, mode="lines+markers", name="Imputed (model)",
                             line={"color": IMPUTED, "width": 2, "dash": "dash"}, marker={"size": 5, "symbol": "x"},
                             hovertemplate="%{x}<br>imputed %{y:.1f} (not measured)<extra></extra>"))
    fig.update_layout(title=f"Sensor {sensor}: measured and imputed {value_name.lower()}", height=420,
                      yaxis={"title": f"{value_name} ({unit})"}, legend={"orientation": "h", "y": -0.2},
                      margin={"l": 60, "r": 20, "t": 50, "b": 40}, font={"size": 14})
    return fig


def band_path(x: pd.Index, lo: np.ndarray, hi: np.ndarray, keep: np.ndarray) -> tuple[list, list]:
    """One closed outline per run of ``keep`` (P90 forwards, P10 back), runs separated by None: plotly's
    ``fill="toself"`` fills each separately (``tonexty`` between two gappy traces joins the gaps' ends).
    At a measured value next to a gap P10 = P90 = the measurement, so the band pinches to it."""
    ok = keep & np.isfinite(lo) & np.isfinite(hi)
    xs: list = []
    ys: list = []
    edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(np.int8), 0]))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        xs += [*x[a:b], *x[a:b][::-1], x[a], None]
        ys += [*hi[a:b].tolist(), *lo[a:b][::-1].tolist(), float(hi[a]), None]
    return xs, ys


def export_frame(result: ImputationResult, sensor: str, n_samples: int = 3) -> pd.DataFrame:
    """One sensor's week for download: the value (measured or the point estimate), an ``imputed`` flag, the
    P10/P90 band and ``n_samples`` sampled fills (equal to the measured value where measured)."""
    col = list(result.observed.columns).index(sensor)
    frame = pd.DataFrame({"value": result.mean[sensor], "imputed": result.imputed[sensor],
                          "p10": result.p10[sensor], "p90": result.p90[sensor]})
    for k in range(min(n_samples, len(result.samples))):
        frame[f"sample_{k + 1}"] = result.samples[k][:, col]
    frame.index.name = "time"
    return frame
