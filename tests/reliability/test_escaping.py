"""Text from city data or from people is escaped wherever it is drawn as HTML.

A copy of Melbourne whose name, unit, sensor labels and zone names are script and image-onerror payloads (the
weights still fit: the manifest is not part of the data hash) goes through the real generator, then the browser
map's tooltips (built from the payloads by the map's own frames.js, run in Node: the What-if sensors, a large
city's areas and their sensors, Home's sensors and areas; legends and notes are set as text, never as HTML), the
HTML report, the planning brief, and the projector / Have-your-say pages.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from explorer.cities import load_city
from explorer.models.generator.api import generate, load_generator
from explorer.render.mapdata import base_payload, scenario_payload, stat_payload
from explorer.render.scenario import Summary
from explorer.report import html_report
from explorer.scenarios.schema import Scenario
from explorer.voice.brief import brief_html, brief_markdown, build_brief
from tests.conftest import write_tiny_city

ROOT = Path(__file__).resolve().parents[2]
FRAMES = ROOT / "explorer" / "ui" / "deckmap" / "frontend" / "src" / "frames.js"
NODE = shutil.which("node")
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


def _js(calls: list[list]) -> list[str]:
    """Call the browser map's tooltip builders (frames.js) in Node: ``[[name, *args], ...]`` -> their HTML."""
    if NODE is None:
        pytest.skip("node is not installed (the map's tooltips are JavaScript)")
    code = (f"import * as F from {json.dumps(FRAMES.as_uri())}; import {{ readFileSync }} from 'fs';"
            "const calls = JSON.parse(readFileSync(0, 'utf8'));"
            "process.stdout.write(JSON.stringify(calls.map(([n, ...a]) => F[n](...a))));")
    out = subprocess.run([NODE, "--input-type=module", "-e", code], input=json.dumps(calls), capture_output=True,
                         text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def _list(a: np.ndarray) -> list:
    """An array as JSON can carry it (NaN -> null, which the tooltips show as "no data")."""
    return [None if not np.isfinite(x) else float(x) for x in np.asarray(a, float).ravel()]


def test_scenario_map_tooltips_are_escaped(evil) -> None:
    city, result, summary, _ = evil
    assert IMG in result.unit, "the payload really reached the result"
    base = base_payload(city, "layer", aggregate_above=10_000)
    data = scenario_payload(city, result, summary, base)
    h, a = data.header, data.arrays
    src = {k: _list(a[k]) for k in ("qb", "qs", "qd")}
    calls = [["sensorTip", label, sid, src, len(h["hours"]), h["n"], 2, m, view, h["unit"]]
             for m, (label, sid) in enumerate(zip(base.header["labels"], base.header["ids"], strict=True))
             for view in ("difference", "baseline", "scenario")]
    tips = _js(calls)
    for tip in tips:
        _no_raw(tip, "scenario map tooltip")
    assert any("&lt;img src=x onerror=alert(1)&gt;" in t for t in tips), "the label is shown, escaped"
    assert "4" in base.header["ids"], "the raw id stays usable for map selection"
    for view, legend in h["legends"].items():  # legends are data the map sets as text (textContent)
        assert IMG in legend["unit"], f"legend ({view}) carries the raw text, not HTML"


def test_area_map_tooltips_are_escaped(evil) -> None:
    """Large cities draw h3 areas; a selected area's sensors are drawn one by one with their labels."""
    city, result, summary, _ = evil
    base = base_payload(city, "layer", aggregate_above=1)
    first = base.header["cell_ids"][0]
    data = scenario_payload(city, result, summary, base, cell=first)
    h, a = data.header, data.arrays
    H, n, d = len(h["hours"]), h["n"], h["detail"]
    cells = {k: _list(a[k]) for k in ("qb", "qs", "qd")}
    detail = {"qb": _list(a["dqb"]), "qs": _list(a["dqs"]), "qd": _list(a["dqd"])}
    calls = [["cellTip", cells, H, n, 1, m, "scenario", h["unit"], base.header["cell_counts"][m], 1.0, 2.0]
             for m in range(n)]
    calls += [["sensorTip", label, sid, detail, H, len(d["ids"]), 1, m, "difference", h["unit"]]
              for m, (label, sid) in enumerate(zip(d["labels"], d["ids"], strict=True))]
    tips = _js(calls)
    for tip in tips:
        _no_raw(tip, "area map tooltip")
    assert any("&lt;img src=x onerror=alert(1)&gt;" in t for t in tips)


def test_home_map_tooltips_are_escaped(evil, tmp_path: Path) -> None:
    city = evil[0]
    for above in (10_000, 1):  # sensors one by one, then h3 areas
        base = base_payload(city, "layer", aggregate_above=above)
        stat = stat_payload(city, "mean", base)
        h, a = stat.header, stat.arrays
        if above > 1:
            calls = [["statSensorTip", lab, sid, h["label"], float(v), h["share"]]
                     for lab, sid, v in zip(base.header["labels"], base.header["ids"], a["values"], strict=True)]
        else:
            calls = [["statCellTip", h["label"], float(v), c, float(lo), float(hi), h["share"]]
                     for v, c, lo, hi in zip(a["values"], base.header["cell_counts"], a["lo"], a["hi"], strict=True)]
        for tip in _js(calls):
            _no_raw(tip, "Home map tooltip")
    # a sensor id is city data too: it is drawn in the tooltip
    d = write_tiny_city(tmp_path / "tiny")
    fc = json.loads((d / "sensors.geojson").read_text())
    fc["features"][1]["properties"]["sensor_id"] = "b<img src=x onerror=alert(4)>"
    (d / "sensors.geojson").write_text(json.dumps(fc))
    head, rest = (d / "series.csv").read_text().split("\n", 1)
    (d / "series.csv").write_text(head.replace(",b,", ",b<img src=x onerror=alert(4)>,") + "\n" + rest)
    tiny = load_city(d)
    base = base_payload(tiny, "layer", aggregate_above=10_000)
    stat = stat_payload(tiny, "mean", base)
    tips = _js([["statSensorTip", lab, sid, stat.header["label"], float(v), False] for lab, sid, v in
                zip(base.header["labels"], base.header["ids"], stat.arrays["values"], strict=True)])
    joined = "".join(tips)
    assert "<img src=x onerror=alert(4)>" not in joined and "b&lt;img src=x onerror=alert(4)&gt;" in joined


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
