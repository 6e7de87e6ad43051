"""A prepared city (the app's start-up copy of a loaded city) equals a fresh load, and is never used stale."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.cities import load_city
from explorer.cities.city import resolve_city_folder
from explorer.cities.prepared import cache_key, load_city_prepared


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A copy of Los Angeles (its models left out), so its files can be changed."""
    src = resolve_city_folder("los-angeles")
    dst = tmp_path_factory.mktemp("cities") / "los-angeles"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("models"))
    return dst


def _same(a, b) -> None:
    for name in ("series", "sensors", "zones", "roads"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert np.array_equal(a.adjacency, b.adjacency)
    assert (a.manifest, a.freq, a.data_hash, a.warnings, a.folder) == (b.manifest, b.freq, b.data_hash, b.warnings,
                                                                        b.folder)
    assert (a.holidays.source, a.holidays.exclude) == (b.holidays.source, b.holidays.exclude)
    assert a.holidays.holidays_between(a.series.index[0], a.series.index[-1]) == \
        b.holidays.holidays_between(b.series.index[0], b.series.index[-1])


def test_second_load_reads_the_prepared_copy_and_equals_a_fresh_load(folder, tmp_path):
    calls = []

    def counted(city):
        calls.append(city)
        return load_city(city)

    first = load_city_prepared(folder, tmp_path, load=counted)
    files = list(tmp_path.glob("*.pkl"))
    assert len(files) == 1 and len(calls) == 1
    second = load_city_prepared(folder, tmp_path, load=counted)
    assert len(calls) == 1, "the prepared copy should have been read"
    _same(second, first)
    _same(second, load_city(folder))


def test_a_changed_file_is_loaded_again_and_replaces_the_old_copy(folder, tmp_path):
    load_city_prepared(folder, tmp_path)
    before = cache_key(folder)
    manifest = folder / "city.toml"
    st = manifest.stat()
    os.utime(manifest, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert cache_key(folder) != before
    calls = []
    load_city_prepared(folder, tmp_path, load=lambda c: calls.append(c) or load_city(c))
    assert len(calls) == 1
    assert [p.name.rsplit("-", 1)[1] for p in tmp_path.glob("*.pkl")] == [f"{cache_key(folder)}.pkl"]


def test_a_damaged_copy_is_not_used(folder, tmp_path, caplog):
    load_city_prepared(folder, tmp_path)
    (path,) = tmp_path.glob("*.pkl")
    path.write_bytes(b"not a pickle")
    with caplog.at_level(logging.WARNING, logger="explorer.cities.prepared"):
        city = load_city_prepared(folder, tmp_path)
    assert "not used" in caplog.text
    _same(city, load_city(folder))
    assert path.read_bytes()[:1] == b"\x80"  # rewritten


def test_an_unwritable_folder_still_gives_the_city(folder, tmp_path, caplog):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING, logger="explorer.cities.prepared"):
        city = load_city_prepared(folder, blocked / "cities")
    assert "not written" in caplog.text
    assert len(city.sensors) == 207


def test_an_unknown_city_raises_as_load_city_does(tmp_path):
    from explorer.errors import CityDataError

    with pytest.raises(CityDataError, match="there is no city"):
        load_city_prepared("no-such-city", tmp_path)
