"""Visual regression: every page, both bundled cities, at 1280x720 and at 1920x1080 in workshop mode.

Each screen is checked three ways: its screenshot against the committed baseline (tests/visual/baselines/,
halved; maps compared with a looser tolerance), text that does not fit its box (none anywhere on the page), and,
in workshop mode, where the maps are (wholly in the first screen; What if's canvas at least half of it).
Regenerate the baselines with ``make visual-baselines`` (it sets UPDATE_VISUAL_BASELINES=1); a failure leaves the
screenshot and a diff image in artifacts/visual/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from tests.browser.helpers import MAP, exception_boxes, wait_map, wait_ready
from tests.visual.cases import CASES, Case
from tests.visual.checks import maps_on_first_screen, text_overflows
from tests.visual.imagediff import compare, halve, save_baseline

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent
BASELINES = HERE / "baselines"
OUT = HERE.parents[1] / "artifacts" / "visual"
UPDATE = os.environ.get("UPDATE_VISUAL_BASELINES") == "1"

CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                     .every((c) => c.querySelector('.main-svg'))"""


def open_screen(browser, url: str, case: Case, link: str):
    """A fresh session on the case's page, once the script, charts and maps are done; returns (context, page)."""
    ctx = browser.new_context(viewport=case.viewport, device_scale_factor=1)
    page = ctx.new_page()
    page.goto(url + case.path(link))
    wait_ready(page, selector="h1")
    for i in range(case.maps):
        wait_map(page, i)
    page.wait_for_function(CHARTS_DRAWN, timeout=60_000)
    page.mouse.move(case.viewport["width"] - 2, case.viewport["height"] - 2)  # no hover effects
    page.wait_for_timeout(1200)  # colour transitions of the maps end
    return ctx, page


def map_boxes(page) -> list[dict]:
    return [el.bounding_box() for el in page.locator(f"{MAP} .xdm-stage").all()]


def _as_box(b: dict) -> dict:
    return {"left": b["x"], "top": b["y"], "right": b["x"] + b["width"], "bottom": b["y"] + b["height"]}


def check_against_baseline(page, case: Case) -> None:
    actual = halve(page.screenshot())
    path = BASELINES / f"{case.name}.png"
    if UPDATE:
        save_baseline(actual, path)
        return
    if not path.exists():
        pytest.fail(f"no baseline {path.relative_to(HERE.parents[1])}: run `make visual-baselines` and commit it")
    diff = compare(actual, Image.open(path), [_as_box(b) for b in map_boxes(page)])
    if not diff.ok:
        OUT.mkdir(parents=True, exist_ok=True)
        actual.save(OUT / f"{case.name}-actual.png")
        if diff.image is not None:
            diff.image.save(OUT / f"{case.name}-diff.png")
        pytest.fail(f"{case.name}: {diff}; see artifacts/visual/{case.name}-diff.png. If the change is meant, "
                    "run `make visual-baselines` and commit the new baselines.")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_screen(browser, visual_url, compare_links, case):
    ctx, page = open_screen(browser, visual_url, case, compare_links[case.city])
    try:
        assert exception_boxes(page) == []
        where = maps_on_first_screen(page)
        assert len(where["maps"]) == case.maps
        if case.workshop and case.maps:
            assert where["inside"], f"a map or its controls are not wholly on the first screen: {where['maps']}"
            if case.page == "scenario":
                assert where["share"] >= 0.5, f"What if's map covers {where['share']:.0%} of the screen"
        check_against_baseline(page, case)
        cut = text_overflows(page)
        assert not cut, f"{case.name}: text does not fit: {cut[:5]}"
    finally:
        ctx.close()


BROKEN = """
.st-key-ws_head h1 { white-space: nowrap !important; font-size: 5rem !important; }
.st-key-ws_map { margin-top: 320px !important; }
"""


def test_a_broken_layout_fails_every_check(browser, visual_url, compare_links):
    """What if in workshop mode with its title blown up and its map pushed down: the screenshot differs from the
    baseline, text is cut or drawn over other text, and the map leaves the first screen."""
    case = Case("scenario", "los-angeles", "1920")
    ctx, page = open_screen(browser, visual_url, case, compare_links[case.city])
    try:
        assert maps_on_first_screen(page)["inside"] and not text_overflows(page)  # as built, it passes
        page.add_style_tag(content=BROKEN)
        page.wait_for_timeout(1500)
        baseline = Image.open(BASELINES / f"{case.name}.png")
        diff = compare(halve(page.screenshot()), baseline, [_as_box(b) for b in map_boxes(page)])
        assert not diff.ok and diff.page > 0.05, str(diff)
        cut = text_overflows(page)
        assert any("What if" in c["text"] for c in cut), cut
        assert not maps_on_first_screen(page)["inside"]
    finally:
        ctx.close()
