"""The what-if scenario: a small, versioned pydantic model with a JSON round trip.

A scenario says *which day* (day of week + holiday flag, or a calendar date), *which hours* (start hour
and horizon, hourly resolution, within one 24-hour window) and *which events* (place, magnitude,
timing, spatial reach). Example::

    {"schema_version": 1, "city": "melbourne",
     "day": {"day_of_week": 4},
     "start_hour": 17, "horizon_hours": 6,
     "events": [{"place": {"sensor_id": "4"}, "magnitude": 2000, "unit": "people",
                 "start_offset_hours": 2, "duration_hours": 3, "reach_km": 0.5}]}

Units: for counts ``people`` (extra people per hour at the place, over the event's hours) or
``percent`` (percent more than usual); for speeds ``percent_slower``. Closures and demand growth are
not offered: the generator cannot honestly produce them yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 1
MAX_EVENTS = 10
MAX_REACH_KM = 10.0
MAX_SNAP_KM = 2.0  # a lat/lon place must lie within this distance of a sensor
Unit = Literal["people", "percent", "percent_slower"]
UNITS_BY_KIND: dict[str, tuple[Unit, ...]] = {"counts": ("people", "percent"), "speed": ("percent_slower",)}
MAX_MAGNITUDE: dict[str, float] = {"people": 50_000.0, "percent": 1000.0, "percent_slower": 90.0}


class ScenarioError(ValueError):
    """A scenario that does not fit the city (unknown place, wrong unit ...)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DayContext(_Strict):
    """Either a calendar ``date`` or a ``day_of_week`` (0 = Monday .. 6 = Sunday); ``holiday`` marks a
    public holiday (with a date, a holiday in the city's bundled calendar is also recognised)."""

    date: dt.date | None = None
    day_of_week: int | None = Field(default=None, ge=0, le=6, description="0 = Monday .. 6 = Sunday")
    holiday: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> DayContext:
        if self.date is None and self.day_of_week is None:
            raise ValueError("day needs a 'date' (YYYY-MM-DD) or a 'day_of_week' (0 = Monday .. 6 = Sunday)")
        if self.date is not None and self.day_of_week is not None and self.date.weekday() != self.day_of_week:
            raise ValueError(
                f"day_of_week {self.day_of_week} contradicts date {self.date} "
                f"(a {self.date.strftime('%A')}, day_of_week {self.date.weekday()}); give only one"
            )
        return self

    @property
    def weekday(self) -> int:
        """Day of week 0..6."""
        return self.date.weekday() if self.date is not None else int(self.day_of_week)  # type: ignore[arg-type]


class Place(_Strict):
    """Exactly one of: a sensor id, a zone id, or a lat/lon pair."""

    sensor_id: str | None = None
    zone_id: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _exactly_one(self) -> Place:
        kinds = [self.sensor_id is not None, self.zone_id is not None, self.lat is not None or self.lon is not None]
        if sum(kinds) != 1:
            raise ValueError("place needs exactly one of: sensor_id, zone_id, or lat + lon")
        if kinds[2] and (self.lat is None or self.lon is None):
            raise ValueError("a lat/lon place needs both lat and lon")
        return self

    @field_validator("sensor_id", "zone_id", mode="before")
    @classmethod
    def _as_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v


@dataclass(frozen=True)
class PlaceKey:
    """A sensor or zone place as one string, for widgets, links and 'did you mean' lists: ``s:<sensor id>`` or
    ``z:<zone id>``."""

    kind: Literal["s", "z"]
    id: str

    @classmethod
    def sensor(cls, sensor_id: Any) -> str:
        return str(cls("s", str(sensor_id)))

    @classmethod
    def zone(cls, zone_id: Any) -> str:
        return str(cls("z", str(zone_id)))

    @classmethod
    def of(cls, place: Place) -> PlaceKey | None:
        """The key of a sensor or zone place (None for a lat/lon place)."""
        if place.sensor_id is not None:
            return cls("s", place.sensor_id)
        if place.zone_id is not None:
            return cls("z", place.zone_id)
        return None

    @classmethod
    def parse(cls, key: str) -> PlaceKey:
        """Read ``s:<id>`` / ``z:<id>`` (ValueError otherwise)."""
        kind, sep, pid = str(key).partition(":")
        if not sep or kind not in ("s", "z") or not pid:
            raise ValueError(f"{key!r} is not a place key ('s:<sensor id>' or 'z:<zone id>')")
        return cls(kind, pid)  # type: ignore[arg-type]

    @property
    def sensor_id(self) -> str | None:
        return self.id if self.kind == "s" else None

    @property
    def zone_id(self) -> str | None:
        return self.id if self.kind == "z" else None

    @property
    def place(self) -> dict[str, str]:
        """The scenario place it names: ``{"sensor_id": ...}`` or ``{"zone_id": ...}``."""
        return {"sensor_id" if self.kind == "s" else "zone_id": self.id}

    @property
    def plain(self) -> str:
        """'sensor <id>' / 'zone <id>', when no better name is known."""
        return f"{'sensor' if self.kind == 's' else 'zone'} {self.id}"

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


