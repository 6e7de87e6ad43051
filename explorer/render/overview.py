"""The Home page's overview map and daily-profile chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
import pydeck as pdk

from explorer.render.colors import VIRIDIS, legend_html, ramp
from explorer.render.layers import (
    offline_deck,
    road_paths,
    roads_layer,
    sensors_frame,
    sensors_layer,
    view_for,
    zones_layer,
)
from explorer.stats import SENSOR_STATISTICS, daily_profile, sensor_statistic

if TYPE_CHECKING:
    from explorer.cities import City


@dataclass
class OverviewMap:
    deck: pdk.Deck
    legend: str
    n_sensors: int


def overview_map(city: City, statistic: str = "mean", road_source: str = "layer") -> OverviewMap:
    """Zones, roads and sensors coloured by ``statistic``, with a legend in the series' unit."""
    values = sensor_statistic(city.series, statistic, city.manifest.higher_is_busier)
    is_share = statistic == "missing"
    finite = values.to_numpy(dtype=float)
    vmin, vmax = float(np.nanmin(finite)), float(np.nanmax(finite))
    fmt = "{:.1%}" if is_share else "{:,.1f}"
    frame = sensors_frame(city, values, ramp(finite, vmin, vmax, VIRIDIS), fmt=fmt)
    unit = "share of readings" if is_share else city.manifest.series.unit
    label = SENSOR_STATISTICS[statistic]
    tooltip = {"html": "<b>{label}</b><br/>id {sensor_id}<br/>" + f"{label}: " + "{text}",
               "style": {"fontSize": "15px"}}
    layers = [zones_layer(city), roads_layer(road_paths(city, road_source)), sensors_layer(frame)]
    extra = [("rgb(11,92,173)", "Zones (neighbourhoods)")] if city.zones is not None else []
    road_label = "Sensor graph links" if road_source == "graph" or city.roads is None else "Roads"
    extra.append(("rgb(90,90,90)", road_label))
    legend = legend_html(f"{city.manifest.series.value_name}: {label.lower()}", vmin, vmax, unit, VIRIDIS,
                         extra=extra, fmt=fmt)
    return OverviewMap(deck=offline_deck(layers, view_for(city), tooltip), legend=legend, n_sensors=len(frame))


def daily_profile_figure(city: City) -> go.Figure:
    """City-wide mean by time of day, weekday vs weekend, with the P10–P90 band across days."""
    prof = daily_profile(city.series)
    unit = city.manifest.series.unit
    fig = go.Figure()
    colours = {"Weekday": "rgb(11,92,173)", "Weekend": "rgb(230,120,20)"}
    for day_type, part in prof.groupby("day_type"):
        x = (part["minute"] / 60).to_numpy()
        c = colours[str(day_type)]
        fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]),
                                 y=np.concatenate([part["p90"], part["p10"][::-1]]),
                                 fill="toself", fillcolor=c.replace("rgb", "rgba").replace(")", ",0.18)"),
                                 line={"width": 0}, hoverinfo="skip", name=f"{day_type} P10–P90"))
        fig.add_trace(go.Scatter(x=x, y=part["p50"], name=f"{day_type} median", line={"color": c, "width": 3}))
    fig.update_layout(
        title=f"City-wide {city.manifest.series.value_name.lower()} through the day",
        xaxis={"title": "Hour of day (local time)", "dtick": 3, "range": [0, 24]},
        yaxis={"title": f"{city.manifest.series.value_name} ({unit})"},
        legend={"orientation": "h", "y": -0.25}, margin={"l": 60, "r": 20, "t": 50, "b": 40}, height=420,
        font={"size": 15},
    )
    return fig
