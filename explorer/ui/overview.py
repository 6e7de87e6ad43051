"""Home's chart, cached per city and shared by every session (read-only). Its map: explorer.ui.maps."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from explorer.render.overview import daily_profile_figure
from explorer.ui.state import cached_city


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_profile(slug: str) -> go.Figure:
    """The city's daily profile chart."""
    return daily_profile_figure(cached_city(slug))
