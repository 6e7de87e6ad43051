"""Planner language and charts that fit: figures as readable tables and sentences (never a raw dictionary), chart
heights from what they show, titles wrapped to the plot's width, heatmaps with one readable row per sensor or
per group of sensors, and the colour-blind-safe colours the maps use.

Pure functions (no streamlit); the Model card, Data health and What-if pages use them.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# Okabe & Ito's palette (safe for the common colour-vision deficiencies), in the order charts take it; the first
# two are the blue and orange of measured and modelled values everywhere in the app.
SERIES_COLOURS = ("rgb(11,92,173)", "rgb(230,120,20)", "rgb(0,158,115)", "rgb(204,121,167)", "rgb(86,180,233)",
                  "rgb(213,94,0)", "rgb(240,228,66)", "rgb(0,0,0)")
SEQUENTIAL = "Cividis"  # plotly's name: blue to yellow, readable in greys and by every common deficiency
DIVERGING = [[0.0, "rgb(33,102,172)"], [0.25, "rgb(146,197,222)"], [0.5, "rgb(247,247,247)"],
             [0.75, "rgb(244,165,130)"], [1.0, "rgb(178,24,43)"]]  # the maps' blue-white-red ramp

# average width of a character of a chart title, in em: 0.44 measured in Chromium for Data health's titles in
# Streamlit's chart font (Source Sans, 16 px); a little more for bold or wider text
CHAR_EM = 0.48


@dataclass(frozen=True)
class Measure:
    """How to show one figure: its name in plain words, how to format it, and what it says."""

    label: str
    fmt: str = "num"  # pct | num | int | unit | s | min | ms | x | text | bool
    meaning: str = ""


MEASURES: dict[str, Measure] = {
    # imputer
    "mae": Measure("Average error", "unit", "mean absolute error against readings hidden from the model; lower is "
                   "better"),
    "mse": Measure("Squared error", "num", "mean squared error; punishes large misses; lower is better"),
    "mre": Measure("Relative error", "pct", "absolute error as a share of the readings; lower is better"),
    "crps": Measure("Spread-aware error (CRPS, share of the readings)", "num", "scores the whole spread of the "
                    "samples, not only their middle; normalised as CSDI and PriSTI report it; lower is better"),
    "lag1_sampled": Measure("Step-to-step correlation of sampled fills", "num", "close to the real readings' is "
                            "best: fills should carry on from one step to the next as real readings do"),
    "lag1_real": Measure("Step-to-step correlation of real readings", "num"),
    "neighbour_sampled": Measure("Correlation with neighbouring sensors in sampled fills", "num",
                                 "close to the real readings' is best"),
    "neighbour_real": Measure("Correlation with neighbouring sensors in real readings", "num"),
    "coverage": Measure("Readings inside the P10–P90 band", "pct", "80 % is the aim: lower means the band is too "
                        "narrow (overconfident)"),
    "val_mae": Measure("Average error on validation readings", "unit", "hidden readings of the validation days; "
                       "lower is better"),
    "val_coverage": Measure("Validation readings inside the P10–P90 band", "pct", "80 % is the aim"),
    "val_coverage_uncalibrated": Measure("…before calibration", "pct", "as trained, before the band was widened"),
    "band_scale": Measure("Band widened by", "x", "set by calibration on validation days, not learned"),
    "infer_s": Measure("Time to fill", "s", "on the server's CPU"),
    "point": Measure("Scattered missing readings", "text"),
    "block": Measure("Long gaps (whole blocks missing)", "text"),
    "mask_seed": Measure("Seed of the hidden readings", "int", "the same seed hides the same readings"),
    # generator
    "val_coverage_raw": Measure("Validation readings inside the P10–P90 band, as trained", "pct", "80 % is the aim"),
    "val_coverage_calibrated": Measure("…after calibration", "pct", "80 % is the aim"),
    "alpha": Measure("Noise scaled by", "x", "set by calibration on validation days, not learned"),
    "event_gain": Measure("Event response scaled by", "x", "set by calibration on validation requests, not learned"),
    "event_modulation": Measure("Share of the learned hour-by-hour event shape kept", "pct",
                                "set by calibration, not learned"),
    "val_ctrl_error_raw": Measure("Event size off by, as trained", "pct", "how far the generated event at its place "
                                  "is from the size asked for; lower is better"),
    "val_ctrl_error_calibrated": Measure("Event size off by, after calibration", "pct", "lower is better"),
    "val_requests": Measure("Validation requests", "int"),
    "surges_labelled": Measure("Past events found in the history", "int"),
    "episodes_labelled": Measure("Past events found in the history", "int"),
    "final_wasserstein": Measure("Critic's distance at the end of training", "num", "a training diagnostic"),
    "final_aux": Measure("Auxiliary loss at the end of training", "num", "a training diagnostic"),
    # training and evaluation settings
    "steps": Measure("Training steps", "int"),
    "best_step": Measure("Best step", "int"),
    "train_seconds": Measure("Training time", "min"),
    "total_seconds": Measure("Total time", "min"),
    "train_s": Measure("Training time", "min"),
    "cpu_s": Measure("CPU time", "min"),
    "device": Measure("Device", "text"),
    "threads": Measure("CPU threads", "int"),
    "torch_threads": Measure("CPU threads", "int"),
    "seed": Measure("Random seed", "int", "the same seed gives the same numbers"),
    "n_samples": Measure("Samples drawn", "int"),
    "val_steps": Measure("Validation steps", "int"),
    "disc_steps": Measure("Steps of the real-or-generated test", "int"),
    "pred_steps": Measure("Steps of the forecasting test", "int"),
    "latency_calls": Measure("Timed runs", "int"),
    "repeats": Measure("Repeats", "int"),
    "requests": Measure("Event requests tried", "int"),
    "quick": Measure("Quick run", "bool"),
    "stopped_early_by_time": Measure("Stopped by the time budget", "bool"),
}


def humanise(key: str) -> str:
    """A key nobody described, in words: ``val_ctrl_error`` -> 'Val ctrl error'."""
    words = str(key).replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else "?"


def format_value(value: Any, fmt: str = "num", unit: str = "") -> str:
    """One figure as text for a reader (no brackets, braces or long decimals)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, bool) or fmt == "bool":
        return "yes" if value else "no"
    if fmt == "text" or isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v, fmt, unit) for v in value)
    v = float(value)
    if fmt == "pct":
        return f"{v:.0%}".replace("%", " %") if abs(v) >= 0.1 else f"{v:.1%}".replace("%", " %")
    if fmt == "int":
        return f"{v:,.0f}"
    if fmt == "x":
        return f"× {v:.2f}"
    if fmt == "s":
        return f"{v:,.1f} s"
    if fmt == "ms":
        return f"{v:,.0f} ms"
    if fmt == "min":
        return f"{v / 60:,.1f} min" if v < 600 else f"{v / 60:,.0f} min"
    text = _num(v)
    return f"{text} {unit}" if fmt == "unit" and unit else text


