"""The city manifest (``city.toml``): what a city folder holds and what its series mean."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from explorer.errors import CityDataError

MANIFEST_NAME = "city.toml"
Domain = Literal["traffic_speed", "traffic_flow", "pedestrian_count", "energy", "other"]
Kind = Literal["speed", "counts"]  # what an event does: slows traffic down, or adds people / vehicles
Role = Literal["sensors", "roads", "zones", "buildings"]
ROLES: tuple[Role, ...] = ("sensors", "roads", "zones", "buildings")

SPEED_MARKS = ("speed", "mph", "km/h", "kph")  # in the domain, unit or value name: the series is a speed
SUMMED_DOMAINS = frozenset({"pedestrian_count", "traffic_flow", "energy"})  # add up over an area; others average
NON_NEGATIVE_DOMAINS = frozenset({"traffic_speed", "traffic_flow", "pedestrian_count"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _relative_file(value: str) -> str:
    p = Path(value)
    if p.is_absolute() or ".." in p.parts or not value.strip():
        raise ValueError(f"'{value}' must be a file name inside the city folder (no absolute path, no '..')")
    return value


class LayerSpec(_Strict):
    """One map layer: a vector file and the columns that matter."""

    path: str
    id_column: str | None = None
    label_column: str | None = None
    height_column: str | None = None
    licence_clear: bool = True
    note: str = ""

    _check_path = field_validator("path")(classmethod(lambda _cls, v: _relative_file(v)))


class GraphSpec(_Strict):
    """An optional sensor graph: an ``.npz`` with ``sensor_ids`` and a weight matrix."""

    path: str
    matrix: str = "adj"

    _check_path = field_validator("path")(classmethod(lambda _cls, v: _relative_file(v)))


class SeriesSpec(_Strict):
    """The sensor history: one or more CSV or Parquet files, wide or long."""

    paths: list[str] = Field(min_length=1)
    layout: Literal["wide", "long"] = "wide"
    time_column: str = "timestamp"
    id_column: str = "sensor_id"
    value_column: str = "value"
    value_name: str = Field(min_length=1, max_length=80)
    unit: str = Field(min_length=1, max_length=40)
    domain: Domain = "other"
    frequency: str | None = None

    @field_validator("paths")
    @classmethod
    def _check_paths(cls, v: list[str]) -> list[str]:
        return [_relative_file(p) for p in v]

    @property
    def kind(self) -> Kind:
        """'speed' when the domain, unit or value name says speed (an event slows traffic), else 'counts' (an
        event adds people or vehicles)."""
        text = f"{self.domain} {self.unit} {self.value_name}".lower()
        return "speed" if any(k in text for k in SPEED_MARKS) else "counts"

    @property
    def counts(self) -> bool:
        """True for counts (an event adds), False for speeds (an event slows)."""
        return self.kind == "counts"

    @property
    def higher_is_busier(self) -> bool:
        """Whether a bigger value means more activity (counts) or less (speeds drop in congestion)."""
        return self.counts

    @property
    def aggregate(self) -> Literal["sum", "mean"]:
        """How sensors combine over an area: counts and flows add up; speeds and anything else average."""
        return "sum" if self.domain in SUMMED_DOMAINS else "mean"

    @property
    def non_negative(self) -> bool:
        """Counts, flows and speeds cannot be negative (energy, 'other' may be)."""
        return self.domain in NON_NEGATIVE_DOMAINS


class CalendarSpec(_Strict):
    """Public holidays: the ``holidays`` package by country/subdivision, an optional file, excluded days."""

    country: str | None = Field(None, min_length=2, max_length=3)
    subdivision: str | None = Field(None, min_length=1, max_length=40)
    file: str | None = None
    exclude: list[dt.date] = Field(default_factory=list)
    language: str | None = Field(None, max_length=10)

    _check_file = field_validator("file")(classmethod(lambda _cls, v: v if v is None else _relative_file(v)))

    @model_validator(mode="after")
    def _check_country(self) -> CalendarSpec:
        from explorer.cities.calendar import check_country

        if self.subdivision is not None and self.country is None:
            raise ValueError("[calendar] subdivision needs a country")
        if self.country is not None:
            check_country(self.country, self.subdivision)
        return self


class CityManifest(_Strict):
    """Everything the app needs to know about a city folder."""

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    name: str = Field(min_length=1, max_length=120)
    timezone: str
    country: str = ""
    description: str = ""
    series: SeriesSpec
    layers: dict[Role, LayerSpec]
    graph: GraphSpec | None = None
    calendar: CalendarSpec | None = None

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{v}' is not an IANA time zone such as 'America/Los_Angeles'") from None
        return v

    @field_validator("layers")
    @classmethod
    def _needs_sensors(cls, v: dict[str, LayerSpec]) -> dict[str, LayerSpec]:
        if "sensors" not in v:
            raise ValueError("a [layers.sensors] table is required: the series ids link to it")
        if v["sensors"].id_column is None:
            raise ValueError("[layers.sensors] needs id_column, the column that links the series to sensors")
        return v


def read_manifest(folder: Path) -> CityManifest:
    """Read and validate ``folder/city.toml``."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise CityDataError(
            f"no {MANIFEST_NAME} manifest found",
            where=str(folder),
            fix=f"add a {MANIFEST_NAME} (see the README's 'Bring your own city') or import files with "
            "'explorer city add'",
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CityDataError(f"the manifest is not valid TOML ({exc})", where=str(path),
                            fix="correct the TOML syntax") from None
    try:
        return CityManifest.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'manifest'}: {err['msg']}" for err in exc.errors()
        )
        raise CityDataError(f"the manifest is invalid ({problems})", where=str(path),
                            fix="correct those fields; the README's 'Bring your own city' lists them") from None
