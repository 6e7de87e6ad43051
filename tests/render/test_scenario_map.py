"""The What-if map and charts are the same as before, though static parts are serialised once, charts built faster."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pydeck as pdk
import pytest
from pydeck.bindings.json_tools import default_serialize

from explorer.models.generator.api import generate
from explorer.render.layers import RawJSON, offline_deck, road_paths, view_for, zones_layer
from explorer.render.scenario import Summary, road_sensor_index, scenario_deck, sensor_frame, series_figure
from explorer.scenarios.schema import Scenario
from tests.generator_fixture import trained_generator

ROWS = [{"name": "Café <b>", "value": 1.25, "ok": True, "color": [1, 2, 3, 235], "nan": float("nan")},
        {"name": "P10–P90 & more", "value": -3.0, "ok": False, "color": [4, 5, 6, 235], "nan": 0.5}]


def _plain_json(deck: pdk.Deck) -> str:
    return json.dumps(deck, sort_keys=True, default=default_serialize, separators=(",", ":"))


def test_raw_json_layer_data_gives_pydecks_bytes(la):
    view = view_for(la)
    raw = offline_deck([pdk.Layer("ScatterplotLayer", RawJSON.of(ROWS), id="a", get_position=["lon", "lat"]),
                        pdk.Layer("PathLayer", RawJSON.of([]), id="b")], view, {"html": "{name}"})
    plain = offline_deck([pdk.Layer("ScatterplotLayer", ROWS, id="a", get_position=["lon", "lat"]),
                          pdk.Layer("PathLayer", [], id="b")], view, {"html": "{name}"})
    assert raw.to_json() == plain.to_json() == _plain_json(plain)
    assert "@@raw-json" not in raw.to_json()


def test_zones_layer_serialised_once_and_the_same(la):
    assert zones_layer(la).data is zones_layer(la).data  # one text per zones table
    spec = json.loads(offline_deck([zones_layer(la)], view_for(la)).to_json())
    assert spec["layers"][0]["data"]["type"] == "FeatureCollection"
    assert len(spec["layers"][0]["data"]["features"]) == len(la.zones)


@pytest.fixture(scope="module")
def la_result(la):
    sc = Scenario.model_validate({"city": "los-angeles", "day": {"day_of_week": 2}, "start_hour": 7,
                                  "horizon_hours": 6, "events": [{"place": {"sensor_id": "767620"},
                                                                  "magnitude": 40, "unit": "percent_slower",
                                                                  "start_offset_hours": 1, "duration_hours": 2,
                                                                  "reach_km": 2.0}]})
    return generate(la, sc, 16, 0, model=trained_generator(la))


@pytest.mark.parametrize("three_d", [True, False])
def test_scenario_deck_matches_the_data_it_draws(la, la_result, three_d):
    summary = Summary.of(la_result)
    paths = road_paths(la, "layer", tolerance=0.0008, min_length=0.003)
    index = road_sensor_index(la, paths)
    for hour, view in ((0, "difference"), (3, "scenario"), (5, "baseline")):
        frame = sensor_frame(la, la_result, summary, hour, view)
        assert frame["sensor_id"].tolist() == la_result.sensor_ids
        sel = la_result.sensor_ids[3]
        spec = json.loads(scenario_deck(la, frame, paths, index, three_d=three_d, selected=sel).to_json())
        layers = {layer["id"]: layer for layer in spec["layers"]}
        assert list(layers) == ["zones", "roads", "sensors", "selected"]
        colours = np.asarray(frame["color"].tolist())[:, :3][index].tolist()
        assert layers["roads"]["data"] == [{"color": [*c, 200], "path": p}
                                          for c, p in zip(colours, paths["path"], strict=True)]
        records = json.loads(json.dumps(frame.to_dict(orient="records")))
        assert layers["sensors"]["data"] == records
        assert layers["sensors"]["@@type"] == ("ColumnLayer" if three_d else "ScatterplotLayer")
        assert layers["selected"]["data"] == [r for r in records if r["sensor_id"] == sel]


def test_sensor_frame_static_columns_follow_the_result_order(la, la_result):
    summary = Summary.of(la_result)
    frame = sensor_frame(la, la_result, summary, 0, "difference")
    where = la.sensors.set_index("sensor_id")["where"]
    assert frame["label"].tolist()[:5] == [str(where[s]) for s in la_result.sensor_ids[:5]]
    pts = la.sensors.set_index("sensor_id").loc[la_result.sensor_ids].geometry
    assert np.allclose(frame["lon"], pts.x, atol=1e-6) and np.allclose(frame["lat"], pts.y, atol=1e-6)
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(la_result.sensor_ids)


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
