"""Exports of a scenario result: a standalone offline HTML report, CSV, GeoJSON and a PNG of the map."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import plotly.graph_objects as go
import shapely
from PIL import Image, ImageDraw, ImageFont

from explorer import __version__
from explorer.render.colors import DIVERGING, NEUTRAL, ramp
from explorer.render.layers import road_paths
from explorer.render.scenario import Summary, headline_cards, series_figure

if TYPE_CHECKING:
    from explorer.cities import City
    from explorer.models.generator.result import ScenarioResult


def result_csv(result: ScenarioResult, city: City) -> bytes:
    """One row per sensor and hour: P10/P50/P90 of baseline, scenario and difference; generated=True. The time
    is the scenario's day and hour as the pages say it ('Friday 18:00', or the date when the scenario has one),
    never the reference week an undated scenario is computed on."""
    df = result.to_frame()
    df["time"] = np.repeat(result.time_labels, len(result.sensor_ids))
    labels = city.sensors.set_index("sensor_id")["where"]
    df.insert(2, "label", df["sensor_id"].map(labels))
    df["generated"] = True  # every value here comes from the model, none is measured
    return df.to_csv(index=False, float_format="%.3f").encode()


def sensor_summary(city: City, result: ScenarioResult, summary: Summary) -> gpd.GeoDataFrame:
    """Per sensor over the horizon: peak median change, when, and whether it is significant."""
    d = summary.difference[1] * summary.busier_sign  # (H, N) busier change
    t = np.argmax(np.abs(d), axis=0)
    n = np.arange(d.shape[1])
    geo = city.sensors.set_index("sensor_id").loc[result.sensor_ids]
    return gpd.GeoDataFrame({
        "sensor_id": result.sensor_ids,
        "label": geo["where"].to_numpy(),
        "peak_change": summary.difference[1][t, n].round(3),
        "peak_change_p10": summary.difference[0][t, n].round(3),
        "peak_change_p90": summary.difference[2][t, n].round(3),
        "peak_time": [result.time_labels[i] for i in t],
        "baseline_at_peak": summary.baseline[1][t, n].round(3),
        "scenario_at_peak": summary.scenario[1][t, n].round(3),
        "significant": summary.significant[t, n],
        "unit": result.unit,
        "generated": True,
    }, geometry=geo.geometry.to_numpy(), crs=4326)


def result_geojson(city: City, result: ScenarioResult, summary: Summary) -> bytes:
    return sensor_summary(city, result, summary).to_json(drop_id=True).encode()


def _map_figure(city: City, result: ScenarioResult, summary: Summary) -> go.Figure:
    """A static map as a plotly figure (no tiles): zones, roads and sensors coloured by peak change."""
    fig = go.Figure()
    if city.zones is not None:
        xs, ys = [], []
        for g in shapely.get_parts(city.zones.boundary.to_numpy()):
            c = shapely.get_coordinates(shapely.simplify(g, 0.0005))
            xs += [*c[:, 0].round(5), None]
            ys += [*c[:, 1].round(5), None]
        fig.add_trace(go.Scattergl(x=xs, y=ys, mode="lines", line={"color": "rgba(11,92,173,0.4)", "width": 1},
                                   name="Zones", hoverinfo="skip"))
    xs, ys = [], []
    for p in road_paths(city)["path"]:
        xs += [q[0] for q in p] + [None]
        ys += [q[1] for q in p] + [None]
    fig.add_trace(go.Scattergl(x=xs, y=ys, mode="lines", line={"color": "rgb(120,120,120)", "width": 1.5},
                               name="Roads", hoverinfo="skip"))
    s = sensor_summary(city, result, summary)
    fig.add_trace(go.Scatter(
        x=s.geometry.x, y=s.geometry.y, mode="markers", name="Sensors (peak change)",
        marker={"size": 11, "color": s["peak_change"], "colorscale": "RdBu_r" if summary.busier_sign > 0 else "RdBu",
                "cmid": 0, "colorbar": {"title": result.unit}, "line": {"width": 1, "color": "#222"}},
        text=[f"{html.escape(str(lab))}: {c:+.1f} {result.unit}" + ("" if sig else " (not significant)")
              for lab, c, sig in zip(s["label"], s["peak_change"], s["significant"], strict=True)],
        hoverinfo="text"))
    fig.update_layout(title="Peak change at each sensor (median of samples)", height=560, showlegend=True,
                      xaxis={"title": "longitude", "scaleanchor": "y",
                             "scaleratio": float(1 / np.cos(np.radians(s.geometry.y.mean())))},
                      yaxis={"title": "latitude"}, plot_bgcolor="white", font={"size": 14})
    return fig


def describe(result: ScenarioResult, city: City) -> list[str]:
    sc = result.scenario
    day = sc.day.date.isoformat() if sc.day.date else ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                                        "Saturday", "Sunday"][sc.day.weekday]
    lines = [f"{day}{' (public holiday)' if sc.day.holiday else ''}, from {sc.start_hour}:00 for "
             f"{sc.horizon_hours} hours."]
    labels = city.sensors.set_index("sensor_id")["where"]
    for ev in sc.events:
        p = ev.place
        where = (labels.get(p.sensor_id, p.sensor_id) if p.sensor_id else f"zone {p.zone_id}" if p.zone_id
                 else f"({p.lat:.4f}, {p.lon:.4f})")
        lines.append(f"Event at {where}: {ev.magnitude:g} {ev.unit.replace('_', ' ')}, from hour "
                     f"{ev.start_offset_hours} for {ev.duration_hours} h, reach {ev.reach_km:g} km.")
    if not sc.events:
        lines.append("No event: the baseline the model expects.")
    return lines


def html_report(city: City, result: ScenarioResult, summary: Summary, model_meta: dict[str, Any]) -> str:
    """A single HTML file that opens offline: plotly.js is embedded once; all text is escaped."""
    value_name = city.manifest.series.value_name
    peak = result.headline["peak_sensor"]
    peak_label = city.sensors.set_index("sensor_id").loc[peak, "where"]
    figs = [
        _map_figure(city, result, summary),
        series_figure(result, summary, None, value_name, f"City-wide mean {value_name.lower()}"),
        series_figure(result, summary, peak, value_name, f"Where the change peaks: {peak_label}"),
    ]
    plots = [f.to_html(full_html=False, include_plotlyjs=(i == 0), div_id=f"fig{i}") for i, f in enumerate(figs)]
    cards = "".join(f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>"
                    for a, b, c in headline_cards(result, city))
    metrics = model_meta.get("metrics", {})
    metric_rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v)[:200])}</td></tr>"
                          for k, v in sorted(metrics.items()) if not isinstance(v, dict | list))
    scenario_json = html.escape(json.dumps(json.loads(result.scenario.to_json()), indent=2))
    desc = "".join(f"<li>{html.escape(x)}</li>" for x in describe(result, city))
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>What if… {html.escape(city.name)}: scenario report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#111;line-height:1.45}}
table{{border-collapse:collapse}}th,td{{border:1px solid #bbb;padding:4px 10px;text-align:left}}
pre{{background:#f3f3f3;padding:1em;overflow:auto}}.note{{color:#444;font-size:0.95em}}</style></head>
<body>
<header><h1>What if… {html.escape(city.name)}</h1>
<p class="note">Scenario report made {now} by the urban what-if explorer {__version__}. Every number is generated by
the model ({result.baseline.shape[0]} samples, seed {result.seed}); bands are P10–P90 across samples.</p></header>
<section id="scenario"><h2>The scenario</h2><ul>{desc}</ul></section>
<section id="headline"><h2>Headline numbers</h2><table>{cards}</table></section>
<section id="map"><h2>Map</h2>{plots[0]}</section>
<section id="charts"><h2>Over time</h2>{plots[1]}{plots[2]}</section>
<section id="model"><h2>Model card summary</h2>
<p>Conditional GAN generator trained by <code>{html.escape(str(model_meta.get('command', '')))}</code> on
{html.escape(city.name)} data (hash {html.escape(str(model_meta.get('data_hash', ''))[:12])}), weights
{html.escape(str(model_meta.get('weights_sha256', ''))[:12])}.</p><table>{metric_rows}</table>
<p class="note">Limits: the model learned from {html.escape(city.name)}'s own history; events larger than any it
has seen are extrapolations. A change whose P10–P90 band includes zero is not significant.</p></section>
<section id="scenario-json"><h2>Reproduce</h2><p>Load this JSON in the app (same seed and sample count):</p>
<pre>{scenario_json}</pre></section>
</body></html>
"""


