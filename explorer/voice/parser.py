"""Plain-language what-if requests -> a validated :class:`Scenario`, or an honest refusal saying why.

The offline parser is deterministic. The text is normalised and its numbers written as digits
(:mod:`explorer.voice.numbers`, text2num); a place is found among the city's own places
(:mod:`explorer.voice.places` and :mod:`explorer.voice.where`: sensors, streets, zones, roads, the city's
places.csv); a size with its unit (:mod:`explorer.voice.sizes`); a day and a time (:mod:`explorer.voice.when`: the
city's holiday calendar, dateparser for written dates). What is missing is filled with defaults, and every
assumption is said back in ``ParseResult.notes`` (:mod:`explorer.voice.result`). Requests the generator cannot
answer (fewer people or faster traffic, closures and new roads that state no effect, weather, another city,
several days, nonsense) are refused with the reason; a request for less is never turned into more.

``parse(text, city, today=...)`` uses an OpenAI-compatible endpoint first when one is configured
(see :mod:`explorer.voice.llm`) and falls back to the offline parser on any failure.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from explorer.scenarios.schema import (
    MAX_MAGNITUDE,
    PlaceKey,
    Scenario,
    ScenarioError,
    event_scenario,
    validate_for_city,
)
from explorer.voice.context import city_of, context, gazetteer
from explorer.voice.numbers import digits
from explorer.voice.places import Gazetteer, norm
from explorer.voice.result import REASONS, ParseResult, refuse
from explorer.voice.sizes import is_decrease, read_size
from explorer.voice.when import DAYS, Calendar, When, read_when
from explorer.voice.where import place_name, resolve_place, what_to_name

# Well-known cities (any city's parser refuses them, except its own name).
OTHER_CITIES = ["sydney", "brisbane", "perth", "adelaide", "hobart", "darwin", "canberra", "geelong", "auckland",
                "wellington", "new york", "nyc", "london", "paris", "tokyo", "chicago", "san francisco", "seattle",
                "san diego city", "berlin", "boston", "toronto", "vancouver", "las vegas", "manhattan", "miami",
                "houston", "dallas", "phoenix", "denver", "portland", "atlanta", "singapore", "hong kong",
                "melbourne", "los angeles", "san diego", "madrid", "rome", "amsterdam", "dublin", "mumbai", "delhi"]
CITY_ABBREVIATIONS = {"LA": "los angeles", "L.A.": "los angeles", "NYC": "new york", "SF": "san francisco"}

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


# ------------------------------------------------------------------ examples said back to people


def examples(city: Any, n: int = 3) -> list[str]:
    """Example questions for a city, written from its presets' events and its own places."""
    from explorer.presets import presets_for

    city = city_of(city) if isinstance(city, str) else city
    g = gazetteer(city)
    out: list[str] = []
    for p in presets_for(city):
        if not p.scenario.events:
            continue
        sc, ev = p.scenario, p.scenario.events[0]
        place = place_name(g, ev.place)
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


# ------------------------------------------------------------------ the parser


def _other_city(raw: str, g: Gazetteer, covered: str) -> bool:
    own = norm(g.name, fold=False)
    names = [c for c in OTHER_CITIES if c != own and not own.startswith(c)]
    if any(re.search(rf"\b{c}s?\b", covered) for c in names):
        return True
    return any(re.search(rf"(?<![\w.]){re.escape(a)}(?![\w])", raw) and full != own
               for a, full in CITY_ABBREVIATIONS.items())


def _unmodelled(plain: str) -> tuple[str, str] | None:
    """A closure, construction or weather named in the text: its refusal category and the note said when the text
    also states the effect."""
    for cat, pat in (("closure", CLOSURE), ("construction", CONSTRUCTION), ("weather", WEATHER)):
        m = re.search(pat, plain)
        if m:
            return cat, {"closure": f"'{m.group(0)}' itself is not modelled (no re-routing): only the stated "
                                    "effect is.",
                         "construction": f"'{m.group(0)}' itself is not modelled (the model knows only "
                                         "today's roads): only the stated effect is.",
                         "weather": f"'{m.group(0)}' itself is not modelled (no weather input): only the "
                                    "stated effect is."}[cat]
    return None


