"""Evaluation pieces on small arrays: windows, scores, baselines."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.models.generator.data import prepare
from explorer.models.generator.evaluate import (
    _windows,
    correlational,
    discriminative,
    sample_bootstrap,
    sample_seasonal_noise,
)


def test_windows_are_stride_one():
    x = np.arange(30, dtype=np.float32).reshape(30, 1)
    w = _windows(x, 24)
    assert w.shape == (7, 24, 1)
    assert w[3, 0, 0] == 3 and w[3, -1, 0] == 26


def test_correlational_is_zero_for_the_same_series_and_grows_when_structure_breaks():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((500, 1))
    real = base + 0.1 * rng.standard_normal((500, 4))  # four strongly correlated sensors
    assert correlational(real, real.copy()) == pytest.approx(0.0)
    shuffled = rng.standard_normal((500, 4))
    assert correlational(real, shuffled) > 0.4  # 6 pairs x ~0.99 / 10


@pytest.mark.parametrize("blocked", [False, True])
def test_discriminative_tells_a_shifted_copy_from_real(blocked):
    rng = np.random.default_rng(1)
    real = rng.random((300, 24, 8)).astype(np.float32)
    fake = (0.5 * rng.random((300, 24, 8)) + 0.5).astype(np.float32)
    assert discriminative(real, fake, steps=200, seed=0, blocked=blocked) > 0.35


@pytest.fixture(scope="module")
def melbourne_prep():
    return prepare("melbourne")


def test_baselines_sample_the_right_shapes_and_analogues_come_from_training_days(melbourne_prep):
    p = melbourne_prep
    days = p.splits["test"][:3]
    boot = sample_bootstrap(p, days, n=5, seed=0)
    noise = sample_seasonal_noise(p, days, n=5, seed=0)
    assert boot.shape == noise.shape == (3, 5, 24, p.n)
    assert (boot >= 0).all() and (noise >= 0).all()
    # every analogue is a whole training day of the same day type (missing readings -> profile)
    train = p.splits["train"]
    d0 = days[0]
    pool = train[p.dtype[train] == p.dtype[d0]]
    filled = np.expm1(np.where(p.mask[pool], p.y[pool], p.mu[p.dtype[d0]][None]))
    for k in range(5):
        assert np.isclose(filled, boot[0, k][None], rtol=1e-4, atol=1e-2).all(axis=(1, 2)).any()


@pytest.mark.slow
def test_quick_evaluation_reports_every_metric_for_the_gan_and_both_baselines():
    """A CI-sized run (smaller than `--quick`): every metric, every method, plus the references."""
    from explorer.cities import load_city
    from explorer.models.generator.evaluate import METHODS, EvalSettings, evaluate, markdown

    tiny = EvalSettings(n_samples=8, repeats=1, disc_steps=20, pred_steps=20, requests=4, latency_calls=2)
    report = evaluate(load_city("melbourne"), quick=True, settings=tiny)
    assert set(report["methods"]) == set(METHODS)
    for name in METHODS:
        m = report["methods"][name]
        for key in ("discriminative", "discriminative_blocked", "predictive", "correlational"):
            assert np.isfinite(m[key]["mean"]), (name, key)
        assert 0.0 <= m["discriminative"]["mean"] <= 0.5
        assert 0.0 < m["coverage_p10_p90"] <= 1.0 and m["band_width_p10_p90"] > 0
    ctrl = report["methods"]["gan"]["controllability"]
    assert ctrl["requests"] and np.isfinite(ctrl["rel_error_mean"])
    assert report["methods"]["gan"]["latency_ms_64_samples"] > 0
    # real days against other real days: the ceiling that this little held-out data allows
    assert 0.0 <= report["discriminative_real_reference"]["mean"] <= 0.5
    assert 0.0 < report["predictive_real_reference"]["mean"]
    table = markdown(report)
    assert "| gan |" in table and "perfect copy of the history" in table
