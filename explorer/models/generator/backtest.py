"""Backtest on real surges the model never saw: does it reproduce what an event did *beyond* its origin?

For every episode (:mod:`explorer.models.generator.episodes`) in the held-out test days, the methods get only
what a planner would know: the origin sensor, the day, the start hour, the duration and the size at the
origin (extra people per hour, or percent slower). The window is 24 hours from ``pre`` hours before the
start. What they generate is scored against what really happened at **every other sensor** over the event's
hours plus ``lead`` hours before and ``lag`` hours after (the **footprint**; sensors without training history
and missing readings left out):

* CRPS per sensor-hour from the samples (native units) and MAE of the sample median;
* the share of the real footprint effect reproduced: ``1 - sum (E_real - E_gen)^2 / sum E_real^2`` over the
  footprint cells of the episode's own runs, where ``E_real`` is the reading minus the seasonal profile and
  ``E_gen`` the median scenario minus the median event-free sample (0 for nothing, 1 for all of it, below 0
  for a wrong effect);
* peak timing away from the origin: at each other sensor the real episode reached, the hour of the largest
  real departure vs the hour of the largest generated one (a generated peak under 10 % of the real one is a
  miss).

Methods, same events, same event-free samples (the model's own, calibrated on validation days):

* ``no_event``: the event-free samples (what a method that knows nothing about the event gives);
* ``painted``: the request painted with Gaussian weights of ``reach`` km around the place over the event's
  hours (how the product answered before the generator learned the response: every sensor within reach gets
  the requested extra people or percent slower times its weight); the reach is the best of a small grid on
  **validation** episodes;
* ``analogue``: the most similar past surge at that place (training split; else at the nearest sensors with
  one) — its real footprint over its own episode's sensors, scaled to the requested size, transplanted;
* ``model``: the generator's scenario samples.

The requests and the compared responses are built in :mod:`explorer.models.generator.backtest_methods`; this
module runs and scores them.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from explorer.models.generator.api import GeneratorBundle, generate, load_generator
from explorer.models.generator.backtest_methods import (
    Analogues,
    BacktestSettings,
    Case,
    apply_deviation,
    cases,
    oracle_field,
    painted_field,
    profile_window,
)
from explorer.models.generator.data import Prepared, inverse, prepare
from explorer.models.generator.episodes import episodes
from explorer.models.generator.scores import crps_samples

METHODS = ("no_event", "painted", "analogue", "model")
REFERENCE = "oracle"  # knows the real deviation at the episode's sensors: the ceiling, not a method
BASELINES = ("no_event", "painted", "analogue")
REACH_GRID = (0.0, 0.5, 1.0, 2.0, 5.0)


# ---------------------------------------------------------------- scores


@dataclass
class _Tally:
    crps: float = 0.0
    abs_err: float = 0.0
    cells: int = 0
    origin_crps: float = 0.0
    origin_cells: int = 0
    reached_crps: float = 0.0
    reached_cells: int = 0
    resid: float = 0.0  # sum (E_real - E_gen)^2 on the episode's runs' cells
    energy: float = 0.0  # sum E_real^2 there
    peaks: int = 0
    peaks_within_1h: int = 0
    peak_errors: list | None = None

    def add(self, other: dict[str, Any]) -> None:
        for k, v in other.items():
            if k == "peak_errors":
                self.peak_errors = (self.peak_errors or []) + v
            else:
                setattr(self, k, getattr(self, k) + v)

    def summary(self) -> dict[str, Any]:
        errs = np.asarray(self.peak_errors or [], float)
        return {
            "footprint_crps": self.crps / max(self.cells, 1),
            "footprint_mae": self.abs_err / max(self.cells, 1),
            "footprint_cells": self.cells,
            "origin_crps": self.origin_crps / max(self.origin_cells, 1),
            "reached_crps": self.reached_crps / max(self.reached_cells, 1),
            "reached_cells": self.reached_cells,
            "effect_reproduced": 1.0 - self.resid / self.energy if self.energy > 0 else float("nan"),
            "peaks": self.peaks,
            "peak_within_1h": self.peaks_within_1h / self.peaks if self.peaks else float("nan"),
            "peak_error_median_h": float(np.median(errs)) if len(errs) else float("nan"),
        }


def score_case(prep: Prepared, case: Case, base: np.ndarray, scen: np.ndarray) -> dict[str, Any]:
    """Footprint scores of one method's samples (S, 24, N native) against the real window."""
    p, h = prep, case.hours
    t = np.arange(case.w0, case.w0 + 24)
    y_model = p.y.reshape(-1, p.n)[t]
    obs = p.mask.reshape(-1, p.n)[t] & p.has_history[None]
    y = inverse(np.nan_to_num(y_model), p.view.domain)
    mu, _ = profile_window(p, case.w0)
    prof = inverse(mu, p.view.domain)
    foot = np.zeros_like(obs)
    foot[h] = obs[h]
    foot[:, case.origin] = False
    at_origin = np.zeros_like(obs)
    at_origin[h, case.origin] = obs[h, case.origin]
    crps = crps_samples(scen, y)
    med_s, med_b = np.median(scen, 0), np.median(base, 0)
    sign = -1.0 if p.view.domain == "speed" else 1.0
    e_real = sign * (y - prof)  # positive = busier / slower than usual
    e_gen = sign * (med_s - med_b)
    runs = np.zeros_like(foot)
    others = np.setdiff1d(case.sensors, [case.origin])
    runs[:, others] = foot[:, others]
    errs, within = [], 0
    for n in others:
        hrs = np.flatnonzero(foot[h, n])
        if len(hrs) == 0:
            continue
        real_h = hrs[int(np.argmax(e_real[h, n][hrs]))]
        real_peak = e_real[h, n][real_h]
        gen = e_gen[h, n][hrs]
        if real_peak <= 0:
            continue
        if gen.max() >= 0.1 * real_peak:
            err = abs(int(hrs[int(np.argmax(gen))]) - int(real_h))
            errs.append(err)
            within += err <= 1
        else:
            errs.append(np.inf)
    return {
        "crps": float(crps[foot].sum()), "abs_err": float(np.abs(med_s - y)[foot].sum()), "cells": int(foot.sum()),
        "origin_crps": float(crps[at_origin].sum()), "origin_cells": int(at_origin.sum()),
        "reached_crps": float(crps[runs].sum()), "reached_cells": int(runs.sum()),
        "resid": float(((e_real - e_gen)[runs] ** 2).sum()), "energy": float((e_real[runs] ** 2).sum()),
        "peaks": len(errs), "peaks_within_1h": within, "peak_errors": [e for e in errs if np.isfinite(e)],
    }


