"""Imputation metrics on the original scale, over hidden values only.

Point metrics: MAE, MSE, MRE. Probabilistic metrics, from sampled fills (S, time, sensors):

- ``crps``: CRPS normalised as CSDI and PriSTI report it (their ``calc_quantile_CRPS``): the mean over the 19
  quantile levels 0.05, 0.10, ..., 0.95 of twice the pinball loss of the samples' quantile, summed over the
  hidden values and divided by the sum of their absolute targets. For a point forecast (every sample equal)
  it is exactly MRE.
- ``crps_sample``: the same normalisation of the exact CRPS of the samples' empirical distribution,
  E|X - y| - E|X - X'| / 2.
- ``coverage``: the share of hidden values inside the samples' P10-P90 band.
- ``coherence``: do sampled fills vary together as real values do? Deviations from the ensemble mean
  (real value minus ensemble mean, and each sample minus ensemble mean) are correlated between pairs of
  hidden values one step apart on the same sensor (``lag1``) and between a sensor and its strongest graph
  neighbour at the same step (``neighbour``); samples drawn independently per value score about 0 while real
  errors do not. The ``*_scaled`` figures divide each deviation by the ensemble's spread at that value first.
"""

from __future__ import annotations

import numpy as np

QUANTILES = np.arange(1, 20) * 0.05  # CSDI's 0.05 ... 0.95


