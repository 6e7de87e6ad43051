"""The hour What if and Compare open their maps on."""

from __future__ import annotations

import numpy as np

from explorer.render.scenario import Summary
from explorer.ui.scenario_panel import busiest_hour


def _summary(median: np.ndarray, significant: np.ndarray) -> Summary:
    """P10/P50/P90 of the change: bands that exclude zero exactly where ``significant`` says."""
    lo = np.where(significant, median - 0.5 * np.abs(median), -1.0)
    hi = np.where(significant, median + 0.5 * np.abs(median), 1.0)
    diff = np.stack([np.minimum(lo, hi), median, np.maximum(lo, hi)])
    return Summary(diff, diff, diff, 1.0)


def test_the_map_opens_where_most_sensors_change_and_most_when_as_many_change():
    median = np.array([[30.0, 20, 0], [300, 200, 0], [0, 0, 5], [100, 100, 0]])  # hours x sensors
    sig = median != 0
    # hours 0, 1 and 3 each have two significant sensors: hour 1's changes are the largest (a lead-in at hour 0
    # reaches the same sensors, only less)
    assert busiest_hour(_summary(median, sig)) == 1
    median[2, :2], sig[2, :] = 1.0, True  # three significant sensors at hour 2, however small
    assert busiest_hour(_summary(median, sig)) == 2
    assert busiest_hour(_summary(np.zeros((4, 3)), np.zeros((4, 3), bool))) == 0  # nothing changes: the first hour
