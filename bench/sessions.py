"""Drive many Streamlit sessions at once over the real websocket protocol (no browser).

    .venv/bin/python bench/sessions.py http://127.0.0.1:8501 --sessions 30 --duration 40 [--pid SERVER_PID]

Each session is what a browser tab is to the server: a websocket at ``/_stcore/stream`` speaking Streamlit's own
protobufs (``BackMsg.rerun_script`` with widget states out, ``ForwardMsg`` deltas and ``script_finished`` back).
A session opens the What-if page, reads the widgets from the deltas, then repeatedly moves one of the
scenario sliders (start hour, hours to simulate, event size, reach) to a random value and waits until the
server has finished the rerun.

Like a browser, a session sends the state of **every** widget the last run drew, not only the one it moved
(each widget's value as the page set it, else the one this client chose, else the widget's default; widgets the
last run did not draw are dropped, as Streamlit's frontend does), and it keeps the large messages it received
(``metadata.cacheable``) and reports their hashes, so the server answers an unchanged large element (the map's
payload carriers) with a reference, as it does for a browser. Without the first, Streamlit resets every keyed
widget the client leaves out to its default on the next rerun (the scenario falls back to hour 0, two hours,
no event); without the second, every rerun would carry the map's layers again.

About 1 MB of client memory and a few ms of CPU per rerun, against ~150 MB and a full CPU for each headless
Chromium page, so 30 sessions fit on a 2-core machine.

API (also used by ``explorer bench``)::

    from bench.sessions import drive_sessions
    res = drive_sessions("http://127.0.0.1:8501", 30, duration_s=40, server_pid=proc.pid)
    res["latencies_s"], res["errors"], res["error_samples"], res["rss_before_mb"], res["rss_after_mb"]

An error is anything a user would see as a failure: a Python exception shown by the page, an ``st.error``
message, a script that does not compile, a page not found, a dropped websocket or a rerun slower than
``rerun_timeout_s``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["drive_sessions", "server_rss_mb", "SCENARIO_SLIDERS"]

# (label prefix on the What-if page, low, high, step, where the value lands in the scenario the page then puts
# in its address bar); the labels are those of explorer/ui/scenario_controls.py
SCENARIO_SLIDERS: tuple[tuple[str, float, float, float, str], ...] = (
    ("Start hour", 0, 23, 1, "start_hour"),
    ("Hours to simulate", 6, 24, 1, "horizon_hours"),
    ("Extra people per hour", 500, 50000, 500, "events.0.magnitude"),
    ("Percent slower", 5, 90, 5, "events.0.magnitude"),
    ("Reach (km)", 0.0, 3.0, 0.1, "events.0.reach_km"),
)
VALUE_KINDS = ("slider", "select_slider", "checkbox", "toggle", "selectbox", "radio", "number_input", "text_input",
               "text_area")  # widgets whose value the frontend holds (and sends) from the moment they are drawn
WIDGET_KINDS = ("slider", "selectbox", "checkbox", "toggle", "button", "text_input", "text_area", "number_input",
                "radio", "button_group", "select_slider")


def server_rss_mb(pid: int) -> float | None:
    """Resident memory of a process (and its children, for ``streamlit run``'s single process) in MB, Linux."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class _Stats:
    latencies_s: list[float] = field(default_factory=list)
    first_s: list[float] = field(default_factory=list)  # the page's first run in each session
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    runs: int = 0
    bytes_in: int = 0
    references: int = 0  # large messages the server sent as a reference to this client's copy
    acked: list[str] = field(default_factory=list)  # feedback texts the page thanked for

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 20:
            self.error_samples.append(what[:300])


class _Session:
    """One simulated browser tab."""

    def __init__(self, ws_url: str, page: str, query: str, stats: _Stats, rng: random.Random,
                 rerun_timeout_s: float) -> None:
        self.ws_url, self.page, self.query = ws_url, page, query
        self.stats, self.rng, self.timeout = stats, rng, rerun_timeout_s
        self.widgets: dict[str, tuple[str, Any]] = {}  # label -> (kind, proto element)
        self.states: dict[str, Any] = {}  # widget id -> WidgetState, every widget drawn by the last run
        self.drawn: set[str] = set()  # widget ids drawn by the run in progress
        self.cache: dict[str, tuple[Any, int]] = {}  # hash -> (cacheable ForwardMsg, run count when last used)
        self.run_count = 0
        self.expect: tuple[str, float] | None = None  # (scenario field, value) the last change asked for
        self.alerts: list[tuple[int, str]] = []  # (Alert.Format, body) drawn by the last run

    def _client_state(self) -> Any:
        from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
        from streamlit.proto.WidgetStates_pb2 import WidgetStates

        return ClientState(query_string=self.query, page_name=self.page,
                           widget_states=WidgetStates(widgets=list(self.states.values())),
                           cached_message_hashes=list(self.cache),
                           context_info=ContextInfo(timezone="UTC", timezone_offset=0, locale="en-US",
                                                    url=self.ws_url.replace("ws", "http", 1)))

    async def _rerun(self, ws: Any) -> float:
        """Ask for a rerun with this client's widget states; wait for a full run to finish; latency in s."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        t0 = time.perf_counter()
        self.alerts = []
        self.drawn = set()
        await ws.send(BackMsg(rerun_script=self._client_state()).SerializeToString())
        deadline = t0 + self.timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"no finished rerun within {self.timeout:.0f} s")
            data = await asyncio.wait_for(ws.recv(), left)
            self.stats.bytes_in += len(data)
            msg = ForwardMsg()
            msg.ParseFromString(data)
            msg = self._resolve(msg)
            if msg is None:
                continue
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta.new_element)
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string  # the address bar, sent back like a browser
            elif kind == "page_not_found":
                self.stats.error(f"page not found: {msg.page_not_found.page_name}")
            elif kind == "script_finished":
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    self.stats.error("script compile error")
                if status in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR):
                    self.stats.runs += 1
                    self._finish_run()
                    latency = time.perf_counter() - t0
                    self._check_applied()
                    return latency

    def _resolve(self, msg: Any) -> Any:
        """A reference to a message this client holds becomes that message (None if it is not held); a large
        message is kept for later references, as Streamlit's frontend does."""
        if msg.WhichOneof("type") == "ref_hash":
            hit = self.cache.get(msg.ref_hash)
            if hit is None:
                self.stats.error(f"reference to a message this client does not hold: {msg.ref_hash}")
                return None
            self.cache[msg.ref_hash] = (hit[0], self.run_count)
            self.stats.references += 1
            return hit[0]
        if msg.metadata.cacheable and msg.hash:
            self.cache[msg.hash] = (msg, self.run_count)
        return msg

    def _finish_run(self) -> None:
        """End of a full run: forget the states of widgets it did not draw and messages not used for
        ``global.maxCachedMessageAge`` (2) runs, as the frontend does."""
        self.states = {k: v for k, v in self.states.items() if k in self.drawn}
        self.run_count += 1
        self.cache = {h: (m, used) for h, (m, used) in self.cache.items() if self.run_count - used <= 2}

    def _check_applied(self) -> None:
        """The scenario in the page's address bar must hold the value this client just set."""
        if self.expect is None:
            return
        path, want = self.expect
        self.expect = None
        blob = parse_qs(self.query).get("s", [""])[0]
        try:
            got: Any = json.loads(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4)))
            for part in path.split("."):
                got = got[int(part)] if isinstance(got, list) else got[part]
        except (ValueError, KeyError, IndexError, TypeError):
            got = None
        if got is None or abs(float(got) - want) > 1e-6:
            self.stats.error(f"change not applied: {path} = {got}, expected {want}")

    def _element(self, el: Any) -> None:
        from streamlit.proto.Alert_pb2 import Alert

        which = el.WhichOneof("type")
        if which == "alert":
            self.alerts.append((el.alert.format, el.alert.body))
        if which == "exception":
            self.stats.error(f"exception: {el.exception.type}: {el.exception.message}")
        elif which == "alert" and el.alert.format == Alert.ERROR:
            self.stats.error(f"st.error: {el.alert.body}")
        elif which in WIDGET_KINDS:
            w = getattr(el, which)
            if getattr(w, "id", ""):
                self.drawn.add(w.id)
                state = _widget_state(which, w, self.states.get(w.id))
                if state is not None:
                    self.states[w.id] = state
            if getattr(w, "label", "") and getattr(w, "id", ""):
                self.widgets[w.label] = (which, w)

    def _move_slider(self) -> bool:
        """Set one scenario slider present on the page to a new random value; False if none is drawn."""
        from streamlit.proto.Common_pb2 import DoubleArray
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        drawn = [(w, lo, hi, step, path) for label, lo, hi, step, path in SCENARIO_SLIDERS
                 for text, (kind, w) in self.widgets.items()
                 if kind == "slider" and text.startswith(label) and w.id in self.states]
        if not drawn:
            return False
        w, lo, hi, step, path = self.rng.choice(drawn)
        lo, hi = max(lo, w.min), min(hi, w.max)
        value = round(lo + step * self.rng.randint(0, int(round((hi - lo) / step))), 6)
        self.states[w.id] = WidgetState(id=w.id, double_array_value=DoubleArray(data=[value]))
        self.expect = (path, value)
        return True

    async def run(self, stop_at: float, n_actions: int | None, think_s: tuple[float, float]) -> None:
        import websockets

        try:
            async with websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                          open_timeout=self.timeout, ping_interval=None) as ws:
                first = await self._rerun(ws)  # the page's first run
                self.stats.latencies_s.append(first)
                self.stats.first_s.append(first)
                done = 0
                while time.monotonic() < stop_at and (n_actions is None or done < n_actions):
                    await asyncio.sleep(self.rng.uniform(*think_s))
                    if not self._move_slider():
                        self.stats.error(f"no scenario slider on page {self.page!r}")
                        return
                    self.stats.latencies_s.append(await self._rerun(ws))
                    done += 1
        except Exception as exc:  # timeout, refused or closed websocket: count it, keep the other sessions going
            self.stats.error(f"{type(exc).__name__}: {exc}")


