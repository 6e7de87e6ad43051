"""AppTest of the Data health page: missingness, and measured vs imputed with bands."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "health.py")


def _chart(at, key: str) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id).proto.spec)


def test_health_page_melbourne_shows_imputed_with_bands():
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params["city"] = "melbourne"
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sensors"] == "39"
    assert float(metrics["Missing while installed"].rstrip("%")) < float(metrics["Missing overall"].rstrip("%"))
    charts = at.get("plotly_chart")
    assert len(charts) == 3
    series = json.loads(charts[2].proto.spec)
    names = [t.get("name") for t in series["data"]]
    assert names[1:] == ["Imputed P10–P90", "Measured", "Imputed (model)"]
    imputed = [y for y in series["data"][3]["y"] if y is not None]
    assert imputed, "the chosen week should contain imputed readings"
    assert series["data"][3]["line"]["dash"] == "dash"  # imputed never looks measured
    assert "not measured" in series["data"][3]["hovertemplate"]


def test_health_page_switches_sensor():
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params["city"] = "los-angeles"
    at.run()
    at.selectbox(key="dh_sensor").set_value("767541").run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[2].proto.spec)
    assert "767541" in spec["layout"]["title"]["text"]
