"""Evaluation pieces on real data: baselines, the same calibration for every method, and a CI-sized run."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.models.generator.data import prepare
from explorer.models.generator.evaluate import (
    fit_alpha,
    native,
    residual_bootstrap,
    residual_seasonal_noise,
)


@pytest.fixture(scope="module")
def melbourne_prep():
    return prepare("melbourne")


def test_analogues_are_whole_training_days_of_the_same_day_type(melbourne_prep):
    p = melbourne_prep
    days = p.splits["test"][:3]
    boot = native(p, days, residual_bootstrap(p, days, n=5, seed=0), 1.0)
    assert boot.shape == (3, 5, 24, p.n) and (boot >= 0).all()
    train = p.splits["train"]
    d0 = days[0]
    pool = train[p.dtype[train] == p.dtype[d0]]
    filled = np.expm1(np.where(p.mask[pool], p.y[pool], p.mu[p.dtype[d0]][None]))
    for k in range(5):
        assert np.isclose(filled, boot[0, k][None], rtol=1e-4, atol=1e-2).all(axis=(1, 2)).any()


def test_the_spread_calibration_hits_its_target_and_moves_the_way_it_must(melbourne_prep):
    """The fitted factor reaches ~80 % on the validation days, and a sampler twice as wide gets half the factor
    (a fit that ignored the samples, or scaled the wrong way, fails this)."""
    p = melbourne_prep

    def noise(ds, seed):
        return residual_seasonal_noise(p, ds, 32, seed)

    alpha, raw, cal = fit_alpha(p, noise, 0)
    assert abs(cal - 0.8) < 0.02 and 0.3 < alpha < 4 and 0 < raw < 1
    alpha2, _, _ = fit_alpha(p, lambda ds, seed: 2 * noise(ds, seed), 0)
    assert alpha2 == pytest.approx(alpha / 2, abs=0.06)


@pytest.mark.slow
def test_quick_evaluation_reports_every_metric_for_the_gan_and_both_baselines():
    """A CI-sized run: every metric, every method, the references, and a table."""
    from explorer.cities import load_city
    from explorer.models.generator.evaluate import METHODS, EvalSettings, evaluate, markdown

    tiny = EvalSettings(n_samples=8, repeats=1, disc_steps=20, pred_steps=20, requests=4, latency_calls=2)
    report = evaluate(load_city("melbourne"), quick=True, settings=tiny)
    assert set(report["methods"]) == set(METHODS)
    for name in METHODS:
        m = report["methods"][name]
        for key in ("discriminative", "predictive", "correlational"):
            assert np.isfinite(m[key]["mean"]), (name, key)
        assert m["crps"] > 0 and m["energy_score_day"] > 0 and m["band_width_p10_p90"] > 0
    ctrl = report["methods"]["gan"]["controllability"]
    assert ctrl["raw"]["gain"] == 1.0 and len(ctrl["raw"]["requests"]) == 4
    assert {"discriminative_same_period_halves", "discriminative_days_before", "predictive_real"} <= set(
        report["references"])
    table = markdown(report)
    assert "| gan |" in table and "as trained" in table and "noise floor" in table
