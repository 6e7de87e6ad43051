"""Train a city's models in one go (``explorer city train SLUG``): the scenario generator and the imputer,
through their public training functions, within a time budget; a brief evaluation of each; checkpoints
written beside their metadata. Also: whether a city has its models, and how long training takes.

How long training takes is estimated from per-step costs measured on a shared 2-core machine (see
``STEP_COST``); the budget (``--minutes``) caps it whatever the estimate says.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from explorer.cities.city import City
from explorer.errors import CheckpointError
from explorer.settings import get_settings

KINDS = ("generator", "imputer")
#: Seconds per training step ~ a + b * sensors (hourly 24-step windows, default batches, 1 thread), and fixed
#: seconds of preparation + calibration. From runs on the shared 2-core box (load 4-6): 20 sensors x 2 years,
#: generator 0.18 s/step, imputer 0.046 s/step (README); the bundled generators' metadata: 207 sensors 1.5 s/step.
STEP_COST = {"generator": (0.10, 0.0075), "imputer": (0.035, 0.0006)}
FIXED_S = {"generator": (15.0, 0.15), "imputer": (5.0, 0.02)}  # a + b * sensors


@dataclass
class TrainPlan:
    """How much training: step caps and one time budget shared by the two models."""

    minutes: float = 12.0  # both training loops together (preparation and evaluation come on top)
    generator_steps: int = 3000
    imputer_steps: int = 3000
    generator_share: float = 0.75  # of the budget; the imputer gets the rest
    threads: int = 1  # on a shared 2-core box two threads oversubscribe it (README)
    kinds: tuple[str, ...] = KINDS
    evaluate: bool = True
    seed: int = 0

    def budget(self, kind: str) -> float:
        share = self.generator_share if kind == "generator" else 1.0 - self.generator_share
        if len(self.kinds) == 1:
            share = 1.0
        return self.minutes * share


@dataclass
class TrainReport:
    """What ``train_city`` did: checkpoint paths, minutes spent and the brief evaluation, per model."""

    paths: dict[str, Path] = field(default_factory=dict)
    minutes: dict[str, float] = field(default_factory=dict)
    evaluation: dict[str, dict[str, Any]] = field(default_factory=dict)


def model_base(city: City, kind: str) -> Path:
    """Where the city's ``kind`` checkpoint lives (``EXPLORER_MODELS_DIR/<slug>/`` or the city's models/)."""
    root = get_settings().models_dir
    return (root / city.slug / kind) if root is not None else city.models_dir / kind


def has_model(city: City, kind: str) -> bool:
    """Whether the city has a ``kind`` checkpoint at all (weights and metadata; whether it fits is checked on
    loading)."""
    base = model_base(city, kind)
    return base.with_suffix(".json").is_file() and base.with_suffix(".safetensors").is_file()


def missing_models(city: City) -> list[str]:
    return [k for k in KINDS if not has_model(city, k)]


WHAT = {"generator": "scenario model (the what-if generator)", "imputer": "gap-filling model (the imputer)"}


class ModelNotTrained(CheckpointError):
    """A city has no trained model of a kind yet (a new city): say so in a planner's words, with the command."""

    def __init__(self, city: City, kinds: list[str]) -> None:
        self.city, self.kinds = city, kinds
        self.command = train_command(city)
        self.minutes = max(1, round(sum(estimate_minutes(city).values())))
        what = " and ".join(WHAT[k] for k in kinds)
        super().__init__(f"{city.name} has no trained {what} yet, so this part of the app cannot show results",
                         fix=f"whoever runs the server trains it once with '{self.command}' (about {self.minutes} "
                         "minutes on 2 CPU cores), then reloads this page; the Home page and Data health's view "
                         "of missing readings work without it")


def require_model(city: City, kind: str) -> None:
    """Raise ModelNotTrained when ``city`` has no ``kind`` checkpoint (before trying to load it)."""
    if not has_model(city, kind):
        raise ModelNotTrained(city, [kind])


def _hours(city: City) -> int:
    step_h = pd.Timedelta(city.freq).total_seconds() / 3600
    return int(len(city.series) * min(step_h, 1.0))


def estimate_minutes(city: City, plan: TrainPlan | None = None) -> dict[str, float]:
    """Minutes each model's training is expected to take on 2 cores (budget-capped), preparation included."""
    plan = plan or TrainPlan()
    n = city.series.shape[1]
    out = {}
    for kind in plan.kinds:
        a, b = STEP_COST[kind]
        steps = plan.generator_steps if kind == "generator" else plan.imputer_steps
        fa, fb = FIXED_S[kind]
        loop = min(steps * (a + b * n) / 60, plan.budget(kind))
        out[kind] = loop + (fa + fb * n) / 60 * max(1.0, _hours(city) / 17_520)
    return out


def train_command(city: City) -> str:
    return f"explorer city train {city.slug}"


def _generator(city: City, plan: TrainPlan, command: str) -> Path:
    from explorer.models.generator.model import GeneratorConfig
    from explorer.models.generator.train import train

    cfg = GeneratorConfig(steps=plan.generator_steps, seed=plan.seed)
    return Path(train(city, cfg, out=model_base(city, "generator"), command=command,
                      max_minutes=plan.budget("generator")))


