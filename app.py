"""Entry point: `streamlit run app.py`. Wiring only."""

import streamlit as st

st.set_page_config(page_title="Urban what-if explorer", page_icon="🏙️", layout="wide")

pages = [
    st.Page("app_pages/home.py", title="Home", icon="🗺️", default=True),
    st.Page("app_pages/scenario.py", title="What if", icon="🎛️"),
    st.Page("app_pages/compare.py", title="Compare", icon="⚖️"),
]
st.navigation(pages).run()
