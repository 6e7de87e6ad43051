"""Where an hour step of the browser map goes, in headless Chromium with software WebGL (SwiftShader).

    .venv/bin/python bench/profile_map.py [--url http://127.0.0.1:8501] [--steps 12] [--out artifacts/profile]

Opens the What-if page (Los Angeles; a fresh ``streamlit run app.py`` unless ``--url``) and reports:

1. **phases of an hour step**, from the Hour control's ``input`` event: the component's own work (``js``: the
   hour's colours and heights and new layer objects, ``layers``, then ``deck.setProps``, ``set_props``, where
   deck.gl updates the layers and recomputes the attributes that changed), the wait for the next animation
   frame, the draw calls issued (``draw_calls``), and the wait until the software rasteriser has drawn the
   frame (``raster``: a one-pixel ``readPixels``, as ``explorer bench`` does); medians over ``--steps``;
2. **the draw alone, per layer**: the same frame redrawn (no attribute change) with all layers, then without
   each layer group, then with none (the canvas' clear and copy), so each layer's share of the rasteriser's
   time is measured, not guessed;
3. **a Chromium trace** of a few steps (``--out``/map-trace.json, open it in chrome://tracing or Perfetto): busy
   time per process and thread while stepping, and on the page's main thread the time in JavaScript, layout,
   paint and waits on the GPU process;
4. **a scenario change** (the sidebar's Start hour: a full rerun), ``--changes`` times, each traced
   (map-change-N.json): from the key press, when the new scenario's payload reached the browser, when the map
   had drawn it and when the page was idle; and, between the key press and the map drawn, the page's main
   thread time per script (Streamlit's bundle, Plotly's, the map's) and in layout, paint and GC.

The browser runs with the same flags as the benchmarks (``explorer.bench.common.CHROMIUM_FLAGS``).
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from explorer.bench.browser import MAP, wait_ready
from explorer.bench.common import CHROMIUM, CHROMIUM_FLAGS, ROOT, checkout_file, chromium, streamlit_server

INSTRUMENT_JS = """(sel) => {
    const view = document.querySelector(sel).parentNode.__xdm, deck = view.deck, P = window.__prof = {steps: []};
    const gl = deck.device.gl;
    const wrap = (obj, name, tag) => {
        const f = obj[name].bind(obj);
        obj[name] = (...a) => { const t = performance.now(); const r = f(...a);
                                if (P.cur) P.cur[tag] = [t, performance.now()]; return r; };
    };
    wrap(view, 'render', 'render');
    wrap(view, 'layers', 'layers');
    wrap(deck, 'setProps', 'setProps');
    wrap(deck.deckRenderer, 'renderLayers', 'draw');
    P.canvas = [gl.drawingBufferWidth, gl.drawingBufferHeight, window.devicePixelRatio];
    P.layers = () => deck.layerManager.getLayers().map(l => l.id);
}"""

STEP_JS = """async ([sel, hour]) => {
    const m = document.querySelector(sel), input = m.querySelector('input[aria-label="Hour"]'), P = window.__prof;
    P.cur = {};
    const t0 = performance.now();
    input.value = String(hour);
    input.dispatchEvent(new Event('input', {bubbles: true}));
    const log = window.__deckmap.log;
    for (;;) {
        const hit = log.find(r => r.id === 'sc_map' && r.hour === hour && r.t >= t0);
        if (hit) {
            const c = P.cur, span = (k) => c[k] ? c[k][1] - c[k][0] : NaN;
            P.cur = null;
            return {total: hit.t - t0, js: span('render'), layers: span('layers'), set_props: span('setProps'),
                    wait_frame: c.draw ? c.draw[0] - c.render[1] : NaN, draw_calls: span('draw'),
                    raster: c.draw ? hit.t - c.draw[1] : NaN};
        }
        await new Promise(r => setTimeout(r, 2));
    }
}"""

# Redraw the current frame without changing anything, leaving out the layers whose id starts with one of `drop`;
# the time until a one-pixel readPixels returns is the draw plus the rasteriser's work.
REDRAW_JS = """async ([sel, drop, n]) => {
    const deck = document.querySelector(sel).parentNode.__xdm.deck, gl = deck.device.gl;
    const layers = deck.layerManager.getLayers().filter(l => !drop.some(p => l.id.startsWith(p)));
    const times = [];
    for (let i = 0; i < n + 1; i++) {
        await new Promise(r => requestAnimationFrame(r));
        const t = performance.now();
        deck._drawLayers('profile', {layers});
        gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
        if (i) times.push(performance.now() - t);  // the first draw of a new layer set is left out
    }
    deck.redraw('profile');
    return times;
}"""

TRACE_CATEGORIES = ["blink.user_timing", "toplevel", "v8", "v8.execute", "devtools.timeline", "blink", "cc", "gpu",
                    "viz", "disabled-by-default-devtools.timeline", "disabled-by-default-gpu.service"]


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def phases(page: Any, steps: int) -> dict[str, float]:
    page.evaluate("() => { window.__deckmap.sync = true; window.__deckmap.noTransitions = true; }")
    H = int(page.evaluate(f"() => document.querySelector('{MAP}').querySelector('input[aria-label=\"Hour\"]').max"))
    rows = []
    for i in range(steps):
        page.wait_for_timeout(200)
        rows.append(page.evaluate(STEP_JS, [MAP, (i + 1) % (H + 1)]))
    return {k: _median([r[k] for r in rows]) for k in rows[0]}


def draw_by_layer(page: Any, n: int) -> dict[str, float]:
    """Median ms to redraw the frame with every layer, without each group, and with none."""
    ids = page.evaluate("() => window.__prof.layers()")
    groups = {"roads": ["roads"], "zones (fill + outlines)": ["zones", "zone-lines"], "sensors": ["sensors"]}
    groups = {k: v for k, v in groups.items() if any(i.startswith(tuple(v)) for i in ids)}
    out = {"all layers": _median(page.evaluate(REDRAW_JS, [MAP, [], n]))}
    for name, drop in groups.items():
        out[f"without {name}"] = _median(page.evaluate(REDRAW_JS, [MAP, drop, n]))
    out["no layer (clear only)"] = _median(page.evaluate(REDRAW_JS, [MAP, ids, n]))
    return out


def _threads(events: list[dict]) -> dict[tuple[int, int], str]:
    procs = {e["pid"]: e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "process_name"}
    return {(e["pid"], e["tid"]): f"{procs.get(e['pid'], e['pid'])}/{e['args']['name']}"
            for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}


def summarise_trace(path: Path, top: int = 12) -> str:
    """Busy ms per thread (top-level tasks) and, on the renderer's main thread, the main kinds of work."""
    raw = json.loads(path.read_text())
    events = raw["traceEvents"] if isinstance(raw, dict) else raw
    names = _threads(events)
    busy: collections.Counter[str] = collections.Counter()
    main_kinds: collections.Counter[str] = collections.Counter()
    for e in events:
        if e.get("ph") != "X" or "dur" not in e:
            continue
        who = names.get((e["pid"], e["tid"]), f"{e['pid']}/{e['tid']}")
        if e.get("name") == "ThreadControllerImpl::RunTask":
            busy[who] += e["dur"] / 1000
        if who.startswith("Renderer/CrRendererMain") and e.get("name") in (
                "FunctionCall", "FireAnimationFrame", "EventDispatch", "TimerFire", "v8.callFunction",
                "UpdateLayoutTree", "Layout", "PrePaint", "Paint", "Layerize", "Commit", "MinorGC", "MajorGC",
                "V8.GC_SCAVENGER", "V8.GC_MARK_COMPACTOR", "CommandBufferProxyImpl::WaitForGetOffsetInRange",
                "CommandBufferProxyImpl::WaitForTokenInRange", "GLES2Implementation::ReadPixels",
                "GLES2::ReadPixels", "CommandBufferHelper::Finish"):
            main_kinds[e["name"]] += e["dur"] / 1000
    lines = ["busy ms per thread (top-level tasks):"]
    lines += [f"  {ms:8.0f}  {who}" for who, ms in busy.most_common(top)]
    lines += ["renderer main thread, by kind (nested kinds overlap):"]
    lines += [f"  {ms:8.0f}  {k}" for k, ms in main_kinds.most_common(top)]
    return "\n".join(lines)


