"""Property tests of the scenario schema: any input is accepted and round-trips exactly, or is refused clearly."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from explorer.scenarios.schema import Scenario
from explorer.share import ShareError, parse_scenario_json

# values of every JSON type, including the awkward ones (huge, negative, NaN-like text, markup, nesting)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20), st.sampled_from(["<script>alert(1)</script>", "../../etc/passwd", "NaN", "1e999"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                            max_size=3), max_leaves=6)
place = st.one_of(st.fixed_dictionaries({"sensor_id": values}), st.fixed_dictionaries({"lat": values, "lon": values}),
                  st.fixed_dictionaries({"zone_id": values}), values)
event = st.fixed_dictionaries(
    {"place": place, "magnitude": values, "unit": st.sampled_from(["people", "percent", "percent_slower", "mph"])},
    optional={"start_offset_hours": st.one_of(st.integers(-2, 30), values), "duration_hours": values,
              "reach_km": st.one_of(st.floats(-1, 60), values)},
)
scenario_like = st.fixed_dictionaries(
    {"city": st.one_of(st.sampled_from(["los-angeles", "melbourne"]), values)},
    optional={
        "day": st.one_of(st.fixed_dictionaries({"day_of_week": st.one_of(st.integers(-1, 8), values)},
                                               optional={"holiday": values}), values),
        "start_hour": st.one_of(st.integers(-1, 25), values),
        "horizon_hours": st.one_of(st.integers(0, 30), values),
        "events": st.one_of(st.lists(event, max_size=3), values),
        "extra_field": values,
    },
)
# near the valid region: right types, values on both sides of each range
near_event = st.fixed_dictionaries({
    "place": st.fixed_dictionaries({"sensor_id": st.text(alphabet="0123456789", min_size=1, max_size=6)}),
    "magnitude": st.floats(-5, 300, allow_nan=False), "unit": st.sampled_from(["people", "percent", "percent_slower"]),
    "start_offset_hours": st.integers(-1, 25), "duration_hours": st.integers(0, 25),
    "reach_km": st.floats(-1, 30, allow_nan=False),
})
near_valid = st.fixed_dictionaries({
    "city": st.sampled_from(["los-angeles", "melbourne"]),
    "day": st.fixed_dictionaries({"day_of_week": st.integers(0, 7)}),
    "start_hour": st.integers(0, 24), "horizon_hours": st.integers(1, 25), "events": st.lists(near_event, max_size=3),
})
any_scenario = st.one_of(scenario_like, near_valid)


@settings(max_examples=300, deadline=None)
@given(any_scenario)
def test_any_scenario_dict_is_valid_and_round_trips_or_is_refused(data):
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        assert exc.errors(), "a refusal names the fields at fault"
        return
    again = Scenario.from_json(sc.to_json())
    assert again == sc
    assert again.to_json() == sc.to_json()


@settings(max_examples=200, deadline=None)
@given(st.one_of(any_scenario.map(json.dumps), st.text(max_size=200), st.binary(max_size=200)))
def test_any_uploaded_text_is_a_scenario_or_a_share_error(text):
    try:
        sc = parse_scenario_json(text)
    except ShareError as exc:
        assert "How to fix" in exc.message
        return
    assert parse_scenario_json(sc.to_json()) == sc
