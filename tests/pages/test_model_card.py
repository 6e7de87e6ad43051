"""AppTest of the Model card page."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "model_card.py")


def test_model_card_shows_a_held_out_event_and_compares_real_and_generated_days():
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params["city"] = "melbourne"
    at.run()
    assert not at.exception
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    foot = charts[0]
    titles = [a["text"] for a in foot["layout"]["annotations"]]
    assert titles[:2] == ["What really happened", "Generated from the origin only"]
    names = [t.get("name") for t in foot["data"]]
    assert "real" in names and "generated (median)" in names and "origin (asked)" in names
    profile = charts[1]
    titles = [a["text"] for a in profile["layout"]["annotations"]]
    assert titles[0].startswith("Real:") and titles[1].startswith("Generated: 64")
    assert [t["name"] for t in charts[2]["data"]] == ["real", "generated"]
    text = " ".join(m.value for m in at.markdown)
    assert "Limits, in plain words" in " ".join(h.value for h in at.header)
    assert "**Good at**" in text and "**Measured on**" in text
    # the stored results as plain sentences and tables that fit (a column per method, this model first)
    assert "this model reproduces" in text and "On days it never saw, this model's" in text
    assert "On readings hidden from it: scattered missing readings:" in text
    tables = [t.value for t in at.table]
    assert len(tables) >= 4 and all(t.columns[0] == "This model" for t in tables[:2])
    assert all(len(t.columns) <= 8 for t in tables)
    cells = " ".join(" ".join(map(str, [*t.index, *t.columns, *t.to_numpy().ravel()])) for t in tables)
    assert "{" not in text and "{" not in cells  # no raw settings dictionary anywhere
    meta = json.loads((Path(PAGE).parents[1] / "data/cities/melbourne/models/generator.json").read_text())
    gain = meta["metrics"]["event_gain"]
    assert f"the learned response is scaled by {gain:.2f}" in text  # the checkpoint's own calibration
    # what is set rather than learned is said: Melbourne's response keeps its origin's sign
    assert meta["config"]["same_sign"] and "Sign of the event response (set, not learned)" in text
    at.selectbox(key="mc_dow").set_value(6).run()
    assert not at.exception
