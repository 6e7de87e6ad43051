"""Surge labelling on small synthetic series with known events."""

from __future__ import annotations

import numpy as np
import pandas as pd

from explorer.models.generator.events import detect_surges, intensity_field, label_runs


def _counts(days: int = 28, n: int = 3, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2014-03-03", periods=days * 24, freq="1h")  # a Monday
    shape = 200 + 800 * np.exp(-0.5 * ((idx.hour.to_numpy() - 13) / 4) ** 2)  # daytime bump
    vals = shape[:, None] * rng.lognormal(0, 0.05, (len(idx), n))
    return pd.DataFrame(vals.astype(np.float32), index=idx, columns=[f"s{i}" for i in range(n)])


def test_known_count_surges_are_found_with_place_start_duration_and_size():
    df = _counts()
    df.loc["2014-03-14 18:00":"2014-03-14 20:00", "s1"] += 3000  # Friday evening, 3 hours
    df.loc["2014-03-20 08:00", "s2"] *= 3  # one hour, three times the usual
    df.iloc[5 * 24 + 3, 0] = np.nan  # a missing reading is not an event
    table, field = detect_surges(df, "counts")
    assert len(table) == 2
    a = table[table.sensor_id == "s1"].iloc[0]
    assert a.start == pd.Timestamp("2014-03-14 18:00")
    assert a.duration_hours == 3
    assert abs(a.size_native - 3000) < 150  # extra people per hour
    b = table[table.sensor_id == "s2"].iloc[0]
    assert (b.start, b.duration_hours) == (pd.Timestamp("2014-03-20 08:00"), 1)
    assert abs(b["size"] - np.log(3)) < 0.15  # log ratio to the profile
    # the field holds each surge's size over its hours, and nothing elsewhere
    assert (field["s1"].loc["2014-03-14 18:00":"2014-03-14 20:00"] == a["size"]).all()
    assert (field.to_numpy() != 0).sum() == 4


def test_speed_drops_are_surges_in_percent_slower():
    df = _counts().clip(upper=None) * 0 + 60.0
    rng = np.random.default_rng(1)
    df += rng.normal(0, 1.0, df.shape).astype(np.float32)
    df.loc["2014-03-11 17:00":"2014-03-11 18:00", "s0"] = 30.0  # 50 % slower for 2 hours
    table, _ = detect_surges(df, "speed")
    assert len(table) == 1
    row = table.iloc[0]
    assert (row.sensor_id, row.duration_hours) == ("s0", 2)
    assert abs(row.size_native - 50) < 5
    assert abs(row["size"] - 0.5) < 0.05


def test_runs_longer_than_a_day_are_level_shifts_not_events():
    dev = np.zeros((60, 1), np.float32)
    dev[5:40] = 1.0  # 35 hours
    dev[50:52] = 1.0
    runs = label_runs(dev, 10 * dev, np.ones_like(dev, bool), "counts")
    assert runs == [(0, 50, 2, 1.0)]
    assert intensity_field(runs, (60, 1))[50:52, 0].tolist() == [1.0, 1.0]
