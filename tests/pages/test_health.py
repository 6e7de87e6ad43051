"""AppTest of the Data health page: missingness, and measured vs imputed with bands."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "health.py")


def _values(v) -> list:
    """A trace's array as a list (plotly writes numeric arrays as base64 typed arrays); NaN -> None."""
    if isinstance(v, dict) and "bdata" in v:
        v = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return [None if isinstance(x, float) and np.isnan(x) else x for x in v]


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
    assert names == ["Imputed P10–P90", *["Sampled fills (imputed)"] * 3, "Measured", "Imputed (model)"]
    model = series["data"][-1]
    imputed = [y for y in _values(model["y"]) if y is not None]
    assert imputed, "the chosen week should contain imputed readings"
    assert model["line"]["dash"] == "dash"  # imputed never looks measured
    assert "not measured" in model["hovertemplate"]
    band = _band(series["data"][0])
    assert band and series["data"][0]["fill"] == "toself"
    for trace in series["data"][1:4]:  # thin sampled fills, labelled imputed where they are
        y, text = _values(trace["y"]), trace["text"]
        assert trace["line"]["width"] == 1 and any("imputed" in t for t in text)
        inside = [band[pd.Timestamp(x)][0] - 1e-3 <= v <= band[pd.Timestamp(x)][1] + 1e-3
                  for x, v, t in zip(trace["x"], y, text, strict=True) if v is not None and "imputed" in t]
        assert inside and sum(inside) / len(inside) > 0.5  # mostly inside the P10-P90 band, as samples are
    assert _values(series["data"][1]["y"]) != _values(series["data"][2]["y"])  # different draws


def _band(trace: dict) -> dict:
    """{time: (P10, P90)} from the band's outlines (P90 forwards, P10 back, closed, None between runs)."""
    xs, ys = trace["x"], _values(trace["y"])
    out, start = {}, 0
    for i, x in enumerate([*xs, None]):
        if x is None and i > start:
            n = (i - start - 1) // 2
            for j in range(n):
                out[pd.Timestamp(xs[start + j])] = (ys[start + 2 * n - 1 - j], ys[start + j])
            start = i + 1
    return out


def test_band_path_outlines_each_gap_and_pinches_to_measurements():
    from explorer.render.health import band_path

    x = pd.date_range("2020-01-01", periods=8, freq="h")
    lo = np.array([1, 1, 0, 1, 1, 5, np.nan, 1], float)
    hi = np.array([1, 1, 3, 1, 1, 5, np.nan, 1], float)
    keep = np.array([0, 1, 1, 1, 0, 1, 1, 0], bool)  # two runs; the second loses its NaN step
    xs, ys = band_path(x, lo, hi, keep)
    assert xs == [*x[1:4], *x[1:4][::-1], x[1], None, x[5], x[5], x[5], None]
    assert ys == [1, 3, 1, 1, 0, 1, 1, None, 5, 5, 5, None]


def test_health_page_switches_sensor():
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params["city"] = "los-angeles"
    at.run()
    at.selectbox(key="dh_sensor").set_value("767541").run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[2].proto.spec)
    assert "767541" in spec["layout"]["title"]["text"]


def test_missing_charts_fit_their_rows_and_titles():
    """The heatmap has one category row per sensor (Melbourne, 39) or per zone (Los Angeles, 207 sensors in 36
    neighbourhoods and the rest), its plot as tall as its rows need; titles are wrapped to fit a half-page
    chart; a zone's row is the mean of its sensors' rows."""
    from explorer.cities import load_city
    from explorer.render.health import missing_by_day, missing_by_sensor_figure, missing_over_time_figure
    from explorer.render.readable import CHAR_EM, sensor_zones

    for slug, rows in (("melbourne", 39), ("los-angeles", 37)):
        city = load_city(slug)
        fig = missing_over_time_figure(city).to_plotly_json()
        heat = fig["data"][0]
        assert len(heat["y"]) == rows and fig["layout"]["yaxis"]["type"] == "category"
        assert list(fig["layout"]["yaxis"]["categoryarray"]) == [str(y) for y in heat["y"]]
        assert fig["layout"]["height"] >= 150 + 14 * rows  # each row at least 14 px tall
        bars = missing_by_sensor_figure(city).to_plotly_json()
        for f in (fig, bars):
            assert all(len(line) * 16 * CHAR_EM <= 380 for line in f["layout"]["title"]["text"].split("<br>"))
        assert len(bars["data"][0]["y"]) == 40 if len(city.series.columns) > 40 else 39
    city = load_city("los-angeles")
    zones = sensor_zones(city)
    glendale = [s for s, z in zones.items() if z == "Glendale"]
    by_day = missing_by_day(city)
    heat = missing_over_time_figure(city).data[0]
    row = list(heat.y).index(f"Glendale ({len(glendale)} sensors)")
    expected = by_day.loc[glendale].mean().to_numpy() * 100
    assert np.allclose(np.asarray(heat.z)[row], expected, equal_nan=True)


def test_the_page_speaks_plainly_first_with_figures_in_a_table():
    import json as _json

    from explorer.render.health import imputer_figures, imputer_summary

    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params["city"] = "melbourne"
    at.run()
    assert not at.exception
    first = next(m.value for m in at.markdown if m.value.startswith("**The gap-filling model.**"))
    assert "Good at filling scattered missing readings" in first and "not good at" in first
    assert "Measured on readings hidden from the last 20 % of the history" in first
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not [t for t in texts if "{" in t and "<style>" not in t]  # no raw dictionaries on the page
    meta = _json.loads((Path(PAGE).parents[1] / "data/cities/melbourne/models/imputer.json").read_text())
    table = imputer_figures(meta, "people/hour").set_index("Measure")
    mae = meta["metrics"]["point"]["mae"]
    assert table.loc["Average error", "Scattered missing readings"] == f"{mae:,.1f} people/hour"
    assert f"{mae:,.1f} people/hour off on average" in imputer_summary(meta, "people/hour")
    assert len(at.table) == 2  # the figures, and (in the expander) how it was trained and calibrated
