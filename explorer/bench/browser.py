"""Browser-side benchmarks in headless Chromium (Playwright): interaction latency, payload, cold start.

* **interaction**: (1) an hour step on the What-if map, in the browser: from the ``input`` event of the map's
  ``Hour`` control to the first frame drawn with the new hour, the rasteriser's work included (a one-pixel
  ``readPixels`` after the frame; colour transitions off), with no server rerun (websocket bytes counted);
  (2) a scenario change (the sidebar ``Start hour``: a full rerun, new samples) from the key press until the
  map has drawn the new scenario, and until the page is idle. The reference is the same key press on a
  trivial one-slider page (``bench/trivial_app.py``) in the same run, until its text changes and it is idle.
* **payload**: websocket bytes the browser receives (CDP ``Network.webSocketFrameReceived``, binary frames
  decoded from base64) per hour step, per scenario change, and for the What-if page's first load (which
  carries the city's layers).
* **cold start**: a fresh server started as the README does (``explorer app``) until the default page shows
  its map and is idle, against a fresh ``python -c "import torch, streamlit"``, alternated so both see the
  same machine load; also a plain ``streamlit run app.py`` and a one-map page, for comparison.
"""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from explorer.bench.common import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    ROOT,
    checkout_file,
    chromium,
    dist,
    ratio,
    streamlit_server,
)

STATUS_IDLE = """() => !document.querySelector('[data-testid="stStatusWidget"]')"""
MAP = '[data-testid="explorerDeckMap"]'
MAP_READY = f'{MAP}[data-ready="true"], [data-testid="stDeckGlJsonChart"] canvas'  # ours, or pydeck's chart
TARGET_INTERACTION = 1.5
TARGET_HOUR_STEP_MS = 100.0
TARGET_COLDSTART = 1.5
TARGET_PAYLOAD_BYTES = 300_000


class FrameCounter:
    """Bytes of websocket frames the page receives, through a CDP session (Chromium only); also whether a run
    finished after the page last sent What if's after-map trigger (decoded Streamlit messages)."""

    def __init__(self, page: Any) -> None:
        self.received = 0
        self.frames = 0
        self.triggers = 0  # after-map triggers the page sent
        self.finished_after_trigger = False  # a run finished (script_finished) since the last trigger
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Network.webSocketFrameReceived", self._on_frame)
        self.cdp.on("Network.webSocketFrameSent", self._on_sent)
        self.cdp.send("Network.enable")

    def _on_frame(self, event: dict) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        r = event["response"]
        data = r.get("payloadData", "")
        raw = base64.b64decode(data) if r.get("opcode") == 2 else data.encode()
        self.received += len(raw)
        self.frames += 1
        if self.triggers and not self.finished_after_trigger and r.get("opcode") == 2:
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            self.finished_after_trigger = msg.WhichOneof("type") == "script_finished" and msg.script_finished in (
                ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)

    def _on_sent(self, event: dict) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        r = event["response"]
        if r.get("opcode") != 2:
            return
        msg = BackMsg()
        msg.ParseFromString(base64.b64decode(r.get("payloadData", "")))
        if msg.WhichOneof("type") == "rerun_script" and any(
                w.WhichOneof("value") == "json_trigger_value" and w.id.endswith(AFTER_MAP_TRIGGER)
                for w in msg.rerun_script.widget_states.widgets):
            self.triggers += 1
            self.finished_after_trigger = False

    def take(self) -> int:
        """Bytes since the last call."""
        n, self.received = self.received, 0
        return n


AFTER_MAP_TRIGGER = "sc_after_map__events"  # What if's after-map trigger widget (explorer/ui/after_map.py, key)
AFTER_MAP_SENT_JS = "(t0) => { const s = window.__whatifAfterMap; return !!(s && s.last && s.last.t >= t0); }"
STAMP_JS = """() => [...document.querySelectorAll('strong')].map(e => e.innerText)
    .find(s => /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) .*:/.test(s)) || ''"""  # the time stamp beside the map
TRIVIAL_JS = """() => (document.body.innerText.match(/value \\d+/) || [''])[0]"""
CHANGED_JS = """([js, before]) => (0, eval)(js)() !== before"""


