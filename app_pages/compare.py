"""Compare up to four kept scenarios side by side: their headline numbers and difference maps."""

import streamlit as st

from explorer.render.aggregate import cell_frame, cell_summary, hex_deck, how_for, sensor_cells
from explorer.render.scenario import Summary, headline_cards, scenario_deck, sensor_frame
from explorer.report import describe
from explorer.scenarios.schema import Scenario
from explorer.settings import get_settings
from explorer.ui.models import cached_generator, cached_result, model_id
from explorer.ui.scenario_panel import cached_roads
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
        hour = int(summary.significant.sum(axis=1).argmax())
        if len(result.sensor_ids) > get_settings().map_aggregate_above:  # large city: h3 areas, as on What if
            cells = sensor_cells(city)
            cs = cell_summary(result, cells, how_for(city.manifest.series.domain))
            deck = hex_deck(city, cell_frame(cells, cs, summary, hour, "difference"), result.unit, "difference",
                            three_d=False, height_px=360)
        else:
            paths, road_index = cached_roads(city.slug, "layer")
            frame = sensor_frame(city, result, summary, hour, "difference")
            deck = scenario_deck(city, frame, paths, road_index, three_d=False, height_px=360)
        st.pydeck_chart(deck, key=f"cmp_map_{i}")
        st.caption(f"Difference at {result.times[hour]:%a %H:%M} (the hour with most significant changes); "
                   f"seed {entry['seed']}, {entry['n']} samples.")
        st.download_button("Scenario JSON", Scenario.from_json(entry["scenario"]).to_json(),
                           file_name=f"scenario-{i + 1}.json", key=f"cmp_dl_{i}")
