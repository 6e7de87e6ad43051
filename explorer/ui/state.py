"""Cached access to cities and shared widgets. Cities are cached once per process (shared by sessions)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st

from explorer.cities import City, list_cities, load_city
from explorer.cities.prepared import load_city_prepared
from explorer.cities.training import ModelNotTrained, missing_models
from explorer.errors import ExplorerError
from explorer.settings import get_settings


@st.cache_resource(show_spinner="Loading the city's layers and history…")
def cached_city(slug: str) -> City:
    """One City object per slug for the whole server; treat it as read-only. Read from the prepared copy a previous
    start kept (:mod:`explorer.cities.prepared`) while the city's files and the loading code are unchanged."""
    return load_city_prepared(slug, load=load_city)


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
        city = cached_city(slug)
        model_notice(city)
        return city
    st.stop()


def model_notice(city: City) -> None:
    """A short sidebar note on every page while the city has no trained models (a newly added city)."""
    missing = missing_models(city)
    if missing:
        exc = ModelNotTrained(city, missing)
        st.sidebar.warning(f"**No trained models yet** for {city.name}: What if, Compare, Ask the city and the "
                           f"imputed values need them. Train once with `{exc.command}` (about {exc.minutes} min on "
                           "2 CPU cores).")


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show an ExplorerError as a clear message (never a traceback) and stop the page."""
    try:
        yield
    except ModelNotTrained as exc:
        not_trained(exc)
        st.stop()
    except ExplorerError as exc:
        st.error(exc.message)
        st.stop()


def not_trained(exc: ModelNotTrained) -> None:
    """What a page shows instead of model results when the city has no trained model yet."""
    st.info(f"**{exc.problem}.** The models learn the city's usual rhythm from its own history; a new city needs "
            f"them trained once. On the server, run:")
    st.code(exc.command, language="bash")
    st.caption(f"It takes about {exc.minutes} minutes on 2 CPU cores, with progress bars and an estimate of the time "
               "left. Then reload this page. Meanwhile the Home page (map, data summary, daily profile) and Data "
               "health's view of missing readings work.")
