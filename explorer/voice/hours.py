"""Clock times, spans and durations in a request ('at 7:30pm', 'from 4 to 7pm', '11pm-4am', 'the evening rush',
'for 90 minutes'), after :func:`explorer.voice.numbers.digits`. The scenario is hourly: a time names the hour it
falls in, a span covers every hour it touches, and durations are whole hourly steps, rounded up ('for 90 minutes'
is 2). :class:`When` holds what a request says about its day and hours (its day: :mod:`explorer.voice.when`)."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field


@dataclass
class When:
    day_of_week: int | None = None
    date: dt.date | None = None
    holiday: bool = False
    hour: int | None = None
    duration: int | None = None
    named: str = ""
    notes: list[str] = field(default_factory=list)


def _clock(h: int, ampm: str | None) -> int:
    hour = h % 24
    if ampm and ampm.startswith("p") and hour < 12:
        hour += 12
    if ampm and ampm.startswith("a") and hour == 12:
        hour = 0
    return hour


PERIODS = [  # (pattern, hour, duration); a stated clock time wins
    (r"morning (rush|peak)( hour)?|am (peak|rush)|rush hour in the morning|morning commute|(rush|peak) hour this "
     r"morning|commute to work|school run|breakfast rush", 7, 3),
    (r"evening (rush|peak)( hour)?|afternoon (rush|peak)|pm (peak|rush)|rush hour in the evening|evening commute|"
     r"after work|home time|commute home|drive home|rush hour|peak hour|rush|peak", 16, 3),
    (r"lunch ?time|lunch|midday|noon|lunch hour", 12, 2),
    (r"breakfast|early morning|dawn|sunrise", 6, 2),
    (r"this morning|morning|am", 9, 3),
    (r"this afternoon|afternoon|arvo", 14, 3),
    (r"dinner ?time|dinner|this evening|evening|sunset|dusk", 18, 3),
    (r"tonight|tonite|night|nighttime|late", 20, 3),
    (r"midnight", 0, 2),
]
AMPM = r"(am|pm|a m|p m|in the morning|in the afternoon|in the evening|at night|tonight|oclock|o clock|hrs|h)"
LATE = r"\b(night|evening|tonight|tonite|pm|after ?noon|arvo|dinner)\b"


def _ampm(word: str | None) -> str | None:
    if not word:
        return None
    w = word.replace(" ", "")
    if w.startswith(("am", "inthemorning")):
        return "am"
    if w.startswith(("pm", "intheafternoon", "intheevening", "atnight", "tonight")):
        return "pm"
    return None


def _duration(t: str, w: When) -> bool:
    """A stated duration ('for 90 minutes' -> 2 steps, 'a couple of hours' -> 2); True when one was stated."""
    m = re.search(r"\b(?:for|over|lasting|lasts|last)\s+(?:about |around |roughly |approx |nearly |almost |the next "
                  r"|the following |another )?(\d+(?:\.\d+)?|an?|1)\s*(hours?|hrs?|h|minutes?|mins?)\b", t) or \
        re.search(r"\b(\d+(?:\.\d+)?|an?)\s*(hours?|hrs?|minutes?|mins?)\s+(?:long|of it|straight|in a row)\b", t) \
        or re.search(r"\b(\d+(?:\.\d+)?)[ -](hours?|hrs?|minutes?|mins?)\b(?! (?:before|after|later|from now|ago))", t)
    couple = re.search(r"\b(?:a )?(couple|few)(?: of)? (?:more )?(?:hours|hrs)\b", t)
    if couple and not m:
        w.duration = 2 if couple.group(1) == "couple" else 3
        if couple.group(1) == "few":
            w.notes.append("'A few hours' read as 3 hours.")
    elif m:
        n = 1.0 if m.group(1) in ("a", "an") else float(m.group(1))
        hours = n / 60 if m.group(2).startswith("m") else n
        w.duration = max(1, math.ceil(hours - 1e-9))
    elif re.search(r"\bhalf (?:an|1) (?:hour|hr)\b", t):
        w.duration = 1
    elif re.search(r"\b(all day|whole day|entire day)\b", t):
        w.hour, w.duration = (w.hour if w.hour is not None and w.hour < 10 else 8), 12
    elif re.search(r"\b(all afternoon|all evening|all night|all morning)\b", t):
        w.duration = 4
    return w.duration is not None


def read_hours(t: str, w: When) -> None:
    """Event hour and duration: clock times, spans ('from 4 to 7pm', '11pm-4am'), periods, durations."""
    hh = r"(\d{1,2})(?::(\d\d))?"
    _duration(t, w)
    t = re.sub(r"\b(from|to|till|til|until|-|and) (noon|midday)\b", r"\1 12pm", t)
    t = re.sub(r"\b(noon|midday) (to|till|til|until|-)\b", r"12pm \2", t)
    t = re.sub(r"\b(to|till|til|until) midnight\b", r"\1 12am", t)
    t = re.sub(r"\b(\d{1,2}(?::\d\d)?\s*(?:am|pm)) (\d{1,2}(?::\d\d)?\s*(?:am|pm))\b", r"\1 to \2", t)  # 1pm-4pm
    rng = re.search(rf"\b(?:from|between)\s+{hh}\s*{AMPM}?\s*(?:to|and|until|till|til|-)\s*{hh}\s*{AMPM}?", t) \
        or re.search(rf"\b{hh}\s*{AMPM}?\s*(?:-|to|until|till|til)\s*{hh}\s*{AMPM}\b", t)
    if rng and int(rng.group(1)) <= 24 and int(rng.group(4)) <= 24:
        a1, a2 = _ampm(rng.group(3)), _ampm(rng.group(6))
        h1, h2 = int(rng.group(1)), int(rng.group(4))
        end = _clock(h2, a2)
        start = _clock(h1, a1 or (a2 if h1 <= h2 or (h1 == 12) else None))
        if a1 is None and a2 is None and re.search(LATE, t) and start < 12 and end < 12:
            start, end = start + 12, (end + 12) % 24
        if a1 is None and a2 == "pm" and start > end:
            start -= 12
        end_min = end * 60 + int(rng.group(5) or 0)
        span = (end_min - start * 60) % (24 * 60) or 60
        w.hour, w.duration = start, max(1, math.ceil(span / 60))
    else:
        m = re.search(rf"\b{hh}\s*{AMPM}(?!\w)", t) or re.search(r"\b(\d{1,2}):(\d\d)\b()", t) or re.search(
            r"\b(?:at|@|from|by)\s+([01]\d|2[0-3])([0-5]\d)\b()", t)
        if m and int(m.group(1)) <= 24:
            ap = _ampm(m.group(3))
            hour = _clock(int(m.group(1)), ap)
            military = bool(re.search(r"\d{4}$", m.group(0)))
            if ap is None and 0 < hour < 12 and not military and re.search(LATE, t) and not re.search(
                    r"\b(morning|am)\b", t):
                hour += 12
            w.hour = hour
        elif (m := re.search(r"\b(?:at|@|around|about|from)\s+(\d{1,2})\b(?!\s*(%|percent|people|thousand|hours?|"
                             r"hrs?|mins?|minutes?|k\b|x\b|times|fans|extra|more|/|\.\d))", t)):
            hour = int(m.group(1)) % 24
            if hour < 12 and (re.search(LATE, t) or (hour < 7 and not re.search(r"\b(morning|am|dawn)\b", t))):
                hour += 12
            w.hour = hour
        else:
            for pat, hour, dur in PERIODS:
                pm = re.search(rf"\b(?:{pat})\b", t)
                if pm:
                    said = []
                    if w.hour is None:
                        w.hour = hour
                        said.append(f"{hour}:00")
                    if w.duration is None:
                        w.duration = dur
                        said.append(f"for {dur} hours")
                    if said:
                        w.notes.append(f"'{pm.group(0)}' read as {' '.join(said)}.")
                    break
    if re.search(r"\b(?:for )?the next \d+(?:\.\d+)? (?:hours?|hrs?|minutes?|mins?)\b", t) and not re.search(
            rf"\b{hh}\s*{AMPM}(?!\w)", t):
        w.notes.append("'The next hours' read as starting now (no clock hour given).")
