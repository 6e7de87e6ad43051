"""Metrics on hand-checked arrays: only hidden cells count."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.models.imputer.metrics import all_metrics, mae, mre, mse


def test_metrics_on_hidden_values_only() -> None:
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    pred = np.array([[2.0, 2.0], [0.0, 100.0]])
    mask = np.array([[True, True], [True, False]])  # the 100 is not hidden: ignored
    # errors on hidden cells: 1, 0, 3
    assert mae(pred, y, mask) == pytest.approx(4 / 3)
    assert mse(pred, y, mask) == pytest.approx(10 / 3)
    assert mre(pred, y, mask) == pytest.approx(4 / 6)
    assert all_metrics(pred, y, mask) == {"mae": pytest.approx(4 / 3), "mse": pytest.approx(10 / 3),
                                          "mre": pytest.approx(4 / 6)}


def test_metrics_refuse_empty_mask_and_shape_mismatch() -> None:
    y = np.zeros((2, 2))
    with pytest.raises(ValueError, match="nothing to score"):
        mae(y, y, np.zeros((2, 2), bool))
    with pytest.raises(ValueError, match="shapes differ"):
        mae(np.zeros((2, 3)), y, np.ones((2, 2), bool))


def test_crps_of_a_point_forecast_is_its_mre() -> None:
    """Every sample equal: the distribution is a point mass and its CRPS is the absolute error (MRE normalised)."""
    from explorer.models.imputer.metrics import crps, crps_sample

    rng = np.random.default_rng(0)
    y = rng.normal(50, 10, size=(30, 7))
    pred = y + rng.normal(0, 3, size=y.shape)
    mask = rng.random(y.shape) < 0.4
    samples = np.repeat(pred[None], 50, axis=0)
    assert crps(samples, y, mask) == pytest.approx(mre(pred, y, mask), rel=1e-12)
    assert crps_sample(samples, y, mask) == pytest.approx(mre(pred, y, mask), rel=1e-12)


def test_crps_matches_the_gaussian_closed_form() -> None:
    """CRPS(N(mu, s), y) = s [z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)], z = (y - mu) / s."""
    from scipy.stats import norm

    from explorer.models.imputer.metrics import crps, crps_sample

    rng = np.random.default_rng(1)
    shape = (40, 25)
    mu, s = rng.normal(60, 5, size=shape), rng.uniform(1, 4, size=shape)
    y = mu + s * rng.standard_normal(shape) * 1.5  # a forecast that is too narrow, to make it non-trivial
    mask = np.ones(shape, bool)
    z = (y - mu) / s
    exact = (s * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))).sum() / np.abs(y).sum()
    draws = mu + s * rng.standard_normal((4000, *shape))
    assert crps_sample(draws, y, mask) == pytest.approx(exact, rel=0.01)
    # CSDI's form averages the pinball loss over 19 levels: with the Gaussian's exact quantiles that is
    levels = np.arange(1, 20) * 0.05
    q = mu[None] + s[None] * norm.ppf(levels)[:, None, None]
    pinball = np.abs((y[None] - q) * ((y[None] <= q) - levels[:, None, None]))
    csdi_form = (2 * pinball.sum(axis=(1, 2)) / np.abs(y).sum()).mean()
    assert crps(draws, y, mask) == pytest.approx(csdi_form, rel=0.01)
    assert csdi_form == pytest.approx(exact, rel=0.08)  # ~5 % above the integral (20/19, no tails)
    assert crps(draws, y, mask) < mre(mu + 8, y, mask)  # a far-off point forecast scores worse


def test_coverage_of_the_p10_p90_band() -> None:
    from explorer.models.imputer.metrics import coverage

    rng = np.random.default_rng(2)
    y = rng.standard_normal((200, 20))
    mask = np.ones(y.shape, bool)
    assert coverage(rng.standard_normal((200, 200, 20)), y, mask) == pytest.approx(0.8, abs=0.02)
    assert coverage(0.2 * rng.standard_normal((200, 200, 20)), y, mask) < 0.3


def test_coherence_tells_coherent_samples_from_independent_noise() -> None:
    """Real values: AR(1) in time (phi 0.8) and neighbour pairs sharing a common component (corr 0.5)."""
    from explorer.models.imputer.metrics import coherence, strongest_neighbour

    rng = np.random.default_rng(3)
    t, n, phi = 400, 10, 0.8

    def field(k: int) -> np.ndarray:
        shared = np.zeros((k, t, n // 2))
        own = np.zeros((k, t, n))
        for i in range(1, t):
            shared[:, i] = phi * shared[:, i - 1] + rng.standard_normal((k, n // 2)) * np.sqrt(1 - phi**2)
            own[:, i] = phi * own[:, i - 1] + rng.standard_normal((k, n)) * np.sqrt(1 - phi**2)
        return np.repeat(shared, 2, axis=2) + own  # sensors 2i, 2i+1 share a component: correlation 0.5

    adjacency = np.zeros((n, n))
    for i in range(0, n, 2):
        adjacency[i, i + 1] = 1.0
    nb = strongest_neighbour(adjacency)
    assert list(nb[:4]) == [1, 0, 3, 2]
    real = field(1)[0]
    mask = rng.random((t, n)) < 0.6
    good = coherence(field(64), real, mask, nb)
    assert good["lag1_real"] == pytest.approx(0.8, abs=0.08)
    assert good["neighbour_real"] == pytest.approx(0.5, abs=0.12)
    assert good["lag1_sampled"] == pytest.approx(0.8, abs=0.03)
    assert good["neighbour_sampled"] == pytest.approx(0.5, abs=0.05)
    assert good["lag1_sampled_scaled"] == pytest.approx(0.8, abs=0.05)  # a constant spread: the same figure
    noise = coherence(np.sqrt(2) * rng.standard_normal((64, t, n)), real, mask, nb)
    assert abs(noise["lag1_sampled"]) < 0.03 and abs(noise["neighbour_sampled"]) < 0.03
    with pytest.raises(ValueError, match="too few pairs"):
        coherence(field(4), real, np.zeros((t, n), bool), nb)
