"""Data health in the browser: sampled fills drawn as thin lines inside the imputed band (Los Angeles)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.browser.helpers import changed_fraction, colour_fraction, exception_boxes, wait_ready

SAMPLE_RGB = (190, 90, 0)  # explorer/render/health.py: the sampled fills' line colour (75 % opaque on white)


def _pixels(locator) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB"))


def test_data_health_draws_sampled_fills(page, app_url, shots):
    page.goto(f"{app_url}/health?city=los-angeles")
    wait_ready(page, selector='[data-testid="stPlotlyChart"]')
    charts = page.locator('[data-testid="stPlotlyChart"]')
    charts.nth(2).wait_for(timeout=120_000)
    wait_ready(page)
    chart = charts.nth(2)
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    chart.screenshot(path=str(shots / "health-los-angeles-sampled-fills.png"))
    legend = chart.inner_text()
    assert "Sampled fills (imputed)" in legend and "Imputed P10–P90" in legend and "Imputed (model)" in legend
    with_lines = _pixels(chart)
    chart.locator("g.traces", has_text="Sampled fills (imputed)").locator("rect.legendtoggle").click()  # hide them
    page.wait_for_timeout(1200)
    without = _pixels(chart)
    chart.screenshot(path=str(shots / "health-los-angeles-sampled-fills-hidden.png"))
    assert changed_fraction(with_lines, without) > 0.002, "hiding the sampled fills changed nothing: not drawn"
    assert colour_fraction(with_lines, (201, 128, 64), tol=30) > colour_fraction(without, (201, 128, 64), tol=30)
    chart.locator("g.traces", has_text="Sampled fills (imputed)").locator("rect.legendtoggle").click()  # back on
    page.wait_for_timeout(800)
    box = chart.locator("rect.nsewdrag").first.bounding_box()  # the plot area: drag over its first fifth to zoom
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.2, y + 5, steps=8)
    page.mouse.up()
    page.wait_for_timeout(1200)
    chart.screenshot(path=str(shots / "health-los-angeles-sampled-fills-zoomed.png"))
    zoomed = _pixels(chart)
    assert changed_fraction(with_lines, zoomed) > 0.01  # the view changed: the chart is live
    assert exception_boxes(page) == []
