"""AppTest of the three citizen-voice pages: Ask the city, Have your say, Projector."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.scenarios.schema import Scenario
from explorer.voice.store import Store

ROOT = Path(__file__).resolve().parents[2]
ASK = str(ROOT / "app_pages" / "ask.py")
SAY = str(ROOT / "app_pages" / "have_your_say.py")
PROJ = str(ROOT / "app_pages" / "projector.py")
EVIL = "<script>alert(1)</script> **shout** [x](http://evil)"


@pytest.fixture()
def db_url(tmp_path: Path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'workshop.db'}"
    monkeypatch.setenv("EXPLORER_DB_URL", url)
    monkeypatch.delenv("EXPLORER_LLM_URL", raising=False)
    return url


def _page(path: str, city: str) -> AppTest:
    at = AppTest.from_file(path, default_timeout=180)
    at.query_params["city"] = city
    return at.run()


def test_ask_parses_edits_runs_and_briefs() -> None:
    at = _page(ASK, "melbourne")
    assert not at.exception
    at.text_area(key="ask_text").input("Flinders St station gets twice the usual crowd on New Year's Eve")
    at.button(key="ask_parse").click().run()
    assert not at.exception
    assert at.session_state["ask_mag"] == 100.0 and at.session_state["ask_unit"] == "percent"
    assert at.session_state["ask_date"] == "2014-12-31"
    assert any("offline parser" in c.value for c in at.caption)
    table = at.table[0].value
    assert "place" in set(table["field"])
    assert any("Flinders Street Station Underpass" in v for v in table["this question"])
    at.number_input(key="ask_mag").set_value(200.0).run()
    at.button(key="ask_run").click().run()
    assert not at.exception
    assert [m.label for m in at.metric][0].startswith("Peak change")
    brief = "\n".join(m.value for m in at.markdown)
    assert "Planning brief" in brief and "200 % more people" in brief
    assert len(at.get("download_button")) == 2


def test_ask_says_its_assumptions_and_offers_did_you_mean() -> None:
    at = _page(ASK, "melbourne")
    assert not at.exception
    examples = [b for b in at.button if b.key and b.key.startswith("ask_example_")]
    assert examples, "the city's example questions are offered"
    examples[0].click().run()
    assert at.text_area(key="ask_text").value == examples[0].label
    at.text_area(key="ask_text").input("5,000 extra people on Swanston Street for 90 minutes on Saturday")
    at.button(key="ask_parse").click().run()
    assert not at.exception
    said = "\n".join(m.value for m in at.markdown)
    assert "What I assumed" in said and "Swanston Street has 2 counters" in said
    radio = at.radio(key="ask_dym")
    assert len(radio.options) == 2 and at.session_state["ask_duration"] == 2
    other = next(o for o in radio.options if o != radio.value)
    radio.set_value(other).run()
    assert not at.exception
    assert at.session_state["ask_place"] == at.session_state["ask_dym"] != ""


def test_ask_refuses_honestly() -> None:
    at = _page(ASK, "los-angeles")
    at.text_area(key="ask_text").input("what if they close the 101 near downtown")
    at.button(key="ask_parse").click().run()
    assert not at.exception and not at.metric
    assert "closing" in at.warning[0].value


def test_ask_escapes_the_question_in_the_brief() -> None:
    at = _page(ASK, "melbourne")
    at.text_area(key="ask_text").input(f"twice the usual at Princes Bridge {EVIL}")
    at.button(key="ask_parse").click().run()
    at.button(key="ask_run").click().run()
    brief = next(m.value for m in at.markdown if "Planning brief" in m.value)
    assert "<script>" not in brief and "\\<script\\>" in brief


def test_open_in_what_if_loads_the_widgets() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["city"] = "los-angeles"
    at.run()
    at.switch_page("app_pages/ask.py").run()
    at.text_area(key="ask_text").input("Hollywood 40% slower on Friday at 6pm")
    at.button(key="ask_parse").click().run()
    at.button(key="ask_open").click().run()
    assert not at.exception
    assert at.title[0].value.startswith("What if")
    assert (at.session_state["sc_mag"], at.session_state["sc_dow"], at.session_state["sc_unit"]) == (
        40.0, 4, "percent_slower")
    assert at.query_params["city"] == ["los-angeles"] or at.query_params["city"] == "los-angeles"


def test_have_your_say_submits_and_votes(db_url: str) -> None:
    store = Store(db_url)
    sc = Scenario.model_validate({"city": "melbourne", "day": {"day_of_week": 5}})
    sid = store.post_scenario("melbourne", "Saturday night crowds", sc.to_json())
    at = _page(SAY, "melbourne")
    assert not at.exception
    at.text_area(key="hys_text").input("Too crowded at the station")
    at.selectbox(key="hys_place").select("s:6")
    at.button(key="hys_send").click().run()
    assert not at.exception and at.success
    assert at.session_state["hys_text"] == ""
    row = store.feedback("melbourne")[0]
    assert (row.text, row.sensor_id) == ("Too crowded at the station", "6")
    at.button(key=f"hys_vote_{sid}_1").click().run()
    assert store.tallies("melbourne")[0].up == 1
    at.text_area(key="hys_text").input("x" * 3 + "\x00")
    at.button(key="hys_send").click().run()
    assert len(store.feedback("melbourne")) == 2


def test_have_your_say_refuses_empty_feedback(db_url: str) -> None:
    at = _page(SAY, "melbourne")
    at.button(key="hys_send").click().run()
    assert at.error and not Store(db_url).feedback("melbourne")


def test_projector_shows_escaped_themes_qr_and_hides(db_url: str) -> None:
    store = Store(db_url)
    for i, t in enumerate(["too crowded at Flinders station", "Flinders station crowded at night", EVIL]):
        store.add_feedback("melbourne", t, f"{i:032x}")
    at = _page(PROJ, "melbourne")
    assert not at.exception
    assert at.get("imgs") or at.get("image")
    text = "\n".join(m.value for m in at.markdown)
    assert "<script>" not in text and "\\<script\\>" in text
    assert "/have_your_say?city=melbourne" in at.code[0].value
    at.toggle(key="proj_moderate").set_value(True).run()
    evil_id = next(r.id for r in store.feedback("melbourne") if r.text == EVIL)
    at.button(key=f"proj_hide_{evil_id}").click().run()
    assert EVIL not in {r.text for r in store.feedback("melbourne")}


@pytest.mark.usefixtures("db_url")
def test_projector_qr_uses_the_public_address() -> None:
    at = _page(PROJ, "los-angeles")
    at.text_input(key="proj_base").input("http://192.168.1.20:8501/whatever").run()
    assert not at.exception
    assert at.code[0].value == "http://192.168.1.20:8501/have_your_say?city=los-angeles"


def test_ask_says_when_the_language_model_answered(monkeypatch, llm_server) -> None:
    import json

    from tests.voice.conftest import LLMHandler

    _, url = llm_server
    monkeypatch.setenv("EXPLORER_LLM_URL", url)
    monkeypatch.setenv("EXPLORER_LLM_MODEL", "tiny")
    LLMHandler.answer = json.dumps({"scenario": {"day": {"day_of_week": 5}, "start_hour": 18, "horizon_hours": 6,
                                                 "events": [{"place": {"sensor_id": "6"}, "magnitude": 3000,
                                                             "unit": "people", "start_offset_hours": 2,
                                                             "duration_hours": 2, "reach_km": 0.3}]}})
    at = _page(ASK, "melbourne")
    at.text_area(key="ask_text").input("3000 people at Flinders St station on Saturday at 8pm")
    at.button(key="ask_parse").click().run()
    assert not at.exception
    assert any("language model (tiny)" in c.value for c in at.caption)
    assert at.session_state["ask_mag"] == 3000.0
    LLMHandler.answer = "the server is confused"
    at.text_area(key="ask_text").input("twice the usual at Princes Bridge")
    at.button(key="ask_parse").click().run()
    assert any("offline parser" in c.value for c in at.caption)
    assert any("did not answer usably" in m.value for m in at.markdown)
