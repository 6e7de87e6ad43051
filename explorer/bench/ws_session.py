"""One simulated browser tab on Streamlit's websocket protocol, for :mod:`explorer.bench.sessions`: it opens a
page, reads the widgets from the deltas, sends every drawn widget's state as a browser does, keeps the large
messages it received (answered by reference afterwards) and moves scenario sliders; a Have-your-say writer
sends feedback instead. A widget drawn by an ``st.fragment`` asks for a rerun of that fragment only, as the
browser does (the delta names the fragment).

What if's after-map component (explorer/ui/after_map.py) is answered as the browser answers it: when a run draws
it with a new ``token``, the client sends the component's ``ready`` trigger (widget
``$$STREAMLIT_INTERNAL_KEY_<component id>__events``, ``json_trigger_value``
``[{"event":"ready","value":<token>}]``, a rerun request for the fragment that drew the component, with every
other widget's state), which the server answers by stopping that request's run early (``FINISHED_EARLY_FOR_RERUN``)
and running the details fragment. Both runs count in the change's latency. The browser sends the trigger once the
map has drawn the new scenario (client-side time, ~0.1-0.2 s); this client sends it as soon as the map's run has
finished: the server's work is the same, the gap is not counted (``bench/capture_ws.py`` records a browser's
messages for comparison)."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
from collections import Counter
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
AFTER_MAP_COMPONENT = "urban-whatif-explorer.after-map"  # explorer/ui/after_map.py's COMPONENT (a test checks)
VALUE_KINDS = ("slider", "select_slider", "checkbox", "toggle", "selectbox", "radio", "number_input", "text_input",
               "text_area", "file_uploader")  # widgets whose value the frontend holds (and sends) from the moment they
# are drawn (a file uploader: its empty state until a file is chosen)
WIDGET_KINDS = ("slider", "selectbox", "checkbox", "toggle", "button", "text_input", "text_area", "number_input",
                "radio", "button_group", "select_slider", "file_uploader")


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
    to_map_s: list[float] = field(default_factory=list)  # a change until its map's run finished (before the details)
    triggers: int = 0  # after-map triggers sent (one per change on What if)
    trigger_elements: Counter = field(default_factory=Counter)  # element kinds the triggered runs drew

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
        self.ran: set[str] = set()  # the fragments the run in progress runs (from its messages' run identity)
        self.kinds: Counter = Counter()  # element kinds the run in progress drew
        self.fired: list[str] = []  # after-map tokens already answered (the browser keeps the last 50)
        self.pending: tuple[str, str, str] | None = None  # (trigger widget id, token, fragment) to send after the run

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
        finish, and when it drew an armed after-map component, send its trigger and wait for the run that answers
        it (as the browser does); latency of both in s."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        t0 = time.perf_counter()
        deadline = t0 + self.timeout
        await self._request(ws, fragment)
        await self._until_finished(ws, deadline)
        self._check_applied()
        if self.pending is not None:
            self.stats.to_map_s.append(time.perf_counter() - t0)
            trigger_id, token, where = self.pending
            self.pending = None
            value = json.dumps([{"event": "ready", "value": token}], separators=(",", ":"))  # the browser's bytes
            self.states[trigger_id] = WidgetState(id=trigger_id, json_trigger_value=value)
            await self._request(ws, where)
            self.states.pop(trigger_id, None)  # a trigger is sent once
            self.stats.triggers += 1
            self.stats.trigger_elements.update(await self._until_finished(ws, deadline))
        return time.perf_counter() - t0

    async def _request(self, ws: Any, fragment: str) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        self.fragment = fragment
        self.alerts = []
        self.drawn, self.ran, self.kinds = set(), set(), Counter()
        await ws.send(BackMsg(rerun_script=self._client_state()).SerializeToString())

    async def _until_finished(self, ws: Any, deadline: float) -> Counter:
        """Read the server's messages until a run finishes (a run stopped early for a rerun is not the end: the
        rerun follows); the element kinds that run drew."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

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
            if kind == "new_session":  # a run starts: what it draws decides what the client keeps
                self.drawn, self.kinds = set(), Counter()
                self.ran = set(msg.metadata.run.fragment_ids)
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
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
                    if status != ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                        self.ran = set()  # a full run
                    elif not self.ran:
                        self.stats.error("a fragment run that does not say which fragments it ran")
                    self._finish_run()
                    return self.kinds

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
        """End of a run: forget the states of widgets it could have drawn and did not (a fragment's run: the
        widgets of the fragments it ran only) and messages not used for ``global.maxCachedMessageAge`` (2) runs, as the
        frontend does."""
        ran = self.ran
        self.states = {k: v for k, v in self.states.items()
                       if k in self.drawn or (ran and self.fragment_of.get(k, "") not in ran)}
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
        self.kinds[which] += 1
        if which == "bidi_component":
            self._after_map(el.bidi_component, fragment)
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

    def _after_map(self, comp: Any, fragment: str) -> None:
        """What if's after-map component with a token not answered yet: its trigger is sent after this run."""
        if comp.component_name != AFTER_MAP_COMPONENT:
            return
        blob = comp.json or comp.mixed.json
        try:
            token = json.loads(blob).get("token") if blob else None
        except (ValueError, AttributeError):
            self.stats.error(f"after-map component data is not a JSON object: {blob[:100]!r}")
            return
        if not token or token in self.fired:
            return
        self.fired = [*self.fired, token][-50:]
        self.pending = (f"$$STREAMLIT_INTERNAL_KEY_{comp.id}__events", token, fragment)

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
    if held is not None and not getattr(w, "set_value", False):  # (a file uploader has no set_value)
        return held
    out = WidgetState(id=w.id)
    if kind == "file_uploader":
        out.file_uploader_state_value.SetInParent()  # no file chosen
    elif kind in ("checkbox", "toggle"):
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
