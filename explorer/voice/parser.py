"""Plain-language what-if requests -> a validated :class:`Scenario`, or an honest refusal saying why.

The offline parser is deterministic. The text is normalised and its numbers written as digits
(:mod:`explorer.voice.numbers`, text2num); a place is found among the city's own places
(:mod:`explorer.voice.places`: sensors, streets, zones, roads, the city's places.csv); a size with its unit; a day
and a time (:mod:`explorer.voice.when`: the city's holiday calendar, dateparser for written dates). What is missing
is filled with defaults, and every assumption is said back in ``ParseResult.notes``. Requests the generator cannot
answer (fewer people or faster traffic, closures and new roads that state no effect, weather, another city,
several days, nonsense) are refused with the reason; a request for less is never turned into more.

``parse(text, city, today=...)`` uses an OpenAI-compatible endpoint first when one is configured
(see :mod:`explorer.voice.llm`) and falls back to the offline parser on any failure.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from explorer.geo import great_circle_km
from explorer.scenarios.schema import (
    MAX_MAGNITUDE,
    MAX_SNAP_KM,
    Place,
    PlaceKey,
    Scenario,
    ScenarioError,
    event_scenario,
    validate_for_city,
)
from explorer.voice.numbers import MULTIPLIERS, digits
from explorer.voice.places import Gazetteer, Hit, build, norm
from explorer.voice.when import DAYS, Calendar, read_when

# Well-known cities (any city's parser refuses them, except its own name).
OTHER_CITIES = ["sydney", "brisbane", "perth", "adelaide", "hobart", "darwin", "canberra", "geelong", "auckland",
                "wellington", "new york", "nyc", "london", "paris", "tokyo", "chicago", "san francisco", "seattle",
                "san diego city", "berlin", "boston", "toronto", "vancouver", "las vegas", "manhattan", "miami",
                "houston", "dallas", "phoenix", "denver", "portland", "atlanta", "singapore", "hong kong",
                "melbourne", "los angeles", "san diego", "madrid", "rome", "amsterdam", "dublin", "mumbai", "delhi"]
CITY_ABBREVIATIONS = {"LA": "los angeles", "L.A.": "los angeles", "NYC": "new york", "SF": "san francisco"}

# Refusal categories and their plain reasons.
REASONS = {
    "closure": "The generator adds surges to what usually happens; it cannot model closing a road, street, "
               "station or bridge (traffic would have to re-route, which it never learned). If you know the "
               "effect, say it (e.g. '30 % slower from 11 pm to 4 am' or '3,000 extra people an hour').",
    "construction": "The model only knows the sensors and roads that exist; it cannot model new roads, "
                    "lanes, lines or buildings. If you know the effect on an existing place, say it.",
    "weather": "The model has no weather input; it cannot say what rain, heat or storms would do. If you know "
               "the effect, say it (e.g. '20 % slower').",
    "decrease": "The scenario schema only adds demand (more people, or slower traffic); fewer people or "
                "faster traffic cannot be asked for yet, and I will not turn it into the opposite.",
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

CLOSURE = r"\b(clos(e|ed|es|ing|ure|ures)|shut(s|ting)?( down)?|block(ed|s)? off|barricad\w*|pedestriani[sz]\w*" \
          r"|car[- ]free|ban(ned|s)? (cars|traffic)|no cars|remove (the )?(road|lane|bridge)|demolish\w*|" \
          r"road ?works?|works|detour\w*|diversion\w*|maintenance)\b"
CONSTRUCTION = r"\b(build|built|building a|construct\w*|new (road|freeway|lane|lanes|tram|train|metro|line|" \
               r"bridge|tower|station|stadium|mall|building|bike lane|rail|development|apartment\w*)|widen\w*|" \
               r"extra lane|add(ed|ing|s)? (a |an |new |extra |another )*(\w+ ){0,2}(lane|road|bridge|line|tram line|" \
               r"track|cycle ?way|path|station)|extend(ed|ing|s)? (the )?(\w+ ){0,2}(line|road|freeway|fwy|track|" \
               r"route))\b"
WEATHER = r"\b(rain\w*|storm\w*|snow\w*|heat ?wave|hot day|weather|flood\w*|wind(y|storm)|hail\w*|fog\w*|" \
          r"thunder\w*|bushfire|wildfire|smoke|temperature|degrees|downpour|drizzl\w*|heatwave|scorcher|winds?|" \
          r"bucket\w* down|pouring|pelting|sleet|ice|icy|blizzard|hurricane|tornado|cyclone)\b"
TOO_LONG = r"\b(next (year|decade|month|week)|in (20[3-9]\d|\d+ years?)|by 20\d\d|over the (next )?(week|month|" \
           r"year|summer|winter)|all week|whole week|all month|for (a|1|2|\d+) (week|weeks|month|months|year|years|" \
           r"days)|population growth|every day for|long[- ]term|permanent\w*|for good|forever|from now on|" \
           r"each day for|every (weekend|week|month)|(next|coming|over|for) (the )?(next |coming )?\d+ (years?|" \
           r"months?|weeks?|decades?)|all (summer|winter|autumn|fall|spring|season|year)|(all|whole|entire) weekend|" \
           r"(from|between) (mon|tue|wed|thu|fri|sat|sun)\w* (to|and|until|till|through|thru) (mon|tue|wed|thu|fri|" \
           r"sat|sun)\w*)\b"
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
class ParseResult:
    """A parsed request: a scenario, or a refusal with its reason; which parser answered; assumptions."""

    text: str
    scenario: Scenario | None = None
    refusal: str | None = None  # category, a key of REASONS
    reason: str = ""
    parser: str = "offline"
    notes: list[str] = field(default_factory=list)
    place_label: str = ""
    alternatives: list[tuple[str, str]] = field(default_factory=list)  # ('s:<id>' | 'z:<id>', label)

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


_GAZ: dict[tuple[str, str], tuple[Gazetteer, Calendar]] = {}


def _context(city: Any) -> tuple[Gazetteer, Calendar]:
    city = _city(city) if isinstance(city, str) else city
    key = (city.slug, str(getattr(city, "data_hash", "")))
    if key not in _GAZ:
        _GAZ[key] = (build(city), Calendar.of(city))
    return _GAZ[key]


def gazetteer(city: Any) -> Gazetteer:
    """The gazetteer of a City (or slug), cached per slug and data hash."""
    return _context(city)[0]


def _refuse(text: str, category: str, **kw: Any) -> ParseResult:
    return ParseResult(text=text, refusal=category, reason=REASONS[category].format(**kw))


# ------------------------------------------------------------------ examples said back to people


def examples(city: Any, n: int = 3) -> list[str]:
    """Example questions for a city, written from its presets' events and its own places."""
    from explorer.presets import presets_for

    city = _city(city) if isinstance(city, str) else city
    g = gazetteer(city)
    out: list[str] = []
    for p in presets_for(city):
        if not p.scenario.events:
            continue
        sc, ev = p.scenario, p.scenario.events[0]
        place = _place_name(g, ev.place)
        day = sc.day.date.strftime("on %d %B %Y").replace(" 0", " ") if sc.day.date else f"on {DAYS[sc.day.weekday]}"
        hour = (sc.start_hour + ev.start_offset_hours) % 24
        clock = f"{(hour - 1) % 12 + 1} {'am' if hour < 12 else 'pm'}"
        size = {"people": f"{ev.magnitude:,.0f} extra people an hour at {place}",
                "percent": f"{ev.magnitude:g} % more people than usual at {place}",
                "percent_slower": f"traffic near {place} {ev.magnitude:g} % slower"}[ev.unit]
        out.append(f"What if {size} {day} from {clock} for {ev.duration_hours} hours?")
    named = [h for h in (g.road_labels.get(k) for k in g.road_sensors if not k.isdigit()) if h][:1] + \
        [street for street in g.street_labels.values()][:1] + list(g.landmarks)[:1]
    for name in named:
        if len(out) >= n:
            break
        out.append(f"{name} twice as busy as usual on Saturday at 8 pm" if city.manifest.series.counts
                   else f"{name} 40 % slower on Friday at 5 pm")
    return out[:n]


