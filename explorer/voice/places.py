"""A gazetteer per city: the names people use for places, resolved against the city's own layers.

Sources: sensor labels (Melbourne counters), zone names (Los Angeles neighbourhoods), freeway names and
numbers from the road layer (which sensors lie on which freeway), and a few well-known landmarks given by
their coordinates and snapped to the nearest sensor. Matching is fuzzy (rapidfuzz) over token windows,
so 'Flinder St staion' still finds 'Flinders Street Station Underpass'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from explorer.scenarios.schema import MAX_SNAP_KM

# Words folded before matching names (street -> st ...).
FOLD = {"street": "st", "str": "st", "lane": "la", "little": "lt", "road": "rd", "freeway": "fwy", "frwy": "fwy",
        "fw": "fwy", "highway": "hwy", "centre": "center", "center": "center", "stn": "station", "mt": "mount",
        "ave": "avenue", "av": "avenue"}
SKIP_ZONES = {"south", "central", "vineyard", "somerset", "grandview", "moorpark", "mariposa", "glenwood",
              "oakmont", "woodbury", "tropico", "north central", "west central", "city center",
              "greenbriar", "brockmont", "emerald isle"}

# Named freeways of Los Angeles County and their numbers (as signed), for text like 'the Ventura freeway'.
FREEWAY_NAMES: dict[str, tuple[str, ...]] = {
    "golden state": ("5",), "santa ana": ("5", "101"), "santa monica": ("10",), "san bernardino": ("10",),
    "foothill": ("210",), "marina": ("90",), "ventura": ("101", "134"), "hollywood": ("101", "170"),
    "harbor": ("110",), "pasadena": ("110",), "arroyo seco": ("110",), "san diego": ("405",),
    "long beach": ("710",), "orange": ("57",), "corona": ("71",), "glendale": ("2",), "ronald reagan": ("118",),
    "pomona": ("60",), "artesia": ("91",), "century": ("105",), "antelope valley": ("14",),
    "san gabriel river": ("605",), "simi valley": ("118",),
}

# Landmarks: (lat, lon); snapped to the nearest sensor, refused when none lies within MAX_SNAP_KM.
LANDMARKS: dict[str, dict[str, tuple[float, float]]] = {
    "melbourne": {
        "federation square": (-37.8180, 144.9691), "fed square": (-37.8180, 144.9691),
        "fed sq": (-37.8180, 144.9691), "mcg": (-37.8200, 144.9834),
        "melbourne cricket ground": (-37.8200, 144.9834), "marvel stadium": (-37.8165, 144.9475),
        "etihad stadium": (-37.8165, 144.9475), "docklands stadium": (-37.8165, 144.9475),
        "the stadium": (-37.8165, 144.9475), "rod laver arena": (-37.8216, 144.9785),
        "aami park": (-37.8251, 144.9836), "melbourne park": (-37.8216, 144.9785),
        "crown casino": (-37.8232, 144.9583), "queen victoria market": (-37.8076, 144.9568),
        "queen vic market": (-37.8076, 144.9568), "vic market": (-37.8076, 144.9568),
        "melbourne uni": (-37.7982, 144.9610), "university of melbourne": (-37.7982, 144.9610),
        "docklands": (-37.8145, 144.9460), "southbank": (-37.8230, 144.9650),
        "parliament": (-37.8110, 144.9737), "carlton": (-37.8001, 144.9671),
        "ngv": (-37.8226, 144.9689), "national gallery": (-37.8226, 144.9689),
        "eureka tower": (-37.8214, 144.9644), "botanic gardens": (-37.8304, 144.9796),
        "shrine of remembrance": (-37.8305, 144.9734), "st pauls cathedral": (-37.8170, 144.9677),
    },
    "los-angeles": {
        "dodger stadium": (34.0739, -118.2400), "the stadium": (34.0739, -118.2400),
        "dodgers": (34.0739, -118.2400), "staples center": (34.0430, -118.2673),
        "crypto com arena": (34.0430, -118.2673), "la live": (34.0430, -118.2673),
        "union station": (34.0562, -118.2365), "hollywood bowl": (34.1122, -118.3391),
        "universal studios": (34.1381, -118.3534), "universal city": (34.1381, -118.3534),
        "griffith observatory": (34.1184, -118.3004), "griffith park": (34.1366, -118.2942),
        "ucla": (34.0689, -118.4452), "usc": (34.0224, -118.2851), "coliseum": (34.0141, -118.2879),
        "getty center": (34.0780, -118.4741), "rose bowl": (34.1613, -118.1676),
        "lax": (33.9416, -118.4085), "airport": (33.9416, -118.4085), "santa monica pier": (34.0100, -118.4960),
        "burbank airport": (34.2007, -118.3585), "walt disney concert hall": (34.0553, -118.2498),
        "the forum": (33.9583, -118.3419), "sofi stadium": (33.9535, -118.3392),
        "hollywood walk of fame": (34.1016, -118.3267), "sepulveda pass": (34.1100, -118.4700),
        "cahuenga pass": (34.1270, -118.3440), "the valley": (34.1800, -118.4500),
    },
}


def norm(text: str, fold: bool = True) -> str:
    """Lower case, apostrophes dropped, punctuation to spaces, common words folded (street -> st)."""
    t = text.lower().replace("’", "'").replace("'", "").replace("&", " and ")
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)  # 50,000 -> 50000
    t = re.sub(r"[^a-z0-9%:./-]+|(?<!\d)[.:/-]|[.:/-](?!\d)", " ", t)
    return " ".join(FOLD.get(w, w) if fold else w for w in t.split())


@dataclass(frozen=True)
class Hit:
    """A place found in the text: kind 'sensor' | 'zone' | 'freeway' | 'landmark'."""

    kind: str
    key: str  # sensor id, zone id, freeway number or landmark name
    label: str
    score: float
    span: tuple[int, int]  # token span in the normalised text


@dataclass
class Gazetteer:
    """Aliases of a city's places and the geometry needed to turn them into scenario places."""

    slug: str
    name: str
    sensor_ids: list[str]
    sensor_labels: dict[str, str]
    lat: np.ndarray
    lon: np.ndarray
    aliases: list[tuple[str, str, str, str]] = field(default_factory=list)  # (alias, kind, key, label)
    zone_centroids: dict[str, tuple[float, float]] = field(default_factory=dict)
    zone_sensors: dict[str, list[str]] = field(default_factory=dict)
    zone_names: dict[str, str] = field(default_factory=dict)
    freeway_sensors: dict[str, list[str]] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)  # sensor id -> readable description for messages

    def show(self, sid: str) -> str:
        """How to name a sensor to a person (its 'where' description when the city has one)."""
        return self.shown.get(sid) or self.sensor_labels.get(sid, f"sensor {sid}")

    def nearest_sensor(self, lat: float, lon: float, among: list[str] | None = None) -> tuple[str, float]:
        """The nearest sensor (optionally among some ids) and its distance in km."""
        idx = np.arange(len(self.sensor_ids)) if among is None else np.array(
            [self.sensor_ids.index(s) for s in among])
        d = haversine(lat, lon, self.lat[idx], self.lon[idx])
        j = int(np.argmin(d))
        return self.sensor_ids[int(idx[j])], float(d[j])

    def find(self, text: str, threshold: float = 86.0) -> list[Hit]:
        """Places named in ``text`` (already normalised), best first, non-overlapping."""
        toks = text.split()
        hits: list[Hit] = []
        for alias, kind, key, label in self.aliases:
            a_toks = alias.split()
            n = len(a_toks)
            short = len(alias) <= 5
            for size in {n, n + 1, max(n - 1, 1)}:
                for i in range(0, max(len(toks) - size + 1, 0)):
                    window = " ".join(toks[i:i + size])
                    if short:
                        score = 100.0 if window == alias else 0.0
                    else:
                        score = fuzz.ratio(alias, window)
                    if score >= threshold:
                        hits.append(Hit(kind, key, label, score + 4.0 * (n - 1) + 5.0 * min(len(alias), 30) / 30,
                                        (i, i + size)))
        hits.sort(key=lambda h: (-h.score, -(h.span[1] - h.span[0])))
        chosen: list[Hit] = []
        for h in hits:
            if all(h.span[1] <= c.span[0] or h.span[0] >= c.span[1] for c in chosen):
                chosen.append(h)
        return chosen


