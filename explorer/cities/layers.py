"""Read vector layers (GeoJSON, GeoPackage, GeoParquet, zipped Shapefile) and validate them per role."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from explorer.errors import CityDataError
from explorer.settings import get_settings

LAYER_SUFFIXES = (".geojson", ".json", ".gpkg", ".parquet", ".geoparquet", ".zip")
ALLOWED_GEOMETRY: dict[str, set[str]] = {
    "sensors": {"Point"},
    "roads": {"LineString", "MultiLineString"},
    "zones": {"Polygon", "MultiPolygon"},
    "buildings": {"Polygon", "MultiPolygon"},
}


def _check_size(path: Path) -> None:
    limit_mb = get_settings().max_file_mb
    size_mb = path.stat().st_size / 1e6
    if size_mb > limit_mb:
        raise CityDataError(
            f"the file is {size_mb:.0f} MB, over the {limit_mb} MB limit",
            where=str(path),
            fix="simplify or clip the layer, or raise EXPLORER_MAX_FILE_MB",
        )


def read_vector(path: Path) -> gpd.GeoDataFrame:
    """Read a vector file by its suffix; errors name the file and the likely fix."""
    if not path.is_file():
        raise CityDataError("the file does not exist", where=str(path), fix="check the path in the manifest")
    suffix = path.suffix.lower()
    if suffix not in LAYER_SUFFIXES:
        raise CityDataError(
            f"'{suffix}' is not a supported layer format",
            where=str(path),
            fix="use GeoJSON, GeoPackage, GeoParquet or a zipped Shapefile (.zip)",
        )
    _check_size(path)
    if path.stat().st_size == 0:
        raise CityDataError("the file is empty", where=str(path), fix="export the layer again")
    try:
        if suffix in (".parquet", ".geoparquet"):
            gdf = gpd.read_parquet(path)
        else:
            gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - every reader failure becomes one clear message
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        fix = "check that the file is a valid, complete export"
        if suffix == ".zip":
            fix = "zip the .shp together with its .shx, .dbf and .prj files"
        elif suffix in (".parquet", ".geoparquet"):
            fix = "write it with GeoDataFrame.to_parquet so it carries GeoParquet metadata"
        raise CityDataError(f"the layer could not be read ({detail})", where=str(path), fix=fix) from None
    return gdf


def validate_layer(gdf: gpd.GeoDataFrame, role: str, *, where: str, id_column: str | None = None,
                   label_column: str | None = None) -> gpd.GeoDataFrame:
    """Check geometry, CRS and ids for ``role``; return the layer in EPSG:4326 with a clean index."""
    if len(gdf) == 0:
        raise CityDataError(f"the {role} layer has no features", where=where, fix="export a layer with features")
    if gdf.crs is None:
        raise CityDataError(
            f"the {role} layer has no coordinate reference system",
            where=where,
            fix="save it with a CRS (for example EPSG:4326), or add the .prj file to the zipped Shapefile",
        )
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        row = int(missing.to_numpy().nonzero()[0][0])
        raise CityDataError(f"row {row} of the {role} layer has an empty geometry", where=where,
                            fix="remove or fix features without geometry")
    kinds = set(gdf.geom_type.unique())
    allowed = ALLOWED_GEOMETRY[role]
    if not kinds <= allowed:
        bad = sorted(kinds - allowed)
        raise CityDataError(
            f"the {role} layer holds {', '.join(bad)} geometries; {role} must be {' or '.join(sorted(allowed))}",
            where=where,
            fix=f"split the file by geometry type and give the {role} role only {' / '.join(sorted(allowed))}",
        )
    try:
        gdf = gdf.to_crs(4326)
    except Exception as exc:  # noqa: BLE001
        raise CityDataError(f"the layer could not be reprojected to EPSG:4326 ({exc})", where=where,
                            fix="check the layer's CRS") from None
    minx, miny, maxx, maxy = gdf.total_bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise CityDataError(
            f"coordinates fall outside the globe after reprojection (bounds {minx:.0f}, {miny:.0f}, {maxx:.0f}, "
            f"{maxy:.0f}): the CRS is probably wrong, for example metres labelled as degrees",
            where=where,
            fix="set the layer's real CRS (for example a UTM zone) before exporting",
        )
    for col in (id_column, label_column):
        if col is not None and col not in gdf.columns:
            cols = ", ".join(c for c in gdf.columns if c != gdf.geometry.name)
            raise CityDataError(f"column '{col}' is missing from the {role} layer (it has: {cols})", where=where,
                                fix="correct the column name in the manifest")
    if id_column is not None:
        ids = gdf[id_column]
        if ids.isna().any():
            row = int(ids.isna().to_numpy().nonzero()[0][0])
            raise CityDataError(f"row {row} has no {id_column}", where=where, fix="give every feature an id")
        ids = ids.map(_id_to_str)
        dup = ids[ids.duplicated()]
        if len(dup):
            raise CityDataError(f"id '{dup.iloc[0]}' appears more than once in column '{id_column}'", where=where,
                                fix="make the ids unique")
        gdf = gdf.assign(**{id_column: ids})
    return gdf.reset_index(drop=True)


def _id_to_str(value: object) -> str:
    """Ids are compared as text; integral floats (from CSV round trips) lose their '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def ids_as_str(values: pd.Index | pd.Series) -> list[str]:
    return [_id_to_str(v) for v in values]
