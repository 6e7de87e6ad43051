"""The in-place sampling path gives the training path's numbers, and an event changes only the sensors in its
reach: the scenario is the baseline elsewhere, bit for bit, and the summaries taken on that shortcut are the
summaries of the full arrays."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.cities import load_city
from explorer.models.generator.api import generate
from explorer.models.generator.model import calendar_features
from explorer.scenarios import Scenario
from tests.generator_fixture import trained_generator


@pytest.fixture(scope="module", params=["los-angeles", "melbourne"])
def bundle(request):
    return trained_generator(load_city(request.param))


def _event(bundle, reach_km: float) -> dict:
    speed = bundle.domain == "speed"
    return {"place": {"sensor_id": bundle.view.sensor_ids[3]}, "magnitude": 30 if speed else 2500,
            "unit": "percent_slower" if speed else "people", "start_offset_hours": 1, "duration_hours": 3,
            "reach_km": reach_km}  # fmt: skip


def test_sample_parts_matches_parts(bundle):
    m = bundle.model
    cond = torch.from_numpy(calendar_features(np.arange(24), np.full(24, 4), np.zeros(24)))[None].expand(8, -1, -1)
    noise = m.noise(8, torch.Generator().manual_seed(11))
    cols = torch.tensor([0, 2, 5])
    with torch.no_grad():
        base, gain = m.parts(noise, cond)
        fast_base, fast_gain = m.sample_parts(tuple(t.clone() for t in noise), cond, cols)
    torch.testing.assert_close(fast_base, base, rtol=0, atol=1e-6)
    torch.testing.assert_close(fast_gain, gain[..., cols], rtol=1e-6, atol=1e-6)


def test_event_response_is_zero_outside_its_reach(bundle):
    m = bundle.model
    ev = torch.zeros(1, 24, m.n)
    ev[0, 4:7, 3] = 0.8
    cols = m.reach(ev)
    gain = torch.rand(2, 24, m.n) + 0.5
    with torch.no_grad():
        full = m.event_response(gain, ev)
    outside = torch.ones(m.n, dtype=torch.bool)
    outside[cols] = False
    assert 3 in cols.tolist()
    assert torch.count_nonzero(full[..., outside]) == 0
    torch.testing.assert_close(m.event_response_at(gain[..., cols], ev, cols), full[..., cols])


@pytest.mark.parametrize("reach_km", [0.0, 2.0])
def test_scenario_is_the_baseline_outside_the_changed_sensors(bundle, reach_km):
    sc = Scenario(city=bundle.view.slug, day={"day_of_week": 2}, start_hour=7, horizon_hours=12,
                  events=[_event(bundle, reach_km)])  # fmt: skip
    res = generate(bundle.view, sc, n_samples=16, seed=4, model=bundle)
    n = len(res.sensor_ids)
    changed = np.zeros(n, bool)
    changed[res.changed_idx] = True
    a = bundle.model.a.to_dense().numpy() if bundle.model.a.is_sparse else bundle.model.a.numpy()
    places = (np.abs(res.event_field) > 0).any(0)  # the event's sensors, then their graph neighbours
    assert np.array_equal(changed, places | (a[places] != 0).any(0))
    assert np.array_equal(res.scenario_samples[:, :, ~changed], res.baseline[:, :, ~changed])
    assert np.any(res.scenario_samples[:, :, 3] != res.baseline[:, :, 3])
    full = {"baseline": res.baseline, "scenario": res.scenario_samples,
            "difference": res.scenario_samples - res.baseline}  # fmt: skip
    for which, arr in full.items():
        np.testing.assert_allclose(res.quantiles(which), np.quantile(arr, (0.1, 0.5, 0.9), axis=0), rtol=1e-5,
                                   atol=1e-4)  # fmt: skip
    np.testing.assert_array_equal(res.difference, full["difference"])
    assert res.quantiles("scenario") is res.quantiles("scenario")  # computed once


def test_no_event_changes_nothing(bundle):
    sc = Scenario(city=bundle.view.slug, day={"day_of_week": 5}, start_hour=0, horizon_hours=24, events=[])
    res = generate(bundle.view, sc, n_samples=8, seed=1, model=bundle)
    assert len(res.changed_idx) == 0
    assert np.array_equal(res.scenario_samples, res.baseline)
    assert res.headline["sensors_affected"] == 0 and res.headline["peak_change"] == 0.0


def test_chunked_sampling_is_bit_identical(bundle):
    """Samples are computed a few at a time (temporaries stay small); the chunking changes no number."""
    m = bundle.model
    cond = torch.from_numpy(calendar_features(np.arange(24), np.full(24, 1), np.zeros(24)))[None].expand(16, -1, -1)
    noise = m.noise(16, torch.Generator().manual_seed(5))
    cols = torch.tensor([1, 4])
    one_row = noise[2][:1].numel() * noise[2].element_size()
    outs = [m.sample_parts(tuple(t.clone() for t in noise), cond, cols, chunk_bytes=cb)
            for cb in (1 << 40, one_row, 3 * one_row)]  # fmt: skip
    for base, gain in outs[1:]:
        assert torch.equal(base, outs[0][0])
        assert torch.equal(gain, outs[0][1])
