"""Synthetic large cities: a real, loadable folder, deterministic per seed, with its source mapping."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from typer.testing import CliRunner

from explorer.cities import load_city
from explorer.cities.synthetic import knn_graph, make_synthetic_city, synthetic_info, synthetic_mapping
from explorer.cli import app

N = 600


@pytest.fixture(scope="module")
def la():
    return load_city("los-angeles")


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return load_city(make_synthetic_city("los-angeles", N, seed=3, out_dir=tmp_path_factory.mktemp("c"), days=14))


def test_loads_with_n_sensors_and_the_mapping(synth, la):
    assert synth.series.shape == (14 * 24, N)
    assert len(synth.sensors) == N and list(synth.sensors["sensor_id"]) == synth.sensor_ids
    assert synth.freq.total_seconds() == 3600
    m = synthetic_mapping(synth)
    assert list(m.index) == synth.sensor_ids
    assert set(m["source_sensor"]) == set(la.sensor_ids)  # every source sensor is used (balanced draw)
    assert synthetic_info(synth)["source"] == "los-angeles"
    assert synth.manifest.series.domain == la.manifest.series.domain


def test_series_are_shifted_scaled_copies_with_the_gaps_kept(synth, la):
    m = synthetic_mapping(synth)
    src = la.series.resample("1h").mean().iloc[-14 * 24:]
    for sid in synth.sensor_ids[:40]:
        row = m.loc[sid]
        expect = np.roll(src[row["source_sensor"]].to_numpy(), int(row["shift_hours"])) * row["scale"]
        got = synth.series[sid].to_numpy()
        assert np.array_equal(np.isnan(got), np.isnan(expect))  # missing readings stay missing
        ok = ~np.isnan(got)
        assert np.median(np.abs(got[ok] - expect[ok])) < 0.05 * np.nanmedian(expect) + 0.5  # 2 % noise


def test_positions_spread_over_a_larger_extent(synth, la):
    def extent(c):
        x0, y0, x1, y1 = c.sensors.total_bounds
        return (x1 - x0) * (y1 - y0)
    assert extent(synth) > extent(la)
    assert synth.sensors.geometry.is_valid.all()


def test_sparse_knn_graph(synth):
    a = synth.adjacency
    assert sparse.issparse(a) and a.shape == (N, N)
    per_row = np.diff(a.indptr)
    assert per_row.max() <= 8 and per_row.mean() > 3
    assert a.diagonal().sum() == 0


def test_knn_graph_links_near_points_only():
    lat = np.array([0.0, 0.0, 0.0, 1.0])
    lon = np.array([0.0, 0.001, 0.002, 1.0])
    g = knn_graph(lat, lon, k=2).toarray()
    assert g[0, 1] > 0.5 and g[1, 0] > 0.5
    assert g[:3, 3].max() == 0  # the far point is nobody's strong neighbour


def test_same_seed_same_city(tmp_path, synth):
    again = load_city(make_synthetic_city("los-angeles", N, seed=3, out_dir=tmp_path, days=14, with_generator=False))
    assert again.data_hash == synth.data_hash
    other = load_city(make_synthetic_city("los-angeles", N, seed=4, out_dir=tmp_path, days=14, with_generator=False))
    assert other.data_hash != synth.data_hash


def test_cli_synth_writes_a_loadable_city(tmp_path):
    res = CliRunner().invoke(app, ["city", "synth", "--sensors", "250", "--source", "melbourne", "--out",
                                   str(tmp_path), "--days", "7"])
    assert res.exit_code == 0, res.output
    city = load_city(tmp_path / "melbourne-synth-250-s0")
    assert city.series.shape[1] == 250 and city.manifest.series.domain == "pedestrian_count"
    assert (city.models_dir / "generator.safetensors").is_file()
    assert (tmp_path / "melbourne-synth-250-s0").stat().st_mode & 0o044  # readable like any city folder
    again = CliRunner().invoke(app, ["city", "synth", "--sensors", "250", "--source", "melbourne", "--out",
                                     str(tmp_path), "--days", "7"])
    assert again.exit_code == 1 and "already exists" in again.output
