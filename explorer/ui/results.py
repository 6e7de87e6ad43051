"""Draw a model's stored results (explorer.render.model_results.ResultsView): the summary sentence first, tables
as HTML tables (long words wrap, nothing is cut at a laptop's width), details behind an expander."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.render.model_results import ResultsView


def _draw(part: str | pd.DataFrame) -> None:
    if isinstance(part, str):
        st.markdown(part)
    else:
        st.table(part if part.index.name else part.set_index(part.columns[0]))


def draw_results(view: ResultsView, details_label: str, *, tables_in_details: bool = False) -> None:
    """``view`` on the page: what it was measured on, its sentence, its tables (or, with ``tables_in_details``,
    the tables in the expander too, for long ones), then the expander ``details_label`` with the rest."""
    if view.heading:
        st.caption(view.heading)
    if view.summary:
        st.markdown(view.summary)
    tables = [p for cap, t in view.tables for p in ([f"**{cap}**"] if cap else []) + [t]]
    shown, hidden = ([], tables) if tables_in_details else (tables, [])
    for part in shown:
        _draw(part)
    if hidden or view.details:
        with st.expander(details_label):
            for part in hidden + view.details:
                _draw(part)
