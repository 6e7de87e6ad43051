"""AppTest of the What-if and Compare pages: every control path, reading the pydeck spec and the metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.cities.graph import haversine_km
from explorer.models.generator.api import generate
from explorer.scenarios.schema import Scenario
from explorer.share import SharedRun, encode
from tests.generator_fixture import trained_generator

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app_pages" / "scenario.py")
COMPARE = str(ROOT / "app_pages" / "compare.py")


def _deck(at, i: int = 0) -> dict:
    return json.loads(at.get("deck_gl_json_chart")[i].proto.json)


def _sensors(at) -> dict[str, dict]:
    layer = next(layer for layer in _deck(at)["layers"] if layer["id"] == "sensors")
    return {row["sensor_id"]: row for row in layer["data"]}


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture()
def la_page():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params["city"] = "los-angeles"
    return at.run()


def test_opens_with_a_baseline_and_a_shareable_link(la_page):
    at = la_page
    assert not at.exception
    assert at.title[0].value == "What if… Los Angeles"
    deck = _deck(at)
    assert [layer["id"] for layer in deck["layers"]][:3] == ["zones", "roads", "sensors"]
    assert deck["layers"][2]["@@type"] == "ColumnLayer"  # 3D by default
    assert len(_sensors(at)) == 207
    assert set(at.query_params) >= {"city", "s", "seed", "n", "model"}
    assert "Sensors affected" in _metrics(at)


def test_event_slows_traffic_at_its_place(la_page):
    at = la_page
    place = "767541"
    at.sidebar.toggle(key="sc_has_event").set_value(True).run()
    at.sidebar.selectbox(key="sc_place").set_value(f"s:{place}").run()
    at.sidebar.slider(key="sc_mag").set_value(60.0).run()
    at.sidebar.slider(key="sc_offset").set_value(2).run()
    at.sidebar.slider(key="sc_duration").set_value(3).run()
    at.slider(key="sc_hour").set_value(3).run()
    assert not at.exception
    row = _sensors(at)[place]
    assert row["change"] < -5, row  # slower at the place during the event (mph)
    assert row["scenario"] < row["baseline"]
    assert row["significant"]
    # away from the event, outside its reach, nothing significant changes at that hour
    rows = list(_sensors(at).values())
    lat, lon = np.array([r["lat"] for r in rows]), np.array([r["lon"] for r in rows])
    km = haversine_km(np.r_[row["lat"], lat], np.r_[row["lon"], lon])[0, 1:]
    far = [r for r, d in zip(rows, km, strict=True) if d > 10]  # reach is 2 km
    assert len(far) > 50
    assert np.mean([abs(r["change"]) for r in far]) < abs(row["change"]) / 5
    assert _metrics(at)["Sensors affected"] != "0 of 207"


def test_views_and_2d(la_page):
    at = la_page
    at.session_state["sc_view"] = "baseline"
    at.toggle(key="sc_3d").set_value(False).run()
    assert not at.exception
    layer = _deck(at)["layers"][2]
    assert layer["@@type"] == "ScatterplotLayer"
    assert all(10 < r["baseline"] < 75 for r in layer["data"])


def test_shared_link_reproduces_numbers(la_page):
    sc = Scenario.model_validate({"city": "los-angeles", "day": {"day_of_week": 4}, "start_hour": 15,
                                  "horizon_hours": 6, "events": [{"place": {"sensor_id": "767541"},
                                                                  "magnitude": 40, "unit": "percent_slower",
                                                                  "start_offset_hours": 1, "duration_hours": 2,
                                                                  "reach_km": 1.0}]})
    at = AppTest.from_file(PAGE, default_timeout=180)
    for k, v in encode(SharedRun(sc, 11, 32, "")).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    assert at.sidebar.slider(key="sc_start").value == 15
    assert at.sidebar.slider(key="sc_mag").value == 40.0
    from explorer.cities import load_city

    city = load_city("los-angeles")
    direct = generate(city, sc, 32, 11, model=trained_generator(city))
    assert _metrics(at)["Peak change (mph)"] == f"{direct.headline['peak_change']:+,.1f}"


def test_bad_link_falls_back_with_a_warning():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params["city"] = "melbourne"
    at.query_params["s"] = "bm90IGEgc2NlbmFyaW8"  # "not a scenario"
    at.run()
    assert not at.exception
    assert any("could not be used" in w.value for w in at.warning)
    assert at.title[0].value == "What if… Melbourne"


def test_workshop_mode_hides_technical_controls():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params["city"] = "melbourne"
    at.query_params["workshop"] = "1"
    at.run()
    assert not at.exception
    assert not [n for n in at.number_input if n.key == "sc_seed"]
    assert not at.get("download_button")
    assert any("font-size: 22px" in m.value for m in at.markdown)


def test_tour_and_compare():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params["city"] = "melbourne"
    at.run()
    at.sidebar.button(key="sc_tour_1").click().run()
    assert at.sidebar.toggle(key="sc_has_event").value is True
    assert at.sidebar.slider(key="sc_mag").value == 20000.0
    at.button(key="sc_keep").click().run()
    saved = at.session_state["saved_scenarios"]
    assert len(saved) == 1
    cmp = AppTest.from_file(COMPARE, default_timeout=180)
    cmp.session_state["saved_scenarios"] = saved + [{**saved[0], "seed": 5}]
    cmp.run()
    assert not cmp.exception
    assert len(cmp.get("deck_gl_json_chart")) == 2
    assert sum(m.label == "Peak change (people/hour)" for m in cmp.metric) == 2


def test_compare_draws_areas_for_a_large_city(monkeypatch):
    """Above the aggregation threshold the Compare maps are h3 areas, as on the What-if page (Los Angeles with a
    threshold of 100 stands in for a large city)."""
    monkeypatch.setenv("EXPLORER_MAP_AGGREGATE_ABOVE", "100")
    from explorer.settings import get_settings

    get_settings.cache_clear()
    try:
        sc = Scenario.model_validate({
            "city": "los-angeles", "day": {"day_of_week": 4}, "start_hour": 16, "horizon_hours": 6,
            "events": [{"place": {"sensor_id": "717445"}, "magnitude": 40, "unit": "percent_slower",
                        "start_offset_hours": 1, "duration_hours": 3, "reach_km": 3}]})  # fmt: skip
        cmp = AppTest.from_file(COMPARE, default_timeout=180)
        cmp.session_state["saved_scenarios"] = [{"city": "los-angeles", "scenario": sc.to_json(), "n": 16, "seed": 0}]
        cmp.run()
        assert not cmp.exception
        (layer,) = [x for x in _deck(cmp)["layers"] if x["id"] == "cells"]
        assert layer["@@type"] == "H3HexagonLayer" and sum(row["n"] for row in layer["data"]) == 207
    finally:
        get_settings.cache_clear()
