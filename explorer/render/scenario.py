"""Pure builders for the scenario page: per-sensor frames, decks (2D/3D), charts and headline cards.

Colours: baseline and scenario share one viridis scale so they compare; the difference uses a
blue-white-red diverging scale where red always means *busier* (more people, or slower traffic),
and a change whose P10–P90 band includes zero is drawn grey as not significant.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk
from scipy.spatial import cKDTree

from explorer.render.colors import DIVERGING, NEUTRAL, VIRIDIS, legend_html, ramp
from explorer.render.layers import RawJSON, offline_deck, roads_layer, view_for, zones_layer

if TYPE_CHECKING:
    from explorer.cities import City
    from explorer.models.generator.api import ScenarioResult

View = Literal["baseline", "scenario", "difference"]
VIEWS: dict[str, str] = {"baseline": "Baseline", "scenario": "Scenario", "difference": "Difference"}


@dataclass(frozen=True)
class Summary:
    """Quantiles of a result, computed once: arrays (3, H, N) for P10/P50/P90."""

    baseline: np.ndarray
    scenario: np.ndarray
    difference: np.ndarray
    busier_sign: float  # +1 when a higher value means busier (counts), -1 for speeds

    @classmethod
    def of(cls, result: ScenarioResult) -> Summary:
        sign = 1.0 if result.domain == "counts" else -1.0
        return cls(result.quantiles("baseline"), result.quantiles("scenario"), result.quantiles("difference"), sign)

    @property
    def significant(self) -> np.ndarray:
        """(H, N) True where the P10–P90 band of the change excludes zero."""
        lo, hi = self.difference[0], self.difference[2]
        return (lo > 0) | (hi < 0)

    def value_range(self) -> tuple[float, float]:
        both = np.concatenate([self.baseline[1].ravel(), self.scenario[1].ravel()])
        return float(np.nanpercentile(both, 2)), float(np.nanpercentile(both, 98))

    def change_limit(self) -> float:
        return float(max(np.nanmax(np.abs(self.difference[1])), 1e-6))


def _fmt(x: float, unit: str) -> str:
    return f"{x:,.0f} {unit}" if abs(x) >= 100 else f"{x:,.1f} {unit}"


_KEPT: dict[tuple[str, int, Hashable], tuple[Any, Any]] = {}


def _kept(what: str, owner: Any, key: Hashable, build: Callable[[], Any]) -> Any:
    """``build()``, computed once and kept while ``owner`` (a city's table, cached for the server's life) is
    the same object: the owner itself is held, so its ``id`` cannot be reused by another table."""
    full = (what, id(owner), key)
    hit = _KEPT.get(full)
    if hit is None or hit[0] is not owner:
        if len(_KEPT) > 64:
            _KEPT.clear()
        hit = _KEPT[full] = (owner, build())
    return hit[1]


def sensor_labels(city: City) -> pd.Series:
    """sensor_id -> the sensor's ``where`` label (kept per city; read-only)."""
    return _kept("labels", city.sensors, None, lambda: city.sensors.set_index("sensor_id")["where"])


def _sensor_columns(city: City, sensor_ids: list[str]) -> dict[str, Any]:
    """The columns of a sensor frame that do not change with the hour or view (ids, escaped labels, lon/lat),
    in the result's sensor order; computed once per city and kept (treat them as read-only)."""

    def build() -> dict[str, Any]:
        rows = city.sensors.set_index("sensor_id").loc[sensor_ids]
        labels = rows["where"].astype(str).to_numpy()
        return {
            "sensor_id": list(sensor_ids),  # raw: map selection reads it back
            "id_text": [html.escape(str(x)) for x in sensor_ids],
            "label": [html.escape(x) for x in labels],
            "lon": rows.geometry.x.round(6).to_numpy(),
            "lat": rows.geometry.y.round(6).to_numpy(),
        }

    return _kept("columns", city.sensors, tuple(sensor_ids), build)


