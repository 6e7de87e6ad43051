"""The Model card in Chromium: a real held-out event beside what the generator made of its origin alone."""

from __future__ import annotations

import pytest

from tests.browser.helpers import exception_boxes, wait_ready

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("city", ["melbourne", "los-angeles"])
def test_model_card_shows_a_held_out_event_beside_its_generated_footprint(page, app_url, shots, city):
    page.goto(f"{app_url}/model_card?city={city}")
    wait_ready(page)
    assert exception_boxes(page) == []
    page.get_by_text("A real event it never saw", exact=False).first.wait_for(timeout=120_000)
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for(timeout=120_000)
    chart.scroll_into_view_if_needed()
    text = chart.inner_text()
    assert "What really happened" in text and "Generated from the origin only" in text
    # both maps hold one marker per sensor with a reading, plus the origin's star; the line chart its traces
    points = chart.locator("g.scatterlayer path.point").count()
    assert points > 20, points
    chart.screenshot(path=str(shots / f"model-card-footprint-{city}.png"))
    page.screenshot(path=str(shots / f"model-card-{city}.png"), full_page=True)
