"""Large cities on the scenario map: sensors aggregated to h3 hexagons, full detail for a selected cell.

Above ``EXPLORER_MAP_AGGREGATE_ABOVE`` sensors the map draws one hexagon per occupied h3 cell. The
resolution is the finest at which the sensors occupy at most ``max_cells`` cells. A cell's value is
computed per sample (mean of its sensors for speeds and other rates, sum for counts and flows) and
its P10/P50/P90 taken over samples, so a cell's band is the band of the cell, not a sum of bands.
Geometry travels as h3 ids (15 characters), so each hour step sends only ids, colours and numbers.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import h3
import numpy as np
import pandas as pd
import pydeck as pdk
from scipy import sparse

from explorer.render.colors import DIVERGING, NEUTRAL, VIRIDIS, legend_html, ramp
from explorer.render.layers import offline_deck, view_for

if TYPE_CHECKING:
    from explorer.cities import City
    from explorer.models.generator.api import ScenarioResult
    from explorer.render.scenario import Summary

How = Literal["mean", "sum"]
MAX_CELLS = 2500
SUMMED_DOMAINS = {"pedestrian_count", "traffic_flow", "energy"}  # counts add up; speeds and rates average


def how_for(domain: str) -> How:
    """'sum' for counts and flows, 'mean' for speeds and anything else (manifest ``series.domain``)."""
    return "sum" if domain in SUMMED_DOMAINS else "mean"


@dataclass(frozen=True)
class Cells:
    """The h3 cells occupied by a city's sensors."""

    resolution: int
    ids: np.ndarray  # (C,) h3 cell ids
    of_sensor: np.ndarray  # (N,) index into ids of each sensor's cell
    counts: np.ndarray  # (C,) sensors per cell
    members: sparse.csr_matrix  # (N, C) 1 where sensor n is in cell c

    def sensors_in(self, cell: str) -> np.ndarray:
        """Indices of the sensors inside ``cell`` (empty if it is not one of the cells)."""
        hit = np.flatnonzero(self.ids == cell)
        return np.flatnonzero(self.of_sensor == hit[0]) if len(hit) else np.zeros(0, int)


def _cell_ids(lat: np.ndarray, lon: np.ndarray, res: int) -> np.ndarray:
    return np.array([h3.latlng_to_cell(a, b, res) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)])


def make_cells(lat: np.ndarray, lon: np.ndarray, max_cells: int = MAX_CELLS, min_mean: float = 4.0) -> Cells:
    """Cells at the finest resolution (coarsest 2, finest 10) with at most ``max_cells`` occupied cells and
    at least ``min_mean`` sensors per cell on average (aggregating single sensors would hide nothing)."""
    ids = _cell_ids(lat, lon, 2)
    res = 2
    limit = max(1, min(max_cells, int(len(lat) / min_mean)))
    for r in range(3, 11):
        finer = _cell_ids(lat, lon, r)
        if len(np.unique(finer)) > limit:
            break
        ids, res = finer, r
    uniq, inv = np.unique(ids, return_inverse=True)
    members = sparse.csr_matrix((np.ones(len(inv), np.float32), (np.arange(len(inv)), inv)),
                                shape=(len(inv), len(uniq)))
    return Cells(res, uniq, inv, np.bincount(inv, minlength=len(uniq)), members)


_CELLS_MEMO: dict[tuple[int, int], Cells] = {}


def sensor_cells(city: City, max_cells: int = MAX_CELLS) -> Cells:
    """The city's cells, memoised per sensors table."""
    key = (id(city.sensors), max_cells)
    if key not in _CELLS_MEMO:
        if len(_CELLS_MEMO) > 8:
            _CELLS_MEMO.clear()
        pts = city.sensors.geometry
        _CELLS_MEMO[key] = make_cells(pts.y.to_numpy(), pts.x.to_numpy(), max_cells)
    return _CELLS_MEMO[key]


def aggregate(values: np.ndarray, cells: Cells, how: How) -> np.ndarray:
    """(..., N) per-sensor values -> (..., C) per-cell sum or mean, ignoring NaN (all-NaN cell -> NaN)."""
    v = np.asarray(values, np.float32)
    lead = v.shape[:-1]
    flat = v.reshape(-1, v.shape[-1])
    ok = ~np.isnan(flat)
    total = (cells.members.T @ np.where(ok, flat, 0.0).T).T
    count = (cells.members.T @ ok.T.astype(np.float32)).T
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total / count if how == "mean" else np.where(count > 0, total, np.nan)
    return out.reshape(*lead, len(cells.ids)).astype(np.float32)


