"""pydeck layers for a city's own base map (zones, roads) and its sensors. Offline: no basemap tiles."""

from __future__ import annotations

import functools
import html
import itertools
import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from pydeck.bindings import deck as _pydeck_deck
from pydeck.bindings.json_tools import default_serialize
from scipy import sparse

from explorer.cities.graph import graph_edges

if TYPE_CHECKING:
    from explorer.cities import City

# pydeck's Deck() tries to import its Jupyter widget each time one is made (without ipywidgets the import fails,
# and failed imports are not remembered: 0.5-3 ms per map, on every rerun). The answer cannot change while the
# server runs, so it is asked once.
if not hasattr(_pydeck_deck.has_jupyter_extra, "cache_info"):
    _pydeck_deck.has_jupyter_extra = functools.cache(_pydeck_deck.has_jupyter_extra)

ROAD_COLOUR = [90, 90, 90, 200]
ZONE_FILL = [11, 92, 173, 28]
ZONE_LINE = [11, 92, 173, 140]


def _round_coords(geom: shapely.Geometry, tolerance: float) -> shapely.Geometry:
    geom = shapely.simplify(geom, tolerance, preserve_topology=True)
    return shapely.set_precision(geom, 1e-5)


_ZONE_MEMO: dict[tuple[int, float], tuple[Any, list[dict]]] = {}


def zone_records(city: City, tolerance: float = 0.0003) -> list[dict]:
    """Zones as GeoJSON features with ``name`` and ``zone_id`` properties (memoised per zones table)."""
    if city.zones is None:
        return []
    key = (id(city.zones), tolerance)
    hit = _ZONE_MEMO.get(key)
    if hit is None or hit[0] is not city.zones:  # the table itself is kept, so its id is not reused
        if len(_ZONE_MEMO) > 16:
            _ZONE_MEMO.clear()
        hit = _ZONE_MEMO[key] = (city.zones, _zone_records(city, tolerance))
    return hit[1]


def _zone_records(city: City, tolerance: float) -> list[dict]:
    geoms = _round_coords(city.zones.geometry.to_numpy(), tolerance)
    return [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g),
         "properties": {"name": str(n), "zone_id": str(z)}}
        for g, n, z in zip(geoms, city.zones["name"], city.zones["zone_id"], strict=True)
    ]


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


_RAW_IDS = itertools.count()


class RawJSON(str):
    """Layer data serialised ahead of the deck: static geometry serialised once per city, or per-step data
    built faster than pydeck would. The deck's JSON first holds this placeholder string, then
    :meth:`CompactDeck.to_json` puts ``text`` in its place: the browser receives exactly the bytes
    ``json.dumps(data, sort_keys=True, separators=(",", ":"))`` gives, as for the data itself."""

    text: str

    def __new__(cls, text: str) -> RawJSON:
        self = super().__new__(cls, f"@@raw-json-{next(_RAW_IDS)}@@")
        self.text = text
        return self

    @classmethod
    def of(cls, data: Any) -> RawJSON:
        return cls(json.dumps(data, sort_keys=True, separators=(",", ":")))


_ZONE_JSON: dict[int, tuple[Any, RawJSON]] = {}


def zones_json(city: City) -> RawJSON | None:
    """The zones' FeatureCollection, serialised once per zones table (the same on every rerun)."""
    if city.zones is None:
        return None
    hit = _ZONE_JSON.get(id(city.zones))
    if hit is None or hit[0] is not city.zones:  # the table itself is kept, so its id is not reused
        if len(_ZONE_JSON) > 16:
            _ZONE_JSON.clear()
        feats = zone_records(city)
        hit = _ZONE_JSON[id(city.zones)] = (city.zones, RawJSON.of({"type": "FeatureCollection", "features": feats})
                                            if feats else None)
    return hit[1]


