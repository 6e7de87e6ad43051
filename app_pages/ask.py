"""Ask the city: a plain-language request becomes a scenario you can check, edit, run and brief."""

import streamlit as st

from explorer.render.scenario import headline_cards
from explorer.share import SharedRun, encode
from explorer.ui import ask_state
from explorer.ui.models import cached_generator, cached_result, model_id
from explorer.ui.scenario_controls import load_into_widgets, place_options
from explorer.ui.state import city_picker, user_errors
from explorer.ui.voice import (
    assumptions,
    city_examples,
    current_whatif,
    did_you_mean,
    example_buttons,
    llm_configured,
    polished_brief,
    scenario_editor,
)
from explorer.voice.brief import brief_html, brief_markdown, build_brief, md_escape
from explorer.voice.parser import differences, parse

N_SAMPLES, SEED = 64, 0

city = city_picker()
ss = st.session_state
st.title(f"Ask the city: {city.name}")
st.caption("Say what worries you in your own words. It is turned into a scenario you can check and edit "
           "before anything runs; the same generator as the What-if sliders then answers.")
examples = city_examples(city.slug)
text = st.text_area("Your what-if question", key="ask_text", max_chars=500,
                    placeholder="e.g. " + (examples[0] if examples else "twice the usual crowd at the station"))
example_buttons(examples)
if st.button("Read my question", key="ask_parse", type="primary") and text.strip():
    ask_state.read(ss, city.slug, parse(text, city))

res = ask_state.parsed(ss, city.slug)
if res is None:
    st.stop()
who = "the offline parser" if res.parser == "offline" else f"the language model ({res.parser[4:]})"
st.caption(f"Read by {md_escape(who)}.")
if res.scenario is None:
    st.warning(f"**This cannot be answered honestly.** {md_escape(res.reason)}")
    st.stop()

st.subheader("The scenario, as I understood it")
if res.place_label:
    st.markdown(f"Place: **{md_escape(res.place_label)}**")
assumptions(res)
did_you_mean(city, res)
try:
    scenario = scenario_editor(city)
except ValueError as exc:
    st.error(f"These values do not fit together: {md_escape(str(exc).splitlines()[-1])}")
    st.stop()
current = current_whatif(city)
diff = differences(scenario, current, place_options(city))
with st.expander("What changes against the current What-if scenario", expanded=True):
    if current is None:
        st.caption("The What-if page has not been opened in this session; all fields are new.")
    st.table({"field": [d[0] for d in diff], "What if now": [d[1] for d in diff],
              "this question": [d[2] for d in diff]})

with user_errors():
    bundle = cached_generator(city.slug)
mid = model_id(bundle)
left, right = st.columns(2)
if left.button("Run", key="ask_run", type="primary"):
    ask_state.mark_run(ss, scenario)
if right.button("Open in What if", key="ask_open"):
    load_into_widgets(city, scenario, SEED, N_SAMPLES)
    ss.sc_city = city.slug  # the What-if page keeps these widgets instead of loading its first preset
    st.switch_page("app_pages/scenario.py", query_params=encode(SharedRun(scenario, SEED, N_SAMPLES, mid)))

if not ask_state.was_run(ss, scenario):
    st.info("Press **Run** to generate this scenario.")
    st.stop()
with user_errors():
    result = cached_result(city.slug, scenario.to_json(), N_SAMPLES, SEED, mid)
cards = headline_cards(result, city)
for col, (label, value, help_text) in zip(st.columns(len(cards)), cards, strict=True):
    col.metric(label, value, help=help_text)
brief = build_brief(result, city, res.text, res.parser, res.notes)
if llm_configured() and st.toggle("Friendlier wording by the language model (figures checked)", key="ask_polish"):
    brief, how = polished_brief(brief, brief_markdown(brief))
    st.caption(md_escape(how))
with st.container(border=True, key="ask_brief"):
    st.markdown(brief_markdown(brief))
d1, d2 = st.columns(2)
d1.download_button("Download the brief (HTML)", brief_html(brief), file_name=f"brief-{city.slug}.html",
                   mime="text/html", key="ask_dl_html")
d2.download_button("Download the brief (Markdown)", brief_markdown(brief), file_name=f"brief-{city.slug}.md",
                   mime="text/markdown", key="ask_dl_md")