class _Writer(_Session):
    """One phone on the Have-your-say page: types feedback and presses Send, ``each`` times."""

    def __init__(self, *args: Any, tag: str, each: int) -> None:
        super().__init__(*args)
        self.tag, self.each = tag, each

    async def run(self, stop_at: float, n_actions: int | None, think_s: tuple[float, float]) -> None:
        import websockets
        from streamlit.proto.Alert_pb2 import Alert
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        try:
            async with websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                          open_timeout=self.timeout, ping_interval=None) as ws:
                first = await self._rerun(ws)  # the page's first run
                self.stats.latencies_s.append(first)
                self.stats.first_s.append(first)
                area = next((w for kind, w in self.widgets.values() if kind == "text_area"), None)
                send = next((w for kind, w in self.widgets.values() if kind == "button" and w.label == "Send"), None)
                if area is None or send is None:
                    self.stats.error(f"no feedback form on page {self.page!r}")
                    return
                for k in range(self.each):
                    if time.monotonic() >= stop_at:
                        return
                    await asyncio.sleep(self.rng.uniform(*think_s))
                    text = f"{self.tag}-{k}: the crossing by the station needs a longer green light"
                    self.states[area.id] = WidgetState(id=area.id, string_value=text)
                    self.states[send.id] = WidgetState(id=send.id, trigger_value=True)
                    self.stats.latencies_s.append(await self._rerun(ws))
                    self.states.pop(send.id, None)  # a trigger is sent once
                    if any(f == Alert.SUCCESS and body.startswith("Thank you") for f, body in self.alerts):
                        self.stats.acked.append(text)
                    elif not any(f == Alert.ERROR for f, _ in self.alerts):  # an st.error is counted already
                        self.stats.error(f"feedback neither thanked for nor refused: {text}")
        except Exception as exc:
            self.stats.error(f"{type(exc).__name__}: {exc}")


