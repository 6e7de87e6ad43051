"""Build a city's gazetteer (:class:`explorer.voice.places.Gazetteer`) from its layers and its optional
places.csv: sensors by label, the streets the labels name, zones, the road layer's named roads and route numbers,
and landmarks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from explorer.voice.places import (
    GENERIC,
    PLACES_FILE,
    ROAD_REACH_M,
    Gazetteer,
    PlaceRow,
    _label_aliases,
    label_streets,
    norm,
    read_places,
    route_aliases,
    street_label,
)


def road_table(city: Any) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(road name -> sensors within 150 m, route number -> sensors) from the city's road layer."""
    roads = city.roads
    if roads is None or "name" not in roads:
        return {}, {}
    roads = roads[roads["name"].astype(str).str.strip() != ""]
    if roads.empty:
        return {}, {}
    crs = city.sensors.estimate_utm_crs()
    by_name = roads.to_crs(crs).dissolve("name").geometry
    s = city.sensors.to_crs(crs).geometry
    ids = [str(x) for x in city.sensors["sensor_id"]]
    sensors: dict[str, list[str]] = {}
    for name, geom in by_name.items():
        d = s.distance(geom).to_numpy()
        sensors[str(name)] = [ids[i] for i in np.flatnonzero(d <= ROAD_REACH_M)]
    routes: dict[str, list[str]] = {}
    for name in by_name.index:
        ra = route_aliases(str(name))
        if ra:
            routes.setdefault(ra[0], [])
            routes[ra[0]] += [x for x in sensors[str(name)] if x not in routes[ra[0]]]
    return sensors, routes



def build(city: Any) -> Gazetteer:
    """Build the gazetteer of a City from its layers and its optional places.csv."""
    sensors = city.sensors
    ids = [str(s) for s in sensors["sensor_id"]]
    labels = dict(zip(ids, (str(x) for x in sensors["label"]), strict=True))
    g = Gazetteer(slug=city.slug, name=city.name, sensor_ids=ids, sensor_labels=labels,
                  lat=sensors.geometry.y.to_numpy(float), lon=sensors.geometry.x.to_numpy(float),
                  index={s: i for i, s in enumerate(ids)})
    if "where" in sensors:
        g.shown = {sid: f"{w} (sensor {sid})" if re.fullmatch(r"Sensor \d+", labels[sid]) else w
                   for sid, w in zip(ids, sensors["where"].astype(str), strict=True)}
    try:
        level = city.series.mean()
        g.busy = {str(k): float(v) for k, v in level.items() if np.isfinite(v)}
    except (AttributeError, ValueError, TypeError):
        g.busy = {}
    rows = read_places(Path(city.folder) / PLACES_FILE) if getattr(city, "folder", None) else []
    by_label = {norm(v): k for k, v in reversed(labels.items())}
    zone_by_name: dict[str, str] = {}
    if city.zones is not None:
        zone_by_name = {norm(n): str(z) for z, n in zip(city.zones["zone_id"], city.zones["name"].astype(str),
                                                       strict=True)}
    named, routes = road_table(city)
    road_by_name = {norm(n): n for n in named}
    extra_sensor, extra_zone, extra_road = _row_aliases(rows, by_label, zone_by_name, road_by_name)
    _add_sensors(g, labels, extra_sensor)
    if city.zones is not None:
        _add_zones(g, city.zones, extra_zone)
    _add_roads(g, named, routes, extra_road)
    for row in rows:
        key = norm(row.name)
        if key in by_label or key in zone_by_name or key in road_by_name:
            continue
        g.landmarks[row.name] = (row.lat, row.lon)
        for a in {key, *[norm(x) for x in row.aliases]}:
            g.aliases.append((a, "landmark", row.name, row.name))
    g.aliases = [a for a in g.aliases if a[0]]
    return g


