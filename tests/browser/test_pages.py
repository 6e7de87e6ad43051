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
