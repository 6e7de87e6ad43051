"""The scenario page's parts: link/preset loading, the browser map, save/load and exports."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from explorer.cities import City
from explorer.comparison import keep
from explorer.errors import ExplorerError
from explorer.models.generator.api import GeneratorBundle
from explorer.models.generator.result import ScenarioResult
from explorer.presets import Preset, presets_for
from explorer.render.aggregate import sensor_cells
from explorer.render.scenario import Summary
from explorer.report import html_report, map_png, result_csv, result_geojson
from explorer.scenarios.schema import PlaceKey, Scenario, ScenarioError, validate_for_city
from explorer.share import decode, parse_scenario_json
from explorer.ui.deckmap import map_with_layers
from explorer.ui.maps import cached_base, result_payload
from explorer.ui.scenario_controls import load_into_widgets
from explorer.voice.brief import brief_html, build_brief

MAX_UPLOAD_BYTES = 64_000


def opening_preset(presets: list[Preset]) -> Preset:
    """The preset a new What-if session opens on: the first one with an event (a map that shows something),
    else the first."""
    return next((p for p in presets if p.scenario.events), presets[0])


def apply_link_or_preset(city: City) -> None:
    """On a new session (or city), fill the widgets from the link's scenario, else the first preset.

    Also applies a place picked by clicking the map, before the widgets are drawn.
    """
    ss = st.session_state
    if ss.get("sc_city") != city.slug:
        ss.sc_city = city.slug
        try:
            shared = decode(dict(st.query_params))
        except ExplorerError as exc:
            st.warning(f"The link's scenario could not be used: {exc.message}")
            shared = None
        if shared is not None and shared.scenario.city == city.slug:
            try:  # places and units must exist in this city: never swap an unknown place silently
                validate_for_city(shared.scenario, city)
            except ScenarioError as exc:
                st.warning(f"The link's scenario could not be used: {exc}. Showing a preset instead.")
                shared = None
        if shared is not None and shared.scenario.city == city.slug:
            load_into_widgets(city, shared.scenario, shared.seed, shared.n_samples)
        else:
            first = opening_preset(presets_for(city))
            load_into_widgets(city, first.scenario)
            ss.sc_story = first.story
    if "sc_pending_load" in ss:  # an uploaded scenario (save_and_load)
        text, seed, n = ss.pop("sc_pending_load")
        load_into_widgets(city, Scenario.from_json(text), seed, n)
    if "sc_pending_place" in ss:
        ss.sc_place = ss.pop("sc_pending_place")
        ss.sc_has_event = True
    tour = presets_for(city)  # the loaded City: a slug would load the city a second time
    with st.sidebar.expander("Tour: preset scenarios", expanded=False):
        for i, p in enumerate(tour):
            if st.button(p.title, key=f"sc_tour_{i}", help=p.story, use_container_width=True):
                load_into_widgets(city, p.scenario)
                ss.sc_story = p.story
                st.rerun()
    if ss.get("sc_story"):
        st.sidebar.info(ss.sc_story)


def selected_sensor(result: ScenarioResult) -> str:
    """The sensor shown in the detail chart: clicked on the map, else the event's place, else the peak."""
    sel = st.session_state.get("sc_selected")
    if sel in result.sensor_ids:
        return sel
    key = st.session_state.get("sc_place")
    if st.session_state.get("sc_has_event") and key:
        place = PlaceKey.parse(key).sensor_id
        if place in result.sensor_ids:
            return place
    return result.headline["peak_sensor"]


def map_panel(city: City, result: ScenarioResult, summary: Summary, workshop: bool, sensor: str) -> str:
    """The browser map: hour, view, 2D/3D and Play switch there without a rerun; a click selects a sensor
    (and makes it the event's place) or, in a large city, opens an h3 area's sensors. Returns the key of the
    scenario payload it draws."""
    ss = st.session_state
    base = cached_base(city.slug, "layer")
    big = base.header["mode"] == "cells"  # the base layer decides sensors or h3 areas, for every map
    cell = ss.get("sc_cell") if big else None
    if cell is not None and not len(sensor_cells(city).sensors_in(cell)):
        cell = ss.sc_cell = None
    data = result_payload(city, result, summary, base, cell)
    note = ""
    if big:
        cells = sensor_cells(city)
        detail = data.header.get("detail")
        note = (f"{len(result.sensor_ids):,} sensors shown as {len(cells.ids):,} areas (h3 resolution "
                f"{cells.resolution}); {data.nbytes / 1000:,.0f} kB sent for the whole horizon. "
                + (f"Selected area: {len(detail['ids'])} sensors." if detail else "Click an area to see its sensors."))
    with st.container(key="ws_map"):  # workshop CSS sizes the map in this container to the window
        click = map_with_layers(base, data, key="sc_map", height=720 if workshop else 620, three_d=True,
                                view="difference", hour=busiest_hour(summary), selected=None if big else sensor,
                                cell=cell, note=note, large=workshop)
    if not click:
        return data.key
    if click.get("kind") == "cell" and big:
        ss.sc_cell = click.get("id")
        st.rerun()
    if click.get("kind") == "sensor" and click.get("id") in result.sensor_ids and click["id"] != ss.get("sc_selected"):
        ss.sc_selected = click["id"]
        ss.sc_pending_place = PlaceKey.sensor(click["id"])
        st.rerun()
    return data.key


