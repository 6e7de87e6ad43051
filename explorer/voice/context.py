"""A city as the request readers see it: loaded once per slug, its gazetteer and holiday calendar cached."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from explorer.voice.gazetteer import build
from explorer.voice.places import Gazetteer
from explorer.voice.when import Calendar


@lru_cache(maxsize=8)
def city_of(slug: str) -> Any:
    """The bundled or added city of ``slug``, loaded once per process."""
    from explorer.cities import load_city

    return load_city(slug)


_GAZ: dict[tuple[str, str], tuple[Gazetteer, Calendar]] = {}


def context(city: Any) -> tuple[Gazetteer, Calendar]:
    """The gazetteer and holiday calendar of a City (or slug), built once per slug and data hash."""
    city = city_of(city) if isinstance(city, str) else city
    key = (city.slug, str(getattr(city, "data_hash", "")))
    if key not in _GAZ:
        _GAZ[key] = (build(city), Calendar.of(city))
    return _GAZ[key]


def gazetteer(city: Any) -> Gazetteer:
    """The gazetteer of a City (or slug), cached per slug and data hash."""
    return context(city)[0]
