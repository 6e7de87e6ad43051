"""Evaluation on held-out days, the GAN beside two baselines in the same run.

Protocol (``../shared/EVALUATION.md``), with these choices:

* held-out = the last 20 % of days (test split); the seasonal profile, the analogue pool and the GAN all
  come from the first 70 % (training split); calibration from the 10 % between (validation split);
* each method produces, for every test day, ``n_samples`` 24-hour samples conditioned on that day's
  calendar only (no knowledge of its events), as residuals from the seasonal profile; **every method is
  calibrated the same way**: one factor on its residual spread (around the profile) for 80 % P10-P90
  coverage on the validation days (the GAN's was fitted so at training; the baselines' are fitted here);
* proper scores on the held-out days (:mod:`explorer.models.generator.scores`): CRPS per sensor-hour
  (native units, and normalised by the sum of the readings as CSDI does) and the energy score of whole days
  (min-max scaled sensors), over observed readings;
* TimeGAN-style scores on **day-blocked** splits (whole days, never sharing hours, folds of contiguous days);
  series min-max scaled per sensor over the whole history; missing real readings filled with the seasonal
  profile in the real and the synthetic days alike. References in the same run: two halves of the held-out
  period against each other (the noise floor: a perfect generator scores about this), and the held-out days
  against the real days just before them; the predictive score of the same GRU trained on real days;
* sensors with less than 5 % of readings in the training split (installed later) are left out of every
  score and listed: no method has history to generate them from;
* controllability (GAN only: the baselines cannot be asked for an event): requests with the place, size and
  duration of surges labelled in the training split, on held-out days; the relative error of the median
  generated size at the place, **as trained** (event gain 1) and calibrated; where the effect lands (share at
  the place, at its graph neighbours, farther);
* latency: ``generate()`` with one event and 64 samples, median of repeated calls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from explorer.models.generator.api import GeneratorBundle, generate, load_generator, place_index
from explorer.models.generator.calibration import coverage_alpha, event_requests
from explorer.models.generator.data import Prepared, inverse, prepare
from explorer.models.generator.model import calendar_features
from explorer.models.generator.result import generated_size
from explorer.models.generator.scores import (
    correlational,
    crps_samples,
    discriminative,
    energy_score,
    mean_ci,
    predictive,
)

METHODS = ("gan", "analogue_bootstrap", "seasonal_noise")


@dataclass
class EvalSettings:
    """Sizes of one evaluation run."""

    n_samples: int = 64
    repeats: int = 3
    disc_steps: int = 300
    pred_steps: int = 200
    folds: int = 4
    requests: int = 40
    latency_calls: int = 20
    seed: int = 0
    device: str = "cpu"  # where the metric GRUs train: cpu, cuda or auto

    @classmethod
    def quick(cls) -> EvalSettings:
        return cls(n_samples=16, repeats=1, disc_steps=150, pred_steps=150, requests=8, latency_calls=5)


# ---------------------------------------------------------------- samplers: residuals (days, S, 24, N)


def residual_gan(bundle: GeneratorBundle, prep: Prepared, days: np.ndarray, n: int, seed: int) -> np.ndarray:
    """The generator's event-free residuals (before its spread calibration ``alpha``)."""
    out = np.empty((len(days), n, 24, prep.n), np.float32)
    empty = np.zeros((24, prep.n), np.float32)
    for i, d in enumerate(days):
        cond = calendar_features(np.arange(24), np.full(24, prep.dow[d]), np.full(24, prep.holiday[d]))
        out[i] = bundle.sample(cond, empty, seed * 100_003 + int(d), n)[0]
    return out


