"""The Home page's daily-profile chart (its map is the browser map: :func:`explorer.render.mapdata.stat_payload`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from explorer.stats import daily_profile

if TYPE_CHECKING:
    from explorer.cities import City


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
