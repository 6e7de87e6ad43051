"""Workshop mode: one toggle (also ``?workshop=1``) for a projector: the map first, large type, high contrast.

The layout is CSS on top of Streamlit's own: the sidebar starts collapsed (the facilitator opens it with the arrow
at the top left), the page starts just under the header, headline numbers sit in one row with the title, and a
map inside a container keyed ``ws_map`` (What if) or ``ws_tiles_<n>`` (Compare, n maps tiled) is sized to the
window's height so it fills the first screen. The browser map (``explorer.ui.deckmap``) is not style-isolated:
its ``large`` option turns on the bigger clock and legend, and the rules below make its hour slider, Play and
view buttons big enough to hit and read from the back of a room. The rules are in ``workshop.css`` beside this file.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

WORKSHOP_CSS = f"<style>\n{Path(__file__).with_name('workshop.css').read_text()}</style>\n"


def workshop_mode(*, collapse_sidebar: bool = True) -> bool:
    """Read the toggle (kept in the URL) and, when on, apply the projector layout.

    The sidebar is collapsed when workshop mode starts (not on every rerun: a facilitator who opened it to
    move a slider keeps it open); turning the mode off opens it again.
    """
    wanted = st.query_params.get("workshop", "0") == "1"
    if "ws_on" not in st.session_state:
        st.session_state.ws_on = wanted
    on = st.sidebar.toggle("Workshop mode (projector)", key="ws_on",
                           help="The map first and large, large type, high contrast, technical controls hidden. "
                                "The sidebar folds away: open it again with the arrow at the top left.")
    if on:
        st.query_params["workshop"] = "1"
        st.markdown(WORKSHOP_CSS, unsafe_allow_html=True)  # constant CSS, no user text
    elif "workshop" in st.query_params:
        del st.query_params["workshop"]
    if collapse_sidebar:
        _sidebar_follows(on)
    return on


def projector_layout() -> None:
    """The workshop look for a page that is always on a projector (no toggle)."""
    st.markdown(WORKSHOP_CSS, unsafe_allow_html=True)  # constant CSS, no user text
    _sidebar_follows(True)


def _sidebar_follows(on: bool) -> None:
    """Collapse the sidebar when the projector layout starts, open it when it ends (once per change)."""
    ss = st.session_state
    before = ss.get("ws_sidebar_collapsed")
    if before is on:
        return
    ss.ws_sidebar_collapsed = on
    if on or before is not None:  # a session that starts without workshop mode keeps Streamlit's default
        st.set_page_config(initial_sidebar_state="collapsed" if on else "expanded")


def headline(title: str, cards: list[tuple[str, str, str | None]], note: str | None, workshop: bool, *,
             note_as: str = "text") -> None:
    """A page's title, its headline numbers (label, value, help) and one line of ``note`` shown as ``note_as``
    ("text", "info" or "caption"). In workshop mode all of it sits in one compact row, the note as small text,
    so the map below starts high on the screen."""
    if workshop:
        cols = st.columns([1.6] + [1] * len(cards), vertical_alignment="bottom")
        with cols[0].container(key="ws_head"):
            st.title(title)
            if note:
                st.markdown(note)
        for col, (label, value, help_text) in zip(cols[1:], cards, strict=True):
            col.metric(label, value, help=help_text)
        return
    st.title(title)
    if note and note_as == "caption":
        st.caption(note)
    for col, (label, value, help_text) in zip(st.columns(len(cards)), cards, strict=True):
        col.metric(label, value, help=help_text)
    if note and note_as != "caption":
        (st.info if note_as == "info" else st.markdown)(note)