def _widget_state(kind: str, w: Any, held: Any) -> Any:
    """The WidgetState a browser holds for widget ``w`` after drawing it: the value the page set
    (``set_value``), else the one it held already (``held``), else the widget's default; None for widgets
    that hold no value until used (buttons, uploads)."""
    from streamlit.proto.Common_pb2 import DoubleArray, StringArray
    from streamlit.proto.NumberInput_pb2 import NumberInput
    from streamlit.proto.Slider_pb2 import Slider
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    if kind not in VALUE_KINDS:  # buttons and triggers: nothing until pressed
        return None
    if held is not None and not w.set_value:
        return held
    out = WidgetState(id=w.id)
    if kind in ("checkbox", "toggle"):
        out.bool_value = w.value if w.set_value else w.default
    elif kind in ("slider", "select_slider") and w.type == Slider.SELECT_SLIDER:
        values = list(w.raw_value) if w.set_value else [w.options[int(i)] for i in w.default]
        out.string_array_value.CopyFrom(StringArray(data=values))
    elif kind == "slider":
        out.double_array_value.CopyFrom(DoubleArray(data=list(w.value if w.set_value else w.default)))
    elif kind in ("selectbox", "radio"):
        if w.set_value and w.HasField("raw_value"):
            out.string_value = w.raw_value
        elif w.HasField("default") and 0 <= w.default < len(w.options):
            out.string_value = w.options[w.default]
        else:
            return None
    elif kind == "number_input":
        if not (w.set_value or w.HasField("default")):
            return None
        v = w.value if w.set_value else w.default
        if w.data_type == NumberInput.INT:
            out.int_value = int(v)
        else:
            out.double_value = v
    else:  # text_input, text_area
        if not (w.set_value or w.HasField("default")):
            return None
        out.string_value = w.value if w.set_value else w.default
    return out


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def _summary(stats: _Stats, n: int, first_loads: int) -> dict[str, Any]:
    lat = stats.latencies_s
    changes = list(lat)
    for x in stats.first_s:  # the reruns after a user's action, without the page's first run
        changes.remove(x)
    return {"sessions": n, "actions": max(0, len(lat) - first_loads), "latencies_s": lat,
            "p50_s": statistics.median(lat) if lat else None, "p95_s": _pct(lat, 95),
            "max_s": max(lat, default=None), "errors": stats.errors, "error_samples": stats.error_samples,
            "mb_received": stats.bytes_in / 1e6, "references": stats.references, "first_load_s": stats.first_s,
            "change_s": changes,
            "change_p50_s": statistics.median(changes) if changes else None, "change_p95_s": _pct(changes, 95),
            "first_load_p50_s": statistics.median(stats.first_s) if stats.first_s else None}