def sensor_frame(city: City, result: ScenarioResult, summary: Summary, hour: int, view: View) -> pd.DataFrame:
    """One row per sensor at ``hour`` (index into the horizon) with colours, heights and tooltip text."""
    unit = result.unit
    sig = summary.significant[hour]
    b, s, d = summary.baseline[:, hour], summary.scenario[:, hour], summary.difference[:, hour]
    busier = summary.busier_sign * d[1]
    if view == "difference":
        lim = summary.change_limit()
        colours = ramp(busier, -lim, lim, DIVERGING)
        colours[~sig] = NEUTRAL
        height = np.abs(d[1]) / lim
    else:
        q = b if view == "baseline" else s
        vmin, vmax = summary.value_range()
        colours = ramp(q[1], vmin, vmax, VIRIDIS)
        height = np.clip((q[1] - vmin) / max(vmax - vmin, 1e-6), 0, 1)
        if summary.busier_sign < 0:  # for speeds, taller = slower (busier)
            height = 1 - height
    shown = b if view == "baseline" else s
    return pd.DataFrame({
        **_sensor_columns(city, result.sensor_ids),
        "baseline": b[1].round(2), "scenario": s[1].round(2), "change": d[1].round(2),
        "significant": sig,
        # the unit is city data and these texts are drawn in an HTML tooltip: escaped
        "value_text": [html.escape(_fmt(x, unit)) for x in shown[1].tolist()],
        "band_text": [html.escape(f"{_fmt(lo, '')}–{_fmt(hi, unit)}".replace(" –", "–"))
                      for lo, hi in zip(shown[0].tolist(), shown[2].tolist(), strict=True)],
        "change_text": [html.escape(f"{x:+,.1f} {unit} (P10–P90 {lo:+,.1f} to {hi:+,.1f})")
                        for x, lo, hi in zip(d[1].tolist(), d[0].tolist(), d[2].tolist(), strict=True)],
        "sig_text": np.where(sig, "significant", "within the uncertainty band (not significant)"),
        "color": np.c_[colours, np.full(len(colours), 235)].tolist(),
        "height": np.round(height, 4),
    })


