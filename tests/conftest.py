"""Shared fixtures: a tiny valid city written to a temporary folder, and the bundled cities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.cities import load_city

TINY_MANIFEST = """\
slug = "tiny"
name = "Tiny Town"
timezone = "Europe/Paris"

[series]
paths = ["series.csv"]
layout = "wide"
time_column = "timestamp"
value_name = "Pedestrians"
unit = "people/hour"
domain = "pedestrian_count"

[layers.sensors]
path = "sensors.geojson"
id_column = "sensor_id"
label_column = "name"
"""


def tiny_sensors() -> dict:
    pts = [("a", "Market St", 2.35, 48.85), ("b", "Station", 2.36, 48.86), ("c", "Park", 2.34, 48.87)]
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"sensor_id": s, "name": n},
         "geometry": {"type": "Point", "coordinates": [x, y]}} for s, n, x, y in pts]}


def tiny_series(hours: int = 72) -> pd.DataFrame:
    t = pd.date_range("2024-05-01", periods=hours, freq="h")
    rng = np.random.default_rng(0)
    base = 100 + 80 * np.sin(np.arange(hours) / 24 * 2 * np.pi)[:, None]
    df = pd.DataFrame((base + rng.normal(0, 5, (hours, 3))).round(1), columns=["a", "b", "c"])
    df.insert(0, "timestamp", t.strftime("%Y-%m-%d %H:%M"))
    return df


def write_tiny_city(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "city.toml").write_text(TINY_MANIFEST)
    (folder / "sensors.geojson").write_text(json.dumps(tiny_sensors()))
    tiny_series().to_csv(folder / "series.csv", index=False)
    return folder


@pytest.fixture()
def tiny_city_dir(tmp_path: Path) -> Path:
    return write_tiny_city(tmp_path / "tiny")


@pytest.fixture(scope="session")
def la():
    return load_city("los-angeles")


@pytest.fixture(scope="session")
def melbourne():
    return load_city("melbourne")


# --- bad-input corpus summary -------------------------------------------------------------------------------
_BAD_INPUT: dict[str, int] = {"tried": 0, "clear": 0, "unclear": 0, "known_gap": 0}


def pytest_collection_modifyitems(items):
    for item in items:
        if any(word in item.nodeid for word in ("test_bad_", "test_refuses_", "_is_refused", "any_link_is")):
            item.add_marker(pytest.mark.badinput)


def pytest_runtest_logreport(report):
    if report.when == "call" and "badinput" in report.keywords:
        _BAD_INPUT["tried"] += 1
        if hasattr(report, "wasxfail"):  # a hole the corpus knows about (xfail, strict): listed, not hidden
            _BAD_INPUT["known_gap"] += 1
        else:
            _BAD_INPUT["clear" if report.passed else "unclear"] += 1


# --- rows kept under load and across crashes (tests/reliability records here) ---------------------------------
_ROWS: dict[str, list] = {"checks": [], "notes": []}


def record_rows(check: str, acked: int, found: int, note: str = "") -> None:
    """A reliability test reports how many workshop rows were acknowledged and how many of those were found."""
    _ROWS["checks"].append((check, acked, found))
    if note:
        _ROWS["notes"].append(f"{check}: {note}")


def pytest_terminal_summary(terminalreporter):
    if _BAD_INPUT["tried"]:
        terminalreporter.write_sep("-", "bad-input corpus")
        terminalreporter.write_line(
            f"bad-input cases tried: {_BAD_INPUT['tried']}, refused with a clear error: {_BAD_INPUT['clear']}, "
            f"unclear or traceback: {_BAD_INPUT['unclear']}"
            + (f", known gaps (xfail): {_BAD_INPUT['known_gap']}" if _BAD_INPUT["known_gap"] else ""))
    if _ROWS["checks"]:
        acked = sum(a for _, a, _ in _ROWS["checks"])
        found = sum(min(f, a) for _, a, f in _ROWS["checks"])
        terminalreporter.write_sep("-", "workshop rows under load and crashes")
        terminalreporter.write_line(
            f"rows acknowledged: {acked}, found afterwards: {found}, rows lost: {acked - found} "
            f"({', '.join(c for c, _, _ in _ROWS['checks'])})")
        for line in _ROWS["notes"]:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (tests/browser and tests/visual): a second Playwright started
    while the first runs fails ("Sync API inside the asyncio loop")."""
    from tests.browser.conftest import _unavailable

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    from explorer.bench.common import CHROMIUM, CHROMIUM_FLAGS

    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield b
        b.close()
