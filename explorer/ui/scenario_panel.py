"""The scenario page's parts: link/preset loading, the animated map fragment, save/load and exports."""

from __future__ import annotations

from functools import partial

import numpy as np
import pydeck as pdk
import streamlit as st

from explorer.cities import City
from explorer.errors import ExplorerError
from explorer.models.generator.api import GeneratorBundle, ScenarioResult
from explorer.presets import presets_for
from explorer.render.aggregate import (
    cell_frame,
    cell_legend,
    cell_summary,
    deck_bytes,
    detail_frame,
    hex_deck,
    how_for,
    sensor_cells,
)
from explorer.render.layers import road_paths
from explorer.render.scenario import Summary, road_sensor_index, scenario_deck, scenario_legend, sensor_frame
from explorer.report import html_report, map_png, result_csv, result_geojson
from explorer.scenarios.schema import Scenario, ScenarioError, validate_for_city
from explorer.settings import get_settings
from explorer.share import decode, parse_scenario_json
from explorer.ui.scenario_controls import load_into_widgets
from explorer.ui.state import cached_city
from explorer.voice.brief import brief_html, build_brief

MAX_UPLOAD_BYTES = 64_000


@st.cache_resource(show_spinner=False)
def cached_roads(slug: str, source: str):
    """Road paths for scenario maps (ramps and slivers under ~300 m left out) and their nearest sensor.

    Shared, read-only: cache_resource avoids copying thousands of paths on every fragment rerun.
    """
    city = cached_city(slug)
    paths = road_paths(city, source, tolerance=0.0008, min_length=0.003)
    return paths, road_sensor_index(city, paths) if len(paths) else np.zeros(0, int)


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
            load_into_widgets(city, presets_for(city.slug)[0].scenario)
    if "sc_pending_load" in ss:  # an uploaded scenario (save_and_load)
        text, seed, n = ss.pop("sc_pending_load")
        load_into_widgets(city, Scenario.from_json(text), seed, n)
    if "sc_pending_place" in ss:
        ss.sc_place = ss.pop("sc_pending_place")
        ss.sc_has_event = True
    tour = presets_for(city.slug)
    with st.sidebar.expander("Tour: preset scenarios", expanded=False):
        for i, p in enumerate(tour):
            if st.button(p.title, key=f"sc_tour_{i}", help=p.story, use_container_width=True):
                load_into_widgets(city, p.scenario)
                ss.sc_story = p.story
                st.rerun()
    if ss.get("sc_story"):
        st.sidebar.info(ss.sc_story)


def selected_sensor(city: City, result: ScenarioResult) -> str:
    """The sensor shown in the detail chart: clicked on the map, else the event's place, else the peak."""
    sel = st.session_state.get("sc_selected")
    if sel in result.sensor_ids:
        return sel
    place = st.session_state.get("sc_place", "")
    if st.session_state.get("sc_has_event") and place.startswith("s:") and place[2:] in result.sensor_ids:
        return place[2:]
    return result.headline["peak_sensor"]


PLAY_STEP_S = 0.9


def map_panel(city: City, result: ScenarioResult, summary: Summary, view: str, workshop: bool, sensor: str) -> None:
    """The map, its time slider and play button, in a fragment that reruns alone (never the generator).

    While playing, the fragment reruns itself every PLAY_STEP_S seconds and advances the hour.
    """
    playing = bool(st.session_state.get("sc_playing"))
    st.fragment(run_every=PLAY_STEP_S if playing else None)(_map_body)(city, result, summary, view, workshop,
                                                                       sensor)


