"""AppTest of the What-if and Compare pages: every control path, reading what the pages hand to the browser map
(its payloads: AppTest cannot run the component's JavaScript) and the metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.geo import great_circle_km
from explorer.models.generator.api import generate
from explorer.scenarios.schema import Scenario
from explorer.share import SharedRun, encode
from tests.generator_fixture import trained_generator
from tests.pages.deckmaps import maps

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app_pages" / "scenario.py")
COMPARE = str(ROOT / "app_pages" / "compare.py")


def _sensors(at, hour: int) -> dict[str, dict]:
    """Per sensor at ``hour``: the medians and significance the browser draws (baseline, scenario, change)."""
    (m,) = maps(at)
    qb, qs, qd = m.q("qb"), m.q("qs"), m.q("qd")
    pos = m.base_arrays["spos"].reshape(-1, 2)
    return {sid: {"baseline": qb[1, hour, j], "scenario": qs[1, hour, j], "change": qd[1, hour, j],
                  "significant": bool(qd[0, hour, j] > 0 or qd[2, hour, j] < 0), "lon": pos[j, 0], "lat": pos[j, 1]}
            for j, sid in enumerate(m.base["ids"])}


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture()
def la_page():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params["city"] = "los-angeles"
    return at.run()


def test_opens_on_a_preset_with_an_event_and_a_shareable_link(la_page):
    at = la_page
    assert not at.exception
    assert at.title[0].value == "What if… Los Angeles"
    assert at.sidebar.toggle(key="sc_has_event").value is True  # the first preset that has an event
    (m,) = maps(at)
    assert m.opts["three_d"] is True and m.opts["view"] == "difference"
    assert len(m.base["ids"]) == 207 and m.data["n"] == 207 and m.data["mode"] == "sensors"
    assert 0 <= m.opts["hour"] < len(m.data["hours"])
    assert m.data["legends"]["difference"]["no_change"] is None  # an event: a real range
    assert m.data["legends"]["difference"]["lo"] != m.data["legends"]["difference"]["hi"]
    assert set(at.query_params) >= {"city", "s", "seed", "n", "model"}
    assert "Sensors affected" in _metrics(at)


def test_every_hour_and_view_goes_to_the_browser_at_once(la_page):
    """Hours, views and 2D/3D switch in the browser: the page sends the quantiles of every hour once, and no
    widget of the page moves the hour (there is no hour slider or view control to rerun the script)."""
    at = la_page
    (m,) = maps(at)
    h = len(m.data["hours"])
    for name in ("qb", "qs", "qd"):
        assert m.q(name).shape == (3, h, 207)
        assert np.all(np.diff(m.q(name), axis=0) >= -1e-4)  # P10 <= P50 <= P90
    assert np.all((m.q("qb")[1] > 0) & (m.q("qb")[1] < 90))  # speeds in mph
    assert not [s for s in at.slider if s.key == "sc_hour"] and not [t for t in at.toggle if t.key == "sc_3d"]
    assert m.data["hours"][0].split()[0] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def test_event_slows_traffic_at_its_place(la_page):
    at = la_page
    place = "767541"
    at.sidebar.toggle(key="sc_has_event").set_value(True).run()
    at.sidebar.selectbox(key="sc_place").set_value(f"s:{place}").run()
    at.sidebar.slider(key="sc_mag").set_value(60.0).run()
    at.sidebar.slider(key="sc_offset").set_value(2).run()
    at.sidebar.slider(key="sc_duration").set_value(3).run()
    assert not at.exception
    rows = _sensors(at, 3)
    row = rows[place]
    assert row["change"] < -5, row  # slower at the place during the event (mph)
    assert row["scenario"] < row["baseline"]
    assert row["significant"]
    # away from the event, outside its reach, nothing significant changes at that hour
    others = list(rows.values())
    lat, lon = np.array([r["lat"] for r in others]), np.array([r["lon"] for r in others])
    km = great_circle_km(row["lat"], row["lon"], lat, lon)
    far = [r for r, d in zip(others, km, strict=True) if d > 10]  # reach is 2 km
    assert len(far) > 50
    assert np.mean([abs(r["change"]) for r in far]) < abs(row["change"]) / 5
    assert _metrics(at)["Sensors affected"] != "0 of 207"


def test_no_event_legend_says_no_change():
    """A scenario without an event changes nothing: the difference legend says so instead of "+0.0 … -0.0"."""
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params["city"] = "los-angeles"
    at.run()
    at.sidebar.toggle(key="sc_has_event").set_value(False).run()
    assert not at.exception
    (m,) = maps(at)
    legend = m.data["legends"]["difference"]
    assert legend["no_change"] and legend["no_change"].startswith("No change")
    assert m.data["legends"]["baseline"]["no_change"] is None  # values still span a real range


@pytest.mark.usefixtures("la_page")
def test_shared_link_reproduces_numbers():
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
    seen = maps(cmp)
    assert len(seen) == 2 and seen[0].opts["three_d"] is False
    assert seen[0].base["key"] == seen[1].base["key"]  # one city: its layers are carried once
    assert sum(el.proto.WhichOneof("data") == "bytes" for el in cmp.get("bidi_component")) == 3
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
        (m,) = maps(cmp)
        assert m.base["mode"] == m.data["mode"] == "cells" and sum(m.base["cell_counts"]) == 207
        assert m.q("qd").shape == (3, 6, len(m.base["cell_ids"]))
    finally:
        get_settings.cache_clear()
