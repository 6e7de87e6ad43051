"""Entry point: `streamlit run app.py`. Wiring only."""

import streamlit as st

st.set_page_config(page_title="Urban what-if explorer", page_icon="🏙️", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon="🗺️", default=True),
    st.Page("pages/scenario.py", title="What if", icon="🎛️"),
    st.Page("pages/compare.py", title="Compare", icon="⚖️"),
]
st.navigation(pages).run()
