"""A hand-made corpus of broken sensor/series file pairs given to `city add`: every one is refused with a message
naming the user's own file (never the temporary folder), the problem and the fix; nothing is written.
Also: what the import repairs and reports instead of refusing (a long table, daylight-saving hours)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from explorer.cities import CityDataError
from explorer.cities.importer import add_city
from explorer.cli import app
from tests.conftest import tiny_sensors, tiny_series


def _long(df: pd.DataFrame) -> pd.DataFrame:
    out = df.melt(id_vars="timestamp", var_name="station", value_name="count")
    return out.sort_values(["timestamp", "station"]).reset_index(drop=True)


def _user_files(d: Path) -> dict:
    """A valid pair: sensors.geojson (ids a, b, c) + counts.csv (wide, hourly, 72 h)."""
    (d / "sensors.geojson").write_text(json.dumps(tiny_sensors()))
    tiny_series().to_csv(d / "counts.csv", index=False)
    return {"sensors": d / "sensors.geojson", "series": [d / "counts.csv"]}


def _csv(d: Path, df: pd.DataFrame) -> None:
    df.to_csv(d / "counts.csv", index=False)


def _wide_cell(d: Path, value: str, col: str = "b", row: int = 5) -> None:
    df = tiny_series().astype({col: object})
    df.loc[row, col] = value
    _csv(d, df)


# each case: (what the user did wrong, how to break the pair, the file the message must name, words it must hold)
Case = tuple[Callable[[Path], dict | None], str, str]


def inf_in_wide(d):
    _wide_cell(d, "inf")


def minus_inf_in_long(d):
    df = _long(tiny_series()).astype({"count": object})
    df.loc[7, "count"] = "-inf"
    _csv(d, df)
    return {"layout": "long"}


def inf_in_parquet(d):
    df = tiny_series()
    df.loc[3, "a"] = np.inf
    df.to_parquet(d / "counts.parquet", index=False)
    return {"series": [d / "counts.parquet"]}


def negative_count(d):
    _wide_cell(d, "-3")


def negative_speed(d):
    _wide_cell(d, "-1")
    return {"domain": "traffic_speed", "value_name": "Speed", "unit": "mph"}


def long_given_as_wide(d):
    _csv(d, _long(tiny_series()))
    return {"layout": "wide"}


def long_two_value_columns(d):
    df = _long(tiny_series())
    df["count_corrected"] = df["count"] * 1.1
    _csv(d, df)


def long_unknown_id_column(d):
    df = _long(tiny_series())
    df["station"] = df["station"].map({"a": "North gate", "b": "South gate", "c": "Plaza"})
    df["site"] = df["station"] + " (old name)"
    _csv(d, df)


def no_time_column(d):
    df = tiny_series().rename(columns={"timestamp": "row"})
    df["row"] = range(len(df))
    _csv(d, df)


def bad_timestamp(d):
    df = tiny_series()
    df.loc[9, "timestamp"] = "half past ten"
    _csv(d, df)


def duplicate_timestamp(d):
    df = tiny_series()
    df.loc[10, "timestamp"] = df.loc[11, "timestamp"]
    _csv(d, df)


def duplicate_long_reading(d):
    df = _long(tiny_series())
    _csv(d, pd.concat([df, df.iloc[[20]]]))
    return {"layout": "long"}


def off_grid_time(d):
    df = tiny_series()
    df.loc[12, "timestamp"] = "2024-05-01 12:17"
    _csv(d, df)


def series_id_without_sensor(d):
    _csv(d, tiny_series().rename(columns={"c": "z"}))


def sensor_never_reports(d):
    df = tiny_series()
    df["c"] = np.nan
    _csv(d, df)


def text_reading(d):
    _wide_cell(d, "12 people")


def mixed_utc_offsets(d):
    df = tiny_series()
    df["timestamp"] = pd.date_range("2024-05-01", periods=len(df), freq="h").strftime("%Y-%m-%dT%H:%M:%S+02:00")
    df.loc[4, "timestamp"] = "2024-05-01T04:00:00"
    _csv(d, df)


def one_timestamp(d):
    _csv(d, tiny_series().iloc[:1])


def empty_series_file(d):
    (d / "counts.csv").write_text("")


def series_as_excel(d):
    (d / "counts.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    return {"series": [d / "counts.xlsx"]}


def missing_series_file(d):
    return {"series": [d / "nothere.csv"]}


def broken_sensor_geojson(d):
    (d / "sensors.geojson").write_text('{"type": "FeatureCollection", "features": [')


def sensors_in_metres(d):
    fc = tiny_sensors()
    for f in fc["features"]:
        x, y = f["geometry"]["coordinates"]
        f["geometry"]["coordinates"] = [x * 100_000, y * 100_000]
    (d / "sensors.geojson").write_text(json.dumps(fc))


def sensors_as_lines(d):
    fc = tiny_sensors()
    fc["features"][0]["geometry"] = {"type": "LineString", "coordinates": [[2.3, 48.8], [2.4, 48.9]]}
    (d / "sensors.geojson").write_text(json.dumps(fc))


def sensor_id_twice(d):
    fc = tiny_sensors()
    fc["features"][2]["properties"]["sensor_id"] = "a"
    (d / "sensors.geojson").write_text(json.dumps(fc))


def wrong_sensor_id_column(_d):
    return {"sensor_id_column": "station_code"}


def bad_holidays_file(d):
    (d / "feiertage.csv").write_text("date,name\n24.12.2024,Heiligabend\n")
    return {"holidays_file": d / "feiertage.csv"}


def bad_presets_file(d):
    (d / "tour.json").write_text(json.dumps([{"title": "x", "scenario": {"day": {"day_of_week": 9}}}]))
    return {"presets": d / "tour.json"}


CASES: list[tuple[Callable, str, list[str]]] = [
    (inf_in_wide, "counts.csv", ["'inf' is not a finite number", "empty"]),
    (minus_inf_in_long, "counts.csv", ["'-inf' is not a finite number"]),
    (inf_in_parquet, "counts.parquet", ["not a finite number"]),
    (negative_count, "counts.csv", ["negative reading", "-3", "cannot be negative"]),
    (negative_speed, "counts.csv", ["negative reading", "traffic speed cannot be negative"]),
    (long_given_as_wide, "counts.csv", ["looks like a long table",
                                        "--layout long --series-id-column station --value-column count"]),
    (long_two_value_columns, "counts.csv", ["long table", "count, count_corrected"]),
    (long_unknown_id_column, "counts.csv", ["which column names the sensor", "--series-id-column"]),
    (no_time_column, "counts.csv", ["no column holds timestamps", "--time-column"]),
    (bad_timestamp, "counts.csv", ["'half past ten' could not be parsed", "ISO 8601"]),
    (duplicate_timestamp, "counts.csv", ["appears more than once", "one row per timestamp"]),
    (duplicate_long_reading, "counts.csv", ["has two readings", "one reading per sensor and time"]),
    (off_grid_time, "counts.csv", ["off the regular", "resample"]),
    (series_id_without_sensor, "sensors.geojson", ["have no sensor", "'z'"]),
    (sensor_never_reports, "counts.csv", ["sensor 'c' has no readings at all"]),
    (text_reading, "counts.csv", ["'12 people' is not a number"]),
    (mixed_utc_offsets, "counts.csv", ["has no UTC offset while others do"]),
    (one_timestamp, "counts.csv", ["fewer than two timestamps"]),
    (empty_series_file, "counts.csv", ["the file is empty"]),
    (series_as_excel, "counts.xlsx", ["not a supported series format", ".csv"]),
    (missing_series_file, "nothere.csv", ["does not exist"]),
    (broken_sensor_geojson, "sensors.geojson", ["could not be read"]),
    (sensors_in_metres, "sensors.geojson", ["outside the globe", "CRS"]),
    (sensors_as_lines, "sensors.geojson", ["LineString", "Point"]),
    (sensor_id_twice, "sensors.geojson", ["appears more than once"]),
    (wrong_sensor_id_column, "sensors.geojson", ["'station_code' is missing", "sensor_id"]),
    (bad_holidays_file, "feiertage.csv", ["'24.12.2024' is not a date", "YYYY-MM-DD"]),
    (bad_presets_file, "tour.json", ["day_of_week", "correct that field"]),
]


def _add(cities: Path, **kw):
    args = dict(slug="new-town", name="New Town", timezone="Europe/Paris", sensor_id_column="sensor_id",
                value_name="Pedestrians", unit="people/hour", domain="pedestrian_count", cities_dir=cities)
    return add_city(**(args | kw))


@pytest.mark.parametrize(("breaker", "culprit", "words"), CASES, ids=[c[0].__name__ for c in CASES])
def test_bad_pair_is_refused(tmp_path, breaker, culprit, words):
    user = tmp_path / "my files"
    user.mkdir()
    kw = _user_files(user)
    kw |= breaker(user) or {}
    cities = tmp_path / "cities"
    with pytest.raises(CityDataError) as err:
        _add(cities, **kw)
    msg = err.value.message
    assert str(user / culprit) in msg, msg  # the user's own file, as given
    assert ".tmp" not in msg and "new-town" not in msg, msg  # never the temporary folder
    assert "How to fix:" in msg, msg
    for w in words:
        assert w in msg, (w, msg)
    assert not cities.exists() or list(cities.iterdir()) == []  # nothing written, no temporary folder left


def test_corpus_is_big_enough():
    assert len(CASES) >= 20


def test_cli_refusal_names_the_file_and_writes_nothing(tmp_path, monkeypatch):
    user = tmp_path / "my files"
    user.mkdir()
    _user_files(user)
    inf_in_wide(user)
    monkeypatch.setenv("EXPLORER_CITIES_DIR", str(tmp_path / "cities"))
    from explorer.settings import get_settings

    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(app, ["city", "add", "--slug", "x", "--name", "X", "--timezone", "Europe/Paris",
                                       "--sensors", str(user / "sensors.geojson"), "--series", str(user / "counts.csv"),
                                       "--value-name", "P", "--unit", "p/h", "--domain", "pedestrian_count"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 1
    assert f"error: {user / 'counts.csv'}:" in out.output and "How to fix" in out.output
    assert "Traceback" not in out.output
    assert not (tmp_path / "cities").exists() or list((tmp_path / "cities").iterdir()) == []


def test_settings_errors_say_which_setting(tmp_path):
    kw = _user_files(tmp_path)
    with pytest.raises(CityDataError, match="invalid city settings: slug"):
        _add(tmp_path / "c", slug="../up", **kw)
    with pytest.raises(CityDataError, match="invalid city settings: time zone"):
        _add(tmp_path / "c", timezone="Mars/Olympus", **kw)
    with pytest.raises(CityDataError, match="country 'ZZ' is not known"):
        _add(tmp_path / "c", holidays_country="ZZ", **kw)


# ---------------------------------------------------------------- repaired and reported, not refused


def test_long_table_is_detected_with_string_ids(tmp_path):
    df = _long(tiny_series())
    df["station"] = df["station"].map({"a": "Market St", "b": "Station", "c": "Park"})
    df = df.rename(columns={"timestamp": "Date_Time"}).assign(Year=2024)
    _csv(tmp_path, df)
    (tmp_path / "sensors.geojson").write_text(json.dumps(tiny_sensors()))
    res = _add(tmp_path / "c", sensors=tmp_path / "sensors.geojson", series=[tmp_path / "counts.csv"],
               sensor_id_column="name")
    assert res.city.series.shape == (72, 3)
    assert res.city.manifest.series.layout == "long" and res.city.manifest.series.value_column == "count"
    assert any("long table" in n for n in res.notes) and any("'Date_Time'" in n for n in res.notes)
    assert res.city.holidays.country == "FR"  # from the time zone


def _dst_series(offsets: bool) -> pd.DataFrame:
    """Hourly readings over Paris' autumn change (27 Oct 2024, 03:00 -> 02:00) and spring change (31 Mar 2024)."""
    utc = pd.date_range("2024-10-26 20:00", "2024-10-27 06:00", freq="h", tz="UTC")
    local = utc.tz_convert("Europe/Paris")
    text = local.strftime("%Y-%m-%dT%H:%M:%S%z") if offsets else local.strftime("%Y-%m-%d %H:%M")
    df = pd.DataFrame({"timestamp": text})
    for k, s in enumerate("abc"):
        df[s] = 100.0 + 10 * k + np.arange(len(df))
    return df


