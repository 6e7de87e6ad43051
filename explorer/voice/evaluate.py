"""Accuracy of the parser on the evaluation sets (``tests/voice/data/<slug>[.<set>].jsonl``).

Each line: ``{"text": ..., "today": "YYYY-MM-DD", "expect": {...}}``. ``expect`` holds either
``{"refusal": "<category>"}`` or any of: ``place``, ``unit``, ``magnitude``, ``day_of_week``, ``date``, ``holiday``,
``hour`` (the event's clock hour) and ``duration``; a field left out is not scored. Place kinds:

* ``label:<sensor label>``, ``sensor:<id>``, ``zone:<zone name>``;
* ``landmark:<name>``: the sensor nearest to that place of the city's ``places.csv`` (by name or alias);
* ``freeway:<number>`` / ``freeway:<number>@<zone name>``: a sensor within 150 m of a road of the road layer
  named with that number (and within 5 km of the zone's centroid);
* ``street:<Street Name>``: a sensor whose label names that street (the name followed by its road type, written
  out or abbreviated; 'Bourke Street' is not 'Lt Bourke St'), or whose nearest road in the road layer does.

Scores: field-level accuracy (every scored field of every line), exact-scenario accuracy (lines with every field
right), refusals (right refusal = refused as expected, with the category; refused for another reason; missed
refusal = answered a request that should be refused; wrong refusal = refused an answerable one) and flipped
directions (a request for less answered with more).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from explorer.geo import great_circle_km
from explorer.settings import REPO_ROOT
from explorer.voice.context import city_of
from explorer.voice.gazetteer import road_table
from explorer.voice.parser import ParseResult, parse, parse_offline
from explorer.voice.places import PLACES_FILE, norm, read_places

EVAL_DIR = REPO_ROOT / "tests" / "voice" / "data"
SETS = {"main": "{slug}.jsonl", "holdout": "{slug}.holdout.jsonl", "holdout2": "{slug}.holdout2.jsonl",
        "paraphrase": "{slug}.paraphrase.jsonl"}
SET_NOTES = {"main": "written alongside the parser", "holdout": "written blind after the parser",
             "holdout2": "written blind after fixing hold-out 1",
             "paraphrase": "frozen, written by an outsider before issue 19's parser changes"}
DOCS_START, DOCS_END = "<!-- voice-eval:start -->", "<!-- voice-eval:end -->"
Parser = Callable[[str, Any, dt.date], ParseResult]


@dataclass
class EvalReport:
    """Accuracy per field, exact scenarios, refusals and flipped directions, with the misses."""

    city: str
    n_requests: int
    name: str = ""
    correct: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)
    exact: int = 0
    refusals: Counter = field(default_factory=Counter)  # right, other_reason, missed, wrong
    expected_refusals: int = 0
    flipped: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)
    parsers: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        return sum(self.correct.values()) / max(sum(self.total.values()), 1)

    @property
    def exact_accuracy(self) -> float:
        return self.exact / max(self.n_requests, 1)

    @property
    def refused_share(self) -> float:
        """Share of the requests that should be refused which were refused (any reason; the reason is shown)."""
        return (self.refusals["right"] + self.refusals["other_reason"]) / max(self.expected_refusals, 1)

    def as_dict(self) -> dict[str, Any]:
        return {"city": self.city, "set": self.name, "requests": self.n_requests,
                "accuracy": round(self.accuracy, 4), "exact": self.exact,
                "exact_accuracy": round(self.exact_accuracy, 4),
                "fields": {k: {"correct": self.correct[k], "total": self.total[k],
                               "accuracy": round(self.correct[k] / self.total[k], 4)} for k in sorted(self.total)},
                "refusals": {"expected": self.expected_refusals, **{k: self.refusals[k] for k in
                                                                    ("right", "other_reason", "missed", "wrong")}},
                "flipped_directions": self.flipped, "parsers": dict(self.parsers),
                "ms_per_request": round(1000 * self.seconds / max(self.n_requests, 1), 2), "misses": self.misses}


def set_path(slug: str, name: str) -> Path:
    """The file of one named evaluation set of a city."""
    if name not in SETS:
        raise ValueError(f"unknown evaluation set {name!r}; choose one of {', '.join(SETS)}")
    return EVAL_DIR / SETS[name].format(slug=slug)


def load_set(slug: str, path: Path | None = None) -> list[dict[str, Any]]:
    """The evaluation lines of a city (the main set unless ``path``)."""
    p = path or set_path(slug, "main")
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]


class Reference:
    """What each expected place accepts, from the city's layers and places file (not from the parser)."""

    def __init__(self, city: Any) -> None:
        s = city.sensors
        self.ids = [str(x) for x in s["sensor_id"]]
        self.labels = dict(zip(self.ids, (str(x) for x in s["label"]), strict=True))
        self.lat, self.lon = s.geometry.y.to_numpy(float), s.geometry.x.to_numpy(float)
        self.zones: dict[str, tuple[str, float, float]] = {}
        if city.zones is not None:
            for zid, name, geom in zip(city.zones["zone_id"].astype(str), city.zones["name"].astype(str),
                                       city.zones.geometry, strict=True):
                self.zones[zid] = (name, float(geom.centroid.y), float(geom.centroid.x))
        named, self.routes = road_table(city)
        self.nearest_road: dict[str, str] = {}
        for name, among in named.items():
            for sid in among:
                self.nearest_road.setdefault(sid, name)
        self.places: dict[str, tuple[float, float]] = {}
        for row in read_places(Path(city.folder) / PLACES_FILE):
            for n in (row.name, *row.aliases):
                self.places.setdefault(norm(n), (row.lat, row.lon))

    def nearest(self, lat: float, lon: float) -> str:
        return self.ids[int(np.argmin(great_circle_km(lat, lon, self.lat, self.lon)))]

    def ok(self, want: str, got: str | None) -> bool:
        if got is None:
            return False
        kind, _, value = want.partition(":")
        gk, _, gid = got.partition(":")
        if kind == "label":
            return gk == "sensor" and self.labels.get(gid) == value
        if kind == "zone":
            return gk == "zone" and self.zones.get(gid, ("",))[0] == value
        if kind == "sensor":
            return got == want
        if kind == "landmark":
            if norm(value) not in self.places:
                raise ValueError(f"landmark {value!r} is not in the city's {PLACES_FILE}; add it with its lat/lon")
            return gk == "sensor" and gid == self.nearest(*self.places[norm(value)])
        if kind == "freeway":
            number, _, zone = value.partition("@")
            if gk != "sensor" or gid not in self.routes.get(number, []):
                return False
            if not zone:
                return True
            la, lo = next((z[1], z[2]) for z in self.zones.values() if z[0] == zone)
            i = self.ids.index(gid)
            return float(great_circle_km(la, lo, [self.lat[i]], [self.lon[i]])[0]) <= 5.0
        if kind == "street":
            if gk != "sensor":
                return False
            name = norm(value)
            pat = rf"(?<!\blt )\b{re.escape(name)}\b"
            return bool(re.search(pat, norm(self.labels.get(gid, ""))) or
                        re.search(pat, norm(self.nearest_road.get(gid, ""))))
        raise ValueError(f"unknown place kind in the evaluation set: {want!r}")