CHANGE_JS = """async ([sel]) => {
    const m = document.querySelector(sel), before = m.dataset.renderedData;
    performance.mark('xdm-press');
    return [performance.now(), before];
}"""
AFTER_JS = """([sel, t0, before]) => {
    const m = document.querySelector(sel), S = window.__deckmap, key = m.dataset.renderedData;
    const carried = (S.carried || []).find(c => c.key === key && c.t >= t0);
    const drawn = S.log.find(r => r.data === key && r.t >= t0);
    return {payload: carried ? carried.t - t0 : null, map: drawn ? drawn.t - t0 : null};
}"""


def _main_thread_by_script(path: Path) -> dict[str, float]:
    """Main-thread ms per script URL (FunctionCall and timer / frame callbacks, by the script they run) and in
    layout, paint and GC, between the 'xdm-press' and 'xdm-drawn' marks of a trace."""
    raw = json.loads(path.read_text())
    events = raw["traceEvents"] if isinstance(raw, dict) else raw
    names = _threads(events)
    marks = {e["name"]: e["ts"] for e in events if e.get("name") in ("xdm-press", "xdm-drawn")}
    lo, hi = marks.get("xdm-press", 0), marks.get("xdm-drawn", float("inf"))
    out: collections.Counter[str] = collections.Counter()
    for e in events:
        if e.get("ph") != "X" or "dur" not in e or not lo <= e["ts"] <= hi:
            continue
        if not names.get((e["pid"], e["tid"]), "").startswith("Renderer/CrRendererMain"):
            continue
        if e["name"] == "FunctionCall":
            url = (e.get("args", {}).get("data", {}) or {}).get("url", "") or "?"
            out["js " + url.rsplit("/", 1)[-1].split("?")[0][:40]] += e["dur"] / 1000
        elif e["name"] in ("Layout", "UpdateLayoutTree", "Paint", "PrePaint", "MajorGC", "MinorGC", "ParseHTML",
                           "GLES2::ReadPixels"):
            out[e["name"]] += e["dur"] / 1000
    out["window"] = (hi - lo) / 1000 if hi != float("inf") else float("nan")
    return dict(out)


