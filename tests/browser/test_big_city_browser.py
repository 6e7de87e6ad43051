"""A 10,000-sensor synthetic city in a real browser: the What-if page loads, the hexagon map draws,
changes with the hour, plays the horizon, and a clicked area shows its sensors."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest

from explorer.cities.synthetic import cached_synthetic_city, synthetic_slug
from explorer.scenarios.schema import Scenario
from explorer.share import SharedRun, encode
from tests.browser.conftest import app_server
from tests.browser.helpers import MAP, changed_fraction, drawn_fraction, exception_boxes, map_pixels, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.slow]

N = 10_000
SLUG = synthetic_slug("los-angeles", N, 0)
METRIC = '[data-testid="stMetricValue"]'


@pytest.fixture(scope="module")
def big_app_url(tmp_path_factory) -> Iterator[str]:
    """The app on its own port, pointed at a cities folder holding only the synthetic city."""
    cities = tmp_path_factory.mktemp("cities")
    (cities / SLUG).symlink_to(cached_synthetic_city(N, 0), target_is_directory=True)  # built once, cached
    env = {"EXPLORER_CITIES_DIR": str(cities), "EXPLORER_DEFAULT_CITY": SLUG}
    with app_server("server-big-city.log", extra_env=env, drop_env=("EXPLORER_",)) as (url, _):
        yield url


def _link(url: str) -> str:
    sc = Scenario.model_validate({
        "city": SLUG, "day": {"day_of_week": 4}, "start_hour": 16, "horizon_hours": 6,
        "events": [{"place": {"sensor_id": "s00010"}, "magnitude": 50, "unit": "percent_slower",
                    "start_offset_hours": 2, "duration_hours": 3, "reach_km": 8}]})
    q = "&".join(f"{k}={v}" for k, v in encode(SharedRun(sc, 0, 32, "")).items())
    return f"{url}/scenario?{q}"


def _note(page) -> str:
    return page.locator(MAP).locator(".xdm-note").inner_text()


def _inside_a_drawn_area(pixels: np.ndarray, margin: int = 4) -> tuple[float, float]:
    """(y, x) of the drawn pixel nearest the map's centre whose neighbourhood is drawn too (not an edge)."""
    drawn = np.abs(pixels.astype(int) - 255).max(axis=2) > 40
    core = drawn.copy()
    for dy in range(-margin, margin + 1):
        for dx in range(-margin, margin + 1):
            core &= np.roll(np.roll(drawn, dy, 0), dx, 1)
    pts = np.argwhere(core)
    assert len(pts), "nothing drawn to click on"
    h, w = drawn.shape
    y, x = pts[np.argmin(np.hypot(pts[:, 0] - h / 2, pts[:, 1] - w / 2))]
    return float(y), float(x)


def test_ten_thousand_sensor_city_loads_animates_and_drills_down(page, big_app_url, shots):
    page.set_default_timeout(120_000)
    page.goto(_link(big_app_url))
    wait_ready(page, timeout_ms=150_000, selector=METRIC)
    assert exception_boxes(page) == []
    note = _note(page)
    assert f"{N:,} sensors shown as" in note, note
    kb = int(re.search(r"([\d,]+) kB sent for the whole horizon", note).group(1).replace(",", ""))
    assert kb < 1000, note  # hexagons for every hour, not 10,000 sensor rows per hour (~3,900 kB each)
    before = map_pixels(page)
    page.screenshot(path=str(shots / "big-city-10k-hour0.png"))
    assert drawn_fraction(before) > 0.02, "the hexagon map did not draw"

    m = page.locator(MAP)
    slider = m.get_by_role("slider", name="Hour")
    slider.fill("0")
    before = map_pixels(page)
    slider.focus()
    for _ in range(3):  # into the event
        page.keyboard.press("ArrowRight")
    after = map_pixels(page)
    page.screenshot(path=str(shots / "big-city-10k-hour3.png"))
    assert drawn_fraction(after) > 0.02
    changed = changed_fraction(before, after)
    assert changed > 0.002, f"only {changed:.4%} of the map's pixels changed between hours"

    slider.fill("0")
    m.get_by_role("button", name="Play").click()
    page.wait_for_function(f"() => document.querySelector('{MAP}').dataset.playing === 'false'", timeout=60_000)
    seen = page.evaluate("() => window.__deckmap.log.filter(r => r.id === 'sc_map').map(r => r.hour)")
    assert set(range(6)) <= set(seen), seen
    assert m.locator(".xdm-time").inner_text() == "Fri 21:00"

    # full detail on demand: click a drawn area near the map's centre, its sensors appear one by one
    y, x = _inside_a_drawn_area(map_pixels(page))
    box = page.locator(MAP).locator(".xdm-stage").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)  # deck.gl picks what the pointer is over
    page.wait_for_timeout(1000)
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.get_by_text("Selected area:").first.wait_for(timeout=60_000)
    wait_ready(page, timeout_ms=60_000)
    detail = map_pixels(page)
    page.screenshot(path=str(shots / "big-city-10k-selected-area.png"))
    assert drawn_fraction(detail) > 0.02
    assert re.search(r"Selected area: \d+ sensors", _note(page)), _note(page)
    assert exception_boxes(page) == []


def test_ten_thousand_sensor_city_home_draws_areas(page, big_app_url, shots):
    """The Home page of the large city draws hexagonal areas (not 10,000 sensors and their graph links)."""
    page.set_default_timeout(120_000)
    page.goto(big_app_url)
    wait_ready(page, timeout_ms=150_000, selector=METRIC)
    assert exception_boxes(page) == []
    captions = " ".join(e.inner_text() for e in page.query_selector_all('[data-testid="stCaptionContainer"]'))
    assert re.search(r"10,000 sensors in [\d,]+ hexagonal areas", captions), captions
    pixels = map_pixels(page)
    page.screenshot(path=str(shots / "big-city-10k-home.png"))
    assert drawn_fraction(pixels) > 0.02, "the Home map did not draw"