def _num(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:,.1f}"
    return f"{v:.3g}"


def _flatten(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], Any]]:
    for k, v in data.items():
        if isinstance(v, Mapping):
            yield from _flatten(v, (*prefix, str(k)))
        else:
            yield (*prefix, str(k)), v


def metrics_table(metrics: Mapping[str, Any], *, unit: str = "", skip: Iterable[str] = (),
                  measures: Mapping[str, Measure] = MEASURES) -> pd.DataFrame:
    """A dictionary of figures (nested ones too) as a table a planner can read: 'Measure', 'Value' and 'What it
    means' columns, named and formatted from ``measures`` (an unknown key: its words, its value as it is).

    ``unit`` is the city's unit for figures measured in it (errors); keys in ``skip`` are left out wherever
    they are nested. Lists (a training history) are left out: they belong in a chart.
    """
    skip = set(skip)
    rows = []
    for path, value in _flatten(metrics):
        if skip & set(path) or isinstance(value, (list, tuple)) and len(value) > 4:
            continue
        m = measures.get(path[-1], Measure(humanise(path[-1])))
        groups = [measures[p].label if p in measures else humanise(p) for p in path[:-1]]
        rows.append({"Measure": ": ".join([*groups, m.label]), "Value": format_value(value, m.fmt, unit),
                     "What it means": m.meaning})
    return pd.DataFrame(rows, columns=["Measure", "Value", "What it means"])


