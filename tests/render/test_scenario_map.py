"""The What-if charts are the plain Plotly figures, though built from dicts in one go (the map's data is tested in
tests/render/test_mapdata.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.models.generator.api import generate
from explorer.render.scenario import Summary, series_figure
from explorer.scenarios.schema import Scenario
from tests.generator_fixture import trained_generator


@pytest.fixture(scope="module")
def la_result(la):
    sc = Scenario.model_validate({"city": "los-angeles", "day": {"day_of_week": 2}, "start_hour": 7,
                                  "horizon_hours": 6, "events": [{"place": {"sensor_id": "767620"},
                                                                  "magnitude": 40, "unit": "percent_slower",
                                                                  "start_offset_hours": 1, "duration_hours": 2,
                                                                  "reach_km": 2.0}]})
    return generate(la, sc, 16, 0, model=trained_generator(la))


@pytest.mark.parametrize("sensor", [None, "767620"])
def test_series_figure_is_the_plain_plotly_figure(la_result, sensor):
    """Built from dicts in one go, the chart is the one go.Scatter / add_trace / update_layout would make."""
    import plotly.graph_objects as go
    import plotly.io

    summary = Summary.of(la_result)
    fig = series_figure(la_result, summary, sensor, "Speed", "title", hour=2)
    x = np.array([t.strftime("%a %H:%M") for t in la_result.times])
    if sensor is None:
        qs = [np.quantile(a.mean(axis=2), (0.1, 0.5, 0.9), axis=0)
              for a in (la_result.baseline, la_result.scenario_samples)]
    else:
        j = la_result.sensor_ids.index(sensor)
        qs = [summary.baseline[:, :, j], summary.scenario[:, :, j]]
    ref = go.Figure()
    for q, name, colour, dash in zip(qs, ("Baseline", "Scenario"), ("rgb(11,92,173)", "rgb(230,120,20)"),
                                     (None, "dash"), strict=True):
        rgba = colour.replace("rgb", "rgba").replace(")", ",0.2)")
        ref.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([q[2], q[0][::-1]]),
                                 fill="toself", fillcolor=rgba, line={"width": 0}, hoverinfo="skip",
                                 name=f"{name} P10–P90"))
        ref.add_trace(go.Scatter(x=x, y=q[1], name=f"{name} median", line={"color": colour, "width": 3, "dash": dash}))
    ref.add_vline(x=2, line={"color": "#333", "dash": "dot"})
    ref.update_layout(title="title", height=360, font={"size": 15}, margin={"l": 60, "r": 20, "t": 50, "b": 40},
                      yaxis={"title": f"Speed ({la_result.unit})"}, xaxis={"title": "Generated hours"},
                      legend={"orientation": "h", "y": -0.3})
    got, want = (json.loads(plotly.io.to_json(f.to_dict(), validate=False)) for f in (fig, ref))
    assert got == want


@pytest.mark.parametrize("hour", [None, 2])
@pytest.mark.parametrize("sensor", [None, "767620"])
def test_series_figure_built_without_validation_sends_the_validated_bytes(la_result, sensor, hour):
    """series_figure skips plotly's validation (its dicts are in validated form already): what st.plotly_chart
    sends for it is, byte for byte, what it sends for the same traces and layout given to a validating Figure
    (as series_figure did before), the hour's line added the same way."""
    import plotly.graph_objects as go
    import plotly.io
    import plotly.tools

    def sent(f):  # Streamlit's own path (streamlit/elements/plotly_chart.py)
        return plotly.io.to_json(plotly.tools.return_figure_from_figure_or_data(f, validate_figure=True),
                                 validate=False)

    fig = series_figure(la_result, Summary.of(la_result), sensor, "Speed", "title <b>x</b>", hour=hour)
    d = fig.to_dict()
    ref = go.Figure(data=[dict(t) for t in d["data"]],
                    layout={k: v for k, v in d["layout"].items() if k not in ("template", "shapes", "annotations")})
    if hour is not None:
        ref.add_vline(x=hour, line={"color": "#333", "dash": "dot"})
    assert fig._validate == (hour is not None)  # (an hour line: validated, see series_figure)
    assert sent(fig) == sent(ref)


def test_headline_figures_keep_a_decimal_below_ten():
    """A Los Angeles event that slows six sensors by up to 10 mph adds under one minute per mile: the card
    says 0.4, not 0; large figures stay whole."""
    from explorer.render.scenario import _short

    assert _short(0.44) == "0.4" and _short(-3.25) == "-3.2" and _short(9.96) == "10.0"
    assert _short(12.6) == "13" and _short(64581.2) == "64,581"
