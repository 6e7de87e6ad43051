"""A city's own base map for the browser map and the exports: road polylines, the sensor graph's strong links,
and the view that fits the city. Offline: no basemap tiles."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from explorer.cities.graph import graph_edges

if TYPE_CHECKING:
    from explorer.cities import City


class View(NamedTuple):
    """Where a map opens (deck.gl's view state: degrees, web-mercator zoom)."""

    longitude: float
    latitude: float
    zoom: float
    pitch: float = 0.0
    bearing: float = 0.0


def _round_coords(geom: shapely.Geometry, tolerance: float) -> shapely.Geometry:
    geom = shapely.simplify(geom, tolerance, preserve_topology=True)
    return shapely.set_precision(geom, 1e-5)


def road_paths(city: City, source: str = "layer", tolerance: float = 0.0005, min_length: float = 0.0
               ) -> pd.DataFrame:
    """Road polylines as a frame with ``path`` (list of [lon, lat]) and ``name``.

    ``source='graph'`` (or a city without roads) draws the sensor graph's strong edges instead. Parts shorter
    than ``min_length`` degrees (ramps, slivers) are left out.
    """
    if source == "graph" or city.roads is None:
        edges = (sparse_graph_edges(city.sensors, city.adjacency) if sparse.issparse(city.adjacency)
                 else graph_edges(city.sensors, city.adjacency))
        return pd.DataFrame({"path": [[s, t] for s, t in zip(edges["source"], edges["target"], strict=True)],
                             "name": "sensor graph link"})
    geoms = _round_coords(city.roads.geometry.to_numpy(), tolerance)
    parts = shapely.get_parts(geoms)
    counts = shapely.get_num_geometries(geoms)
    names = np.repeat(city.roads.get("name", pd.Series([""] * len(geoms))).to_numpy(), counts)
    if min_length > 0:
        keep = shapely.length(parts) >= min_length
        parts, names = parts[keep], names[keep]
    paths = [shapely.get_coordinates(p).round(5).tolist() for p in parts]
    out = pd.DataFrame({"path": paths, "name": names})
    return out[out["path"].map(len) >= 2].reset_index(drop=True)


def sparse_graph_edges(sensors: pd.DataFrame, adjacency: sparse.spmatrix, min_weight: float = 0.5) -> pd.DataFrame:
    """``graph_edges`` for a sparse graph (large cities), without a dense n x n matrix."""
    w = sparse.triu(adjacency.maximum(adjacency.T), 1).tocoo()
    keep = w.data >= min_weight
    i, j = w.row[keep], w.col[keep]
    lon, lat = sensors.geometry.x.to_numpy(), sensors.geometry.y.to_numpy()
    return pd.DataFrame({"source": np.c_[lon[i], lat[i]].tolist(), "target": np.c_[lon[j], lat[j]].tolist(),
                         "weight": w.data[keep].astype(float)})


def view_for(city: City, pitch: float = 0, bearing: float = 0) -> View:
    """A view that fits the city's sensors (stable for a city, so the map does not jump on reruns)."""
    minx, miny, maxx, maxy = city.sensors.total_bounds
    span = max(maxx - minx, (maxy - miny) * 1.3, 1e-3)
    zoom = float(np.clip(np.log2(330 / span), 3, 17))  # deck.gl: 512 px per 360 deg at zoom 0
    return View(longitude=round((minx + maxx) / 2, 5), latitude=round((miny + maxy) / 2, 5),
                zoom=round(zoom, 2), pitch=pitch, bearing=bearing)