def zones_layer(city: City) -> pdk.Layer | None:
    data = zones_json(city)
    if data is None:
        return None
    return pdk.Layer("GeoJsonLayer", data, id="zones", stroked=True, filled=True, get_fill_color=ZONE_FILL,
                     get_line_color=ZONE_LINE, line_width_min_pixels=1, pickable=False)


def roads_layer(paths: pd.DataFrame | list[dict], colour: list[int] | str = ROAD_COLOUR, width: float = 2,
                layer_id: str = "roads") -> pdk.Layer:
    return pdk.Layer("PathLayer", paths, id=layer_id, get_path="path", get_color=colour,
                     get_width=width * 15, width_min_pixels=width, width_max_pixels=width * 3, pickable=False,
                     cap_rounded=True)


def sensors_frame(city: City, values: pd.Series, colours: np.ndarray, fmt: str = "{:,.1f}") -> pd.DataFrame:
    """Sensor points with value, text and colour columns for a ScatterplotLayer."""
    pts = city.sensors
    v = values.reindex(pts["sensor_id"]).to_numpy(dtype=float)
    labels = pts["where"] if "where" in pts else pts["label"]
    return pd.DataFrame({  # id and label are city data drawn in an HTML tooltip: escaped
        "sensor_id": [html.escape(str(x)) for x in pts["sensor_id"]],
        "label": [html.escape(str(x)) for x in labels],
        "lon": pts.geometry.x.round(6).to_numpy(),
        "lat": pts.geometry.y.round(6).to_numpy(),
        "value": np.round(v, 3),
        "text": ["no data" if np.isnan(x) else fmt.format(x) for x in v],
        "color": [list(map(int, c)) + [230] for c in colours],
    })


def sensors_layer(frame: pd.DataFrame, radius_px: float = 6, layer_id: str = "sensors") -> pdk.Layer:
    return pdk.Layer("ScatterplotLayer", frame, id=layer_id, get_position=["lon", "lat"], get_fill_color="color",
                     get_line_color=[20, 20, 20, 255], stroked=True, line_width_min_pixels=1,
                     get_radius=radius_px * 25, radius_min_pixels=radius_px * 0.6,
                     radius_max_pixels=radius_px * 2.5, pickable=True,
                     auto_highlight=True)


def view_for(city: City, pitch: float = 0, bearing: float = 0) -> pdk.ViewState:
    """A view that fits the city's sensors (stable for a city, so the map does not jump on reruns)."""
    minx, miny, maxx, maxy = city.sensors.total_bounds
    span = max(maxx - minx, (maxy - miny) * 1.3, 1e-3)
    zoom = float(np.clip(np.log2(330 / span), 3, 17))  # deck.gl: 512 px per 360 deg at zoom 0
    return pdk.ViewState(longitude=round((minx + maxx) / 2, 5), latitude=round((miny + maxy) / 2, 5),
                         zoom=round(zoom, 2), pitch=pitch, bearing=bearing)


class CompactDeck(pdk.Deck):
    """A Deck whose JSON has no indentation: about half the bytes sent to the browser on every rerun.

    Layer data given as :class:`RawJSON` is put in as its text (serialised once, not on every rerun).
    """

    def to_json(self) -> str:
        text = json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))
        for layer in self.layers:
            data = getattr(layer, "_data", None)
            if isinstance(data, RawJSON):
                text = text.replace(json.dumps(str(data)), data.text, 1)
        return text


def offline_deck(layers: list[pdk.Layer | None], view: pdk.ViewState, tooltip: dict | bool = True,
                 height: int = 560) -> pdk.Deck:
    """A Deck with no basemap provider: nothing is requested from outside the machine.

    ``map_style`` keeps pydeck's placeholder on purpose: Streamlit's frontend fetches a Carto style when
    ``map_style=None``, and fetches nothing when the placeholder is left with ``map_provider=None``.
    """
    return CompactDeck(layers=[layer for layer in layers if layer is not None], initial_view_state=view,
                    map_provider=None, tooltip=tooltip, height=height)
