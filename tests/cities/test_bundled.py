"""The two bundled cities load, validate and describe themselves correctly."""

import numpy as np
import pandas as pd

from explorer.cities import list_cities


def test_bundled_cities_are_listed():
    assert {"los-angeles", "melbourne"} <= set(list_cities())


def test_los_angeles_is_metr_la(la):
    assert la.series.shape == (34272, 207)
    assert la.freq == pd.Timedelta("5min")
    assert la.series.index[0] == pd.Timestamp("2012-03-01 00:00")
    assert la.series.index[-1] == pd.Timestamp("2012-06-27 23:55")
    # METR-LA: readings of 0 are missing and stored as NaN -> 8.11 % of cells
    assert abs(float(la.series.isna().to_numpy().mean()) - 0.0811) < 0.001
    assert la.manifest.series.unit == "mph" and la.manifest.series.domain == "traffic_speed"
    assert not la.manifest.series.higher_is_busier
    assert list(la.sensors["sensor_id"]) == list(la.series.columns)
    assert la.sensors.crs.to_epsg() == 4326
    assert la.zones is not None and len(la.zones) == 115
    assert la.roads is not None and len(la.roads) == 4396
    assert la.adjacency.shape == (207, 207)
    assert np.allclose(np.diag(la.adjacency), 1.0)


def test_melbourne_counters(melbourne):
    assert melbourne.series.shape[1] == 39
    assert melbourne.freq == pd.Timedelta("1h")
    assert melbourne.sensors["label"].str.contains("Flinders").any()
    assert melbourne.manifest.series.higher_is_busier
    # counters installed late: their active span starts after the series does
    spans = melbourne.active_spans()
    assert (spans["first"] > melbourne.series.index[0]).sum() >= 15
    active = melbourne.active_mask()
    assert active.to_numpy().mean() < 0.75
    # inside the active spans few readings are missing (README: 2.5 % mean)
    inside = melbourne.series.where(active).isna().to_numpy()[active.to_numpy()].mean()
    assert inside < 0.05
    assert any("no series" in w for w in melbourne.warnings)


def test_adjacency_falls_back_to_distance_kernel(melbourne):
    w = melbourne.adjacency
    assert w.shape == (39, 39)
    assert np.allclose(w, w.T)
    assert ((w > 0) & (w < 1)).any()


def test_data_hash_is_stable(la):
    from explorer.cities import load_city

    assert load_city("los-angeles").data_hash == la.data_hash
    assert len(la.data_hash) == 64
