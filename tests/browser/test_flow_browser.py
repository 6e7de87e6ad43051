"""A planner's whole session on Los Angeles in a real browser, and proof that nothing leaves the machine."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.browser.helpers import MAP, changed_fraction, exception_boxes, map_pixels, wait_ready

pytestmark = pytest.mark.browser
METRIC = '[data-testid="stMetricValue"]'


def test_planner_session_on_los_angeles(page, app_url, shots, tmp_path):
    hosts = set()
    # a URL without a host (data:, blob:, about:) is recorded by its scheme: it never leaves the machine
    page.on("request", lambda r: hosts.add(urlparse(r.url).hostname or urlparse(r.url).scheme + ":"))
    page.goto(f"{app_url}/scenario?city=los-angeles")
    wait_ready(page, selector=METRIC)
    # the page opens on a preset with an event, at its busiest hour
    assert page.get_by_text("Percent slower").count() >= 1
    busy = map_pixels(page)
    page.screenshot(path=str(shots / "flow-la-event.png"))
    assert page.locator(METRIC).nth(1).inner_text() != "0 of 207"
    # take the event away: the same hour of the difference map turns quiet (and its legend says so)
    page.get_by_text("Add an event", exact=True).click()
    page.wait_for_function("() => !document.body.innerText.includes('Percent slower')", timeout=120_000)
    wait_ready(page)
    quiet = map_pixels(page)
    assert changed_fraction(quiet, busy) > 0.001
    assert "No change" in page.locator(MAP).locator(".xdm-legend").inner_text()
    page.get_by_text("Add an event", exact=True).click()
    wait_ready(page, selector="text=Percent slower")
    assert exception_boxes(page) == []

    # export the offline report and the scenario JSON
    with page.expect_download() as dl:
        page.get_by_role("button", name="Report (HTML, offline)").click()
    report = tmp_path / "report.html"
    dl.value.save_as(report)
    text = report.read_text()
    assert '<section id="map">' in text and "<script src=" not in text
    with page.expect_download() as dl:
        page.get_by_role("button", name="Save scenario (JSON)").click()
    saved = tmp_path / "scenario.json"
    dl.value.save_as(saved)
    assert '"percent_slower"' in saved.read_text()

    # keep it, and compare
    page.get_by_role("button", name="Keep for comparison").click()
    wait_ready(page, selector="text=1 kept")
    page.get_by_role("link", name="Compare").click()
    wait_ready(page, selector=METRIC)
    assert page.locator(METRIC).count() == 3
    page.screenshot(path=str(shots / "flow-la-compare.png"), full_page=True)
    assert exception_boxes(page) == []
    local = {"127.0.0.1", "data:", "blob:", "about:"}
    assert hosts <= local, f"requests left the machine: {hosts - local}"
