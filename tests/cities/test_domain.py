"""What a series measures decides what an event does, which way is busier and how an area adds up."""

import pytest

from explorer.cities.manifest import SeriesSpec


def _spec(domain: str, unit: str = "x", value_name: str = "Value") -> SeriesSpec:
    return SeriesSpec(paths=["s.csv"], value_name=value_name, unit=unit, domain=domain)


@pytest.mark.parametrize(("domain", "unit", "kind", "aggregate", "non_negative"), [
    ("traffic_speed", "mph", "speed", "mean", True),
    ("traffic_flow", "vehicles/hour", "counts", "sum", True),
    ("pedestrian_count", "people/hour", "counts", "sum", True),
    ("energy", "kWh", "counts", "sum", False),
    ("other", "index", "counts", "mean", False),
    ("other", "km/h", "speed", "mean", False),  # a speed by its unit: events slow it down
])
def test_domain_properties(domain, unit, kind, aggregate, non_negative):
    s = _spec(domain, unit)
    assert (s.kind, s.aggregate, s.non_negative) == (kind, aggregate, non_negative)
    assert s.counts == (kind == "counts") == s.higher_is_busier


def test_value_name_can_say_speed():
    assert _spec("other", "units", "Average speed").kind == "speed"


def test_add_city_form_offers_every_domain():
    from typing import get_args

    from explorer.cities.manifest import Domain
    from explorer.ui.add_city import DOMAINS

    assert sorted(DOMAINS) == sorted(get_args(Domain))