# ---------------------------------------------------------------- the run


def _best_reach(bundle: GeneratorBundle, prep: Prepared, val: list[Case], s: BacktestSettings) -> dict[str, Any]:
    """The painted response's reach with the lowest footprint CRPS on validation episodes."""
    tallies = {r: _Tally() for r in REACH_GRID}
    for j, case in enumerate(val):
        base = _event_free(bundle, case, s, s.seed + 7919 * (j + 1))
        for r in REACH_GRID:
            scen = apply_deviation(base, painted_field(prep, case, r), prep.view.domain)
            tallies[r].add(score_case(prep, case, base, scen))
    crps = {r: t.summary()["footprint_crps"] for r, t in tallies.items()}
    best = min(crps, key=crps.get) if val else 0.5
    return {"reach_km": best, "validation_footprint_crps": {str(k): v for k, v in crps.items()}}


def _event_free(bundle: GeneratorBundle, case: Case, s: BacktestSettings, seed: int) -> np.ndarray:
    quiet = case.scenario.model_copy(update={"events": []})
    return generate(bundle.view, quiet, n_samples=s.n_samples, seed=seed, model=bundle).baseline


def backtest(city: Any, *, settings: BacktestSettings | None = None, quick: bool = False,
             model: GeneratorBundle | None = None, part: str = "test") -> dict[str, Any]:
    """Footprint scores of the four methods on the held-out episodes of ``city`` (``part="val"``: on the
    validation days' episodes instead, to choose between models without touching the held-out ones)."""
    if part not in ("test", "val"):
        raise ValueError(f"part must be 'test' or 'val', not {part!r}")
    s = settings or (BacktestSettings.quick() if quick else BacktestSettings())
    t0 = time.perf_counter()
    bundle = model or load_generator(city)
    prep = prepare(bundle.view)
    eps, runs = episodes(prep)
    test = cases(prep, part, s, eps, runs, s.max_events)
    val = cases(prep, "val", s, eps, runs, s.val_events)
    reach = _best_reach(bundle, prep, val, s)
    analogues = Analogues(prep, eps, runs, s)
    tallies = {m: _Tally() for m in (*METHODS, REFERENCE)}
    for j, case in enumerate(test):
        res = generate(bundle.view, case.scenario, n_samples=s.n_samples, seed=s.seed + j, model=bundle)
        base = res.baseline
        dom = prep.view.domain
        outs = {
            "no_event": base,
            "painted": apply_deviation(base, painted_field(prep, case, reach["reach_km"]), dom),
            "analogue": apply_deviation(base, analogues.field(case), dom),
            "model": res.scenario_samples,
            REFERENCE: apply_deviation(base, oracle_field(prep, case), dom),
        }
        for m, scen in outs.items():
            tallies[m].add(score_case(prep, case, base, scen))
    methods = {m: t.summary() for m, t in tallies.items()}
    best, gain = _gain(methods, "footprint_crps")
    return {
        "city": prep.view.slug,
        "unit": prep.view.unit,
        "part": part,
        "held_out_days": [str(prep.dates[prep.splits[part][0]]), str(prep.dates[prep.splits[part][-1]])],
        "events": len(test),
        "multi_sensor_events": int(sum(len(c.sensors) > 1 for c in test)),
        "settings": asdict(s) | {"quick": quick},
        "painted_reach": reach,
        "methods": methods,
        "best_baseline": best,
        "model_crps_gain_vs_best_baseline": gain,
        "checkpoint": {k: bundle.meta.get(k) for k in ("created", "data_hash")},
        "seconds": round(time.perf_counter() - t0, 1),
    }


