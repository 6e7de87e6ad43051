"""Readable descriptions of where sensors are, from the city's own roads and zones."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd


def describe_sensors(sensors: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | None, zones: gpd.GeoDataFrame | None,
                     max_road_m: float = 300.0) -> pd.Series:
    """'<road> at <zone>' for each sensor (either part when known), else its label. Index: sensor order."""
    out = sensors["label"].astype(str).copy()
    road = pd.Series([""] * len(sensors), index=sensors.index)
    zone = road.copy()
    if roads is not None and "name" in roads and (roads["name"].str.len() > 0).any():
        utm = sensors.estimate_utm_crs()
        named = roads.loc[roads["name"].str.len() > 0, ["name", "geometry"]].to_crs(utm)
        near = gpd.sjoin_nearest(sensors[["geometry"]].to_crs(utm), named, how="left", max_distance=max_road_m)
        near = near[~near.index.duplicated()]
        road = near["name"].fillna("").astype(str).reindex(sensors.index, fill_value="")
    if zones is not None:
        inside = gpd.sjoin(sensors[["geometry"]], zones[["name", "geometry"]], how="left", predicate="within")
        inside = inside[~inside.index.duplicated()]
        zone = inside["name"].fillna("").astype(str).reindex(sensors.index, fill_value="")
    generic = out.str.fullmatch(r"Sensor \S+")
    both = (road != "") & (zone != "")
    out[generic & both] = road[generic & both] + " at " + zone[generic & both]
    out[generic & ~both & (road != "")] = road[generic & ~both & (road != "")]
    out[generic & ~both & (road == "") & (zone != "")] = "in " + zone[generic & ~both & (road == "") & (zone != "")]
    return out
