"""Pure builders for the scenario page: quantile summaries, charts and headline cards (the map's data is built by
:mod:`explorer.render.mapdata` and drawn in the browser).

Colours: baseline and scenario share one viridis scale so they compare; the difference uses a
blue-white-red diverging scale where red always means *busier* (more people, or slower traffic),
and a change whose P10–P90 band includes zero is drawn grey as not significant.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy.spatial import cKDTree

if TYPE_CHECKING:
    from explorer.cities import City
    from explorer.models.generator.result import ScenarioResult



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


def _band(x, q: np.ndarray, name: str, colour: str, dash: str | None = None) -> list[dict]:
    """A P10–P90 band and its median line, as the trace dicts plotly's validation would make of them (keys in
    its order, ``type`` last, no ``None`` values): the figure is then built without validating again."""
    rgba = colour.replace("rgb", "rgba").replace(")", ",0.2)")
    line = {"color": colour, "dash": dash, "width": 3} if dash else {"color": colour, "width": 3}
    return [{"fill": "toself", "fillcolor": rgba, "hoverinfo": "skip", "line": {"width": 0},
             "name": f"{name} P10–P90", "x": np.concatenate([x, x[::-1]]), "y": np.concatenate([q[2], q[0][::-1]]),
             "type": "scatter"},
            {"line": line, "name": f"{name} median", "x": x, "y": q[1], "type": "scatter"}]


def series_figure(result: ScenarioResult, summary: Summary, sensor: str | None, value_name: str,
                  title: str, hour: int | None = None) -> go.Figure:
    """Baseline vs scenario over the horizon with P10–P90 bands: city-wide mean, or one sensor.

    Traces (as dicts) and layout are given to the Figure at once: the same figure for a third of the CPU of
    go.Scatter / add_trace / update_layout calls. The dicts are already in the form plotly's validation gives
    (tests/render/test_scenario_map.py holds the JSON to the validated figure's, byte for byte), so the Figure
    skips validating them: ``st.plotly_chart`` copies and serialises the figure anyway (~30 % of a chart's CPU).
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
        layout={"font": {"size": 15}, "height": 360, "legend": {"orientation": "h", "y": -0.3},
                "margin": {"b": 40, "l": 60, "r": 20, "t": 50}, "title": {"text": title},
                "xaxis": {"title": {"text": "Generated hours"}},
                "yaxis": {"title": {"text": f"{value_name} ({result.unit})"}}},
        _validate=hour is not None)  # unvalidated, add_vline would leave an empty "annotations" list
    if hour is not None:
        fig.add_vline(x=hour, line={"color": "#333", "dash": "dot"})
    return fig


def _short(x: float) -> str:
    """A headline figure: whole numbers from 10 up, one decimal below (a delay of 0.4 is not '0')."""
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.1f}"


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
         f"{h['peak_time']}; median of samples"),
        ("Sensors affected", f"{h['sensors_affected']} of {len(result.sensor_ids)}",
         "sensors whose median change passes the domain's threshold at some hour"),
    ]
    if "extra_pedestrian_hours_p10_p50_p90" in h:
        lo, mid, hi = h["extra_pedestrian_hours_p10_p50_p90"]
        asked = h.get("requested_extra_people_hours")
        said = (f"; asked at the event's place: {_short(asked)}, so the city-wide total is "
                f"{h['share_of_request_p10_p50_p90'][1]:.2f}× the request (median; counters it reaches add to it, "
                "and at the place itself the model may give more or less than asked)") if asked else ""
        cards.append(("Extra pedestrian-hours", _short(mid), f"P10–P90: {_short(lo)} to {_short(hi)}{said}"))
    else:
        lo, mid, hi = h["delay_min_per_mile_sensor_hours_p10_p50_p90"]
        cards.append(("Extra delay (min/mile·h)", _short(mid),
                      f"extra minutes per mile summed over sensor-hours; P10–P90: {_short(lo)} to {_short(hi)}"))
    return cards


def peak_place(result: ScenarioResult, city: City) -> str:
    """Where the change peaks, in words."""
    h = result.headline
    label = str(sensor_labels(city).get(h["peak_sensor"], h["peak_sensor"]))
    ident = "" if label.endswith(str(h["peak_sensor"])) else f" (sensor {h['peak_sensor']})"
    return f"Largest change at **{label}**{ident} at {h['peak_time']}."
