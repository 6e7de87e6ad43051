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
