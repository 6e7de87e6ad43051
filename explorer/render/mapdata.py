"""What the browser map (``explorer.ui.deckmap``) receives: compact binary payloads, built without Streamlit.

Three kinds, each packed once and sent once (the browser keeps them by key):

* **base** — a city's static layers, once per city and road source: sensor positions, ids and labels,
  zone rings, road paths with the index of each road's nearest sensor, or, above the aggregation threshold,
  the h3 cells' outlines and sensor counts;
* **scenario** — a result's P10/P50/P90 of baseline, scenario and difference for every hour and sensor
  (or h3 cell), the colour scales and the three legends; the browser colours, extrudes and labels each hour
  and view itself, so an hour step or a view change needs nothing from the server;
* **stat** — Home's statistic, one value per sensor (or cell).

The wire format is ``b"XDM1"``, a little-endian uint32 header length, the header as UTF-8 JSON, then the
arrays, each on an 8-byte boundary; ``header["arrays"]`` maps a name to ``[dtype, offset, count]``.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import h3
import numpy as np
import shapely

from explorer.render.colors import DIVERGING, VIRIDIS

if TYPE_CHECKING:
    from explorer.cities import City
    from explorer.models.generator.result import ScenarioResult
    from explorer.render.scenario import Summary

MAGIC = b"XDM1"
DTYPES: dict[str, type[np.generic]] = {"f4": np.float32, "u4": np.uint32, "i4": np.int32, "u2": np.uint16,
                                       "u1": np.uint8}
_CODES = {np.dtype(v).str[1:]: k for k, v in DTYPES.items()}  # "f4" -> "f4", "u4" -> "u4", ...
PALETTES = {"viridis": VIRIDIS.astype(int).tolist(), "diverging": DIVERGING.astype(int).tolist()}
ROAD_TOLERANCE, ROAD_MIN_LENGTH = 0.0008, 0.003  # degrees: the scenario maps' simplification (ramps left out)
ZONE_TOLERANCE = 0.0003


@dataclass(frozen=True)
class Payload:
    """A packed payload: ``key`` (kind and content hash), the decoded header and arrays, and the bytes sent."""

    key: str
    header: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(repr=False)
    data: bytes = field(repr=False)

    @property
    def nbytes(self) -> int:
        return len(self.data)


def _pad8(n: int) -> int:
    return -n % 8


def pack(kind: str, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> Payload:
    """Pack ``header`` and ``arrays`` (any of the dtypes in :data:`DTYPES`); the key is a hash of the content,
    so the same layers or results always give the same key (and the browser keeps one copy)."""
    flat = {}
    for name, a in arrays.items():
        a = np.ascontiguousarray(np.asarray(a).ravel())
        code = _CODES.get(a.dtype.str[1:])
        if code is None:
            raise TypeError(f"array {name!r} has dtype {a.dtype}; use one of {', '.join(DTYPES)}")
        flat[name] = (code, a.astype(a.dtype.newbyteorder("<"), copy=False))
    digest = hashlib.blake2b(digest_size=10)
    digest.update(json.dumps({"kind": kind, **header}, sort_keys=True, allow_nan=False).encode())
    for name, (code, a) in flat.items():
        digest.update(f"{name}:{code}:{a.size}".encode())
        digest.update(a.tobytes())
    key = f"{kind}-{digest.hexdigest()}"
    layout, blobs, offset = {}, [], 0
    for name, (code, a) in flat.items():
        raw = a.tobytes()
        layout[name] = [code, offset, int(a.size)]
        blobs.append(raw + b"\0" * _pad8(len(raw)))
        offset += len(raw) + _pad8(len(raw))
    full = {**header, "kind": kind, "key": key, "arrays": layout}
    head = json.dumps(full, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    data = MAGIC + struct.pack("<I", len(head)) + head + b"\0" * _pad8(8 + len(head)) + b"".join(blobs)
    return Payload(key, full, {n: a for n, (_, a) in flat.items()}, data)


def unpack(data: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and arrays of a packed payload (what the browser's ``unpack`` reads)."""
    if data[:4] != MAGIC:
        raise ValueError("not a map payload (no XDM1 header)")
    (n,) = struct.unpack("<I", data[4:8])
    header = json.loads(data[8:8 + n].decode())
    base = 8 + n + _pad8(8 + n)
    arrays = {name: np.frombuffer(data, DTYPES[code], count, base + off)
              for name, (code, off, count) in header["arrays"].items()}
    return header, arrays