def press_slider(page: Any, slider_name: str, state_js: str, repeats: int,
           frames: FrameCounter | None = None) -> tuple[list[float], list[int], list[bool]]:
    """Step a slider with the arrow keys, sweeping to its end and back; per press the ms from the key press
    until the page shows a new state (``state_js``) and is idle, the bytes received and whether the state
    was new to this session (Streamlit's frontend caches messages it has seen: a revisit costs less)."""
    slider = page.get_by_role("slider", name=re.compile(f"^{re.escape(slider_name)}( |$)")).last
    times, sizes, fresh = [], [], []
    seen = {page.evaluate(state_js)}
    key = "ArrowRight"
    for _ in range(repeats):
        value, lo, hi = slider.evaluate("e => [e.value, e.min, e.max]")  # an <input type=range>
        if value == hi:
            key = "ArrowLeft"
        elif value == lo:
            key = "ArrowRight"
        slider.focus()
        page.wait_for_timeout(300)
        before = page.evaluate(state_js)
        if frames:
            frames.take()
        t0 = page.evaluate("() => performance.now()")
        page.keyboard.press(key)
        page.wait_for_function(CHANGED_JS, arg=[state_js, before], timeout=120_000)
        page.wait_for_function(STATUS_IDLE, timeout=120_000)
        times.append(page.evaluate("() => performance.now()") - t0)
        page.wait_for_timeout(300)  # trailing frames of this rerun
        if frames:
            sizes.append(frames.take())
        now = page.evaluate(state_js)
        fresh.append(now not in seen)
        seen.add(now)
    return times, sizes, fresh


def wait_ready(page: Any, timeout_ms: int = 180_000) -> None:
    page.wait_for_selector(MAP_READY, timeout=timeout_ms)
    page.wait_for_function(STATUS_IDLE, timeout=timeout_ms)


HOUR_STEP_JS = """async ([sel, hour]) => {
    const m = document.querySelector(sel), input = m.querySelector('input[aria-label="Hour"]');
    const t0 = performance.now();
    input.value = String(hour);
    input.dispatchEvent(new Event('input', {bubbles: true}));
    const log = window.__deckmap.log;
    for (;;) {
        const hit = log.find(r => r.id === 'sc_map' && r.hour === hour && r.t >= t0);
        if (hit) return hit.t - t0;
        await new Promise(r => setTimeout(r, 2));
    }
}"""
RENDERED_DATA = f"() => document.querySelector('{MAP}').dataset.renderedData"


def hour_steps(page: Any, repeats: int, frames: FrameCounter) -> tuple[list[float], list[int]]:
    """Hour steps on the What-if map in the browser: ms from the control's input event to the first frame drawn
    with that hour (rasteriser included), and the websocket bytes received meanwhile (0: no rerun)."""
    page.evaluate("() => { window.__deckmap.sync = true; window.__deckmap.noTransitions = true; }")
    hours = int(page.evaluate(f"() => document.querySelector('{MAP}').querySelector('input[aria-label=\"Hour\"]').max"))
    times, sizes = [], []
    hour = 0
    for i in range(repeats):
        hour = (hour + 1) % (hours + 1) if i else 0
        page.wait_for_timeout(200)
        frames.take()
        times.append(page.evaluate(HOUR_STEP_JS, [MAP, hour]))
        page.wait_for_timeout(300)  # anything the server might send would arrive now
        sizes.append(frames.take())
    page.evaluate("() => { window.__deckmap.sync = false; window.__deckmap.noTransitions = false; }")
    return times, sizes


def wait_details(page: Any, t0: float, frames: FrameCounter, triggers_before: int, timeout_ms: int = 120_000) -> None:
    """What if after a control's change: wait until the after-map component has sent its trigger (after ``t0``,
    page clock; the ``triggers_before + 1``-th the page sent), the run it asked for (the details fragment) has
    finished, and the page is idle. Without the first two, "idle" could be read in the gap between the map's
    run and the details' run."""
    page.wait_for_function(AFTER_MAP_SENT_JS, arg=t0, timeout=timeout_ms)
    end = time.monotonic() + timeout_ms / 1000
    while not (frames.triggers > triggers_before and frames.finished_after_trigger):  # (CDP events: while waiting)
        if time.monotonic() > end:
            raise TimeoutError("the details fragment did not run after the after-map trigger")
        page.wait_for_timeout(4)
    page.wait_for_function(STATUS_IDLE, timeout=timeout_ms)