def haversine(lat: float, lon: float, lats: Any, lons: Any) -> np.ndarray:
    """Great-circle distance in km from one point to many."""
    p1, p2 = np.radians(lat), np.radians(np.asarray(lats, float))
    dp, dl = p2 - p1, np.radians(np.asarray(lons, float) - lon)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 6371.0 * 2 * np.arcsin(np.sqrt(a))


def _label_aliases(label: str) -> list[str]:
    """'Flinders St-Elizabeth St (East)' -> 'flinders st elizabeth st east', 'flinders and elizabeth' ..."""
    base = re.sub(r"\(.*?\)", "", label).strip()
    out = {norm(label), norm(base)}
    if "-" in base:
        parts = [norm(p) for p in base.split("-")]
        bare = [re.sub(r"\b(st|rd|la)$", "", p).strip() for p in parts]
        out |= {" ".join(parts), " and ".join(parts), " and ".join(bare), " ".join(reversed(parts)),
                " and ".join(reversed(bare)), " and ".join(reversed(parts))}
    nb = norm(base)
    for suffix in (" underpass", " station", " center"):
        if nb.endswith(suffix) and len(nb) > len(suffix) + 4:
            out.add(nb[: -len(suffix)])
    if nb.startswith("the "):
        out.add(nb[4:])
    return sorted(a for a in out if a)