def road_sensor_index(city: City, paths: pd.DataFrame) -> np.ndarray:
    """For each road path, the index of the nearest sensor (by the path's midpoint)."""
    mids = np.array([p[len(p) // 2] for p in paths["path"]], dtype=float)
    pts = np.c_[city.sensors.geometry.x.to_numpy(), city.sensors.geometry.y.to_numpy()]
    _, idx = cKDTree(pts).query(mids)
    return idx


def _radius_m(city: City) -> float:
    minx, miny, maxx, maxy = city.sensors.total_bounds
    span_km = max(maxx - minx, maxy - miny) * 111
    return float(np.clip(span_km * 6, 20, 400))  # ~1/170 of the city's extent


def _path_json(paths: pd.DataFrame) -> list[str]:
    """Each road path's coordinates as JSON text, serialised once per (cached) paths frame."""
    return _kept("paths", paths, None, lambda: [json.dumps(p, separators=(",", ":")) for p in paths["path"]])


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame``'s rows as pydeck sends them (``to_dict("records")``), built from whole columns."""
    names = list(frame.columns)
    columns = [frame[c].tolist() for c in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def scenario_deck(city: City, frame: pd.DataFrame, paths: pd.DataFrame, road_index: np.ndarray, *,
                  three_d: bool = True, height_px: int = 600, selected: str | None = None) -> pdk.Deck:
    """Zones, roads coloured by their nearest sensor, and sensors as 3D columns or 2D dots.

    The static geometry (zones, road coordinates) is serialised once per city; each rerun only writes the
    roads' colours and the sensors (the JSON is the same as pydeck's for the same data).
    """
    rgb = np.asarray(frame["color"].tolist(), dtype=int)[:, :3][road_index]
    roads = RawJSON("[" + ",".join(f'{{"color":[{r},{g},{b},200],"path":{p}}}'
                                   for (r, g, b), p in zip(rgb.tolist(), _path_json(paths), strict=True)) + "]")
    layers = [zones_layer(city), roads_layer(roads, colour="color", width=3)]
    r = _radius_m(city)
    records = _records(frame)
    sensors = RawJSON.of(records)
    if three_d:
        layers.append(pdk.Layer(
            "ColumnLayer", sensors, id="sensors", get_position=["lon", "lat"], get_elevation="height",
            elevation_scale=r * 40, radius=r, get_fill_color="color", pickable=True, auto_highlight=True,
            extruded=True, coverage=0.9))
    else:
        layers.append(pdk.Layer(
            "ScatterplotLayer", sensors, id="sensors", get_position=["lon", "lat"], get_fill_color="color",
            get_radius=r, radius_min_pixels=5, radius_max_pixels=16, stroked=True,
            get_line_color=[20, 20, 20, 255], line_width_min_pixels=1, pickable=True, auto_highlight=True))
    sel = [row for row in records if row["sensor_id"] == selected] if selected is not None else []
    if sel:
        layers.append(pdk.Layer("ScatterplotLayer", RawJSON.of(sel), id="selected", get_position=["lon", "lat"],
                                get_radius=r * 2.2, filled=False, stroked=True, get_line_color=[0, 0, 0, 255],
                                line_width_min_pixels=3, pickable=False))
    tooltip = {"html": "<b>{label}</b> (id {id_text})<br/>value {value_text}<br/>P10–P90 {band_text}<br/>"
                       "change {change_text}<br/><i>{sig_text}</i><br/><small>generated by the model</small>",
               "style": {"fontSize": "15px", "maxWidth": "340px"}}
    return offline_deck(layers, view_for(city, pitch=45 if three_d else 0), tooltip, height=height_px)


def scenario_legend(result: ScenarioResult, summary: Summary, view: View, value_name: str) -> str:
    if view == "difference":
        lim = summary.change_limit()
        busier = "more people" if summary.busier_sign > 0 else "slower"
        # the bar runs from calmer (blue) to busier (red); its ends show the real change in the series' unit
        return legend_html(f"Change in {value_name.lower()} (red = {busier})", -lim * summary.busier_sign,
                           lim * summary.busier_sign,
                           result.unit, DIVERGING, extra=[("rgb(170,170,170)", "Not significant (P10–P90 spans 0)")],
                           fmt="{:+,.1f}")
    vmin, vmax = summary.value_range()
    return legend_html(f"{VIEWS[view]} {value_name.lower()} (median of samples)", vmin, vmax, result.unit, VIRIDIS,
                       extra=[("rgb(90,90,90)", "Roads take their nearest sensor's colour")])


def _band(x, q: np.ndarray, name: str, colour: str, dash: str | None = None) -> list[dict]:
    rgba = colour.replace("rgb", "rgba").replace(")", ",0.2)")
    return [{"type": "scatter", "x": np.concatenate([x, x[::-1]]), "y": np.concatenate([q[2], q[0][::-1]]),
             "fill": "toself", "fillcolor": rgba, "line": {"width": 0}, "hoverinfo": "skip",
             "name": f"{name} P10–P90"},
            {"type": "scatter", "x": x, "y": q[1], "name": f"{name} median",
             "line": {"color": colour, "width": 3, "dash": dash}}]


def series_figure(result: ScenarioResult, summary: Summary, sensor: str | None, value_name: str,
                  title: str, hour: int | None = None) -> go.Figure:
    """Baseline vs scenario over the horizon with P10–P90 bands: city-wide mean, or one sensor.

    Traces (as dicts) and layout are given to the Figure at once: the same figure for a third of the CPU of
    go.Scatter / add_trace / update_layout calls.
    """
    x = np.array([t.strftime("%a %H:%M") for t in result.times])
    if sensor is None:
        base = np.quantile(result.baseline.mean(axis=2), (0.1, 0.5, 0.9), axis=0)
        scen = np.quantile(result.scenario_samples.mean(axis=2), (0.1, 0.5, 0.9), axis=0)
    else:
        j = result.sensor_ids.index(sensor)
        base, scen = summary.baseline[:, :, j], summary.scenario[:, :, j]
    fig = go.Figure(
        data=_band(x, base, "Baseline", "rgb(11,92,173)") + _band(x, scen, "Scenario", "rgb(230,120,20)", "dash"),
        layout={"title": title, "height": 360, "font": {"size": 15}, "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
                "yaxis": {"title": f"{value_name} ({result.unit})"}, "xaxis": {"title": "Generated hours"},
                "legend": {"orientation": "h", "y": -0.3}})
    if hour is not None:
        fig.add_vline(x=hour, line={"color": "#333", "dash": "dot"})
    return fig


def headline_cards(result: ScenarioResult, city: City) -> list[tuple[str, str, str]]:
    """(label, value, help) for the headline metrics, in the domain's own terms; values stay short."""
    h = result.headline
    labels = sensor_labels(city)
    peak_place = str(labels.get(h["peak_sensor"], h["peak_sensor"]))
    unit = result.unit
    cards = [
        (f"Peak change ({unit})", f"{h['peak_change']:+,.0f}" if abs(h["peak_change"]) >= 100
         else f"{h['peak_change']:+,.1f}",
         f"{h['peak_change_percent']:+.0f} % at {peak_place} (sensor {h['peak_sensor']}), "
         f"{h['peak_time'][-8:-3]}; median of samples"),
        ("Sensors affected", f"{h['sensors_affected']} of {len(result.sensor_ids)}",
         "sensors whose median change passes the domain's threshold at some hour"),
    ]
    if "extra_pedestrian_hours_p10_p50_p90" in h:
        lo, mid, hi = h["extra_pedestrian_hours_p10_p50_p90"]
        cards.append(("Extra pedestrian-hours", f"{mid:,.0f}", f"P10–P90: {lo:,.0f} to {hi:,.0f}"))
    else:
        lo, mid, hi = h["delay_min_per_mile_sensor_hours_p10_p50_p90"]
        cards.append(("Extra delay (min/mile·h)", f"{mid:,.0f}",
                      f"extra minutes per mile summed over sensor-hours; P10–P90: {lo:,.0f} to {hi:,.0f}"))
    return cards


def peak_place(result: ScenarioResult, city: City) -> str:
    """Where the change peaks, in words."""
    h = result.headline
    label = str(sensor_labels(city).get(h["peak_sensor"], h["peak_sensor"]))
    ident = "" if label.endswith(str(h["peak_sensor"])) else f" (sensor {h['peak_sensor']})"
    return f"Largest change at **{label}**{ident} at {h['peak_time'][-8:-3]}."
