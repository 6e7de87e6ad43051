"""A corpus of broken city folders and manifests: each is refused with one error naming the file, the problem and
the fix."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from explorer.cities import CityDataError, load_city
from tests.conftest import tiny_sensors, tiny_series


def _manifest(d: Path, old: str, new: str) -> None:
    p = d / "city.toml"
    text = p.read_text()
    assert old in text, f"the damage must apply: {old!r} is not in city.toml"
    p.write_text(text.replace(old, new))


def _series(d: Path, df: pd.DataFrame) -> None:
    df.to_csv(d / "series.csv", index=False)


def _sensors(d: Path, fc: dict) -> None:
    (d / "sensors.geojson").write_text(json.dumps(fc))


def broken_geojson(d):
    (d / "sensors.geojson").write_text('{"type": "FeatureCollection", "features": [')


def empty_layer_file(d):
    (d / "sensors.geojson").write_text("")


def no_features(d):
    _sensors(d, {"type": "FeatureCollection", "features": []})


def mixed_geometry(d):
    fc = tiny_sensors()
    fc["features"][1]["geometry"] = {"type": "LineString", "coordinates": [[2.3, 48.8], [2.4, 48.9]]}
    _sensors(d, fc)


def duplicate_ids(d):
    fc = tiny_sensors()
    fc["features"][1]["properties"]["sensor_id"] = "a"
    _sensors(d, fc)


def missing_id_column(d):
    _manifest(d, 'id_column = "sensor_id"', 'id_column = "station"')


def metres_as_degrees(d):
    gdf = gpd.GeoDataFrame({"sensor_id": ["a", "b", "c"], "name": ["x", "y", "z"]},
                           geometry=[Point(652000, 6862000), Point(653000, 6863000), Point(651000, 6861000)],
                           crs=4326)
    gdf.to_file(d / "sensors.gpkg", driver="GPKG")
    _manifest(d, "sensors.geojson", "sensors.gpkg")


def no_crs(d):
    gdf = gpd.GeoDataFrame({"sensor_id": ["a", "b", "c"], "name": ["x", "y", "z"]},
                           geometry=[Point(2.35, 48.85), Point(2.36, 48.86), Point(2.34, 48.87)])
    gdf.to_parquet(d / "sensors.parquet")
    _manifest(d, "sensors.geojson", "sensors.parquet")


def shapefile_without_prj(d):
    gdf = gpd.GeoDataFrame({"sensor_id": ["a", "b", "c"], "name": ["x", "y", "z"]},
                           geometry=[Point(2.35, 48.85), Point(2.36, 48.86), Point(2.34, 48.87)], crs=4326)
    shp = d / "shp"
    shp.mkdir()
    gdf.to_file(shp / "sensors.shp")
    with zipfile.ZipFile(d / "sensors.zip", "w") as z:
        for f in shp.iterdir():
            if f.suffix != ".prj":
                z.write(f, f.name)
    _manifest(d, "sensors.geojson", "sensors.zip")


def unsupported_format(d):
    (d / "sensors.kml").write_text("<kml/>")
    _manifest(d, "sensors.geojson", "sensors.kml")


def text_in_numbers(d):
    df = tiny_series()
    df["b"] = df["b"].astype(object)
    df.loc[5, "b"] = "n/a?"
    _series(d, df)


def bad_timestamp(d):
    df = tiny_series()
    df.loc[3, "timestamp"] = "yesterday-ish"
    _series(d, df)


def duplicate_timestamp(d):
    df = tiny_series()
    df.loc[4, "timestamp"] = df.loc[3, "timestamp"]
    _series(d, df)


def irregular_frequency(d):
    df = tiny_series()
    df.loc[10, "timestamp"] = "2024-05-01 10:17"
    _series(d, df)


def orphan_series_id(d):
    df = tiny_series().rename(columns={"c": "zz"})
    _series(d, df)


def all_missing_sensor(d):
    df = tiny_series()
    df["c"] = None
    _series(d, df)


def missing_time_column(d):
    _series(d, tiny_series().rename(columns={"timestamp": "when"}))


def bad_timezone(d):
    _manifest(d, 'timezone = "Europe/Paris"', 'timezone = "Mars/Olympus"')


def manifest_not_toml(d):
    (d / "city.toml").write_text("slug = tiny\n[[[")


def manifest_path_escape(d):
    _manifest(d, 'paths = ["series.csv"]', 'paths = ["../../etc/passwd"]')


def no_manifest(d):
    (d / "city.toml").unlink()


def wrong_role_geometry(d):
    gdf = gpd.GeoDataFrame({"name": ["r"]}, geometry=[Point(2.35, 48.85)], crs=4326)
    gdf.to_file(d / "roads.geojson", driver="GeoJSON")
    (d / "city.toml").write_text((d / "city.toml").read_text() + '\n[layers.roads]\npath = "roads.geojson"\n')


def corrupted_parquet(d):
    (d / "series.parquet").write_bytes(b"PAR1" + b"\x00garbage" * 10)
    _manifest(d, 'paths = ["series.csv"]', 'paths = ["series.parquet"]')


def long_duplicates(d):
    long = pd.DataFrame({"timestamp": ["2024-05-01 00:00"] * 2 + ["2024-05-01 01:00"],
                         "sensor_id": ["a", "a", "b"], "value": [1, 2, 3]})
    long.to_csv(d / "series.csv", index=False)
    _manifest(d, 'layout = "wide"', 'layout = "long"')


# (case, words the message must contain: the problem and where; every message also carries a fix)
CASES: list[tuple[Callable[[Path], None], list[str]]] = [
    (broken_geojson, ["sensors.geojson", "could not be read"]),
    (empty_layer_file, ["sensors.geojson", "empty"]),
    (no_features, ["no features"]),
    (mixed_geometry, ["LineString", "sensors must be Point"]),
    (duplicate_ids, ["'a'", "more than once"]),
    (missing_id_column, ["station", "missing"]),
    (metres_as_degrees, ["outside the globe", "metres"]),
    (no_crs, ["no coordinate reference system"]),
    (shapefile_without_prj, ["sensors.zip"]),
    (unsupported_format, [".kml", "not a supported"]),
    (text_in_numbers, ["sensor 'b'", "row 6", "not a number"]),
    (bad_timestamp, ["row 4", "yesterday-ish"]),
    (duplicate_timestamp, ["appears more than once"]),
    (irregular_frequency, ["10:17", "irregular"]),
    (orphan_series_id, ["'zz'", "no sensor"]),
    (all_missing_sensor, ["sensor 'c'", "no readings"]),
    (missing_time_column, ["time column 'timestamp'", "missing"]),
    (bad_timezone, ["Mars/Olympus", "time zone"]),
    (manifest_not_toml, ["city.toml", "not valid TOML"]),
    (manifest_path_escape, ["inside the city folder"]),
    (no_manifest, ["no city.toml"]),
    (wrong_role_geometry, ["roads", "Point"]),
    (corrupted_parquet, ["series.parquet", "could not be read"]),
    (long_duplicates, ["sensor 'a'", "two readings"]),
]


def test_corpus_is_large_enough():
    assert len(CASES) >= 15


@pytest.mark.parametrize(("breaker", "words"), CASES, ids=[c[0].__name__ for c in CASES])
def test_bad_city_is_refused_clearly(tiny_city_dir, breaker, words):
    load_city(tiny_city_dir)  # valid before the damage
    breaker(tiny_city_dir)
    with pytest.raises(CityDataError) as info:
        load_city(tiny_city_dir)
    msg = info.value.message
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    assert "How to fix:" in msg
    assert "Traceback" not in msg


def test_long_layout_and_gaps_are_kept(tiny_city_dir):
    wide = tiny_series().drop(index=[10, 11, 12])  # a three-hour outage of every sensor
    long = wide.melt(id_vars="timestamp", var_name="sensor_id", value_name="value")
    long.to_csv(tiny_city_dir / "series.csv", index=False)
    _manifest(tiny_city_dir, 'layout = "wide"', 'layout = "long"')
    city = load_city(tiny_city_dir)
    assert city.series.shape == (72, 3)  # the gap stays, as missing rows
    assert city.series.iloc[10:13].isna().all().all()
    assert city.freq == pd.Timedelta("1h")


def test_layers_are_reprojected(tiny_city_dir):
    gdf = gpd.read_file(tiny_city_dir / "sensors.geojson").to_crs(2154)  # Lambert-93 metres
    gdf.to_file(tiny_city_dir / "sensors.gpkg", driver="GPKG")
    _manifest(tiny_city_dir, "sensors.geojson", "sensors.gpkg")
    city = load_city(tiny_city_dir)
    assert city.sensors.crs.to_epsg() == 4326
    assert abs(city.sensors.geometry.x.iloc[0] - 2.35) < 1e-6


def test_zipped_shapefile_roads(tiny_city_dir):
    roads = gpd.GeoDataFrame({"name": ["Rue A"]}, geometry=[LineString([(2.34, 48.85), (2.36, 48.87)])], crs=4326)
    shp = tiny_city_dir / "shp"
    shp.mkdir()
    roads.to_file(shp / "roads.shp")
    with zipfile.ZipFile(tiny_city_dir / "roads.zip", "w") as z:
        for f in shp.iterdir():
            z.write(f, f.name)
    (tiny_city_dir / "city.toml").write_text((tiny_city_dir / "city.toml").read_text()
                                             + '\n[layers.roads]\npath = "roads.zip"\nlabel_column = "name"\n')
    city = load_city(tiny_city_dir)
    assert city.roads is not None and list(city.roads["name"]) == ["Rue A"]


# ---------------------------------------------------------------- manifests: unsafe or wrong settings
MANIFEST_CASES = [
    ("absolute_layer_path", lambda d: _manifest(d, 'path = "sensors.geojson"', 'path = "/etc/passwd"'),
     ["/etc/passwd", "inside the city folder"]),
    ("series_path_escape", lambda d: _manifest(d, 'paths = ["series.csv"]', 'paths = ["../../series.csv"]'),
     ["inside the city folder"]),
    ("unknown_key", lambda d: _manifest(d, 'timezone = "Europe/Paris"', 'timezone = "Europe/Paris"\nowner = "x"'),
     ["owner"]),
    ("slug_with_script", lambda d: _manifest(d, 'slug = "tiny"', 'slug = "<script>x</script>"'), ["slug"]),
    ("slug_with_traversal", lambda d: _manifest(d, 'slug = "tiny"', 'slug = "../../etc"'), ["slug"]),
    ("name_too_long", lambda d: _manifest(d, 'name = "Tiny Town"', f'name = "{"T" * 500}"'), ["name"]),
    ("timezone_wrong_type", lambda d: _manifest(d, 'timezone = "Europe/Paris"', "timezone = 5"), ["timezone"]),
    ("no_sensor_layer", lambda d: _manifest(d, "[layers.sensors]", "[layers.roads]"), ["sensors"]),
    ("unit_oversized", lambda d: _manifest(d, 'unit = "people/hour"', f'unit = "{"u" * 400}"'), ["unit"]),
]


@pytest.mark.parametrize(("breaker", "words"), [c[1:] for c in MANIFEST_CASES], ids=[c[0] for c in MANIFEST_CASES])
def test_bad_manifest_is_refused(tiny_city_dir: Path, breaker, words: list[str]) -> None:
    load_city(tiny_city_dir)
    breaker(tiny_city_dir)
    with pytest.raises(CityDataError) as info:
        load_city(tiny_city_dir)
    msg = info.value.message
    assert "city.toml" in msg, "the message names the file"
    for w in words:
        assert w in msg, msg
    assert "How to fix:" in msg and len(msg.split("How to fix:", 1)[1].strip()) > 5, msg
    assert "Traceback" not in msg