EXTRA_ALIASES: dict[str, dict[str, list[str]]] = {
    "melbourne": {
        "Flinders Street Station Underpass": ["flinders st station", "flinders station", "flinders st stn"],
        "Southern Cross Station": ["spencer st station", "southern cross"],
        "Melbourne Convention Exhibition Centre": ["convention center", "exhibition center", "mcec",
                                                   "convention and exhibition center"],
        "Bourke Street Mall (North)": ["bourke st mall", "the mall"],
        "Chinatown-Swanston St (North)": ["chinatown"],
        "QV Market-Peel St": ["qv market", "qv"],
        "Town Hall (West)": ["town hall", "melbourne town hall"],
        "St Kilda Rd-Alexandra Gardens": ["alexandra gardens", "st kilda rd"],
        "Lygon St (West)": ["lygon st"],
        "Collins Place (North)": ["collins place"],
        "Lonsdale St (South)": ["lonsdale st"],
        "Queen St (West)": ["queen st"],
        "Melbourne Central": ["melb central"],
    },
    "los-angeles": {
        "Downtown": ["downtown la", "downtown los angeles", "dtla", "central la"],
        "Civic Center-Little Tokyo": ["little tokyo", "civic center"],
        "Wholesale District-Skid Row": ["skid row"],
        "Mid City": ["midcity", "mid city"],
    },
}


