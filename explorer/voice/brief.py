"""A one-page plain-language planning brief from a scenario result, built from the numbers only.

Sections: what was asked, what the model expects and where, how sure it is (P10–P90 bands), and the
model's limits. Output as Markdown (user text escaped for Markdown) or standalone HTML (all text escaped).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from explorer.cities import City
    from explorer.models.generator.result import ScenarioResult

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass
class Brief:
    """Title and (heading, paragraphs) sections; every string is plain text (escaped when rendered)."""

    title: str
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)  # the numbers the text was built from


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}"


def _when(result: ScenarioResult) -> str:
    sc = result.scenario
    day = sc.day.date.strftime("%A %d %B %Y") if sc.day.date else f"a typical {DAYS[sc.day.weekday]}"
    return day + (" (public holiday)" if sc.day.holiday else "")


def _place(result: ScenarioResult, city: City) -> str:
    if not result.scenario.events:
        return "no particular place"
    p = result.scenario.events[0].place
    if p.sensor_id is not None:
        col = "where" if "where" in city.sensors else "label"
        return str(city.sensors.set_index("sensor_id")[col].get(p.sensor_id, f"sensor {p.sensor_id}"))
    if p.zone_id is not None and city.zones is not None:
        names = dict(zip(city.zones["zone_id"].astype(str), city.zones["name"].astype(str), strict=True))
        return names.get(p.zone_id, f"zone {p.zone_id}")
    return f"the point {p.lat:.4f}, {p.lon:.4f}"


def build_brief(result: ScenarioResult, city: City, question: str | None = None, parser: str | None = None,
                notes: list[str] | None = None) -> Brief:
    """The brief's content from a result (numbers come from the samples, never from a language model)."""
    sc = result.scenario
    counts = result.domain == "counts"
    unit = result.unit
    labels = city.sensors.set_index("sensor_id")["where" if "where" in city.sensors else "label"]
    q = np.quantile(result.difference, (0.1, 0.5, 0.9), axis=0)  # (3, H, N)
    base50 = np.median(result.baseline, axis=0)
    busier = q[1] if counts else -q[1]
    t, n = np.unravel_index(int(np.argmax(busier)), busier.shape)
    lo, mid, hi = (float(q[i, t, n]) for i in range(3))
    significant = (q[0] > 0) | (q[2] < 0)
    h = result.headline
    b = Brief(title=f"Planning brief: {city.name}, {_when(result)}")
    asked = []
    if question:
        asked.append(f"Request: “{question.strip()[:500]}”" + (f" (read by the {parser} parser)" if parser else ""))
    ev = sc.events[0] if sc.events else None
    if ev is not None:
        size = {"people": f"{ev.magnitude:,.0f} extra people per hour", "percent": f"{ev.magnitude:g} % more people "
                "than usual", "percent_slower": f"traffic {ev.magnitude:g} % slower than usual"}[ev.unit]
        start = (sc.start_hour + ev.start_offset_hours) % 24
        asked.append(f"Scenario: {size} at {_place(result, city)}, from {start}:00 for {ev.duration_hours} h on "
                     f"{_when(result)}, spreading about {ev.reach_km:g} km.")
    else:
        asked.append(f"Scenario: no event; what the model expects on {_when(result)}.")
    asked.append(f"The model simulated {sc.horizon_hours} hours from {sc.start_hour}:00.")
    asked += [f"Assumption: {x}" for x in (notes or [])]
    b.sections.append(("What was asked", asked))

    expect = []
    where = str(labels.get(result.sensor_ids[n], result.sensor_ids[n]))
    when = result.time_labels[t]  # the scenario's day and hour, never the reference week's date
    if ev is None:
        expect.append("Without an event the scenario equals the baseline; the maps show the usual pattern.")
    else:
        word = "more" if counts else "slower"
        change = abs(mid)
        pct = 100 * change / max(float(base50[t, n]), 1.0)
        expect.append(f"The largest change is at {where} around {when}: about {_n(change)} {unit} {word} than the "
                      f"same day without the event ({pct:.0f} % of the usual {_n(float(base50[t, n]))} {unit}).")
        expect.append(f"{h.get('sensors_affected', 0)} of {len(result.sensor_ids)} sensors change noticeably at "
                      "some hour.")
        order = np.argsort(-busier.max(axis=0))[:5]
        top = [f"{labels.get(result.sensor_ids[i], result.sensor_ids[i])} ({_n(float(busier[:, i].max()))})"
               for i in order if busier[:, i].max() > 0]
        if top:
            expect.append("Most affected places (peak change, " + unit + "): " + "; ".join(top) + ".")
        if "extra_pedestrian_hours_p10_p50_p90" in h:
            a, m, c = h["extra_pedestrian_hours_p10_p50_p90"]
            expect.append(f"In total about {_n(m)} extra pedestrian-hours over the window (likely range {_n(a)} "
                          f"to {_n(c)}).")
        elif "delay_min_per_mile_sensor_hours_p10_p50_p90" in h:
            a, m, c = h["delay_min_per_mile_sensor_hours_p10_p50_p90"]
            expect.append(f"Extra delay adds up to about {_n(m)} minutes per mile over all sensor-hours (likely "
                          f"range {_n(a)} to {_n(c)}).")
    b.sections.append(("What the model expects, and where", expect))

    sure = [f"Numbers are the median of {result.baseline.shape[0]} generated samples (seed {result.seed}); the "
            "likely range is the 10th to 90th percentile across samples."]
    if ev is not None:
        a, c = sorted((abs(lo), abs(hi)))
        sure.append(f"At the peak the change lies between {_n(a)} and {_n(c)} {unit} in 8 of 10 samples"
                    + (" — the band includes zero, so the model is not sure there is a change." if lo <= 0 <= hi
                       else "; the band excludes zero, so the change is clear against normal variation."))
        share = float(significant.mean())
        sure.append(f"{100 * share:.0f} % of sensor-hours show a change whose band excludes zero.")
    b.sections.append(("How sure", sure))
    limits = [f"The model learned from {city.name}'s own sensor history; every number here is generated, none is "
              "measured.",
              "It adds surges to a usual day; it does not know about closures, detours, weather, public transport "
              "or events beyond the one described.",
              "Sizes larger than anything in the history are extrapolations: treat them as indications.",
              "Places without a sensor are represented by the nearest sensors."]
    if not counts:
        limits.append("Los Angeles data are freeway speeds (mph) from loop detectors; crowds are not counted, "
                      "only their effect on speed.")
    b.sections.append(("Limits", limits))
    b.figures = {"peak_sensor": result.sensor_ids[n], "peak_time": result.time_labels[t], "peak_p10": lo,
                 "peak_p50": mid, "peak_p90": hi, "significant_share": float(significant.mean())}
    return b


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|<>~$])")


def md_escape(text: str) -> str:
    """Escape Markdown (and raw HTML) in a piece of text so it shows as typed."""
    out = _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ").replace("\r", " ")
    return "\\" + out if out[:1] in "-+=" and out else out


def brief_markdown(b: Brief) -> str:
    """The brief as Markdown; all text escaped."""
    out = [f"### {md_escape(b.title)}", ""]
    for head, paras in b.sections:
        out += [f"#### {md_escape(head)}", ""] + [f"- {md_escape(p)}" for p in paras] + [""]
    return "\n".join(out)


def brief_html(b: Brief) -> str:
    """A standalone HTML page (no scripts, nothing fetched); all text escaped."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "".join(f"<h2>{html.escape(h)}</h2><ul>" + "".join(f"<li>{html.escape(p)}</li>" for p in ps) + "</ul>"
                   for h, ps in b.sections)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(b.title)}</title>'
            "<style>body{font-family:sans-serif;max-width:800px;margin:2em auto;line-height:1.5;color:#111}"
            "h2{font-size:1.15em;margin-top:1.4em}</style></head><body>"
            f"<h1>{html.escape(b.title)}</h1>{body}<p><small>Made {now} by the urban what-if explorer from "
            "generated samples.</small></p></body></html>\n")