def cell_range(values: np.ndarray, cells: Cells) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest per-sensor value in each cell: (C,), (C,)."""
    order = np.argsort(cells.of_sensor, kind="stable")
    starts = np.r_[0, np.cumsum(cells.counts)[:-1]]
    v = np.asarray(values, np.float64)[order]
    return np.fmin.reduceat(v, starts), np.fmax.reduceat(v, starts)


@dataclass(frozen=True)
class CellSummary:
    """P10/P50/P90 over samples of the cells' aggregated values: arrays (3, H, C)."""

    baseline: np.ndarray
    scenario: np.ndarray
    difference: np.ndarray
    busier_sign: float
    how: How

    @classmethod
    def of(cls, result: ScenarioResult, cells: Cells, how: How) -> CellSummary:
        q = (0.1, 0.5, 0.9)
        b = aggregate(result.baseline, cells, how)
        s = aggregate(result.scenario_samples, cells, how)
        sign = 1.0 if result.domain == "counts" else -1.0
        return cls(np.quantile(b, q, axis=0), np.quantile(s, q, axis=0), np.quantile(s - b, q, axis=0), sign, how)

    @property
    def significant(self) -> np.ndarray:
        return (self.difference[0] > 0) | (self.difference[2] < 0)

    def value_range(self) -> tuple[float, float]:
        both = np.concatenate([self.baseline[1].ravel(), self.scenario[1].ravel()])
        return float(np.nanpercentile(both, 2)), float(np.nanpercentile(both, 98))

    def change_limit(self) -> float:
        return float(max(np.nanmax(np.abs(self.difference[1])), 1e-6))


_SUMMARY_MEMO: dict[tuple[int, int, str], CellSummary] = {}


def cell_summary(result: ScenarioResult, cells: Cells, how: How) -> CellSummary:
    """CellSummary memoised per result (the map fragment reruns every hour step)."""
    key = (id(result), id(cells), how)
    if key not in _SUMMARY_MEMO:
        if len(_SUMMARY_MEMO) > 8:
            _SUMMARY_MEMO.clear()
        _SUMMARY_MEMO[key] = CellSummary.of(result, cells, how)
    return _SUMMARY_MEMO[key]


def _r(x: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(x, np.float64), 1)


def cell_frame(cells: Cells, cs: CellSummary, summary: Summary, hour: int, view: str) -> pd.DataFrame:
    """One row per cell at ``hour``: h3 id ``h``, colour ``c``, height ``z`` and short numeric tooltip fields.

    ``summary`` (per sensor) gives the range of the cell's sensors' medians (``mn``, ``mx``).
    """
    b, s, d = cs.baseline[:, hour], cs.scenario[:, hour], cs.difference[:, hour]
    sig = cs.significant[hour]
    q = b if view == "baseline" else s
    if view == "difference":
        lim = cs.change_limit()
        colours = ramp(cs.busier_sign * d[1], -lim, lim, DIVERGING)
        colours[~sig] = NEUTRAL
        height = np.abs(d[1]) / lim
    else:
        vmin, vmax = cs.value_range()
        colours = ramp(q[1], vmin, vmax, VIRIDIS)
        height = np.clip((q[1] - vmin) / max(vmax - vmin, 1e-6), 0, 1)
        if cs.busier_sign < 0:
            height = 1 - height
    per_sensor = (summary.baseline if view == "baseline" else summary.scenario)[1, hour]
    lo, hi = cell_range(per_sensor, cells)
    return pd.DataFrame({
        "h": cells.ids, "t": "Area", "c": [[*map(int, c), 235] for c in colours], "z": np.round(height, 3),
        "v": _r(q[1]), "lo": _r(q[0]), "hi": _r(q[2]), "d": _r(d[1]), "dlo": _r(d[0]), "dhi": _r(d[2]),
        "s": np.where(sig, "", " (not significant)"), "n": cells.counts, "mn": _r(lo), "mx": _r(hi),
    })


def detail_frame(city: City, result: ScenarioResult, summary: Summary, hour: int, view: str,
                 idx: np.ndarray) -> pd.DataFrame:
    """The sensors ``idx`` one by one (a selected cell), with the same tooltip fields as the cells."""
    b, s, d = summary.baseline[:, hour, idx], summary.scenario[:, hour, idx], summary.difference[:, hour, idx]
    q = b if view == "baseline" else s
    sig = ((d[0] > 0) | (d[2] < 0))
    if view == "difference":
        lim = float(max(np.nanmax(np.abs(summary.difference[1])), 1e-6))
        colours = ramp(summary.busier_sign * d[1], -lim, lim, DIVERGING)
        colours[~sig] = NEUTRAL
    else:
        vmin, vmax = summary.value_range()
        colours = ramp(q[1], vmin, vmax, VIRIDIS)
    ids = np.asarray(result.sensor_ids)[idx]
    pts = city.sensors.geometry.iloc[idx]
    labels = city.sensors["where"].iloc[idx].astype(str).to_numpy()
    return pd.DataFrame({
        "sensor_id": ids, "t": [html.escape(f"{lab} (id {i})") for lab, i in zip(labels, ids, strict=True)],
        "lon": pts.x.round(6).to_numpy(), "lat": pts.y.round(6).to_numpy(),
        "c": [[*map(int, c), 255] for c in colours], "v": _r(q[1]), "lo": _r(q[0]), "hi": _r(q[2]),
        "d": _r(d[1]), "dlo": _r(d[0]), "dhi": _r(d[2]), "s": np.where(sig, "", " (not significant)"), "n": 1,
        "mn": _r(q[1]), "mx": _r(q[1]),
    })


