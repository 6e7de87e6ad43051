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

from explorer.render.readable import (
    MEASURES,
    SEQUENTIAL,
    aggregate_rows,
    category_axis,
    chart_height,
    format_value,
    metrics_table,
    plain_summary,
    sensor_zones,
    title_layout,
)

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
    """The ``top`` sensors with most missing readings while installed, one labelled bar each."""
    t = missing_table(city).head(top)
    labels = t["label"].astype(str) + " (" + t["sensor_id"].astype(str) + ")"
    head = title_layout(f"Sensors missing most readings while installed (worst {len(t)} of "
                        f"{len(city.series.columns)})")
    fig = go.Figure(go.Bar(x=t["missing_in_span"] * 100, y=labels, orientation="h", marker_color=MEASURED,
                           hovertemplate="%{y}<br>%{x:.1f}% missing while installed<extra></extra>"))
    fig.update_layout(title=head["title"], xaxis={"title": "% missing"},
                      yaxis={**category_axis(labels), "autorange": "reversed", "automargin": True,
                             "tickfont": {"size": 11}},
                      height=chart_height(len(t), per_row=17), font={"size": 14},
                      margin={"l": 10, "r": 20, "t": head["margin_t"], "b": 40})
    return fig


def missing_by_day(city: City) -> pd.DataFrame:
    """Share of readings missing per sensor (rows) and day (columns) while installed; NaN before a sensor was
    installed."""
    active = city.active_mask()
    day = city.series.index.normalize()
    miss = (city.series.isna() & active).groupby(day).mean()
    installed = active.groupby(day).mean() > 0
    return miss.where(installed).T


def missing_over_time_figure(city: City, max_rows: int = 60) -> go.Figure:
    """Daily share missing: one row per sensor, or per zone (mean of its sensors) when there are more than
    ``max_rows`` sensors, or per band of sensors ranked by how much they miss; blank before installation. The
    plot is as tall as its rows need, so it is filled."""
    rows, kind = aggregate_rows(missing_by_day(city), sensor_zones(city), max_rows)
    labels = [str(r) for r in rows.index]
    what = {"sensor": "sensor", "zone": "zone (mean of its sensors)",
            "band of sensors": "sensors ranked by missing share"}[kind]
    head = title_layout(f"Missing readings by day, per {what} (blank = not installed yet)")
    fig = go.Figure(go.Heatmap(z=rows.to_numpy() * 100, x=rows.columns, y=labels, colorscale=SEQUENTIAL, zmin=0,
                               zmax=100, colorbar={"title": {"text": "% missing", "side": "right"}, "thickness": 14},
                               hovertemplate=f"{kind} %{{y}}<br>%{{x|%Y-%m-%d}}: %{{z:.0f}}% missing<extra></extra>"))
    fig.update_layout(title=head["title"], height=chart_height(len(labels), per_row=15, chrome=150),
                      yaxis={**category_axis(labels), "autorange": "reversed", "automargin": True,
                             "tickfont": {"size": 11}},
                      margin={"l": 10, "r": 10, "t": head["margin_t"], "b": 40}, font={"size": 14})
    return fig


def imputer_summary(meta: dict, unit: str) -> str:
    """The gap-filling model in one plain sentence (good at / not good at / measured on), from the test figures
    stored with its checkpoint."""
    m = meta.get("metrics", {})
    point, block = m.get("point", {}), m.get("block", {})
    good = "filling scattered missing readings"
    if "mae" in point:
        good += (f" (on readings hidden from it, {format_value(point['mae'], 'unit', unit)} off on average, "
                 f"{format_value(point.get('mre'), 'pct')} of the readings"
                 + (f"; {format_value(point['coverage'], 'pct')} of them inside its P10–P90 band, 80 % is the aim"
                    if "coverage" in point else "") + ")")
    weak = []
    if "mae" in block and "mae" in point and block["mae"] > 1.15 * point["mae"]:
        weak.append(f"long outages (whole blocks missing: {format_value(block['mae'], 'unit', unit)} off on "
                    "average)")
    for key, what in (("neighbour", "how neighbouring sensors move together"),
                      ("lag1", "how readings carry on from one step to the next")):
        s, r = point.get(f"{key}_sampled"), point.get(f"{key}_real")
        if s is not None and r is not None and s < 0.8 * r:
            weak.append(f"{what} in its sampled fills (correlation {s:.2f}, real readings {r:.2f})")
    weak.append("readings from before a sensor was installed, which it never fills")
    split = meta.get("config", {}).get("split") or []
    part = f"the last {split[-1]:.0%}".replace("%", " %") if split else "a part"
    measured = (f"readings hidden from {part} of the history, which it never trained on (scattered readings and "
                "whole blocks, as the GRIN benchmark hides them)")
    return plain_summary(good, " and at ".join(weak[:2]), measured)


def imputer_figures(meta: dict, unit: str) -> pd.DataFrame:
    """The imputer's stored test figures as one table: a row per measure, a column per way readings were
    hidden (scattered, long gaps), and what each measure says."""
    m = meta.get("metrics", {})
    skip = {"lag1_pairs", "neighbour_pairs", "crps_sample"}
    cols = {}
    meaning: dict[str, str] = {}
    keys = [k for k in MEASURES if any(k in m.get(p, {}) for p in ("point", "block"))]
    for key, name in (("point", "Scattered missing readings"), ("block", "Long gaps")):
        part = m.get(key, {})
        t = metrics_table({k: part[k] for k in keys + sorted(set(part) - set(keys)) if k in part and k not in skip},
                          unit=unit)
        cols[name] = t.set_index("Measure")["Value"]
        meaning |= dict(zip(t["Measure"], t["What it means"], strict=True))
    order = list(dict.fromkeys(i for c in cols.values() for i in c.index))  # as MEASURES and the metrics list them
    out = pd.DataFrame(cols).reindex(order).fillna("—")
    out["What it means"] = [meaning.get(i, "") for i in out.index]
    return out.rename_axis("Measure").reset_index()


def imputer_training(meta: dict, unit: str = "") -> pd.DataFrame:
    """How the checkpoint was trained and calibrated, as a readable table (the loss history is left out)."""
    train = {k: v for k, v in meta.get("training", {}).items() if k != "history"}
    cal = {k: v for k, v in meta.get("calibration", {}).items() if k != "command"}
    return metrics_table({"Training": train, "Calibration (set, not learned)": cal}, unit=unit)


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
    head = title_layout(f"Sensor {sensor}: measured and imputed {value_name.lower()}", width_px=700)
    fig.update_layout(title=head["title"], height=420,
                      yaxis={"title": f"{value_name} ({unit})"}, legend={"orientation": "h", "y": -0.2},
                      margin={"l": 60, "r": 20, "t": head["margin_t"], "b": 40}, font={"size": 14})
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
