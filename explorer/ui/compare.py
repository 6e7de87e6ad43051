"""The Compare page's parts: the kept scenarios (this session's, else the link's) and one tile per scenario."""

from __future__ import annotations

import streamlit as st

from explorer.cities.training import ModelNotTrained
from explorer.comparison import decode_comparison, encode_comparison, scenario_title
from explorer.errors import ExplorerError
from explorer.render.scenario import Summary, headline_cards
from explorer.scenarios.schema import Scenario, ScenarioError, validate_for_city
from explorer.ui.deckmap import carry, deck_map
from explorer.ui.maps import cached_base, result_payload
from explorer.ui.models import cached_generator, cached_result, model_id
from explorer.ui.scenario_controls import place_key, place_options
from explorer.ui.scenario_panel import busiest_hour
from explorer.ui.state import cached_city, not_trained
from explorer.voice.brief import md_escape


def kept_scenarios() -> list[dict]:
    """The scenarios kept on the What-if page; a Compare link (``?cmp=``) fills them in a new session. The
    address bar always carries the current list, so the page can be shared or bookmarked for a workshop."""
    ss = st.session_state
    saved = ss.setdefault("saved_scenarios", [])
    link = st.query_params.get("cmp")
    if link and link != ss.get("cmp_link"):
        ss.cmp_link = link
        try:
            saved[:] = decode_comparison(link)
        except ExplorerError as exc:
            st.warning(f"The link's comparison could not be used: {exc.message}")
    if saved:
        ss.cmp_link = st.query_params["cmp"] = encode_comparison(saved)
    elif "cmp" in st.query_params:
        del st.query_params["cmp"]
    return saved


def grid(n: int) -> list[list[int]]:
    """Tiles per row: up to three side by side, four as two rows of two."""
    return [[0, 1], [2, 3]] if n == 4 else [list(range(n))]


def tile(i: int, entry: dict, workshop: bool, carried: set[str]) -> None:
    """One kept scenario: its title in words, headline numbers and difference map (and, off the projector, its
    seed and JSON)."""
    try:
        city = cached_city(entry["city"])
        scenario = Scenario.from_json(entry["scenario"])
        validate_for_city(scenario, city)
        bundle = cached_generator(city.slug)
        result = cached_result(city.slug, entry["scenario"], entry["n"], entry["seed"], model_id(bundle))
    except ModelNotTrained as exc:
        not_trained(exc)
        return
    except (ExplorerError, ScenarioError) as exc:
        st.error(f"Scenario {i + 1} cannot be shown: {getattr(exc, 'message', exc)}")
        return
    summary = Summary.of(result)
    place = place_options(city).get(place_key(city, scenario.events[0].place)) if scenario.events else None
    title = scenario_title(scenario, place)
    cards = headline_cards(result, city)
    if workshop:
        st.container(key=f"ws_tile_head_{i}").markdown(f"**{i + 1}. {md_escape(city.name)}**: {md_escape(title)}")
        for col, (label, value, _) in zip(st.columns(len(cards)), cards, strict=True):  # no help icons there
            col.metric(label, value)
    else:
        st.subheader(f"{i + 1}. {city.name}")
        st.markdown(md_escape(title))
        for label, value, help_text in cards:
            st.metric(label, value, help=help_text)
    hour = busiest_hour(summary)
    base = cached_base(city.slug, "layer")
    data = result_payload(city, result, summary, base)
    deck_map(base, data, key=f"cmp_map_{i}", height=420, three_d=False, view="difference", hour=hour,
             large=workshop)
    carry(data, key=f"cmp_data_{i}")
    if city.slug not in carried:  # one copy of a city's layers for every map of it
        carry(base, key=f"cmp_base_{city.slug}")
        carried.add(city.slug)
    if not workshop:
        st.caption(f"Opens on the difference at {result.times[hour]:%a %H:%M} (the hour with most significant "
                   f"changes); play or step the hours on the map. Seed {entry['seed']}, {entry['n']} samples.")
        st.download_button("Scenario JSON", scenario.to_json(), file_name=f"scenario-{i + 1}.json",
                           key=f"cmp_dl_{i}")
