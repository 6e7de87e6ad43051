"""A city: its manifest, validated layers, regular sensor history and sensor graph."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from explorer.cities.calendar import HolidayCalendar, calendar_from_spec
from explorer.cities.graph import default_adjacency
from explorer.cities.labels import describe_sensors
from explorer.cities.layers import read_vector, validate_layer
from explorer.cities.manifest import MANIFEST_NAME, CityManifest, read_manifest
from explorer.cities.series import read_series
from explorer.errors import CityDataError
from explorer.settings import get_settings


@dataclass
class City:
    """A loaded, validated city. See docs/CONTRACTS.md."""

    folder: Path
    manifest: CityManifest
    series: pd.DataFrame
    sensors: gpd.GeoDataFrame
    freq: pd.Timedelta
    adjacency: np.ndarray | sparse.csr_matrix  # sparse when the graph file stores it sparse (large cities)
    data_hash: str
    zones: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    buildings: gpd.GeoDataFrame | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.manifest.slug

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def timezone(self) -> str:
        return self.manifest.timezone

    @property
    def sensor_ids(self) -> list[str]:
        return list(self.series.columns)

    @cached_property
    def holidays(self) -> HolidayCalendar:
        """The city's public holidays (``[calendar]`` in city.toml: holidays package and/or a holidays file)."""
        return calendar_from_spec(self.manifest.calendar, self.folder)

    @property
    def models_dir(self) -> Path:
        return self.folder / "models"

    def active_spans(self) -> pd.DataFrame:
        """First and last valid timestamp per sensor (counters installed late, or removed)."""
        valid = self.series.notna()
        first = valid.idxmax()
        last = valid[::-1].idxmax()
        return pd.DataFrame({"first": first, "last": last}).rename_axis("sensor_id")

    def active_mask(self) -> pd.DataFrame:
        """True where a sensor existed (inside its active span), whether or not it reported."""
        spans = self.active_spans()
        t = self.series.index.to_numpy()[:, None]
        mask = (t >= spans["first"].to_numpy()[None, :]) & (t <= spans["last"].to_numpy()[None, :])
        return pd.DataFrame(mask, index=self.series.index, columns=self.series.columns)