def _run(coro) -> None:
    """``asyncio.run``, in a thread of its own when this thread already runs a loop (Playwright's sync API)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    t = threading.Thread(target=target, name="drive-sessions")
    t.start()
    t.join()
    if failure:
        raise failure[0]


def drive_sessions(base_url: str, n_sessions: int = 30, *, duration_s: float | None = 30.0,
                   n_actions: int | None = None, page: str = "scenario", query: str = "city=los-angeles",
                   think_s: tuple[float, float] = (0.5, 2.0), ramp_s: float = 5.0,
                   feedback_writers: int = 0, feedback_each: int = 3, feedback_tag: str = "load",
                   server_pid: int | None = None, rerun_timeout_s: float = 120.0, warmup: bool = True,
                   seed: int = 0) -> dict[str, Any]:
    """Open ``n_sessions`` What-if sessions on ``base_url`` and move scenario sliders until ``duration_s`` has
    passed or each session made ``n_actions`` changes (whichever comes first; set one of them to None).

    Sessions start spread over ``ramp_s`` seconds and wait ``think_s`` (uniform) between changes, like people.
    At the same time ``feedback_writers`` phones open the Have-your-say page and each sends ``feedback_each``
    entries (text ``f"{feedback_tag}-w{i}-{k}: ..."``, unique per run when the tag is); keep ``feedback_each``
    at most 5 (the store's per-session rate limit). With ``warmup`` one session first opens the page alone
    (city, model and caches loaded; not counted), so memory growth is that of the sessions.

    Returns a dict: sessions, actions (slider changes answered), latencies_s (every rerun, first page loads
    included, seconds), p50_s, p95_s, max_s, the same for the reruns after a change only (change_s,
    change_p50_s, change_p95_s) and for the first page loads (first_load_s, first_load_p50_s), errors,
    error_samples, mb_received, references (large messages answered by reference), wall_s; ``feedback``: the
    same keys for the writers plus ``acked`` (the texts the page thanked for); and when ``server_pid`` is given
    rss_before_mb, rss_after_mb and rss_per_session_mb (growth / (sessions + writers)).
    """
    if duration_s is None and n_actions is None:
        raise ValueError("give duration_s or n_actions")
    parts = urlsplit(base_url)
    ws_url = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"
    stats, wstats = _Stats(), _Stats()

    async def main() -> None:
        t_end = time.monotonic() + (duration_s if duration_s is not None else 10 * 365 * 86400)
        sessions: list[_Session] = [
            _Session(ws_url, page, query, stats, random.Random(seed * 1000 + i), rerun_timeout_s)
            for i in range(n_sessions)]
        sessions += [_Writer(ws_url, "have_your_say", query, wstats, random.Random(seed * 1000 + 500 + i),
                             rerun_timeout_s, tag=f"{feedback_tag}-w{i}", each=feedback_each)
                     for i in range(feedback_writers)]
        rng = random.Random(seed)
        rng.shuffle(sessions)  # phones and planners arrive mixed

        async def start(i: int, s: _Session) -> None:
            await asyncio.sleep(ramp_s * i / max(len(sessions), 1))
            await s.run(t_end, n_actions, think_s)

        await asyncio.gather(*(start(i, s) for i, s in enumerate(sessions)))

    if warmup:
        warm = _Stats()
        _run(_Session(ws_url, page, query, warm, random.Random(seed), rerun_timeout_s).run(0, 0, (0, 0)))
        if warm.errors:
            stats.error(f"warm-up: {warm.error_samples[0]}")
    rss_before = server_rss_mb(server_pid) if server_pid else None
    t0 = time.perf_counter()
    _run(main())
    out = _summary(stats, n_sessions, n_sessions) | {"wall_s": time.perf_counter() - t0}
    out["feedback"] = _summary(wstats, feedback_writers, feedback_writers) | {"acked": wstats.acked}
    if server_pid:
        rss_after = server_rss_mb(server_pid)
        out |= {"rss_before_mb": rss_before, "rss_after_mb": rss_after,
                "rss_per_session_mb": (rss_after - rss_before) / max(1, n_sessions + feedback_writers)
                if rss_before is not None and rss_after is not None else None}
    return out


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", help="the app's address, e.g. http://127.0.0.1:8501")
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds")
    ap.add_argument("--actions", type=int, default=None, help="slider changes per session (instead of a duration)")
    ap.add_argument("--writers", type=int, default=0, help="Have-your-say phones sending feedback meanwhile")
    ap.add_argument("--query", default="city=los-angeles")
    ap.add_argument("--think", type=float, nargs=2, default=(0.5, 2.0), metavar=("MIN", "MAX"),
                    help="seconds each person waits between changes (uniform)")
    ap.add_argument("--pid", type=int, default=None, help="server process id, to report its memory")
    args = ap.parse_args()
    res = drive_sessions(args.url, args.sessions, duration_s=None if args.actions else args.duration,
                         n_actions=args.actions, query=args.query, server_pid=args.pid, think_s=tuple(args.think),
                         feedback_writers=args.writers, feedback_tag=f"bench-{int(time.time())}")
    for part in (res, res["feedback"]):
        for key in ("latencies_s", "first_load_s", "change_s"):
            part.pop(key)
    res["feedback"]["acked"] = len(res["feedback"]["acked"])
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