def _place_name(g: Gazetteer, place: Any) -> str:
    if place.sensor_id:
        return g.show(str(place.sensor_id))
    if place.zone_id:
        return g.zone_names.get(str(place.zone_id), f"zone {place.zone_id}")
    km = {name: float(great_circle_km(place.lat, place.lon, la, lo)) for name, (la, lo) in g.landmarks.items()}
    best = min(km, key=km.__getitem__, default=None)
    if best is not None and km[best] <= 0.6:
        return best
    sid, _ = g.nearest_sensor(place.lat, place.lon)
    return g.show(sid)


def _what(g: Gazetteer) -> str:
    kinds = []
    if g.street_labels:
        kinds.append("street")
    if g.zone_names:
        kinds.append("neighbourhood")
    if any(not k.isdigit() for k in g.road_sensors):
        kinds.append("road")
    kinds += ["counter" if not g.road_sensors else "sensor", "landmark"]
    names = [*list(g.street_labels.values())[:1], *list(g.landmarks)[:2], *list(g.zone_names.values())[:1]]
    return f"{', '.join(kinds[:-1])} or {kinds[-1]}" + (f" (e.g. {', '.join(repr(x) for x in names)})" if names
                                                        else "")


# ------------------------------------------------------------------ sizes and direction


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
    # traffic speed
    s.unit = "percent_slower"
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