def _tooltip(unit: str, view: str) -> dict:
    what = {"baseline": "Baseline", "scenario": "Scenario"}.get(view, "Scenario")
    unit = html.escape(unit)  # city data, drawn as HTML
    return {"html": f"<b>{{t}}</b><br/>{what} {{v}} {unit} (P10–P90 {{lo}} to {{hi}})<br/>"
                    f"change {{d}} {unit} (P10–P90 {{dlo}} to {{dhi}}){{s}}<br/>"
                    f"{{n}} sensor(s); their medians {{mn}} to {{mx}} {unit}<br/><small>generated by the model</small>",
            "style": {"fontSize": "15px", "maxWidth": "360px"}}


def hex_deck(city: City, frame: pd.DataFrame, unit: str, view: str, *, three_d: bool = True,
             height_px: int = 600, cell: str | None = None, detail: pd.DataFrame | None = None) -> pdk.Deck:
    """Hexagons (3D columns or flat), and for a selected ``cell`` its outline and its sensors as dots."""
    res = int(h3.get_resolution(str(frame["h"].iloc[0]))) if len(frame) else 7
    edge_m = h3.average_hexagon_edge_length(res, "m")
    layers = [pdk.Layer("H3HexagonLayer", frame, id="cells", get_hexagon="h", get_fill_color="c",
                        get_elevation="z", elevation_scale=edge_m * 12, extruded=three_d, coverage=0.92,
                        stroked=False, pickable=True, auto_highlight=True, opacity=0.9 if cell is None else 0.45)]
    if cell is not None:
        layers.append(pdk.Layer("H3HexagonLayer", [{"h": cell}], id="cell_outline", get_hexagon="h",
                                filled=False, stroked=True, extruded=False, get_line_color=[0, 0, 0, 255],
                                line_width_min_pixels=3, pickable=False))
    if detail is not None and len(detail):
        layers.append(pdk.Layer("ScatterplotLayer", detail, id="sensors", get_position=["lon", "lat"],
                                get_fill_color="c", get_radius=edge_m / 8, radius_min_pixels=4, radius_max_pixels=14,
                                stroked=True, get_line_color=[20, 20, 20, 255], line_width_min_pixels=1,
                                pickable=True, auto_highlight=True))
    view_state = view_for(city, pitch=45 if three_d else 0)
    if cell is not None:  # zoom onto the selected area: its sensors are drawn one by one
        lat, lon = h3.cell_to_latlng(cell)
        zoom = float(np.clip(np.log2(330 / (edge_m * 8 / 111_000)), 3, 17))
        view_state = pdk.ViewState(latitude=round(lat, 5), longitude=round(lon, 5), zoom=round(zoom, 2),
                                   pitch=view_state.pitch, bearing=0)
    return offline_deck(layers, view_state, _tooltip(unit, view), height=height_px)


def deck_bytes(deck: pdk.Deck) -> int:
    """Bytes of the deck's JSON: what a rerun sends to the browser for this map."""
    return len(deck.to_json().encode("utf-8"))


def cell_legend(result: ScenarioResult, cs: CellSummary, view: str, value_name: str) -> str:
    """The legend of the hexagon map (values are the cells' sums or means)."""
    agg = "sum over the area's sensors" if cs.how == "sum" else "mean of the area's sensors"
    if view == "difference":
        lim = cs.change_limit()
        busier = "more people" if cs.busier_sign > 0 else "slower"
        return legend_html(f"Change in {value_name.lower()} per area, {agg} (red = {busier})",
                           -lim * cs.busier_sign, lim * cs.busier_sign, result.unit, DIVERGING,
                           extra=[("rgb(170,170,170)", "Not significant (P10–P90 spans 0)")], fmt="{:+,.1f}")
    vmin, vmax = cs.value_range()
    title = "Baseline" if view == "baseline" else "Scenario"
    return legend_html(f"{title} {value_name.lower()} per area, {agg} (median of samples)", vmin, vmax,
                       result.unit, VIRIDIS, extra=[("rgb(255,255,255)", "Click an area to see its sensors")])
