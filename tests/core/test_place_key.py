"""Place keys ('s:<sensor>' / 'z:<zone>') and the two ways widgets become a scenario."""

import pytest

from explorer.scenarios.schema import Place, PlaceKey, event_scenario
from explorer.ui.scenario_controls import whatif_scenario


def test_place_key_round_trip_and_refusals():
    assert PlaceKey.sensor(717) == "s:717" and PlaceKey.zone("CBD:North") == "z:CBD:North"
    key = PlaceKey.parse("z:CBD:North")  # only the first colon separates
    assert (key.kind, key.id, key.sensor_id, key.place, key.plain) == ("z", "CBD:North", None,
                                                                       {"zone_id": "CBD:North"}, "zone CBD:North")
    assert PlaceKey.parse("s:4").sensor_id == "4" and PlaceKey.parse("s:4").place == {"sensor_id": "4"}
    assert (key.zone_id, PlaceKey.parse("s:4").zone_id) == ("CBD:North", None)
    assert str(PlaceKey.of(Place(sensor_id="9"))) == "s:9" and PlaceKey.of(Place(lat=1.0, lon=2.0)) is None
    for bad in ("", "4", "x:4", "s:", ":4"):
        with pytest.raises(ValueError, match="place key"):
            PlaceKey.parse(bad)


@pytest.mark.parametrize(("hour", "duration", "start", "offset", "horizon"), [
    (17, 3, 15, 2, 8),  # two hours before, three after
    (1, 2, 0, 1, 6),  # lead-in cut at midnight
    (8, 23, 7, 1, 24),  # a long event keeps the window within 24 hours
])
def test_event_scenario_puts_the_event_in_one_window(hour, duration, start, offset, horizon):
    sc = event_scenario("melbourne", {"day_of_week": 4}, hour, duration,
                        {"place": {"sensor_id": "4"}, "magnitude": 2000, "unit": "people", "reach_km": 0.5})
    ev = sc.events[0]
    assert (sc.start_hour, ev.start_offset_hours, sc.horizon_hours, ev.duration_hours) == (start, offset, horizon,
                                                                                           duration)
    assert (sc.start_hour + ev.start_offset_hours) % 24 == hour


def test_whatif_state_becomes_the_scenario():
    state = {"sc_dow": 5, "sc_holiday": True, "sc_start": 18, "sc_horizon": 6, "sc_has_event": True,
             "sc_place": "z:7", "sc_mag": 40.0, "sc_unit": "percent_slower", "sc_offset": 1, "sc_duration": 2,
             "sc_reach": 1.5}
    sc = whatif_scenario("los-angeles", state)
    assert sc.day.weekday == 5 and sc.day.holiday and (sc.start_hour, sc.horizon_hours) == (18, 6)
    ev = sc.events[0]
    assert ev.place.zone_id == "7" and (ev.magnitude, ev.unit, ev.start_offset_hours, ev.duration_hours,
                                        ev.reach_km) == (40.0, "percent_slower", 1, 2, 1.5)
    assert whatif_scenario("los-angeles", state | {"sc_has_event": False, "sc_place": "bad"}).events == []
    with pytest.raises(KeyError):
        whatif_scenario("los-angeles", {"sc_dow": 1})
