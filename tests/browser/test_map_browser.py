"""The browser map on What if: Play steps through 12 hours redrawing the canvas each hour with no server rerun,
views and 2D/3D switch in the browser, the camera survives a scenario change, a click reaches Python, and the
map fills a projector at 1280x720 and 1920x1080 (screenshots kept in artifacts/screenshots/)."""

from __future__ import annotations

import pytest

from explorer.scenarios.schema import Scenario
from explorer.share import SharedRun, encode
from tests.browser.helpers import (
    HIDE_OVERLAYS,
    MAP,
    Reruns,
    changed_fraction,
    drawn_fraction,
    exception_boxes,
    map_pixels,
    wait_map,
    wait_ready,
)

pytestmark = pytest.mark.browser

STADIUM = Scenario.model_validate({
    "city": "los-angeles", "day": {"day_of_week": 4}, "start_hour": 12, "horizon_hours": 12,
    "events": [{"place": {"sensor_id": "772513"}, "magnitude": 40, "unit": "percent_slower",
                "start_offset_hours": 5, "duration_hours": 3, "reach_km": 3}]})  # fmt: skip


def _link(app_url: str, extra: str = "") -> str:
    q = "&".join(f"{k}={v}" for k, v in encode(SharedRun(STADIUM, 0, 32, "")).items())
    return f"{app_url}/scenario?{q}{extra}"


def _open(page, app_url: str, extra: str = "") -> None:
    page.goto(_link(app_url, extra))
    wait_ready(page, selector=MAP)
    wait_map(page)
    assert exception_boxes(page) == []


def _state(page) -> dict:
    return page.evaluate(f"() => ({{...document.querySelector('{MAP}').dataset}})")


def test_play_redraws_every_hour_without_a_rerun(page, app_url, shots):
    """Play through 12 hours: every hour is drawn, the canvas's pixels (hashed from the WebGL drawing buffer
    after each frame, so slow screenshots cannot miss a step) change at every step, and the server runs no
    script meanwhile (counted at the websocket: no rerun asked, none finished)."""
    _open(page, app_url)
    m = page.locator(MAP)
    m.get_by_role("button", name="Scenario").click()  # speeds change every hour (the difference is grey early on)
    m.get_by_role("slider", name="Hour").fill("0")
    wait_map(page)
    first = map_pixels(page)
    assert drawn_fraction(first) > 0.05
    reruns = Reruns(page)
    page.wait_for_timeout(500)
    before = reruns.counts()
    page.evaluate("() => { window.__deckmap.capture = true; window.__deckmap.frames = []; }")
    m.get_by_role("button", name="Play").click()
    page.wait_for_function(f"() => document.querySelector('{MAP}').dataset.playing === 'false'", timeout=120_000)
    wait_map(page)
    page.wait_for_timeout(800)  # the last colour transition
    page.evaluate("() => { window.__deckmap.capture = false; }")
    frames = page.evaluate("() => window.__deckmap.frames.filter(f => f.id === 'sc_map' && f.view === 'scenario')")
    last = {f["hour"]: f for f in frames}  # the last frame drawn at each hour: its colours fully arrived
    assert sorted(last) == list(range(12)), sorted(last)
    steps = [(h, last[h - 1]["fp"] != last[h]["fp"]) for h in range(1, 12)]
    assert all(changed for _, changed in steps), steps
    assert min(f["drawn"] for f in last.values()) > 0.05  # never a blank canvas
    assert reruns.counts() == before, f"the server ran the script during Play: {before} -> {reruns.counts()}"
    assert _state(page)["renderedHour"] == "11" and m.locator(".xdm-time").inner_text() == "Fri 23:00"
    end = map_pixels(page)
    assert changed_fraction(first, end) > 0.002
    page.screenshot(path=str(shots / "map-play-end.png"))


