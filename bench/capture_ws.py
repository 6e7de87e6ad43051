"""Record the websocket messages a real browser exchanges with the app during one What-if scenario change
(the sidebar ``Start hour``), decoded: what the bench's websocket client must reproduce.

    .venv/bin/python bench/capture_ws.py [--city los-angeles] [--changes 2]

Prints, per message, the direction, time (ms from the key press), BackMsg rerun_script's fragment id and widget
states (id, value kind, value for the small ones), ForwardMsg script_started/finished and the fragment id of
each delta's element kind.
"""

from __future__ import annotations

import argparse
import re
import time

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from explorer.bench.browser import RENDERED_DATA, wait_ready
from explorer.bench.common import CHROMIUM, CHROMIUM_FLAGS, checkout_file, chromium, streamlit_server


def _short(v: object) -> str:
    s = str(v).replace("\n", " ")
    return s if len(s) < 90 else s[:87] + "..."


def describe_back(data: bytes) -> str:
    m = BackMsg()
    m.ParseFromString(data)
    kind = m.WhichOneof("type")
    if kind != "rerun_script":
        return f"BackMsg {kind}"
    cs = m.rerun_script
    ws = [f"{w.id[-50:]}={w.WhichOneof('value')}:{_short(getattr(w, w.WhichOneof('value') or 'id'))}"
          for w in cs.widget_states.widgets]
    return (f"BackMsg rerun_script fragment={cs.fragment_id!r} page={cs.page_name!r} n_widgets={len(ws)}\n      "
            + "\n      ".join(ws))


def describe_fwd(data: bytes) -> str:
    m = ForwardMsg()
    m.ParseFromString(data)
    kind = m.WhichOneof("type")
    if kind == "delta":
        d = m.delta
        which = d.WhichOneof("type")
        el = d.new_element.WhichOneof("type") if which == "new_element" else which
        extra = ""
        if el == "bidi_component":
            extra = f" name={d.new_element.bidi_component.component_name} id={d.new_element.bidi_component.id[-30:]}"
        return f"delta {el} fragment={d.fragment_id!r}{extra}"
    if kind == "script_finished":
        return f"script_finished {ForwardMsg.ScriptFinishedStatus.Name(m.script_finished)}"
    if kind == "new_session":
        return "new_session"
    if kind == "session_status_changed":
        return f"session_status script_running={m.session_status_changed.script_is_running}"
    if kind == "ref_hash":
        return "ref_hash"
    return kind or "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--city", default="los-angeles")
    ap.add_argument("--changes", type=int, default=2)
    args = ap.parse_args()
    log: list[tuple[float, str, bytes]] = []

    def hook(ws) -> None:
        if "_stcore/stream" not in ws.url:
            return
        ws.on("framesent", lambda p: log.append((time.perf_counter(), ">", p if isinstance(p, bytes) else p.encode())))
        ws.on("framereceived",
              lambda p: log.append((time.perf_counter(), "<", p if isinstance(p, bytes) else p.encode())))

    with streamlit_server(checkout_file("app.py")) as (_, url), chromium()() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("websocket", hook)
        page.goto(f"{url}/scenario?city={args.city}")
        wait_ready(page)
        page.wait_for_timeout(3000)
        slider = page.get_by_role("slider", name=re.compile("^Start hour( |$)")).last
        for k in range(args.changes):
            slider.focus()
            page.wait_for_timeout(500)
            before = page.evaluate(RENDERED_DATA)
            log.clear()
            t0 = time.perf_counter()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(f"(b) => ({RENDERED_DATA})() !== b", arg=before, timeout=120_000)
            page.wait_for_timeout(3000)
            print(f"=== change {k + 1}; window.__whatifAfterMap =",
                  page.evaluate("() => JSON.stringify(window.__whatifAfterMap && window.__whatifAfterMap.last)"))
            for t, d, data in list(log):
                text = describe_back(data) if d == ">" else describe_fwd(data)
                print(f"{1000 * (t - t0):8.1f} ms {d} {text}")
        browser.close()


if __name__ == "__main__":
    main()
