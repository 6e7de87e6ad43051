"""Add a city: upload a sensors layer and the readings; the same checks and messages as `explorer city add`."""

import streamlit as st
from pydantic import ValidationError

from explorer.cities.training import estimate_minutes, train_command
from explorer.ui.add_city import DOMAINS, AddCityForm, form_error, import_uploads, slug_of, time_zones
from explorer.ui.state import user_errors

st.title("Add a city")
st.markdown("Bring your own city: a file of **sensor points** and a file of their **readings over time**. "
            "Everything is checked before anything is saved; a problem is explained with the file, what is wrong "
            "and how to fix it. The models are then trained once on the server (the page shows the command).")

zones = time_zones()
with st.form("add_city"):
    c1, c2 = st.columns(2)
    name = c1.text_input("City name", placeholder="My Town", key="ac_name")
    slug = c2.text_input("Short name for links (slug)", placeholder="my-town", key="ac_slug",
                         help="Lower-case letters, digits and '-'. Left empty: made from the name.")
    timezone = c1.selectbox("Time zone", zones, index=zones.index("UTC"), key="ac_tz")
    domain = c2.selectbox("What the sensors measure", DOMAINS, key="ac_domain",
                          format_func=lambda d: d.replace("_", " ").capitalize())
    value_name = c1.text_input("Name of the readings", placeholder="Pedestrians", key="ac_value_name")
    unit = c2.text_input("Unit", placeholder="people/hour", key="ac_unit")
    sensors = st.file_uploader("Sensor points (GeoJSON, GeoPackage, GeoParquet, zipped Shapefile)",
                               type=["geojson", "json", "gpkg", "parquet", "geoparquet", "zip"], key="ac_sensors")
    c3, c4 = st.columns(2)
    id_col = c3.text_input("Sensor id column (in the sensor file)", "sensor_id", key="ac_id_col")
    label_col = c4.text_input("Sensor name column (optional)", key="ac_label_col")
    series = st.file_uploader("Readings (CSV or Parquet; wide: a column per sensor, or long: time, id, value)",
                              type=["csv", "parquet"], accept_multiple_files=True, key="ac_series")
    with st.expander("Columns, holidays and optional files"):
        c5, c6 = st.columns(2)
        layout = c5.selectbox("Layout", ["auto", "wide", "long"], help="auto: long when most times repeat")
        time_col = c6.text_input("Time column", placeholder="found automatically")
        sid_col = c5.text_input("Series id column (long layout)", placeholder="found automatically")
        value_col = c6.text_input("Value column (long layout)", placeholder="found automatically")
        country = c5.text_input("Holidays: country code", placeholder="from the time zone, e.g. FR")
        subdivision = c6.text_input("Holidays: state or region code", placeholder="e.g. VIC, CA")
        places = st.file_uploader("Named places (CSV name, lat, lon, aliases)", type=["csv"], key="ac_places")
        presets = st.file_uploader("Preset tour (JSON)", type=["json"], key="ac_presets")
    submitted = st.form_submit_button("Check and add the city", type="primary")

if submitted:
    with user_errors():
        try:
            form = AddCityForm(name=name, slug=slug or slug_of(name or ""), timezone=timezone, value_name=value_name,
                               unit=unit, domain=domain, sensor_id_column=id_col, sensor_label_column=label_col,
                               layout=layout, time_column=time_col, series_id_column=sid_col, value_column=value_col,
                               holidays_country=country, holidays_subdivision=subdivision)
        except ValidationError as exc:
            raise form_error(exc) from None
        with st.spinner("Checking the files…"):
            result = import_uploads(form, sensors, series or [], places=places, presets=presets)
    city = result.city
    st.success(f"Added **{city.name}**: {city.series.shape[1]} sensors, {len(city.series):,} time steps "
               f"from {city.series.index[0]:%d %b %Y} to {city.series.index[-1]:%d %b %Y}.")
    for note in result.notes:
        st.caption(f"Note: {note}")
    st.markdown(f"Its Home page works now. To use What if and the gap filling, train its models once on the "
                f"server (about {sum(estimate_minutes(city).values()):.0f} minutes on 2 CPU cores):")
    st.code(train_command(city), language="bash")
    st.markdown(f"[Open {city.name} on the Home page](./?city={city.slug})")
