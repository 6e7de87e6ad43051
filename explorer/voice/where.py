"""Where a request happens: the place a text names among the city's gazetteer (a sensor, a street's counter, a
road near a landmark, a zone), its 'did you mean' alternatives, and a place's name said back to people."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from explorer.geo import great_circle_km
from explorer.scenarios.schema import MAX_SNAP_KM, Place, PlaceKey
from explorer.voice.places import Gazetteer, Hit, norm


@dataclass
class PlaceOut:
    place: dict[str, str] | None = None
    label: str = ""
    reach: float = 0.0
    notes: list[str] = field(default_factory=list)
    refusal: tuple[str, dict[str, Any]] | None = None
    alternatives: list[tuple[str, str]] = field(default_factory=list)


def _point(g: Gazetteer, h: Hit) -> tuple[float, float]:
    if h.kind == "zone":
        return g.zone_centroids[h.key]
    if h.kind == "landmark":
        return g.landmarks[h.key]
    among = {"sensor": [h.key], "street": g.street_sensors.get(h.key, []),
             "road": g.road_sensors.get(h.key, [])}[h.kind]
    pts = [g.point(s) for s in among]
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


def _street_pick(g: Gazetteer, street: str, among: list[str]) -> str:
    """The counter that stands for a street: the one labelled just by it, else the busiest."""
    for sid in among:
        if norm(re.sub(r"\(.*?\)", "", g.sensor_labels[sid])) == street:
            return sid
    return max(among, key=lambda s: (g.busy.get(s, 0.0), -g.index[s]))


def resolve_place(t: str, g: Gazetteer, counts: bool, hits: list[Hit] | None = None) -> PlaceOut:
    """The scenario place of the text, with notes, alternatives ('did you mean') or a refusal."""
    hits = g.find(t) if hits is None else hits
    out = PlaceOut(reach=0.3 if counts else 2.0)
    if not hits:
        return out
    roads = [h for h in hits if h.kind == "road"]
    streets = [h for h in hits if h.kind == "street"]
    primary = roads[0] if roads else hits[0]
    if not roads and streets and primary.kind != "street":
        a, b = sorted([streets[0].span, primary.span])
        between = " ".join(t.split()[a[1]:b[0]])
        if re.search(r"\b(near|by|outside|next to|close to|around|at|on|along|opposite|beside|towards?)\b", between):
            primary = streets[0]  # 'Swanston St near Melbourne Central': a counter of that street
    others = [h for h in hits if h is not primary]
    anchor = next((h for h in others if h.kind != "road"), None)
    if primary.kind in ("road", "street"):
        return _along(g, primary, anchor, out)
    if primary.kind == "sensor":
        out.place, out.label = {"sensor_id": primary.key}, g.show(primary.key)
    elif primary.kind == "landmark":
        sid, d = g.landmark_sensor(primary.key)
        if sid is None:
            out.refusal = ("no_sensor", {"place": primary.label, "km": d})
            return out
        out.place, out.label = {"sensor_id": sid}, f"{primary.label} ({g.show(sid)})"
        out.notes.append(f"{primary.label}: the nearest sensor is {g.show(sid)}, {d:.1f} km away.")
    else:  # zone
        zid = primary.key
        if not g.zone_sensors.get(zid):
            lat, lon = g.zone_centroids[zid]
            sid, d = g.nearest_sensor(lat, lon)
            if d > 3.0:
                out.refusal = ("no_sensor", {"place": primary.label, "km": d})
                return out
            out.notes.append(f"No sensor inside {primary.label}; the model uses the nearest ({g.show(sid)}, "
                             f"{d:.1f} km).")
        out.place, out.label = {"zone_id": zid}, primary.label
    _add_rivals(t, g, primary, out)
    return out


def _along(g: Gazetteer, primary: Hit, anchor: Hit | None, out: PlaceOut) -> PlaceOut:
    """A road or street: the counter at a corner with another street, the sensor nearest a named anchor, else a
    road's middle sensor (with a wide reach) or the street's own counter (the others offered)."""
    among = (g.road_sensors if primary.kind == "road" else g.street_sensors)[primary.key]
    if anchor is not None and anchor.kind == "street" and primary.kind == "street":
        both = [s for s in among if s in g.street_sensors[anchor.key]]
        if both:  # 'Swanston and Flinders streets': their corner
            sid = both[0]
            out.place, out.label = {"sensor_id": sid}, g.show(sid)
            out.notes.append(f"{primary.label} at {anchor.label}: the counter {g.show(sid)}.")
            return out
    if anchor is not None:
        lat, lon = _point(g, anchor)
        sid, d = g.nearest_sensor(lat, lon, among)
        limit = 5.0 if primary.kind == "road" else MAX_SNAP_KM
        if d > limit:
            out.refusal = ("no_sensor", {"place": f"{primary.label} near {anchor.label}", "km": d})
            return out
        out.place, out.label = {"sensor_id": sid}, f"{primary.label} near {anchor.label}"
        out.notes.append(f"{primary.label} near {anchor.label}: the sensor {g.show(sid)}, {d:.1f} km away.")
    elif primary.kind == "road":
        among = g.road_core.get(primary.key) or among
        lat = sum(g.point(s)[0] for s in among) / len(among)
        lon = sum(g.point(s)[1] for s in among) / len(among)
        sid, _ = g.nearest_sensor(lat, lon, among)
        out.place, out.label, out.reach = {"sensor_id": sid}, primary.label, 5.0
        out.notes.append(f"No stretch of {primary.label} named: used its middle sensor ({g.show(sid)}) with a "
                         "5 km reach; name a neighbourhood or landmark along it to be precise.")
    else:
        sid = _street_pick(g, primary.key, among)
        out.place, out.label = {"sensor_id": sid}, f"{primary.label} ({g.show(sid)})"
        if len(among) > 1:
            rest = [g.show(s) for s in among if s != sid]
            out.notes.append(f"{primary.label} has {len(among)} counters: used {g.show(sid)}; the others are "
                             f"{', '.join(rest)} (pick one below).")
            out.alternatives = [(PlaceKey.sensor(s), g.show(s)) for s in among if s != sid]
    return out


def _add_rivals(t: str, g: Gazetteer, primary: Hit, out: PlaceOut) -> None:
    """Other places the same words could name, as 'did you mean' alternatives with a note."""
    rivals = g.rivals(t, primary)
    for h in rivals:
        key = PlaceKey.sensor(h.key) if h.kind == "sensor" else PlaceKey.zone(h.key) if h.kind == "zone" else ""
        if h.kind == "landmark":
            sid, _ = g.landmark_sensor(h.key)
            key = PlaceKey.sensor(sid) if sid else ""
        if h.kind == "street":
            key = PlaceKey.sensor(_street_pick(g, h.key, g.street_sensors[h.key]))
        if key and key != str(PlaceKey.of(Place(**out.place))) and key not in {a[0] for a in out.alternatives}:
            out.alternatives.append((key, h.label))
    if out.alternatives:
        out.notes.append(f"'{' '.join(t.split()[primary.span[0]:primary.span[1]])}' could also be "
                         f"{', '.join(a[1] for a in out.alternatives)} (pick one below).")


def place_name(g: Gazetteer, place: Any) -> str:
    """A scenario place as people call it: the sensor's or zone's name, a landmark within 600 m, else the nearest
    sensor's name."""
    if place.sensor_id:
        return g.show(str(place.sensor_id))
    if place.zone_id:
        return g.zone_names.get(str(place.zone_id), f"zone {place.zone_id}")
    km = {name: float(great_circle_km(place.lat, place.lon, la, lo)) for name, (la, lo) in g.landmarks.items()}
    best = min(km, key=km.__getitem__, default=None)
    if best is not None and km[best] <= 0.6:
        return best
    sid, _ = g.nearest_sensor(place.lat, place.lon)
    return g.show(sid)


def what_to_name(g: Gazetteer) -> str:
    """The kinds of place this city knows, with examples ('street, neighbourhood or landmark (e.g. ...)')."""
    kinds = []
    if g.street_labels:
        kinds.append("street")
    if g.zone_names:
        kinds.append("neighbourhood")
    if any(not k.isdigit() for k in g.road_sensors):
        kinds.append("road")
    kinds += ["counter" if not g.road_sensors else "sensor", "landmark"]
    names = [*list(g.street_labels.values())[:1], *list(g.landmarks)[:2], *list(g.zone_names.values())[:1]]
    return f"{', '.join(kinds[:-1])} or {kinds[-1]}" + (f" (e.g. {', '.join(repr(x) for x in names)})" if names
                                                        else "")