def build(city: Any) -> Gazetteer:
    """Build the gazetteer of a City (sensors, zones, roads)."""
    sensors = city.sensors
    ids = [str(s) for s in sensors["sensor_id"]]
    labels = dict(zip(ids, (str(x) for x in sensors["label"]), strict=True))
    g = Gazetteer(slug=city.slug, name=city.name, sensor_ids=ids, sensor_labels=labels,
                  lat=sensors.geometry.y.to_numpy(float), lon=sensors.geometry.x.to_numpy(float))
    if "where" in sensors:
        g.shown = {sid: f"{w} (sensor {sid})" if re.fullmatch(r"Sensor \d+", labels[sid]) else w
                   for sid, w in zip(ids, sensors["where"].astype(str), strict=True)}
    extra = EXTRA_ALIASES.get(city.slug, {})
    by_label = {v: k for k, v in reversed(labels.items())}
    for label, names in extra.items():  # hand-made aliases first: they win ties ('collins place' -> North)
        if label in by_label:
            g.aliases += [(norm(x), "sensor", by_label[label], label) for x in names]
    for sid, label in labels.items():
        if re.fullmatch(r"Sensor \d+", label):
            g.aliases.append((f"sensor {sid}", "sensor", sid, label))
            continue
        for a in _label_aliases(label):
            g.aliases.append((a, "sensor", sid, label))
    if city.zones is not None:
        import geopandas as gpd

        pts = gpd.GeoSeries(gpd.points_from_xy(g.lon, g.lat), crs=4326)
        for zid, zname, geom in zip(city.zones["zone_id"].astype(str), city.zones["name"].astype(str),
                                    city.zones.geometry, strict=True):
            c = geom.centroid
            g.zone_centroids[zid] = (float(c.y), float(c.x))
            g.zone_names[zid] = zname
            g.zone_sensors[zid] = [s for s, inside in zip(ids, pts.within(geom), strict=True) if inside]
            if norm(zname) in SKIP_ZONES:
                continue
            for a in {norm(zname), *[norm(x) for x in extra.get(zname, [])]}:
                g.aliases.append((a, "zone", zid, zname))
    if city.roads is not None and "name" in city.roads:
        g.freeway_sensors = _freeway_sensors(city, ids)
        for number in g.freeway_sensors:
            label = f"the {number} freeway"
            for a in (f"the {number}", f"i {number}", f"i{number}", f"interstate {number}", f"route {number}",
                      f"sr {number}", f"sr{number}", f"us {number}", f"hwy {number}", f"{number} fwy",
                      *([number] if len(number) == 3 else []),  # a bare '405'; '5' or '10' alone is too vague
                      f"the {number} fwy", f"state route {number}", f"us hwy {number}", f"ca {number}"):
                g.aliases.append((a, "freeway", number, label))
        for fname, numbers in FREEWAY_NAMES.items():
            for number in numbers[:1]:
                if number in g.freeway_sensors:
                    g.aliases.append((f"{fname} fwy", "freeway", number, f"the {fname.title()} Freeway"))
    canonical: dict[tuple[float, float], str] = {}
    for name, coords in LANDMARKS.get(city.slug, {}).items():
        first = canonical.setdefault(coords, name)  # 'the stadium' is shown as 'Dodger Stadium'
        shown = first.upper() if len(first) <= 4 else first.title().replace("Ngv", "NGV")
        g.aliases.append((norm(name), "landmark", name, shown))
    return g


def _freeway_sensors(city: Any, ids: list[str]) -> dict[str, list[str]]:
    """Freeway number -> sensors within 150 m of a named segment of that freeway."""
    roads = city.roads[city.roads["name"].astype(str) != ""]
    if roads.empty:
        return {}
    crs = city.sensors.estimate_utm_crs()
    r = roads.to_crs(crs)
    s = city.sensors.to_crs(crs)
    numbers: list[tuple[str, ...]] = []
    for name in r["name"].astype(str):
        m = re.search(r"(\d+)$", name)
        if m:
            numbers.append((m.group(1),))
        else:
            key = norm(name).replace(" fwy", "").replace(" pkwy", "")
            numbers.append(FREEWAY_NAMES.get(key, ()))
    out: dict[str, list[str]] = {}
    for sid, p in zip(ids, s.geometry, strict=True):
        d = r.distance(p).to_numpy()
        for j in np.flatnonzero(d <= 150.0):
            for n in numbers[j]:
                out.setdefault(n, [])
                if sid not in out[n]:
                    out[n].append(sid)
    return out


def landmark_sensor(g: Gazetteer, name: str) -> tuple[str | None, float]:
    """Nearest sensor to a landmark (None when farther than the schema's snapping limit)."""
    la, lo = LANDMARKS[g.slug][name]
    sid, d = g.nearest_sensor(la, lo)
    return (sid if d <= MAX_SNAP_KM else None), d
