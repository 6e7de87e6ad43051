"""Text from city data or from people is escaped wherever it is drawn as HTML.

A copy of Melbourne whose name, unit, sensor labels and zone names are script and image-onerror payloads (the
weights still fit: the manifest is not part of the data hash) goes through the real generator, then the map
tooltips (overview and scenario decks, whose tooltip templates deck.gl fills in as HTML), the legend, the HTML
report, the planning brief, and the projector / Have-your-say pages.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.cities import load_city
from explorer.models.generator.api import generate, load_generator
from explorer.render.overview import overview_map
from explorer.render.scenario import Summary, scenario_deck, scenario_legend, sensor_frame
from explorer.report import html_report
from explorer.scenarios.schema import Scenario
from explorer.voice.brief import brief_html, brief_markdown, build_brief
from tests.conftest import write_tiny_city

ROOT = Path(__file__).resolve().parents[2]
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
CLOSE = "</script><script>alert(3)</script>"
RAW = (IMG, SCRIPT, CLOSE, "<img src=x", "<script>alert")


def _no_raw(text: str, where: str) -> None:
    for bad in RAW:
        assert bad not in text, f"{where} draws {bad!r} unescaped"


def _no_raw_markdown(text: str, where: str) -> None:
    """In Markdown a tag is inert once its '<' is backslash-escaped."""
    hits = re.findall(r"(?<!\\)<(?:img|script|/script)", text)
    assert not hits, f"{where} draws {hits} unescaped"


@pytest.fixture(scope="module")
def evil(tmp_path_factory):
    """(city, result, summary, bundle) for an evil copy of Melbourne, with an event at sensor 4."""
    folder = tmp_path_factory.mktemp("evil") / "melbourne"
    shutil.copytree(ROOT / "data" / "cities" / "melbourne", folder)
    toml = folder / "city.toml"
    toml.write_text(toml.read_text().replace('name = "Melbourne"', f'name = "Melb {CLOSE}"')
                    .replace('unit = "people/hour"', f'unit = "{IMG}"'))
    city = load_city(folder)
    sensors = city.sensors
    for col in ("label", "where"):
        sensors[col] = sensors[col].astype(object)
        sensors.loc[sensors["sensor_id"] == "4", col] = IMG
        sensors.loc[sensors["sensor_id"] == "6", col] = CLOSE
    if city.zones is not None:
        city.zones["name"] = SCRIPT
    bundle = load_generator(city, folder / "models" / "generator")
    sc = Scenario.model_validate({
        "city": "melbourne", "day": {"day_of_week": 5}, "start_hour": 18, "horizon_hours": 6,
        "events": [{"place": {"sensor_id": "4"}, "magnitude": 3000, "unit": "people", "start_offset_hours": 1,
                    "duration_hours": 3, "reach_km": 0.5}]})
    result = generate(city, sc, 16, 0, model=bundle)
    return city, result, Summary.of(result), bundle


def test_scenario_map_tooltip_and_legend_are_escaped(evil) -> None:
    city, result, summary, _ = evil
    assert IMG in result.unit, "the payload really reached the result"
    for view in ("difference", "baseline", "scenario"):
        frame = sensor_frame(city, result, summary, 2, view)
        roads = pd.DataFrame({"path": [[[144.96, -37.81], [144.97, -37.82]]]})
        deck = scenario_deck(city, frame, roads, np.zeros(1, dtype=int))
        _no_raw(deck.to_json(), f"scenario map tooltip ({view})")
        assert "&lt;img src=x onerror=alert(1)&gt;" in deck.to_json()
        _no_raw(scenario_legend(result, summary, view, city.manifest.series.value_name), f"legend ({view})")
    assert "4" in set(frame["sensor_id"]), "the raw id stays usable for map selection"


def test_area_map_tooltip_is_escaped(evil) -> None:
    """Large cities draw h3 areas; a selected area's sensors are drawn one by one with their labels."""
    from explorer.render.aggregate import cell_frame, cell_summary, detail_frame, hex_deck, how_for, sensor_cells

    city, result, summary, _ = evil
    cells = sensor_cells(city)
    cs = cell_summary(result, cells, how_for(result.domain))
    frame = cell_frame(cells, cs, summary, 2, "difference")
    idx = np.arange(len(result.sensor_ids))
    detail = detail_frame(city, result, summary, 2, "difference", idx)
    deck = hex_deck(city, frame, result.unit, "difference", cell=str(frame["h"].iloc[0]), detail=detail).to_json()
    _no_raw(deck, "area map tooltip")
    assert "&lt;img src=x onerror=alert(1)&gt;" in deck


def test_overview_map_tooltip_is_escaped(evil, tmp_path: Path) -> None:
    city = evil[0]
    ov = overview_map(city, "mean")
    _no_raw(ov.deck.to_json(), "overview map tooltip")
    _no_raw(ov.legend, "overview legend")
    # a sensor id is city data too: it is drawn in the tooltip
    d = write_tiny_city(tmp_path / "tiny")
    fc = json.loads((d / "sensors.geojson").read_text())
    fc["features"][1]["properties"]["sensor_id"] = "b<img src=x onerror=alert(4)>"
    (d / "sensors.geojson").write_text(json.dumps(fc))
    head, rest = (d / "series.csv").read_text().split("\n", 1)
    (d / "series.csv").write_text(head.replace(",b,", ",b<img src=x onerror=alert(4)>,") + "\n" + rest)
    deck = overview_map(load_city(d), "mean").deck.to_json()
    assert "<img src=x onerror=alert(4)>" not in deck and "b&lt;img src=x onerror=alert(4)&gt;" in deck


def test_html_report_is_escaped(evil) -> None:
    city, result, summary, bundle = evil
    page = html_report(city, result, summary, bundle.meta)
    _no_raw(page, "HTML report")
    assert "Melb &lt;/script&gt;" in page, "the city name is shown, escaped"


def test_planning_brief_is_escaped(evil) -> None:
    city, result, _, _ = evil
    brief = build_brief(result, city)
    _no_raw(brief_html(brief), "brief (HTML)")
    _no_raw_markdown(brief_markdown(brief), "brief (Markdown)")


def test_projector_and_phone_page_escape_titles_and_feedback(tmp_path: Path, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    from explorer.voice.store import Store

    url = f"sqlite:///{tmp_path / 'w.db'}"
    monkeypatch.setenv("EXPLORER_DB_URL", url)
    store = Store(url)
    sc = Scenario.model_validate({"city": "melbourne", "day": {"day_of_week": 5}, "start_hour": 18,
                                  "horizon_hours": 6, "events": []})
    store.post_scenario("melbourne", f"Vote {SCRIPT} {IMG}", sc.to_json())
    store.add_feedback("melbourne", f"Shade please {IMG} {CLOSE}", "ab" * 16, sensor_id="4")
    for page in ("projector.py", "have_your_say.py"):
        at = AppTest.from_file(str(ROOT / "app_pages" / page), default_timeout=120)
        at.query_params["city"] = "melbourne"
        at.run()
        assert not at.exception
        drawn = "\n".join(m.value for m in at.markdown if "<style>" not in m.value)
        _no_raw_markdown(drawn, page)
        assert "Vote" in drawn, f"{page} shows the posted scenario's title"