# ------------------------------------------------------------------ places


@dataclass
class PlaceOut:
    place: dict[str, str] | None = None
    label: str = ""
    reach: float = 0.0
    notes: list[str] = field(default_factory=list)
    refusal: tuple[str, dict[str, Any]] | None = None
    alternatives: list[tuple[str, str]] = field(default_factory=list)


def _point(g: Gazetteer, h: Hit) -> tuple[float, float]:
    if h.kind == "zone":
        return g.zone_centroids[h.key]
    if h.kind == "landmark":
        return g.landmarks[h.key]
    among = {"sensor": [h.key], "street": g.street_sensors.get(h.key, []),
             "road": g.road_sensors.get(h.key, [])}[h.kind]
    pts = [g.point(s) for s in among]
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


def _street_pick(g: Gazetteer, street: str, among: list[str]) -> str:
    """The counter that stands for a street: the one labelled just by it, else the busiest."""
    for sid in among:
        if norm(re.sub(r"\(.*?\)", "", g.sensor_labels[sid])) == street:
            return sid
    return max(among, key=lambda s: (g.busy.get(s, 0.0), -g.index[s]))


def resolve_place(t: str, g: Gazetteer, counts: bool, hits: list[Hit] | None = None) -> PlaceOut:
    """The scenario place of the text, with notes, alternatives ('did you mean') or a refusal."""
    hits = g.find(t) if hits is None else hits
    out = PlaceOut(reach=0.3 if counts else 2.0)
    if not hits:
        return out
    roads = [h for h in hits if h.kind == "road"]
    streets = [h for h in hits if h.kind == "street"]
    primary = roads[0] if roads else hits[0]
    if not roads and streets and primary.kind != "street":
        a, b = sorted([streets[0].span, primary.span])
        between = " ".join(t.split()[a[1]:b[0]])
        if re.search(r"\b(near|by|outside|next to|close to|around|at|on|along|opposite|beside|towards?)\b", between):
            primary = streets[0]  # 'Swanston St near Melbourne Central': a counter of that street
    others = [h for h in hits if h is not primary]
    anchor = next((h for h in others if h.kind != "road"), None)
    if primary.kind in ("road", "street"):
        among = (g.road_sensors if primary.kind == "road" else g.street_sensors)[primary.key]
        if anchor is not None and anchor.kind == "street" and primary.kind == "street":
            both = [s for s in among if s in g.street_sensors[anchor.key]]
            if both:  # 'Swanston and Flinders streets': their corner
                sid = both[0]
                out.place, out.label = {"sensor_id": sid}, g.show(sid)
                out.notes.append(f"{primary.label} at {anchor.label}: the counter {g.show(sid)}.")
                return out
        if anchor is not None:
            lat, lon = _point(g, anchor)
            sid, d = g.nearest_sensor(lat, lon, among)
            limit = 5.0 if primary.kind == "road" else MAX_SNAP_KM
            if d > limit:
                out.refusal = ("no_sensor", {"place": f"{primary.label} near {anchor.label}", "km": d})
                return out
            out.place, out.label = {"sensor_id": sid}, f"{primary.label} near {anchor.label}"
            out.notes.append(f"{primary.label} near {anchor.label}: the sensor {g.show(sid)}, {d:.1f} km away.")
        elif primary.kind == "road":
            among = g.road_core.get(primary.key) or among
            lat = sum(g.point(s)[0] for s in among) / len(among)
            lon = sum(g.point(s)[1] for s in among) / len(among)
            sid, _ = g.nearest_sensor(lat, lon, among)
            out.place, out.label, out.reach = {"sensor_id": sid}, primary.label, 5.0
            out.notes.append(f"No stretch of {primary.label} named: used its middle sensor ({g.show(sid)}) with a "
                             "5 km reach; name a neighbourhood or landmark along it to be precise.")
        else:
            sid = _street_pick(g, primary.key, among)
            out.place, out.label = {"sensor_id": sid}, f"{primary.label} ({g.show(sid)})"
            if len(among) > 1:
                rest = [g.show(s) for s in among if s != sid]
                out.notes.append(f"{primary.label} has {len(among)} counters: used {g.show(sid)}; the others are "
                                 f"{', '.join(rest)} (pick one below).")
                out.alternatives = [(PlaceKey.sensor(s), g.show(s)) for s in among if s != sid]
        return out
    if primary.kind == "sensor":
        out.place, out.label = {"sensor_id": primary.key}, g.show(primary.key)
    elif primary.kind == "landmark":
        sid, d = g.landmark_sensor(primary.key)
        if sid is None:
            out.refusal = ("no_sensor", {"place": primary.label, "km": d})
            return out
        out.place, out.label = {"sensor_id": sid}, f"{primary.label} ({g.show(sid)})"
        out.notes.append(f"{primary.label}: the nearest sensor is {g.show(sid)}, {d:.1f} km away.")
    else:  # zone
        zid = primary.key
        if not g.zone_sensors.get(zid):
            lat, lon = g.zone_centroids[zid]
            sid, d = g.nearest_sensor(lat, lon)
            if d > 3.0:
                out.refusal = ("no_sensor", {"place": primary.label, "km": d})
                return out
            out.notes.append(f"No sensor inside {primary.label}; the model uses the nearest ({g.show(sid)}, "
                             f"{d:.1f} km).")
        out.place, out.label = {"zone_id": zid}, primary.label
    rivals = g.rivals(t, primary)
    for h in rivals:
        key = PlaceKey.sensor(h.key) if h.kind == "sensor" else PlaceKey.zone(h.key) if h.kind == "zone" else ""
        if h.kind == "landmark":
            sid, _ = g.landmark_sensor(h.key)
            key = PlaceKey.sensor(sid) if sid else ""
        if h.kind == "street":
            key = PlaceKey.sensor(_street_pick(g, h.key, g.street_sensors[h.key]))
        if key and key != str(PlaceKey.of(Place(**out.place))) and key not in {a[0] for a in out.alternatives}:
            out.alternatives.append((key, h.label))
    if out.alternatives:
        out.notes.append(f"'{' '.join(t.split()[primary.span[0]:primary.span[1]])}' could also be "
                         f"{', '.join(a[1] for a in out.alternatives)} (pick one below).")
    return out


