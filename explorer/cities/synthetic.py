"""Synthetic large cities resampled from a bundled one, for scale tests and benchmarks.

``make_synthetic_city(source, 10_000)`` writes a real city folder (``city.toml``, a GeoParquet
sensor layer, an hourly wide Parquet series, a sparse k-nearest-neighbour graph) that ``load_city``
reads like any other. Each synthetic sensor copies one source sensor (recorded as ``source_sensor``):

* position: the source's position spread about the city's centre by ``(n / n_source) ** 0.25`` (the
  extent grows, sensors get denser, as in a real bigger network) plus Gaussian jitter of about one
  typical sensor spacing;
* series: the source's hourly series rolled by a whole number of weeks (so weekdays stay weekdays),
  scaled by a factor in 0.9..1.1, plus 2 % noise; the source's missing readings stay missing.

A generator checkpoint derived from the source's (no retraining, see
``explorer.models.generator.derive``) is saved into the folder's ``models/``, so the app and
``generate()`` work unchanged. Deterministic for a seed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import tomli_w
from scipy.spatial import cKDTree

from explorer.cities.city import City, _file_hash, load_city, resolve_city_folder
from explorer.cities.graph import KNN, knn_graph, local_km
from explorer.cities.manifest import read_manifest
from explorer.io import atomic_dir
from explorer.settings import REPO_ROOT, get_settings

if TYPE_CHECKING:
    from explorer.models.generator.api import GeneratorBundle

INFO_NAME = "synthetic.json"
SENSORS_FILE = "sensors.parquet"
SERIES_FILE = "series_hourly.parquet"
GRAPH_FILE = "graph_knn.npz"
MAX_CELLS = 10_000_000  # sensors x hours of history kept (about 40 MB of float32)
CACHE_DIR = REPO_ROOT / "artifacts" / "synthetic-cities"


def synthetic_slug(source_slug: str, n_sensors: int, seed: int) -> str:
    return f"{source_slug}-synth-{n_sensors}-s{seed}"


def spread_positions(lat: np.ndarray, lon: np.ndarray, pick: np.ndarray, n_sensors: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Lat/lon of the synthetic sensors: picked source positions spread about the centre, jittered."""
    lat0, lon0 = float(np.mean(lat)), float(np.mean(lon))
    xy = local_km(lat, lon, lat0, lon0)
    k = min(5, len(lat) - 1)  # co-located detectors (both directions) make the nearest one useless
    spacing = float(np.median(cKDTree(xy).query(xy, k=k + 1)[0][:, k])) or 0.5
    factor = max(1.0, (n_sensors / len(lat)) ** 0.25)
    new = factor * xy[pick] + rng.normal(0.0, factor * spacing, (n_sensors, 2))
    return lat0 + new[:, 1] / 110.57, lon0 + new[:, 0] / (111.32 * math.cos(math.radians(lat0)))


def _hourly(series: pd.DataFrame) -> pd.DataFrame:
    step = series.index[1] - series.index[0]
    return series.resample("1h").mean() if step < pd.Timedelta("1h") else series


def _window(src: City, days: int) -> pd.DataFrame:
    """The source's last ``days`` days, hourly."""
    hourly = _hourly(src.series)
    return hourly.iloc[-days * 24:] if len(hourly) > days * 24 else hourly


