"""Uploads: the What-if page's scenario upload is size-limited, validated, kept in memory and never written to
disk under the name the user chose. (It is the app's only upload; see docs/security.md.)"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.ui.scenario_panel import MAX_UPLOAD_BYTES

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"city": "melbourne", "day": {"day_of_week": 2}, "start_hour": 7, "horizon_hours": 8,
        "events": [{"place": {"sensor_id": "6"}, "magnitude": 1500, "unit": "people", "start_offset_hours": 1,
                    "duration_hours": 2, "reach_km": 0.3}]}
EVIL_NAME = "..%2F..%2Fupload-probe-7f3a.json"  # what a browser sends for a name like ../../x.json
PROBE = "upload-probe-7f3a"


def _files_named(probe: str) -> list[str]:
    hits = []
    for top in (ROOT, Path(tempfile.gettempdir())):
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d not in (".venv", ".git", "node_modules")]
            hits += [os.path.join(dirpath, f) for f in filenames if probe in f]
    return hits


@pytest.fixture(scope="module")
def page():
    at = AppTest.from_file(str(ROOT / "app_pages" / "scenario.py"), default_timeout=300)
    at.query_params["city"] = "melbourne"
    at.run()
    assert not at.exception
    return at


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="sc_upload").set_value((name, data, "application/json"))
    return at.run()


@pytest.mark.badinput
def test_bad_upload_too_large_is_refused_and_not_stored(page) -> None:
    big = json.dumps({**GOOD, "padding": "x" * (MAX_UPLOAD_BYTES + 10)}).encode()
    at = _upload(page, EVIL_NAME, big)
    assert not at.exception
    msg = " ".join(e.value for e in at.error)
    assert "larger than 64 kB" in msg and "How to fix" in msg
    assert not _files_named(PROBE), "an upload must never be written to disk"


@pytest.mark.badinput
def test_bad_upload_for_another_city_is_refused(page) -> None:
    at = _upload(page, f"la-{PROBE}.json", json.dumps({**GOOD, "city": "los-angeles"}).encode())
    assert not at.exception
    msg = " ".join(e.value for e in at.error)
    assert "this scenario is for 'los-angeles'" in msg and "How to fix" in msg


@pytest.mark.badinput
def test_bad_upload_not_a_scenario_is_refused(page) -> None:
    at = _upload(page, f"script-{PROBE}.json", b"<script>alert(1)</script>")
    assert not at.exception
    msg = " ".join(e.value for e in at.error)
    assert "the scenario is invalid" in msg and "How to fix" in msg
    assert "<script>alert(1)</script>" not in msg, "the file's content is not echoed"


def test_good_upload_loads_into_the_widgets_in_memory(page) -> None:
    at = _upload(page, f"ok-{PROBE}.json", json.dumps(GOOD).encode())
    assert not at.exception and not at.error
    assert json.loads(at.session_state["sc_loaded"])["events"][0]["place"] == {"sensor_id": "6"}
    assert at.session_state["sc_start"] == 7
    assert not _files_named(PROBE)
