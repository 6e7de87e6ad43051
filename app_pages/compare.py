"""Compare up to four kept scenarios side by side: their headline numbers and difference maps."""

import streamlit as st

from explorer.render.scenario import Summary, headline_cards
from explorer.report import describe
from explorer.scenarios.schema import Scenario
from explorer.ui.deckmap import carry, deck_map
from explorer.ui.maps import cached_base, result_payload
from explorer.ui.models import cached_generator, cached_result, model_id
from explorer.ui.scenario_panel import busiest_hour
from explorer.ui.state import cached_city, user_errors
from explorer.ui.workshop import workshop_mode

st.title("Compare scenarios")
workshop_mode()
saved = st.session_state.get("saved_scenarios", [])
if not saved:
    st.info("No scenario kept yet. On the What if page, set a scenario and press **Keep for comparison** "
            "(up to four).")
    st.stop()
if st.button("Clear the comparison", key="cmp_clear"):
    st.session_state.saved_scenarios = []
    st.rerun()

columns = st.columns(len(saved))
carried: set[str] = set()
for i, (col, entry) in enumerate(zip(columns, saved, strict=True)):
    with col, user_errors():
        city = cached_city(entry["city"])
        bundle = cached_generator(city.slug)
        result = cached_result(city.slug, entry["scenario"], entry["n"], entry["seed"], model_id(bundle))
        summary = Summary.of(result)
        st.subheader(f"{i + 1}. {city.name}")
        for line in describe(result, city):
            st.markdown(f"- {line}")
        for label, value, help_text in headline_cards(result, city):
            st.metric(label, value, help=help_text)
        hour = busiest_hour(summary)
        base = cached_base(city.slug, "layer")
        data = result_payload(city, result, summary, base)
        deck_map(base, data, key=f"cmp_map_{i}", height=420, three_d=False, view="difference", hour=hour)
        carry(data, key=f"cmp_data_{i}")
        if city.slug not in carried:  # one copy of a city's layers for every map of it
            carry(base, key=f"cmp_base_{city.slug}")
            carried.add(city.slug)
        st.caption(f"Opens on the difference at {result.times[hour]:%a %H:%M} (the hour with most significant "
                   "changes); play or step the hours on the map. "
                   f"Seed {entry['seed']}, {entry['n']} samples.")
        st.download_button("Scenario JSON", Scenario.from_json(entry["scenario"]).to_json(),
                           file_name=f"scenario-{i + 1}.json", key=f"cmp_dl_{i}")
