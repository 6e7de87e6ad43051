"""Scenario widgets: read them into a validated Scenario; fill them from a preset, a file or a link."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np
import streamlit as st

from explorer.cities import City
from explorer.geo import great_circle_km
from explorer.scenarios.schema import MAX_MAGNITUDE, UNITS_BY_KIND, PlaceKey, Scenario
from explorer.share import SAMPLE_CHOICES

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
KEYS = ("sc_dow", "sc_holiday", "sc_start", "sc_horizon", "sc_has_event", "sc_place", "sc_unit", "sc_mag",
        "sc_offset", "sc_duration", "sc_reach", "sc_n", "sc_seed")
MAG_STEP = {"people": 500.0, "percent": 10.0, "percent_slower": 5.0}  # the magnitude slider's step and minimum


_PLACES: dict[int, tuple[weakref.ref, dict[str, str]]] = {}


def place_options(city: City) -> dict[str, str]:
    """Option value -> label: every sensor, then every zone. Built once per City object (the app's are cached for
    the server's life; a weak reference tells a reused id apart); read-only."""
    hit = _PLACES.get(id(city))
    if hit is None or hit[0]() is not city:
        if len(_PLACES) > 16:
            _PLACES.clear()
        hit = _PLACES[id(city)] = (weakref.ref(city), _place_options(city))
    return hit[1]


def _place_options(city: City) -> dict[str, str]:
    opts = {PlaceKey.sensor(sid): f"{label} ({sid})" if not label.endswith(sid) else label
            for sid, label in zip(city.sensors["sensor_id"], city.sensors["where"], strict=True)}
    if city.zones is not None:
        opts |= {PlaceKey.zone(z): f"Zone: {n}" for z, n in zip(city.zones["zone_id"], city.zones["name"], strict=True)}
    return opts


def place_key(city: City, place) -> str:
    """The place option of an event's place (a lat/lon place: its nearest sensor)."""
    key = PlaceKey.of(place)
    if key is not None:
        return str(key)
    d = great_circle_km(place.lat, place.lon, city.sensors.geometry.y.to_numpy(), city.sensors.geometry.x.to_numpy())
    return PlaceKey.sensor(city.sensors["sensor_id"].iloc[int(np.argmin(d))])


def load_into_widgets(city: City, scenario: Scenario, seed: int = 0, n_samples: int = 64) -> None:
    """Set every widget's state from a scenario (before the widgets are drawn)."""
    ss = st.session_state
    ss.sc_dow = scenario.day.weekday
    ss.sc_holiday = bool(scenario.day.holiday)
    ss.sc_start, ss.sc_horizon = scenario.start_hour, scenario.horizon_hours
    ss.sc_has_event = bool(scenario.events)
    ev = scenario.events[0] if scenario.events else None
    counts = city.manifest.series.counts
    ss.sc_place = place_key(city, ev.place) if ev else next(iter(place_options(city)))
    ss.sc_unit = ev.unit if ev else ("people" if counts else "percent_slower")
    ss.sc_mag = float(ev.magnitude) if ev else (5000.0 if counts else 30.0)
    ss.sc_offset = ev.start_offset_hours if ev else 1
    ss.sc_duration = ev.duration_hours if ev else 3
    ss.sc_reach = float(ev.reach_km) if ev else (0.3 if counts else 2.0)
    ss.sc_n, ss.sc_seed = n_samples, seed
    ss.sc_loaded = scenario.to_json()


def controls(city: City, workshop: bool) -> tuple[Scenario, int, int]:
    """Draw the scenario widgets in the sidebar and return (scenario, seed, n_samples)."""
    sb = st.sidebar
    sb.subheader("When")
    sb.selectbox("Day of week", range(7), format_func=DAYS.__getitem__, key="sc_dow")
    sb.checkbox("Public holiday", key="sc_holiday")
    sb.slider("Start hour", 0, 23, key="sc_start", format="%d:00")
    horizon = sb.slider("Hours to simulate", 2, 24, key="sc_horizon")
    sb.subheader("Event")
    if sb.toggle("Add an event", key="sc_has_event"):
        opts = place_options(city)
        sb.selectbox("Place (or click a sensor on the map)", list(opts), format_func=opts.get, key="sc_place")
        units = UNITS_BY_KIND[city.manifest.series.kind]
        if len(units) > 1:
            unit = sb.radio("Size as", units, horizontal=True, key="sc_unit",
                            format_func={"people": "extra people / hour", "percent": "% more than usual"}.get)
        else:
            st.session_state.sc_unit = unit = units[0]
        lo, hi = MAG_STEP[unit], MAX_MAGNITUDE[unit]  # the slider starts at one step
        st.session_state.sc_mag = float(np.clip(st.session_state.get("sc_mag", lo), lo, hi))
        label = {"people": "Extra people per hour", "percent": "Percent more than usual",
                 "percent_slower": "Percent slower"}[unit]
        sb.slider(label, lo, hi, step=lo, key="sc_mag")
        st.session_state.sc_offset = min(st.session_state.get("sc_offset", 0), horizon - 1)
        offset = sb.slider("Starts (hours after the start hour)", 0, horizon - 1, key="sc_offset")
        st.session_state.sc_duration = min(st.session_state.get("sc_duration", 1), horizon - offset)
        sb.slider("Lasts (hours)", 1, max(horizon - offset, 2), key="sc_duration", disabled=horizon - offset < 2)
        sb.slider("Reach (km)", 0.0, 10.0, step=0.1, key="sc_reach",
                  help="How far the effect spreads (Gaussian decay); 0 = the place only.")
    with sb.expander("Advanced", expanded=False) if not workshop else st.container():
        if workshop:  # hidden widgets lose their state: keep it as plain state until they come back
            n = st.session_state.sc_n = st.session_state.get("sc_n", 64)
            seed = st.session_state.sc_seed = st.session_state.get("sc_seed", 0)
        else:
            n = st.select_slider("Samples", SAMPLE_CHOICES, key="sc_n",
                                 help="More samples give smoother uncertainty bands and take longer.")
            seed = int(st.number_input("Seed", 0, 2**31 - 1, step=1, key="sc_seed",
                                       help="The same seed gives the same numbers."))
    return whatif_scenario(city.slug, st.session_state), int(seed), int(n)


def whatif_scenario(slug: str, state: Mapping[str, Any]) -> Scenario:
    """The What-if widgets' values (their ``sc_*`` keys in ``state``) as a validated scenario."""
    events = []
    if state.get("sc_has_event"):
        events.append({"place": PlaceKey.parse(state["sc_place"]).place, "magnitude": state["sc_mag"],
                       "unit": state["sc_unit"], "start_offset_hours": state["sc_offset"],
                       "duration_hours": state["sc_duration"], "reach_km": state["sc_reach"]})
    return Scenario.model_validate({"city": slug, "day": {"day_of_week": state["sc_dow"],
                                                          "holiday": state["sc_holiday"]},
                                    "start_hour": state["sc_start"], "horizon_hours": state["sc_horizon"],
                                    "events": events})
