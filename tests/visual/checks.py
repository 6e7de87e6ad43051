"""Layout checks run in the page: text that does not fit its box, and where the maps are on the first screen."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
OVERFLOW_JS = (HERE / "overflow.js").read_text()
MAP_BOX_JS = (HERE / "maps.js").read_text()


def text_overflows(page) -> list[dict]:
    """Text that is cut or runs off the window on ``page`` (empty when all fits)."""
    return page.evaluate(OVERFLOW_JS)


def maps_on_first_screen(page) -> dict:
    """Where the maps' canvases and control bars are: ``inside`` (every one wholly within the window, page not
    scrolled; False without a map), ``share`` (the largest canvas's area over the window's) and the boxes."""
    box = page.evaluate(MAP_BOX_JS)
    vw, vh = box["vw"], box["vh"]
    parts = [r for m in box["maps"] for r in (m["canvas"], m["bar"])]
    inside = bool(parts) and all(r is not None and r["left"] >= -1 and r["top"] >= -1 and r["right"] <= vw + 1
                                 and r["bottom"] <= vh + 1 for r in parts)
    share = max((m["canvas"]["width"] * m["canvas"]["height"] / (vw * vh) for m in box["maps"] if m["canvas"]),
                default=0.0)
    return {"inside": inside, "share": share, **box}
