"""The scores must be able to fail, and must not fail where nothing is wrong: checked on cases with a known
answer, on real data where a case has one."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.models.generator.data import inverse, prepare
from explorer.models.generator.scores import (
    correlational,
    crps_gaussian,
    crps_samples,
    day_folds,
    discriminative,
    energy_score,
)


def test_crps_of_samples_matches_the_gaussian_closed_form():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=(20_000, 1))
    for y in (-4.0, 2.0, 7.5):
        assert crps_samples(x, np.array([y]))[0] == pytest.approx(float(crps_gaussian(2.0, 3.0, y)), rel=0.02)


def test_crps_of_one_sample_is_the_absolute_error_and_a_sharper_right_forecast_scores_lower():
    y = np.array([1.0, 5.0])
    assert np.allclose(crps_samples(np.array([[3.0, 5.0]]), y), [2.0, 0.0])
    rng = np.random.default_rng(1)
    wide, sharp = rng.normal(0, 3, (4000, 1)), rng.normal(0, 1, (4000, 1))
    assert crps_samples(sharp, np.zeros(1))[0] < crps_samples(wide, np.zeros(1))[0]
    assert crps_samples(sharp + 5, np.zeros(1))[0] > crps_samples(sharp, np.zeros(1))[0]


def test_energy_score_is_the_crps_in_one_dimension_and_sees_wrong_dependence():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 1))
    assert energy_score(x, np.array([0.3])) == pytest.approx(float(crps_samples(x, np.array([0.3]))[0]), rel=1e-6)
    # outcomes whose two coordinates move together: samples with that dependence beat independent ones
    common = rng.normal(size=(400, 1))
    ys = np.hstack([common, common]) + 0.1 * rng.normal(size=(400, 2))
    dep = np.hstack([c := rng.normal(size=(300, 1)), c]) + 0.1 * rng.normal(size=(300, 2))
    indep = rng.normal(size=(300, 2))
    assert np.mean([energy_score(dep, y) for y in ys]) < np.mean([energy_score(indep, y) for y in ys])


def test_energy_score_skips_unobserved_cells():
    x = np.zeros((3, 4))
    y = np.array([0.0, 0.0, 9.0, 0.0])
    assert energy_score(x, y, np.array([True, True, False, True])) == 0.0


def test_folds_are_contiguous_blocks_of_days():
    f = day_folds(10, 4)
    assert list(f) == sorted(f) and set(f) == {0, 1, 2, 3}


def test_correlational_is_zero_for_the_same_series_and_grows_when_structure_breaks():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((500, 1)) + 0.1 * rng.standard_normal((500, 4))
    assert correlational(real, real.copy()) == pytest.approx(0.0)
    assert correlational(real, rng.standard_normal((500, 4))) > 0.4  # 6 pairs x ~0.99 / 10


@pytest.fixture(scope="module")
def melbourne_days():
    """Melbourne's training days, scaled per sensor, missing readings at the profile: (D, 24, n)."""
    p = prepare("melbourne")
    keep = p.has_history
    d = p.splits["train"]
    y = inverse(np.where(p.mask[d], p.y[d], p.mu[p.dtype[d]])[..., keep], "counts")
    lo, hi = y.min(axis=(0, 1)), y.max(axis=(0, 1))
    return ((y - lo) / np.where(hi > lo, hi - lo, 1)).astype(np.float32)


def test_identical_sets_score_exactly_zero(melbourne_days):
    assert discriminative(melbourne_days, melbourne_days.copy(), steps=60, seed=0) == 0.0


def test_two_halves_of_the_same_real_period_look_alike(melbourne_days):
    """The check the earlier stride-1 random split failed (it scored 0.50: windows sharing 23 hours)."""
    score = discriminative(melbourne_days[0::2], melbourne_days[1::2], steps=150, seed=0)
    assert score <= 0.05


def test_a_visibly_wrong_copy_is_told_apart(melbourne_days):
    rng = np.random.default_rng(3)
    flat = np.repeat(melbourne_days.mean(axis=1, keepdims=True), 24, axis=1)  # every hour at the day's mean
    flat = flat + 0.01 * rng.standard_normal(flat.shape).astype(np.float32)
    assert discriminative(melbourne_days, flat, steps=150, seed=0) > 0.3
