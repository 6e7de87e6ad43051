"""Scenario links: the whole scenario, seed, samples and model id travel in query parameters."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.scenarios.schema import Scenario
from explorer.share import SharedRun, ShareError, decode, encode, parse_scenario_json

SC = Scenario.model_validate({
    "city": "melbourne", "day": {"day_of_week": 4}, "start_hour": 17, "horizon_hours": 6,
    "events": [{"place": {"sensor_id": "4"}, "magnitude": 2000, "unit": "people", "start_offset_hours": 2,
                "duration_hours": 3, "reach_km": 0.5}]})


def test_round_trip():
    run = SharedRun(SC, 7, 128, "abcdef012345")
    params = encode(run)
    assert set(params) == {"city", "s", "seed", "n", "model"}
    assert decode(params) == run


def test_no_scenario_in_link():
    assert decode({"city": "melbourne"}) is None


@pytest.mark.parametrize(("params", "words"), [
    ({"s": "%%%not-base64%%%"}, "not readable"),
    ({"s": base64.urlsafe_b64encode(b'{"city": "x"}').decode()}, "invalid"),
    ({"s": base64.urlsafe_b64encode(b"<script>alert(1)</script>").decode()}, "invalid"),
    ({"s": "A" * 5000}, "too long"),
    ({**encode(SharedRun(SC, 0, 64, "")), "seed": "-1"}, "settings are invalid"),
    ({**encode(SharedRun(SC, 0, 64, "")), "seed": "1e99"}, "settings are invalid"),
    ({**encode(SharedRun(SC, 0, 64, "")), "n": "100000"}, "not offered"),
    ({**encode(SharedRun(SC, 0, 64, "")), "model": "'; DROP TABLE x;--"}, "settings are invalid"),
    ({**encode(SharedRun(SC, 0, 64, "")), "city": "los-angeles"}, "disagree"),
])
def test_bad_links_are_refused_clearly(params, words):
    with pytest.raises(ShareError) as info:
        decode(params)
    assert words in info.value.message
    assert "How to fix" in info.value.message


def test_out_of_range_scenario_file():
    bad = SC.to_json().replace('"magnitude": 2000.0', '"magnitude": 9e9')
    with pytest.raises(ShareError, match="out of range"):
        parse_scenario_json(bad)


events = st.fixed_dictionaries({
    "place": st.fixed_dictionaries({"sensor_id": st.text(alphabet="0123456789", min_size=1, max_size=6)}),
    "magnitude": st.floats(1, 90, allow_nan=False),
    "unit": st.just("percent_slower"),
    "start_offset_hours": st.integers(0, 3),
    "duration_hours": st.integers(1, 4),
    "reach_km": st.floats(0, 10, allow_nan=False),
})


@settings(max_examples=60, deadline=None)
@given(dow=st.integers(0, 6), start=st.integers(0, 23), ev=st.lists(events, max_size=3),
       seed=st.integers(0, 2**31 - 1), n=st.sampled_from([16, 32, 64, 128, 256]))
def test_any_valid_scenario_round_trips_through_a_link(dow, start, ev, seed, n):
    sc = Scenario.model_validate({"city": "los-angeles", "day": {"day_of_week": dow}, "start_hour": start,
                                  "horizon_hours": 8, "events": ev})
    run = SharedRun(sc, seed, n, "0123456789ab")
    assert decode(encode(run)) == run


@settings(max_examples=80, deadline=None)
@given(params=st.dictionaries(st.sampled_from(["city", "s", "seed", "n", "model"]), st.text(max_size=300)))
def test_any_link_is_accepted_or_refused_with_share_error(params):
    try:
        decode(params)
    except ShareError as exc:
        assert exc.message
