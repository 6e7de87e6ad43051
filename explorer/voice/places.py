"""A gazetteer per city: the names people use for places, resolved against the city's own layers.

Everything comes from the city folder, nothing from code:

* **sensors**: their labels ('Flinders St-Elizabeth St (East)' is also 'Flinders and Elizabeth');
* **streets** parsed out of the labels ('Chinatown-Swanston St (North)' stands on Swanston Street), each with the
  sensors whose label names it;
* **zones** by name (neighbourhoods), with the sensors inside them;
* **roads** of the road layer by name, with the sensors within 150 m of them. A road named with a number
  ('Interstate 405') is also 'the 405', 'I-405', 'I405' (route 405: the sensors along every road numbered 405);
* the optional ``places.csv`` (columns ``name, lat, lon, aliases``; aliases separated by ``|``): landmarks snapped
  to the nearest sensor (refused when none lies within the schema's snapping limit). A row named like a sensor
  label or a zone adds its aliases to that sensor or zone instead.

Matching is fuzzy (rapidfuzz) over token windows, so 'Flinder St staion' still finds the station. The gazetteer
of a city is built by :func:`explorer.voice.gazetteer.build`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError, field_validator
from rapidfuzz import fuzz

from explorer.geo import great_circle_km
from explorer.scenarios.schema import MAX_SNAP_KM

PLACES_FILE = "places.csv"
MAX_PLACES = 5000
ROAD_REACH_M = 150.0  # a sensor 'on' a road lies within this distance of it

# Words folded before matching names (street -> st ...): English abbreviations, no place names.
FOLD = {"street": "st", "str": "st", "lane": "la", "little": "lt", "road": "rd", "freeway": "fwy", "frwy": "fwy",
        "fw": "fwy", "highway": "hwy", "hway": "hwy", "parkway": "pkwy", "centre": "center", "stn": "station",
        "mt": "mount", "sq": "square", "ave": "avenue", "av": "avenue", "boulevard": "blvd", "parade": "pde",
        "drive": "dr", "interstate": "interstate", "expressway": "fwy"}
STREET_TYPES = ("st", "rd", "la", "avenue", "blvd", "pde", "dr", "hwy", "fwy", "pkwy", "way", "tce")
SHOWN_TYPES = {"st": "Street", "rd": "Road", "la": "Lane", "avenue": "Avenue", "blvd": "Boulevard",
               "pde": "Parade", "dr": "Drive", "hwy": "Highway", "fwy": "Freeway", "pkwy": "Parkway",
               "way": "Way", "tce": "Terrace", "lt": "Little"}
BARE_BEFORE = {"on", "along", "down", "up", "onto", "into", "in", "off", "from", "corner"}
GENERIC = {"north", "south", "east", "west", "central", "city", "center", "the", "upper", "lower", "new", "old"}


def norm(text: str, fold: bool = True) -> str:
    """Lower case, apostrophes dropped, punctuation to spaces, common words folded (street -> st)."""
    t = text.lower().replace("’", "'").replace("'", "").replace("&", " and ")
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)  # 50,000 -> 50000
    t = re.sub(r"[^a-z0-9%:./-]+|(?<!\d)[.:/-]|[.:/-](?!\d)", " ", t)
    return " ".join(FOLD.get(w, w) if fold else w for w in t.split())


class PlaceRow(BaseModel):
    """One row of ``places.csv``."""

    name: str = Field(min_length=2, max_length=120)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    aliases: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("aliases", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if v is None:
            return []
        if isinstance(v, str):
            return [a.strip() for a in v.split("|") if a.strip()]
        return v


class PlacesFileError(ValueError):
    """A places file that cannot be read: the message names the file, the row and the fix."""


def read_places(path: Path | str | None = None, *, text: str | None = None, shown: str = PLACES_FILE
                ) -> list[PlaceRow]:
    """Rows of a places file (``name,lat,lon,aliases``); raises PlacesFileError naming the row and the fix."""
    if text is None:
        if path is None or not Path(path).is_file():
            return []
        text = Path(path).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    need = {"name", "lat", "lon"}
    if not reader.fieldnames or not need <= {f.strip().lower() for f in reader.fieldnames}:
        raise PlacesFileError(f"{shown}: the header must have the columns name, lat, lon (and optionally aliases); "
                              f"found {reader.fieldnames}")
    rows: list[PlaceRow] = []
    for i, raw in enumerate(reader, start=2):
        rec = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        try:
            rows.append(PlaceRow.model_validate({"name": rec.get("name"), "lat": rec.get("lat"),
                                                 "lon": rec.get("lon"), "aliases": rec.get("aliases")}))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise PlacesFileError(f"{shown}, line {i}: {'/'.join(map(str, err['loc']))}: {err['msg']} "
                                  "(each row is name, latitude, longitude in degrees, aliases separated by '|')"
                                  ) from None
        if len(rows) > MAX_PLACES:
            raise PlacesFileError(f"{shown}: more than {MAX_PLACES} places; keep the ones people will name")
    return rows


@dataclass(frozen=True)
class Hit:
    """A place found in the text."""

    kind: str  # 'sensor' | 'street' | 'zone' | 'road' | 'landmark'
    key: str  # sensor id, street name, zone id, road name or landmark name
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
    road_sensors: dict[str, list[str]] = field(default_factory=dict)  # road name or route number -> sensors
    road_labels: dict[str, str] = field(default_factory=dict)
    road_core: dict[str, list[str]] = field(default_factory=dict)  # named road -> sensors on its main route
    street_sensors: dict[str, list[str]] = field(default_factory=dict)  # 'swanston st' -> sensors
    street_labels: dict[str, str] = field(default_factory=dict)  # 'swanston st' -> 'Swanston Street'
    landmarks: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (lat, lon)
    busy: dict[str, float] = field(default_factory=dict)  # sensor id -> typical level (to pick a counter)
    shown: dict[str, str] = field(default_factory=dict)  # sensor id -> readable description for messages
    index: dict[str, int] = field(default_factory=dict)
    given: set[tuple[str, str]] = field(default_factory=set)  # (alias, key) given by the places file
    bare: dict[str, str] = field(default_factory=dict)  # 'swanston' -> 'swanston st' (after 'on', 'along' ...)

    @property
    def freeway_sensors(self) -> dict[str, list[str]]:
        """Route number -> sensors on it (along the roads named with that number)."""
        return {k: v for k, v in self.road_sensors.items() if k.isdigit()}

    def show(self, sid: str) -> str:
        """How to name a sensor to a person (its 'where' description when the city has one)."""
        return self.shown.get(sid) or self.sensor_labels.get(sid, f"sensor {sid}")

    def point(self, sid: str) -> tuple[float, float]:
        i = self.index[sid]
        return float(self.lat[i]), float(self.lon[i])

    def nearest_sensor(self, lat: float, lon: float, among: list[str] | None = None) -> tuple[str, float]:
        """The nearest sensor (optionally among some ids) and its distance in km."""
        idx = np.arange(len(self.sensor_ids)) if among is None else np.array([self.index[s] for s in among])
        d = great_circle_km(lat, lon, self.lat[idx], self.lon[idx])
        j = int(np.argmin(d))
        return self.sensor_ids[int(idx[j])], float(d[j])

    def find(self, text: str, threshold: float = 86.0) -> list[Hit]:
        """Places named in ``text`` (already normalised), best first, non-overlapping."""
        toks = text.split()
        windows: dict[int, list[tuple[int, str, set[str]]]] = {}
        for size in range(1, max((len(a[0].split()) for a in self.aliases), default=1) + 2):
            windows[size] = [(i, w, set(re.findall(r"\d+", w))) for i in range(0, max(len(toks) - size + 1, 0))
                             for w in (" ".join(toks[i:i + size]),)]
        hits: list[Hit] = []
        for alias, kind, key, label in self.aliases:
            n = alias.count(" ") + 1
            short = len(alias) <= 5
            if short and alias not in text:
                continue
            nums = set(re.findall(r"\d+", alias)) if any(c.isdigit() for c in alias) else set()
            if nums and not nums <= set(toks):
                continue
            for size in {n, n + 1, max(n - 1, 1)}:
                for i, window, wnums in windows.get(size, []):
                    if short:
                        score = 100.0 if window == alias else 0.0
                    elif abs(len(window) - len(alias)) > 0.3 * len(alias) + 2:
                        continue
                    elif nums and not nums <= wnums:
                        continue  # 'the fwy' is not 'the 2 fwy'
                    else:
                        score = fuzz.ratio(alias, window, score_cutoff=threshold)
                    if score >= threshold:
                        # a street wins a tie with its counter; an alias from the places file wins a tie
                        bonus = {"street": 0.5, "road": 0.5}.get(kind, 0.0) + 0.25 * ((alias, key) in self.given)
                        hits.append(Hit(kind, key, label,
                                        score + 4.0 * (n - 1) + 5.0 * min(len(alias), 30) / 30 + bonus,
                                        (i, i + size)))
        hits += self._bare_streets(toks)
        hits.sort(key=lambda h: (-h.score, -(h.span[1] - h.span[0]), h.kind, h.key))
        chosen: list[Hit] = []
        for h in hits:
            if all(h.span[1] <= c.span[0] or h.span[0] >= c.span[1] for c in chosen):
                chosen.append(h)
        return chosen

    def _bare_streets(self, toks: list[str]) -> list[Hit]:
        """Streets named without their type after 'on', 'along' ... ('trams on Swanston')."""
        hits = []
        for bare, st in self.bare.items():
            n = len(bare.split())
            for i in range(1, len(toks) - n + 1):
                if " ".join(toks[i:i + n]) == bare and toks[i - 1] in BARE_BEFORE and (
                        i + n >= len(toks) or toks[i + n] not in STREET_TYPES):
                    hits.append(Hit("street", st, self.street_labels[st], 96.0 + 4.0 * (n - 1), (i, i + n)))
        return hits

    def rivals(self, text: str, best: Hit, margin: float = 2.5) -> list[Hit]:
        """Other places matching the same words almost as well as ``best`` (for 'did you mean')."""
        toks = text.split()
        window = " ".join(toks[best.span[0]:best.span[1]])
        out: dict[tuple[str, str], Hit] = {}
        for alias, kind, key, label in self.aliases:
            if (kind, key) == (best.kind, best.key):
                continue
            score = 100.0 if window == alias else (fuzz.ratio(alias, window) if len(alias) > 5 else 0.0)
            n = len(alias.split())
            score += 4.0 * (n - 1) + 5.0 * min(len(alias), 30) / 30
            if score >= best.score - margin and (kind, key) not in out:
                out[(kind, key)] = Hit(kind, key, label, score, best.span)
        return list(out.values())

    def landmark_sensor(self, name: str) -> tuple[str | None, float]:
        """Nearest sensor to a landmark (None when farther than the schema's snapping limit)."""
        la, lo = self.landmarks[name]
        sid, d = self.nearest_sensor(la, lo)
        return (sid if d <= MAX_SNAP_KM else None), d


def label_streets(label: str) -> list[str]:
    """Streets a sensor label names, normalised: 'Chinatown-Lt Bourke St (South)' -> ['lt bourke st']."""
    base = re.sub(r"\(.*?\)", "", label)
    out = []
    for seg in base.split("-"):
        toks = norm(seg).split()
        for j in range(1, len(toks)):
            if toks[j] in STREET_TYPES:
                out.append(" ".join(toks[: j + 1]))
                break
    return out


def street_label(street: str) -> str:
    """'lt bourke st' -> 'Little Bourke Street', 'st kilda rd' -> 'St Kilda Road'."""
    toks = street.split()
    return " ".join(SHOWN_TYPES.get(w, w.title()) if i == len(toks) - 1 or w == "lt" else w.title()
                    for i, w in enumerate(toks))


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


def route_aliases(name: str) -> tuple[str, list[str]] | None:
    """(number, aliases) of a road named with a number: 'Interstate 405' -> ('405', ['the 405', 'i 405', ...])."""
    m = re.fullmatch(r"(.*?)\s*(\d{1,4})", norm(name))
    if not m or not m.group(1):
        return None
    words, n = m.group(1).split(), m.group(2)
    initials = "".join(w[0] for w in words)
    out = {f"{' '.join(words)} {n}", f"{words[0]} {n}", f"{initials} {n}", f"{initials}{n}", f"the {n}",
           f"{n} fwy", f"the {n} fwy", f"route {n}", f"hwy {n}", f"the {words[-1]} {n}"}
    if len(n) >= 3:
        out.add(n)  # a bare '405'; '5' or '10' alone is too vague
    return n, sorted(out)


def landmark_sensor(g: Gazetteer, name: str) -> tuple[str | None, float]:
    """Nearest sensor to a landmark of the gazetteer (None when farther than the snapping limit)."""
    return g.landmark_sensor(name)
