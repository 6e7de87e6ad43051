"""Data health's figures from a hand-made history with known gaps: the share missing while installed, the sensor
with most gaps, and the day of its middle gap."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from explorer.stats import Gaps


def _history() -> tuple[pd.DataFrame, pd.DataFrame]:
    t = pd.date_range("2024-05-01", periods=10, freq="D")
    x = pd.DataFrame(1.0, index=t, columns=["a", "b", "c"])
    x.loc[t[[2, 7]], "a"] = np.nan  # 2 gaps while installed
    x.loc[t[:4], "b"] = np.nan  # not installed yet: not a gap
    x.loc[t[[5, 6, 8]], "b"] = np.nan  # 3 gaps while installed
    active = pd.DataFrame(True, index=t, columns=x.columns)
    active.loc[t[:4], "b"] = False
    return x, active


def test_share_worst_sensor_and_middle_gap_day() -> None:
    gaps = Gaps.of(*_history())
    assert gaps.share == 5 / 26  # 2 + 3 missing of 10 + 6 + 10 installed days
    assert gaps.worst_sensor() == "b"  # 3 gaps, not 7: before installation does not count
    assert gaps.middle_gap_day("b") == dt.date(2024, 5, 7)  # gaps on the 6th, 7th and 9th
    assert gaps.middle_gap_day("a") == dt.date(2024, 5, 8)  # of two, the later (index 1)
    assert gaps.middle_gap_day("c") == dt.date(2024, 5, 10)  # no gap: the last day
