"""Model card: what each model was trained on, how it measures against baselines, and its limits."""


import streamlit as st

from explorer.render.model_card import (
    distribution_figure,
    held_out_days,
    profile_figure,
    real_sensor_hours,
    results_section,
)
from explorer.scenarios.schema import Scenario
from explorer.settings import REPO_ROOT
from explorer.ui.imputer import cached_imputer
from explorer.ui.models import cached_generator, cached_result, model_id
from explorer.ui.scenario_controls import DAYS
from explorer.ui.state import city_picker, user_errors
from explorer.ui.workshop import workshop_mode

city = city_picker()
workshop_mode()
st.title(f"Model card: {city.name}")
with user_errors():
    bundle = cached_generator(city.slug)
meta = bundle.meta
m = meta.get("metrics", {})

st.header("Scenario generator (conditional GAN)")
st.markdown(
    f"- **Trained on**: {city.name}'s {city.manifest.series.value_name.lower()} history at "
    f"{meta.get('resolution', '1h')} resolution, {meta.get('training_data', 'masked history')}; "
    f"train {' to '.join(meta.get('splits', {}).get('train', []))}, held out "
    f"{' to '.join(meta.get('splits', {}).get('test', []))}.\n"
    f"- **Events learned from the history**: {m.get('surges_labelled', '?')} past surges labelled.\n"
    f"- **Made by**: `{meta.get('command', '')}` on {meta.get('created', '?')[:10]}, "
    f"{m.get('steps', '?')} steps in {m.get('train_seconds', 0) / 60:.0f} min ({m.get('device', 'cpu')}); "
    f"weights {model_id(bundle)}, data hash {str(meta.get('data_hash', ''))[:12]}.\n"
    f"- **Spread calibration**: P10–P90 coverage on validation days {m.get('val_coverage_raw', 0):.0%} raw → "
    f"{m.get('val_coverage_calibrated', 0):.0%} after scaling the noise by {m.get('alpha', 1):.2f}."
    + (f"\n- **Event-size calibration**: asked-for events on validation days came out "
       f"{m['val_ctrl_error_raw']:.0%} off their requested size on average as trained, "
       f"{m['val_ctrl_error_calibrated']:.0%} after calibration (keeping {m.get('event_modulation', 1):.0%} of the "
       f"learned hour-by-hour modulation of the response, then scaling it by {m['event_gain']:.2f})."
       if "event_gain" in m else ""))
section = results_section(REPO_ROOT / "docs" / "generator_results.md", city.slug)
if section:
    st.subheader("Measured against the baselines (held-out days)")
    st.markdown(section)
else:
    st.info(f"No evaluation recorded yet: run `explorer generate eval --city {city.slug} "
            "--markdown docs/generator_results.md`.")

st.subheader("Real and generated days side by side")
dow = st.selectbox("Day", range(7), index=4, format_func=DAYS.__getitem__, key="mc_dow")
real = held_out_days(city, meta, dow)
generated = cached_result(city.slug, Scenario.model_validate(
    {"city": city.slug, "day": {"day_of_week": dow}, "start_hour": 0, "horizon_hours": 24}).to_json(), 64, 0,
    model_id(bundle))
st.plotly_chart(profile_figure(city, real, generated, DAYS[dow]), key="mc_profile")
st.plotly_chart(distribution_figure(city, real_sensor_hours(city, meta, dow), generated), key="mc_dist")

st.header("Imputer (generative, VAE family)")
with user_errors():
    _, imeta = cached_imputer(city.slug)
st.markdown(f"- **Made by**: `{imeta.get('command', '')}` on {str(imeta.get('created', '?'))[:10]}.")
isection = results_section(REPO_ROOT / "docs" / "imputation_results.md", city.slug)
if isection:
    st.markdown(isection)

st.header("Limits, in plain words")
st.markdown(f"""
- The models learned only from {city.name}'s own sensors over the period above. Events bigger than any seen in
  that history, new roads or new venues are extrapolations: read them as rough guides.
- Every map and chart of a scenario shows **generated** values, with a P10–P90 band; a change whose band
  includes zero is marked *not significant*.
- Imputed values fill gaps while a sensor was installed; they are drawn differently and never exported as
  measured.
- At an event's own place the size you ask for is, by calibration, about the size you get; how the effect
  spreads to nearby sensors and over the hours is what the model learned, from a few months of history.
- Closures and demand growth are not offered: the generator cannot produce them honestly yet.
""")