# --------------------------------------------------------------------------------------------- legends


def _num(fmt: str, x: float) -> str:
    return fmt.format(x)


def legend_spec(title: str, lo: float, hi: float, unit: str, palette: np.ndarray, *, fmt: str = "{:,.1f}",
                extra: list[tuple[str, str]] | None = None, change: bool = False) -> dict[str, Any]:
    """A legend the browser draws (every text set as text, never as HTML): title, unit, the colour stops, the
    two ends as shown, extra swatches. A degenerate range says so instead of showing the same number twice:
    a change map whose ends both round to zero reads "No change …", a value map with one value says so."""
    lo_t, hi_t = _num(fmt, lo), _num(fmt, hi)
    none = None
    if change and lo_t.lstrip("+-") == hi_t.lstrip("+-") and float(lo_t.replace(",", "").lstrip("+-") or 0) == 0:
        none = f"No change: every change rounds to 0 {unit}"
    elif not change and lo_t == hi_t:
        none = f"Every value is {lo_t} {unit}"
    return {"title": title, "unit": unit, "palette": np.asarray(palette).astype(int).tolist(), "lo": lo_t,
            "hi": hi_t, "extra": [list(e) for e in (extra or [])], "no_change": none}


NOT_SIGNIFICANT = ("rgb(170,170,170)", "Not significant (P10–P90 spans 0)")


def scenario_legends(unit: str, value_name: str, sign: float, lim: float, vmin: float, vmax: float,
                     per_area: str | None = None) -> dict[str, dict[str, Any]]:
    """The three legends of a scenario map: difference (diverging, red = busier, grey = not significant),
    baseline and scenario (one viridis scale); per area for a large city."""
    busier = "more people" if sign > 0 else "slower"
    what = value_name.lower()
    area = f" per area, {per_area}" if per_area else ""
    extra = ([("rgb(255,255,255)", "Click an area to see its sensors")] if per_area
             else [("rgb(90,90,90)", "Roads take their nearest sensor's colour")])
    out = {"difference": legend_spec(f"Change in {what}{area} (red = {busier})", -lim * sign, lim * sign, unit,
                                     DIVERGING, fmt="{:+,.1f}", extra=[NOT_SIGNIFICANT], change=True)}
    for view, name in (("baseline", "Baseline"), ("scenario", "Scenario")):
        out[view] = legend_spec(f"{name} {what}{area} (median of samples)", vmin, vmax, unit, VIRIDIS, extra=extra)
    return out


# ------------------------------------------------------------------------------------------------ base


def _view(city: City) -> dict[str, float]:
    from explorer.render.layers import view_for

    v = view_for(city)
    return {"longitude": float(v.longitude), "latitude": float(v.latitude), "zoom": float(v.zoom)}


