"""Home on a session's first page: the map is drawn first, then the browser asks for the daily-profile chart."""

from __future__ import annotations

import pytest

from tests.browser.helpers import exception_boxes, wait_ready

pytestmark = pytest.mark.browser


def test_home_chart_follows_the_map(page, app_url):
    page.goto(f"{app_url}/?city=los-angeles")
    wait_ready(page, selector='[data-testid="stPlotlyChart"] .main-svg')
    assert exception_boxes(page) == []
    seen = page.evaluate("""() => ({
        map: (window.__deckmap.log.find(r => r.id === 'home_map') || {}).t,
        trigger: window.__homeAfterMap && window.__homeAfterMap.last,
        charts: document.querySelectorAll('[data-testid="stPlotlyChart"]').length })""")
    assert seen["charts"] == 1
    assert seen["trigger"] is not None and seen["map"] is not None
    assert seen["trigger"]["t"] >= seen["map"], "the chart was asked for before the map was drawn"
    assert seen["trigger"]["waited"] < 3000, "the trigger gave up waiting for the map"
    assert "through the day" in page.inner_text('[data-testid="stPlotlyChart"]')
