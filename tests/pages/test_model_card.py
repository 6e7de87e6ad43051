"""AppTest of the Model card page."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "model_card.py")


def test_model_card_compares_real_and_generated():
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params["city"] = "melbourne"
    at.run()
    assert not at.exception
    profile = json.loads(at.get("plotly_chart")[0].proto.spec)
    titles = [a["text"] for a in profile["layout"]["annotations"]]
    assert titles[0].startswith("Real:") and titles[1].startswith("Generated: 64")
    dist = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert [t["name"] for t in dist["data"]] == ["real", "generated"]
    text = " ".join(m.value for m in at.markdown)
    assert "Limits, in plain words" in " ".join(h.value for h in at.header)
    assert "masked history" in text
    meta = json.loads((Path(PAGE).parents[1] / "data/cities/melbourne/models/generator.json").read_text())
    gain = meta["metrics"]["event_gain"]
    assert f"then scaling it by {gain:.2f}" in text  # the checkpoint's own calibration
    at.selectbox(key="mc_dow").set_value(6).run()
    assert not at.exception
