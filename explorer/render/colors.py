"""Colour-blind-safe palettes and HTML legends."""

from __future__ import annotations

import html

import numpy as np

# Viridis (sequential) and a blue-white-orange diverging ramp (safe for the common colour-vision deficiencies).
VIRIDIS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=float)
DIVERGING = np.array([[33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130], [178, 24, 43]], dtype=float)
NEUTRAL = [170, 170, 170]


def ramp(values: np.ndarray, vmin: float, vmax: float, palette: np.ndarray = VIRIDIS) -> np.ndarray:
    """Map values to RGB (n, 3) ints by linear interpolation along ``palette``; NaN -> grey."""
    values = np.asarray(values, dtype=float)
    span = vmax - vmin if vmax > vmin else 1.0
    t = np.clip((values - vmin) / span, 0, 1) * (len(palette) - 1)
    lo = np.floor(np.nan_to_num(t)).astype(int).clip(0, len(palette) - 2)
    frac = (np.nan_to_num(t) - lo)[:, None]
    rgb = palette[lo] * (1 - frac) + palette[lo + 1] * frac
    rgb[np.isnan(values)] = NEUTRAL
    return rgb.round().astype(int)


def _css(rgb: np.ndarray) -> str:
    return "rgb({},{},{})".format(*(int(c) for c in rgb))


def legend_html(title: str, vmin: float, vmax: float, unit: str, palette: np.ndarray = VIRIDIS,
                extra: list[tuple[str, str]] | None = None, fmt: str = "{:,.1f}") -> str:
    """A small HTML legend: a gradient bar with its end values and unit, plus optional swatches.

    ``extra`` is a list of (css colour, label). All text is escaped.
    """
    stops = ", ".join(_css(c) for c in palette)
    parts = [
        '<div class="explorer-legend" role="img" aria-label="' + html.escape(f"{title} legend") + '">',
        f'<div class="legend-title"><b>{html.escape(title)}</b> ({html.escape(unit)})</div>',
        f'<div class="legend-bar" style="background: linear-gradient(to right, {stops}); height: 14px; '
        'border: 1px solid #333; border-radius: 2px;"></div>',
        '<div style="display:flex; justify-content:space-between;">'
        f"<span>{html.escape(fmt.format(vmin))}</span><span>{html.escape(fmt.format(vmax))}</span></div>",
    ]
    for colour, label in extra or []:
        swatch = (f"display:inline-block;width:14px;height:14px;background:{html.escape(colour)};"
                  "border:1px solid #333;vertical-align:middle;margin-right:6px;")
        parts.append(f'<div><span style="{swatch}"></span>{html.escape(label)}</div>')
    parts.append("</div>")
    return "".join(parts)
