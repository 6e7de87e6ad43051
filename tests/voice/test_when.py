"""Clock times with minutes: the scenario is hourly, so a time names the hour it falls in and a span covers every
hour it touches ('7:30pm' is the 19:00 hour, never 7 or 20)."""

from __future__ import annotations

import datetime as dt

import pytest

from explorer.voice.when import Calendar, read_when

CAL = Calendar(span=(dt.date(2012, 3, 1), dt.date(2012, 6, 30)), holidays={}, is_holiday=lambda _: False)
TODAY = dt.date(2012, 5, 1)


@pytest.mark.parametrize("text, hour, duration", [
    ("at 7:30pm", 19, None),
    ("at 7:30 pm", 19, None),
    ("7:30 tonight", 19, None),
    ("at 7:30 in the morning", 7, None),
    ("at 19:30", 19, None),
    ("at 12:30am", 0, None),
    ("at 12:30pm", 12, None),
    ("from 7:30pm to 9pm", 19, 2),  # 19:30-21:00 touches the 19:00 and 20:00 hours
    ("from 7:30 to 9:45pm", 19, 3),  # 19:30-21:45: 19, 20, 21
    ("from 11:30pm to 1am", 23, 2),  # across midnight
])
def test_clock_minutes_fall_in_their_hour(text: str, hour: int, duration: int | None) -> None:
    w = read_when(text, TODAY, CAL)
    assert (w.hour, w.duration) == (hour, duration)
