"""Scores of generated samples against real held-out data.

* **Proper scores** from samples: CRPS per cell (``E|X - y| - E|X - X'| / 2``) and the energy score of whole
  days (the same with Euclidean norms over all observed sensor-hours of a day).
* **TimeGAN-style scores** (``../shared/EVALUATION.md``) on **day-blocked** splits: every window is one whole
  day (24 hours from midnight; windows never share hours), days are split into contiguous folds, and the
  classifier is always tested on days it was not trained on. Discriminative: a GRU (hidden = features / 2,
  last state -> logit) tells real from synthetic days; score = |accuracy - 0.5| pooled over the folds.
  Identical sets score exactly 0 (a day and its copy fall in the same fold and get the same prediction); two
  halves of the same real period score near 0, up to the noise of that many days. Predictive (train on
  synthetic, test on real): a GRU predicts the next value of the last feature from the others.
  Correlational: ``sum |C_syn - C_real|`` over the lower triangle of the lag-0 correlations / 10.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def crps_samples(samples: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CRPS of an ensemble (S, ...) against ``y`` (...), elementwise: ``E|X - y| - E|X - X'| / 2``."""
    x = np.sort(samples, axis=0)
    s = x.shape[0]
    w = (2 * np.arange(1, s + 1) - s - 1).reshape((-1,) + (1,) * (x.ndim - 1))
    return np.abs(x - y[None]).mean(0) - (w * x).sum(0) / s**2


def energy_score(samples: np.ndarray, y: np.ndarray, observed: np.ndarray | None = None) -> float:
    """Energy score of an ensemble (S, ...) against one outcome ``y`` (...) over the ``observed`` cells:
    ``E||X - y|| - E||X - X'|| / 2`` (lower is better; the CRPS when there is one cell)."""
    obs = np.ones(y.shape, bool) if observed is None else observed
    x = samples[:, obs].astype(np.float64)  # (S, K)
    t = y[obs].astype(np.float64)
    first = np.linalg.norm(x - t[None], axis=1).mean()
    sq = (x * x).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
    return float(first - 0.5 * np.sqrt(d2).mean())


def crps_gaussian(mu: float | np.ndarray, sigma: float | np.ndarray, y: float | np.ndarray) -> np.ndarray:
    """Closed-form CRPS of a normal distribution (for checking the sample estimators)."""
    from scipy.stats import norm

    z = (np.asarray(y) - mu) / sigma
    return sigma * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))


class _GRU(nn.Module):
    def __init__(self, dim_in: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(dim_in, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, last = self.gru(x)
        return self.out(h), self.out(last[-1])


def metric_device(name: str = "cpu") -> torch.device:
    """``auto`` -> CUDA when present; the metric GRUs give the same protocol on either device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def day_folds(n_days: int, folds: int) -> np.ndarray:
    """Fold of each day: contiguous blocks of days."""
    return np.minimum((np.arange(n_days) * folds) // max(n_days, 1), folds - 1)


def discriminative(real: np.ndarray, fake: np.ndarray, steps: int, seed: int, folds: int = 4,
                   device: str = "cpu") -> float:
    """|accuracy - 0.5| of a GRU telling real days (D1, 24, F) from synthetic days (D2, 24, F), each fold of
    contiguous days tested by a classifier trained on the other folds (see the module docstring)."""
    dev = metric_device(device)
    x = torch.from_numpy(np.concatenate([real, fake]).astype(np.float32)).to(dev)
    y = torch.from_numpy(np.r_[np.ones(len(real)), np.zeros(len(fake))].astype(np.float32)).to(dev)
    fold = np.r_[day_folds(len(real), folds), day_folds(len(fake), folds)]
    correct, tested = 0, 0
    for k in range(folds):
        test = fold == k
        train = np.flatnonzero(~test)
        if not test.any() or len(train) == 0:
            continue
        torch.manual_seed(seed * 1009 + k)
        rng = np.random.default_rng([seed, k])
        model = _GRU(x.shape[2], max(x.shape[2] // 2, 1)).to(dev)
        opt = torch.optim.Adam(model.parameters())
        lossf = nn.BCEWithLogitsLoss()
        for _ in range(steps):
            b = torch.from_numpy(rng.choice(train, min(128, len(train)))).to(dev)
            loss = lossf(model(x[b])[1].squeeze(-1), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            pred = model(x[torch.from_numpy(np.flatnonzero(test)).to(dev)])[1].squeeze(-1) > 0
        correct += int((pred == (y[torch.from_numpy(np.flatnonzero(test)).to(dev)] > 0.5)).sum())
        tested += int(test.sum())
    return abs(correct / max(tested, 1) - 0.5)


def predictive(train_windows: np.ndarray, test_windows: np.ndarray, steps: int, seed: int,
               device: str = "cpu") -> float:
    """Train on ``train_windows``, MAE on ``test_windows``: next value of the last feature from the others."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dim = train_windows.shape[2]
    dev = metric_device(device)
    xt = torch.from_numpy(train_windows.astype(np.float32)).to(dev)
    model = _GRU(dim - 1, max(dim // 2, 1)).to(dev)
    opt = torch.optim.Adam(model.parameters())
    for _ in range(steps):
        b = torch.from_numpy(rng.choice(len(xt), min(128, len(xt)))).to(dev)
        seq = xt[b]
        pred = model(seq[:, :-1, :-1])[0].squeeze(-1)
        loss = (pred - seq[:, 1:, -1]).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        seq = torch.from_numpy(test_windows.astype(np.float32)).to(dev)
        pred = model(seq[:, :-1, :-1])[0].squeeze(-1)
        return float((pred - seq[:, 1:, -1]).abs().mean())


def correlational(real: np.ndarray, fake: np.ndarray) -> float:
    """Sum |C_fake - C_real| over the lower triangle of lag-0 correlations / 10 (rows = time)."""

    def corr(a: np.ndarray) -> np.ndarray:
        return np.nan_to_num(np.corrcoef(a, rowvar=False))

    return float(np.tril(np.abs(corr(fake) - corr(real)), -1).sum() / 10)


def mean_ci(values: list[float]) -> dict[str, float]:
    """Mean and half-width of a 95 % interval (normal approximation; NaN for one value)."""
    v = np.asarray(values, float)
    half = 1.96 * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
    return {"mean": float(v.mean()), "ci95": float(half)}
