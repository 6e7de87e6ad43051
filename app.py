"""Entry point: `streamlit run app.py`. Wiring only."""

from pathlib import Path

import streamlit as st

# a local favicon: a ':material/...:' page icon would be fetched from a font CDN
ICON = str(Path(__file__).parent / "assets" / "favicon.png")
st.set_page_config(page_title="Urban what-if explorer", page_icon=ICON, layout="wide")

pages = [
    st.Page("app_pages/home.py", title="Home", icon=":material/map:", default=True),
    st.Page("app_pages/scenario.py", title="What if", icon=":material/tune:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("app_pages/health.py", title="Data health", icon=":material/monitor_heart:"),
    st.Page("app_pages/model_card.py", title="Model card", icon=":material/badge:"),
    st.Page("app_pages/ask.py", title="Ask the city", icon=":material/record_voice_over:"),
    st.Page("app_pages/have_your_say.py", title="Have your say", icon=":material/forum:"),
    st.Page("app_pages/projector.py", title="Projector", icon=":material/co_present:"),
    st.Page("app_pages/add_city.py", title="Add a city", icon=":material/add_location_alt:"),
]
st.navigation(pages).run()
