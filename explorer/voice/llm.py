"""Optional LLM path: any OpenAI-compatible ``/chat/completions`` endpoint, asked for scenario JSON.

Configured by the settings registry (``explorer/settings.py``), from environment variables or ``st.secrets`` with
the same names: ``EXPLORER_LLM_URL`` (base URL, e.g. ``http://127.0.0.1:11434/v1``), ``EXPLORER_LLM_MODEL`` and
optionally ``EXPLORER_LLM_KEY`` and ``EXPLORER_LLM_TIMEOUT`` (seconds, default 20).
The answer is validated against the same pydantic schema and the city's places; on any failure the caller
falls back to the offline parser.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from explorer.scenarios.schema import Scenario, ScenarioError, validate_for_city
from explorer.settings import load_settings
from explorer.voice.context import city_of, gazetteer
from explorer.voice.result import REASONS, ParseResult


@dataclass(frozen=True)
class LLMConfig:
    url: str
    model: str
    key: str = ""
    timeout: float = 20.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LLMConfig | None:
        """The configuration (validated by the settings registry), or None when no endpoint is set."""
        e = dict(os.environ if env is None else env)
        if not e.get("EXPLORER_LLM_URL"):
            try:
                import streamlit as st

                e |= {k: str(v) for k, v in st.secrets.items() if k.startswith("EXPLORER_LLM_")}
            except Exception:  # no streamlit or no secrets file
                pass
        s = load_settings(e)
        if not s.llm_url or not s.llm_model:
            return None
        return cls(s.llm_url.rstrip("/"), s.llm_model, s.llm_key.get_secret_value() if s.llm_key else "",
                   s.llm_timeout)


def prompt(city: Any, today: dt.date) -> str:
    """The system prompt: the schema, the units of this city, its places, the refusal categories."""
    g = gazetteer(city)
    counts = city.manifest.series.counts
    places = [f"sensor_id {s}: {g.show(s)}" for s in g.sensor_ids[:250]]
    places += [f"zone_id {z}: {n}" for z, n in list(g.zone_names.items())[:120]]
    idx = city.series.index
    return (
        "You turn a resident's what-if question into JSON for a traffic/pedestrian scenario generator.\n"
        f"City slug: {city.slug} ({city.name}); it measures {city.manifest.series.value_name} "
        f"({city.manifest.series.unit}). Today is {today.isoformat()} ({today:%A}). "
        f"Data covers {idx.min().date()} to {idx.max().date()}.\n"
        "Answer with ONE JSON object only, either\n"
        '{"scenario": {"city": ..., "day": {"day_of_week": 0-6 (0=Monday)} or {"date": "YYYY-MM-DD"}, '
        '"holiday": bool inside day, "start_hour": 0-23, "horizon_hours": 1-24, "events": [{"place": '
        '{"sensor_id": "..."} or {"zone_id": "..."}, "magnitude": number > 0, "unit": '
        + ('"people" (extra people per hour) or "percent" (percent more than usual)' if counts
           else '"percent_slower"')
        + ', "start_offset_hours": int, "duration_hours": int, "reach_km": 0-10}]}}\n'
        'or {"refusal": "<category>", "reason": "..."} with a category among: '
        + ", ".join(REASONS) + ".\nEvents must end within the horizon. Places:\n" + "\n".join(places)
    )


def _post(cfg: LLMConfig, body: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(cfg.url + "/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {cfg.key}"} if cfg.key else {})})
    with urllib.request.urlopen(req, timeout=cfg.timeout) as r:  # noqa: S310 (configured URL)
        return json.loads(r.read().decode())


def parse_llm(text: str, city: Any, today: dt.date, cfg: LLMConfig) -> tuple[ParseResult | None, str]:
    """(result, '') when the endpoint answered with a valid scenario or refusal, else (None, why)."""
    city = city_of(city) if isinstance(city, str) else city
    body = {"model": cfg.model, "temperature": 0, "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": prompt(city, today)},
                         {"role": "user", "content": text[:500]}]}
    try:
        answer = _post(cfg, body)
        content = answer["choices"][0]["message"]["content"]
    except (OSError, urllib.error.URLError, ValueError, KeyError, IndexError, TypeError) as exc:
        return None, f"endpoint error: {type(exc).__name__}"
    m = re.search(r"\{.*\}", content or "", re.S)
    if not m:
        return None, "no JSON in the answer"
    try:
        data = json.loads(m.group(0))
    except ValueError:
        return None, "invalid JSON"
    who = f"llm:{cfg.model}"
    if isinstance(data, dict) and data.get("refusal") in REASONS:
        return ParseResult(text=text, refusal=data["refusal"], reason=str(data.get("reason", ""))[:300],
                           parser=who), ""
    raw = data.get("scenario", data) if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        return None, "answer is not a scenario object"
    raw = {**raw, "city": city.slug}
    try:
        sc = Scenario.model_validate(raw)
        validate_for_city(sc, city)
    except (ValidationError, ScenarioError, ValueError) as exc:
        return None, f"scenario rejected by the schema: {str(exc).splitlines()[0][:120]}"
    return ParseResult(text=text, scenario=sc, parser=who, notes=["Parsed by the language model; check it."]), ""


NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _numbers(text: str) -> list[str]:
    return sorted(n.replace(",", "") for n in NUMBER.findall(text))


def polish_brief(brief: Any, cfg: LLMConfig | None = None) -> tuple[Any, str]:
    """Let the language model reword the brief's sentences, never its figures.

    Each sentence is kept only when the rewording holds exactly the same numbers; anything else (no
    endpoint, an error, a changed or dropped figure) keeps the original. Returns (brief, what happened).
    """
    from dataclasses import replace

    cfg = cfg or LLMConfig.from_env()
    if cfg is None:
        return brief, "no language model configured"
    paras = [p for _, ps in brief.sections for p in ps]
    body = {"model": cfg.model, "temperature": 0, "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content":
                          "Reword each sentence for residents in plain, friendly English. Keep every number "
                          'exactly as written. Answer {"sentences": [...]} with the same count, in order.'},
                         {"role": "user", "content": json.dumps({"sentences": paras})}]}
    try:
        content = _post(cfg, body)["choices"][0]["message"]["content"]
        out = json.loads(re.search(r"\{.*\}", content, re.S).group(0))["sentences"]  # type: ignore[union-attr]
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        return brief, f"kept the original wording ({type(exc).__name__})"
    if not isinstance(out, list) or len(out) != len(paras):
        return brief, "kept the original wording (wrong number of sentences)"
    kept = 0
    it = iter(zip(paras, out, strict=True))
    sections = []
    for head, ps in brief.sections:
        new = []
        for _ in ps:
            old, cand = next(it)
            ok = isinstance(cand, str) and 0 < len(cand) <= 3 * len(old) + 50 and _numbers(cand) == _numbers(old)
            new.append(cand if ok else old)
            kept += int(ok and cand != old)
        sections.append((head, new))
    return replace(brief, sections=sections), f"reworded {kept} of {len(paras)} sentences; figures unchanged"
