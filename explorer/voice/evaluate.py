"""Field-level accuracy of the parser on an evaluation set (``tests/voice/data/<slug>.jsonl``).

Each line: ``{"text": ..., "today": "YYYY-MM-DD", "expect": {...}}``. ``expect`` holds either
``{"refusal": "<category>"}`` or any of: ``place`` ('label:<sensor label>', 'zone:<zone name>',
'sensor:<id>', 'landmark:<name>' (its nearest sensor), 'freeway:<number>' or 'freeway:<number>@<zone name>'
(a sensor on that freeway, within 5 km of the zone)), ``unit``, ``magnitude``, ``day_of_week``, ``date``,
``holiday``, ``hour`` (the event's clock hour) and ``duration``. Every line also scores ``refusal``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.settings import REPO_ROOT
from explorer.voice.parser import ParseResult, gazetteer, parse, parse_offline
from explorer.voice.places import LANDMARKS, Gazetteer, haversine, landmark_sensor

EVAL_DIR = REPO_ROOT / "tests" / "voice" / "data"


@dataclass
class EvalReport:
    """Accuracy per field and overall, with the misses."""

    city: str
    n_requests: int
    correct: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)
    misses: list[dict[str, Any]] = field(default_factory=list)
    parsers: Counter = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return sum(self.correct.values()) / max(sum(self.total.values()), 1)

    def as_dict(self) -> dict[str, Any]:
        return {"city": self.city, "requests": self.n_requests, "accuracy": round(self.accuracy, 4),
                "fields": {k: {"correct": self.correct[k], "total": self.total[k],
                               "accuracy": round(self.correct[k] / self.total[k], 4)} for k in sorted(self.total)},
                "parsers": dict(self.parsers), "misses": self.misses}


def load_set(slug: str, path: Path | None = None) -> list[dict[str, Any]]:
    """The evaluation lines of a city."""
    p = path or EVAL_DIR / f"{slug}.jsonl"
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]


def _place_ok(want: str, got: str | None, g: Gazetteer) -> bool:
    if got is None:
        return False
    kind, _, value = want.partition(":")
    gk, _, gid = got.partition(":")
    if kind == "label":
        return gk == "sensor" and g.sensor_labels.get(gid) == value
    if kind == "zone":
        return gk == "zone" and g.zone_names.get(gid) == value
    if kind == "sensor":
        return got == want
    if kind == "landmark":
        sid, _ = landmark_sensor(g, value)
        return gk == "sensor" and gid == sid
    if kind == "freeway":
        number, _, zone = value.partition("@")
        if gk != "sensor" or gid not in g.freeway_sensors.get(number, []):
            return False
        if not zone:
            return True
        zid = next(z for z, n in g.zone_names.items() if n == zone)
        la, lo = g.zone_centroids[zid]
        i = g.sensor_ids.index(gid)
        return float(haversine(la, lo, [g.lat[i]], [g.lon[i]])[0]) <= 5.0
    raise ValueError(f"unknown place kind in the evaluation set: {want!r}")


def score(expect: dict[str, Any], res: ParseResult, g: Gazetteer) -> dict[str, bool]:
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
            out[k] = _place_ok(v, got.get("place"), g)
        elif k == "magnitude":
            out[k] = got.get(k) is not None and abs(float(got[k]) - float(v)) <= 0.5
        else:
            out[k] = got.get(k) == v
    return out


def evaluate(slug: str, *, path: Path | None = None, llm: bool = False) -> EvalReport:
    """Run the parser (offline unless ``llm``) over the city's evaluation set."""
    rows = load_set(slug, path)
    g = gazetteer(slug)
    assert set(LANDMARKS) >= {slug} or True
    rep = EvalReport(city=slug, n_requests=len(rows))
    for row in rows:
        today = dt.date.fromisoformat(row.get("today", "2026-11-30"))
        res = parse(row["text"], slug, today) if llm else parse_offline(row["text"], slug, today)
        rep.parsers[res.parser] += 1
        fields = score(row["expect"], res, g)
        for k, ok in fields.items():
            rep.total[k] += 1
            rep.correct[k] += int(ok)
        if not all(fields.values()):
            rep.misses.append({"text": row["text"], "wrong": [k for k, ok in fields.items() if not ok],
                               "expect": row["expect"], "got": res.summary(), "reason": res.reason})
    return rep
