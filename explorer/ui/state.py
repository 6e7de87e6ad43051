"""Cached access to cities and shared widgets. Cities are cached once per process (shared by sessions)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st

from explorer.cities import City, list_cities, load_city
from explorer.errors import ExplorerError
from explorer.settings import get_settings


@st.cache_resource(show_spinner="Loading the city's layers and history…")
def cached_city(slug: str) -> City:
    """One City object per slug for the whole server; treat it as read-only."""
    return load_city(slug)


def city_picker() -> City:
    """Sidebar city picker, synced with the ``city`` URL parameter. Stops the page on a bad city."""
    slugs = list_cities()
    default = get_settings().default_city
    wanted = st.query_params.get("city", default)
    if wanted not in slugs:
        st.warning(f"Unknown city in the link; showing {default}. Available: {', '.join(slugs)}.")
        wanted = default if default in slugs else slugs[0]
    slug = st.sidebar.selectbox("City", slugs, index=slugs.index(wanted), key="city",
                                format_func=lambda s: s.replace("-", " ").title())
    if st.query_params.get("city") != slug:
        st.query_params["city"] = slug
    with user_errors():
        return cached_city(slug)
    st.stop()


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show an ExplorerError as a clear message (never a traceback) and stop the page."""
    try:
        yield
    except ExplorerError as exc:
        st.error(exc.message)
        st.stop()
