"""Ask the city's steps as state in a session mapping (``st.session_state`` in the app, a dict in tests): a question
is read, its scenario goes into the editor's widgets, and it is run once asked for; a new question starts over, and
a parse belongs to the city it was read for."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from explorer.scenarios.schema import PlaceKey, Scenario
from explorer.voice.result import ParseResult


def read(ss: MutableMapping[str, Any], slug: str, res: ParseResult) -> None:
    """Keep a new parse for city ``slug``: forget the last run and the 'did you mean' choice, load the editor."""
    ss["ask_parsed"] = res
    ss["ask_parsed_city"] = slug
    ss.pop("ask_ran", None)
    ss.pop("ask_dym", None)
    load_editor(ss, res)


def parsed(ss: MutableMapping[str, Any], slug: str) -> ParseResult | None:
    """The parse shown for city ``slug`` (None: nothing read yet for this city)."""
    return ss.get("ask_parsed") if ss.get("ask_parsed_city") == slug else None


def load_editor(ss: MutableMapping[str, Any], res: ParseResult) -> None:
    """Put a parsed scenario into the editor's widgets (before they are drawn)."""
    sc = res.scenario
    if sc is None:
        return
    ev = sc.events[0]
    ss.update({"ask_dow": sc.day.weekday, "ask_date": sc.day.date.isoformat() if sc.day.date else "",
           "ask_holiday": bool(sc.day.holiday), "ask_hour": (sc.start_hour + ev.start_offset_hours) % 24,
           "ask_duration": ev.duration_hours, "ask_place": str(PlaceKey.of(ev.place)), "ask_unit": ev.unit,
           "ask_mag": float(ev.magnitude), "ask_reach": float(ev.reach_km)})


def mark_run(ss: MutableMapping[str, Any], scenario: Scenario) -> None:
    """The planner asked for this scenario's result."""
    ss["ask_ran"] = scenario.to_json()


def was_run(ss: MutableMapping[str, Any], scenario: Scenario) -> bool:
    """True once this very scenario was asked for (an edit after Run asks again)."""
    return ss.get("ask_ran") == scenario.to_json()
