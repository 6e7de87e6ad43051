"""A generator for a synthetic city derived from the bundled checkpoint, without retraining."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import sparse

from explorer.cities import load_city
from explorer.cities.synthetic import make_synthetic_city, synthetic_mapping
from explorer.models.generator.api import generate, load_generator
from explorer.models.generator.model import GeneratorConfig, calendar_features
from explorer.scenarios.schema import Scenario

N = 500


@pytest.fixture(scope="module")
def la():
    return load_generator(load_city("los-angeles"))


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return load_city(make_synthetic_city("los-angeles", N, seed=1, out_dir=tmp_path_factory.mktemp("c"), days=7))


@pytest.fixture(scope="module")
def derived(synth):
    return load_generator(synth)  # the checkpoint saved beside the synthetic city, loaded like any other


def _idx(synth, la) -> np.ndarray:
    pos = {s: i for i, s in enumerate(la.view.sensor_ids)}
    return np.array([pos[s] for s in synthetic_mapping(synth)["source_sensor"]])


def test_metadata_says_where_it_came_from(derived, la, synth):
    m = derived.meta
    assert m["city"] == synth.slug and m["data_hash"] == synth.data_hash and m["kind"] == "generator"
    assert m["derived_from"]["city"] == "los-angeles"
    assert m["derived_from"]["weights_sha256"] == la.meta["weights_sha256"]
    assert "no retraining" in m["derivation"]
    assert derived.alpha == la.alpha


@torch.inference_mode()
def test_event_free_part_is_the_sources_given_the_same_noise(derived, la, synth):
    idx = _idx(synth, la)
    zg, zh, zs, ze, zn = la.model.noise(6, torch.Generator().manual_seed(0))
    cond = torch.from_numpy(calendar_features((np.arange(24) + 7) % 24, np.full(24, 2), np.zeros(24)))
    cond = cond[None].expand(6, -1, -1)
    base_la = la.model.base((zg, zh, zs, ze, zn), cond)
    base = derived.model.base((zg, zh, zs[:, :, idx], ze, zn[:, idx]), cond)
    assert torch.allclose(base, base_la[:, :, idx], atol=1e-5)


def test_profile_follows_each_copys_scale(derived, la, synth):
    idx = _idx(synth, la)
    scale = synthetic_mapping(synth)["scale"].to_numpy()
    np.testing.assert_allclose(derived.mu, la.mu[:, :, idx] * scale, rtol=1e-5)
    np.testing.assert_allclose(derived.sd, la.sd[:, :, idx] * scale, rtol=1e-5)


def test_samples_have_the_sources_statistics(derived, la, synth):
    sc = {"day": {"day_of_week": 1}, "start_hour": 6, "horizon_hours": 12}
    big = generate(synth, Scenario.model_validate({"city": synth.slug, **sc}), 64, 0, model=derived)
    src = generate("los-angeles", Scenario.model_validate({"city": "los-angeles", **sc}), 64, 0, model=la)
    idx = _idx(synth, la)
    scale = synthetic_mapping(synth)["scale"].to_numpy()
    med = np.median(big.baseline, axis=(0, 1)) / scale
    med_src = np.median(src.baseline, axis=(0, 1))[idx]
    assert np.median(np.abs(med / med_src - 1)) < 0.05
    spread = np.std(big.baseline, axis=0).mean(0) / scale
    spread_src = np.std(src.baseline, axis=0).mean(0)[idx]
    assert 0.7 < np.median(spread / spread_src) < 1.4


@pytest.mark.parametrize("reach_km", [0.0, 1.5])
def test_event_stays_within_its_reach(derived, synth, reach_km):
    from explorer.geo import great_circle_km

    place = synth.sensor_ids[7]
    sc = Scenario.model_validate({"city": synth.slug, "day": {"day_of_week": 3}, "start_hour": 8,
                                  "horizon_hours": 6, "events": [{"place": {"sensor_id": place}, "magnitude": 40,
                                  "unit": "percent_slower", "start_offset_hours": 1, "duration_hours": 2,
                                  "reach_km": reach_km}]})
    res = generate(synth, sc, 32, 0, model=derived)
    moved = np.flatnonzero(np.abs(res.difference).max(axis=(0, 1)) > 0)
    lat, lon = synth.sensors.geometry.y.to_numpy(), synth.sensors.geometry.x.to_numpy()
    within = set(np.flatnonzero(great_circle_km(lat[7], lon[7], lat, lon) <= reach_km)) | {7}
    assert 7 in moved and set(moved) <= within
    assert np.median(res.difference[:, 1:3, 7]) < -5  # slower at the place


def test_sparse_graph_gives_the_dense_graphs_event_response():
    from explorer.models.generator.model import EventResponse

    rng = np.random.default_rng(0)
    adj = rng.random((40, 40)).astype(np.float32)
    adj[adj < 0.8] = 0
    torch.manual_seed(0)
    cfg = GeneratorConfig(pair_specific=False)
    dense = EventResponse(cfg, adj)
    sp = EventResponse(cfg, sparse.csr_matrix(adj))
    with torch.no_grad():
        dense.hop.normal_()
        sp.load_state_dict(dense.state_dict())
        field, cond = torch.rand(3, 24, 40), torch.rand(3, 24, 10)
        z = (torch.randn(3, cfg.components), torch.randn(3, 40))
        assert torch.allclose(dense(field, cond, *z), sp(field, cond, *z), atol=1e-5)
