"""The browser map's payloads, cached: a city's layers once per process, a result's payload once per result."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import streamlit as st

from explorer.render.mapdata import Payload, base_payload, scenario_payload, stat_payload
from explorer.render.scenario import Summary
from explorer.settings import get_settings
from explorer.ui.state import cached_city

if TYPE_CHECKING:
    from explorer.cities import City
    from explorer.models.generator.result import ScenarioResult


def cached_base(slug: str, road_source: str = "layer") -> Payload:
    """A city's static layers for the map (shared by every session and page, read-only)."""
    return _base(slug, road_source, get_settings().map_aggregate_above)


@st.cache_resource(show_spinner=False, max_entries=16)
def _base(slug: str, road_source: str, aggregate_above: int) -> Payload:
    return base_payload(cached_city(slug), road_source, aggregate_above)


def cached_stat(slug: str, statistic: str, road_source: str = "layer") -> Payload:
    """Home's statistic for the map."""
    return _stat(slug, statistic, road_source, get_settings().map_aggregate_above)


@st.cache_resource(show_spinner=False, max_entries=64)
def _stat(slug: str, statistic: str, road_source: str, aggregate_above: int) -> Payload:
    return stat_payload(cached_city(slug), statistic, _base(slug, road_source, aggregate_above))


_LOCK = threading.Lock()
_BY_RESULT: dict[tuple[int, str, str | None], tuple[object, Payload]] = {}


def result_payload(city: City, result: ScenarioResult, summary: Summary, base: Payload,
                   cell: str | None = None) -> Payload:
    """The scenario payload of ``result`` (built once per shared result object and selected cell)."""
    key = (id(result), base.key, cell)
    with _LOCK:
        hit = _BY_RESULT.get(key)
    if hit is not None and hit[0] is result:  # the result itself is held, so its id is not reused
        return hit[1]
    payload = scenario_payload(city, result, summary, base, cell)
    with _LOCK:
        if len(_BY_RESULT) > 64:
            _BY_RESULT.clear()
        _BY_RESULT[key] = (result, payload)
    return payload
