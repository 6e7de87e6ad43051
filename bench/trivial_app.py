"""The reference for the interaction benchmark: a one-slider Streamlit page."""

import streamlit as st

value = st.slider("Hour", 0, 23, 0, key="hour")
st.markdown(f"**value {value}**")
