"""The What-if page in a real browser: the map's hour changes its pixels, links reproduce numbers, and
workshop mode fits a projector at 1280x720 and 1920x1080 (Play: test_map_browser.py)."""

from __future__ import annotations

import base64
import json
import re

import pytest

from explorer.scenarios.schema import Scenario
from explorer.share import SharedRun, encode
from tests.browser.helpers import MAP, changed_fraction, drawn_fraction, exception_boxes, map_pixels, wait_ready

pytestmark = pytest.mark.browser

EVENT = Scenario.model_validate({
    "city": "melbourne", "day": {"day_of_week": 4}, "start_hour": 16, "horizon_hours": 6,
    "events": [{"place": {"sensor_id": "4"}, "magnitude": 20000, "unit": "people", "start_offset_hours": 2,
                "duration_hours": 3, "reach_km": 0.4}]})


def _link(app_url: str, extra: str = "") -> str:
    q = "&".join(f"{k}={v}" for k, v in encode(SharedRun(EVENT, 3, 32, "")).items())
    return f"{app_url}/scenario?{q}{extra}"


METRIC = '[data-testid="stMetricValue"]'


def _metrics(page) -> list[str]:
    return [e.inner_text() for e in page.query_selector_all('[data-testid="stMetricValue"]')]


def test_hour_slider_changes_the_map(page, app_url, shots):
    page.goto(_link(app_url))
    wait_ready(page, selector=METRIC)
    assert exception_boxes(page) == []
    # the scenario's levels: every counter changes from 16:00 to 19:00 (the difference view shows only the
    # counters the crowd reaches, a single column here)
    page.locator(MAP).get_by_role("button", name="Scenario").click()
    hour = page.locator(MAP).get_by_role("slider", name="Hour")
    hour.fill("0")
    before = map_pixels(page)
    assert drawn_fraction(before) > 0.02
    page.screenshot(path=str(shots / "scenario-melbourne-hour0.png"))
    hour.focus()
    for _ in range(3):  # into the event
        page.keyboard.press("ArrowRight")
    after = map_pixels(page)
    page.screenshot(path=str(shots / "scenario-melbourne-hour3.png"))
    assert page.locator(MAP).get_attribute("data-rendered-hour") == "3"
    changed = changed_fraction(before, after)
    assert changed > 0.002, f"only {changed:.4%} of the map's pixels changed"
    assert exception_boxes(page) == []


def test_shared_link_gives_same_numbers_in_a_fresh_browser(browser, page, app_url):
    page.goto(_link(app_url))
    wait_ready(page, selector=METRIC)
    first = _metrics(page)
    url = page.url
    assert "s=" in url and "seed=3" in url
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = ctx.new_page()
    other.goto(url)
    wait_ready(other, selector=METRIC)
    assert _metrics(other) == first
    assert len(first) == 3
    ctx.close()


@pytest.mark.parametrize(("w", "h"), [(1280, 720), (1920, 1080)])
def test_workshop_mode_fits_the_projector(browser, app_url, shots, w, h):
    ctx = browser.new_context(viewport={"width": w, "height": h})
    page = ctx.new_page()
    page.goto(_link(app_url, "&workshop=1"))
    wait_ready(page, selector=METRIC)
    assert exception_boxes(page) == []
    pixels = map_pixels(page)
    page.screenshot(path=str(shots / f"workshop-{w}x{h}.png"))
    assert drawn_fraction(pixels) > 0.01  # Melbourne's network (a 3D column at every sensor once drew 2.5x this)
    red = (pixels[..., 0] > 150) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
    assert red.sum() > 200, "the event's column (red: more people) is not on the map"
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the screen"
    cut = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMetricValue"] div, h1')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")
    assert cut == [], f"text cut off: {cut}"
    big = page.evaluate("""() => parseFloat(getComputedStyle(
        document.querySelector('[data-testid="stMetricValue"]')).fontSize)""")
    assert big >= 36
    assert page.get_by_text("Advanced").count() == 0
    ctx.close()


class FragmentReruns:
    """The rerun requests this page sends (CDP): the fragment each asks for ("" = the whole page)."""

    def __init__(self, page) -> None:
        self.fragments: list[str] = []
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Network.webSocketFrameSent", self._sent)
        self.cdp.send("Network.enable")

    def _sent(self, event: dict) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        r = event["response"]
        if r.get("opcode") == 2:
            msg = BackMsg()
            msg.ParseFromString(base64.b64decode(r.get("payloadData", "")))
            if msg.WhichOneof("type") == "rerun_script":
                self.fragments.append(msg.rerun_script.fragment_id)


CHART_START = "() => [...document.querySelectorAll('.js-plotly-plot')].map(g => String(g.data[0].x[0]))"


def test_a_scenario_control_reruns_the_map_then_the_charts(page, app_url, shots):
    """Start hour +1: the browser asks for the map's fragment only (not the page), draws the new map, then asks for
    the details, whose charts start an hour later."""
    page.goto(_link(app_url))
    wait_ready(page, selector=METRIC)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length == 2")
    charts_before = page.evaluate(CHART_START)
    drawn_before = page.locator(MAP).get_attribute("data-rendered-data")
    sent = FragmentReruns(page)
    page.get_by_role("slider", name=re.compile("^Start hour( |$)")).focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"(b) => document.querySelector('{MAP}').dataset.renderedData !== b", arg=drawn_before)
    page.wait_for_function(f"(b) => JSON.stringify(({CHART_START})()) !== b", arg=json.dumps(charts_before))
    wait_ready(page, selector=METRIC)
    drawn = page.locator(MAP).get_attribute("data-rendered-data")
    t_map = page.evaluate("(k) => window.__deckmap.log.find(r => r.data === k).t", drawn)
    t_ask = page.evaluate("() => window.__whatifAfterMap.last.t")
    assert t_map <= t_ask, "the charts were asked for before the map was drawn"
    # two requests, neither for the whole page: the control's, then the map's "drawn" trigger (in the same
    # fragment), whose callback reruns the details fragment instead (the charts changed: it ran)
    assert len(sent.fragments) == 2 and all(sent.fragments) and len(set(sent.fragments)) == 1, sent.fragments
    charts_after = page.evaluate(CHART_START)
    hour = [int(x.split()[-1].split(":")[0]) for x in charts_before + charts_after]  # "Fri 16:00"
    assert [(a - b) % 24 for a, b in zip(hour[2:], hour[:2], strict=True)] == [1, 1], (charts_before, charts_after)
    assert exception_boxes(page) == []
    page.screenshot(path=str(shots / "scenario-melbourne-start-hour-step.png"))