def scenario_changes(page: Any, repeats: int, frames: FrameCounter) -> tuple[list[float], list[float], list[int]]:
    """Sidebar ``Start hour`` steps (the map's fragment reruns, new samples): ms from the key press until the map
    has drawn the new scenario, and until the details fragment the browser then asks for (charts, exports) has
    run and the page is idle; websocket bytes per change."""
    slider = page.get_by_role("slider", name=re.compile("^Start hour( |$)")).last
    to_map, to_idle, sizes = [], [], []
    key = "ArrowLeft"
    for _ in range(repeats):
        value, lo, hi = slider.evaluate("e => [e.value, e.min, e.max]")
        key = "ArrowLeft" if value == hi else "ArrowRight" if value == lo else key
        slider.focus()
        page.wait_for_timeout(300)
        before = page.evaluate(RENDERED_DATA)
        frames.take()
        triggers = frames.triggers
        t0 = page.evaluate("() => performance.now()")
        page.keyboard.press(key)
        page.wait_for_function(f"(b) => ({RENDERED_DATA})() !== b", arg=before, timeout=120_000)
        drawn = page.evaluate("([k, t0]) => window.__deckmap.log.find(r => r.data === k && r.t >= t0).t",
                              [page.evaluate(RENDERED_DATA), t0])
        wait_details(page, t0, frames, triggers)
        to_idle.append(page.evaluate("() => performance.now()") - t0)
        to_map.append(drawn - t0)
        page.wait_for_timeout(400)
        sizes.append(frames.take())
    return to_map, to_idle, sizes


