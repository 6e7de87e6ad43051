"""The day of a request (a named day, a written date, a weekday, a relative day) and its hours, after
:func:`explorer.voice.numbers.digits`.

Named days come from the city's public-holiday calendar (``city.holidays``, the ``holidays`` package by the
country in city.toml) and a few observances that are not public holidays (Christmas Eve, Mother's Day ...),
each mapped to its latest occurrence inside the city's data. Written dates ('7 March 2014', '14/2/2015') are read
by ``dateparser`` in the city's locale (day or month first from its country). Clock times and durations:
:mod:`explorer.voice.hours`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from explorer.voice.hours import When, read_hours

DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DAY_ABBR = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4,
            "sat": 5, "sun": 6}
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
MONTH_RE = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|" \
           r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
MONTH_FIRST = {"US", "PH", "FM", "MH", "PW", "BZ"}  # countries writing month/day/year


def _nth_weekday(month: int, weekday: int, n: int) -> Any:
    def f(y: int) -> dt.date:
        if n > 0:
            d = dt.date(y, month, 1)
            return d + dt.timedelta(days=(weekday - d.weekday()) % 7 + 7 * (n - 1))
        d = dt.date(y + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
        return d - dt.timedelta(days=(d.weekday() - weekday) % 7)
    return f


def easter(y: int) -> dt.date:
    """Western Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = y % 19, y // 100, y % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    return dt.date(y, (h + ll - 7 * m + 114) // 31, (h + ll - 7 * m + 114) % 31 + 1)


# Observances that are not public holidays anywhere (or rarely): name pattern -> (date of year, usual hour).
OBSERVANCES: list[tuple[str, Any, int | None]] = [
    (r"new ?years? eve|nye", lambda y: dt.date(y, 12, 31), 20),
    (r"christmas eve|xmas eve", lambda y: dt.date(y, 12, 24), None),
    (r"easter( sunday)?", easter, None),
    (r"halloween", lambda y: dt.date(y, 10, 31), 19),
    (r"valentines?( day)?", lambda y: dt.date(y, 2, 14), 19),
    (r"cinco de mayo", lambda y: dt.date(y, 5, 5), 18),
    (r"(st|saint) (patricks?|paddys?)( day)?", lambda y: dt.date(y, 3, 17), 18),
    (r"mothers? day", _nth_weekday(5, 6, 2), None),
    (r"black friday", lambda y: _nth_weekday(11, 3, 4)(y) + dt.timedelta(days=1), None),
]
FATHERS_DAY = {"AU": _nth_weekday(9, 6, 1), "NZ": _nth_weekday(9, 6, 1)}  # elsewhere the third Sunday of June
SPELLING = {"labour": "labor", "kings": "monarchs", "queens": "monarchs", "xmas": "christmas", "years": "year",
            "new year": "new year", "4th of july": "independence", "fourth of july": "independence",
            "july 4th": "independence", "july 4": "independence"}


ONE_WORD = {"christmas", "thanksgiving", "anzac", "easter", "hanukkah", "diwali", "halloween"}  # 'X' means 'X Day'


@dataclass
class Calendar:
    """What the day reader needs of a city: its data span, public holidays and date order."""

    span: tuple[dt.date, dt.date]
    holidays: dict[dt.date, str]  # every public holiday of the data's years
    is_holiday: Any
    country: str | None = None
    names: list[tuple[str, str]] = field(default_factory=list)  # (matchable name, holiday name)

    @classmethod
    def of(cls, city: Any) -> Calendar:
        idx = city.series.index
        lo, hi = idx.min().date(), idx.max().date()
        cal = city.holidays
        hols = cal.holidays_between(dt.date(lo.year, 1, 1), dt.date(hi.year, 12, 31))
        spec = getattr(city.manifest, "calendar", None)
        country = getattr(spec, "country", None) if spec is not None else None
        if country is None:
            from explorer.cities.importer import country_of_timezone

            country = country_of_timezone(city.timezone)
        out = cls((lo, hi), hols, cal.is_holiday, country)
        for name in sorted(set(hols.values())):
            base = re.sub(r"\s*\(.*?\)", "", name)
            for alias in _holiday_aliases(base):
                out.names.append((alias, base))
        return out


def _fold(t: str) -> str:
    for a, b in SPELLING.items():
        t = re.sub(rf"\b{a}\b", b, t)
    return t


def _holiday_aliases(name: str) -> set[str]:
    from explorer.voice.places import norm

    n = _fold(norm(name).replace(".", ""))
    out = {n}
    if n.endswith(" day") and (len(n.split()) > 2 or n[:-4] in ONE_WORD):
        out.add(n[:-4])
    words = n.split()
    if len(words) >= 3 and words[-1] == "day" and words[0] not in ("day", "the"):
        out.add(" ".join(words[-2:]))
    return {a for a in out if len(a) >= 5}