# ---------------------------------------------------------------- reporting

LABELS = {"no_event": "(a) no event (event-free samples)", "painted": "(b) request x Gaussian weights",
          "analogue": "(c) nearest historical analogue", "model": "(d) this model",
          REFERENCE: "reference: the real outcome at the episode's sensors (not a method)"}


def _gain(ms: dict[str, Any], key: str) -> tuple[str, float]:
    best = min(BASELINES, key=lambda m: ms[m][key])
    return best, 1.0 - ms["model"][key] / ms[best][key]


def markdown(rep: dict[str, Any]) -> str:
    """The backtest table of one city."""
    ms, u = rep["methods"], rep["unit"]
    lines = [
        f"### {rep['city']} — backtest on {rep['events']} "
        f"{'validation' if rep.get('part') == 'val' else 'held-out'} episodes "
        f"({rep['held_out_days'][0]} .. {rep['held_out_days'][1]}; {rep['multi_sensor_events']} reached more "
        "than one sensor)",
        "",
        f"Footprint: every other sensor, from {rep['settings']['lead']} h before the event to "
        f"{rep['settings']['lag']} h after it ({ms['model']['footprint_cells']:,} sensor-hours); of those, the "
        f"sensors the real episode reached ({ms['model']['reached_cells']:,}). Painted reach chosen on "
        f"validation episodes: {rep['painted_reach']['reach_km']:g} km. {rep['settings']['n_samples']} samples "
        "per event; CRPS in native units.",
        "",
        f"| method | footprint CRPS ({u}) ↓ | footprint MAE ↓ | CRPS where the episode reached ↓ | "
        "CRPS at the origin ↓ | effect reproduced (1 = all) ↑ | peaks within 1 h ↑ | median peak error (h) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in (*METHODS, REFERENCE):
        r = ms[m]
        lines.append(
            f"| {LABELS[m]} | {r['footprint_crps']:.3f} | {r['footprint_mae']:.3f} | {r['reached_crps']:.3f} | "
            f"{r['origin_crps']:.3f} | {r['effect_reproduced']:.3f} | {r['peak_within_1h']:.2f} of {r['peaks']} | "
            f"{r['peak_error_median_h']:.1f} |"
        )
    (b1, g1), (b2, g2) = _gain(ms, "footprint_crps"), _gain(ms, "reached_crps")
    ceiling = 1.0 - ms[REFERENCE]["footprint_crps"] / ms[b1]["footprint_crps"]
    lines += [
        "",
        f"Model vs the best baseline: footprint CRPS {100 * g1:+.1f} % lower than {LABELS[b1]} (target 20 %; "
        f"knowing the real outcome at the episode's sensors would give {100 * ceiling:+.1f} %); where the episode "
        f"reached {100 * g2:+.1f} % lower than {LABELS[b2]}. Run took {rep['seconds']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def write_markdown(rep: dict[str, Any], path: str | Path) -> Path:
    """Replace (or add) this city's backtest section of a results file."""
    from explorer.models.generator.evaluate import replace_section

    return replace_section(path, f"backtest:{rep['city']}", markdown(rep))