def map_png(city: City, result: ScenarioResult, summary: Summary, hour: int, size: tuple[int, int] = (1200, 900)
            ) -> bytes:
    """A PNG of the difference map at ``hour``: zones, roads and sensors, drawn offline with Pillow."""
    w, h = size
    minx, miny, maxx, maxy = city.sensors.total_bounds
    pad = 0.08 * max(maxx - minx, maxy - miny, 1e-3)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    kx = np.cos(np.radians((miny + maxy) / 2))
    scale = min((w - 40) / ((maxx - minx) * kx), (h - 120) / (maxy - miny))

    def xy(coords: np.ndarray) -> list[tuple[float, float]]:
        return [(20 + (x - minx) * kx * scale, 80 + (maxy - y) * scale) for x, y in coords]

    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    if city.zones is not None:
        for g in shapely.get_parts(city.zones.boundary.to_numpy()):
            draw.line(xy(shapely.get_coordinates(g)), fill=(160, 190, 225), width=1)
    for p in road_paths(city)["path"]:
        draw.line(xy(np.asarray(p)), fill=(120, 120, 120), width=2)
    d = summary.difference[:, hour]
    lim = summary.change_limit()
    colours = ramp(summary.busier_sign * d[1], -lim, lim, DIVERGING)
    colours[~summary.significant[hour]] = NEUTRAL
    geo = city.sensors.set_index("sensor_id").loc[result.sensor_ids].geometry
    for (x, y), c in zip(xy(np.c_[geo.x, geo.y]), colours, strict=True):
        draw.ellipse([x - 7, y - 7, x + 7, y + 7], fill=tuple(int(v) for v in c), outline=(20, 20, 20))
    font = ImageFont.load_default(size=26)
    draw.text((20, 20), f"{city.name}: change at {result.times[hour]:%a %H:%M} ({result.unit}; red = busier, "
              "grey = not significant)", fill=(0, 0, 0), font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
