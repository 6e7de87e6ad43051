"""Scenario grid files: a base scenario plus axes, expanded into every combination.

A grid file is JSON (``.json``) or TOML (``.toml``)::

    {"seed": 0, "n_samples": 32,
     "base": {"day": {"day_of_week": 4}, "start_hour": 16, "horizon_hours": 8,
              "events": [{"place": {"sensor_id": "717445"}, "magnitude": 20, "unit": "percent_slower",
                          "start_offset_hours": 2, "duration_hours": 3, "reach_km": 1}]},
     "axes": {"events.0.place": ["717445", "773869"],
              "events.0.magnitude": [10, 20, 40],
              "day": [{"day_of_week": 2}, {"day_of_week": 6}]}}

``base`` follows :class:`explorer.scenarios.Scenario` (its ``city`` may be left out: the sweep's city fills
it in). Each axis is a dotted path into the scenario (list items by index, e.g. ``events.0.magnitude``)
and the list of values it takes. A place axis accepts a plain string (a sensor id), a place object
(``{"zone_id": ...}``, ``{"lat": ..., "lon": ...}``) or the special values ``"all sensors"`` /
``"all zones"``. Combinations run in file order, the last axis varying fastest.
"""

from __future__ import annotations

import itertools
import json
import math
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from explorer.errors import ExplorerError
from explorer.scenarios.schema import Scenario

MAX_SCENARIOS = 100_000
ALL_SENSORS = "all sensors"
ALL_ZONES = "all zones"
_FIXED = {"schema_version", "city", "events"}  # an axis may not change these as a whole
_SHOWN_ERRORS = 10


class GridError(ExplorerError):
    """A grid file that cannot be read, has a bad axis, or expands into invalid scenarios."""