def _row_aliases(rows: list[PlaceRow], by_label: dict[str, str], zone_by_name: dict[str, str],
                 road_by_name: dict[str, str]) -> tuple[dict[str, list[str]], ...]:
    """The places file's rows named like a sensor, zone or road: their aliases, by sensor, zone and road."""
    extra_sensor: dict[str, list[str]] = {}
    extra_zone: dict[str, list[str]] = {}
    extra_road: dict[str, list[str]] = {}
    for row in rows:  # rows named like a sensor, zone or road: their aliases go to it
        key = norm(row.name)
        if key in road_by_name:
            extra_road.setdefault(road_by_name[key], []).extend(row.aliases)
        elif key in by_label:
            extra_sensor.setdefault(by_label[key], []).extend(row.aliases)
        elif key in zone_by_name:
            extra_zone.setdefault(zone_by_name[key], []).extend(row.aliases)
    return extra_sensor, extra_zone, extra_road


def _add_sensors(g: Gazetteer, labels: dict[str, str], extra: dict[str, list[str]]) -> None:
    """Sensors by their labels (and the places file's aliases), and the streets their labels name."""
    for sid, names in extra.items():  # hand-given aliases win ties (see Gazetteer.find)
        g.aliases += [(norm(x), "sensor", sid, labels[sid]) for x in names]
        g.given |= {(norm(x), sid) for x in names}
    for sid, label in labels.items():
        if re.fullmatch(r"Sensor \d+", label):
            g.aliases.append((f"sensor {sid}", "sensor", sid, label))
            continue
        for a in _label_aliases(label):
            g.aliases.append((a, "sensor", sid, label))
        for st in label_streets(label):
            g.street_sensors.setdefault(st, [])
            if sid not in g.street_sensors[st]:
                g.street_sensors[st].append(sid)
    for st in g.street_sensors:
        g.street_labels[st] = street_label(st)
        g.aliases.append((st, "street", st, g.street_labels[st]))
        bare = st.rsplit(" ", 1)[0]
        if len(bare) >= 5:
            g.bare[bare] = st


def _add_zones(g: Gazetteer, zones: Any, extra: dict[str, list[str]]) -> None:
    """Zones by name (not the too generic ones, unless the places file names them), with the sensors inside."""
    import geopandas as gpd

    pts = gpd.GeoSeries(gpd.points_from_xy(g.lon, g.lat), crs=4326)
    for zid, zname, geom in zip(zones["zone_id"].astype(str), zones["name"].astype(str), zones.geometry,
                                strict=True):
        c = geom.centroid
        g.zone_centroids[zid] = (float(c.y), float(c.x))
        g.zone_names[zid] = zname
        g.zone_sensors[zid] = [s for s, inside in zip(g.sensor_ids, pts.within(geom), strict=True) if inside]
        names = {norm(zname), *[norm(x) for x in extra.get(zid, [])]}
        if set(norm(zname).split()) <= GENERIC and zid not in extra:
            continue  # 'South', 'City Center': too generic to find in a sentence
        for a in names:
            g.aliases.append((a, "zone", zid, zname))


def _add_roads(g: Gazetteer, named: dict[str, list[str]], routes: dict[str, list[str]],
               extra: dict[str, list[str]]) -> None:
    """Named roads and route numbers with their sensors, and each named road's main stretch."""
    for name, among in named.items():
        if not among:
            continue
        g.road_sensors[name] = among
        g.road_labels[name] = name
        g.aliases += [(a, "road", name, name) for a in {norm(name), *[norm(x) for x in extra.get(name, [])]}]
        ra = route_aliases(name)
        if ra:
            g.aliases += [(a, "road", ra[0], f"the {ra[0]} ({name})") for a in ra[1]]
    for number, among in routes.items():
        if among:
            g.road_sensors[number] = among
            g.road_labels.setdefault(number, f"the {number}")
    for name, among in named.items():  # a named road's main stretch: the route it shares most sensors with
        shared = max((([s for s in among if s in r]) for n, r in routes.items()), key=len, default=[])
        if shared and not route_aliases(name):
            g.road_core[name] = shared
