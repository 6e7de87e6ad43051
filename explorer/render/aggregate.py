"""Large cities on the scenario map: sensors aggregated to h3 hexagons, full detail for a selected cell.

Above ``EXPLORER_MAP_AGGREGATE_ABOVE`` sensors the map draws one hexagon per occupied h3 cell. The
resolution is the finest at which the sensors occupy at most ``max_cells`` cells. A cell's value is
computed per sample (mean of its sensors for speeds and other rates, sum for counts and flows) and
its P10/P50/P90 taken over samples, so a cell's band is the band of the cell, not a sum of bands.
The browser map (:mod:`explorer.render.mapdata`) sends the cells' outlines once per city and their quantiles once
per scenario; it colours and extrudes them itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import h3
import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from explorer.cities import City
    from explorer.models.generator.result import ScenarioResult

How = Literal["mean", "sum"]
MAX_CELLS = 2500
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
