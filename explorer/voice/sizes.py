"""The size of a requested event and its direction: extra people or percent more (counts), percent slower
(speeds), with a plain note of how the words were read; requests for less are recognised, never flipped."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from explorer.voice.numbers import MULTIPLIERS

DOWN_VERB = r"(drop|dropp|fall|fell|falls|decreas|declin|reduc|cut|cuts|cutting|slash|halv|lower|shrink|dip|" \
            r"ease|eas|thin|lighten|plummet|plunge)\w*"
SPEED_WORDS = r"\b(speed|speeds|mph|kmh|km/h|velocity|pace)\b"
VOLUME_WORDS = r"\b(traffic|congestion|crowd\w*|people|travel times?|journey times?|delays?|commutes?|jams?|" \
               r"visitors|numbers|foot ?traffic|pedestrians|cars|vehicles|footfall|queues?|wait\w*|volume\w*|" \
               r"count\w*|attendance|patronage)\b"
DECREASE = r"\b(fewer|less (people|traffic|crowd\w*|busy|congest\w*|cars|pedestrians|foot traffic|visitors|" \
           r"packed|jammed|of a (crowd|jam))|not (as|so) (busy|crowded|packed|many|congested|jammed)|quieter|" \
           r"quiet(er)? than (usual|normal)|emptier|deserted|dead quiet|ghost town|lighter (traffic|crowds?)|" \
           r"light traffic|faster|quicker|speed(s|ing)? up|free[- ]?flow\w*|flow(s|ing)? freely|clear (roads?|" \
           r"traffic|run)|no (traffic|congestion|jams?|crowds?)|nobody|half as many|half (the|its) (usual |normal )?" \
           r"(people|crowd|traffic|number|foot traffic|pedestrians|visitors|cars|congestion)|drain(s|ed)? away|" \
           r"stay(s|ed)? (away|home)|smoother|unclog\w*|decongest\w*|ease (the )?(congestion|traffic)|" \
           r"improv\w* (traffic|flow|speeds?|travel)|empty (streets?|roads?|footpaths?|lanes?|fwy|station|" \
           r"platforms?|square|mall|city|cbd)|half as (busy|crowded|packed|full)(?! again)|lighter|" \
           r"(twice|\d+(\.\d+)? ?(x|times)) as (fast|quick)|moving freely)\b"
PEOPLE = r"(?:extra |more |additional |new |another )?(?:people|persons|pedestrians|visitors|fans|spectators|" \
         r"punters|supporters|concert ?goers|cyclists|riders|protesters|protestors|marchers|runners|attendees|" \
         r"tourists|shoppers|commuters|students|workers|walkers|peds|ppl|folks|guests|participants|revellers|" \
         r"revelers|partygoers|party goers|festival ?goers|kids|families|people walking|bodies|souls|heads|" \
         r"footfall|ppl|humans|residents|locals|members|delegates|diners|drinkers|clubbers|voters|pax|travellers|" \
         r"travelers|passengers|demonstrators|cheering fans|on foot|foot traffic)"
GATHERING = r"(?:crowd|attendance|protest|march|rally|gathering|parade|queue|audience|turnout|demonstration|" \
            r"event|concert|festival|game|match|show)"


@dataclass
class Size:
    unit: str | None = None
    magnitude: float | None = None
    stated: bool = False  # the text states the effect (a number, a multiplier, a fraction)
    problem: str | None = None
    notes: list[str] = field(default_factory=list)


NUM = r"(\d+(?:\.\d+)?)"


def is_decrease(t: str) -> bool:
    """True when the request asks for less (fewer people, faster traffic, congestion cut), never a slow-down."""
    if re.search(DECREASE, re.sub(r"\b(no|not) less than\b|\bempt\w* out\b|\bclear(s|ing)? out\b", " ", t)):
        return True
    for m in re.finditer(rf"\b{DOWN_VERB}\b", t):
        before, after = t[max(0, m.start() - 60):m.start()], t[m.end():m.end() + 30]

        def dist(pat: str, before: str = before, after: str = after) -> float:
            """Characters from the verb to the nearest word of a kind (its subject or object)."""
            b = [len(before) - x.end() for x in re.finditer(pat, before)]
            a = [x.start() for x in re.finditer(pat, after)]
            return min(b + a, default=1e9)

        speed, volume = dist(SPEED_WORDS), dist(VOLUME_WORDS)
        if speed < volume:
            continue  # speeds cut / dropping: a slow-down
        if volume < 1e9 or re.search(r"\b(by|to) (\d|half|0\.)", after[:12]):
            return True
    m = re.search(rf"\b{NUM}\s*(?:%|percent|per cent)\s*(?:of )?(?:the )?(?:normal|usual|typical)\b(?!\s*speed)", t)
    return bool(m and float(m.group(1)) < 100 and not re.search(SPEED_WORDS, t))


def _ratio_slower(frac_of_speed: float) -> float:
    return round(100.0 * (1.0 - frac_of_speed), 1)


def read_size(t: str, counts: bool) -> Size:
    """Unit and magnitude of the event, with a plain note of how it was read."""
    s = _read_size(t, counts)
    if s.stated and s.magnitude is not None and not s.notes:
        s.notes.append({"people": f"Read as {s.magnitude:,.0f} extra people an hour at the place.",
                        "percent": f"Read as {s.magnitude:g} % more people than usual.",
                        "percent_slower": f"Read as traffic {s.magnitude:g} % slower than usual."}[s.unit or "percent"])
    return s


def _read_size(t: str, counts: bool) -> Size:
    """Unit and magnitude of the event (``t`` normalised with numbers as digits)."""
    s = Size()
    pct = re.search(rf"\b{NUM}\s*(?:%|percent|per cent|pc|pct)(?:\s+(?:of\s+)?(?:the\s+)?(?:its\s+)?"
                    r"(normal|usual|typical|a normal day))?", t)
    if counts:
        return _count_size(t, pct, s)
    s.unit = "percent_slower"
    return _speed_size(t, pct, s)


def _count_size(t: str, pct: re.Match[str] | None, s: Size) -> Size:
    """Counts: percent more (stated as a percent, a multiplier or a fraction) or extra people an hour."""
    if re.search(r"\b(slow|slower|slowdown|jam|jams|jammed|gridlock\w*|congest\w*|traffic jam|speeds?|delays?|"
                 r"travel times?|cars|vehicles|trucks|backed up|tailbacks?)\b", t) and not re.search(
                     rf"\b(foot traffic|pedestrian traffic|{PEOPLE}|crowd\w*|busy|busier)\b", t):
        s.problem = "unit"
        return s
    if pct:
        v = float(pct.group(1))
        if pct.group(2):  # '150 % of normal' is 50 % more
            v -= 100.0
        s.unit, s.magnitude, s.stated = "percent", v, True
        return s
    m = re.search(rf"\b{NUM}\s*(?:x|times)\b(?! (?:a|per) (?:day|week|year))", t)
    if m and float(m.group(1)) > 1:
        s.unit, s.magnitude, s.stated = "percent", round((float(m.group(1)) - 1) * 100, 1), True
        return s
    for word, k in MULTIPLIERS.items():
        if re.search(rf"\b{word}\b", t):
            s.unit, s.magnitude, s.stated = "percent", (k - 1) * 100, True
            return s
    m = re.search(r"\b(0\.\d+|half)\s+(?:again|more|busier|extra|bigger|larger|higher|on top|up)\b", t) or \
        re.search(r"\b(?:up|more|busier|increase\w*|grow\w*|ris\w*|jump\w*|swell\w*|boost\w*) by (0\.\d+|half)"
                  r"\b", t) or re.search(r"\bhalf as (?:many|busy|much) again\b()", t)
    if m:
        frac = 0.5 if m.group(1) in ("half", "") else float(m.group(1))
        s.unit, s.magnitude, s.stated = "percent", round(frac * 100, 1), True
        return s
    m = re.search(rf"\b{NUM}\s+(?:(?!(?:am|pm|on|at|in|to|from|hours?|oclock)\b)[a-z]+\s+){{0,3}}?{PEOPLE}", t) or \
        re.search(rf"\b{NUM}\s+(?:strong\s+|person\s+|people\s+)?{GATHERING}", t)
    if m and float(m.group(1)) >= 10:
        s.unit, s.magnitude, s.stated = "people", float(m.group(1)), True
        if re.search(r"\b(total|in total|all day|over the day|across the day)\b", t):
            s.notes.append("Read the number as extra people per hour at the place.")
        return s
    m = re.search(
        rf"\b{GATHERING}s?(?: of| is| expected| expected at| around| about| at)?\s+(?:about |around |some |"
        rf"roughly |over |nearly |up to )?{NUM}\b(?!\s*(?:am|pm|%|percent|per cent|oclock|:))", t) or \
        re.search(rf"\b{NUM}\s*(?:an|per|every|each|a)\s*(?:hour|hr)\b", t) or \
        re.search(rf"\b{NUM}\s+(?:extra|more|additional)\b", t)
    if m and float(m.group(1)) >= 10 and not re.fullmatch(r"20[0-4]\d", m.group(1)):
        s.unit, s.magnitude, s.stated = "people", float(m.group(1)), True
        if re.search(r"\b(total|in total|all day|over the day|across the day)\b", t):
            s.notes.append("Read the number as extra people per hour at the place.")
        return s
    if re.search(r"\b(huge|massive|enormous|packed|record|mobbed|overflowing|rammed|heaving|swamped|slammed|"
                 r"insane|crazy|chockers|jam packed|chock a block)\b", t):
        s.unit, s.magnitude = "percent", 100.0
        s.notes.append("No size given: 'packed' read as 100 % more people than usual.")
        return s
    s.unit, s.magnitude = "percent", 50.0
    s.notes.append("No size given: read as 50 % more people than usual.")
    return s


def _speed_size(t: str, pct: re.Match[str] | None, s: Size) -> Size:
    """Speeds: percent slower (stated as a percent, a speed drop, a multiplier of travel time or a fraction, else
    from words such as 'gridlock')."""
    m = re.search(rf"\bfrom {NUM}\s*(?:mph|kmh|km/h)? (?:down )?to {NUM}\s*(?:mph|kmh|km/h)\b", t)
    if m and 0 < float(m.group(2)) < float(m.group(1)):
        s.magnitude, s.stated = _ratio_slower(float(m.group(2)) / float(m.group(1))), True
        return s
    if pct:
        v = float(pct.group(1))
        after = t[pct.end():pct.end() + 40]
        if pct.group(2) and re.search(SPEED_WORDS, t):  # '75 % of its usual speed'
            s.magnitude = _ratio_slower(v / 100.0)
        elif re.match(r"\s*(longer|more time|extra time|added to|increase in (travel|journey))", after) or \
                re.search(r"\b(travel|journey|commute|trip) times?\b", t) and not re.search(SPEED_WORDS, t):
            s.magnitude = _ratio_slower(1.0 / (1.0 + v / 100.0))
            s.notes.append(f"Travel times {v:g} % longer means speeds {s.magnitude:g} % lower.")
        else:
            s.magnitude = v
        s.stated = True
        return s
    m = re.search(rf"\b{NUM}\s*(?:x|times)\s+(?:slower|as slow|longer|as long)\b", t)
    if m and float(m.group(1)) > 1:
        s.magnitude, s.stated = _ratio_slower(1.0 / float(m.group(1))), True
        return s
    for word, k in MULTIPLIERS.items():
        if re.search(rf"\b{word}\s+(?:as\s+)?(?:slow|long|the (?:usual |normal )?(?:travel|journey|commute|drive) "
                     rf"times?|the time|the delay)\b|\btakes? {word} as long\b|\b{word} the (?:usual |normal )?"
                     rf"(?:travel|journey|drive|commute) time", t):
            s.magnitude, s.stated = _ratio_slower(1.0 / k), True
            return s
    m = re.search(r"\b(?:to|at|down to)\s+(0\.\d+|half)\s+(?:of\s+)?(?:the\s+|its\s+)?(?:usual|normal|typical)?\s*"
                  r"(?:speed|pace)?", t) or re.search(r"\b(0\.\d+|half)\s+(?:of\s+)?(?:the\s+|its\s+)?(?:usual\s+|"
                                                     r"normal\s+|typical\s+)?(?:speed|pace)\b", t)
    if m and re.search(rf"{SPEED_WORDS}|\b(normal|usual|typical)\b", t):
        frac = 0.5 if m.group(1) == "half" else float(m.group(1))
        s.magnitude, s.stated = _ratio_slower(frac), True
        return s
    m = re.search(r"\b(0\.\d+|half)\s+(?:slower|as fast|speed|as quick)\b", t) or re.search(
        rf"\b(?:slow\w*|down|{DOWN_VERB})\b[^.]{{0,45}}?\b(?:by|in) (0\.\d+|half)\b", t) or re.search(
        r"\bspeeds? (?:are |is )?halved\b()", t)
    if m:
        g = m.group(m.lastindex or 0) if m.lastindex else ""
        frac = 0.5 if g in ("half", "", None) else float(g)
        s.magnitude, s.stated = round(100 * frac, 1), True
        return s
    if re.search(rf"\b{NUM}\s+{PEOPLE}|\b{GATHERING}s? of\s+\d|\b(twice|double|triple|\d+\s*x|\d+ times) the "
                 r"(usual |normal )?(traffic|cars|volume|crowd)", t):
        s.magnitude = 30.0
        s.notes.append(f"{_city_measures()} a crowd or more traffic is read as a jam (default 30 % slower); edit "
                       "the size if you know better.")
        return s
    if re.search(r"\b(gridlock\w*|standstill|stand still|crawl\w*|stopped|parking lot|bumper to bumper|"
                 r"car ?park)\b", t):
        s.magnitude = 70.0
        s.notes.append("'Gridlock' read as 70 % slower.")
        return s
    if re.search(r"\b(heavy|major|severe|bad|terrible|awful|big|massive|huge|nightmare|horrible|insane|chaos)\b", t):
        s.magnitude = 50.0
        s.notes.append("A heavy jam read as 50 % slower.")
        return s
    if re.search(r"\b(slight\w*|minor|little|bit|light|mild\w*)\b", t):
        s.magnitude = 15.0
        s.notes.append("A slight slowdown read as 15 % slower.")
        return s
    s.magnitude = 30.0
    s.notes.append("No size given: read as 30 % slower than usual.")
    return s


def _city_measures() -> str:
    return "This city measures speed, not people:"
