"""Presets: the city's presets.json, else derived from its history (a typical weekday, its largest surges, a
holiday); no city's presets live in code."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from explorer.cities import CityDataError, load_city
from explorer.presets import derive_presets, presets_for, read_presets_file


def test_bundled_cities_read_their_presets_files(la, melbourne):
    for city in (la, melbourne):
        presets = presets_for(city)
        assert presets == presets_for(city.slug)  # a slug works too (loaded once)
        raw = json.loads((city.folder / "presets.json").read_text())
        assert [p.title for p in presets] == [r["title"] for r in raw]
        assert all(p.scenario.city == city.slug for p in presets)
        assert any(p.scenario.events for p in presets)
    assert presets_for(melbourne)[2].scenario.day.date.isoformat() == "2014-12-31"


def _city_with_surge(folder, day="2024-05-08", sensor="b", factor=6.0):
    """The tiny city, 5 weeks long, with a known 3-hour surge."""
    from tests.conftest import TINY_MANIFEST, tiny_sensors

    folder.mkdir()
    (folder / "city.toml").write_text(TINY_MANIFEST + '\n[calendar]\ncountry = "FR"\n')
    (folder / "sensors.geojson").write_text(json.dumps(tiny_sensors()))
    t = pd.date_range("2024-04-15", periods=35 * 24, freq="h")
    rng = np.random.default_rng(1)
    hour = t.hour.to_numpy()[:, None]
    base = 50 + 200 * np.exp(-((hour - 8) ** 2) / 4) + 150 * np.exp(-((hour - 17) ** 2) / 6)
    x = base * rng.uniform(0.9, 1.1, (len(t), 3))
    df = pd.DataFrame(x.round(1), columns=list("abc"), index=t)
    surge = (df.index >= pd.Timestamp(f"{day} 19:00")) & (df.index < pd.Timestamp(f"{day} 22:00"))
    df.loc[surge, sensor] *= factor
    df.rename_axis("timestamp").reset_index().assign(timestamp=lambda d: d.timestamp.dt.strftime("%Y-%m-%d %H:%M")
                                                     ).to_csv(folder / "series.csv", index=False)
    return load_city(folder)


def test_derived_presets_find_the_known_surge(tmp_path):
    city = _city_with_surge(tmp_path / "tiny")
    presets = derive_presets(city)
    assert presets_for(city) == presets
    typical, surge = presets[0], presets[1]
    assert not typical.scenario.events and typical.scenario.day.day_of_week in range(5)
    assert typical.scenario.start_hour == 6  # two hours before the 8 am peak
    ev = surge.scenario.events[0]
    assert surge.scenario.day.date.isoformat() == "2024-05-08"
    assert ev.place.sensor_id == "b" and ev.duration_hours == 3 and ev.unit == "percent"
    assert 400 <= ev.magnitude <= 600  # six times the usual: +500 %
    assert surge.scenario.start_hour + ev.start_offset_hours == 19
    holiday = presets[-1]  # the latest holiday in the history: Ascension Day, Thursday 9 May 2024
    assert holiday.scenario.day.holiday and holiday.title == "Ascension Day 2024"
    assert surge.scenario.day.holiday  # 8 May 2024 was Victory Day, a French public holiday


def test_presets_file_is_validated(tmp_path):
    city = _city_with_surge(tmp_path / "tiny")
    path = city.folder / "presets.json"
    good = [{"title": "Fair", "story": "s", "scenario": {"day": {"day_of_week": 5}, "start_hour": 9,
                                                         "horizon_hours": 8}}]
    path.write_text(json.dumps(good))
    assert [p.title for p in presets_for(city)] == ["Fair"]
    for bad, words in [
        ("{", "not valid JSON"),
        ("[]", "non-empty list"),
        (json.dumps([{"title": "x"}]), "needs 'title', 'scenario'"),
        (json.dumps([{"title": "x", "scenario": {"city": "elsewhere", "day": {"day_of_week": 1}}}]), "for city"),
        (json.dumps([{"title": "x", "scenario": {"day": {"day_of_week": 1}, "events": [
            {"place": {"sensor_id": "nope"}, "magnitude": 10, "unit": "percent"}]}}]), "does not fit the city"),
    ]:
        path.write_text(bad)
        with pytest.raises(CityDataError, match=words) as err:
            read_presets_file(path, city)
        assert str(path) in err.value.message and "How to fix" in err.value.message
