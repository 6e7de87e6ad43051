"""Done-when of issue 17: a city the project never saw, from two files in a temporary folder to a What-if result
with an event. `city add` (long CSV, string ids, nothing told about the layout) + `city train` with small
settings; before training every model page says so with the command; after it What if generates."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from explorer.cli import app
from explorer.settings import get_settings
from tests.cities.newcity import write_new_city_files

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "app_pages"
SLUG = "river-town"
runner = CliRunner()
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cities(tmp_path_factory):
    """EXPLORER_CITIES_DIR -> a fresh folder for this module (restored afterwards)."""
    root = tmp_path_factory.mktemp("e2e")
    old = os.environ.get("EXPLORER_CITIES_DIR")
    os.environ["EXPLORER_CITIES_DIR"] = str(root / "cities")
    get_settings.cache_clear()
    yield root
    if old is None:
        os.environ.pop("EXPLORER_CITIES_DIR", None)
    else:
        os.environ["EXPLORER_CITIES_DIR"] = old
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def added(cities):
    sensors, series = write_new_city_files(cities / "downloads", n_sensors=12, days=91, start="2014-01-06")
    out = runner.invoke(app, ["city", "add", "--slug", SLUG, "--name", "River Town", "--timezone",
                              "Australia/Melbourne", "--holidays-subdivision", "VIC", "--sensors", str(sensors),
                              "--sensor-id-column", "name", "--series", str(series), "--value-name", "Pedestrians",
                              "--unit", "people/hour", "--domain", "pedestrian_count"])
    assert out.exit_code == 0, out.output
    return out.output


@pytest.fixture(scope="module")
def trained(added):  # noqa: ARG001 (trains the city the fixture added)
    out = runner.invoke(app, ["city", "train", SLUG, "--minutes", "2", "--generator-steps", "60",
                              "--imputer-steps", "60"])
    assert out.exit_code == 0, out.output
    return out.output


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=300)
    at.query_params["city"] = SLUG
    return at.run()


def test_add_detects_the_long_table_and_says_what_is_next(added):
    assert "read as a long table: time 'Date_Time', sensor 'Sensor_Name', value 'Hourly_Counts'" in added
    assert f"next: explorer city train {SLUG}" in added and "min on 2 cores" in added


@pytest.mark.usefixtures("added")
def test_before_training_pages_say_so_with_the_command():
    at = _page("scenario.py")
    assert not at.exception
    shown = " ".join(i.value for i in at.info) + " ".join(c.value for c in at.code)
    assert "has no trained scenario model" in shown and f"explorer city train {SLUG}" in shown
    assert "minutes on 2 CPU cores" in " ".join(c.value for c in at.caption)
    assert any("No trained models yet" in w.value for w in at.sidebar.warning)

    health = _page("health.py")  # the missing-data view still shows; the imputed part says what to run
    assert not health.exception
    assert health.get("plotly_chart"), "the missing-data charts should still draw"
    assert "has no trained gap-filling model" in " ".join(i.value for i in health.info)

    card = _page("model_card.py")
    assert not card.exception and f"explorer city train {SLUG}" in " ".join(c.value for c in card.code)
    for name in ("home.py", "ask.py"):  # the other city pages still open, with the sidebar note
        other = _page(name)
        assert not other.exception, (name, other.exception)
        assert any("No trained models yet" in w.value for w in other.sidebar.warning), name
    assert not _page("compare.py").exception  # (no city picker: it compares kept What-if scenarios)


def test_train_writes_checked_checkpoints(trained, cities):
    assert "ETA" in trained and "[1/2] generator" in trained and "[2/2] imputer" in trained
    assert "generated_percent_more" in trained and "seasonal_profile_mae" in trained and "Done in" in trained
    models = cities / "cities" / SLUG / "models"
    for kind in ("generator", "imputer"):
        meta = json.loads((models / f"{kind}.json").read_text())
        assert meta["city"] == SLUG and (models / f"{kind}.safetensors").is_file()
        assert meta["command"] == f"explorer city train {SLUG}"


@pytest.mark.usefixtures("trained")
def test_what_if_generates_an_event_for_the_new_city():
    at = _page("scenario.py")
    assert not at.exception
    assert at.title[0].value == "What if… River Town"
    tour = [b for b in at.sidebar.button if b.key and b.key.startswith("sc_tour_")]
    assert len(tour) >= 3  # derived from the history: a typical weekday, surges, a holiday
    tour[1].click().run()  # the largest surge of the history, replayed
    assert not at.exception
    assert at.session_state.sc_has_event
    metrics = {m.label: m.value for m in at.metric}
    affected = int(metrics["Sensors affected"].split(" of ")[0])
    assert affected >= 1 and metrics["Sensors affected"].endswith("of 12")
    assert "No event yet" not in " ".join(i.value for i in at.info)