def residual_bootstrap(prep: Prepared, days: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Historical analogues: whole training days of the same day type, drawn with replacement (missing
    readings at the profile), as residuals from that day type's profile."""
    rng = np.random.default_rng(seed)
    train = prep.splits["train"]
    out = np.empty((len(days), n, 24, prep.n), np.float32)
    for i, d in enumerate(days):
        k = prep.dtype[d]
        pool = train[prep.dtype[train] == k]
        pick = rng.choice(pool if len(pool) else train, n)
        y = np.where(prep.mask[pick], prep.y[pick], prep.mu[k][None])
        out[i] = (y - prep.mu[k][None]) / prep.sd[k][None]
    return out


def residual_seasonal_noise(prep: Prepared, days: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Seasonal profile plus independent Gaussian noise of the robust spread."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((len(days), n, 24, prep.n)).astype(np.float32)


def native(prep: Prepared, days: np.ndarray, r: np.ndarray, alpha: float, *, bounded: bool = True) -> np.ndarray:
    """Residual samples (D, S, 24, N) -> native values with the spread scaled by ``alpha``, kept inside each
    sensor's training range as ``generate()`` keeps them (``bounded=False``: as sampled)."""
    mu, sd = prep.mu[prep.dtype[days]][:, None], prep.sd[prep.dtype[days]][:, None]
    out = inverse(mu + sd * (alpha * r), prep.view.domain).astype(np.float32)
    return np.clip(out, *prep.observed_range, out=out) if bounded else out


def fit_alpha(prep: Prepared, sampler: Any, seed: int) -> tuple[float, float, float]:
    """The spread factor of a residual sampler for 80 % P10-P90 coverage on the validation days (the rule the
    GAN's calibration uses): (alpha, coverage raw, coverage calibrated)."""
    days = prep.splits["val"]
    r = sampler(days, seed + 17)  # (D, S, 24, N)
    real = np.nan_to_num((prep.y[days] - prep.mu[prep.dtype[days]]) / prep.sd[prep.dtype[days]])
    q = np.quantile(r, [0.1, 0.9], axis=1)
    return coverage_alpha(q[0], q[1], real, prep.mask[days] & prep.has_history[None, None])


# ---------------------------------------------------------------- controllability and latency


def controllability(bundle: GeneratorBundle, prep: Prepared, k: int, n: int, seed: int) -> dict[str, Any]:
    """Requested vs generated size at the place, as trained (gain 1) and calibrated; where the effect lands."""
    requests = event_requests(prep, k, seed)
    gain = bundle.event_gain
    out: dict[str, Any] = {}
    adj = prep.view.adjacency
    for label, g in (("raw", 1.0), ("calibrated", gain)):
        errs, at_place, near, rows = [], [], [], []
        bundle.event_gain = g
        try:
            for j, sc in enumerate(requests):
                ev = sc.events[0]
                res = generate(bundle.view, sc, n_samples=n, seed=seed + j, model=bundle)
                p = place_index(bundle.view, ev)[0]
                got = generated_size(res, ev, p)
                errs.append(abs(got - ev.magnitude) / ev.magnitude)
                effect = np.abs(np.median(res.difference, axis=0)).sum(0)  # (N,)
                total = max(float(effect.sum()), 1e-9)
                row = adj.getrow(p).toarray()[0] if hasattr(adj, "getrow") else np.asarray(adj)[p]
                col = adj.getcol(p).toarray()[:, 0] if hasattr(adj, "getcol") else np.asarray(adj)[:, p]
                nb = (row > 0) | (col > 0)
                nb[p] = False
                at_place.append(float(effect[p] / total))
                near.append(float(effect[nb].sum() / total))
                rows.append({"unit": ev.unit, "requested": ev.magnitude, "generated": float(got),
                             "rel_error": float(errs[-1])})
        finally:
            bundle.event_gain = gain
        e = np.asarray(errs)
        out[label] = {
            "gain": g, "rel_error_mean": float(e.mean()), "rel_error_median": float(np.median(e)),
            "share_within_15pct": float((e <= 0.15).mean()),
            "effect_share_at_place": float(np.mean(at_place)),
            "effect_share_graph_neighbours": float(np.mean(near)),
            "requests": rows,
        }  # fmt: skip
    return out


def latency_ms(bundle: GeneratorBundle, prep: Prepared, calls: int) -> float:
    sc = event_requests(prep, 1, 7)[0]
    generate(bundle.view, sc, n_samples=64, seed=0, model=bundle)
    ts = []
    for i in range(calls):
        t = time.perf_counter()
        generate(bundle.view, sc, n_samples=64, seed=i, model=bundle)
        ts.append(1000 * (time.perf_counter() - t))
    return float(np.median(ts))


# ---------------------------------------------------------------- the run


def evaluate(
    city: Any, *, quick: bool = False, settings: EvalSettings | None = None, model: GeneratorBundle | None = None
) -> dict[str, Any]:
    """All metrics for the GAN and both baselines on the held-out days of ``city``."""
    s = settings or (EvalSettings.quick() if quick else EvalSettings())
    torch.set_num_threads(max(1, min(torch.get_num_threads(), 2)))
    t0 = time.perf_counter()
    bundle = model or load_generator(city)
    prep = prepare(bundle.view)
    days, tr = prep.splits["test"], prep.splits["train"]
    keep = prep.has_history  # sensors installed later cannot be generated: left out, and listed
    excluded = [sid for sid, k in zip(prep.view.sensor_ids, keep, strict=True) if not k]
    n = int(keep.sum())
    domain = prep.view.domain
    mask = prep.mask[days][..., keep]
    y_obs = inverse(np.nan_to_num(prep.y[days][..., keep]), domain)  # (D, 24, n)

    full = inverse(prep.y[..., keep].reshape(-1, n), domain)
    lo, hi = np.nanmin(full, 0), np.nanmax(full, 0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)

    def scale(a: np.ndarray) -> np.ndarray:
        return ((a - lo) / span).astype(np.float32)

    def real_days(ds: np.ndarray) -> np.ndarray:
        """Days ``ds`` (D, 24, n), scaled, missing readings at the profile."""
        y = np.where(prep.mask[ds], prep.y[ds], prep.mu[prep.dtype[ds]])[..., keep]
        return scale(inverse(y, domain))

    real_w = real_days(days)
    fill = inverse(prep.mu[prep.dtype[days]][..., keep], domain)
    halves = (real_w[0::2], real_w[1::2])
    before = np.arange(max(0, days[0] - len(days)), days[0])
    refs = {
        "discriminative_same_period_halves": [discriminative(*halves, s.disc_steps, s.seed + k, s.folds, s.device)
                                              for k in range(s.repeats)],
        "discriminative_days_before": [discriminative(real_w, real_days(before), s.disc_steps, s.seed + k,
                                                      s.folds, s.device) for k in range(s.repeats)],
        "predictive_real": [predictive(real_days(tr), real_w, s.pred_steps, s.seed + k, s.device)
                            for k in range(s.repeats)],
    }  # fmt: skip

    samplers = {
        "gan": lambda ds, seed: residual_gan(bundle, prep, ds, s.n_samples, seed),
        "analogue_bootstrap": lambda ds, seed: residual_bootstrap(prep, ds, s.n_samples, seed),
        "seasonal_noise": lambda ds, seed: residual_seasonal_noise(prep, ds, s.n_samples, seed),
    }
    out: dict[str, Any] = {}
    for name, sampler in samplers.items():
        if name == "gan":
            m = bundle.meta.get("metrics", {})
            alpha, cov_val = bundle.alpha, (m.get("val_coverage_raw"), m.get("val_coverage_calibrated"))
        else:
            alpha, *cov_val = fit_alpha(prep, sampler, s.seed)
        t1 = time.perf_counter()
        r = sampler(days, s.seed)
        sample_ms = 1000 * (time.perf_counter() - t1) / len(days)
        samples = native(prep, days, r, alpha, bounded=False)[..., keep]  # (D, S, 24, n)
        low, high = (b[keep] for b in prep.observed_range)
        outside = float(((samples < low) | (samples > high)).mean())
        np.clip(samples, low, high, out=samples)  # scored as the app shows them
        raw = native(prep, days, r, 1.0)[..., keep]
        res: dict[str, Any] = {"alpha": float(alpha), "val_coverage_raw_calibrated": list(cov_val),
                               "share_outside_training_range": outside}
        for tag, arr in (("", samples), ("_raw", raw)):
            q10, q90 = np.quantile(arr, [0.1, 0.9], axis=1)
            res[f"coverage_p10_p90{tag}"] = float(((y_obs >= q10) & (y_obs <= q90))[mask].mean())
            res[f"band_width_p10_p90{tag}"] = float((q90 - q10)[mask].mean())
        crps = crps_samples(np.moveaxis(samples, 1, 0), y_obs)  # (D, 24, n)
        res["crps"] = float(crps[mask].mean())
        res["crps_normalised"] = float(crps[mask].sum() / np.abs(y_obs[mask]).sum())
        res["crps_raw"] = float(crps_samples(np.moveaxis(raw, 1, 0), y_obs)[mask].mean())
        res["energy_score_day"] = float(np.mean([energy_score(scale(samples[i]), scale(y_obs[i]), mask[i])
                                                 for i in range(len(days))]))
        disc, pred, corr = [], [], []
        for k in range(s.repeats):
            syn = np.where(mask, samples[:, k % s.n_samples], fill)  # (D, 24, n), same fill as real
            disc.append(discriminative(real_w, scale(syn), s.disc_steps, s.seed + k, s.folds, s.device))
            copies = samples[:, (k + np.arange(-(-len(tr) // len(days)))) % s.n_samples]  # as many days as train
            syn_tr = scale(np.moveaxis(copies, 1, 0).reshape(-1, 24, n)[: len(tr)])
            pred.append(predictive(syn_tr, real_w, s.pred_steps, s.seed + k, s.device))
            corr.append(correlational(real_w.reshape(-1, n), scale(syn).reshape(-1, n)))
        res.update(discriminative=mean_ci(disc), predictive=mean_ci(pred), correlational=mean_ci(corr),
                   sample_ms_per_day_all_samples=sample_ms)
        out[name] = res
    out["gan"]["controllability"] = controllability(bundle, prep, s.requests, s.n_samples, s.seed)
    out["gan"]["latency_ms_64_samples"] = latency_ms(bundle, prep, s.latency_calls)
    return {
        "city": prep.view.slug,
        "unit": prep.view.unit,
        "held_out_days": [str(prep.dates[days[0]]), str(prep.dates[days[-1]])],
        "n_held_out_days": int(len(days)),
        "n_sensors_evaluated": n,
        "sensors_without_training_history": excluded,
        "settings": s.__dict__ | {"quick": quick},
        "references": {k: mean_ci(v) for k, v in refs.items()},
        "checkpoint": {k: bundle.meta.get(k) for k in ("created", "data_hash", "metrics")},
        "methods": out,
        "eval_seconds": round(time.perf_counter() - t0, 1),
    }


# ---------------------------------------------------------------- reporting


def _fmt(m: dict[str, float] | float | None, digits: int = 3) -> str:
    if m is None:
        return "n/a"
    if isinstance(m, dict):
        ci = m.get("ci95")
        return f"{m['mean']:.{digits}f}" + (f" ± {ci:.{digits}f}" if ci == ci and ci is not None else "")
    return f"{m:.{digits}f}"


def _settings(st: dict[str, Any]) -> str:
    """A run's settings in words (no raw dictionary on a page)."""
    return (f"{st['n_samples']} samples per day, {st['repeats']} repeat(s), GRU steps {st['disc_steps']} "
            f"(discriminative, {st.get('folds', 4)} day-blocked folds) / {st['pred_steps']} (predictive), "
            f"{st['requests']} controllability requests, metric GRUs on {st['device']}"
            + (", quick run" if st.get("quick") else ""))


def markdown(report: dict[str, Any]) -> str:
    """A results table for one city."""
    ms, refs, u = report["methods"], report["references"], report.get("unit", "")
    left = report.get("sensors_without_training_history")
    lines = [
        f"### {report['city']} — held-out {report['held_out_days'][0]} .. {report['held_out_days'][1]} "
        f"({report['n_held_out_days']} days, {report.get('n_sensors_evaluated', '?')} sensors)",
        "",
        f"Settings: {_settings(report['settings'])}."
        + (f" Left out (no training history): sensors {', '.join(left)}." if left else ""),
        "",
        "References in the same run (day-blocked): two halves of the held-out period against each other "
        f"{_fmt(refs['discriminative_same_period_halves'])} (the noise floor: a perfect generator scores about "
        f"this); held-out days against the real days just before them {_fmt(refs['discriminative_days_before'])}; "
        f"predictive score of the same GRU trained on the real training days {_fmt(refs['predictive_real'])}.",
        "",
        f"| method | CRPS per sensor-hour ({u}), calibrated (raw) ↓ | CRPS normalised ↓ | energy score per day ↓ | "
        "P10–P90 coverage, calibrated (raw) | band width | discriminative, day-blocked ↓ | predictive ↓ | "
        "correlational ↓ | latency 64 samples (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in METHODS:
        m = ms[name]
        lat = m.get("latency_ms_64_samples")
        lat_s = f"{lat:.1f}" if lat is not None else f"{m['sample_ms_per_day_all_samples']:.1f}*"
        lines.append(
            f"| {name} | {m['crps']:.3f} ({m.get('crps_raw', float('nan')):.3f}) | "
            f"{m['crps_normalised']:.4f} | {m['energy_score_day']:.3f} | "
            f"{m['coverage_p10_p90']:.3f} ({m['coverage_p10_p90_raw']:.3f}) | {m['band_width_p10_p90']:.2f} | "
            f"{_fmt(m['discriminative'])} | {_fmt(m['predictive'])} | {_fmt(m['correlational'], 2)} | {lat_s} |"
        )
    c = ms["gan"]["controllability"]
    ck = (report.get("checkpoint") or {}).get("metrics") or {}
    lines += [
        "",
        "Every method's spread is calibrated the same way (one factor for 80 % coverage on the validation "
        "days; the grid stops at 4): alpha " + ", ".join(f"{k} {ms[k]['alpha']:.2f}" for k in METHODS) + ". "
        "Normalised CRPS and the energy score are of the calibrated samples. "
        "Baseline latency (*) is the time to draw all samples of one day. "
        "Share of calibrated samples outside each sensor's training range, kept inside it before scoring (a rule, "
        "as in the app): " + ", ".join(f"{k} {100 * ms[k].get('share_outside_training_range', float('nan')):.2f} %"
                                      for k in METHODS) + ".",
        "",
        "| controllability (GAN; baselines cannot be asked) | mean rel. error ↓ | median | within 15 % | "
        "effect at the place / at its graph neighbours |",
        "|---|---|---|---|---|",
        *(f"| {label} (event gain {c[k]['gain']:.3f}) | {c[k]['rel_error_mean']:.3f} | "
          f"{c[k]['rel_error_median']:.3f} | {c[k]['share_within_15pct']:.2f} | "
          f"{c[k]['effect_share_at_place']:.2f} / {c[k]['effect_share_graph_neighbours']:.2f} |"
          for k, label in (("raw", "as trained"), ("calibrated", "calibrated"))),
        "",
        f"Checkpoint: {ck.get('steps', '?')} steps in {ck.get('train_seconds', 0) / 60:.1f} min of training "
        f"({ck.get('total_seconds', 0) / 60:.1f} min in all, device {ck.get('device', '?')}, "
        f"{ck.get('torch_threads', '?')} thread(s)), {ck.get('episodes_labelled', '?')} episodes in the history. "
        f"{len(c['raw']['requests'])} controllability requests. Evaluation took {report['eval_seconds']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def replace_section(path: str | Path, key: str, body: str) -> Path:
    """Replace (or add) the section ``key`` of a generated results file, keeping the others."""
    from explorer.io import atomic_write_text

    path = Path(path)
    start, end = f"<!-- results:{key} -->", f"<!-- /results:{key} -->"
    block = f"{start}\n{body}{end}\n"
    text = path.read_text(encoding="utf-8") if path.is_file() else (
        "# Scenario generator: measured results\n\n"
        "Generated by `explorer generate eval --city SLUG --markdown docs/generator_results.md` and "
        "`explorer generate backtest --city SLUG --markdown docs/generator_results.md`; do not edit.\n\n"
    )  # fmt: skip
    if start in text and end in text:
        a, b = text.index(start), text.index(end) + len(end) + 1
        text = text[:a] + block + text[b:]
    else:
        text = text + block + "\n"
    return atomic_write_text(path, text)


def write_markdown(report: dict[str, Any], path: str | Path) -> Path:
    """Replace (or add) this city's evaluation section of a results file, keeping the other sections."""
    return replace_section(path, report["city"], markdown(report))
