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