def settings_sentence(settings: Mapping[str, Any], measures: Mapping[str, Measure] = MEASURES) -> str:
    """Settings as one readable line ('Samples per scenario 64 · Random seed 0 · Device cpu'), never a dict."""
    parts = []
    for path, value in _flatten(settings):
        m = measures.get(path[-1], Measure(humanise(path[-1])))
        parts.append(f"{m.label} {format_value(value, m.fmt)}")
    return " · ".join(parts)


def plain_summary(good_at: str, not_good_at: str, measured_on: str) -> str:
    """The one sentence a planner reads first about a model."""
    def clean(s: str) -> str:
        return s.strip().rstrip(".;")

    return f"Good at {clean(good_at)}; not good at {clean(not_good_at)}. Measured on {clean(measured_on)}."


# ---- charts that fit --------------------------------------------------------------------------------------------

def chart_height(n_rows: int, *, per_row: int = 18, chrome: int = 130, lo: int = 280, hi: int = 900) -> int:
    """Height (px) of a chart with one line per row (bars, heatmap rows): each row gets ``per_row`` pixels plus
    room for the title and axes, within [lo, hi]. Above ``hi`` rows get thinner rather than the page longer:
    pass fewer rows (see :func:`aggregate_rows`) when each must stay readable."""
    return int(min(hi, max(lo, chrome + per_row * max(int(n_rows), 0))))


def wrap_title(text: str, width_px: float, font_px: float = 16) -> str:
    """``text`` broken into lines (plotly ``<br>``) that fit ``width_px`` at ``font_px``, so a title is never
    cut at the edge of its plot. Plotly does not wrap titles itself."""
    per_line = max(12, int(width_px / (font_px * CHAR_EM)))
    return "<br>".join(textwrap.wrap(text, per_line, break_long_words=True)) or text


def title_layout(text: str, *, width_px: float = 380, font_px: float = 16, margin_top: int = 24) -> dict:
    """Plotly layout keys for a title that fits a chart ``width_px`` wide (the narrowest it is drawn: a half-page
    chart at 1280 px is about 400 px): wrapped, from the chart's left edge (not the plot area's, which long tick
    labels push right), at its top, and the top margin grown by one line per line.
    Use as ``fig.update_layout(title=t["title"], margin={"t": t["margin_t"], ...})``."""
    wrapped = wrap_title(text, width_px, font_px)
    lines = wrapped.count("<br>") + 1
    # plotly anchors a title by its first line: measured in Chromium, a title of several lines sits 11 px higher
    # than one of a single line at the same pad, so it gets 11 px more to start inside the chart
    return {"title": {"text": wrapped, "x": 0, "xref": "container", "xanchor": "left", "y": 1, "yref": "container",
                      "yanchor": "top", "pad": {"l": 8, "t": 8 if lines == 1 else 19}, "font": {"size": font_px}},
            "margin_t": int(margin_top + lines * font_px * 1.35)}


def category_axis(labels: Iterable[Any]) -> dict:
    """An axis that shows each label once, in order. Plotly reads ids like '717445' as numbers and spreads them
    over a numeric range, which leaves a heatmap's rows squeezed into a strip: this keeps them categories."""
    labels = [str(x) for x in labels]
    return {"type": "category", "categoryorder": "array", "categoryarray": labels}


