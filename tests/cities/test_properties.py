"""Property-based tests of the loaders: any series file either loads exactly or is refused with CityDataError."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.cities import CityDataError, load_city
from tests.conftest import write_tiny_city

cells = st.one_of(st.floats(allow_nan=True, allow_infinity=False, width=32), st.none(),
                  st.sampled_from(["", "n/a", "12,5", "1e3", " 7 ", "abc", "-0", "∞"]))


def _fresh_city() -> Path:
    return write_tiny_city(Path(tempfile.mkdtemp()) / "tiny")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.lists(cells, min_size=3, max_size=3), min_size=2, max_size=30),
       shuffle=st.booleans(), step_minutes=st.sampled_from([5, 15, 60]), drop=st.sets(st.integers(0, 29)))
def test_any_wide_series_loads_exactly_or_is_refused(values, shuffle, step_minutes, drop):
    folder = _fresh_city()
    try:
        times = pd.date_range("2024-05-01", periods=len(values), freq=f"{step_minutes}min")
        df = pd.DataFrame(values, columns=["a", "b", "c"], dtype=object)
        df.insert(0, "timestamp", times.strftime("%Y-%m-%d %H:%M"))
        df = df.drop(index=[i for i in drop if i < len(df)])
        if shuffle:
            df = df.sample(frac=1.0, random_state=0)
        df.to_csv(folder / "series.csv", index=False)
        try:
            city = load_city(folder)
        except CityDataError as exc:
            assert "How to fix:" in exc.message
            return
        kept = df.set_index(pd.to_datetime(df["timestamp"])).sort_index()
        # accepted: a regular grid from first to last kept time, every kept reading exactly where it was
        assert city.series.index[0] == kept.index[0] and city.series.index[-1] == kept.index[-1]
        assert (np.diff(city.series.index.asi8) > 0).all()
        for col in "abc":
            expected = pd.to_numeric(kept[col], errors="coerce").astype("float32")
            got = city.series[col].reindex(kept.index)
            assert np.array_equal(got.to_numpy(), expected.to_numpy(), equal_nan=True)
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)
