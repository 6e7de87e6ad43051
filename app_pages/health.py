"""Data health: where the history has gaps, and how the generative imputer fills them (with bands)."""


import pandas as pd
import streamlit as st

from explorer.errors import ExplorerError
from explorer.render.health import (
    export_frame,
    imputed_series_figure,
    imputer_figures,
    imputer_summary,
    imputer_training,
    missing_by_sensor_figure,
    missing_over_time_figure,
)
from explorer.stats import Gaps, data_summary
from explorer.ui.imputer import cached_imputation, cached_imputer
from explorer.ui.state import city_picker, user_errors
from explorer.ui.workshop import workshop_mode

city = city_picker()
workshop_mode()
spec = city.manifest.series
st.title(f"Data health: {city.name}")
summary = data_summary(city.series, city.freq)
gaps = Gaps.of(city.series, city.active_mask())
c = st.columns(3)
c[0].metric("Missing overall", f"{summary.share_missing:.1%}")
c[1].metric("Missing while installed", f"{gaps.share:.1%}",
            help="Counted only inside each sensor's active span (first to last reading). Only these gaps are "
                 "imputed; before a counter was installed nothing is filled.")
c[2].metric("Sensors", summary.sensors)
try:  # the missing-data view works before the city's models are trained; the model parts need them
    _, imeta = cached_imputer(city.slug)
except ExplorerError:
    imeta = None
if imeta:
    st.markdown(f"**The gap-filling model.** {imputer_summary(imeta, spec.unit)}")

left, right = st.columns([1, 1])
left.plotly_chart(missing_by_sensor_figure(city), key="dh_by_sensor")
right.plotly_chart(missing_over_time_figure(city), key="dh_over_time")

st.subheader("Measured against imputed")
labels = city.sensors.set_index("sensor_id")["where"]
ids = list(city.series.columns)
sensor = st.selectbox("Sensor", ids, index=ids.index(gaps.worst_sensor()), format_func=lambda s: f"{labels[s]} ({s})",
                      key="dh_sensor")
day = st.date_input("Week starting", gaps.middle_gap_day(sensor), min_value=city.series.index[0].date(),
                    max_value=city.series.index[-1].date(), key="dh_day")
start = pd.Timestamp(day)
end = start + pd.Timedelta(days=7) - city.freq
with user_errors():
    cached_imputer(city.slug)
    result = cached_imputation(city.slug, start, end, 24, 0)
st.plotly_chart(imputed_series_figure(result, sensor, spec.value_name, spec.unit), key="dh_series")
n_imp = int(result.imputed[sensor].sum())
st.caption(f"{n_imp} of {len(result.imputed)} readings in this week are imputed (orange, dashed, with the P10–P90 "
           f"band of {result.n_samples} sampled fills); blue are measured. The thin orange lines are three of those "
           "sampled fills: each is one plausible path through the gap, and they vary together over time and with "
           "neighbouring sensors as real readings do. Imputed values are never shown as measured anywhere in the "
           "app. The scenario generator trains on the masked history, not on imputed values.")
st.download_button("Download this week (CSV, with an 'imputed' flag)",
                   export_frame(result, sensor).to_csv().encode(),
                   file_name=f"{city.slug}-{sensor}-{day:%Y%m%d}.csv", key="dh_dl")

if imeta:
    st.subheader("How well it fills gaps")
    st.caption(f"Figures stored with the model when it was trained, on readings hidden from the part of the history "
               f"it never saw; recompute them with `explorer impute eval --city {city.slug} --protocol point` "
               "(or `block`).")
    st.table(imputer_figures(imeta, spec.unit).set_index("Measure"))  # HTML: long text wraps, never cut
    with st.expander("How it was trained and calibrated"):
        st.markdown(f"Made on {str(imeta.get('created', '?'))[:10]} by `{imeta.get('command', '?')}`.")
        st.table(imputer_training(imeta, spec.unit).set_index("Measure"))