def interaction_and_payload(repeats: int = 15, city: str = "los-angeles") -> dict[str, Any]:
    """Hour steps in the browser and scenario changes (app) against a trivial page, same run; websocket bytes."""
    sync_playwright = chromium()
    trivial_script, app_script = checkout_file("bench/trivial_app.py"), checkout_file("app.py")
    with streamlit_server(trivial_script) as (_, trivial_url), streamlit_server(app_script) as (_, app_url):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(trivial_url)
                page.wait_for_selector("text=value 0", timeout=60_000)
                trivial, _, _ = press_slider(page, "Hour", TRIVIAL_JS, repeats)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                frames = FrameCounter(page)
                t0 = time.perf_counter()
                page.goto(f"{app_url}/scenario?city={city}")
                wait_ready(page)
                first_load_ms = 1000 * (time.perf_counter() - t0)
                page.wait_for_timeout(1500)
                first_load_bytes = frames.take()
                hour_ms, hour_bytes = hour_steps(page, repeats, frames)
                scen_map, scen_idle, scen_bytes = scenario_changes(page, max(2, repeats // 2), frames)
            finally:
                browser.close()
    t, h, sm, si = dist(trivial), dist(hour_ms), dist(scen_map), dist(scen_idle)
    hb, sb = dist(hour_bytes), dist(scen_bytes)
    return {
        "interaction": {
            "city": city, "trivial_page_ms": t, "whatif_hour_step_ms": h, "whatif_scenario_to_map_ms": sm,
            "whatif_scenario_to_idle_ms": si, "hour_step_target_ms": TARGET_HOUR_STEP_MS,
            "hour_step_ratio_median": ratio(h["median"], t["median"]), "hour_step_ratio_p95": ratio(h["p95"], t["p95"]),
            "ratio_median": ratio(sm["median"], t["median"]), "ratio_p95": ratio(sm["p95"], t["p95"]),
            "scenario_idle_ratio_median": ratio(si["median"], t["median"]), "target_ratio": TARGET_INTERACTION,
            "first_load_ms": first_load_ms,
        },
        "payload": {
            "city": city, "hour_step_bytes": hb, "scenario_change_bytes": sb, "first_load_bytes": first_load_bytes,
            "ratio_max_to_target": ratio(sb["max"], TARGET_PAYLOAD_BYTES), "target_bytes": TARGET_PAYLOAD_BYTES,
        },
    }  # fmt: skip


def _import_time_s() -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, streamlit"], check=True, cwd=ROOT)
    return time.perf_counter() - t


def whatif_next_s(page: Any, url: str) -> float:
    """Seconds from asking for What if (a fresh page load of ``/scenario``) to its map drawn and the page idle."""
    t = time.perf_counter()
    page.goto(f"{url}/scenario")
    wait_ready(page)
    return time.perf_counter() - t


def _cold_page(browser: Any, script: Path, launcher: str, then_whatif: bool,
               after_warmup: bool = False) -> tuple[float, float, float | None]:
    """One fresh server: (seconds to /_stcore/health, to the page's map drawn and idle, then to What-if ready).

    ``after_warmup``: the visitor arrives once ``explorer app`` has logged its warm-up (the clock starts then)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    log = ROOT / "artifacts" / "bench-coldstart-server.log"
    t0 = time.perf_counter()
    try:
        with streamlit_server(script, launcher=launcher, log=log) as (_, url):
            health = time.perf_counter() - t0
            if after_warmup:
                end = time.monotonic() + 180
                while "warm-up of" not in log.read_text() and time.monotonic() < end:
                    time.sleep(0.2)
                t0 = time.perf_counter()
            page.goto(url)
            wait_ready(page)
            ready = time.perf_counter() - t0
            whatif = whatif_next_s(page, url) if then_whatif else None
    finally:
        ctx.close()
    return health, ready, whatif


def cold_start(repeats: int = 3) -> dict[str, Any]:
    """Fresh server + first page ready in Chromium, against a bare ``import torch, streamlit``, alternated.

    Timed the way the README starts the app (``explorer app``: caches warmed in the background), the plain
    ``streamlit run app.py`` (no warm-up), a one-map page (``bench/trivial_map_app.py``: what any deck.gl page
    costs here), and a first visitor who arrives once the warm-up is done (as in a workshop, where the server
    is started before people come; the clock starts at the visit).
    """
    sync_playwright = chromium()
    app_script, map_script = checkout_file("app.py"), checkout_file("bench/trivial_map_app.py")
    _import_time_s()  # the first import of a session also reads files from disk; not counted
    imports: list[float] = []
    runs: dict[str, dict[str, list[float]]] = {k: {"health": [], "ready": [], "whatif": []}
                                                for k in ("explorer", "streamlit", "map", "warmed")}  # fmt: skip
    cases = (("explorer", app_script, "explorer", True, False), ("streamlit", app_script, "streamlit", True, False),
             ("map", map_script, "streamlit", False, False), ("warmed", app_script, "explorer", True, True))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for _ in range(repeats):
                imports.append(_import_time_s())
                for name, script, launcher, whatif, after in cases:
                    h, r, w = _cold_page(browser, script, launcher, whatif, after)
                    runs[name]["health"].append(h)
                    runs[name]["ready"].append(r)
                    if w is not None:
                        runs[name]["whatif"].append(w)
        finally:
            browser.close()
    ms = {name: {k: dist([1000 * x for x in v]) for k, v in r.items() if v} for name, r in runs.items()}
    imp = dist([1000 * x for x in imports])
    doc, plain, one_map, warmed = ms["explorer"], ms["streamlit"], ms["map"], ms["warmed"]
    return {
        "import_torch_streamlit_ms": imp, "launcher": "explorer app",
        "first_page_ready_ms": doc["ready"], "server_health_ms": doc["health"],
        "whatif_ready_after_first_page_ms": doc["whatif"],
        "ratio_median": ratio(doc["ready"]["median"], imp["median"]), "target_ratio": TARGET_COLDSTART,
        "streamlit_run": {**plain, "ratio_median": ratio(plain["ready"]["median"], imp["median"])},
        "one_map_page": {**one_map, "ratio_median": ratio(one_map["ready"]["median"], imp["median"])},
        "after_warmup": {"ready": warmed["ready"], "whatif": warmed["whatif"],
                         "ratio_median": ratio(warmed["ready"]["median"], imp["median"])},
    }  # fmt: skip


__all__ = ["cold_start", "interaction_and_payload", "press_slider", "wait_ready"]