def busiest_hour(summary: Summary) -> int:
    """The hour with the most significant changes; among hours with as many, the one where they are largest (an
    event's learned lead-in reaches the same sensors hours before its peak); the first hour when nothing changes."""
    sig = summary.significant
    size = np.where(sig, np.abs(summary.difference[1]), 0.0).sum(axis=1)
    return int(np.lexsort((-size, -sig.sum(axis=1)))[0])


def save_and_load(city: City, scenario, seed: int, n: int) -> None:
    """Download the scenario as JSON, load one back, or keep it for the compare page."""
    st.subheader("Save, load, share")
    cols = st.columns(3)
    cols[0].download_button("Save scenario (JSON)", scenario.to_json(), file_name=f"scenario-{city.slug}.json",
                            mime="application/json", key="sc_save")
    up = cols[1].file_uploader("Load a scenario", type=["json"], key="sc_upload")
    if up is not None and st.session_state.get("sc_upload_done") != up.file_id:
        st.session_state.sc_upload_done = up.file_id
        try:
            if up.size > MAX_UPLOAD_BYTES:
                raise ExplorerError("the file is larger than 64 kB", where=up.name,
                                    fix="upload a scenario saved by the app")
            loaded = parse_scenario_json(up.getvalue(), where=up.name)
            if loaded.city != city.slug:
                raise ExplorerError(f"this scenario is for '{loaded.city}'", where=up.name,
                                    fix=f"pick that city first, or load a {city.slug} scenario")
        except ExplorerError as exc:
            st.error(exc.message)
        else:  # the widgets are drawn already: load on the rerun, before they are (as for a map click)
            st.session_state.sc_pending_load = (loaded.to_json(), seed, n)
            st.rerun()
    if cols[2].button("Keep for comparison", key="sc_keep", help="Up to four scenarios on the Compare page"):
        saved = st.session_state.saved_scenarios = keep(st.session_state.get("saved_scenarios", []), scenario,
                                                        seed, n)
        cols[2].success(f"{len(saved)} kept")
    st.caption("The address bar holds the whole scenario, seed and model id: copy it to share these exact numbers.")


def exports(city: City, result: ScenarioResult, summary: Summary, bundle: GeneratorBundle) -> None:
    """Download buttons; each file is built only when its button is clicked (not on every rerun)."""
    st.subheader("Export")
    hour = busiest_hour(summary)
    row = st.container(horizontal=True, gap="small")  # buttons as wide as their labels, wrapping when narrow
    row.download_button("Report (HTML, offline)", partial(html_report, city, result, summary, bundle.meta),
                        file_name=f"whatif-{city.slug}.html", mime="text/html", key="sc_dl_html")
    row.download_button("Results (CSV)", partial(result_csv, result, city), file_name=f"whatif-{city.slug}.csv",
                        mime="text/csv", key="sc_dl_csv")
    row.download_button("Sensors (GeoJSON)", partial(result_geojson, city, result, summary),
                        file_name=f"whatif-{city.slug}.geojson", mime="application/geo+json", key="sc_dl_geo")
    row.download_button("Map (PNG)", partial(map_png, city, result, summary, hour),
                        file_name=f"whatif-{city.slug}.png", mime="image/png", key="sc_dl_png",
                        help=f"The difference map at {result.times[hour]:%a %H:%M}, the hour with the most "
                             "significant changes")
    row.download_button("Planning brief (HTML)", lambda: brief_html(build_brief(result, city)),
                        file_name=f"brief-{city.slug}.html", mime="text/html", key="sc_dl_brief",
                        help="One page in plain language: what was asked, what the model expects, how sure it is.")
