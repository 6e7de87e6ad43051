"""Open every page in headless Chromium: no exception box, maps draw, screenshots kept as artefacts."""

from __future__ import annotations

import pytest

from tests.browser.helpers import drawn_fraction, exception_boxes, map_pixels, wait_ready

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("city", "sensors"), [("los-angeles", 207), ("melbourne", 39)])
def test_home_draws_every_layer(page, app_url, shots, city, sensors):
    page.goto(f"{app_url}/?city={city}")
    wait_ready(page)
    assert exception_boxes(page) == []
    pixels = map_pixels(page)
    page.screenshot(path=str(shots / f"home-{city}.png"), full_page=True)
    assert drawn_fraction(pixels) > 0.02, "the map canvas drew almost nothing"
    body = page.inner_text("body")
    assert str(sensors) in body
    assert "Legend" in body or "legend" in page.content()


def test_server_started_as_the_readme_does_warms_the_default_city(page, app_url):
    """The session's server runs ``explorer app``: the city, Home's map and the generator are loaded in the
    background (its log says what and how long), and the pages then find them in the shared caches."""
    from tests.browser.conftest import ROOT

    page.goto(f"{app_url}/scenario")
    wait_ready(page)
    log = (ROOT / "artifacts" / "server.log").read_text()
    line = next((ln for ln in log.splitlines() if "warm-up of los-angeles:" in ln), "")
    for step in ("city", "home map", "home chart", "what-if roads and generator"):
        assert f"{step} " in line, log[-2000:]
    assert "Traceback" not in log


@pytest.mark.parametrize(("path", "has_map", "text"), [
    ("scenario?city=los-angeles", True, "What if… Los Angeles"),
    ("compare?city=los-angeles", False, "Compare scenarios"),
    ("health?city=melbourne", False, "Data health: Melbourne"),
    ("model_card?city=los-angeles", False, "Model card: Los Angeles"),
])
def test_every_page_opens(page, app_url, shots, path, has_map, text):
    page.goto(f"{app_url}/{path}")
    wait_ready(page, selector="h1")
    page.wait_for_selector(f"text={text}", timeout=90_000)
    wait_ready(page)
    assert exception_boxes(page) == []
    assert not page.query_selector('[data-testid="stAlertContainer"] >> text=/error/i')
    if has_map:
        assert drawn_fraction(map_pixels(page)) > 0.02
    page.screenshot(path=str(shots / f"page-{path.split('?')[0]}.png"), full_page=True)


def test_data_health_shows_imputed_against_measured(page, app_url, shots):
    page.goto(f"{app_url}/health?city=melbourne")
    wait_ready(page, selector='[data-testid="stPlotlyChart"]')
    charts = page.locator('[data-testid="stPlotlyChart"]')
    charts.nth(2).wait_for(timeout=120_000)
    wait_ready(page)
    charts.nth(2).scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    charts.nth(2).screenshot(path=str(shots / "health-melbourne-imputed.png"))
    legend = charts.nth(2).inner_text()
    assert "Measured" in legend and "Imputed (model)" in legend and "Imputed P10–P90" in legend
    assert exception_boxes(page) == []