def test_views_3d_and_the_camera_stay_in_the_browser(page, app_url, shots):
    _open(page, app_url)
    page.add_style_tag(content=HIDE_OVERLAYS)
    m = page.locator(MAP)
    reruns = Reruns(page)
    page.wait_for_timeout(300)
    start = reruns.counts()
    diff = map_pixels(page)
    m.get_by_role("button", name="Baseline").click()
    base = map_pixels(page)
    m.get_by_role("button", name="3D").click()
    flat = map_pixels(page)
    page.screenshot(path=str(shots / "map-baseline-2d.png"))
    assert changed_fraction(diff, base) > 0.002 and changed_fraction(base, flat) > 0.002
    assert _state(page)["threeD"] == "false"
    assert reruns.counts() == start  # none of it asked the server
    # move the camera, then change the scenario (a real rerun, new data): the camera stays where it was put
    box = m.locator(".xdm-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 160, y + 60, steps=8)
    page.mouse.up()
    page.wait_for_timeout(500)
    camera = page.evaluate(f"() => document.querySelector('{MAP}').parentElement.__xdm.viewState")
    key = _state(page)["renderedData"]
    slider = page.get_by_role("slider", name="Reach (km)")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => document.querySelector('{MAP}').dataset.renderedData !== '{key}'", timeout=120_000)
    wait_ready(page)
    after = page.evaluate(f"() => document.querySelector('{MAP}').parentElement.__xdm.viewState")
    assert abs(after["longitude"] - camera["longitude"]) < 1e-6 and abs(after["latitude"] - camera["latitude"]) < 1e-6
    assert _state(page)["view"] == "baseline" and _state(page)["threeD"] == "false"  # the user's choices kept
    assert reruns.counts()[1] > start[1]


def test_a_click_on_a_sensor_reaches_python(page, app_url):
    _open(page, app_url)
    m = page.locator(MAP)
    m.get_by_role("button", name="3D").click()  # dots: easier to hit than columns seen at an angle
    wait_map(page)
    page.wait_for_timeout(800)
    target = page.evaluate(f"""() => {{
        const v = document.querySelector('{MAP}').parentElement.__xdm;
        const pos = v.base.arrays.spos, vp = v.deck.getViewports()[0];
        let best = null;  // the sensor nearest the map's centre (clear of the clock and legend overlays)
        for (let k = 0; k < pos.length / 2; k++) {{
            const [x, y] = vp.project([pos[2 * k], pos[2 * k + 1]]);
            const d = Math.hypot(x - vp.width / 2, y - vp.height / 2);
            if (!best || d < best.d) best = {{x, y, d, label: v.base.header.labels[k]}};
        }}
        return best;
    }}""")
    box = m.locator(".xdm-map").bounding_box()
    page.mouse.move(box["x"] + target["x"], box["y"] + target["y"])
    page.wait_for_timeout(500)
    tip = m.locator(".xdm-tip").inner_text()
    assert target["label"] in tip and "generated by the model" in tip
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    page.get_by_text(target["label"], exact=True).first.wait_for(timeout=60_000)  # the sensor's chart title
    wait_ready(page)
    assert exception_boxes(page) == []


@pytest.mark.parametrize(("w", "h"), [(1280, 720), (1920, 1080)])
def test_projector_sizes_and_fullscreen(browser, app_url, shots, w, h):
    ctx = browser.new_context(viewport={"width": w, "height": h})
    page = ctx.new_page()
    _open(page, app_url, "&workshop=1")
    m = page.locator(MAP)
    m.scroll_into_view_if_needed()
    pixels = map_pixels(page)
    assert drawn_fraction(pixels) > 0.05, "the map did not draw"
    clock = m.locator(".xdm-time").inner_text()
    assert clock.startswith("Fri ")
    bar = m.locator(".xdm-bar").bounding_box()
    assert bar["x"] >= 0 and bar["x"] + bar["width"] <= w  # every control on screen
    page.screenshot(path=str(shots / f"map-workshop-{w}x{h}.png"))
    m.get_by_role("button", name="Full screen").click()
    page.wait_for_function("() => !!document.fullscreenElement", timeout=10_000)
    wait_map(page)
    page.wait_for_timeout(1200)
    page.screenshot(path=str(shots / f"map-fullscreen-{w}x{h}.png"))
    full = m.bounding_box()
    assert full["width"] >= w - 2 and full["height"] >= h - 2
    ctx.close()
