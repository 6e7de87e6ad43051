"""Workshop mode: one toggle (also ``?workshop=1``) for a projector: large type, high contrast, full width."""

from __future__ import annotations

import streamlit as st

WORKSHOP_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 22px !important; }
[data-testid="stAppViewContainer"] { background: #ffffff; color: #000000; }
h1 { font-size: 2.6rem !important; } h2, h3 { font-size: 1.9rem !important; }
[data-testid="stMetricValue"] { font-size: 2.6rem !important; font-weight: 800; color: #000; }
[data-testid="stMetricLabel"] p { font-size: 1.3rem !important; font-weight: 700; }
.block-container { max-width: 100% !important; padding-left: 1.5rem; padding-right: 1.5rem; }
.explorer-legend { font-size: 1.2rem; }
</style>
"""


def workshop_mode() -> bool:
    """Read the toggle (kept in the URL) and, when on, apply the projector theme."""
    wanted = st.query_params.get("workshop", "0") == "1"
    if "ws_on" not in st.session_state:
        st.session_state.ws_on = wanted
    on = st.sidebar.toggle("Workshop mode (projector)", key="ws_on",
                           help="Large type, high contrast, colour-blind-safe colours, technical controls hidden.")
    if on:
        st.query_params["workshop"] = "1"
        st.markdown(WORKSHOP_CSS, unsafe_allow_html=True)  # constant CSS, no user text
    elif "workshop" in st.query_params:
        del st.query_params["workshop"]
    return on