def _when(t: str, today: dt.date, cal: Calendar, counts: bool) -> When:
    """Day, hour and duration of the text, with the defaults filled in and said in its notes (today's weekday;
    12:00 for 2 hours where people are counted, 17:00 for 3 hours on roads)."""
    w = read_when(t, today, cal)
    if w.date is None and w.day_of_week is None:
        w.day_of_week = today.weekday()
        w.notes.append(f"No day given: used today's weekday ({DAYS[w.day_of_week].title()}).")
    if w.hour is None:
        w.hour = 17 if not counts else 12
        w.notes.append(f"No time given: assumed {w.hour}:00.")
    if w.duration is None:
        w.notes.append(f"No duration given: assumed {3 if not counts else 2} hours.")
        w.duration = 3 if not counts else 2
    return w


def parse_offline(text: str, city: Any, today: dt.date | None = None) -> ParseResult:
    """Deterministic parse of ``text`` for ``city`` (a City or slug), relative days from ``today``."""
    today = today or dt.date.today()
    city = city_of(city) if isinstance(city, str) else city
    g, cal = context(city)
    raw = (text or "").strip()[:500]
    plain = digits(norm(raw, fold=False))  # 'lane' and 'road' stay words for the refusal patterns
    t = digits(norm(raw))
    counts = city.manifest.series.counts
    if len(re.findall(r"[a-z]{2,}", t)) < 2:
        return refuse(raw, "nonsense", example=" or ".join(repr(e) for e in examples(city, 1)) or "'...'")
    toks = t.split()
    hits = g.find(t)
    covered = {i for h in hits for i in range(*h.span)}
    rest = " ".join(w for i, w in enumerate(toks) if i not in covered)  # 'Little Tokyo' is a place here
    if _other_city(raw, g, rest):
        return refuse(raw, "other_city", city=g.name)
    if re.search(TOO_LONG, plain):
        return refuse(raw, "too_long")
    if is_decrease(plain):
        return refuse(raw, "decrease")
    size = read_size(t, counts)
    notes = list(size.notes)
    unmodelled = _unmodelled(plain)
    if unmodelled:
        cat, note = unmodelled
        if not size.stated or size.problem:
            return refuse(raw, cat)
        notes.insert(0, note)
    if size.problem == "unit":
        return refuse(raw, "unit", city=g.name, measure="pedestrians per hour" if counts else "freeway speed",
                       ask="more people (e.g. '5,000 people' or '50 % more')" if counts
                       else "a slowdown (e.g. '30 % slower' or 'jams')")
    po = resolve_place(t, g, counts, hits)
    if po.refusal:
        return refuse(raw, po.refusal[0], **po.refusal[1])
    if po.place is None:
        if not re.search(r"\b(what if|if|crowd\w*|people|traffic|jam\w*|busy|event|concert|game|match|festival|"
                         r"parade|rush|slow\w*|more|extra|busier|packed|gridlock\w*|congest\w*|fwy|freeway|road|"
                         r"street|st|station)\b", t):
            return refuse(raw, "nonsense", example=" or ".join(repr(e) for e in examples(city, 1)) or "'...'")
        return refuse(raw, "no_place", city=g.name, what=what_to_name(g))
    notes += po.notes
    unit, mag = size.unit, size.magnitude
    assert unit is not None and mag is not None
    if mag > MAX_MAGNITUDE[unit]:
        notes.append(f"{mag:,.0f} is beyond the model's limit; capped at {MAX_MAGNITUDE[unit]:,.0f}.")
        mag = MAX_MAGNITUDE[unit]
    if mag <= 0:
        return refuse(raw, "decrease" if mag < 0 else "invalid", detail="the size must be more than zero")
    w = _when(t, today, cal, counts)
    notes += w.notes
    duration = min(w.duration, 24)
    day: dict[str, Any] = {"date": w.date.isoformat()} if w.date else {"day_of_week": w.day_of_week}
    day["holiday"] = bool(w.holiday)
    try:
        sc = event_scenario(city.slug, day, w.hour, duration, {"place": po.place, "magnitude": round(float(mag), 1),
                                                               "unit": unit, "reach_km": po.reach})
        validate_for_city(sc, city)
    except (ValueError, ScenarioError) as exc:
        return refuse(raw, "invalid", detail=str(exc).splitlines()[-1][:200])
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