def aggregate_rows(matrix: pd.DataFrame, groups: Mapping[str, str] | None = None, max_rows: int = 60
                   ) -> tuple[pd.DataFrame, str]:
    """Rows of a heatmap (index: sensors) that stay readable: as they are up to ``max_rows``; else the mean of
    each group of ``groups`` (sensor -> zone or corridor name), labelled 'name (n sensors)'; else, when there
    are still too many, the sensors ranked by their mean and cut into ``max_rows`` equal bands.

    Returns the rows and what one row is ('sensor', 'zone', 'band of sensors').
    """
    if len(matrix) <= max_rows:
        return matrix, "sensor"
    if groups:
        key = pd.Series([groups.get(str(s)) for s in matrix.index], index=matrix.index).fillna("(no zone)")
        agg = matrix.groupby(key.to_numpy(), sort=True).mean()
        counts = key.value_counts()
        if len(agg) <= max_rows:
            agg.index = [f"{g} ({counts[g]} sensor{'s' if counts[g] > 1 else ''})" for g in agg.index]
            return agg, "zone"
    order = matrix.mean(axis=1).sort_values(ascending=False).index
    bands = np.array_split(np.arange(len(order)), max_rows)
    rows = [matrix.loc[order[b]].mean() for b in bands]
    labels = [f"ranked {b[0] + 1}–{b[-1] + 1}" if len(b) > 1 else f"ranked {b[0] + 1}" for b in bands]
    return pd.DataFrame(rows, index=labels), "band of sensors"


def sensor_zones(city: Any) -> dict[str, str] | None:
    """Each sensor's zone name (the zone polygon it lies in; a sensor outside every zone is left out), for
    :func:`aggregate_rows`; None when the city has no zones layer."""
    import geopandas as gpd

    if getattr(city, "zones", None) is None:
        return None
    pts = city.sensors[["sensor_id", "geometry"]]
    hit = gpd.sjoin(pts, city.zones[["name", "geometry"]].to_crs(pts.crs), how="inner", predicate="within")
    hit = hit[~hit["sensor_id"].duplicated()]
    return dict(zip(hit["sensor_id"].astype(str), hit["name"].astype(str), strict=True))


# ---- stored results (markdown written by the evaluation commands) -------------------------------------------------

_FLAT_JSON = re.compile(r"\{\"[^{}]*\}")


def dicts_to_words(text: str) -> str:
    """``text`` with every flat JSON object in it (``Settings: {"device": "cpu", ...}``) written as
    :func:`settings_sentence` words; anything that is not valid JSON is left as it is."""
    def words(m: re.Match) -> str:
        try:
            data = json.loads(m.group(0))
        except ValueError:
            return m.group(0)
        return settings_sentence(data) if isinstance(data, dict) else m.group(0)

    return _FLAT_JSON.sub(words, text)


def markdown_parts(text: str) -> list[str | pd.DataFrame]:
    """A results section split into prose (str, JSON objects written as words) and its pipe tables (DataFrames
    of strings, header as columns), in order, so a page can draw each table as a table that fits its width."""
    parts: list[str | pd.DataFrame] = []
    prose: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        is_table = (lines[i].lstrip().startswith("|") and i + 1 < len(lines)
                    and re.fullmatch(r"\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*", lines[i + 1]))
        if not is_table:
            prose.append(lines[i])
            i += 1
            continue
        if "\n".join(prose).strip():
            parts.append(dicts_to_words("\n".join(prose).strip()))
        prose = []
        header = _cells(lines[i])
        rows = []
        i += 2
        while i < len(lines) and lines[i].lstrip().startswith("|"):
            cells = _cells(lines[i])
            rows.append((cells + [""] * len(header))[:len(header)])
            i += 1
        parts.append(pd.DataFrame(rows, columns=header))
    if "\n".join(prose).strip():
        parts.append(dicts_to_words("\n".join(prose).strip()))
    return parts


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner)]
