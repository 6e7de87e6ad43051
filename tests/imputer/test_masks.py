"""The GRIN-protocol mask generator: draw order, rates and fault lengths."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.models.imputer.baselines import mean_impute
from explorer.models.imputer.data import prepare
from explorer.models.imputer.masks import PROTOCOLS, MaskSpec, eval_mask, sample_mask
from explorer.models.imputer.metrics import mae


def _runs(col: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True."""
    edges = np.diff(np.concatenate([[0], col.astype(int), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts, stops - starts, strict=True))


def test_point_mask_hides_a_quarter_and_follows_the_draw_order() -> None:
    shape = (4000, 50)
    mask = sample_mask(shape, PROTOCOLS["point"], np.random.default_rng(7))
    assert abs(mask.mean() - 0.25) < 0.005
    rng = np.random.default_rng(7)
    first = rng.random(shape) < 0.0  # the fault draw happens even with p_fault = 0
    assert not first.any()
    assert np.array_equal(mask, rng.random(shape) < 0.25)


def test_fault_lengths_are_one_per_sensor_between_12_and_47() -> None:
    spec = MaskSpec(p_fault=0.0015, p_noise=0.0)
    shape = (6000, 120)
    mask = sample_mask(shape, spec, np.random.default_rng(3))
    lengths_seen, at_own_length, n_runs = [], 0, 0
    for j in range(shape[1]):
        runs = [(s, n) for s, n in _runs(mask[:, j]) if s + n < shape[0]]  # drop runs clipped at the end
        if not runs:
            continue
        shortest = min(n for _, n in runs)
        assert 12 <= shortest <= 47  # 12 + randint(36)
        assert all(n >= 12 for _, n in runs)
        at_own_length += sum(n == shortest for _, n in runs)
        n_runs += len(runs)
        lengths_seen.append(shortest)
    assert len(set(lengths_seen)) > 10  # lengths differ between sensors
    # one length per sensor: every run has it, except the few where two faults overlap (~5 % at this rate); a
    # length drawn per fault would leave most runs longer than their sensor's shortest
    assert at_own_length / n_runs > 0.9
    # expected share: 1 - E[(1 - p)^L] for L uniform in 12..47
    expected = 1 - np.mean([(1 - 0.0015) ** n for n in range(12, 48)])
    assert abs(mask.mean() - expected) < 0.01


def test_block_mask_rate_and_and_with_observed() -> None:
    rng = np.random.default_rng(0)
    observed = rng.random((8000, 60)) > 0.1
    hidden = eval_mask(observed, "block", seed=11)
    assert not (hidden & ~observed).any()
    rate = hidden.sum() / observed.sum()
    assert 0.08 < rate < 0.10  # ~4 % faults + 5 % noise
    assert np.array_equal(hidden, eval_mask(observed, "block", seed=11))
    assert not np.array_equal(hidden, eval_mask(observed, "block", seed=12))
    with pytest.raises(ValueError, match="unknown protocol"):
        eval_mask(observed, "blocks")  # type: ignore[arg-type]


@pytest.mark.parametrize(("protocol", "published"), [("point", 7.56), ("block", 7.48)])
def test_harness_mean_imputer_matches_published_metr_la(los_angeles, protocol: str, published: float) -> None:
    data = prepare(los_angeles.series, protocol, seed=9101112)  # type: ignore[arg-type]
    pred = mean_impute(data.model_input, data.bounds[0])
    assert abs(mae(pred, data.target, data.scored("test")) - published) < 0.1
