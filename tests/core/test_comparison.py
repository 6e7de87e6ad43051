"""Kept scenarios carried in a Compare link, and their one-line titles."""

from __future__ import annotations

import json

import pytest

from explorer.comparison import MAX_KEPT, decode_comparison, encode_comparison, keep, scenario_title
from explorer.scenarios.schema import Scenario
from explorer.share import ShareError

EVENT = {"place": {"sensor_id": "22"}, "magnitude": 20000, "unit": "people", "start_offset_hours": 3,
         "duration_hours": 3, "reach_km": 0.3}


def _scenario(**kw) -> Scenario:
    return Scenario.model_validate({"city": "melbourne", "day": {"day_of_week": 4}, "start_hour": 16,
                                    "horizon_hours": 8, "events": [EVENT], **kw})


def test_keep_adds_at_the_end_without_duplicates_and_holds_four():
    saved: list[dict] = []
    for seed in range(6):
        saved = keep(saved, _scenario(), seed, 64)
    assert [e["seed"] for e in saved] == [2, 3, 4, 5]
    again = keep(saved, _scenario(), 3, 64)  # kept again: moved to the end, not doubled
    assert [e["seed"] for e in again] == [2, 4, 5, 3] and len(again) == MAX_KEPT


def test_a_comparison_survives_the_link_exactly():
    saved = keep(keep([], _scenario(), 0, 64), _scenario(events=[], start_hour=7, horizon_hours=14), 5, 128)
    value = encode_comparison(saved)
    assert value.isascii() and "=" not in value and "&" not in value
    assert decode_comparison(value) == saved


@pytest.mark.parametrize(("value", "words"), [
    ("%%%not base64", "not readable"),
    ("", "not readable"),
    (encode_comparison([]), "1 to 4 scenarios"),
    ("x" * 20_000, "too long"),
])
def test_a_bad_link_says_what_is_wrong(value, words):
    with pytest.raises(ShareError, match=words) as err:
        decode_comparison(value)
    assert "How to fix" in err.value.message


def _link(items) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(items).encode()).decode().rstrip("=")


def test_a_tampered_link_is_refused_item_by_item():
    good = json.loads(_scenario().to_json())
    with pytest.raises(ShareError, match="n=7 samples is not offered"):
        decode_comparison(_link([{"s": good, "seed": 0, "n": 7}]))
    with pytest.raises(ShareError, match="scenario 1 of the comparison is invalid"):
        decode_comparison(_link([{"s": good, "seed": -1, "n": 64}]))
    bad = {**good, "start_hour": 30}
    with pytest.raises(ShareError, match="invalid"):
        decode_comparison(_link([{"s": bad, "seed": 0, "n": 64}]))
    with pytest.raises(ShareError, match="1 to 4"):
        decode_comparison(_link([{"s": good, "seed": i, "n": 64} for i in range(5)]))


def test_titles_name_day_hours_size_place_and_length():
    assert scenario_title(_scenario(), "Flinders St") == \
        "Friday 16:00–24:00: +20,000 people/hour at Flinders St for 3 h"
    assert scenario_title(_scenario()) == "Friday 16:00–24:00: +20,000 people/hour at sensor 22 for 3 h"
    assert scenario_title(_scenario(events=[], start_hour=6, horizon_hours=12)) == "Friday 06:00–18:00, no event"
    dated = _scenario(day={"date": "2014-12-31", "holiday": True}, start_hour=17, horizon_hours=8,
                      events=[{**EVENT, "unit": "percent", "magnitude": 200}, EVENT])
    assert scenario_title(dated, "Princes Bridge") == ("Wed 31 Dec 2014 (holiday) 17:00–01:00 next day: 200 % more "
                                                       "people at Princes Bridge for 3 h (and 1 more event)")
    slower = Scenario.model_validate({"city": "los-angeles", "day": {"day_of_week": 6}, "start_hour": 16,
                                      "horizon_hours": 8, "events": [{"place": {"lat": 34.1, "lon": -118.3},
                                      "magnitude": 40, "unit": "percent_slower", "duration_hours": 2}]})
    assert scenario_title(slower) == "Sunday 16:00–24:00: 40 % slower at 34.1000, -118.3000 for 2 h"
