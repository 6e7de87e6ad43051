"""Home: pick a city, see every layer on one offline map, a data summary and the daily profile."""

import streamlit as st

from explorer.settings import get_settings
from explorer.stats import SENSOR_STATISTICS, data_summary
from explorer.ui.deckmap import map_with_layers
from explorer.ui.maps import cached_base, cached_stat
from explorer.ui.overview import profile_after_map
from explorer.ui.state import city_picker
from explorer.ui.workshop import headline, workshop_mode

city = city_picker()
workshop = workshop_mode()
series_spec = city.manifest.series

stat = st.sidebar.radio("Colour sensors by", list(SENSOR_STATISTICS), format_func=SENSOR_STATISTICS.get,
                        key="home_stat")
road_default = get_settings().road_source
roads = city.manifest.layers.get("roads")
if roads is not None:
    road_source = st.sidebar.radio("Road layer", ["layer", "graph"], index=["layer", "graph"].index(road_default),
                                   format_func={"layer": "Road centrelines", "graph": "Sensor graph links"}.get,
                                   key="home_roads", help=roads.note or None)
else:
    road_source = "graph"

summary = data_summary(city.series, city.freq)
cards = [("Sensors", f"{summary.sensors:,}", None),
         ("History", f"{summary.span_days:,.0f} days",
          f"{summary.start:%d %b %Y %H:%M} to {summary.end:%d %b %Y %H:%M} ({city.timezone})"),
         ("Resolution", f"{int(summary.resolution.total_seconds() // 60)} min", None),
         ("Missing readings", f"{summary.share_missing:.1%}",
          "Readings the sensors did not report. They stay missing here; the Data health page fills them with the "
          "imputer and marks every filled value.")]
headline(f"{city.name}: {series_spec.value_name.lower()}", cards, None if workshop else city.manifest.description,
         workshop, note_as="caption")

base = cached_base(city.slug, road_source)
values = cached_stat(city.slug, stat, road_source)
with st.container(key="ws_map"):  # workshop CSS sizes the map in here to the window
    map_with_layers(base, values, key="home_map", height=560, large=workshop)
areas = base.header.get("cell_ids")
st.caption(f"{len(city.sensors):,} sensors · measured values only" if areas is None else
           f"{len(city.sensors):,} sensors in {len(areas):,} hexagonal areas · measured values only; the sensor "
           "graph's links are not drawn at this size")
for warning in city.warnings:
    st.info(warning)

profile_after_map(city.slug, values.key)  # on a session's first page, once the browser has drawn the map
with st.expander("Sources and licences"):
    st.markdown(f"Data folder: `data/cities/{city.slug}/` — see its SOURCE and LICENCE files.")
    for role, spec in city.manifest.layers.items():
        if spec.note:
            st.markdown(f"- **{role}**: {spec.note}")
