"""Ask the city's steps on a plain dict standing in for the session: read -> editor loaded -> run; a new question
starts over and a parse belongs to its city."""

from __future__ import annotations

import datetime as dt

from explorer.ui import ask_state
from explorer.voice.parser import parse_offline

TODAY = dt.date(2026, 11, 30)  # a Monday


def test_read_loads_the_editor_and_forgets_the_last_run() -> None:
    ss: dict = {"ask_ran": "{old}", "ask_dym": "s:1"}
    res = parse_offline("2000 people at Princes Bridge on Saturday from 7pm for 3 hours", "melbourne", TODAY)
    ask_state.read(ss, "melbourne", res)
    assert ask_state.parsed(ss, "melbourne") is res and ask_state.parsed(ss, "los-angeles") is None
    assert "ask_ran" not in ss and "ask_dym" not in ss
    ev = res.scenario.events[0]
    assert (ss["ask_dow"], ss["ask_hour"], ss["ask_duration"]) == (5, 19, 3)  # the event's hour, not the window's
    assert (ss["ask_unit"], ss["ask_mag"], ss["ask_date"]) == ("people", 2000.0, "")
    assert ss["ask_place"] == f"s:{ev.place.sensor_id}"
    assert not ask_state.was_run(ss, res.scenario)
    ask_state.mark_run(ss, res.scenario)
    assert ask_state.was_run(ss, res.scenario)
    edited = res.scenario.model_copy(update={"start_hour": res.scenario.start_hour + 1})
    assert not ask_state.was_run(ss, edited), "an edit after Run asks again"


def test_a_refusal_leaves_the_editor_alone() -> None:
    ss: dict = {"ask_hour": 8}
    res = parse_offline("fewer people at Princes Bridge", "melbourne", TODAY)
    assert res.scenario is None
    ask_state.read(ss, "melbourne", res)
    assert ss["ask_hour"] == 8 and ask_state.parsed(ss, "melbourne") is res
