"""The projector offers for votes the scenarios this session has for its city: the last 'Ask the city' question
only when it was read for that city (explorer.ui.voice.vote_candidates)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.ui import ask_state
from explorer.voice.parser import parse_offline

PROJ = str(Path(__file__).resolve().parents[2] / "app_pages" / "projector.py")
ASKED = "Last 'Ask the city' question"


@pytest.fixture(autouse=True)
def _workshop_db(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EXPLORER_DB_URL", f"sqlite:///{tmp_path / 'workshop.db'}")
    monkeypatch.delenv("EXPLORER_FACILITATOR_PIN", raising=False)
    monkeypatch.delenv("EXPLORER_LLM_URL", raising=False)


def _projector(city: str) -> AppTest:
    at = AppTest.from_file(PROJ, default_timeout=180)
    ss: dict = {}
    res = parse_offline("2000 people at Princes Bridge on Saturday at 7pm", "melbourne", dt.date(2026, 11, 30))
    ask_state.read(ss, "melbourne", res)
    for k, v in ss.items():
        at.session_state[k] = v
    at.query_params["city"] = city
    return at.run()


def test_the_asked_scenario_is_offered_for_its_city_only() -> None:
    at = _projector("melbourne")
    assert not at.exception
    assert ASKED in at.selectbox(key="proj_src").options
    other = _projector("los-angeles")
    assert not other.exception
    assert not any(s.key == "proj_src" for s in other.selectbox), "a Melbourne question is not offered in LA"