def _pick(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mask = np.asarray(mask, dtype=bool)
    if pred.shape != target.shape or mask.shape != target.shape:
        raise ValueError(f"shapes differ: pred {pred.shape}, target {target.shape}, mask {mask.shape}")
    if not mask.any():
        raise ValueError("the mask hides no value: nothing to score")
    return np.asarray(pred, dtype=np.float64)[mask], np.asarray(target, dtype=np.float64)[mask]


def mae(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute error over ``mask``."""
    p, y = _pick(pred, target, mask)
    return float(np.abs(p - y).mean())


def mse(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Mean squared error over ``mask``."""
    p, y = _pick(pred, target, mask)
    return float(np.square(p - y).mean())


def mre(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Mean relative error: sum |error| / sum |target| over ``mask``."""
    p, y = _pick(pred, target, mask)
    return float(np.abs(p - y).sum() / np.abs(y).sum())


def all_metrics(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """``{"mae", "mse", "mre"}`` over ``mask``."""
    return {"mae": mae(pred, target, mask), "mse": mse(pred, target, mask), "mre": mre(pred, target, mask)}


def _pick_samples(samples: np.ndarray, target: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S, M) samples and (M,) targets at the hidden values."""
    if samples.ndim != target.ndim + 1 or samples.shape[1:] != target.shape:
        raise ValueError(f"samples {samples.shape} do not match target {target.shape}: expected (S, *target)")
    _, y = _pick(target, target, mask)
    return np.asarray(samples[:, np.asarray(mask, dtype=bool)], dtype=np.float64), y


def crps(samples: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Normalised CRPS as CSDI / PriSTI compute it (19 quantile levels of the samples, see the module doc)."""
    s, y = _pick_samples(samples, target, mask)
    q = np.quantile(s, QUANTILES, axis=0)  # (19, M)
    pinball = np.abs((y - q) * ((y <= q) - QUANTILES[:, None]))
    return float((2 * pinball.sum(axis=1) / np.abs(y).sum()).mean())


def crps_sample(samples: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Normalised exact CRPS of the samples' empirical distribution: sum(E|X-y| - E|X-X'|/2) / sum|y|."""
    s, y = _pick_samples(samples, target, mask)
    m = len(s)
    srt = np.sort(s, axis=0)
    spread = (2 * np.arange(1, m + 1) - m - 1)[:, None] * srt  # sum_ij |x_i - x_j| = 2 sum_i (2i - m - 1) x_(i)
    per_point = np.abs(s - y).mean(axis=0) - spread.sum(axis=0) / m**2
    return float(per_point.sum() / np.abs(y).sum())


def coverage(samples: np.ndarray, target: np.ndarray, mask: np.ndarray, lo: float = 0.1, hi: float = 0.9) -> float:
    """Share of hidden values inside the samples' [lo, hi] quantile band."""
    s, y = _pick_samples(samples, target, mask)
    q_lo, q_hi = np.quantile(s, [lo, hi], axis=0)
    return float(((y >= q_lo) & (y <= q_hi)).mean())


def _corr(u: np.ndarray, v: np.ndarray) -> float:
    u, v = u - u.mean(), v - v.mean()
    den = np.sqrt((u * u).sum() * (v * v).sum())
    return float((u * v).sum() / den) if den > 0 else 0.0


def strongest_neighbour(adjacency: np.ndarray) -> np.ndarray:
    """Each sensor's strongest neighbour in the symmetrised graph (itself where it has none), (N,) int."""
    w = np.maximum(adjacency, adjacency.T).astype(np.float64)
    np.fill_diagonal(w, 0.0)
    nb = w.argmax(axis=1)
    return np.where(w.max(axis=1) > 0, nb, np.arange(len(w)))


def coherence(samples: np.ndarray, target: np.ndarray, mask: np.ndarray,
              neighbour: np.ndarray) -> dict[str, float]:
    """Lag-1 and neighbour correlation of deviations from the ensemble mean, real against sampled.

    ``samples`` (S, T, N), ``target`` and ``mask`` (T, N), ``neighbour`` (N,) as from ``strongest_neighbour``.
    Pairs count only where both values are hidden. Returns ``lag1_real``, ``lag1_sampled``,
    ``neighbour_real``, ``neighbour_sampled`` and the pair counts; sampled figures are means over samples.
    """
    if samples.ndim != 3 or samples.shape[1:] != target.shape or mask.shape != target.shape:
        raise ValueError(f"expected samples (S, T, N) and target/mask (T, N); got {samples.shape}, "
                         f"{target.shape}, {mask.shape}")
    mask = np.asarray(mask, dtype=bool)
    ens = samples.mean(axis=0)
    lag = mask[1:] & mask[:-1]
    nbm = mask & mask[:, neighbour] & (neighbour != np.arange(len(neighbour)))[None, :]
    if lag.sum() < 3 or nbm.sum() < 3:
        raise ValueError("too few pairs of hidden values to measure coherence")

    def both(d: np.ndarray) -> tuple[float, float]:
        return _corr(d[:-1][lag], d[1:][lag]), _corr(d[nbm], d[:, neighbour][nbm])

    real = both(np.asarray(target, dtype=np.float64) - ens)
    sampled = np.mean([both(s - ens) for s in samples], axis=0)
    # the same with each deviation divided by the ensemble's spread at that value: whether the per-value
    # dependence is right, apart from how large deviations weigh in the pooled figures above
    spread = np.where(mask, samples.std(axis=0), 1.0)
    spread = np.where(spread > 0, spread, 1.0)
    real_n = both((np.asarray(target, dtype=np.float64) - ens) / spread)
    sampled_n = np.mean([both((s - ens) / spread) for s in samples], axis=0)
    return {"lag1_real": real[0], "lag1_sampled": float(sampled[0]), "neighbour_real": real[1],
            "neighbour_sampled": float(sampled[1]), "lag1_pairs": int(lag.sum()), "neighbour_pairs": int(nbm.sum()),
            "lag1_real_scaled": real_n[0], "lag1_sampled_scaled": float(sampled_n[0]),
            "neighbour_real_scaled": real_n[1], "neighbour_sampled_scaled": float(sampled_n[1])}


def probabilistic_metrics(samples: np.ndarray, target: np.ndarray, mask: np.ndarray,
                          neighbour: np.ndarray) -> dict[str, float]:
    """``crps``, ``crps_sample``, ``coverage`` (P10-P90) and the coherence figures over ``mask``."""
    return {"crps": crps(samples, target, mask), "crps_sample": crps_sample(samples, target, mask),
            "coverage": coverage(samples, target, mask), **coherence(samples, target, mask, neighbour)}