@pytest.mark.parametrize("offsets", [False, True])
def test_repeated_autumn_hour_is_merged_and_reported(tmp_path, offsets):
    kw = _user_files(tmp_path)
    _csv(tmp_path, _dst_series(offsets))
    res = _add(tmp_path / "c", **kw)
    s = res.city.series
    assert s.index.is_unique and len(s) == 10  # 11 readings, the repeated 02:00 merged into one step
    two = s.loc[pd.Timestamp("2024-10-27 02:00"), "a"]
    assert two == pytest.approx((104 + 105) / 2)  # readings 4 and 5 (02:00 summer time, 02:00 winter time)
    assert any("occur twice because clocks went back" in n for n in res.notes)


def test_skipped_spring_hour_is_reported(tmp_path):
    kw = _user_files(tmp_path)
    t = pd.date_range("2024-03-30 22:00", "2024-03-31 06:00", freq="h")
    t = t[t != pd.Timestamp("2024-03-31 02:00")]  # that hour does not exist in Paris
    df = pd.DataFrame({"timestamp": t.strftime("%Y-%m-%d %H:%M"), "a": 1.0, "b": 2.0, "c": 3.0})
    _csv(tmp_path, df)
    res = _add(tmp_path / "c", **kw)
    assert np.isnan(res.city.series.loc[pd.Timestamp("2024-03-31 02:00"), "a"])
    assert any("clocks went forward" in n and "2024-03-31 02:00" in n for n in res.notes)
