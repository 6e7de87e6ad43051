"""AppTest of the Home page: every control path, reading the pydeck spec and the metrics."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _deck(at) -> dict:
    return json.loads(at.get("deck_gl_json_chart")[0].proto.json)


def test_home_opens_on_los_angeles():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value.startswith("Los Angeles")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sensors"] == "207"
    assert metrics["Missing readings"] == "8.1%"
    deck = _deck(at)
    assert [layer["id"] for layer in deck["layers"]] == ["zones", "roads", "sensors"]
    assert len(deck["layers"][2]["data"]) == 207
    assert at.query_params["city"] in ("los-angeles", ["los-angeles"])


def test_home_switches_city_statistic_and_roads():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.sidebar.radio(key="home_stat").set_value("missing").run()
    values = [s["value"] for s in _deck(at)["layers"][2]["data"]]
    assert 0 <= min(values) and max(values) < 0.5
    at.sidebar.radio(key="home_roads").set_value("graph").run()
    assert _deck(at)["layers"][1]["data"][0]["name"] == "sensor graph link"
    at.sidebar.selectbox(key="city").set_value("melbourne").run()
    assert not at.exception
    assert at.title[0].value.startswith("Melbourne")
    assert {m.label: m.value for m in at.metric}["Sensors"] == "39"
    assert len(_deck(at)["layers"][-1]["data"]) == 39


def test_bad_city_in_link_falls_back():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["city"] = "../../etc"
    at.run()
    assert not at.exception
    assert any("Unknown city" in w.value for w in at.warning)
    assert at.title[0].value.startswith("Los Angeles")
