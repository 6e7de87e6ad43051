"""Screenshots against baselines: both halved (box filter: text anti-aliasing jitter averages out), compared per
pixel with a threshold; the maps' drawing areas are compared apart with a looser tolerance (software WebGL may
differ by a few pixels between runs). Baselines are stored halved, as 256-colour PNGs (tens of kB each)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

SCALE = 2
PIXEL_TOL = 48  # a pixel differs when some channel moves by more than this (0-255); palette error is below it
PAGE_TOL = 0.004  # share of differing pixels allowed outside the maps
MAP_TOL = 0.06  # ... inside them


@dataclass
class Diff:
    page: float  # share of differing pixels outside the maps
    maps: float  # ... inside them (0 when the page has no map)
    size_changed: bool
    image: Image.Image | None = None  # the differing pixels in red over a faded screenshot

    @property
    def ok(self) -> bool:
        return not self.size_changed and self.page <= PAGE_TOL and self.maps <= MAP_TOL

    def __str__(self) -> str:
        if self.size_changed:
            return "the screenshot's size changed"
        return (f"{self.page:.2%} of the page's pixels differ (allowed {PAGE_TOL:.1%}), {self.maps:.2%} of the "
                f"maps' (allowed {MAP_TOL:.0%})")


def halve(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png)).convert("RGB")
    return img.resize((img.width // SCALE, img.height // SCALE), Image.Resampling.BOX)


def save_baseline(img: Image.Image, path: Path) -> None:
    """Write a baseline as a small palette PNG (median-cut 256 colours, no dithering)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


def map_mask(shape: tuple[int, int], boxes: list[dict]) -> np.ndarray:
    """True over the maps' drawing areas (boxes in full-size window pixels)."""
    mask = np.zeros(shape, dtype=bool)
    for b in boxes:
        y0, y1 = int(b["top"] // SCALE), int(np.ceil(b["bottom"] / SCALE))
        x0, x1 = int(b["left"] // SCALE), int(np.ceil(b["right"] / SCALE))
        mask[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
    return mask


def compare(actual: Image.Image, baseline: Image.Image, map_boxes: list[dict]) -> Diff:
    if actual.size != baseline.size:
        return Diff(1.0, 1.0, True)
    a = np.asarray(actual, dtype=np.int16)
    b = np.asarray(baseline.convert("RGB"), dtype=np.int16)
    differs = np.abs(a - b).max(axis=2) > PIXEL_TOL
    inside = map_mask(differs.shape, map_boxes)
    page = float(differs[~inside].mean()) if (~inside).any() else 0.0
    maps = float(differs[inside].mean()) if inside.any() else 0.0
    shown = (a * 0.35 + 165).astype(np.uint8)
    shown[differs] = (220, 0, 0)
    return Diff(page, maps, False, Image.fromarray(shown))
