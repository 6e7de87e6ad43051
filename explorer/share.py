"""Scenarios that travel: URL query parameters <-> (scenario, seed, samples, model id), validated."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from explorer.errors import ExplorerError
from explorer.scenarios.schema import Scenario

MAX_PARAM_CHARS = 4000
SAMPLE_CHOICES = (16, 32, 64, 128, 256)


class ShareError(ExplorerError):
    """A link or a scenario file could not be read."""


class _RunParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    n: int = Field(64)
    model: str = Field("", pattern=r"^[0-9a-f]{0,64}$")


@dataclass(frozen=True)
class SharedRun:
    scenario: Scenario
    seed: int
    n_samples: int
    model_id: str


def _readable(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors()[:3])


def parse_scenario_json(text: str | bytes, *, where: str = "scenario file") -> Scenario:
    """Validate scenario JSON (from a file or a link) with a clear error."""
    if len(text) > 64_000:
        raise ShareError("the scenario is larger than 64 kB", where=where, fix="upload a scenario saved by the app")
    try:
        return Scenario.from_json(text)
    except ValidationError as exc:
        raise ShareError(f"the scenario is invalid ({_readable(exc)})", where=where,
                         fix="save the scenario again from the app, or correct those fields") from None


def encode(run: SharedRun) -> dict[str, str]:
    """Query parameters carrying the whole scenario plus seed, sample count and model id."""
    blob = base64.urlsafe_b64encode(run.scenario.to_json().encode()).decode().rstrip("=")
    return {"city": run.scenario.city, "s": blob, "seed": str(run.seed), "n": str(run.n_samples),
            "model": run.model_id}


def decode(params: dict[str, str]) -> SharedRun | None:
    """Parse query parameters; None when the link holds no scenario; ShareError when it is malformed."""
    blob = params.get("s")
    if not blob:
        return None
    if len(blob) > MAX_PARAM_CHARS or any(len(str(v)) > MAX_PARAM_CHARS for v in params.values()):
        raise ShareError("the link is too long", where="link", fix="share a link made by the app")
    try:
        raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
    except (binascii.Error, ValueError):
        raise ShareError("the scenario in the link is not readable", where="link",
                         fix="copy the whole link made by the app") from None
    scenario = parse_scenario_json(raw, where="link")
    try:
        rp = _RunParams(seed=params.get("seed", 0), n=params.get("n", 64), model=params.get("model", ""))
    except ValidationError as exc:
        raise ShareError(f"the link's settings are invalid ({_readable(exc)})", where="link",
                         fix="copy the whole link made by the app") from None
    if rp.n not in SAMPLE_CHOICES:
        raise ShareError(f"n={rp.n} samples is not offered", where="link",
                         fix=f"use one of {', '.join(map(str, SAMPLE_CHOICES))}")
    if scenario.city != params.get("city", scenario.city):
        raise ShareError("the link's city and scenario disagree", where="link", fix="copy the whole link")
    return SharedRun(scenario, rp.seed, rp.n, rp.model)
