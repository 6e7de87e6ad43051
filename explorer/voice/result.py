"""What a parse gives back: a scenario, or a refusal in one of the categories below with its plain reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from explorer.scenarios.schema import Scenario

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


def refuse(text: str, category: str, **kw: Any) -> ParseResult:
    """A refusal of ``text`` in ``category``, its reason filled in from ``kw``."""
    return ParseResult(text=text, refusal=category, reason=REASONS[category].format(**kw))