# ------------------------------------------------------------------ the parser


def _other_city(raw: str, plain: str, g: Gazetteer, covered: str) -> bool:
    own = norm(g.name, fold=False)
    names = [c for c in OTHER_CITIES if c != own and not own.startswith(c)]
    if any(re.search(rf"\b{c}s?\b", covered) for c in names):
        return True
    return any(re.search(rf"(?<![\w.]){re.escape(a)}(?![\w])", raw) and full != own
               for a, full in CITY_ABBREVIATIONS.items())


def parse_offline(text: str, city: Any, today: dt.date | None = None) -> ParseResult:
    """Deterministic parse of ``text`` for ``city`` (a City or slug), relative days from ``today``."""
    today = today or dt.date.today()
    city = _city(city) if isinstance(city, str) else city
    g, cal = _context(city)
    raw = (text or "").strip()[:500]
    plain = digits(norm(raw, fold=False))  # 'lane' and 'road' stay words for the refusal patterns
    t = digits(norm(raw))
    counts = city.manifest.series.counts
    if len(re.findall(r"[a-z]{2,}", t)) < 2:
        return _refuse(raw, "nonsense", example=" or ".join(repr(e) for e in examples(city, 1)) or "'...'")
    toks = t.split()
    hits = g.find(t)
    covered = {i for h in hits for i in range(*h.span)}
    rest = " ".join(w for i, w in enumerate(toks) if i not in covered)  # 'Little Tokyo' is a place here
    if _other_city(raw, plain, g, rest):
        return _refuse(raw, "other_city", city=g.name)
    if re.search(TOO_LONG, plain):
        return _refuse(raw, "too_long")
    if is_decrease(plain):
        return _refuse(raw, "decrease")
    size = read_size(t, counts)
    notes = list(size.notes)
    for cat, pat in (("closure", CLOSURE), ("construction", CONSTRUCTION), ("weather", WEATHER)):
        m = re.search(pat, plain)
        if m:
            if not size.stated or size.problem:
                return _refuse(raw, cat)
            notes.insert(0, {"closure": f"'{m.group(0)}' itself is not modelled (no re-routing): only the stated "
                                        "effect is.",
                             "construction": f"'{m.group(0)}' itself is not modelled (the model knows only "
                                             "today's roads): only the stated effect is.",
                             "weather": f"'{m.group(0)}' itself is not modelled (no weather input): only the "
                                        "stated effect is."}[cat])
            break
    if size.problem == "unit":
        return _refuse(raw, "unit", city=g.name, measure="pedestrians per hour" if counts else "freeway speed",
                       ask="more people (e.g. '5,000 people' or '50 % more')" if counts
                       else "a slowdown (e.g. '30 % slower' or 'jams')")
    po = resolve_place(t, g, counts, hits)
    if po.refusal:
        return _refuse(raw, po.refusal[0], **po.refusal[1])
    if po.place is None:
        if not re.search(r"\b(what if|if|crowd\w*|people|traffic|jam\w*|busy|event|concert|game|match|festival|"
                         r"parade|rush|slow\w*|more|extra|busier|packed|gridlock\w*|congest\w*|fwy|freeway|road|"
                         r"street|st|station)\b", t):
            return _refuse(raw, "nonsense", example=" or ".join(repr(e) for e in examples(city, 1)) or "'...'")
        return _refuse(raw, "no_place", city=g.name, what=_what(g))
    notes += po.notes
    unit, mag = size.unit, size.magnitude
    assert unit is not None and mag is not None
    if mag > MAX_MAGNITUDE[unit]:
        notes.append(f"{mag:,.0f} is beyond the model's limit; capped at {MAX_MAGNITUDE[unit]:,.0f}.")
        mag = MAX_MAGNITUDE[unit]
    if mag <= 0:
        return _refuse(raw, "decrease" if mag < 0 else "invalid", detail="the size must be more than zero")
    w = read_when(t, today, cal)
    notes += w.notes
    if w.date is None and w.day_of_week is None:
        w.day_of_week = today.weekday()
        notes.append(f"No day given: used today's weekday ({DAYS[w.day_of_week].title()}).")
    if w.hour is None:
        w.hour = 17 if not counts else 12
        notes.append(f"No time given: assumed {w.hour}:00.")
    if w.duration is None:
        notes.append(f"No duration given: assumed {3 if not counts else 2} hours.")
    duration = min(w.duration or (3 if not counts else 2), 24)
    day: dict[str, Any] = {"date": w.date.isoformat()} if w.date else {"day_of_week": w.day_of_week}
    day["holiday"] = bool(w.holiday)
    try:
        sc = event_scenario(city.slug, day, w.hour, duration, {"place": po.place, "magnitude": round(float(mag), 1),
                                                               "unit": unit, "reach_km": po.reach})
        validate_for_city(sc, city)
    except (ValueError, ScenarioError) as exc:
        return _refuse(raw, "invalid", detail=str(exc).splitlines()[-1][:200])
    return ParseResult(text=raw, scenario=sc, parser="offline", notes=notes, place_label=po.label,
                       alternatives=po.alternatives)


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
            key = PlaceKey.of(p)
            out |= {"place": names.get(str(key), key.plain) if key else f"{p.lat:.4f}, {p.lon:.4f}",
                    "size": f"{e.magnitude:g} {e.unit.replace('_', ' ')}",
                    "event hours": f"{(sc.start_hour + e.start_offset_hours) % 24}:00 for {e.duration_hours} h",
                    "reach": f"{e.reach_km:g} km"}
        else:
            out["place"] = "no event"
        return out

    a, b = flat(current), flat(new)
    return [(k, a.get(k, "—"), v) for k, v in b.items() if a.get(k) != v]


__all__ = ["ParseResult", "REASONS", "differences", "examples", "gazetteer", "parse",
           "parse_offline", "read_size", "is_decrease", "resolve_place"]
