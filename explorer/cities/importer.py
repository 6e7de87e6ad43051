"""Import a user's own files into a new city folder, atomically: a failed import leaves nothing behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import tomli_w

from explorer.cities.city import City, load_city
from explorer.cities.layers import LAYER_SUFFIXES
from explorer.cities.manifest import MANIFEST_NAME, CityManifest
from explorer.cities.series import SERIES_SUFFIXES
from explorer.errors import CityDataError
from explorer.io import atomic_dir
from explorer.settings import get_settings


def _copy_in(src: Path, dest_dir: Path, allowed: tuple[str, ...], role: str) -> str:
    if not src.is_file():
        raise CityDataError(f"the {role} file does not exist", where=str(src), fix="check the path")
    if src.suffix.lower() not in allowed:
        raise CityDataError(f"'{src.suffix}' is not a supported {role} format", where=str(src),
                            fix=f"use one of {', '.join(allowed)}")
    name = f"{role}{src.suffix.lower()}"
    k = 1
    while (dest_dir / name).exists():
        k += 1
        name = f"{role}_{k}{src.suffix.lower()}"
    shutil.copyfile(src, dest_dir / name)
    return name


def add_city(
    *,
    slug: str,
    name: str,
    timezone: str,
    sensors: Path,
    sensor_id_column: str,
    series: list[Path],
    value_name: str,
    unit: str,
    domain: str = "other",
    layout: str = "wide",
    time_column: str = "timestamp",
    series_id_column: str = "sensor_id",
    value_column: str = "value",
    sensor_label_column: str | None = None,
    roads: Path | None = None,
    zones: Path | None = None,
    zone_name_column: str | None = None,
    buildings: Path | None = None,
    cities_dir: Path | None = None,
) -> City:
    """Validate the files, then create ``cities_dir/slug`` in one atomic rename. Returns the loaded city."""
    cities_dir = cities_dir or get_settings().cities_dir
    layers: dict[str, dict] = {}
    raw = {"slug": slug, "name": name, "timezone": timezone}
    # Validate the scalar fields before touching the disk.
    probe = {**raw, "series": {"paths": ["x.csv"], "value_name": value_name, "unit": unit, "domain": domain,
                               "layout": layout},
             "layers": {"sensors": {"path": "x.geojson", "id_column": sensor_id_column}}}
    try:
        CityManifest.model_validate(probe)
    except Exception as exc:  # noqa: BLE001
        raise CityDataError(f"invalid city settings ({exc.errors()[0]['msg'] if hasattr(exc, 'errors') else exc})",
                            fix="check slug (lower-case letters, digits, '-'), time zone, domain") from None
    target = cities_dir / slug
    if target.exists():
        raise CityDataError(f"a city '{slug}' already exists", where=str(target), fix="choose another --slug")
    with atomic_dir(target) as tmp:
        layers["sensors"] = {"path": _copy_in(sensors, tmp, LAYER_SUFFIXES, "sensors"), "id_column": sensor_id_column}
        if sensor_label_column:
            layers["sensors"]["label_column"] = sensor_label_column
        if roads:
            layers["roads"] = {"path": _copy_in(roads, tmp, LAYER_SUFFIXES, "roads")}
        if zones:
            layers["zones"] = {"path": _copy_in(zones, tmp, LAYER_SUFFIXES, "zones")}
            if zone_name_column:
                layers["zones"]["label_column"] = zone_name_column
        if buildings:
            layers["buildings"] = {"path": _copy_in(buildings, tmp, LAYER_SUFFIXES, "buildings")}
        paths = [_copy_in(p, tmp, SERIES_SUFFIXES, "series") for p in series]
        spec = {"paths": paths, "layout": layout, "time_column": time_column, "value_name": value_name,
                "unit": unit, "domain": domain}
        if layout == "long":
            spec |= {"id_column": series_id_column, "value_column": value_column}
        manifest = {**raw, "series": spec, "layers": layers}
        (tmp / MANIFEST_NAME).write_text(tomli_w.dumps(manifest), encoding="utf-8")
        (tmp / "SOURCE.txt").write_text(
            "Imported with 'explorer city add' from:\n" + "\n".join(f"- {p.name}" for p in [sensors, *series]) + "\n"
            "Record the data's origin and licence here.\n", encoding="utf-8")
        load_city(tmp)  # full validation; any error removes the temporary folder
    return load_city(target)
