"""Projector: live vote tallies and feedback grouped into themes, a QR code to the phone page, moderation."""

import streamlit as st

from explorer.ui.state import city_picker
from explorer.ui.voice import cached_store, facilitator_ok, place_name, qr_png, say_url, vote_candidates
from explorer.ui.workshop import projector_layout
from explorer.voice.brief import md_escape
from explorer.voice.store import StoreError, themes

REFRESH_S = 3

city = city_picker()
projector_layout()  # large type, sidebar folded away (the facilitator's controls are there)
store = cached_store()

with st.sidebar.expander("Facilitator", expanded=False):
    base = st.text_input("Public address of this app (for the QR code)", key="proj_base",
                         placeholder="e.g. http://192.168.1.20:8501", help="Default: the address of this page.")
    facilitator = facilitator_ok()
    moderating = facilitator and st.toggle("Show hide buttons", key="proj_moderate")
    candidates = vote_candidates(city)
    if candidates and facilitator:
        src = st.selectbox("Scenario to put up for votes", list(candidates), key="proj_src")
        title = st.text_input("Title on screen", key="proj_title", max_chars=200)
        if st.button("Put up for votes", key="proj_post"):
            try:
                store.post_scenario(city.slug, title, candidates[src].to_json())
            except (StoreError, ValueError) as exc:
                st.error(md_escape(str(exc)))
    elif not candidates:
        st.caption("Open the What-if or Ask pages to make a scenario to put up for votes.")

link = say_url(city, base.strip() or None)
left, right = st.columns([1, 3])
left.image(qr_png(link), caption="Scan to have your say", width="stretch")
left.code(link, language=None, wrap_lines=True)


@st.fragment(run_every=REFRESH_S)
def live() -> None:
    """Tallies and themes, refreshed every few seconds."""
    tallies = store.tallies(city.slug)
    if tallies:
        st.subheader("Votes")
        for t in tallies:
            a, b, c = st.columns([3, 1, 1])
            a.markdown(f"**{md_escape(t.title)}**")
            b.metric("Worries me", t.up)
            c.metric("Not a concern", t.down)
    rows = store.feedback(city.slug)
    st.subheader(f"What the room says ({len(rows)})")
    if not rows:
        st.caption("Nothing yet: scan the code and write the first one.")
    for theme in themes(rows):
        st.markdown(f"#### {md_escape(theme.label)} ({len(theme.items)})")
        for r in theme.items:
            where = place_name(city, r.sensor_id, r.zone_id)
            line = f"“{md_escape(r.text)}”" + (f" — *{md_escape(where)}*" if where else "")
            if moderating:
                x, y = st.columns([6, 1])
                x.markdown(line)
                if y.button("Hide", key=f"proj_hide_{r.id}"):
                    store.set_hidden(r.id)
                    st.rerun(scope="fragment")
            else:
                st.markdown(line)


with right:
    st.title(f"Have your say: {city.name}")
    live()