def _file_hash(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def resolve_city_folder(city: str | Path) -> Path:
    """A bundled slug or a folder path -> the city folder. Slugs are checked, never joined blindly."""
    if isinstance(city, Path) or "/" in str(city) or "\\" in str(city):
        folder = Path(city)
    else:
        cities_dir = get_settings().cities_dir
        known = list_cities(cities_dir)
        if city not in known:
            raise CityDataError(f"there is no city '{city}'", fix=f"choose one of: {', '.join(known) or 'none'}")
        folder = cities_dir / city
    if not folder.is_dir():
        raise CityDataError("the city folder does not exist", where=str(folder), fix="check the path")
    return folder


def list_cities(cities_dir: Path | None = None) -> list[str]:
    """Slugs of the city folders (those with a manifest), sorted."""
    cities_dir = cities_dir or get_settings().cities_dir
    if not cities_dir.is_dir():
        return []
    return sorted(p.name for p in cities_dir.iterdir() if (p / MANIFEST_NAME).is_file())


def _read_matrix(npz: Any, name: str, n: int) -> np.ndarray | sparse.csr_matrix:
    """A dense weight matrix, or a sparse CSR one stored as ``<name>_data/_indices/_indptr`` (large cities)."""
    if name not in npz.files and f"{name}_indptr" in npz.files:
        return sparse.csr_matrix((npz[f"{name}_data"].astype("float32"), npz[f"{name}_indices"],
                                  npz[f"{name}_indptr"]), shape=(n, n))
    return np.asarray(npz[name], dtype="float32")


def _load_adjacency(folder: Path, manifest: CityManifest, sensors: gpd.GeoDataFrame, ids: list[str]
                    ) -> np.ndarray | sparse.csr_matrix:
    if manifest.graph is not None:
        path = folder / manifest.graph.path
        try:
            with np.load(path, allow_pickle=False) as npz:
                graph_ids = [str(s) for s in npz["sensor_ids"]]
                matrix = _read_matrix(npz, manifest.graph.matrix, len(graph_ids))
        except Exception as exc:  # noqa: BLE001
            raise CityDataError(f"the graph file could not be read ({exc})", where=str(path),
                                fix="save an .npz with 'sensor_ids' and the manifest's weight matrix") from None
        pos = {s: k for k, s in enumerate(graph_ids)}
        missing = [s for s in ids if s not in pos]
        if missing:
            raise CityDataError(f"sensor '{missing[0]}' is not in the graph", where=str(path),
                                fix="rebuild the graph for all sensors, or drop [graph] from the manifest")
        order = np.array([pos[s] for s in ids])
        return matrix[order][:, order] if sparse.issparse(matrix) else matrix[np.ix_(order, order)]
    return default_adjacency(sensors.geometry.y.to_numpy(), sensors.geometry.x.to_numpy())


def _default_label(sensor_id: str) -> str:
    """'Sensor 717472' for a code-like id; an id that is already a name ('Bourke St counter') is kept."""
    return sensor_id if " " in sensor_id.strip() else f"Sensor {sensor_id}"


def load_city(city: str | Path) -> City:
    """Load and validate a city folder (or bundled slug). Raises CityDataError on any problem."""
    folder = resolve_city_folder(city)
    manifest = read_manifest(folder)
    specs = manifest.layers
    layers: dict[str, gpd.GeoDataFrame] = {}
    for role, spec in specs.items():
        path = folder / spec.path
        layers[role] = validate_layer(read_vector(path), role, where=str(path), id_column=spec.id_column,
                                      label_column=spec.label_column)
    notes: list[str] = []
    series, step = read_series(folder, manifest.series, manifest.timezone, notes)

    sensor_spec = specs["sensors"]
    sensors = layers["sensors"]
    id_col = sensor_spec.id_column
    assert id_col is not None  # the manifest validator guarantees it
    known = set(sensors[id_col])
    orphans = [s for s in series.columns if s not in known]
    if orphans:
        raise CityDataError(
            f"{len(orphans)} series id(s) have no sensor, e.g. '{orphans[0]}'",
            where=str(folder / sensor_spec.path),
            fix=f"add those sensors to the layer or drop their series; ids must match column '{id_col}'",
        )
    warnings = list(notes)
    unused = len(known) - len(series.columns)
    if unused:
        warnings.append(f"{unused} sensor(s) in the layer have no series and are not shown")
    sensors = sensors.set_index(id_col).loc[list(series.columns)]
    labels = sensors[sensor_spec.label_column].astype(str) if sensor_spec.label_column else None
    sensors = gpd.GeoDataFrame(
        {"sensor_id": list(series.columns),
         "label": labels.to_numpy() if labels is not None else [_default_label(s) for s in series.columns]},
        geometry=sensors.geometry.to_numpy(), crs=4326,
    )
    adjacency = _load_adjacency(folder, manifest, sensors, list(series.columns))
    hashed = [folder / p for p in manifest.series.paths] + [folder / sensor_spec.path]
    roads = layers.get("roads")
    if roads is not None and specs["roads"].label_column:
        roads = roads.assign(name=roads[specs["roads"].label_column].fillna("").astype(str))
    zones = layers.get("zones")
    if zones is not None:
        zspec = specs["zones"]
        zones = zones.assign(
            zone_id=zones[zspec.id_column] if zspec.id_column else [str(i) for i in range(len(zones))],
            name=zones[zspec.label_column].astype(str) if zspec.label_column else zones.index.astype(str),
        )
    sensors["where"] = describe_sensors(sensors, roads, zones).to_numpy()
    if manifest.calendar is None:
        warnings.append("no [calendar] in city.toml: no public holidays are known (add country = 'XX' under "
                        "[calendar], or a holidays file)")
    city = City(folder=folder, manifest=manifest, series=series, sensors=sensors, freq=step,
                adjacency=adjacency, data_hash=_file_hash(hashed), zones=zones, roads=roads,
                buildings=layers.get("buildings"), warnings=warnings)
    city.holidays  # noqa: B018 - read the holidays file now, so a bad one fails here with its message
    return city