def _map_body(city: City, result: ScenarioResult, summary: Summary, view: str, workshop: bool, sensor: str) -> None:
    ss = st.session_state
    horizon = len(result.times)
    ss.sc_hour = min(int(ss.get("sc_hour", 0)), horizon - 1)
    if ss.get("sc_playing"):
        if ss.sc_hour >= horizon - 1:
            ss.sc_playing = False
            st.rerun()  # a full rerun drops the timer
        ss.sc_hour += 1
    controls = st.columns([1, 5, 1])
    three_d = controls[0].toggle("3D", value=True, key="sc_3d")
    hour = controls[1].slider("Hour", 0, horizon - 1, key="sc_hour", format="+%d h",
                              help=f"Hours after {result.times[0]:%a %H:%M}", disabled=bool(ss.get("sc_playing")))
    if ss.get("sc_playing"):
        if controls[2].button("⏸ Pause", key="sc_pause", use_container_width=True):
            ss.sc_playing = False
            st.rerun()
    elif controls[2].button("▶ Play", key="sc_play", use_container_width=True):
        ss.sc_playing = True
        if ss.sc_hour >= horizon - 1:
            ss.sc_hour = 0
        st.rerun()
    height_px = 720 if workshop else 600
    big = len(result.sensor_ids) > get_settings().map_aggregate_above
    if big:
        deck, legend, note = _hex_map(city, result, summary, hour, view, three_d, height_px)
    else:
        paths, road_index = cached_roads(city.slug, "layer")
        legend, note = scenario_legend(result, summary, view, city.manifest.series.value_name), ""
        frame = sensor_frame(city, result, summary, hour, view)
        deck = scenario_deck(city, frame, paths, road_index, three_d=three_d, height_px=height_px,
                             selected=sensor)
    map_col, legend_col = (st.container(), st.container()) if workshop else st.columns([4, 1])
    with legend_col:
        st.markdown(legend, unsafe_allow_html=True)  # built by the library; all text escaped
        st.markdown(f"**{result.times[hour]:%a %H:%M}**")
        if note:
            st.caption(note)
        if big and ss.get("sc_cell") and st.button("Show all areas", key="sc_all_cells"):
            ss.sc_cell = None
            st.rerun()
    with map_col:
        event = st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object", key="sc_map")
    picked = (event or {}).get("selection", {}).get("objects", {})
    cells = picked.get("cells", [])
    if big and cells and cells[0].get("h") != ss.get("sc_cell"):
        ss.sc_cell = cells[0]["h"]
        st.rerun()
    objs = picked.get("sensors", [])
    if objs and objs[0].get("sensor_id") != ss.get("sc_selected"):
        ss.sc_selected = objs[0]["sensor_id"]
        ss.sc_pending_place = f"s:{objs[0]['sensor_id']}"
        st.rerun()


def _hex_map(city: City, result: ScenarioResult, summary: Summary, hour: int, view: str, three_d: bool,
             height_px: int) -> tuple[pdk.Deck, str, str]:
    """Large city: sensors aggregated to h3 cells; the selected cell's sensors drawn one by one.

    Returns the deck, its legend and a note with the map's size (cells, bytes sent per hour step).
    """
    cells = sensor_cells(city)
    cs = cell_summary(result, cells, how_for(city.manifest.series.domain))
    cell = st.session_state.get("sc_cell")
    idx = cells.sensors_in(cell) if cell else np.zeros(0, int)
    if cell and not len(idx):
        cell = None
    frame = cell_frame(cells, cs, summary, hour, view)
    detail = detail_frame(city, result, summary, hour, view, idx) if cell else None
    deck = hex_deck(city, frame, result.unit, view, three_d=three_d, height_px=height_px, cell=cell, detail=detail)
    note = (f"{len(result.sensor_ids):,} sensors shown as {len(cells.ids):,} areas (h3 resolution "
            f"{cells.resolution}); {deck_bytes(deck) / 1000:,.0f} kB sent per hour step. "
            + (f"Selected area: {len(idx)} sensors." if cell else "Click an area to see its sensors."))
    return deck, cell_legend(result, cs, view, city.manifest.series.value_name), note


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
    saved = st.session_state.setdefault("saved_scenarios", [])
    if cols[2].button("Keep for comparison", key="sc_keep", help="Up to four scenarios on the Compare page"):
        entry = {"city": city.slug, "scenario": scenario.to_json(), "seed": seed, "n": n}
        if entry not in saved:
            saved.append(entry)
            del saved[:-4]
        cols[2].success(f"{len(saved)} kept")
    st.caption("The address bar holds the whole scenario, seed and model id: copy it to share these exact numbers.")


def exports(city: City, result: ScenarioResult, summary: Summary, bundle: GeneratorBundle) -> None:
    """Download buttons; each file is built only when its button is clicked (not on every rerun)."""
    st.subheader("Export")
    cols = st.columns(5)
    hour = int(st.session_state.get("sc_hour", 0))
    cols[0].download_button("Report (HTML, offline)", partial(html_report, city, result, summary, bundle.meta),
                            file_name=f"whatif-{city.slug}.html", mime="text/html", key="sc_dl_html")
    cols[1].download_button("Results (CSV)", partial(result_csv, result, city), file_name=f"whatif-{city.slug}.csv",
                            mime="text/csv", key="sc_dl_csv")
    cols[2].download_button("Sensors (GeoJSON)", partial(result_geojson, city, result, summary),
                            file_name=f"whatif-{city.slug}.geojson", mime="application/geo+json", key="sc_dl_geo")
    cols[3].download_button("Map (PNG)", partial(map_png, city, result, summary, hour),
                            file_name=f"whatif-{city.slug}.png", mime="image/png", key="sc_dl_png")
    cols[4].download_button("Planning brief (HTML)", lambda: brief_html(build_brief(result, city)),
                            file_name=f"brief-{city.slug}.html", mime="text/html", key="sc_dl_brief",
                            help="One page in plain language: what was asked, what the model expects, how sure it is.")
