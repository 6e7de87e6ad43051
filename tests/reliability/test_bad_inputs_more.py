"""More of the bad-input corpus: checkpoints, scenario JSON (file uploads) and link parameters (broken city
folders and manifests: tests/cities/test_bad_inputs.py).

Every case must be refused with the library's own error type and a message that names the problem and says how
to fix it (never a traceback); the link cases also go through the real What-if page (AppTest), which must fall
back with a warning instead of failing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from explorer.cities import load_city
from explorer.errors import CheckpointError
from explorer.models.checkpoint import load_checkpoint, save_checkpoint
from explorer.scenarios.schema import Scenario
from explorer.share import SharedRun, ShareError, decode, encode, parse_scenario_json

pytestmark = pytest.mark.badinput
ROOT = Path(__file__).resolve().parents[2]


def _fix_said(msg: str) -> None:
    assert "How to fix:" in msg and len(msg.split("How to fix:", 1)[1].strip()) > 5, msg
    assert "Traceback" not in msg


# ------------------------------------------------------------------------------------------------ checkpoints
@pytest.fixture()
def ckpt(tmp_path: Path, tiny_city_dir: Path):
    city = load_city(tiny_city_dir)
    base = tmp_path / "model"
    save_checkpoint(base, {"w": torch.arange(12, dtype=torch.float32).reshape(3, 4)},
                    {"kind": "generator", "config": {}, "metrics": {}}, city)
    return base, city


def _flip_byte(base: Path) -> None:
    w = base.with_suffix(".safetensors")
    data = bytearray(w.read_bytes())
    data[-5] ^= 0xFF  # same length, one weight changed
    w.write_bytes(bytes(data))


def _truncate(base: Path) -> None:
    w = base.with_suffix(".safetensors")
    w.write_bytes(w.read_bytes()[: len(w.read_bytes()) // 2])


def _pickle_with_matching_hash(base: Path) -> None:
    class Boom:
        def __reduce__(self):
            return (print, ("pickle code ran",))

    blob = pickle.dumps({"w": Boom()})
    base.with_suffix(".safetensors").write_bytes(blob)
    meta = json.loads(base.with_suffix(".json").read_text())
    meta["weights_sha256"] = hashlib.sha256(blob).hexdigest()
    base.with_suffix(".json").write_text(json.dumps(meta))


def _edit_meta(**changes) -> Callable[[Path], None]:
    def edit(base: Path) -> None:
        meta = json.loads(base.with_suffix(".json").read_text())
        meta.update(changes)
        base.with_suffix(".json").write_text(json.dumps(meta))
    return edit


CHECKPOINT_CASES = [
    ("altered_byte", _flip_byte, ["sha256", "altered"]),
    ("truncated", _truncate, ["altered or truncated"]),
    ("pickle_as_safetensors", _pickle_with_matching_hash, ["not a valid safetensors"]),
    ("metadata_missing", lambda b: b.with_suffix(".json").unlink(), ["metadata file is missing"]),
    ("metadata_not_json", lambda b: b.with_suffix(".json").write_text("{'kind': imputer"), ["not valid JSON"]),
    ("weights_missing", lambda b: b.with_suffix(".safetensors").unlink(), ["weights file is missing"]),
    ("future_format", _edit_meta(format_version=99), ["unsupported checkpoint format 99"]),
    ("other_data_hash", _edit_meta(data_hash="0" * 64), ["different data"]),
    ("other_city_in_metadata", _edit_meta(city="los-angeles"), ["trained for city 'los-angeles'", "'tiny'"]),
]


@pytest.mark.parametrize(("damage", "words"), [c[1:] for c in CHECKPOINT_CASES], ids=[c[0] for c in CHECKPOINT_CASES])
def test_bad_checkpoint_is_refused(ckpt, capsys, damage, words) -> None:
    base, city = ckpt
    load_checkpoint(base, city, "generator")  # valid before the damage
    damage(base)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(base, city, "generator")
    for w in words:
        assert w in info.value.message, info.value.message
    _fix_said(info.value.message)
    assert "pickle code ran" not in capsys.readouterr().out, "nothing in a checkpoint is ever executed"


def test_bad_checkpoint_of_another_city(la) -> None:
    """Melbourne's real generator offered to Los Angeles."""
    base = ROOT / "data" / "cities" / "melbourne" / "models" / "generator"
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(base, la, "generator")
    assert "trained for city 'melbourne', not 'los-angeles'" in info.value.message
    _fix_said(info.value.message)


# ------------------------------------------------------------------------------------------------ scenario JSON
GOOD = {"city": "melbourne", "day": {"day_of_week": 4}, "start_hour": 17, "horizon_hours": 6,
        "events": [{"place": {"sensor_id": "4"}, "magnitude": 2000, "unit": "people", "start_offset_hours": 2,
                    "duration_hours": 3, "reach_km": 0.5}]}


def _with(path: str, value) -> str:
    doc = json.loads(json.dumps(GOOD))
    *head, last = path.split(".")
    node = doc
    for part in head:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value
    return json.dumps(doc)


