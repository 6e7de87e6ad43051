"""The exports: a golden structure for the offline HTML report, and CSV / GeoJSON / PNG contents."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser

import pandas as pd
import pytest
from PIL import Image

from explorer.models.generator.api import generate
from explorer.render.scenario import Summary
from explorer.report import html_report, map_png, result_csv, result_geojson
from explorer.scenarios.schema import Scenario
from tests.generator_fixture import trained_generator


class _Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.scripts_src, self.h1 = [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id"))
        if tag == "script" and a.get("src"):
            self.scripts_src.append(a["src"])
        self.h1 += tag == "h1"


@pytest.fixture(scope="module")
def mel_result(melbourne):
    bundle = trained_generator(melbourne)
    sc = Scenario.model_validate({"city": "melbourne", "day": {"day_of_week": 4}, "start_hour": 16,
                                  "horizon_hours": 6, "events": [{"place": {"sensor_id": "4"}, "magnitude": 3000,
                                                                  "unit": "people", "start_offset_hours": 2,
                                                                  "duration_hours": 2, "reach_km": 0.3}]})
    res = generate(melbourne, sc, 32, 1, model=bundle)
    return res, Summary.of(res), bundle


def test_html_report_structure_is_golden_and_offline(melbourne, mel_result):
    res, summary, bundle = mel_result
    page = html_report(melbourne, res, summary, bundle.meta)
    outline = _Outline()
    outline.feed(page)
    assert outline.sections == ["scenario", "headline", "map", "charts", "model", "scenario-json"]
    assert outline.h1 == 1
    assert outline.scripts_src == []  # plotly.js is inline: the report opens offline
    assert page.count("Plotly.newPlot") == 3
    assert "Extra pedestrian-hours" in page
    assert json.loads(res.scenario.to_json())["events"][0]["magnitude"] == 3000


def test_report_escapes_labels(melbourne, mel_result):
    res, summary, bundle = mel_result
    labels = melbourne.sensors["label"].copy()
    try:
        melbourne.sensors.loc[melbourne.sensors["sensor_id"] == "4", "label"] = "<img src=x onerror=alert(1)>"
        page = html_report(melbourne, res, summary, bundle.meta)
    finally:
        melbourne.sensors["label"] = labels
    assert "<img src=x" not in page


def test_csv_geojson_png(melbourne, mel_result):
    res, summary, _ = mel_result
    df = pd.read_csv(io.BytesIO(result_csv(res, melbourne)))
    assert len(df) == 39 * 6 and df["generated"].all()
    assert {"baseline_p50", "scenario_p90", "difference_p10", "label"} <= set(df.columns)
    # an undated Friday from 16:00: its hours as the pages say them, not the reference week's dates (2000-01-07)
    assert df["time"].iloc[0] == "Friday 16:00" and df["time"].iloc[-1] == "Friday 21:00"
    assert not df["time"].str.contains("2000").any()
    gj = json.loads(result_geojson(melbourne, res, summary))
    assert len(gj["features"]) == 39
    top = max(gj["features"], key=lambda f: f["properties"]["peak_change"])
    assert top["properties"]["generated"] is True
    img = Image.open(io.BytesIO(map_png(melbourne, res, summary, 2)))
    assert img.size == (1200, 900)
    colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
    assert len(colours) > 10  # zones, roads, sensors, text were drawn


def test_extra_pedestrian_hours_card_says_what_was_asked(melbourne, mel_result):
    """The headline's help (and the report's table) puts the total beside the request: 3,000 people/h for 2 h."""
    from explorer.render.scenario import headline_cards

    res, _, _ = mel_result
    label, value, help_text = headline_cards(res, melbourne)[2]
    share = res.headline["share_of_request_p10_p50_p90"][1]
    assert label == "Extra pedestrian-hours" and "asked at the event's place: 6,000" in help_text
    assert f"{share:.2f}× the request" in help_text
    assert float(value.replace(",", "")) == pytest.approx(6000 * share, rel=0.01)
