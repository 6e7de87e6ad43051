"""Home's chart, cached per city and shared by every session (read-only), drawn after Home's map on a session's
first page. Its map: explorer.ui.maps.

Why after the map: the chart's first drawing makes the browser load and evaluate Plotly's bundle (4.7 MB, ~1 s of
the page's main thread on the 2-core box), and with the chart in the first run's burst that happened before the
map's first frame (cold start traces in docs/performance.md). On a session's first page the chart's place is held
by an empty box of its height; a small invisible component waits until the map has drawn Home's data
(``data-rendered-data``; at most ``WAIT_MS``) and sends a trigger whose callback reruns only the chart's fragment.
From then on (Plotly's bundle loaded) every run draws the chart at once. Without JavaScript (AppTest) only the
placeholder is drawn until :data:`READY` is set in the session.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from explorer.render.overview import daily_profile_figure
from explorer.ui.after_map import WAIT_MS, mount
from explorer.ui.state import cached_city

COMPONENT = "urban-whatif-explorer.home-after-map"
CHART = "home_chart"  # the chart's fragment (st.fragment(key=...))
READY = "home_chart_ready"  # session flag: the browser has drawn a map and may load Plotly now
CHART_HEIGHT = 420  # the figure's height (explorer.render.overview), held by the placeholder


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_profile(slug: str) -> go.Figure:
    """The city's daily profile chart."""
    return daily_profile_figure(cached_city(slug))


def _chart_now() -> None:
    st.session_state[READY] = True
    st.rerun(CHART)


@st.fragment(key=CHART)
def _chart(slug: str) -> None:
    if st.session_state.get(READY):
        st.plotly_chart(cached_profile(slug), key="home_profile")
    else:
        st.container(height=CHART_HEIGHT, border=False, key="home_profile_pending")


def profile_after_map(slug: str, map_data_key: str) -> None:
    """Home's daily-profile chart: at once once the session's browser has drawn a map, else once it has drawn
    the map showing ``map_data_key`` (call after the map)."""
    first = not st.session_state.get(READY)
    token = f"{map_data_key}#first" if first else None
    mount(COMPONENT)(data={"token": token, "data": map_data_key, "wait_ms": WAIT_MS, "state": "__homeAfterMap"},
                     key="home_after_map", on_ready_change=_chart_now)
    _chart(slug)
