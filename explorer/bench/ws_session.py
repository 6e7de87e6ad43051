"""One simulated browser tab on Streamlit's websocket protocol, for :mod:`explorer.bench.sessions`: it opens a
page, reads the widgets from the deltas, sends every drawn widget's state as a browser does, keeps the large
messages it received (answered by reference afterwards) and moves scenario sliders; a Have-your-say writer
sends feedback instead. A widget drawn by an ``st.fragment`` asks for a rerun of that fragment only, as the
browser does (the delta names the fragment)."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

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


@dataclass
class Stats:
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


class Session:
    """One simulated browser tab."""

    def __init__(self, ws_url: str, page: str, query: str, stats: Stats, rng: random.Random,
                 rerun_timeout_s: float) -> None:
        self.ws_url, self.page, self.query = ws_url, page, query
        self.stats, self.rng, self.timeout = stats, rng, rerun_timeout_s
        self.widgets: dict[str, tuple[str, Any]] = {}  # label -> (kind, proto element)
        self.states: dict[str, Any] = {}  # widget id -> WidgetState, every widget drawn by the last run
        self.drawn: set[str] = set()  # widget ids drawn by the run in progress
        self.fragment_of: dict[str, str] = {}  # widget id -> the fragment that drew it ("" outside fragments)
        self.fragment = ""  # the fragment the run in progress reruns ("": the whole page)
        self.cache: dict[str, tuple[Any, int]] = {}  # hash -> (cacheable ForwardMsg, run count when last used)
        self.run_count = 0
        self.expect: tuple[str, float] | None = None  # (scenario field, value) the last change asked for
        self.alerts: list[tuple[int, str]] = []  # (Alert.Format, body) drawn by the last run

    def _client_state(self) -> Any:
        from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
        from streamlit.proto.WidgetStates_pb2 import WidgetStates

        return ClientState(query_string=self.query, page_name=self.page, fragment_id=self.fragment,
                           widget_states=WidgetStates(widgets=list(self.states.values())),
                           cached_message_hashes=list(self.cache),
                           context_info=ContextInfo(timezone="UTC", timezone_offset=0, locale="en-US",
                                                    url=self.ws_url.replace("ws", "http", 1)))

    async def _rerun(self, ws: Any, fragment: str = "") -> float:
        """Ask for a rerun (of ``fragment`` only, if given) with this client's widget states; wait for the run to
        finish; latency in s."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        t0 = time.perf_counter()
        self.fragment = fragment
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
                self._element(msg.delta.new_element, msg.delta.fragment_id)
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string  # the address bar, sent back like a browser
            elif kind == "page_not_found":
                self.stats.error(f"page not found: {msg.page_not_found.page_name}")
            elif kind == "script_finished":
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    self.stats.error("script compile error")
                if status in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
                              ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
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
        """End of a run: forget the states of widgets it could have drawn and did not (a fragment's run: that
        fragment's widgets only) and messages not used for ``global.maxCachedMessageAge`` (2) runs, as the
        frontend does."""
        rerun = self.fragment
        self.states = {k: v for k, v in self.states.items()
                       if k in self.drawn or (rerun and self.fragment_of.get(k, "") != rerun)}
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

    def _element(self, el: Any, fragment: str = "") -> None:
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
                self.fragment_of[w.id] = fragment
                state = widget_state(which, w, self.states.get(w.id))
                if state is not None:
                    self.states[w.id] = state
            if getattr(w, "label", "") and getattr(w, "id", ""):
                self.widgets[w.label] = (which, w)

    def _move_slider(self) -> str | None:
        """Set one scenario slider present on the page to a new random value; the fragment to rerun ("" for the
        whole page), None if no slider is drawn."""
        from streamlit.proto.Common_pb2 import DoubleArray
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        drawn = [(w, lo, hi, step, path) for label, lo, hi, step, path in SCENARIO_SLIDERS
                 for text, (kind, w) in self.widgets.items()
                 if kind == "slider" and text.startswith(label) and w.id in self.states]
        if not drawn:
            return None
        w, lo, hi, step, path = self.rng.choice(drawn)
        lo, hi = max(lo, w.min), min(hi, w.max)
        value = round(lo + step * self.rng.randint(0, int(round((hi - lo) / step))), 6)
        self.states[w.id] = WidgetState(id=w.id, double_array_value=DoubleArray(data=[value]))
        self.expect = (path, value)
        return self.fragment_of.get(w.id, "")

    async def run(self, stop_at: float, n_actions: int | None, think_s: tuple[float, float]) -> None:
        """Open the page, then act until ``stop_at`` (or ``n_actions`` changes); every failure is counted."""
        import websockets

        try:
            async with websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                          open_timeout=self.timeout, ping_interval=None) as ws:
                first = await self._rerun(ws)  # the page's first run
                self.stats.latencies_s.append(first)
                self.stats.first_s.append(first)
                await self._act(ws, stop_at, n_actions, think_s)
        except Exception as exc:  # timeout, refused or closed websocket: count it, keep the other sessions going
            self.stats.error(f"{type(exc).__name__}: {exc}")

    async def _act(self, ws: Any, stop_at: float, n_actions: int | None, think_s: tuple[float, float]) -> None:
        """Move a random scenario slider, wait for the rerun, think, again."""
        done = 0
        while time.monotonic() < stop_at and (n_actions is None or done < n_actions):
            await asyncio.sleep(self.rng.uniform(*think_s))
            fragment = self._move_slider()
            if fragment is None:
                self.stats.error(f"no scenario slider on page {self.page!r}")
                return
            self.stats.latencies_s.append(await self._rerun(ws, fragment))
            done += 1


class Writer(Session):
    """One phone on the Have-your-say page: types feedback and presses Send, ``each`` times."""

    def __init__(self, *args: Any, tag: str, each: int) -> None:
        super().__init__(*args)
        self.tag, self.each = tag, each

    async def _act(self, ws: Any, stop_at: float, n_actions: int | None,  # noqa: ARG002 (``each`` entries)
                   think_s: tuple[float, float]) -> None:
        """Type a feedback text and press Send, ``each`` times; check the page thanked for it."""
        from streamlit.proto.Alert_pb2 import Alert
        from streamlit.proto.WidgetStates_pb2 import WidgetState

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


def widget_state(kind: str, w: Any, held: Any) -> Any:
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