class Event(_Strict):
    """A surge at a place: ``magnitude`` in ``unit``, from ``start_offset_hours`` after the scenario's
    start hour, lasting ``duration_hours``, spreading with a Gaussian decay of scale ``reach_km``
    (0 = the place's own sensor(s) only)."""

    place: Place
    magnitude: float = Field(gt=0, description="extra people per hour, percent more, or percent slower")
    unit: Unit
    start_offset_hours: int = Field(default=0, ge=0, le=23)
    duration_hours: int = Field(default=1, ge=1, le=24)
    reach_km: float = Field(default=0.5, ge=0, le=MAX_REACH_KM)

    @model_validator(mode="after")
    def _magnitude_range(self) -> Event:
        hi = MAX_MAGNITUDE[self.unit]
        if self.magnitude > hi:
            raise ValueError(f"magnitude {self.magnitude:g} {self.unit} is out of range (at most {hi:g})")
        return self


class Scenario(_Strict):
    """A what-if question for one city (see the module docstring for an example)."""

    schema_version: Literal[1] = SCHEMA_VERSION
    city: str = Field(min_length=1, description="city slug, e.g. 'los-angeles'")
    day: DayContext
    start_hour: int = Field(default=0, ge=0, le=23)
    horizon_hours: int = Field(default=24, ge=1, le=24)
    events: list[Event] = Field(default_factory=list, max_length=MAX_EVENTS)

    @model_validator(mode="after")
    def _events_inside_horizon(self) -> Scenario:
        for i, e in enumerate(self.events):
            end = e.start_offset_hours + e.duration_hours
            if end > self.horizon_hours:
                raise ValueError(
                    f"event {i} ends {end} h after the start, beyond the horizon of {self.horizon_hours} h; "
                    "shorten it or lengthen the horizon"
                )
        return self

    def to_json(self) -> str:
        """Canonical JSON (sorted keys)."""
        import json

        return json.dumps(self.model_dump(mode="json", exclude_none=True), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Scenario:
        """Parse and validate JSON (raises ``pydantic.ValidationError`` with readable messages)."""
        return cls.model_validate_json(text)


def event_scenario(city: str, day: dict[str, Any], hour: int, duration: int, event: dict[str, Any]) -> Scenario:
    """A scenario around one event from clock ``hour`` for ``duration`` hours: up to two hours of lead-in and three
    after, inside one 24-hour window. ``event`` holds its place, magnitude, unit and reach_km."""
    lead = min(2, hour, 24 - duration)
    return Scenario.model_validate({
        "city": city, "day": day, "start_hour": hour - lead, "horizon_hours": min(24, lead + duration + 3),
        "events": [{**event, "start_offset_hours": lead, "duration_hours": duration}]})


def validate_for_city(scenario: Scenario, city: Any) -> None:
    """Check that the scenario fits ``city`` (slug, units of its series, places that exist).

    Raises :class:`ScenarioError` saying what is wrong and how to fix it.
    """
    from explorer.cities.view import as_view
    from explorer.geo import great_circle_km

    view = as_view(city)
    if scenario.city != view.slug:
        raise ScenarioError(f"scenario is for city {scenario.city!r} but was given {view.slug!r}")
    allowed = UNITS_BY_KIND[view.domain]
    ids = set(view.sensor_ids)
    for i, e in enumerate(scenario.events):
        if e.unit not in allowed:
            raise ScenarioError(f"event {i}: unit {e.unit!r} does not fit {view.slug} ({view.domain}); use {allowed}")
        p = e.place
        if p.sensor_id is not None and p.sensor_id not in ids:
            raise ScenarioError(f"event {i}: sensor {p.sensor_id!r} is not a sensor of {view.slug}")
        if p.zone_id is not None:
            zones = view.zones
            if zones is None:
                raise ScenarioError(f"event {i}: {view.slug} has no zones; use a sensor_id or lat/lon")
            if p.zone_id not in set(zones["zone_id"].astype(str)):
                raise ScenarioError(f"event {i}: zone {p.zone_id!r} is not a zone of {view.slug}")
        if p.lat is not None:
            d = great_circle_km(p.lat, p.lon, view.lat, view.lon).min()
            if d > MAX_SNAP_KM:
                raise ScenarioError(
                    f"event {i}: ({p.lat:.4f}, {p.lon:.4f}) is {d:.1f} km from the nearest sensor of "
                    f"{view.slug} (at most {MAX_SNAP_KM} km)"
                )
