"""Helpers to wait for a Streamlit page and read a map's pixels."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

BACKGROUND = (255, 255, 255)  # the page behind the transparent deck canvas


def wait_ready(page, timeout_ms: int = 90_000, selector: str | None = None) -> None:
    """Wait until the app has finished running its script (and ``selector`` is on the page)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    if selector:
        page.wait_for_selector(selector, timeout=timeout_ms)
    idle = """() => !document.querySelector('[data-testid="stStatusWidget"]')
                    && !document.querySelector('[data-testid="stSpinner"]')"""
    for _ in range(2):  # idle twice, a second apart: a rerun may start just after the first check
        page.wait_for_function(idle, timeout=timeout_ms)
        page.wait_for_timeout(1000)


def exception_boxes(page) -> list[str]:
    return [e.inner_text() for e in page.query_selector_all('[data-testid="stException"]')]


def map_pixels(page, index: int = 0, timeout_ms: int = 60_000) -> np.ndarray:
    """Screenshot of the index-th deck.gl map as an (h, w, 3) array, after its canvas appears."""
    charts = page.locator('[data-testid="stDeckGlJsonChart"]')
    charts.nth(index).locator("canvas").first.wait_for(timeout=timeout_ms)
    page.wait_for_timeout(2500)  # let deck.gl draw its layers
    png = charts.nth(index).screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def drawn_fraction(pixels: np.ndarray, background: tuple[int, int, int] = BACKGROUND, tol: int = 12) -> float:
    """Share of pixels that differ from the background: 0 means the map did not draw."""
    diff = np.abs(pixels.astype(int) - np.array(background)).max(axis=2)
    return float((diff > tol).mean())


def colour_fraction(pixels: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> float:
    diff = np.abs(pixels.astype(int) - np.array(rgb)).max(axis=2)
    return float((diff <= tol).mean())