@lru_cache(maxsize=8)
def reference(slug: str) -> Reference:
    return Reference(city_of(slug))


def score(expect: dict[str, Any], res: ParseResult, ref: Reference) -> dict[str, bool]:
    """Per-field correctness of one parse."""
    got = res.summary()
    out = {"refusal": got.get("refusal") == expect.get("refusal")}
    if expect.get("refusal"):
        return out
    for k, v in expect.items():
        if k == "refusal":
            continue
        if res.scenario is None:
            out[k] = False
        elif k == "place":
            out[k] = ref.ok(v, got.get("place"))
        elif k == "magnitude":
            out[k] = got.get(k) is not None and abs(float(got[k]) - float(v)) <= 0.5
        else:
            out[k] = got.get(k) == v
    return out


def evaluate(slug: str, *, path: Path | None = None, name: str = "", llm: bool = False,
             parser: Parser | None = None) -> EvalReport:
    """Run the parser (offline unless ``llm``; or any ``parser(text, slug, today)``) over an evaluation set."""
    import time

    path = path or set_path(slug, name or "main")
    rows = load_set(slug, path)
    ref = reference(slug)
    rep = EvalReport(city=slug, n_requests=len(rows), name=name or path.name)
    for row in rows:
        today = dt.date.fromisoformat(row.get("today", "2026-11-30"))
        t0 = time.perf_counter()
        if parser is not None:
            res = parser(row["text"], slug, today)
        else:
            res = parse(row["text"], slug, today) if llm else parse_offline(row["text"], slug, today)
        rep.seconds += time.perf_counter() - t0
        rep.parsers[res.parser] += 1
        fields = score(row["expect"], res, ref)
        for k, ok in fields.items():
            rep.total[k] += 1
            rep.correct[k] += int(ok)
        rep.exact += int(all(fields.values()))
        want_refusal = row["expect"].get("refusal")
        if want_refusal:
            rep.expected_refusals += 1
            if res.refusal == want_refusal:
                rep.refusals["right"] += 1
            elif res.refusal:
                rep.refusals["other_reason"] += 1
            else:
                rep.refusals["missed"] += 1
                rep.flipped += int(want_refusal == "decrease")
        elif res.refusal:
            rep.refusals["wrong"] += 1
        if not all(fields.values()):
            rep.misses.append({"text": row["text"], "wrong": [k for k, ok in fields.items() if not ok],
                               "expect": row["expect"], "got": res.summary(), "reason": res.reason})
    return rep


