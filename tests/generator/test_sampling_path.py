"""The sampling path gives the training path's numbers, and an event changes only the sensors its learned
response reaches within the requested reach: the scenario is the baseline elsewhere, bit for bit, and the
summaries taken on that shortcut are the summaries of the full arrays."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.cities import load_city
from explorer.geo import great_circle_km
from explorer.models.generator.api import generate
from explorer.models.generator.model import calendar_features
from explorer.models.generator.sampling import sample_base
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


def test_sampling_path_matches_the_training_path(bundle):
    """The in-place event-free path and the once-per-field event path give the training forward's numbers."""
    m = bundle.model
    cond = torch.from_numpy(calendar_features(np.arange(24), np.full(24, 4), np.zeros(24)))[None].expand(8, -1, -1)
    noise = m.noise(8, torch.Generator().manual_seed(11))
    field = torch.zeros(1, 24, m.n)
    field[0, 6:9, 3] = 0.4
    with torch.no_grad():
        base = m.base(noise, cond)
        dev = m.event(field.expand(8, -1, -1), cond, noise[3], noise[4])
        fast = sample_base(m, tuple(t.clone() for t in noise), cond)
        cols, resp = m.event.support(field)
        fast_dev = m.event.sample_at(resp, cols, cond, noise[3], noise[4][:, cols], cols == 3)
    torch.testing.assert_close(fast, base, rtol=0, atol=1e-6)
    torch.testing.assert_close(fast_dev, dev[..., cols], rtol=1e-5, atol=1e-6)
    outside = torch.ones(m.n, dtype=torch.bool)
    outside[cols] = False
    assert 3 in cols.tolist() and torch.count_nonzero(dev[..., outside]) == 0


@pytest.mark.parametrize("reach_km", [0.0, 2.0])
def test_scenario_is_the_baseline_outside_the_changed_sensors(bundle, reach_km):
    sc = Scenario(city=bundle.view.slug, day={"day_of_week": 2}, start_hour=7, horizon_hours=12,
                  events=[_event(bundle, reach_km)])  # fmt: skip
    res = generate(bundle.view, sc, n_samples=16, seed=4, model=bundle)
    n = len(res.sensor_ids)
    changed = np.zeros(n, bool)
    changed[res.changed_idx] = True
    v = bundle.view
    within = great_circle_km(v.lat[3], v.lon[3], v.lat, v.lon) <= reach_km
    assert changed[3] and not changed[~within].any()  # the reach is an upper bound
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
    one_row = noise[2][:1].numel() * noise[2].element_size()
    outs = [sample_base(m, tuple(t.clone() for t in noise), cond, chunk_bytes=cb)
            for cb in (1 << 40, one_row, 3 * one_row)]  # fmt: skip
    for base in outs[1:]:
        assert torch.equal(base, outs[0])


def test_the_origin_gets_the_stated_size_in_every_sample_and_the_reach_varies(bundle):
    """At the sensor the request names, every sample carries the same deviation (the planner states that size);
    where the learned response reaches beyond it, the samples differ (its uncertainty is sampled, not painted).
    A checkpoint written before that rule (``origin_fixed`` false) keeps its per-sample factor at the origin."""
    m = bundle.model
    cond = torch.from_numpy(calendar_features(np.arange(24), np.full(24, 2), np.zeros(24)))[None].expand(32, -1, -1)
    noise = m.noise(32, torch.Generator().manual_seed(5))
    field = torch.zeros(32, 24, m.n)
    field[:, 8:11, 3] = 0.4
    with torch.no_grad():
        dev = m.event(field, cond, noise[3], noise[4])
    at_origin = dev[:, 8:11, 3]
    assert bool((at_origin != 0).all())
    same = torch.allclose(at_origin, at_origin[:1].expand_as(at_origin), rtol=1e-5, atol=1e-7)
    assert same == bundle.config.origin_fixed
    away = dev.abs().amax(dim=(0, 1)) > 1e-4 * dev.abs().max()
    away[3] = False
    assert bool(away.any())  # the learned response reaches other sensors
    spread = dev[..., away].std(0) / dev[..., away].abs().mean(0).clamp(min=1e-9)
    assert float(spread.max()) > 0.01