def _rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exterior rings of (multi)polygons as one (V, 2) float32 array and V-indices where each ring starts
    (with the total appended); rings are closed (first vertex repeated)."""
    parts = shapely.get_parts(geoms)
    rings = [shapely.get_coordinates(shapely.get_exterior_ring(p)) for p in parts if not p.is_empty]
    return _concat(rings)


def _concat(lines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    if not lines:
        return np.zeros((0, 2), np.float32), np.zeros(1, np.uint32)
    counts = np.array([len(x) for x in lines])
    starts = np.r_[0, np.cumsum(counts)].astype(np.uint32)
    return np.concatenate(lines).astype(np.float32), starts


def base_payload(city: City, road_source: str = "layer", aggregate_above: int | None = None) -> Payload:
    """A city's static layers. ``aggregate_above`` (default: the ``map_aggregate_above`` setting): above that
    many sensors the map draws h3 cells instead of sensors, and the sensor graph's links are left out."""
    from explorer.render.layers import road_paths
    from explorer.render.scenario import _radius_m, road_sensor_index

    if aggregate_above is None:
        from explorer.settings import get_settings

        aggregate_above = get_settings().map_aggregate_above
    cells_mode = len(city.sensors) > aggregate_above
    header: dict[str, Any] = {"city": city.slug, "mode": "cells" if cells_mode else "sensors", "view": _view(city),
                              "radius_m": round(_radius_m(city), 3), "road_source": road_source}
    arrays: dict[str, np.ndarray] = {}
    if city.zones is not None:
        geoms = shapely.set_precision(shapely.simplify(city.zones.geometry.to_numpy(), ZONE_TOLERANCE,
                                                       preserve_topology=True), 1e-5)
        arrays["zpos"], arrays["zstart"] = _rings(geoms)
    draw_roads = road_source == "layer" and city.roads is not None or not cells_mode
    if draw_roads:
        paths = road_paths(city, road_source, tolerance=ROAD_TOLERANCE, min_length=ROAD_MIN_LENGTH)
        if len(paths):
            arrays["rpos"], arrays["rstart"] = _concat([np.asarray(p, float) for p in paths["path"]])
            arrays["rsensor"] = np.asarray(road_sensor_index(city, paths), np.uint32)
    if cells_mode:
        from explorer.render.aggregate import sensor_cells

        cells = sensor_cells(city)
        outlines = [np.asarray(h3.cell_to_boundary(str(c)))[:, ::-1] for c in cells.ids]
        arrays["cpos"], arrays["cstart"] = _concat([np.vstack([o, o[:1]]) for o in outlines])
        header |= {"cell_ids": [str(c) for c in cells.ids], "cell_counts": cells.counts.astype(int).tolist(),
                   "resolution": int(cells.resolution), "edge_m": float(h3.average_hexagon_edge_length(
                       int(cells.resolution), "m"))}
    else:
        pts = city.sensors.geometry
        arrays["spos"] = np.c_[pts.x.to_numpy(), pts.y.to_numpy()].astype(np.float32)
        labels = city.sensors["where"] if "where" in city.sensors else city.sensors["label"]
        header |= {"ids": [str(x) for x in city.sensors["sensor_id"]], "labels": [str(x) for x in labels]}
    return pack("base", header, arrays)


# -------------------------------------------------------------------------------------------- scenario


def _in_base_order(base: Payload, sensor_ids: list[str]) -> np.ndarray:
    """Indices into ``sensor_ids`` that put them in the base payload's sensor order."""
    where = {s: i for i, s in enumerate(sensor_ids)}
    return np.array([where[s] for s in base.header["ids"]], dtype=int)


