"""The Home page's overview map and daily-profile chart."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
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
    n_areas: int | None = None  # h3 cells drawn instead of sensors (large cities), else None


def overview_map(city: City, statistic: str = "mean", road_source: str = "layer",
                 aggregate_above: int | None = None) -> OverviewMap:
    """Zones, roads and sensors coloured by ``statistic``, with a legend in the series' unit.

    Above ``aggregate_above`` sensors (default: the ``map_aggregate_above`` setting) the sensors are drawn
    as h3 hexagons (the mean of their sensors' statistic) and the sensor graph's links are left out: a
    10,000-sensor city would otherwise send ~3 MB per rerun.
    """
    values = sensor_statistic(city.series, statistic, city.manifest.higher_is_busier)
    is_share = statistic == "missing"
    finite = values.to_numpy(dtype=float)
    vmin, vmax = float(np.nanmin(finite)), float(np.nanmax(finite))
    fmt = "{:.1%}" if is_share else "{:,.1f}"
    if aggregate_above is None:
        from explorer.settings import get_settings

        aggregate_above = get_settings().map_aggregate_above
    if len(finite) > aggregate_above:
        return _overview_hexagons(city, statistic, road_source, finite, vmin, vmax, fmt)
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


def _overview_hexagons(city: City, statistic: str, road_source: str, finite: np.ndarray, vmin: float, vmax: float,
                       fmt: str) -> OverviewMap:
    """The overview of a large city: one flat h3 hexagon per occupied cell, coloured by the mean of its sensors'
    statistic; tooltip with the sensor count and the range inside the cell."""
    from explorer.render.aggregate import aggregate, cell_range, sensor_cells

    cells = sensor_cells(city)
    mean = aggregate(finite, cells, "mean")
    lo, hi = cell_range(finite, cells)
    label = SENSOR_STATISTICS[statistic]
    show = (lambda a: [fmt.format(v) if np.isfinite(v) else "no data" for v in a])  # noqa: E731
    frame = pd.DataFrame({"h": cells.ids, "c": [[*map(int, c), 230] for c in ramp(mean, vmin, vmax, VIRIDIS)],
                          "v": show(mean), "lo": show(lo), "hi": show(hi), "n": cells.counts})
    tooltip = {"html": f"<b>Area</b><br/>{html.escape(label)}: {{v}} (mean of {{n}} sensors; "
                       "from {lo} to {hi})", "style": {"fontSize": "15px"}}
    layers = [zones_layer(city)]
    extra = [("rgb(11,92,173)", "Zones (neighbourhoods)")] if city.zones is not None else []
    if road_source == "layer" and city.roads is not None:
        layers.append(roads_layer(road_paths(city, "layer")))
        extra.append(("rgb(90,90,90)", "Roads"))
    layers.append(pdk.Layer("H3HexagonLayer", frame, id="areas", get_hexagon="h", get_fill_color="c",
                            extruded=False, coverage=0.92, stroked=False, pickable=True, auto_highlight=True))
    unit = "share of readings" if statistic == "missing" else city.manifest.series.unit
    title = (f"{city.manifest.series.value_name}: {label.lower()}, each area the mean of its sensors "
             f"({len(finite):,} sensors in {len(cells.ids):,} areas)")
    legend = legend_html(title, vmin, vmax, unit, VIRIDIS, extra=extra, fmt=fmt)
    return OverviewMap(deck=offline_deck([x for x in layers if x is not None], view_for(city), tooltip),
                       legend=legend, n_sensors=len(finite), n_areas=len(cells.ids))


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