def _imputer(city: City, plan: TrainPlan, command: str) -> Path:
    from explorer.models.imputer.store import save_imputer
    from explorer.models.imputer.train import TrainConfig, train

    cfg = TrainConfig(steps=plan.imputer_steps, seed=plan.seed, threads=plan.threads, device="cpu",
                      max_minutes=plan.budget("imputer"), val_every=max(50, plan.imputer_steps // 10))
    model, info = train(city.series, None, cfg)
    meta = {"metrics": {"val_mae": info["val_mae"], "mask_seed": cfg.mask_seed}, "command": command,
            "config": {"train": info["train_config"], "mask_seed": cfg.mask_seed, "split": [0.7, 0.1, 0.2]},
            "training": {k: v for k, v in info.items() if k != "train_config"}}
    return Path(save_imputer(model, city, meta, model_base(city, "imputer")))


def evaluate_generator(city: City) -> dict[str, Any]:
    """Load the checkpoint as the app does, replay the city's first preset with an event, and say how big the
    generated change at the event's place is against the size asked for (16 samples)."""
    from explorer.models.generator.api import generate, load_generator
    from explorer.presets import presets_for

    bundle = load_generator(city, model_base(city, "generator"))
    out: dict[str, Any] = {k: v for k, v in bundle.meta.get("metrics", {}).items()
                           if isinstance(v, int | float) and not isinstance(v, bool)}
    preset = next((p for p in presets_for(city) if p.scenario.events), None)
    if preset is None:
        return out
    t0 = time.perf_counter()
    res = generate(city, preset.scenario, 16, 0, model=bundle)
    out["generate_ms_16_samples"] = round(1000 * (time.perf_counter() - t0), 1)
    ev = preset.scenario.events[0]
    if ev.place.sensor_id in res.sensor_ids:
        k = list(res.sensor_ids).index(ev.place.sensor_id)
        hours = slice(ev.start_offset_hours, ev.start_offset_hours + ev.duration_hours)
        base = float(res.quantiles("baseline")[1][hours, k].mean())
        change = float(res.quantiles("difference")[1][hours, k].mean())
        out["preset"] = preset.title
        out["asked"] = f"{ev.magnitude:g} {ev.unit}"
        key = "generated_percent_slower" if ev.unit == "percent_slower" else "generated_percent_more"
        sign = -1 if ev.unit == "percent_slower" else 1
        out[key] = round(sign * 100 * change / base, 1) if base else None
    return out


def evaluate_imputer(city: City, share: float = 0.05, seed: int = 0) -> dict[str, Any]:
    """Hide ``share`` of the measured cells of the validation part (70-80 % of the history), fill them with
    the trained imputer, and compare its MAE with the seasonal profile's (each sensor's mean for that weekday
    and hour on the training part): a fill that does not beat the profile is said to."""
    from explorer.models.imputer.api import impute
    from explorer.models.imputer.store import load_imputer

    model, meta = load_imputer(city, model_base(city, "imputer"))
    s = city.series
    a, b = int(len(s) * 0.7), int(len(s) * 0.8)
    val = s.iloc[a:b]
    rng = np.random.default_rng(seed)
    hide = val.notna().to_numpy() & (rng.random(val.shape) < share)
    masked = s.copy()
    block = masked.iloc[a:b].to_numpy(copy=True)
    block[hide] = np.nan
    masked.iloc[a:b] = block
    res = impute(dataclasses.replace(city, series=masked), n_samples=4, seed=seed, start=val.index[0],
                 end=val.index[-1], model=model, meta=meta)
    truth = val.to_numpy()[hide]
    fill = res.mean.reindex(val.index).to_numpy()[hide]
    train = s.iloc[:a]
    key = train.index.day_of_week * 24 + train.index.hour
    prof = train.groupby(key).mean()
    vkey = val.index.day_of_week * 24 + val.index.hour
    seasonal = prof.reindex(vkey).to_numpy()[hide]
    ok = np.isfinite(fill) & np.isfinite(seasonal)
    mae = float(np.abs(fill[ok] - truth[ok]).mean()) if ok.any() else float("nan")
    base = float(np.abs(seasonal[ok] - truth[ok]).mean()) if ok.any() else float("nan")
    return {"hidden_cells": int(ok.sum()), "mae": round(mae, 2), "seasonal_profile_mae": round(base, 2),
            "beats_profile": bool(mae < base)}


def train_city(city: City, plan: TrainPlan | None = None, *, command: str | None = None,
               say: Callable[[str], None] = print) -> TrainReport:
    """Train the generator then the imputer of ``city`` (progress bars from each), evaluate them briefly and
    write their checkpoints. ``say`` receives one line per stage (plan, ETA, results)."""
    import torch

    plan = plan or TrainPlan()
    torch.set_num_threads(max(1, plan.threads))
    command = command or train_command(city)
    est = estimate_minutes(city, plan)
    say(f"Training {city.name}: {city.series.shape[1]} sensors x {len(city.series):,} steps; "
        + ", ".join(f"{k} ~{v:.0f} min" for k, v in est.items())
        + f"; about {sum(est.values()):.0f} min in all on {plan.threads} CPU thread(s).")
    report = TrainReport()
    t_all = time.perf_counter()
    for i, kind in enumerate(plan.kinds):
        left = sum(v for k, v in est.items() if k not in plan.kinds[:i])
        say(f"[{i + 1}/{len(plan.kinds)}] {kind} (budget {plan.budget(kind):.1f} min; ETA for the rest "
            f"~{left:.0f} min)")
        t0 = time.perf_counter()
        report.paths[kind] = (_generator if kind == "generator" else _imputer)(city, plan, command)
        report.minutes[kind] = round((time.perf_counter() - t0) / 60, 2)
        say(f"    wrote {report.paths[kind]} in {report.minutes[kind]:.1f} min")
        if plan.evaluate:
            t1 = time.perf_counter()
            report.evaluation[kind] = (evaluate_generator if kind == "generator" else evaluate_imputer)(city)
            say(f"    check ({time.perf_counter() - t1:.0f} s): {report.evaluation[kind]}")
    say(f"Done in {(time.perf_counter() - t_all) / 60:.1f} min. Open the app: explorer app (city {city.slug}).")
    return report