def _q(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def scenario_payload(city: City, result: ScenarioResult, summary: Summary, base: Payload,
                     cell: str | None = None) -> Payload:
    """A result's quantiles for every hour (per sensor, or per h3 cell for a large city), its colour scales and
    legends. ``cell``: a selected h3 cell whose sensors are added one by one (``detail``)."""
    from explorer.render.aggregate import cell_range, cell_summary, sensor_cells

    value_name = city.manifest.series.value_name
    header: dict[str, Any] = {
        "base": base.key, "hours": [t.strftime("%a %H:%M") for t in result.times], "unit": result.unit,
        "value_name": value_name, "sign": float(summary.busier_sign), "palettes": PALETTES, "mode": base.header["mode"],
    }
    arrays: dict[str, np.ndarray] = {}
    if base.header["mode"] == "cells":
        cells = sensor_cells(city)
        how = city.manifest.series.aggregate
        cs = cell_summary(result, cells, how)
        src = cs
        for view, q in (("b", summary.baseline), ("s", summary.scenario)):
            lo_hi = [cell_range(q[1, h], cells) for h in range(len(result.times))]
            arrays[f"mn{view}"] = _q([x[0] for x in lo_hi])
            arrays[f"mx{view}"] = _q([x[1] for x in lo_hi])
        n = len(cells.ids)
        per_area = "sum over the area's sensors" if how == "sum" else "mean of the area's sensors"
        if cell is not None:
            idx = cells.sensors_in(cell)
            if len(idx):
                header["detail"] = _detail(city, result, summary, cell, idx, arrays)
    else:
        order = _in_base_order(base, result.sensor_ids)
        src = summary
        n = len(order)
        per_area = None
    for name, q in (("qb", src.baseline), ("qs", src.scenario), ("qd", src.difference)):
        q = q if base.header["mode"] == "cells" else q[:, :, order]
        arrays[name] = _q(q)
    vmin, vmax = src.value_range()
    lim = src.change_limit()
    header |= {"n": int(n), "scales": {"vmin": vmin, "vmax": vmax, "lim": lim},
               "legends": scenario_legends(result.unit, value_name, summary.busier_sign, lim, vmin, vmax, per_area)}
    return pack("scenario", header, arrays)


def _detail(city: City, result: ScenarioResult, summary: Summary, cell: str, idx: np.ndarray,
            arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The sensors of a selected cell, one by one: their quantiles go in ``arrays``; ids, labels, scales and the
    view that zooms onto the cell in the returned header part."""
    pts = city.sensors.geometry.iloc[idx]
    arrays["dpos"] = np.c_[pts.x.to_numpy(), pts.y.to_numpy()].astype(np.float32)
    for name, q in (("dqb", summary.baseline), ("dqs", summary.scenario), ("dqd", summary.difference)):
        arrays[name] = _q(q[:, :, idx])
    vmin, vmax = summary.value_range()
    lat, lon = h3.cell_to_latlng(cell)
    edge_m = h3.average_hexagon_edge_length(h3.get_resolution(cell), "m")
    zoom = float(np.clip(np.log2(330 / (edge_m * 8 / 111_000)), 3, 17))
    return {"cell": cell, "ids": [str(result.sensor_ids[i]) for i in idx],
            "labels": city.sensors["where"].iloc[idx].astype(str).tolist(),
            "scales": {"vmin": vmin, "vmax": vmax, "lim": summary.change_limit()},
            "view": {"latitude": round(lat, 5), "longitude": round(lon, 5), "zoom": round(zoom, 2)}}


# ------------------------------------------------------------------------------------------------ Home


def stat_payload(city: City, statistic: str, base: Payload) -> Payload:
    """Home's map: one statistic per sensor (or the mean of each h3 cell's sensors, with their range), its
    scale and legend."""
    from explorer.stats import SENSOR_STATISTICS, sensor_statistic

    values = sensor_statistic(city.series, statistic, city.manifest.series.higher_is_busier)
    share = statistic == "missing"
    fmt = "{:.1%}" if share else "{:,.1f}"
    label = SENSOR_STATISTICS[statistic]
    unit = "share of readings" if share else city.manifest.series.unit
    ids = [str(x) for x in city.sensors["sensor_id"]]
    v = values.reindex(city.sensors["sensor_id"]).to_numpy(dtype=float)
    vmin, vmax = float(np.nanmin(v)), float(np.nanmax(v))
    extra = [("rgb(11,92,173)", "Zones (neighbourhoods)")] if city.zones is not None else []
    arrays: dict[str, np.ndarray] = {}
    title = f"{city.manifest.series.value_name}: {label.lower()}"
    if base.header["mode"] == "cells":
        from explorer.render.aggregate import aggregate, cell_range, sensor_cells

        cells = sensor_cells(city)
        arrays["values"] = aggregate(v, cells, "mean").astype(np.float32)
        lo, hi = cell_range(v, cells)
        arrays["lo"], arrays["hi"] = lo.astype(np.float32), hi.astype(np.float32)
        if "rpos" in base.arrays:
            extra.append(("rgb(90,90,90)", "Roads"))
        title += f", each area the mean of its sensors ({len(v):,} sensors in {len(cells.ids):,} areas)"
    else:
        assert ids == base.header["ids"], "the base payload was built for another sensor table"
        arrays["values"] = v.astype(np.float32)
        graph = base.header["road_source"] == "graph" or city.roads is None
        extra.append(("rgb(90,90,90)", "Sensor graph links" if graph else "Roads"))
    header = {"base": base.key, "label": label, "share": share, "unit": unit, "palettes": PALETTES,
              "scales": {"vmin": vmin, "vmax": vmax},
              "legend": legend_spec(title, vmin, vmax, unit, VIRIDIS, fmt=fmt, extra=extra)}
    return pack("stat", header, arrays)
