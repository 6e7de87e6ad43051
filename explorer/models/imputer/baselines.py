"""Reference imputers: per-sensor mean, linear interpolation in time, KNN over nearby sensors.

Each takes the model input (time, sensors) with NaN where a value is missing or hidden, fits only on the
training part, and returns a full array.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def mean_impute(x: np.ndarray, train_stop: int) -> np.ndarray:
    """Per-sensor mean of the visible training values."""
    mu = np.nanmean(x[:train_stop], axis=0)
    mu = np.where(np.isnan(mu), np.nanmean(mu), mu)
    return np.where(np.isnan(x), mu[None, :], x)


def interpolate_impute(x: np.ndarray, train_stop: int) -> np.ndarray:
    """Linear interpolation in time per sensor; edges take the nearest value, empty sensors their mean."""
    filled = pd.DataFrame(x).interpolate(method="linear", limit_direction="both", axis=0).to_numpy()
    return np.where(np.isnan(filled), mean_impute(x, train_stop), filled)


def knn_impute(x: np.ndarray, train_stop: int, adjacency: np.ndarray, k: int = 10) -> np.ndarray:
    """Weighted mean of the ``k`` most strongly connected sensors that are visible at the same step.

    Weights are the symmetrised graph weights; where no neighbour is visible the sensor's mean is used.
    """
    n = x.shape[1]
    w = np.maximum(adjacency, adjacency.T).astype(np.float64)
    np.fill_diagonal(w, 0.0)
    keep = np.zeros_like(w, dtype=bool)
    order = np.argsort(-w, axis=1)[:, :k]
    keep[np.arange(n)[:, None], order] = True
    w = np.where(keep & (w > 0), w, 0.0)  # (n, n): row i weighs neighbours of sensor i
    visible = ~np.isnan(x)
    num = np.nan_to_num(x).astype(np.float64) @ w.T
    den = visible.astype(np.float64) @ w.T
    est = np.where(den > 0, num / np.maximum(den, 1e-12), np.nan)
    est = np.where(np.isnan(est), mean_impute(x, train_stop), est)
    return np.where(visible, x, est)
