"""Import a user's own files into a new city folder, atomically: a failed import leaves nothing behind.

Everything is checked before anything is written; every message names the file the user gave (never the
temporary folder the city is built in), the problem and the fix.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from explorer.cities.city import City, load_city
from explorer.cities.layers import LAYER_SUFFIXES, read_vector, validate_layer
from explorer.cities.manifest import MANIFEST_NAME, CityManifest
from explorer.cities.series import SERIES_SUFFIXES
from explorer.cities.sniff import sniff_series
from explorer.errors import CityDataError
from explorer.settings import get_settings

#: Optional files a city folder may carry, copied under these names.
EXTRA_FILES = {"places": ("places.csv", (".csv",)), "presets": ("presets.json", (".json",)),
               "holidays": ("holidays.csv", (".csv",))}


@dataclass
class ImportResult:
    """The new city and what the import decided or repaired on the way (to show to the user)."""

    city: City
    notes: list[str] = field(default_factory=list)


def country_of_timezone(tz: str) -> str | None:
    """The ISO country code of an IANA zone (tzdata's zone.tab, else the system's), e.g. Europe/Paris -> FR;
    None if unknown."""
    texts = []
    with contextlib.suppress(ModuleNotFoundError, FileNotFoundError, OSError):
        texts.append(importlib.resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text(encoding="utf-8"))
    with contextlib.suppress(OSError):
        texts.append(Path("/usr/share/zoneinfo/zone.tab").read_text(encoding="utf-8"))
    for text in texts:
        for line in text.splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and not line.startswith("#") and parts[2] == tz:
                return parts[0]
    return None


def _check_file(src: Path, allowed: tuple[str, ...], role: str, shown: str) -> None:
    if not src.is_file():
        raise CityDataError(f"the {role} file does not exist", where=shown, fix="check the path")
    if src.suffix.lower() not in allowed:
        raise CityDataError(f"'{src.suffix}' is not a supported {role} format", where=shown,
                            fix=f"use one of {', '.join(allowed)}")
    limit = get_settings().max_file_mb
    if src.stat().st_size > limit * 1e6:
        raise CityDataError(f"the file is over the {limit} MB limit", where=shown,
                            fix="split or simplify it, or raise EXPLORER_MAX_FILE_MB")
    if src.stat().st_size == 0:
        raise CityDataError("the file is empty", where=shown, fix="export it again")


def _free_name(dest_dir: Path, stem: str, suffix: str) -> str:
    name, k = f"{stem}{suffix}", 1
    while (dest_dir / name).exists():
        k += 1
        name = f"{stem}_{k}{suffix}"
    return name


def _settings_error(exc: ValidationError) -> CityDataError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    names = {"slug": "slug", "name": "name", "timezone": "time zone", "series.domain": "domain",
             "series.value_name": "value name", "series.unit": "unit", "series.layout": "layout"}
    what = next((v for k, v in names.items() if loc.startswith(k)), loc or "settings")
    fix = {"slug": "use lower-case letters, digits and '-' (up to 63), e.g. my-town",
           "time zone": "use an IANA zone such as Europe/Paris",
           "domain": "use traffic_speed, traffic_flow, pedestrian_count, energy or other"}.get(
        what, "correct that setting")
    msg = str(err["msg"]).removeprefix("Value error, ")
    return CityDataError(f"invalid city settings: {what}: {msg}", fix=fix)


def _renamed(exc: CityDataError, names: dict[str, str], tmp: Path) -> CityDataError:
    """The same error, naming the user's files instead of their copies in the temporary folder."""

    def fix(text: str | None) -> str | None:
        if text is None:
            return None
        for copy, shown in sorted(names.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(copy, shown)
        return text.replace(str(tmp), "the new city folder")

    return CityDataError(fix(exc.problem) or exc.problem, where=fix(exc.where), fix=fix(exc.fix))


def _calendar(timezone: str, country: str | None, subdivision: str | None, holidays_file: Path | None
              ) -> tuple[dict[str, str], list[str]]:
    """The manifest's calendar (country from the time zone when neither a country nor a file is given) and the
    note saying so."""
    notes: list[str] = []
    if country is None and holidays_file is None:
        country = country_of_timezone(timezone)
        if country:
            notes.append(f"public holidays: {country} (from the time zone)"
                         + ("" if subdivision else "; national ones only, add --holidays-subdivision for "
                            "a state's or region's"))
    return {k: v for k, v in (("country", country), ("subdivision", subdivision)) if v}, notes


def _check_settings(probe: dict[str, Any], calendar: dict[str, str], layout: str) -> None:
    """The city's settings, validated as a manifest before any file is read (one clear error)."""
    if calendar:
        probe["calendar"] = calendar
    if layout not in ("auto", "wide", "long"):
        raise CityDataError(f"invalid city settings: layout '{layout}'", fix="use auto, wide or long")
    try:
        CityManifest.model_validate(probe)
    except ValidationError as exc:
        raise _settings_error(exc) from None


def _check_files(layer_files: dict[str, Path | None], series: list[Path], extras: dict[str, Path | None],
                 show: Callable[[Path], str]) -> None:
    """Every input file, checked where the user put it (kind and size), before anything is written."""
    for role, path in layer_files.items():
        if path is not None:
            _check_file(Path(path), LAYER_SUFFIXES, role, show(path))
    for path in series:
        _check_file(Path(path), SERIES_SUFFIXES, "series", show(path))
    for role, path in extras.items():
        if path is not None:
            _check_file(Path(path), EXTRA_FILES[role][1], role, show(path))


def _layers(layer_files: dict[str, Path | None], copy_in: Callable[[Path, str], str], sensor_id_column: str,
            sensor_label_column: str | None, zone_name_column: str | None) -> dict[str, dict[str, str]]:
    """The manifest's layers, each file copied in under its role's name."""
    layers: dict[str, dict[str, str]] = {}
    for role, path in layer_files.items():
        if path is not None:
            layers[role] = {"path": copy_in(Path(path), role)}
    layers["sensors"]["id_column"] = sensor_id_column
    if sensor_label_column:
        layers["sensors"]["label_column"] = sensor_label_column
    if "zones" in layers and zone_name_column:
        layers["zones"]["label_column"] = zone_name_column
    return layers


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
    layout: str = "auto",
    time_column: str | None = None,
    series_id_column: str | None = None,
    value_column: str | None = None,
    sensor_label_column: str | None = None,
    roads: Path | None = None,
    zones: Path | None = None,
    zone_name_column: str | None = None,
    buildings: Path | None = None,
    holidays_country: str | None = None,
    holidays_subdivision: str | None = None,
    holidays_file: Path | None = None,
    places: Path | None = None,
    presets: Path | None = None,
    cities_dir: Path | None = None,
    display_names: dict[Path, str] | None = None,
) -> ImportResult:
    """Validate the files, then create ``cities_dir/slug`` in one atomic rename.

    ``layout="auto"`` reads a long table (time, id, value) when most times repeat, else a wide one; columns not
    given are guessed where that is safe. ``display_names``: how to name each input file in messages (the
    Add-a-city page passes the uploaded file's name). Returns the loaded city and the import's notes.
    """
    cities_dir = cities_dir or get_settings().cities_dir
    shown = {Path(p): s for p, s in (display_names or {}).items()}

    def show(p: Path) -> str:
        return shown.get(Path(p), str(p))

    calendar, notes = _calendar(timezone, holidays_country, holidays_subdivision, holidays_file)
    raw = {"slug": slug, "name": name, "timezone": timezone}
    _check_settings({**raw, "series": {"paths": ["x.csv"], "value_name": value_name, "unit": unit, "domain": domain,
                                       "layout": "wide" if layout == "auto" else layout},
                     "layers": {"sensors": {"path": "x.geojson", "id_column": sensor_id_column}}}, calendar, layout)
    target = cities_dir / slug
    if target.exists():
        raise CityDataError(f"a city '{slug}' already exists", where=str(target), fix="choose another slug")

    # Every input file, checked where the user put it, before anything is written.
    layer_files = {"sensors": sensors, "roads": roads, "zones": zones, "buildings": buildings}
    extras = {"places": places, "presets": presets, "holidays": holidays_file}
    _check_files(layer_files, series, extras, show)
    sensor_layer = validate_layer(read_vector(Path(sensors)), "sensors", where=show(sensors),
                                  id_column=sensor_id_column, label_column=sensor_label_column)
    found = sniff_series(Path(series[0]), where=show(series[0]), layout=layout, time_column=time_column,
                         id_column=series_id_column, value_column=value_column,
                         sensor_ids=set(sensor_layer[sensor_id_column]))
    notes = found.notes + notes

    names: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        from explorer.io import atomic_dir

        tmp = stack.enter_context(atomic_dir(target))

        def copy_in(src: Path, stem: str) -> str:
            name_ = _free_name(tmp, stem, Path(src).suffix.lower())
            shutil.copyfile(src, tmp / name_)
            names[str(tmp / name_)] = show(src)
            return name_

        layers = _layers(layer_files, copy_in, sensor_id_column, sensor_label_column, zone_name_column)
        paths = [copy_in(Path(p), "series") for p in series]
        spec = {"paths": paths, "layout": found.layout, "time_column": found.time_column, "value_name": value_name,
                "unit": unit, "domain": domain}
        if found.layout == "long":
            spec |= {"id_column": found.id_column, "value_column": found.value_column}
        for role, path in extras.items():
            if path is not None:
                shutil.copyfile(path, tmp / EXTRA_FILES[role][0])
                names[str(tmp / EXTRA_FILES[role][0])] = show(path)
        if holidays_file is not None:
            calendar["file"] = EXTRA_FILES["holidays"][0]
        manifest = {**raw, "series": spec, "layers": layers}
        if calendar:
            manifest["calendar"] = calendar
        (tmp / MANIFEST_NAME).write_text(tomli_w.dumps(manifest), encoding="utf-8")
        (tmp / "SOURCE.txt").write_text(
            "Imported with 'explorer city add' from:\n"
            + "\n".join(f"- {Path(show(p)).name}" for p in [sensors, *series]) + "\n"
            "Record the data's origin and licence here.\n", encoding="utf-8")
        try:
            checked = load_city(tmp)  # full validation; any error removes the temporary folder
        except CityDataError as exc:
            raise _renamed(exc, names, tmp) from None
        if presets is not None:
            from explorer.presets import read_presets_file

            try:
                read_presets_file(tmp / EXTRA_FILES["presets"][0], checked)
            except CityDataError as exc:
                raise _renamed(exc, names, tmp) from None
    city = load_city(target)
    return ImportResult(city, notes + city.warnings)
