"""Kept scenarios for the Compare page: up to four, carried in one URL parameter so a comparison can be shared
(or prepared for a workshop) as a link, and a one-line title for each."""

from __future__ import annotations

import base64
import binascii
import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from explorer.scenarios.schema import Scenario
from explorer.share import SAMPLE_CHOICES, ShareError, parse_scenario_json

MAX_KEPT = 4
MAX_LINK_CHARS = 12_000
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UNIT_WORDS = {"people": "people/hour", "percent": "% more people", "percent_slower": "% slower"}


class _Kept(BaseModel):
    model_config = ConfigDict(extra="forbid")
    s: dict
    seed: int = Field(0, ge=0, le=2**31 - 1)
    n: int = 64


def keep(saved: list[dict], scenario: Scenario, seed: int, n: int) -> list[dict]:
    """``saved`` with this run added at the end (no duplicates; the oldest dropped beyond four)."""
    entry = {"city": scenario.city, "scenario": scenario.to_json(), "seed": int(seed), "n": int(n)}
    out = [e for e in saved if e != entry] + [entry]
    return out[-MAX_KEPT:]


def encode_comparison(saved: list[dict]) -> str:
    """The kept runs as one URL-safe parameter value."""
    items = [{"s": json.loads(e["scenario"]), "seed": e["seed"], "n": e["n"]} for e in saved[-MAX_KEPT:]]
    raw = json.dumps(items, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_comparison(value: str) -> list[dict]:
    """Kept runs from a link's parameter, each scenario validated; :class:`ShareError` saying what is wrong."""
    fix = "copy the whole address of the Compare page"
    if len(value) > MAX_LINK_CHARS:
        raise ShareError("the comparison in the link is too long", where="link", fix=fix)
    try:
        items = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        raise ShareError("the comparison in the link is not readable", where="link", fix=fix) from None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_KEPT:
        raise ShareError(f"a comparison holds 1 to {MAX_KEPT} scenarios", where="link", fix=fix)
    out = []
    for i, item in enumerate(items, 1):
        try:
            kept = _Kept.model_validate(item)
        except ValidationError as exc:
            raise ShareError(f"scenario {i} of the comparison is invalid ({exc.errors()[0]['msg']})",
                             where="link", fix=fix) from None
        if kept.n not in SAMPLE_CHOICES:
            raise ShareError(f"scenario {i}: n={kept.n} samples is not offered", where="link",
                             fix=f"use one of {', '.join(map(str, SAMPLE_CHOICES))}")
        scenario = parse_scenario_json(json.dumps(kept.s), where=f"link, scenario {i}")
        out.append({"city": scenario.city, "scenario": scenario.to_json(), "seed": kept.seed, "n": kept.n})
    return out


def scenario_title(scenario: Scenario, place: str | None = None) -> str:
    """One line naming a scenario: its day and hours, and its first event (size, ``place``, length).

    ``place`` is the first event's place in words (the page knows the city's names); without it the place's id
    or coordinates are shown.
    """
    day = scenario.day.date.strftime("%a %d %b %Y") if scenario.day.date else DAYS[scenario.day.weekday]
    end = scenario.start_hour + scenario.horizon_hours
    until = f"{end:02d}:00" if end <= 24 else f"{end - 24:02d}:00 next day"
    when = f"{day}{' (holiday)' if scenario.day.holiday else ''} {scenario.start_hour:02d}:00–{until}"
    if not scenario.events:
        return f"{when}, no event"
    ev = scenario.events[0]
    p = ev.place
    where = place or (f"sensor {p.sensor_id}" if p.sensor_id is not None else f"zone {p.zone_id}"
                      if p.zone_id is not None else f"{p.lat:.4f}, {p.lon:.4f}")
    size = f"{ev.magnitude:+,.0f} " if ev.unit == "people" else f"{ev.magnitude:,.0f} "
    k = len(scenario.events) - 1
    more = f" (and {k} more event{'s' if k > 1 else ''})" if k else ""
    return f"{when}: {size}{UNIT_WORDS[ev.unit]} at {where} for {ev.duration_hours} h{more}"
