"""Plain-language what-if requests -> a validated :class:`Scenario`, or an honest refusal saying why.

The offline parser is deterministic: it reads a place (resolved against the city's own layers through
:mod:`explorer.voice.places`), a size with its unit, a day and a time, and fills what is missing with
stated defaults (listed in ``ParseResult.notes``). Requests the generator cannot answer (closures, new
roads, weather, fewer people, another city, several days, nonsense) are refused with the reason.

``parse(text, city, today=...)`` uses an OpenAI-compatible endpoint first when one is configured
(see :mod:`explorer.voice.llm`) and falls back to the offline parser on any failure.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

from explorer.scenarios.schema import MAX_MAGNITUDE, Scenario, ScenarioError, validate_for_city
from explorer.voice.places import Gazetteer, Hit, build, haversine, landmark_sensor, norm

DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DAY_ABBR = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5,
            "sun": 6}
WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
                "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "few": 3, "couple of": 2}
OTHER_CITIES = ["sydney", "brisbane", "perth", "adelaide", "new york", "nyc", "london", "paris", "tokyo",
                "chicago", "san francisco", "seattle", "san diego city", "berlin", "auckland", "canberra",
                "geelong", "boston", "toronto", "las vegas", "hobart", "manhattan"]
CITY_NAMES = {"los-angeles": ["los angeles", "la", "l a", "hollywood"], "melbourne": ["melbourne", "melb"]}

# Refusal categories and their plain reasons.
REASONS = {
    "closure": "The generator adds surges to what usually happens; it cannot model closing a road, street, "
               "station or bridge (traffic would have to re-route, which it never learned).",
    "construction": "The model only knows the sensors and roads that exist; it cannot model new roads, "
                    "lanes, lines or buildings.",
    "weather": "The model has no weather input; it cannot say what rain, heat or storms would do.",
    "decrease": "The scenario schema only adds demand (more people, or slower traffic); fewer people or "
                "faster traffic cannot be asked for yet.",
    "other_city": "This model only knows {city}; pick that city in the sidebar or ask about {city}.",
    "too_long": "A scenario covers at most one 24-hour window; long-term trends, weeks and years are "
                "beyond what the generator was trained on.",
    "no_place": "I could not find a place of {city} in that. Name a {what}.",
    "no_sensor": "{place} has no sensor within reach ({km:.1f} km to the nearest), so the model cannot say "
                 "anything about it.",
    "unit": "{city} measures {measure}; ask for {ask}.",
    "nonsense": "I could not read a what-if question in that. Try for example: {example}",
    "invalid": "That does not fit the scenario limits: {detail}",
}
EXAMPLES = {"melbourne": "'twice the usual crowd at Flinders St station on New Year's Eve'",
            "los-angeles": "'the 101 near Downtown jams during the morning rush'"}
WHAT = {"melbourne": "counter or landmark (e.g. 'Flinders St station', 'Bourke St Mall', 'Federation Square')",
        "los-angeles": "neighbourhood, freeway or landmark (e.g. 'Downtown', 'the 101 near Hollywood', "
                       "'Dodger Stadium')"}

CLOSURE = r"\b(clos(e|ed|es|ing|ure|ures)|shut(s|ting)?( down)?|block(ed|s)? off|barricad\w*|pedestriani[sz]\w*" \
          r"|car[- ]free|ban(ned)? cars|no cars|remove (the )?(road|lane|bridge)|demolish\w*)\b"
CONSTRUCTION = r"\b(build|built|building a|construct\w*|new (road|freeway|lane|lanes|tram|train|metro|line|" \
               r"bridge|tower|station|stadium|mall|building|bike lane|rail)|widen\w*|extra lane|add(ed|ing)? " \
               r"(a |an )?(lane|road|bridge|line)|extend(ed|ing)? the (line|road|freeway))\b"
WEATHER = r"\b(rain\w*|storm\w*|snow\w*|heat ?wave|hot day|weather|flood\w*|wind(y|storm)|hail|fog\w*|" \
          r"thunder\w*|bushfire|smoke|temperature|degrees)\b"
DECREASE = r"\b(fewer|less (people|traffic|crowd\w*|busy)|quieter|emptier|empty|deserted|drop(s|ped)? by|" \
           r"fall(s)? by|decrease\w*|reduc\w*|faster|speed(s)? up|half (the|as many)|lighter traffic|" \
           r"no one|nobody)\b"
TOO_LONG = r"\b(next (year|decade|month|week)|in (20[3-9]\d|\d+ years?)|by 20\d\d|over the (next )?(week|month|" \
           r"year)|all week|for (a|one|two|\d+) (week|weeks|month|months|year|years|days)|population growth|" \
           r"every day for|long[- ]term|permanent\w*)\b"


@dataclass
class ParseResult:
    """A parsed request: a scenario, or a refusal with its reason; which parser answered; assumptions."""

    text: str
    scenario: Scenario | None = None
    refusal: str | None = None  # category, a key of REASONS
    reason: str = ""
    parser: str = "offline"
    notes: list[str] = field(default_factory=list)
    place_label: str = ""

    @property
    def ok(self) -> bool:
        return self.scenario is not None

    def summary(self) -> dict[str, Any]:
        """Flat fields for evaluation and display."""
        if self.scenario is None:
            return {"refusal": self.refusal}
        sc = self.scenario
        out: dict[str, Any] = {"refusal": None, "day_of_week": sc.day.weekday, "holiday": sc.day.holiday,
                               "date": sc.day.date.isoformat() if sc.day.date else None}
        if sc.events:
            ev = sc.events[0]
            p = ev.place
            out |= {"place": f"sensor:{p.sensor_id}" if p.sensor_id else f"zone:{p.zone_id}",
                    "unit": ev.unit, "magnitude": float(ev.magnitude),
                    "hour": (sc.start_hour + ev.start_offset_hours) % 24, "duration": ev.duration_hours,
                    "reach_km": ev.reach_km}
        return out


@lru_cache(maxsize=8)
def _city(slug: str) -> Any:
    from explorer.cities import load_city

    return load_city(slug)


_GAZ: dict[tuple[str, str], Gazetteer] = {}


def gazetteer(city: Any) -> Gazetteer:
    """The gazetteer of a City (or slug), cached per slug and data hash."""
    city = _city(city) if isinstance(city, str) else city
    key = (city.slug, str(getattr(city, "data_hash", "")))
    if key not in _GAZ:
        _GAZ[key] = build(city)
    return _GAZ[key]


def _refuse(text: str, category: str, **kw: Any) -> ParseResult:
    return ParseResult(text=text, refusal=category, reason=REASONS[category].format(**kw))


# ------------------------------------------------------------------ numbers and units


def _number(s: str) -> float:
    s = s.replace(",", "").strip()
    mult = 1.0
    for suf, m in (("k", 1e3), ("thousand", 1e3), ("million", 1e6), ("m", 1e6)):
        if s.endswith(suf):
            s, mult = s[: -len(suf)].strip(), m
            break
    if s in WORD_NUMBERS:
        return WORD_NUMBERS[s] * mult
    return float(s) * mult


NUM = r"(\d[\d,]*(?:\.\d+)?\s*(?:k|thousand|million|m)?|(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|" \
      r"twenty|thirty|forty|fifty|few|couple of)\s+(?:thousand|hundred)|(?:a|one) million)"
PEOPLE_WORDS = r"(?:extra |more |additional )?(?:people|persons|pedestrians|visitors|fans|spectators|punters|" \
               r"supporters|concert ?goers|cyclists|riders|protesters|protestors|marchers|runners|attendees|" \
               r"tourists|shoppers|commuters|students|workers|crowd|walkers|peds|ppl|folks|guests|participants)"
TIMES_WORDS = {"twice": 2.0, "double": 2.0, "doubles": 2.0, "doubled": 2.0, "triple": 3.0, "triples": 3.0,
               "tripled": 3.0, "treble": 3.0, "quadruple": 4.0, "quadrupled": 4.0}


def _size(t: str, counts: bool) -> tuple[str | None, float | None, str | None, list[str]]:
    """(unit, magnitude, problem, notes) read from normalised text ``t``."""
    notes: list[str] = []
    m = re.search(rf"{NUM}\s*(?:%|percent|per cent|pc)\s*(slower|longer|more|busier|extra|up|increase|higher|"
                  r"above|over|bigger|larger|of|traffic|congestion|delay|jam|)", t)
    if m:
        val = _number(m.group(1))
        word = m.group(2)
        if counts:
            if word in ("slower", "longer", "delay", "jam", "congestion"):
                return None, None, "unit", notes
            return "percent", val, None, notes
        return "percent_slower", val, None, notes
    gathering = r"(?:crowd|attendance|protest|march|rally|gathering|parade|queue|audience)"
    m = re.search(rf"{NUM}\s+{PEOPLE_WORDS}", t) or re.search(
        rf"{gathering} of\s+(?:about |around )?{NUM}", t) or \
        re.search(rf"{NUM}\s+(?:(?!am\b|pm\b|on\b|at\b|in\b|hours?\b|oclock\b)[a-z]+\s+){{1,3}}?{PEOPLE_WORDS}", t)

    if m:
        val = _number(m.group(1))
        if counts:
            per = re.search(r"\b(total|in total|all day|over the day|across the day)\b", t)
            if per:
                notes.append("Read the number as extra people per hour at the place.")
            return "people", val, None, notes
        notes.append(f"Los Angeles measures freeway speed, not people: a crowd of {val:,.0f} is read as a jam "
                     "(default 30 % slower); edit the size if you know better.")
        return "percent_slower", 30.0, None, notes
    m = re.search(r"\b(\d+(?:\.\d+)?|two|three|four|five|ten)\s*(?:x|times)\b", t)
    if m:
        k = _number(m.group(1))
        if counts:
            return "percent", round((k - 1) * 100, 1), None, notes
        return "percent_slower", round((1 - 1 / k) * 100, 1), None, notes
    for word, k in TIMES_WORDS.items():
        if re.search(rf"\b{word}\b", t):
            if counts:
                return "percent", (k - 1) * 100, None, notes
            return "percent_slower", round((1 - 1 / k) * 100, 1), None, notes
    if re.search(r"\b(half as many again|one and a half times|50 more)\b", t):
        return ("percent", 50.0, None, notes) if counts else ("percent_slower", 33.3, None, notes)
    if counts:
        if re.search(r"\b(slower|jam|jams|jammed|gridlock|congest\w*|traffic)\b", t) and not re.search(
                r"\b(foot traffic|pedestrian traffic|people|crowd\w*|busy|busier)\b", t):
            return None, None, "unit", notes
        if re.search(r"\b(huge|massive|enormous|packed|record|mobbed|overflowing|rammed|heaving)\b", t):
            notes.append("No size given: 'huge/packed' read as 100 % more than usual.")
            return "percent", 100.0, None, notes
        notes.append("No size given: read as 50 % more people than usual.")
        return "percent", 50.0, None, notes
    if re.search(r"\b(gridlock\w*|standstill|stand still|crawl\w*|stopped|parking lot|bumper to bumper)\b", t):
        notes.append("'Gridlock' read as 70 % slower.")
        return "percent_slower", 70.0, None, notes
    if re.search(r"\b(heavy|major|severe|bad|terrible|awful|big|massive|huge)\b", t):
        notes.append("A heavy jam read as 50 % slower.")
        return "percent_slower", 50.0, None, notes
    if re.search(r"\b(slight\w*|minor|little|bit|light)\b", t):
        notes.append("A slight slowdown read as 15 % slower.")
        return "percent_slower", 15.0, None, notes
    notes.append("No size given: read as 30 % slower than usual.")
    return "percent_slower", 30.0, None, notes


# ------------------------------------------------------------------ days and times


@dataclass
class When:
    day_of_week: int | None = None
    date: dt.date | None = None
    holiday: bool = False
    hour: int | None = None
    duration: int | None = None
    notes: list[str] = field(default_factory=list)


def _fixed(month: int, day: int) -> Any:
    return lambda y: dt.date(y, month, day)


def _nth_weekday(month: int, weekday: int, n: int) -> Any:
    def f(y: int) -> dt.date:
        if n > 0:
            d = dt.date(y, month, 1)
            d += dt.timedelta(days=(weekday - d.weekday()) % 7 + 7 * (n - 1))
            return d
        d = dt.date(y, month + 1, 1) - dt.timedelta(days=1) if month < 12 else dt.date(y, 12, 31)
        return d - dt.timedelta(days=(d.weekday() - weekday) % 7)
    return f


def _easter(y: int) -> dt.date:
    a, b, c = y % 19, y // 100, y % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    month = (h + ll - 7 * m + 114) // 31
    day = (h + ll - 7 * m + 114) % 31 + 1
    return dt.date(y, month, day)


# name pattern -> (date function of year, public holiday?, default hour, duration)
NAMED_DAYS: list[tuple[str, Any, bool, int | None]] = [
    (r"new ?years? eve|nye", _fixed(12, 31), False, 20),
    (r"new ?years?( day)?", _fixed(1, 1), True, None),
    (r"christmas eve|xmas eve", _fixed(12, 24), False, None),
    (r"boxing day", _fixed(12, 26), True, None),
    (r"christmas( day)?|xmas", _fixed(12, 25), True, None),
    (r"australia day", _fixed(1, 26), True, None),
    (r"anzac day", _fixed(4, 25), True, None),
    (r"melbourne cup( day)?|cup day", _nth_weekday(11, 1, 1), True, None),
    (r"good friday", lambda y: _easter(y) - dt.timedelta(days=2), True, None),
    (r"easter monday", lambda y: _easter(y) + dt.timedelta(days=1), True, None),
    (r"easter( sunday)?", _easter, False, None),
    (r"memorial day", _nth_weekday(5, 0, -1), True, None),
    (r"labou?r day", _nth_weekday(9, 0, 1), True, None),
    (r"independence day|(the )?(4th|fourth) of july|july (4th|4)", _fixed(7, 4), True, None),
    (r"thanksgiving", _nth_weekday(11, 3, 4), True, None),
    (r"halloween", _fixed(10, 31), False, 19),
    (r"valentines?( day)?", _fixed(2, 14), False, 19),
    (r"cinco de mayo", _fixed(5, 5), False, 18),
    (r"(st|saint) patricks?( day)?", _fixed(3, 17), False, 18),
    (r"mothers? day", _nth_weekday(5, 6, 2), False, None),
]
HOLIDAY_SLUGS = {"australia day": "melbourne", "anzac day": "melbourne", "melbourne cup": "melbourne",
                 "cup day": "melbourne", "boxing day": "melbourne", "good friday": "melbourne",
                 "easter monday": "melbourne", "memorial day": "los-angeles", "labor day": "los-angeles",
                 "labour day": "los-angeles", "independence day": "los-angeles", "thanksgiving": "los-angeles"}
MONTHS = {m: i + 1 for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july",
                                          "august", "september", "october", "november", "december"])}
MONTHS |= {m[:3]: i for m, i in list(MONTHS.items())} | {"sept": 9}


def _pick_year(fn: Any, span: tuple[dt.date, dt.date], year: int | None) -> tuple[dt.date, str | None]:
    """The latest occurrence inside the data span, else inside the data years; a note when outside."""
    lo, hi = span
    if year is not None:
        d = fn(year)
        return d, None if lo <= d <= hi else f"{d} is outside the data ({lo} – {hi}); the model uses its " \
                                              "weekday and holiday flag only."
    inside = [fn(y) for y in range(hi.year, lo.year - 1, -1) if lo <= fn(y) <= hi]
    if inside:
        return inside[0], None
    d = fn(hi.year)
    return d, f"No {d:%d %B} inside the data ({lo} – {hi}); used {d} (its weekday and holiday flag)."


def _when(t: str, today: dt.date, span: tuple[dt.date, dt.date], slug: str) -> When:
    w = When()
    year_m = re.search(rf"\b(20[0-3]\d)\b(?!\s*{PEOPLE_WORDS}|\s*(extra|more|additional|%|percent))", t)
    year = int(year_m.group(1)) if year_m and span[0].year - 5 <= int(year_m.group(1)) <= span[1].year + 5 \
        else None
    if re.search(r"\b(lunar|chinese) new ?year", t):  # moves every year: keep only a weekday given
        t = re.sub(r"\b(lunar|chinese) new ?years?", " ", t)
        w.notes.append("Lunar New Year moves every year: give its date to use it; only the weekday was read.")
    # named days
    for pat, fn, hol, hour in NAMED_DAYS:
        m = re.search(rf"\b(?:{pat})\b", t)
        if m:
            d, note = _pick_year(fn, span, year)
            w.date, w.holiday = d, hol and HOLIDAY_SLUGS.get(m.group(0).replace("'", ""), slug) == slug or (
                hol and m.group(0).startswith(("new year", "christmas", "xmas")))
            if hour is not None:
                w.hour = hour
            if note:
                w.notes.append(note)
            break
    if w.date is None:
        m = re.search(r"\b(20\d\d)-(\d\d)-(\d\d)\b", t)
        m2 = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]{3,9})\b(?:\s+(20\d\d))?", t)
        m3 = re.search(r"\b([a-z]{3,9})\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:\s+(20\d\d))?", t)
        m4 = re.search(r"\b(\d{1,2})/(\d{1,2})/(20\d\d)\b", t)
        try:
            if m:
                w.date = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            elif m4:
                a, b = int(m4.group(1)), int(m4.group(2))
                day, month = (a, b) if slug != "los-angeles" else (b, a)
                w.date = dt.date(int(m4.group(3)), month, day)
            elif m2 and m2.group(2) in MONTHS:
                w.date, note = _pick_year(_fixed(MONTHS[m2.group(2)], int(m2.group(1))), span,
                                          int(m2.group(3)) if m2.group(3) else None)
                w.notes += [note] if note else []
            elif m3 and m3.group(1) in MONTHS:
                w.date, note = _pick_year(_fixed(MONTHS[m3.group(1)], int(m3.group(2))), span,
                                          int(m3.group(3)) if m3.group(3) else None)
                w.notes += [note] if note else []
        except ValueError:
            w.date = None
    if w.date is None:
        rel = None
        if re.search(r"\bday after tomorrow\b", t):
            rel = 2
        elif re.search(r"\b(tomorrow|tmrw|tmr|tomorow|tommorow|tommorrow)\b", t):
            rel = 1
        elif re.search(r"\b(today|tonight|this (morning|afternoon|evening))\b", t):
            rel = 0
        elif (m := re.search(r"\bin (\d+|two|three|four|five|six) days\b", t)):
            rel = int(_number(m.group(1)))
        if rel is not None:
            w.day_of_week = (today + dt.timedelta(days=rel)).weekday()
        dow = _weekday(t)
        if dow is not None:
            w.day_of_week = dow
        if re.search(r"\b(weekend|saturday night)\b", t) and dow is None and rel is None:
            w.day_of_week = 5
        elif re.search(r"\b(weekday|workday|working day|work day)\b", t) and dow is None and rel is None:
            w.day_of_week = 2
            w.notes.append("'A weekday' read as Wednesday.")
        if re.search(r"\b(public holiday|bank holiday|holiday)\b", t):
            w.holiday = True
            if w.day_of_week is None:
                w.day_of_week = 0
    _hours(t, w)
    return w


def _weekday(t: str) -> int | None:
    for tok in t.split():
        base = tok[:-1] if tok.endswith("s") and tok[:-1] in DAYS else tok
        if base in DAYS:
            return DAYS.index(base)
        if tok in DAY_ABBR:
            return DAY_ABBR[tok]
    for tok in t.split():
        if len(tok) >= 5 and tok.endswith(("day", "dy", "dya", "sday", "rday")) or len(tok) >= 6:
            best = max(DAYS, key=lambda d: fuzz.ratio(d, tok))
            if fuzz.ratio(best, tok) >= 80:
                return DAYS.index(best)
    return None


def _clock(h: str, mins: str | None, ampm: str | None) -> int:
    hour = int(h) % 24
    if ampm and ampm.startswith("p") and hour < 12:
        hour += 12
    if ampm and ampm.startswith("a") and hour == 12:
        hour = 0
    return hour


PERIODS = [
    (r"morning (rush|peak)|am (peak|rush)|rush hour in the morning|morning commute|morning rush hour|"
     r"(rush|peak) hour this morning|commute to work|school run", 7, 3),
    (r"evening (rush|peak)|afternoon (rush|peak)|pm (peak|rush)|rush hour in the evening|evening commute|"
     r"after work|home time|commute home|drive home|rush hour|peak hour|rush", 16, 3),
    (r"lunch ?time|lunch|midday|noon", 12, 2),
    (r"breakfast|early morning|dawn|sunrise", 6, 2),
    (r"this morning|morning|am", 9, 3),
    (r"this afternoon|afternoon", 14, 3),
    (r"dinner ?time|dinner|this evening|evening|sunset|dusk", 18, 3),
    (r"tonight|night|nighttime|late", 20, 3),
    (r"midnight", 0, 2),
]


def _hours(t: str, w: When) -> None:
    rng = re.search(r"\b(?:from|between)\s+(\d{1,2})(?::(\d\d))?\s*(am|pm|a m|p m)?\s*(?:to|and|until|till|-)\s*"
                    r"(\d{1,2})(?::(\d\d))?\s*(am|pm|a m|p m)?\b", t) or re.search(
        r"\b(\d{1,2})(?::(\d\d))?\s*(am|pm)?\s*(?:-|to|until)\s*(\d{1,2})(?::(\d\d))?\s*(am|pm)\b", t)
    if rng:
        a1, a2 = rng.group(3), rng.group(6)
        end = _clock(rng.group(4), rng.group(5), a2)
        start = _clock(rng.group(1), rng.group(2), a1 or (a2 if int(rng.group(1)) <= int(rng.group(4)) else None))
        if a1 is None and a2 and a2.startswith("p") and start > end:
            start -= 12
        w.hour, w.duration = start, max(1, (end - start) % 24 or 1)
        return
    m = re.search(r"\b(\d{1,2})(?::(\d\d))?\s*(am|pm|a m|p m|o ?clock|h)\b", t) or re.search(
        r"\b(\d{1,2}):(\d\d)\b()", t)
    if m:
        ampm = m.group(3) or ""
        hour = _clock(m.group(1), m.group(2), ampm.replace(" ", "") if ampm[:1] in ("a", "p") else None)
        if ampm[:1] not in ("a", "p") and ":" not in m.group(0) and hour < 8 and re.search(
                r"\b(night|evening|tonight|pm|after ?noon)\b", t):
            hour += 12
        w.hour = hour
    elif (m := re.search(r"\bat (\d{1,2})\b(?!\s*(%|percent|people|k\b|thousand))", t)):
        hour = int(m.group(1)) % 24
        if hour < 8 and not re.search(r"\b(morning|am)\b", t):
            hour += 12
        w.hour = hour
    else:
        for pat, hour, dur in PERIODS:
            if re.search(rf"\b(?:{pat})\b", t):
                if w.hour is None:
                    w.hour = hour
                w.duration = w.duration or dur
                break
    m = re.search(r"\bfor (?:about |around |roughly )?(\d{1,2}|an?|one|two|three|four|five|six|seven|eight|"
                  r"ten|twelve|a couple of|a few) (?:hours?|hrs?|h)\b", t)
    if m:
        w.duration = int(_number(m.group(1).replace("a couple of", "couple of").replace("a few", "few")))
    elif re.search(r"\b(all day|whole day|entire day|all afternoon|all evening|all night)\b", t):
        if "all day" in t or "whole day" in t or "entire day" in t:
            w.hour, w.duration = (w.hour if w.hour is not None and w.hour < 10 else 8), 12
        else:
            w.duration = 4


# ------------------------------------------------------------------ places


def _place(t: str, g: Gazetteer, counts: bool) -> tuple[dict[str, str] | None, str, float, list[str], Any]:
    """(place dict, label, reach_km, notes, refusal tuple or None)."""
    hits = g.find(t)
    notes: list[str] = []
    fw = [h for h in hits if h.kind == "freeway"]
    lm = [h for h in hits if h.kind == "landmark"]
    zn = [h for h in hits if h.kind == "zone"]
    sn = [h for h in hits if h.kind == "sensor"]
    default_reach = 0.3 if counts else 2.0
    anchor: Hit | None = (lm or zn or [None])[0]
    if fw:
        f = fw[0]
        among = g.freeway_sensors[f.key]
        if anchor is not None:
            lat, lon, name = _anchor_point(g, anchor)
            sid, d = g.nearest_sensor(lat, lon, among)
            if d > 5.0:
                return None, "", 0, notes, ("no_sensor", {"place": f"{f.label} near {name}", "km": d})
            notes.append(f"{g.show(sid)} on {f.label}, {d:.1f} km from {name}.")
            return {"sensor_id": sid}, f"{f.label} near {name}", default_reach, notes, None
        lat = float(sum(g.lat[g.sensor_ids.index(s)] for s in among) / len(among))
        lon = float(sum(g.lon[g.sensor_ids.index(s)] for s in among) / len(among))
        sid, _ = g.nearest_sensor(lat, lon, among)
        notes.append(f"No stretch of {f.label} named: used its middle sensor ({sid}) with a 5 km reach.")
        return {"sensor_id": sid}, f.label, 5.0, notes, None
    if sn and (not anchor or sn[0].score >= anchor.score):
        return {"sensor_id": sn[0].key}, sn[0].label, default_reach, notes, None
    if anchor is not None and anchor.kind == "landmark":
        sid, d = landmark_sensor(g, anchor.key)
        if sid is None:
            return None, "", 0, notes, ("no_sensor", {"place": anchor.label, "km": d})
        notes.append(f"{anchor.label}: nearest sensor {g.show(sid)} ({d:.1f} km away).")
        return {"sensor_id": sid}, f"{anchor.label} ({g.show(sid)})", default_reach, notes, None
    if anchor is not None:
        zid = anchor.key
        if not g.zone_sensors.get(zid):
            lat, lon = g.zone_centroids[zid]
            sid, d = g.nearest_sensor(lat, lon)
            if d > 3.0:
                return None, "", 0, notes, ("no_sensor", {"place": anchor.label, "km": d})
            notes.append(f"No sensor inside {anchor.label}; the model uses the nearest ({sid}, {d:.1f} km).")
        return {"zone_id": zid}, anchor.label, default_reach, notes, None
    return None, "", 0, notes, None


def _anchor_point(g: Gazetteer, h: Hit) -> tuple[float, float, str]:
    if h.kind == "zone":
        lat, lon = g.zone_centroids[h.key]
        return lat, lon, h.label
    from explorer.voice.places import LANDMARKS

    lat, lon = LANDMARKS[g.slug][h.key]
    return lat, lon, h.label


# ------------------------------------------------------------------ the parser


def parse_offline(text: str, city: Any, today: dt.date | None = None) -> ParseResult:
    """Deterministic parse of ``text`` for ``city`` (a City or slug), relative days from ``today``."""
    today = today or dt.date.today()
    city = _city(city) if isinstance(city, str) else city
    g = gazetteer(city)
    slug = g.slug
    raw = (text or "").strip()[:500]
    t = norm(raw)
    plain = norm(raw, fold=False)  # 'lane' and 'road' stay words for the refusal patterns
    city_name = g.name
    counts = _is_counts(city)
    if len(re.findall(r"[a-z]{2,}", t)) < 2:
        return _refuse(raw, "nonsense", example=EXAMPLES.get(slug, "'twice the usual crowd at <place>'"))
    toks = t.split()
    covered = {i for h in g.find(t) for i in range(*h.span)}
    rest = " ".join(w for i, w in enumerate(toks) if i not in covered)  # 'Little Tokyo' is a place here
    others = [c for c in OTHER_CITIES if re.search(rf"\b{c}s?\b", rest)]
    for s, names in CITY_NAMES.items():
        if s != slug and any(re.search(rf"\b{n}\b", rest) for n in names if len(n) > 2):
            others.append(s)
    if others:
        return _refuse(raw, "other_city", city=city_name)
    for cat, pat in (("closure", CLOSURE), ("construction", CONSTRUCTION), ("weather", WEATHER),
                     ("too_long", TOO_LONG), ("decrease", DECREASE)):
        if re.search(pat, plain):
            return _refuse(raw, cat)
    unit, mag, problem, notes = _size(t, counts)
    if problem == "unit":
        return _refuse(raw, "unit", city=city_name, measure="pedestrians per hour" if counts else "freeway speed",
                       ask="more people (e.g. '5,000 people' or '50 % more')" if counts
                       else "a slowdown (e.g. '30 % slower' or 'jams')")
    place, label, reach, pnotes, refusal = _place(t, g, counts)
    if refusal:
        return _refuse(raw, refusal[0], **refusal[1])
    if place is None:
        if not re.search(r"\b(what if|if|crowd|people|traffic|jam|busy|event|concert|game|match|festival|"
                         r"parade|rush|slow|more|extra)\b", t):
            return _refuse(raw, "nonsense", example=EXAMPLES.get(slug, "'twice the usual crowd at <place>'"))
        return _refuse(raw, "no_place", city=city_name, what=WHAT.get(slug, "sensor"))
    notes += pnotes
    assert unit is not None and mag is not None
    if mag > MAX_MAGNITUDE[unit]:
        notes.append(f"{mag:,.0f} is beyond the model's limit; capped at {MAX_MAGNITUDE[unit]:,.0f}.")
        mag = MAX_MAGNITUDE[unit]
    if mag <= 0:
        return _refuse(raw, "invalid", detail="the size must be more than zero")
    idx = city.series.index
    span = (idx.min().date(), idx.max().date())
    w = _when(t, today, span, slug)
    notes += w.notes
    if w.date is None and w.day_of_week is None:
        w.day_of_week = today.weekday()
        notes.append(f"No day given: used today's weekday ({DAYS[w.day_of_week].title()}).")
    if w.hour is None:
        w.hour = 17 if not counts else 12
        notes.append(f"No time given: assumed {w.hour}:00.")
    duration = min(w.duration or (3 if not counts else 2), 24)
    lead = min(2, w.hour, 24 - duration)
    horizon = min(24, lead + duration + 3)
    day: dict[str, Any] = {"date": w.date.isoformat()} if w.date else {"day_of_week": w.day_of_week}
    day["holiday"] = bool(w.holiday)
    data = {"city": slug, "day": day, "start_hour": w.hour - lead, "horizon_hours": horizon,
            "events": [{"place": place, "magnitude": round(float(mag), 1), "unit": unit,
                        "start_offset_hours": lead, "duration_hours": duration, "reach_km": reach}]}
    try:
        sc = Scenario.model_validate(data)
        validate_for_city(sc, city)
    except (ValueError, ScenarioError) as exc:
        return _refuse(raw, "invalid", detail=str(exc).splitlines()[-1][:200])
    return ParseResult(text=raw, scenario=sc, parser="offline", notes=notes, place_label=label)


def _is_counts(city: Any) -> bool:
    return city.manifest.series.domain != "traffic_speed"


def parse(text: str, city: Any, today: dt.date | None = None, *, use_llm: bool = True) -> ParseResult:
    """Parse with the configured LLM endpoint when there is one, else (or on any failure) offline."""
    if use_llm:
        from explorer.voice.llm import LLMConfig, parse_llm

        cfg = LLMConfig.from_env()
        if cfg is not None:
            res, why = parse_llm(text, city, today or dt.date.today(), cfg)
            if res is not None:
                return res
            off = parse_offline(text, city, today)
            off.notes.insert(0, f"The language model did not answer usably ({why}); the offline parser did.")
            return off
    return parse_offline(text, city, today)


def differences(new: Scenario, current: Scenario | None,
                names: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(field, current, new) for each field that differs between two scenarios (first event only).

    ``names`` maps 's:<sensor id>' / 'z:<zone id>' to readable labels.
    """
    names = names or {}
    def flat(sc: Scenario | None) -> dict[str, str]:
        if sc is None:
            return {}
        out = {"day": sc.day.date.isoformat() if sc.day.date else DAYS[sc.day.weekday].title(),
               "holiday": "yes" if sc.day.holiday else "no", "start hour": f"{sc.start_hour}:00",
               "hours simulated": str(sc.horizon_hours)}
        if sc.events:
            e = sc.events[0]
            p = e.place
            key = f"s:{p.sensor_id}" if p.sensor_id else f"z:{p.zone_id}" if p.zone_id else ""
            out |= {"place": names.get(key, key.replace("s:", "sensor ").replace("z:", "zone ")) if key
                    else f"{p.lat:.4f}, {p.lon:.4f}",
                    "size": f"{e.magnitude:g} {e.unit.replace('_', ' ')}",
                    "event hours": f"{(sc.start_hour + e.start_offset_hours) % 24}:00 for {e.duration_hours} h",
                    "reach": f"{e.reach_km:g} km"}
        else:
            out["place"] = "no event"
        return out

    a, b = flat(current), flat(new)
    return [(k, a.get(k, "—"), v) for k, v in b.items() if a.get(k) != v]


__all__ = ["ParseResult", "REASONS", "differences", "gazetteer", "haversine", "parse", "parse_offline"]