def _latest(fn: Any, cal: Calendar, year: int | None) -> tuple[dt.date, str | None]:
    """The latest occurrence inside the data, else in the data's last year; a note when outside."""
    lo, hi = cal.span
    if year is not None:
        d = fn(year)
        return d, None if lo <= d <= hi else f"{d} is outside the data ({lo} – {hi}); the model uses its " \
                                              "weekday and holiday flag only."
    inside = [fn(y) for y in range(hi.year, lo.year - 1, -1) if lo <= fn(y) <= hi]
    if inside:
        return inside[0], None
    d = fn(hi.year)
    return d, f"No {d:%d %B} inside the data ({lo} – {hi}); used {d} (its weekday and holiday flag)."


def _named_day(t: str, cal: Calendar, year: int | None) -> tuple[dt.date, str, int | None, str | None] | None:
    """(date, name, usual hour, note) of a named day in the text: observances and the city's holidays."""
    ft = _fold(t)
    best: tuple[int, Any, str, int | None] | None = None
    for pat, fn, hour in OBSERVANCES:
        m = re.search(rf"\b(?:{pat})\b", t)
        if m and (best is None or len(m.group(0)) > best[0]):
            best = (len(m.group(0)), fn, m.group(0), hour)
    if re.search(r"\bfathers? day\b", t):
        fn = FATHERS_DAY.get(cal.country or "", _nth_weekday(6, 6, 3))
        best = best if best and best[0] > 12 else (12, fn, "fathers day", None)
    toks = ft.split()
    for alias, name in cal.names:
        n = len(alias.split())
        for i in range(len(toks) - n + 1):
            window = " ".join(toks[i:i + n])
            if window == alias or (len(alias) >= 8 and _typo(window, alias)):
                if best is None or len(alias) > best[0]:
                    dates = sorted(d for d, nm in cal.holidays.items() if re.sub(r"\s*\(.*?\)", "", nm) == name)
                    best = (len(alias), _holiday_picker(dates), name, None)
    if best is None:
        return None
    _, fn, name, hour = best
    d, note = _latest(fn, cal, year)
    return d, name, hour, note


def _typo(window: str, alias: str) -> bool:
    """Same words with typos: 'australai day' is 'australia day', 'australia on' is not."""
    a, b = window.split(), alias.split()
    return len(a) == len(b) and all(x[0] == y[0] and fuzz.ratio(x, y) >= 75 for x, y in zip(a, b, strict=True)) \
        and fuzz.ratio(window, alias) >= 85


def _holiday_picker(dates: list[dt.date]) -> Any:
    by_year: dict[int, dt.date] = {}
    for d in dates:
        by_year.setdefault(d.year, d)

    def f(y: int) -> dt.date:
        if y in by_year:
            return by_year[y]
        near = min(by_year, key=lambda k: abs(k - y))  # same day of another year, weekday moved
        d = by_year[near]
        try:
            return d.replace(year=y)
        except ValueError:
            return d.replace(year=y, day=28)
    return f


def _written_date(t: str, cal: Calendar) -> tuple[dt.date | None, str | None]:
    """A calendar date written in the text ('7 march 2014', '14/2/2015', 'march 7th'), read by dateparser."""
    import dateparser

    pats = [r"\b\d{4}-\d{2}-\d{2}\b", r"\b\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})\b",
            rf"\b\d{{1,2}}(?:st|nd|rd|th)?(?: of)? {MONTH_RE}\b(?: \d{{4}})?",
            rf"\b{MONTH_RE} \d{{1,2}}(?:st|nd|rd|th)?\b(?:,? \d{{4}})?"]
    for pat in pats:
        m = re.search(pat, t)
        if not m:
            continue
        s = m.group(0)
        has_year = bool(re.search(r"\d{4}|/\d{2}$", s))
        order = "MDY" if (cal.country or "").upper() in MONTH_FIRST else "DMY"
        d = None
        for o in (order, "MDY" if order == "DMY" else "DMY"):  # an impossible reading falls back to the other
            try:
                d = dateparser.parse(s, languages=["en"], settings={
                    "DATE_ORDER": o, "PREFER_DAY_OF_MONTH": "first", "RELATIVE_BASE": dt.datetime(2000, 1, 1),
                    "REQUIRE_PARTS": ["day", "month"]})
            except (ValueError, OverflowError, TypeError):
                d = None
            if d is not None:
                break
        if d is None:
            continue
        if has_year:
            return d.date(), None
        return _latest(lambda y, dd=d: dt.date(y, dd.month, min(dd.day, 28 if dd.month == 2 else dd.day)),
                       cal, None)
    return None, None


