"""The Add-a-city page's library side: the form validated with pydantic, uploads checked (type, size, name) and
written under safe names in a private temporary folder, then imported by the same code as ``explorer city add``
(same checks, same messages, naming the uploaded files)."""

from __future__ import annotations

import re
import tempfile
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from explorer.cities.importer import EXTRA_FILES, ImportResult, add_city
from explorer.cities.layers import LAYER_SUFFIXES
from explorer.cities.manifest import Domain
from explorer.cities.series import SERIES_SUFFIXES
from explorer.errors import CityDataError
from explorer.settings import get_settings

MAX_SERIES_FILES = 24
DOMAINS: tuple[Domain, ...] = ("pedestrian_count", "traffic_flow", "traffic_speed", "energy", "other")  # shown order


class Upload(Protocol):
    """What Streamlit's UploadedFile offers (and what tests pass)."""

    name: str
    size: int

    def getvalue(self) -> bytes: ...


def _blank_to_none(v: object) -> object:
    return None if isinstance(v, str) and not v.strip() else (v.strip() if isinstance(v, str) else v)


class AddCityForm(BaseModel):
    """Every value of the form, validated before any file is written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=120)
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    timezone: str
    value_name: str = Field(min_length=1, max_length=80)
    unit: str = Field(min_length=1, max_length=40)
    domain: Domain = "other"
    sensor_id_column: str = Field(min_length=1, max_length=100)
    sensor_label_column: str | None = Field(None, max_length=100)
    layout: Literal["auto", "wide", "long"] = "auto"
    time_column: str | None = Field(None, max_length=100)
    series_id_column: str | None = Field(None, max_length=100)
    value_column: str | None = Field(None, max_length=100)
    holidays_country: str | None = Field(None, min_length=2, max_length=3)
    holidays_subdivision: str | None = Field(None, max_length=40)

    _blank = field_validator("sensor_label_column", "time_column", "series_id_column", "value_column",
                             "holidays_country", "holidays_subdivision", "name", "slug", "value_name", "unit",
                             "sensor_id_column", mode="before")(classmethod(lambda _cls, v: _blank_to_none(v)))

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        if v not in time_zones():
            raise ValueError(f"'{v}' is not an IANA time zone such as Europe/Paris")
        return v


@lru_cache(maxsize=1)
def time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def slug_of(name: str) -> str:
    """A folder name from a display name: 'Lyon Part-Dieu' -> 'lyon-part-dieu'."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", name.lower())).strip("-")[:63]


def shown_name(name: str) -> str:
    """An uploaded file's name as it may appear in messages: its last part, tame characters, at most 100."""
    base = re.split(r"[\\/]", name or "")[-1]
    return re.sub(r"[^\w.\- ()]", "_", base)[:100] or "upload"


def form_error(exc: ValidationError) -> CityDataError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "form"
    msg = str(err["msg"]).removeprefix("Value error, ")
    fixes = {"slug": "use lower-case letters, digits and '-', e.g. my-town",
             "timezone": "pick the city's time zone from the list"}
    return CityDataError(f"invalid city settings: {field.replace('_', ' ')}: {msg}",
                         fix=fixes.get(field, "correct that field"))


@dataclass
class _Saved:
    path: Path
    shown: str


def _save(tmp: Path, role: str, upload: Upload, allowed: tuple[str, ...], k: int = 1) -> _Saved:
    """Write one upload under a name of our own (never the upload's); refuse a wrong type or a too-big file."""
    shown = shown_name(upload.name)
    suffix = Path(shown).suffix.lower()
    if suffix not in allowed:
        raise CityDataError(f"'{suffix or 'no extension'}' is not a supported {role} format", where=shown,
                            fix=f"upload one of {', '.join(allowed)}")
    limit = get_settings().max_file_mb
    if int(upload.size) > limit * 1e6:
        raise CityDataError(f"the file is over the {limit} MB limit", where=shown,
                            fix="split or simplify it, or ask whoever runs the server to raise EXPLORER_MAX_FILE_MB")
    path = tmp / f"{role}_{k}{suffix}"
    path.write_bytes(upload.getvalue())
    return _Saved(path, shown)


def import_uploads(form: AddCityForm, sensors: Upload | None, series: list[Upload], *,
                   places: Upload | None = None, presets: Upload | None = None,
                   cities_dir: Path | None = None) -> ImportResult:
    """Check and import uploaded files as a new city (atomically, as ``explorer city add``); CityDataError
    names the uploaded file, the problem and the fix."""
    if sensors is None:
        raise CityDataError("no sensors file was uploaded", fix="upload the sensor points (GeoJSON, GeoPackage, "
                            "GeoParquet or a zipped Shapefile)")
    if not series:
        raise CityDataError("no series file was uploaded", fix="upload the readings (CSV or Parquet)")
    if len(series) > MAX_SERIES_FILES:
        raise CityDataError(f"{len(series)} series files were uploaded", fix=f"upload at most {MAX_SERIES_FILES}")
    with tempfile.TemporaryDirectory(prefix="explorer-upload-") as tmpdir:
        tmp = Path(tmpdir)
        s = _save(tmp, "sensors", sensors, LAYER_SUFFIXES)
        ser = [_save(tmp, "series", u, SERIES_SUFFIXES, k) for k, u in enumerate(series, 1)]
        extra = {role: _save(tmp, role, u, EXTRA_FILES[role][1]) for role, u in (("places", places),
                                                                                ("presets", presets)) if u}
        shown = {x.path: x.shown for x in [s, *ser, *extra.values()]}
        return add_city(slug=form.slug, name=form.name, timezone=form.timezone, sensors=s.path,
                        sensor_id_column=form.sensor_id_column, sensor_label_column=form.sensor_label_column,
                        series=[x.path for x in ser], value_name=form.value_name, unit=form.unit,
                        domain=form.domain, layout=form.layout, time_column=form.time_column,
                        series_id_column=form.series_id_column, value_column=form.value_column,
                        holidays_country=form.holidays_country, holidays_subdivision=form.holidays_subdivision,
                        places=extra["places"].path if "places" in extra else None,
                        presets=extra["presets"].path if "presets" in extra else None,
                        cities_dir=cities_dir, display_names=shown)
