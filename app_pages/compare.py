"""Compare up to four kept scenarios side by side: their headline numbers and difference maps."""

import streamlit as st

from explorer.ui.compare import grid, kept_scenarios, tile
from explorer.ui.workshop import workshop_mode

workshop = workshop_mode()
st.title("Compare scenarios")
saved = kept_scenarios()
if not saved:
    st.info("No scenario kept yet. On the What if page, set a scenario and press **Keep for comparison** "
            "(up to four).")
    st.stop()
if st.sidebar.button("Clear the comparison", key="cmp_clear"):
    st.session_state.saved_scenarios = []
    st.rerun()

carried: set[str] = set()
with st.container(key=f"ws_tiles_{len(saved)}"):  # workshop CSS sizes the maps in here to the window
    for row in grid(len(saved)):
        for i, col in zip(row, st.columns(len(row), vertical_alignment="bottom"), strict=True):
            with col:
                tile(i, saved[i], workshop, carried)
if not workshop:
    st.caption("The address bar holds every kept scenario: copy it to share this comparison.")
