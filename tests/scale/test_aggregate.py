"""Hexagon aggregation for large cities: sums and means per cell, bounded cell count, compact payload."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from explorer.cities.graph import graph_edges
from explorer.models.generator.result import ScenarioResult
from explorer.render.aggregate import (
    CellSummary,
    aggregate,
    cell_range,
    make_cells,
)
from explorer.render.layers import sparse_graph_edges
from explorer.scenarios.schema import Scenario

# two places far apart: sensors 0-2 at the first, 3-4 at the second
LAT = np.array([10.0, 10.0, 10.0, 11.0, 11.0])
LON = np.array([20.0, 20.0, 20.0, 21.0, 21.0])


@pytest.fixture()
def cells():
    c = make_cells(LAT, LON, max_cells=10, min_mean=1)
    assert len(c.ids) == 2 and list(c.counts[c.of_sensor]) == [3, 3, 3, 2, 2]
    return c


def _per_place(values: np.ndarray, cells) -> tuple[float, float]:
    return float(values[..., cells.of_sensor[0]]), float(values[..., cells.of_sensor[3]])


def test_sum_and_mean_per_cell(cells):
    v = np.array([1.0, 2.0, 3.0, 10.0, 20.0])
    assert _per_place(aggregate(v, cells, "sum"), cells) == (6.0, 30.0)
    assert _per_place(aggregate(v, cells, "mean"), cells) == (2.0, 15.0)


def test_missing_values_are_left_out(cells):
    v = np.array([1.0, np.nan, 3.0, np.nan, np.nan])
    assert _per_place(aggregate(v, cells, "mean"), cells)[0] == 2.0
    assert _per_place(aggregate(v, cells, "sum"), cells)[0] == 4.0
    assert all(np.isnan(_per_place(aggregate(v, cells, m), cells)[1]) for m in ("sum", "mean"))


def test_leading_axes_are_kept(cells):
    v = np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5)
    out = aggregate(v, cells, "sum")
    assert out.shape == (2, 3, 2)
    assert out[1, 2, cells.of_sensor[0]] == v[1, 2, :3].sum()


def test_range_per_cell(cells):
    lo, hi = cell_range(np.array([5.0, -1.0, 3.0, 7.0, 8.0]), cells)
    assert (lo[cells.of_sensor[0]], hi[cells.of_sensor[0]]) == (-1.0, 5.0)
    assert (lo[cells.of_sensor[3]], hi[cells.of_sensor[3]]) == (7.0, 8.0)
    assert list(cells.sensors_in(cells.ids[cells.of_sensor[3]])) == [3, 4]
    assert len(cells.sensors_in("not-a-cell")) == 0


def test_cell_count_is_bounded_and_resolution_follows_the_extent():
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(33.5, 34.5, 20_000), rng.uniform(-118.8, -117.6, 20_000)
    small = make_cells(lat, lon, max_cells=500)
    big = make_cells(lat, lon, max_cells=5000)
    assert len(small.ids) <= 500 and len(big.ids) <= 5000
    assert big.resolution > small.resolution
    assert small.counts.sum() == 20_000 and all(h3.get_resolution(c) == small.resolution for c in small.ids[:20])
    tight = make_cells(lat * 0.01 + 33.0, lon * 0.01 - 117.0, max_cells=2500)  # a smaller extent: finer cells
    assert tight.resolution > big.resolution


def _result() -> ScenarioResult:
    rng = np.random.default_rng(1)
    base = rng.poisson(50, (40, 3, 5)).astype(np.float32)
    scen = base + np.array([30, 0, 0, 0, 0], np.float32)
    sc = Scenario.model_validate({"city": "x", "day": {"day_of_week": 0}, "start_hour": 8, "horizon_hours": 3})
    return ScenarioResult(scenario=sc, city="x", domain="counts", unit="people/h", sensor_ids=list("abcde"),
                          times=pd.date_range("2000-01-03 08:00", periods=3, freq="1h"), baseline=base,
                          scenario_samples=scen, event_field=np.zeros((3, 5), np.float32), seed=0, elapsed_ms=0.0)


def test_cell_quantiles_are_of_the_cells_samples(cells):
    res = _result()
    cs = CellSummary.of(res, cells, "sum")
    a = cells.of_sensor[0]
    sums = res.baseline[:, :, :3].sum(2)
    np.testing.assert_allclose(cs.baseline[1, :, a], np.quantile(sums, 0.5, axis=0), rtol=1e-6)
    np.testing.assert_allclose(cs.difference[1, :, a], 30.0)
    assert cs.significant[:, a].all() and not cs.significant[:, cells.of_sensor[3]].any()


def test_sparse_graph_edges_match_the_dense_ones():
    rng = np.random.default_rng(2)
    adj = rng.random((30, 30)).astype(np.float32)
    adj[adj < 0.6] = 0
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.random(30), rng.random(30)), crs=4326)
    dense = graph_edges(pts, adj)
    sp = sparse_graph_edges(pts, sparse.csr_matrix(adj))
    assert _edges(dense) == _edges(sp) and len(sp) > 0


def _edges(df: pd.DataFrame) -> list[tuple]:
    return sorted(zip(map(tuple, df["source"]), map(tuple, df["target"]), df["weight"].round(6), strict=True))