def _pydantic_message(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


class Grid(BaseModel):
    """A base scenario, the axes to vary, and the sampling settings shared by every scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(default="", description="free text, for people")
    base: dict[str, Any] = Field(description="a scenario (explorer.scenarios.Scenario); 'city' may be omitted")
    axes: dict[str, list[Any]] = Field(default_factory=dict, description="dotted field path -> values")
    seed: int = Field(default=0, ge=0, le=2**63 - 1, description="grid seed; each scenario's seed derives from it")
    n_samples: int = Field(default=64, ge=1, le=4096, description="samples per scenario")
    seed_mode: str = Field(
        default="per_scenario",
        pattern="^(per_scenario|common)$",
        description="'per_scenario': seed from the grid seed and the scenario's content; "
        "'common': every scenario uses the grid seed (common random numbers across the grid)",
    )
    max_scenarios: int = Field(default=MAX_SCENARIOS, ge=1, le=MAX_SCENARIOS)

    @field_validator("axes")
    @classmethod
    def _axes_paths(cls, axes: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for path, values in axes.items():
            if not values:
                raise ValueError(f"axis {path!r} has no values")
            _check_path(path)
        return axes


@dataclass(frozen=True)
class GridPoint:
    """One combination: its position in the grid, the axis values as given, and the scenario."""

    index: int
    values: tuple[Any, ...]
    scenario: Scenario


def _field_names(model: type[BaseModel]) -> str:
    return ", ".join(model.model_fields)


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``X``, ``X | None``, ``list[X]``), if any."""
    for arg in (annotation, *get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _check_path(path: str) -> None:
    """Raise ValueError unless ``path`` names a field of the scenario (list items by index)."""
    parts = path.split(".")
    if not all(parts):
        raise ValueError(f"axis {path!r} is not a dotted field path (e.g. 'events.0.magnitude')")
    if parts[0] in _FIXED and len(parts) == 1:
        raise ValueError(
            f"axis {path!r}: '{parts[0]}' cannot be an axis; vary its fields instead (e.g. 'events.0.magnitude')"
        )
    model: type[BaseModel] | None = Scenario
    i = 0
    while i < len(parts):
        if model is None:
            raise ValueError(f"axis {path!r}: {'.'.join(parts[:i])} has no fields")
        name = parts[i]
        if name not in model.model_fields:
            where = ".".join(parts[:i]) or "the scenario"
            raise ValueError(f"axis {path!r}: {name!r} is not a field of {where} (fields: {_field_names(model)})")
        ann = model.model_fields[name].annotation
        if get_origin(ann) is list:
            if i + 1 >= len(parts) or not parts[i + 1].isdigit():
                raise ValueError(f"axis {path!r}: '{name}' is a list; name an item by index, e.g. '{name}.0'")
            i += 1
        model = _submodel(ann)
        i += 1


def load_grid(path: str | Path) -> Grid:
    """Read and validate a grid file (``.json`` or ``.toml``); raises :class:`GridError`."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise GridError("grid file not found", where=where, fix="give the path of a .json or .toml grid file")
    try:
        if path.suffix.lower() == ".toml":
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        elif path.suffix.lower() == ".json":
            raw = json.loads(path.read_text(encoding="utf-8"))
        else:
            raise GridError(f"unknown grid file type {path.suffix!r}", where=where, fix="use .json or .toml")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GridError(f"cannot parse the file: {exc}", where=where, fix="correct its syntax") from None
    return parse_grid(raw, where=where)


def parse_grid(raw: Any, where: str = "grid") -> Grid:
    """Validate a grid given as a dict; raises :class:`GridError` with every problem found."""
    try:
        return Grid.model_validate(raw)
    except ValidationError as exc:
        raise GridError(_pydantic_message(exc), where=where, fix="see docs/sweeps.md for the grid format") from None


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = doc
    for j, p in enumerate(parts[:-1]):
        key: Any = int(p) if isinstance(node, list) else p
        try:
            node = node[key]
        except (IndexError, KeyError):
            have = f"{len(node)} item(s)" if isinstance(node, list) else "no such field"
            raise ValueError(f"the base scenario has no {'.'.join(parts[: j + 1])} ({have})") from None
    last = parts[-1]
    if isinstance(node, list):
        if int(last) >= len(node):
            raise ValueError(f"the base scenario has no {path} ({len(node)} item(s))")
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ValueError(f"the base scenario has no {path}")


def _place_value(v: Any) -> Any:
    """A bare string (or number) on a place axis is a sensor id."""
    return {"sensor_id": str(v)} if isinstance(v, str | int) else v


def axis_values(
    grid: Grid, sensor_ids: Sequence[str] | None = None, zone_ids: Sequence[str] | None = None
) -> dict[str, list[Any]]:
    """The axes with ``"all sensors"`` / ``"all zones"`` replaced by the city's ids and bare place
    strings turned into ``{"sensor_id": ...}``."""
    out: dict[str, list[Any]] = {}
    for path, values in grid.axes.items():
        is_place = path.split(".")[-1] == "place"
        vals: list[Any] = []
        for v in values:
            if is_place and v == ALL_SENSORS:
                if sensor_ids is None:
                    raise GridError(f"axis {path!r}: '{ALL_SENSORS}' needs the city's sensors")
                vals.extend({"sensor_id": s} for s in sensor_ids)
            elif is_place and v == ALL_ZONES:
                if not zone_ids:
                    raise GridError(
                        f"axis {path!r}: '{ALL_ZONES}' but the city has no zones", fix="use sensor ids or 'all sensors'"
                    )
                vals.extend({"zone_id": z} for z in zone_ids)
            else:
                vals.append(_place_value(v) if is_place else v)
        out[path] = vals
    return out


def count(grid: Grid, sensor_ids: Sequence[str] | None = None, zone_ids: Sequence[str] | None = None) -> int:
    """Number of combinations (product of the axis lengths)."""
    return math.prod(len(v) for v in axis_values(grid, sensor_ids, zone_ids).values())


def _build(base: dict[str, Any], paths: Sequence[str], combo: Sequence[Any]) -> Scenario:
    doc = json.loads(json.dumps(base))  # deep copy of plain JSON data
    for path, v in zip(paths, combo, strict=True):
        _set(doc, path, json.loads(json.dumps(v)))
    return Scenario.model_validate(doc)


def _explain(exc: Exception) -> str:
    return _pydantic_message(exc) if isinstance(exc, ValidationError) else str(exc)


def expand(
    grid: Grid, city: str, sensor_ids: Sequence[str] | None = None, zone_ids: Sequence[str] | None = None
) -> list[GridPoint]:
    """Every combination as a validated scenario, in grid order (last axis fastest).

    Raises :class:`GridError` when the grid exceeds ``max_scenarios`` (before building anything), when
    combinations are invalid (each distinct problem once, with its count and a first example).
    """
    axes = axis_values(grid, sensor_ids, zone_ids)
    total = math.prod(len(v) for v in axes.values())
    if total > grid.max_scenarios:
        sizes = " x ".join(f"{len(v)} ({p})" for p, v in axes.items())
        raise GridError(
            f"the grid has {total:,} combinations ({sizes}), more than the limit of {grid.max_scenarios:,}",
            fix="remove axis values or split the grid into several files",
        )
    base = {**grid.base, "city": grid.base.get("city", city)}
    if base["city"] != city:
        raise GridError(
            f"the base scenario is for city {base['city']!r}, not {city!r}",
            fix="drop 'city' from the base or run the sweep for that city",
        )
    paths = list(axes)
    points: list[GridPoint] = []
    problems: dict[str, list[str]] = {}  # message -> combinations that hit it
    for i, combo in enumerate(itertools.product(*axes.values())):
        try:
            points.append(GridPoint(i, tuple(combo), _build(base, paths, combo)))
        except (ValidationError, ValueError) as exc:
            label = ", ".join(f"{p} = {json.dumps(v)}" for p, v in zip(paths, combo, strict=True))
            problems.setdefault(_explain(exc), []).append(f"{i} ({label})")
    if problems:
        bad = sum(len(v) for v in problems.values())
        lines = [f"{msg} -- in {len(c)} combination(s), e.g. {c[0]}" for msg, c in problems.items()]
        shown = "\n  ".join(lines[:_SHOWN_ERRORS])
        more = f"\n  ... and {len(lines) - _SHOWN_ERRORS} other problem(s)" if len(lines) > _SHOWN_ERRORS else ""
        raise GridError(
            f"{bad:,} of {total:,} combinations are invalid:\n  {shown}{more}",
            fix="change the base scenario or the axis values so that every combination is valid",
        )
    return points


def iter_labels(point: GridPoint, paths: Sequence[str]) -> Iterator[tuple[str, Any]]:
    """(column name, scalar value) per axis: places as their id (or 'lat,lon'), objects as canonical JSON."""
    for path, v in zip(paths, point.values, strict=True):
        if isinstance(v, dict) and path.split(".")[-1] == "place":
            if "sensor_id" in v:
                yield path, str(v["sensor_id"])
            elif "zone_id" in v:
                yield path, f"zone:{v['zone_id']}"
            else:
                yield path, f"{v.get('lat')},{v.get('lon')}"
        elif isinstance(v, dict | list):
            yield path, json.dumps(v, sort_keys=True)
        else:
            yield path, v