def _series(hourly: pd.DataFrame, pick: np.ndarray, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray,
                                                                                       np.ndarray]:
    """(wide hourly series, scale per sensor, shift in hours per sensor)."""
    x = hourly.to_numpy(np.float32)
    t, n = len(x), len(pick)
    weeks = max(1, t // (7 * 24))
    shift = rng.integers(0, weeks, n) * 7 * 24
    scale = rng.uniform(0.9, 1.1, n).astype(np.float32)
    rows = (np.arange(t)[:, None] - shift[None, :]) % t
    out = x[rows, pick[None, :]] * scale
    used = np.unique(pick)
    sd = np.zeros(x.shape[1], np.float32)
    sd[used] = np.nanstd(x[:, used], 0)
    noise = rng.normal(0.0, 0.02, (t, n)).astype(np.float32) * sd[pick]
    out = np.maximum(out + noise, 0.0).round(2)
    return pd.DataFrame(out, index=hourly.index, columns=[f"s{j:05d}" for j in range(n)]), scale, shift


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def make_synthetic_city(source_slug: str | None = None, n_sensors: int = 10_000, seed: int = 0,
                        out_dir: Path | None = None, *, days: int | None = None, slug: str | None = None,
                        with_generator: bool = True) -> Path:
    """Write ``out_dir/<slug>`` (a loadable city folder, built atomically) and return its path.

    ``days`` of hourly history (default: as many as keep sensors x hours under 10 million, at least 7);
    ``with_generator`` also saves a generator derived from the source city's checkpoint.
    """
    if n_sensors < 2:
        raise ValueError("a synthetic city needs at least 2 sensors")
    src = load_city(source_slug or get_settings().default_city)
    slug = slug or synthetic_slug(src.slug, n_sensors, seed)
    target = Path(out_dir or CACHE_DIR) / slug
    rng = np.random.default_rng(seed)
    total_days = len(_hourly(src.series)) // 24
    days = days or int(np.clip(MAX_CELLS // (n_sensors * 24), 7, max(total_days, 7)))
    hourly = _window(src, days)
    usable = np.flatnonzero(hourly.notna().any().to_numpy())  # sensors with readings in the window
    pick = np.concatenate([rng.permutation(usable) for _ in range(math.ceil(n_sensors / len(usable)))])[:n_sensors]
    lat, lon = spread_positions(src.sensors.geometry.y.to_numpy(), src.sensors.geometry.x.to_numpy(), pick,
                                n_sensors, rng)
    series, scale, shift = _series(hourly, pick, rng)
    ids = list(series.columns)
    src_ids = np.asarray(src.sensor_ids)[pick]
    sensors = gpd.GeoDataFrame(
        {"sensor_id": ids, "label": [f"Synthetic {s} (copy of {src.slug} {o})" for s, o in zip(ids, src_ids,
                                                                                                strict=True)],
         "source_sensor": src_ids, "scale": scale, "shift_hours": shift.astype(np.int32)},
        geometry=gpd.points_from_xy(lon.round(6), lat.round(6)), crs=4326)
    graph = knn_graph(lat, lon)
    man = src.manifest.series
    manifest = {
        "slug": slug, "name": f"Synthetic {src.name} ({n_sensors:,} sensors)", "timezone": src.timezone,
        "country": src.manifest.country,
        "description": f"Synthetic city for scale tests: {n_sensors} sensors resampled from {src.name} (seed {seed}).",
        "series": {"paths": [SERIES_FILE], "layout": "wide", "time_column": "timestamp",
                   "value_name": man.value_name, "unit": man.unit, "domain": man.domain, "frequency": "1h"},
        "layers": {"sensors": {"path": SENSORS_FILE, "id_column": "sensor_id", "label_column": "label"}},
        "graph": {"path": GRAPH_FILE, "matrix": "adj_knn"},
    }
    if src.manifest.calendar is not None:  # the source's public holidays (and its holidays file, copied below)
        manifest["calendar"] = src.manifest.calendar.model_dump(exclude_none=True)
    info = {"source": src.slug, "source_data_hash": src.data_hash, "n_sensors": n_sensors, "seed": seed,
            "days": days, "knn": KNN}
    with atomic_dir(target) as tmp:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; a city folder is readable like any other
        sensors.to_parquet(tmp / SENSORS_FILE, index=False)
        series.rename_axis("timestamp").reset_index().to_parquet(tmp / SERIES_FILE, index=False, compression="zstd")
        np.savez(tmp / GRAPH_FILE, sensor_ids=np.asarray(ids), adj_knn_data=graph.data,
                 adj_knn_indices=graph.indices.astype(np.int32), adj_knn_indptr=graph.indptr.astype(np.int64))
        (tmp / "city.toml").write_text(tomli_w.dumps(manifest), encoding="utf-8")
        if src.manifest.calendar is not None and src.manifest.calendar.file:
            shutil.copyfile(src.folder / src.manifest.calendar.file, tmp / src.manifest.calendar.file)
        (tmp / "SOURCE.md").write_text(
            f"Synthetic: resampled from {src.name} ({src.slug}) by explorer.cities.synthetic, seed {seed}. "
            "Not real measurements. Licence: that of the source city's data.\n", encoding="utf-8")
        if with_generator:
            from explorer.models.generator.derive import derive_generator, save_derived

            city = load_city(tmp)
            bundle = derive_generator(src, city, synthetic_mapping(city))
            info["generator_derived_from"] = bundle.meta["derived_from"]
            save_derived(bundle, city)
        (tmp / INFO_NAME).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return target


def synthetic_info(city: City | Path) -> dict:
    """What a synthetic city was made from (source slug and data hash, seed, days), or {} for a real city."""
    folder = city.folder if isinstance(city, City) else Path(city)
    path = folder / INFO_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def synthetic_mapping(city: City | Path) -> pd.DataFrame:
    """sensor_id -> source_sensor, scale, shift_hours (in the city's sensor order when given a City)."""
    folder = city.folder if isinstance(city, City) else Path(city)
    table = pd.read_parquet(folder / SENSORS_FILE, columns=["sensor_id", "source_sensor", "scale", "shift_hours"])
    table = table.set_index("sensor_id")
    return table.loc[city.sensor_ids] if isinstance(city, City) else table


def cached_synthetic_city(n_sensors: int, seed: int = 0, source_slug: str | None = None,
                          cache_dir: Path | None = None) -> Path:
    """The folder of a synthetic city with its derived generator, built once under ``cache_dir``
    (default ``artifacts/synthetic-cities/``, git-ignored) and rebuilt when the source data or model changed."""
    from explorer.models.checkpoint import read_metadata

    source_slug = source_slug or get_settings().default_city
    root = Path(cache_dir or CACHE_DIR)
    folder = root / synthetic_slug(source_slug, n_sensors, seed)
    src_folder = resolve_city_folder(source_slug)
    man = read_manifest(src_folder)  # the source's data hash without loading it (as load_city computes it)
    src_hash = _file_hash([src_folder / p for p in man.series.paths] + [src_folder / man.layers["sensors"].path])
    weights = read_metadata(src_folder / "models" / "generator").get("weights_sha256")
    info = synthetic_info(folder) if folder.is_dir() else {}
    fresh = info.get("source_data_hash") == src_hash and \
        info.get("generator_derived_from", {}).get("weights_sha256") == weights
    if folder.is_dir() and not fresh:
        shutil.rmtree(folder)
    if not folder.is_dir():
        try:
            make_synthetic_city(source_slug, n_sensors, seed, root)
        except FileExistsError:  # another process built it meanwhile
            pass
    return folder


_CASES: dict[tuple[str, int, int], tuple[City, GeneratorBundle]] = {}


def synthetic_generation_case(n_sensors: int, seed: int = 0, source_slug: str | None = None,
                              cache_dir: Path | None = None) -> tuple[City, GeneratorBundle]:
    """A synthetic city of ``n_sensors`` and its derived generator, for benchmarks: built once on disk
    (see :func:`cached_synthetic_city`) and loaded once per process."""
    from explorer.models.generator.api import load_generator

    source_slug = source_slug or get_settings().default_city
    key = (source_slug, n_sensors, seed)
    if key not in _CASES:
        city = load_city(cached_synthetic_city(n_sensors, seed, source_slug, cache_dir))
        _CASES[key] = (city, load_generator(city))
    return _CASES[key]
