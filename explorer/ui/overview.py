"""Home's map and chart, cached per city and choice and shared by every session (read-only)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from explorer.render.overview import OverviewMap, daily_profile_figure, overview_map
from explorer.ui.state import cached_city


@st.cache_resource(show_spinner=False, max_entries=64)
def cached_overview(slug: str, statistic: str, road_source: str) -> OverviewMap:
    """The overview map of ``slug`` coloured by ``statistic`` (built once, not on every rerun)."""
    return overview_map(cached_city(slug), statistic, road_source)


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_profile(slug: str) -> go.Figure:
    """The city's daily profile chart."""
    return daily_profile_figure(cached_city(slug))
