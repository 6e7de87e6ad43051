"""AppTest of the Home page: every control path, reading what the page hands to the browser map and the metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.deckmaps import maps

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_home_opens_on_los_angeles():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value.startswith("Los Angeles")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sensors"] == "207"
    assert metrics["Missing readings"] == "8.1%"
    (m,) = maps(at)
    assert {"zpos", "rpos", "spos"} <= set(m.base_arrays) and len(m.base["ids"]) == 207
    assert len(m.arrays["values"]) == 207 and m.data["legend"]["unit"] == "mph"
    assert at.query_params["city"] in ("los-angeles", ["los-angeles"])


def test_home_switches_city_statistic_and_roads():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.sidebar.radio(key="home_stat").set_value("missing").run()
    values = maps(at)[0].arrays["values"]
    # each sensor's missing share; over sensors of equal length their mean is the headline's 8.1 %
    assert np.nanmean(values) == pytest.approx(0.0811, abs=5e-4) and np.nanmax(values) > 2 * np.nanmin(values)
    layer_roads = maps(at)[0].base_arrays["rstart"]
    at.sidebar.radio(key="home_roads").set_value("graph").run()
    (m,) = maps(at)
    assert m.base["road_source"] == "graph" and len(m.base_arrays["rstart"]) != len(layer_roads)
    assert np.all(np.diff(m.base_arrays["rstart"]) == 2)  # graph links: one segment each
    at.sidebar.selectbox(key="city").set_value("melbourne").run()
    assert not at.exception
    assert at.title[0].value.startswith("Melbourne")
    assert {m.label: m.value for m in at.metric}["Sensors"] == "39"
    assert len(maps(at)[0].arrays["values"]) == 39


def test_bad_city_in_link_falls_back():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["city"] = "../../etc"
    at.run()
    assert not at.exception
    assert any("Unknown city" in w.value for w in at.warning)
    assert at.title[0].value.startswith("Los Angeles")


def test_home_draws_its_chart_once_the_browser_has_drawn_a_map():
    """First page of a session: the chart's place is held and an invisible trigger waits for the map (the browser
    then asks for the chart's fragment); once the session has drawn a map, every run draws the chart at once."""
    import json

    from explorer.ui.overview import COMPONENT, READY

    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception and len(at.get("plotly_chart")) == 0
    (trigger,) = [c for c in at.get("bidi_component") if c.proto.component_name == COMPONENT]
    spec = json.loads(trigger.proto.json)
    assert spec["token"] and spec["data"] == maps(at)[0].data["key"]
    at.session_state[READY] = True  # what the trigger's callback sets before it reruns the chart's fragment
    at.run()
    (chart,) = at.get("plotly_chart")
    assert "through the day" in json.loads(chart.proto.spec)["layout"]["title"]["text"]
    (trigger,) = [c for c in at.get("bidi_component") if c.proto.component_name == COMPONENT]
    assert json.loads(trigger.proto.json)["token"] is None
