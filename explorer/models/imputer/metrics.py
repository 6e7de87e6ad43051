"""Imputation metrics on the original scale, over hidden values only."""

from __future__ import annotations

import numpy as np


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
