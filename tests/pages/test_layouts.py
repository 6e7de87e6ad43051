"""AppTest of the projector layouts (workshop mode) and of Compare links: what each page draws, and what it
leaves out on a projector. The layout on screen (sizes, the map in the first screen) is checked in Chromium by
tests/visual."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.comparison import decode_comparison, encode_comparison, keep
from explorer.presets import presets_for
from tests.pages.deckmaps import maps

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(ROOT / "app_pages" / "scenario.py")
COMPARE = str(ROOT / "app_pages" / "compare.py")
PROJECTOR = str(ROOT / "app_pages" / "projector.py")


def _preset_link(slug: str) -> str:
    saved: list[dict] = []
    for p in presets_for(slug):
        saved = keep(saved, p.scenario, 0, 16)
    return encode_comparison(saved)


def _compare(link: str, workshop: bool = False) -> AppTest:
    at = AppTest.from_file(COMPARE, default_timeout=240)
    at.query_params["cmp"] = link
    if workshop:
        at.query_params["workshop"] = "1"
    return at.run()


@pytest.fixture(scope="module")
def melbourne_link() -> str:
    return _preset_link("melbourne")


def test_a_compare_link_opens_its_scenarios_and_the_address_follows_the_list(melbourne_link):
    at = _compare(melbourne_link)
    assert not at.exception
    assert len(maps(at)) == 3 and [s.value for s in at.subheader] == ["1. Melbourne", "2. Melbourne", "3. Melbourne"]
    assert at.session_state["saved_scenarios"] == decode_comparison(melbourne_link)
    assert any("Flinders" in m.value for m in at.markdown)  # the event's place in words
    assert len(at.get("download_button")) == 3
    at.sidebar.button(key="cmp_clear").click().run()
    assert "cmp" not in at.query_params and any("No scenario kept" in i.value for i in at.info)


def test_a_bad_compare_link_is_explained_not_a_traceback():
    at = _compare("bm90IGEgY29tcGFyaXNvbg")
    assert not at.exception
    assert any("comparison could not be used" in w.value for w in at.warning)
    assert any("No scenario kept" in i.value for i in at.info)


def test_compare_in_workshop_mode_tiles_maps_with_one_row_of_numbers_each(melbourne_link):
    at = _compare(melbourne_link, workshop=True)
    assert not at.exception
    seen = maps(at)
    assert len(seen) == 3 and all(m.opts["large"] for m in seen)
    assert not at.get("download_button") and not at.subheader  # no JSON buttons, no long descriptions
    assert len(at.metric) == 9 and all(not m.help for m in at.metric)
    assert any(".st-key-ws_tiles_3 .xdm" in m.value for m in at.markdown)  # the CSS sizing the tiles


def test_four_kept_scenarios_are_two_rows_of_two():
    from explorer.ui.compare import grid

    assert grid(1) == [[0]] and grid(3) == [[0, 1, 2]] and grid(4) == [[0, 1], [2, 3]]


def test_what_if_in_workshop_mode_puts_title_and_numbers_in_one_row_and_keeps_hidden_settings():
    at = AppTest.from_file(SCENARIO, default_timeout=240)
    at.query_params["city"] = "melbourne"
    at.run()
    at.select_slider(key="sc_n").set_value(128).run()
    assert at.query_params["n"] == "128"
    at.sidebar.toggle(key="ws_on").set_value(True).run()
    assert not at.exception
    (m,) = maps(at)
    assert m.opts["large"] is True
    assert at.query_params["workshop"] == "1" and at.query_params["n"] == "128"
    assert at.title[0].value == "What if… Melbourne" and not at.main.info  # the note sits in the headline row
    assert any(md.value.startswith("Largest change at") for md in at.markdown)
    at.sidebar.toggle(key="ws_on").set_value(False).run()  # the hidden samples setting came back unchanged
    assert at.select_slider(key="sc_n").value == 128 and "workshop" not in at.query_params


def test_projector_page_uses_the_projector_layout():
    at = AppTest.from_file(PROJECTOR, default_timeout=120)
    at.query_params["city"] = "melbourne"
    at.run()
    assert not at.exception
    assert any("font-size: 22px" in m.value for m in at.markdown)
    assert at.session_state["ws_sidebar_collapsed"] is True
