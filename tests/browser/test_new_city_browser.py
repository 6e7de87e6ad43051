"""A city the project never saw, in a real browser: two files -> `city add` + `city train` (small settings) ->
the app started on it -> What if with the largest surge of its history replayed draws a map with numbers;
before that, the Add-a-city page refuses a broken upload naming the uploaded file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from explorer.cities import load_city
from explorer.cli import app as cli
from explorer.presets import presets_for
from explorer.settings import get_settings
from explorer.share import SharedRun, encode
from tests.browser.conftest import app_server
from tests.browser.helpers import drawn_fraction, exception_boxes, map_pixels, wait_ready
from tests.cities.newcity import write_new_city_files

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SLUG = "harbour-town"
METRIC = '[data-testid="stMetricValue"]'


@pytest.fixture(scope="module")
def new_city(tmp_path_factory):
    """The city folder, added and trained from two files, in its own cities folder."""
    root = tmp_path_factory.mktemp("newcity")
    cities = root / "cities"
    sensors, series = write_new_city_files(root / "downloads", n_sensors=12, days=91, start="2014-01-06")
    mp = pytest.MonkeyPatch()
    mp.setenv("EXPLORER_CITIES_DIR", str(cities))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        out = runner.invoke(cli, ["city", "add", "--slug", SLUG, "--name", "Harbour Town", "--timezone",
                                  "Australia/Melbourne", "--sensors", str(sensors), "--sensor-id-column", "name",
                                  "--series", str(series), "--value-name", "Pedestrians", "--unit", "people/hour",
                                  "--domain", "pedestrian_count"])
        assert out.exit_code == 0, out.output
        out = runner.invoke(cli, ["city", "train", SLUG, "--minutes", "2", "--generator-steps", "80",
                                  "--imputer-steps", "60"])
        assert out.exit_code == 0, out.output
        city = load_city(cities / SLUG)
        surge = next(p for p in presets_for(city) if p.scenario.events)
    finally:
        mp.undo()
        get_settings.cache_clear()
    return cities, surge, root


@pytest.fixture(scope="module")
def new_city_url(new_city):
    cities, _, _ = new_city
    env = {"EXPLORER_CITIES_DIR": str(cities), "EXPLORER_DEFAULT_CITY": SLUG}
    with app_server("server-new-city.log", extra_env=env, launcher="explorer") as (url, _):
        yield url


def test_new_city_what_if_draws_the_replayed_surge(page, new_city, new_city_url, shots):
    _, surge, _ = new_city
    q = "&".join(f"{k}={v}" for k, v in encode(SharedRun(surge.scenario, 0, 32, "")).items())
    page.goto(f"{new_city_url}/scenario?{q}")
    wait_ready(page, selector=METRIC)
    assert exception_boxes(page) == []
    assert "What if… Harbour Town" in page.inner_text("h1")
    metrics = [e.inner_text() for e in page.query_selector_all(METRIC)]
    affected = next(m for m in metrics if " of 12" in m)
    assert int(affected.split(" of ")[0]) >= 1, metrics
    pixels = map_pixels(page)
    page.screenshot(path=str(shots / "new-city-what-if.png"), full_page=True)
    assert drawn_fraction(pixels) > 0.02, "the map did not draw"
    assert "No event yet" not in page.inner_text("body")


def test_add_city_page_names_the_uploaded_file(page, new_city, new_city_url, shots):
    _, _, root = new_city
    bad = root / "downloads" / "counts-with-inf.csv"
    lines = (root / "downloads" / "counts.csv").read_text().splitlines()
    head, first = lines[0], lines[1].rsplit(",", 1)[0]
    bad.write_text("\n".join([head, first + ",inf", *lines[2:400]]) + "\n")
    page.goto(f"{new_city_url}/add_city")
    wait_ready(page, selector="text=Check and add the city")
    page.get_by_label("City name").fill("Broken Town")
    page.get_by_label("Name of the readings").fill("Pedestrians")
    page.get_by_label("Unit").fill("people/hour")
    page.get_by_label("Sensor id column (in the sensor file)").fill("name")
    inputs = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    inputs.nth(0).set_input_files(str(root / "downloads" / "counters.geojson"))
    inputs.nth(1).set_input_files(str(bad))
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Check and add the city").click()
    wait_ready(page, selector='[data-testid="stAlertContentError"]')
    msg = page.locator('[data-testid="stAlertContentError"]').first.inner_text()
    page.screenshot(path=str(shots / "new-city-add-page-error.png"), full_page=True)
    assert msg.startswith("counts-with-inf.csv:") and "not a finite number" in msg and "How to fix" in msg, msg
    assert json.dumps(msg).count("tmp") == 0
    assert exception_boxes(page) == []