def scenario_changes(browser: Any, page: Any, n: int, out: Path) -> None:
    """Start-hour key presses, each traced: payload arrival, map drawn, idle; main-thread time by script."""
    import re

    from explorer.bench.browser import RENDERED_DATA, STATUS_IDLE

    slider = page.get_by_role("slider", name=re.compile("^Start hour( |$)")).last
    for i in range(n):
        slider.focus()
        page.wait_for_timeout(500)
        trace = out / f"map-change-{i}.json"
        browser.start_tracing(page=page, path=str(trace), categories=TRACE_CATEGORIES)
        t0, before = page.evaluate(CHANGE_JS, [MAP])
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        page.wait_for_function(f"(b) => ({RENDERED_DATA})() !== b", arg=before, timeout=120_000)
        page.evaluate("() => performance.mark('xdm-drawn')")
        page.wait_for_function(STATUS_IDLE, timeout=120_000)
        idle = page.evaluate("(t0) => performance.now() - t0", t0)
        page.wait_for_timeout(300)
        browser.stop_tracing()
        at = page.evaluate(AFTER_JS, [MAP, t0, before])
        parts = _main_thread_by_script(trace)
        top = sorted(((k, v) for k, v in parts.items() if k != "window"), key=lambda kv: -kv[1])[:8]
        print(f"change {i}: payload in the browser {at['payload']:.0f} ms, map drawn {at['map']:.0f} ms, "
              f"idle {idle:.0f} ms; main thread until the map (window {parts['window']:.0f} ms): "
              + ", ".join(f"{k} {v:.0f}" for k, v in top))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=None, help="a running app (else a fresh `streamlit run app.py`)")
    ap.add_argument("--city", default="los-angeles")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--changes", type=int, default=3, help="traced scenario changes (0: none)")
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=ROOT / "artifacts" / "profile")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    server = nullcontext((None, args.url)) if args.url else streamlit_server(checkout_file("app.py"))
    with server as (_, url), chromium()() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.goto(f"{url}/scenario?city={args.city}")
            wait_ready(page)
            page.wait_for_timeout(2000)
            page.evaluate(INSTRUMENT_JS, MAP)
            print(f"canvas (w, h, devicePixelRatio): {page.evaluate('() => window.__prof.canvas')}; "
                  f"layers: {page.evaluate('() => window.__prof.layers()')}")
            ph = phases(page, args.steps)
            print("hour step, median ms: " + ", ".join(f"{k} {v:.1f}" for k, v in ph.items()))
            print("redraw of the same frame, median ms: "
                  + ", ".join(f"{k} {v:.1f}" for k, v in draw_by_layer(page, args.steps).items()))
            trace = args.out / "map-trace.json"
            browser.start_tracing(page=page, path=str(trace), categories=TRACE_CATEGORIES)
            phases(page, 6)
            browser.stop_tracing()
            print(f"trace of 6 steps: {trace}\n{summarise_trace(trace)}")
            if args.changes:
                scenario_changes(browser, page, args.changes, args.out)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
