"""Model card: what each model was trained on, how it measures against baselines, and its limits."""


import streamlit as st

from explorer.render.health import imputer_summary
from explorer.render.model_card import (
    distribution_figure,
    footprint_figure,
    generator_summary,
    held_out_days,
    profile_figure,
    real_sensor_hours,
    results_section,
    training_details,
)
from explorer.render.model_results import backtest_view, evaluation_view, imputer_view
from explorer.scenarios.schema import Scenario
from explorer.settings import REPO_ROOT
from explorer.ui.imputer import cached_imputer
from explorer.ui.models import cached_generator, cached_result, cached_showcase, model_id
from explorer.ui.results import draw_results
from explorer.ui.scenario_controls import DAYS
from explorer.ui.state import city_picker, user_errors
from explorer.ui.workshop import workshop_mode

city = city_picker()
workshop_mode()
st.title(f"Model card: {city.name}")
with user_errors():
    bundle = cached_generator(city.slug)
meta = bundle.meta

st.header("Scenario generator (conditional GAN)")
st.markdown(generator_summary(city, meta))
show = cached_showcase(city.slug, model_id(bundle))
if show is not None:
    st.subheader("A real event it never saw, replayed from its origin alone")
    st.caption(f"{show.title}. The model was told only the place, day, start, duration and size at the place "
               "(star); everything else on the map is what it learned from past events. Values are generated.")
    st.plotly_chart(footprint_figure(show), key="mc_footprint")
unit = city.manifest.series.unit
for key, title, view in ((f"backtest:{city.slug}", "Backtest on every held-out event", backtest_view),
                         (city.slug, "Held-out days against the baselines", evaluation_view)):
    section = results_section(REPO_ROOT / "docs" / "generator_results.md", key)
    if section:
        st.subheader(title)
        draw_results(view(section, city.slug, unit), "How it was measured, and the other figures")
    else:
        st.info(f"No {title.lower()} recorded yet: run `explorer generate {'backtest' if ':' in key else 'eval'} "
                f"--city {city.slug} --markdown docs/generator_results.md`.")
with st.expander("How it was trained and calibrated"):
    st.markdown(training_details(meta, model_id(bundle)))

st.subheader("Real and generated days side by side")
dow = st.selectbox("Day", range(7), index=4, format_func=DAYS.__getitem__, key="mc_dow")
real = held_out_days(city, meta, dow)
generated = cached_result(city.slug, Scenario.model_validate(
    {"city": city.slug, "day": {"day_of_week": dow}, "start_hour": 0, "horizon_hours": 24}).to_json(), 64, 0,
    model_id(bundle))
st.plotly_chart(profile_figure(city, real, generated, DAYS[dow]), key="mc_profile")
st.plotly_chart(distribution_figure(city, real_sensor_hours(city, meta, dow), generated), key="mc_dist")

st.header("Imputer (generative: a point estimate and a learned correlated noise model)")
with user_errors():
    _, imeta = cached_imputer(city.slug)
st.markdown(imputer_summary(imeta, unit))
isection = results_section(REPO_ROOT / "docs" / "imputation_results.md", city.slug)
if isection:
    draw_results(imputer_view(isection, city.slug, unit), "All figures, against other ways of filling gaps",
                 tables_in_details=True)
st.caption(f"Made by `{imeta.get('command', '')}` on {str(imeta.get('created', '?'))[:10]}.")

st.header("Limits, in plain words")
st.markdown(f"""
- The models learned only from {city.name}'s own sensors over the period above. Events bigger than any seen in
  that history, new roads or new venues are extrapolations: read them as rough guides.
- Every map and chart of a scenario shows **generated** values, with a P10–P90 band; a change whose band
  includes zero is marked *not significant*.
- Imputed values fill gaps while a sensor was installed; they are drawn differently and never exported as
  measured.
- At an event's place the size you ask for is about the size you get (learned; one calibration factor fine-tunes
  it). How the effect spreads to other sensors and over the hours is learned from the history's past events;
  the reach you set only limits how far it may go. An event unlike any in the history is an extrapolation.
- Closures and demand growth are not offered: the generator cannot produce them honestly yet.
""")