def norm_words(name: str) -> str:
    """A holiday name as matched in text: 'Thanksgiving Day' -> 'thanksgiving'."""
    from explorer.voice.places import norm

    n = _fold(norm(name))
    return n[:-4] if n.endswith(" day") else n


def weekday(t: str) -> int | None:
    """A weekday named in the text (misspelt too), Monday = 0."""
    from rapidfuzz import process

    for tok in t.split():
        base = tok[:-1] if tok.endswith("s") and tok[:-1] in DAYS else tok
        if base in DAYS:
            return DAYS.index(base)
        if tok in DAY_ABBR:
            return DAY_ABBR[tok]
        if len(tok) >= 4 and tok.isalpha():  # 'frid', 'wednes', 'satur'
            starts = [d for d in DAYS if d.startswith(tok)]
            if len(starts) == 1:
                return DAYS.index(starts[0])
    for tok in t.split():
        if len(tok) >= 6 or (len(tok) >= 5 and tok.endswith(("day", "dy", "dya"))):
            best = process.extractOne(tok, DAYS, scorer=fuzz.ratio)
            if best and best[1] >= 80:
                return DAYS.index(best[0])
    return None


def read_when(t: str, today: dt.date, cal: Calendar) -> When:
    """Day, holiday, hour and duration of a request (``t`` normalised, numbers as digits)."""
    w = When()
    lo, hi = cal.span
    ym = re.search(r"\b(20[0-4]\d|19[89]\d)\b(?! ?(?:people|extra|more|%|percent|fans|visitors))", t)
    year = int(ym.group(1)) if ym and lo.year - 30 <= int(ym.group(1)) <= hi.year + 30 else None
    if re.search(r"\b(lunar|chinese) new ?years?\b", t):  # moves every year: keep only a weekday given
        t = re.sub(r"\b(lunar|chinese) new ?years?( day| eve)?", " ", t)
        w.notes.append("Lunar New Year moves every year: give its date to use it; only the weekday was read.")
    named = _named_day(t, cal, year)
    if named:
        w.date, w.named, hour, note = named
        eve = re.search(rf"\b{re.escape(norm_words(w.named))}\w*(?: day)? eve\b", _fold(t))
        if eve and not w.named.lower().endswith("eve"):
            w.date, w.named = w.date - dt.timedelta(days=1), f"the eve of {w.named}"
        if hour is not None:
            w.hour = hour
        w.notes += [note] if note else []
    else:
        w.date, note = _written_date(t, cal)
        w.notes += [note] if note else []
    if w.date is not None:
        w.holiday = bool(cal.is_holiday(w.date))
        if w.named:
            w.notes.append(f"{w.named.title() if w.named.islower() else w.named}: read as {w.date:%A %d %B %Y}"
                           f"{' (a public holiday)' if w.holiday else ''}.")
    else:
        _undated_day(t, today, w)
    read_hours(t, w)
    return w


def _undated_day(t: str, today: dt.date, w: When) -> None:
    """A weekday, relative day ('tomorrow', 'in 3 days'), the weekend or a weekday, or a holiday without a date."""
    rel = None
    if re.search(r"\bday after (tomorrow|tmrw|tmr)\b", t):
        rel = 2
    elif re.search(r"\b(tomorrow|tmrw|tmr|tomorow|tommorow|tommorrow|2moro|2morrow|tmoro)\b", t):
        rel = 1
    elif re.search(r"\b(today|tonight|tonite|2nite|this (morning|afternoon|evening)|right now|now|"
                   r"later today|the next \d+(\.\d+)? (hours?|hrs?|minutes?|mins?))\b", t):
        rel = 0
    elif (m := re.search(r"\bin (\d+) days\b", t)):
        rel = int(m.group(1))
    if rel is not None:
        w.day_of_week = (today + dt.timedelta(days=rel)).weekday()
    dow = weekday(t)
    if dow is not None:
        w.day_of_week = dow
    if dow is None and rel is None:
        if re.search(r"\b(weekend|saturday night)\b", t):
            w.day_of_week = 5
            w.notes.append("'The weekend' read as Saturday.")
        elif re.search(r"\b(weekday|workday|working day|work day)\b", t):
            w.day_of_week = 2
            w.notes.append("'A weekday' read as Wednesday.")
    if re.search(r"\b(public holiday|bank holiday|holiday)\b", t):
        w.holiday = True
        if w.day_of_week is None:
            w.day_of_week = 0
            w.notes.append("'A public holiday' read as a Monday holiday.")
