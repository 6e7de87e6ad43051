"""Where a cold start's wall time goes: one fresh server, one Chromium page, a timeline of both.

    .venv/bin/python bench/coldstart_timeline.py [--runs 2] [--launcher explorer|streamlit] [--script app.py]

For each run: a fresh server (``explorer app`` as ``make app`` starts it, or ``streamlit run``), then Chromium opens
the default page until its map is drawn and the page idle (as ``explorer bench --only coldstart``). Printed, in
seconds from the server's start: /_stcore/health, the page's navigation, each script and stylesheet the page
loaded (start and end), every websocket message the page received above 5 kB and the script-run messages (with
their size), the map element in the DOM, the map drawn (``data-ready``), the page idle; and the server log's
warm-up line. No figures are kept: read it to see what waits on what.
"""

from __future__ import annotations

import argparse
import base64
import collections
import time
from pathlib import Path

from explorer.bench.browser import MAP, MAP_READY, STATUS_IDLE
from explorer.bench.common import CHROMIUM, CHROMIUM_FLAGS, ROOT, chromium, streamlit_server

RESOURCES_JS = """() => performance.getEntriesByType('resource').map(e => [e.name, e.initiatorType,
    e.startTime, e.responseEnd, e.transferSize || e.encodedBodySize])"""


def long_tasks(trace: Path, min_ms: float) -> list[tuple[float, str]]:
    """The renderer main thread's tasks over ``min_ms`` (ts in s on the trace's clock), with the scripts they ran
    and their GC, layout and paint time."""
    import json

    from profile_map import _threads

    raw = json.loads(trace.read_text())
    events = raw["traceEvents"] if isinstance(raw, dict) else raw
    names = _threads(events)
    main = [e for e in events if e.get("ph") == "X" and "dur" in e
            and names.get((e["pid"], e["tid"]), "").startswith("Renderer/CrRendererMain")]
    tasks = [e for e in main if e["name"] == "ThreadControllerImpl::RunTask" and e["dur"] >= min_ms * 1000]
    busy = collections.Counter()
    for e in events:
        if e.get("ph") == "X" and e.get("name") == "ThreadControllerImpl::RunTask":
            busy[names.get((e["pid"], e["tid"]), "?")] += e["dur"] / 1000
    out = []
    for t in tasks:
        lo, hi = t["ts"], t["ts"] + t["dur"]
        inner = collections.Counter()
        for e in main:
            if lo <= e["ts"] < hi and e is not t:
                d = e["dur"] / 1000
                if e["name"] in ("FunctionCall", "EvaluateScript", "v8.compileModule", "v8.evaluateModule",
                                 "v8.compile", "CompileCode"):
                    data = (e.get("args", {}).get("data", {}) or {})
                    url = data.get("url", "") or data.get("fileName", "") or "?"
                    inner[f"{e['name']} {url.rsplit('/', 1)[-1][:28]}"] += d
                elif e["name"] in ("Layout", "UpdateLayoutTree", "Paint", "MajorGC", "MinorGC", "V8.GC_MARK_COMPACTOR",
                                   "ParseHTML", "GLES2::ReadPixels", "WebGLRenderingContext::getProgramParameter",
                                   "CommandBufferProxyImpl::WaitForGetOffsetInRange"):
                    inner[e["name"]] += d
        top = ", ".join(f"{k} {v:.0f}" for k, v in inner.most_common(5))
        out.append((lo / 1e6, f"task {t['dur'] / 1000:.0f} ms: {top}"))
    out.append((float("inf"), "busy ms per thread: " + ", ".join(f"{k} {v:.0f}" for k, v in busy.most_common(8))))
    return out


def one_run(browser, script: Path, launcher: str, trace: Path | None = None,  # type: ignore[no-untyped-def]
            min_task_ms: float = 40, resources: bool = False) -> None:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    log = ROOT / "artifacts" / "coldstart-timeline-server.log"
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    events: list[tuple[float, str]] = []
    t0 = time.perf_counter()

    def at(what: str) -> None:
        events.append((time.perf_counter() - t0, what))

    cdp = ctx.new_cdp_session(page)

    def on_frame(event: dict) -> None:
        r = event["response"]
        if r.get("opcode") != 2:
            return
        raw = base64.b64decode(r.get("payloadData", ""))
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        kind = msg.WhichOneof("type")
        if len(raw) > 5000 or kind in ("new_session", "script_finished", "page_info_changed"):
            extra = ""
            if kind == "delta":
                d = msg.delta
                extra = f" {d.WhichOneof('type')}"
                if d.WhichOneof("type") == "new_element":
                    extra += f":{d.new_element.WhichOneof('type')}"
            at(f"ws {kind}{extra} {len(raw) / 1000:.0f} kB")

    cdp.on("Network.webSocketFrameReceived", on_frame)
    cdp.send("Network.enable")
    try:
        with streamlit_server(script, launcher=launcher, log=log) as (_, url):
            at("health")
            if trace is not None:
                from profile_map import TRACE_CATEGORIES

                browser.start_tracing(page=page, path=str(trace), categories=TRACE_CATEGORIES)
                page.evaluate("() => performance.mark('xdm-start')")
                trace_t0 = time.perf_counter() - t0
            nav = time.perf_counter() - t0
            page.goto(url, wait_until="commit")
            at("page committed")
            page.wait_for_selector(f'{MAP}, [data-testid="stDeckGlJsonChart"]', timeout=180_000)
            at("map element in DOM")
            page.wait_for_selector(MAP_READY, timeout=180_000)
            at("map drawn")
            page.wait_for_function(STATUS_IDLE, timeout=180_000)
            at("idle")
            for name, kind, start, end, size in page.evaluate(RESOURCES_JS) if resources else []:
                if kind in ("script", "link", "other", "fetch") or name.endswith((".js", ".css")):
                    short = name.split("/")[-1][:40]
                    events.append((nav + start / 1000, f"  {kind} {short} start ({size / 1000:.0f} kB)"))
                    events.append((nav + end / 1000, f"  {kind} {short} end"))
            time.sleep(0.5)
            if trace is not None:
                browser.stop_tracing()
                tasks = long_tasks(trace, min_task_ms)
                import json

                raw = json.loads(trace.read_text())
                evs = raw["traceEvents"] if isinstance(raw, dict) else raw
                mark = min(e["ts"] for e in evs if e.get("name") == "xdm-start") / 1e6
                events += [(trace_t0 + ts - mark, what) for ts, what in tasks]
    finally:
        ctx.close()
    for t, what in sorted(events):
        print(f"{t:7.2f}  {what}")
    for line in log.read_text().splitlines():
        if "warm-up" in line:
            print("server:", line.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--launcher", default="explorer", choices=("explorer", "streamlit"))
    ap.add_argument("--script", default="app.py")
    ap.add_argument("--trace", action="store_true", help="Chromium trace: the page's long main-thread tasks")
    ap.add_argument("--resources", action="store_true", help="list the scripts and stylesheets loaded")
    args = ap.parse_args()
    with chromium()() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for i in range(args.runs):
                print(f"--- run {i + 1} ({args.launcher}, {args.script})")
                one_run(browser, ROOT / args.script, args.launcher,
                        ROOT / "artifacts" / f"coldstart-trace-{i}.json" if args.trace else None,
                        resources=args.resources)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
