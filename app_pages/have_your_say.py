"""Have your say (phone-friendly): leave feedback, optionally about a place, and vote on posted scenarios."""

import streamlit as st

from explorer.scenarios.schema import PlaceKey
from explorer.ui.scenario_controls import place_options
from explorer.ui.state import city_picker
from explorer.ui.voice import cached_store, session_hash
from explorer.voice.brief import md_escape
from explorer.voice.store import MAX_TEXT, StoreError

PHONE_CSS = """<style>
.block-container { max-width: 640px !important; padding: 1rem 0.8rem !important; }
[data-testid="stButton"] button { min-height: 3rem; font-size: 1.05rem; width: 100%; }
textarea { font-size: 1.05rem !important; }
</style>"""

city = city_picker()
st.markdown(PHONE_CSS, unsafe_allow_html=True)  # constant CSS, no user text
store = cached_store()
me = session_hash()
ss = st.session_state
opts = {"": "Anywhere / not about one place"} | place_options(city)


def _send() -> None:
    place = ss.get("hys_place", "")
    key = PlaceKey.parse(place) if place else None  # "": not about one place
    try:
        store.add_feedback(city.slug, ss.get("hys_text", ""), me, sensor_id=key.sensor_id if key else None,
                           zone_id=key.zone_id if key else None)
    except StoreError as exc:
        ss.hys_msg = ("error", str(exc))
        return
    ss.hys_msg = ("ok", "Thank you, your feedback is on the projector.")
    ss.hys_text = ""


st.title(f"Have your say: {city.name}")
st.caption("Anonymous: we keep your words and the place you pick, nothing about you.")
st.text_area("What worries you, or what would you like to see?", key="hys_text", max_chars=MAX_TEXT, height=120)
st.selectbox("About a place (optional)", list(opts), format_func=opts.get, key="hys_place")
st.button("Send", key="hys_send", type="primary", on_click=_send, width="stretch")
kind, msg = ss.pop("hys_msg", ("", ""))
if kind == "ok":
    st.success(msg)
elif kind == "error":
    st.error(md_escape(msg))

tallies = store.tallies(city.slug)
if tallies:
    st.subheader("Vote on the scenarios on screen")
mine = store.my_votes(me)
for t in tallies:
    with st.container(border=True):
        st.markdown(f"**{md_escape(t.title)}**")
        up, down = st.columns(2)
        voted = mine.get(t.scenario_id)
        for col, value, label in ((up, 1, "Worries me"), (down, -1, "Not a concern")):
            chosen = " ✓" if voted == value else ""
            if col.button(label + chosen, key=f"hys_vote_{t.scenario_id}_{value}", width="stretch"):
                try:
                    store.vote(t.scenario_id, me, value)
                    st.rerun()
                except StoreError as exc:
                    st.error(md_escape(str(exc)))
