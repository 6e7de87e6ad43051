"""The scenario schema: good and bad scenarios, JSON round trip, city checks."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from explorer.cities import load_city
from explorer.scenarios import Scenario, ScenarioError, validate_for_city

GOOD = {
    "city": "melbourne",
    "day": {"day_of_week": 4},
    "start_hour": 17,
    "horizon_hours": 6,
    "events": [
        {
            "place": {"sensor_id": "4"},
            "magnitude": 2000,
            "unit": "people",
            "start_offset_hours": 2,
            "duration_hours": 3,
            "reach_km": 0.5,
        }
    ],
}


def _with(**changes: object) -> dict:
    d = {**GOOD, "events": [dict(GOOD["events"][0])]}
    for k, v in changes.items():
        if k.startswith("event_"):
            d["events"][0][k[6:]] = v
        else:
            d[k] = v
    return d


@pytest.fixture(scope="module")
def melbourne():
    return load_city("melbourne")


def test_json_round_trip_is_exact():
    s = Scenario.model_validate(GOOD)
    again = Scenario.from_json(s.to_json())
    assert again == s
    assert again.to_json() == s.to_json()
    assert again.schema_version == 1
    assert again.events[0].place.sensor_id == "4"


def test_date_gives_the_weekday_and_int_sensor_ids_become_strings():
    s = Scenario.model_validate(_with(day={"date": "2014-09-26"}, event_place={"sensor_id": 4}))
    assert s.day.weekday == dt.date(2014, 9, 26).weekday() == 4
    assert s.events[0].place.sensor_id == "4"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"day": {"day_of_week": 7}}, "less than or equal to 6"),
        ({"day": {}}, "needs a 'date'"),
        ({"day": {"date": "2014-09-26", "day_of_week": 1}}, "contradicts"),
        ({"start_hour": 24}, "less than or equal to 23"),
        ({"horizon_hours": 0}, "greater than or equal to 1"),
        ({"event_magnitude": -5}, "greater than 0"),
        ({"event_magnitude": 1e9}, "out of range"),
        ({"event_unit": "cars"}, "people"),
        ({"event_duration_hours": 10}, "beyond the horizon"),
        ({"event_place": {"sensor_id": "4", "zone_id": "9"}}, "exactly one"),
        ({"event_place": {"lat": -37.81}}, "both lat and lon"),
        ({"event_reach_km": 50}, "less than or equal to 10"),
        ({"schema_version": 2}, "schema_version"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_scenarios_are_refused_with_a_clear_message(changes, message):
    with pytest.raises(ValidationError, match=message):
        Scenario.model_validate(_with(**changes))


def test_validate_for_city_accepts_a_real_place(melbourne):
    validate_for_city(Scenario.model_validate(GOOD), melbourne)
    near = _with(event_place={"lat": -37.8136, "lon": 144.9631}, event_unit="percent", event_magnitude=50)
    validate_for_city(Scenario.model_validate(near), melbourne)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"event_place": {"sensor_id": "999"}}, "not a sensor of melbourne"),
        ({"event_unit": "percent_slower", "event_magnitude": 20}, "does not fit melbourne"),
        ({"event_place": {"lat": 40.0, "lon": -74.0}}, "km from the nearest sensor"),
        ({"event_place": {"zone_id": "1"}}, "has no zones"),
        ({"city": "los-angeles"}, "scenario is for city 'los-angeles'"),
    ],
)
def test_validate_for_city_refuses_what_does_not_fit(melbourne, changes, message):
    with pytest.raises(ScenarioError, match=message):
        validate_for_city(Scenario.model_validate(_with(**changes)), melbourne)
