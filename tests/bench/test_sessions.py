"""explorer/bench/sessions.py behaves as a browser tab: it sends every drawn widget's state (not only the slider it
moves) and reports the large messages it holds, so the concurrency figures measure the reruns a browser would cause."""

from __future__ import annotations

import pytest
from streamlit.proto.Checkbox_pb2 import Checkbox
from streamlit.proto.FileUploader_pb2 import FileUploader
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Selectbox_pb2 import Selectbox
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState

from explorer.bench.common import checkout_file, streamlit_server
from explorer.bench.sessions import drive_sessions
from explorer.bench.ws_session import AFTER_MAP_COMPONENT, widget_state
from explorer.ui.after_map import COMPONENT


def test_widget_state_is_the_pages_value_else_the_held_one_else_the_default() -> None:
    s = Slider(id="s", default=[3.0], value=[7.0], set_value=False, type=Slider.SLIDER)
    assert list(widget_state("slider", s, None).double_array_value.data) == [3.0]  # first drawn: the default
    held = WidgetState(id="s")
    held.double_array_value.data[:] = [5.0]
    assert widget_state("slider", s, held) is held  # the value this client chose stays
    s.set_value = True  # the page set it (session state, a preset): the page wins
    assert list(widget_state("slider", s, held).double_array_value.data) == [7.0]

    sel = Slider(id="n", default=[1.0], options=["16", "64", "256"], type=Slider.SELECT_SLIDER)
    assert list(widget_state("slider", sel, None).string_array_value.data) == ["64"]
    box = Selectbox(id="d", default=4, options=["Mon", "Tue", "Wed", "Thu", "Fri"])
    assert widget_state("selectbox", box, None).string_value == "Fri"
    assert widget_state("selectbox", Selectbox(id="e", options=["a"]), None) is None  # no default: no value
    toggle = Checkbox(id="t", default=False, value=True, set_value=True)
    assert widget_state("toggle", toggle, None).bool_value is True
    seed = NumberInput(id="k", default=0, value=42, set_value=True, data_type=NumberInput.INT)
    got = widget_state("number_input", seed, None)
    assert got.WhichOneof("value") == "int_value" and got.int_value == 42
    assert widget_state("button", object(), None) is None  # a trigger holds nothing until pressed
    upload = widget_state("file_uploader", FileUploader(id="u"), None)  # sent empty until a file is chosen
    assert upload.WhichOneof("value") == "file_uploader_state_value"
    assert not upload.file_uploader_state_value.uploaded_file_info


def test_the_client_answers_the_after_map_component_the_page_draws() -> None:
    assert AFTER_MAP_COMPONENT == COMPONENT


@pytest.mark.slow
def test_a_session_keeps_the_opening_event_and_gets_large_elements_by_reference() -> None:
    """Los Angeles' What-if opens on a preset with an event; eight slider changes later the scenario in the
    address bar still holds the event and each change (else the client counts "change not applied"), the
    map's unchanged payload carriers came back as references, and each change's map run drew an armed
    after-map component whose trigger (sent as the browser sends it) made the server run the details fragment:
    its two charts arrived after the trigger, and the change's latency counts both runs."""
    with streamlit_server(checkout_file("app.py")) as (_, url):
        res = drive_sessions(url, 1, duration_s=None, n_actions=8, think_s=(0.0, 0.05), ramp_s=0.0,
                             rerun_timeout_s=180.0)
    assert res["errors"] == 0, res["error_samples"]
    assert res["actions"] == 8
    assert res["references"] >= 8, "an unchanged map layer payload is answered by reference"
    assert res["triggers"] == 8, "every change draws an armed after-map component"
    assert res["trigger_elements"].get("plotly_chart") == 16, res["trigger_elements"]  # city and sensor chart
    assert all(total > to_map for total, to_map in zip(res["change_s"], res["to_map_s"], strict=True))
