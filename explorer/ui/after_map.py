"""What if draws its map before its charts: after a scenario control's rerun of the map's fragment, the browser asks
for the details fragment (charts, save/load, exports) once the new map has been drawn.

Why: a Streamlit rerun's elements reach the page as one burst; the page renders them in one React commit, and two
Plotly charts in that commit held the map back by ~0.2 s on the 2-core box (docs/performance.md). Here the controls,
numbers and map are one fragment; when it reran alone (a control moved), a small invisible component waits until
the map element shows the new scenario (``data-rendered-data``, set by the map after its frame; at most
``WAIT_MS``), then sends a trigger whose callback reruns only the details fragment. On a full run both fragments
run in the same pass and the component stays idle. Without JavaScript (AppTest) only full runs happen.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from functools import cache
from typing import Any

import streamlit as st

COMPONENT = "urban-whatif-explorer.after-map"
DETAILS = "sc_details"  # the details fragment's key (st.fragment(key=...))
WAIT_MS = 3000  # ask for the details anyway after this long (a map that failed to draw)
_JS = """
export default function afterMap({ data, parentElement, setTriggerValue }) {
  const node = parentElement instanceof ShadowRoot ? parentElement.host : parentElement;
  const box = node && node.closest && node.closest('[data-testid="stElementContainer"]');
  if (box) box.style.display = "none";
  const d = data || {}, S = (window[d.state] = window[d.state] || { fired: [] });
  if (!d.token || S.fired.includes(d.token)) return;
  S.fired.push(d.token);
  if (S.fired.length > 50) S.fired.splice(0, S.fired.length - 50);
  const t0 = performance.now();
  const drawn = () => [...document.querySelectorAll('[data-testid="explorerDeckMap"]')]
    .some((m) => m.dataset.renderedData === d.data);
  const step = () => {
    if (drawn() || performance.now() - t0 > d.wait_ms) {
      S.last = { token: d.token, waited: performance.now() - t0, t: performance.now() };
      setTriggerValue("ready", d.token);
    } else setTimeout(step, 8);
  };
  step();
}
"""


@cache
def mount(name: str) -> Any:
    """The invisible after-map component registered as ``name``: given ``data={"token", "data", "wait_ms",
    "state"}``, once the page's map shows ``data`` (or after ``wait_ms``) it sends the trigger ``ready`` = token
    (once per token) and records it in ``window[state].last``."""
    return st.components.v2.component(name, js=_JS)


def page_run(state: MutableMapping[str, Any]) -> None:
    """Count the page's full runs (call in the page body, outside the fragments)."""
    state["sc_page_runs"] = state.get("sc_page_runs", 0) + 1


def fragment_only(state: MutableMapping[str, Any]) -> bool:
    """Whether the map's fragment runs alone (a control moved), not as part of a full run; call once per run."""
    runs = state.get("sc_page_runs", 0)
    alone = state.get("sc_map_fragment_seen") == runs
    state["sc_map_fragment_seen"] = runs
    return alone


def _details_now() -> None:
    st.rerun(DETAILS)


def details_after_map(map_data_key: str, armed: bool) -> None:
    """The invisible component: when ``armed``, once the map shows ``map_data_key``, rerun the details fragment."""
    state = st.session_state
    state["sc_after_map_n"] = n = state.get("sc_after_map_n", 0) + 1
    token = f"{map_data_key}#{n}" if armed else None
    mount(COMPONENT)(data={"token": token, "data": map_data_key, "wait_ms": WAIT_MS, "state": "__whatifAfterMap"},
                     key="sc_after_map", on_ready_change=_details_now)