def evaluate_all(slug: str, *, llm: bool = False, parser: Parser | None = None) -> list[EvalReport]:
    """Every evaluation set of a city that exists."""
    return [evaluate(slug, path=set_path(slug, n), name=n, llm=llm, parser=parser)
            for n in SETS if set_path(slug, n).is_file()]


def table_rows(reports: list[EvalReport]) -> list[str]:
    """Markdown rows: set, requests, field accuracy, exact, refusals, flipped."""
    out = []
    for r in reports:
        rf = r.refusals
        out.append(f"| {r.city} | {r.name} | {r.n_requests} | {100 * r.accuracy:.1f} % | "
                   f"{100 * r.exact_accuracy:.1f} % ({r.exact}) | {rf['right']} + {rf['other_reason']} of "
                   f"{r.expected_refusals} ({100 * r.refused_share:.0f} %) | {rf['missed']} | {rf['wrong']} | "
                   f"{r.flipped} |")
    return out


TABLE_HEAD = ["| city | set | requests | field accuracy | exact scenarios | refused (right + other reason) | "
              "missed refusals | wrong refusals | flipped directions |",
              "|---|---|---|---|---|---|---|---|---|"]


def docs_table(slugs: list[str], *, llm: bool = False) -> str:
    """The measured table for docs/voice.md (recomputed: `explorer voice table --write`)."""
    rows = [row for s in slugs for row in table_rows(evaluate_all(s, llm=llm))]
    when = dt.date.today().isoformat()
    return "\n".join([f"Measured {when} by `explorer voice table --write` (offline parser{', LLM first' if llm else ''}"
                      "; reference date in each line).", "", *TABLE_HEAD, *rows])


def write_docs(doc: Path, table: str) -> None:
    """Replace the text between the voice-eval markers of ``doc`` (atomic write)."""
    from explorer.io import atomic_write_text

    text = doc.read_text()
    if DOCS_START not in text or DOCS_END not in text:
        raise ValueError(f"{doc} has no {DOCS_START} ... {DOCS_END} markers to put the table between")
    head, rest = text.split(DOCS_START, 1)
    _, tail = rest.split(DOCS_END, 1)
    atomic_write_text(doc, f"{head}{DOCS_START}\n{table}\n{DOCS_END}{tail}")