SCENARIO_CASES = [
    ("hour_out_of_range", _with("start_hour", 25), ["start_hour"]),
    ("horizon_zero", _with("horizon_hours", 0), ["horizon_hours"]),
    ("negative_size", _with("events.0.magnitude", -500), ["magnitude"]),
    ("huge_size", _with("events.0.magnitude", 1e12), ["out of range"]),
    ("nan_size", _with("events.0.magnitude", "NaN"), ["magnitude"]),
    ("hour_as_words", _with("start_hour", "seven"), ["start_hour"]),
    ("events_not_a_list", _with("events", "many"), ["events"]),
    ("unknown_field", _with("day.weather", "snow"), ["weather"]),
    ("sql_as_unit", _with("events.0.unit", "people'; DROP TABLE feedback;--"), ["unit"]),
    ("script_as_hour", _with("start_hour", "<script>alert(1)</script>"), ["start_hour"]),
    ("traversal_as_sensor_id", _with("events.0.place", {"sensor_id": "4", "zone_id": "../../etc"}), ["place"]),
    ("eleven_events", json.dumps({**GOOD, "events": GOOD["events"] * 11}), ["events"]),
    ("event_after_horizon", _with("events.0.start_offset_hours", 30), ["start_offset_hours"]),
    ("not_json", "{\"city\": \"melbourne\", ", ["invalid"]),
    ("json_array", "[1, 2, 3]", ["invalid"]),
    ("oversized_file", json.dumps({**GOOD, "padding": "x" * 70_000}), ["larger than 64 kB"]),
    ("binary_file", "\x89PNG\r\n\x1a\n\x00\x00", ["invalid"]),
]


@pytest.mark.parametrize(("text", "words"), [c[1:] for c in SCENARIO_CASES], ids=[c[0] for c in SCENARIO_CASES])
def test_bad_scenario_file_is_refused(text: str, words: list[str]) -> None:
    with pytest.raises(ShareError) as info:
        parse_scenario_json(text, where="upload.json")
    msg = info.value.message
    assert msg.startswith("upload.json:"), "the message names the file"
    for w in words:
        assert w in msg, msg
    _fix_said(msg)


# ------------------------------------------------------------------------------------------------ link parameters
def _link(**over) -> dict[str, str]:
    return {**encode(SharedRun(Scenario.model_validate(GOOD), 0, 64, "")), **over}


def _blob(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


LINK_CASES = [
    ("script_in_model", _link(model="<script>alert(1)</script>"), ["settings are invalid", "model"]),
    ("traversal_in_model", _link(model="../../../etc/passwd"), ["settings are invalid", "model"]),
    ("seed_as_words", _link(seed="seven"), ["settings are invalid", "seed"]),
    ("seed_too_big", _link(seed=str(2**40)), ["settings are invalid", "seed"]),
    ("samples_not_offered", _link(n="17"), ["n=17 samples is not offered"]),
    ("samples_negative", _link(n="-64"), ["n=-64 samples is not offered"]),
    ("oversized_param", _link(seed="1" * 5000), ["too long"]),
    ("oversized_scenario", _link(s=_blob(json.dumps({**GOOD, "x": "y" * 4000}))), ["too long"]),
    ("scenario_with_script", _link(s=_blob(_with("events.0.unit", "<img src=x onerror=alert(1)>"))),
     ["scenario is invalid", "unit"]),
    ("script_as_city", _link(s=_blob(_with("city", "<script>alert(1)</script>"))), ["disagree"]),
    ("traversal_as_city", _link(s=_blob(_with("city", "../../etc/passwd"))), ["disagree"]),
    ("scenario_not_base64", _link(s="!!!***"), ["scenario is invalid"]),
    ("city_disagrees", _link(city="los-angeles"), ["disagree"]),
]


@pytest.mark.parametrize(("params", "words"), [c[1:] for c in LINK_CASES], ids=[c[0] for c in LINK_CASES])
def test_bad_link_parameter_is_refused(params: dict, words: list[str]) -> None:
    with pytest.raises(ShareError) as info:
        decode(params)
    for w in words:
        assert w in info.value.message, info.value.message
    _fix_said(info.value.message)


@pytest.mark.slow
@pytest.mark.parametrize(("params", "warning"), [
    ({"city": "melbourne", "s": _blob(_with("events.0.place.sensor_id", "<script>alert(1)</script>"))},
     "not a sensor of melbourne"),
    ({"city": "melbourne", "s": _blob(_with("start_hour", 99))}, "start_hour"),
    (_link(seed="'; DROP TABLE feedback;--"), "settings are invalid"),
    ({"city": "../../etc/passwd"}, "Unknown city"),
], ids=["unknown_sensor_with_script", "hour_99", "sql_in_seed", "traversal_in_city"])
def test_bad_link_on_the_what_if_page(params: dict, warning: str) -> None:
    """The real page: the bad link is refused with a warning, the page still draws a scenario."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app_pages" / "scenario.py"), default_timeout=300)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(warning in w.value for w in at.warning), [w.value for w in at.warning]
    assert any(t.value.startswith("What if") for t in at.title), "the page still draws"
    assert not any("<script>" in m.value for m in at.markdown), "the injected text is not drawn as markup"
