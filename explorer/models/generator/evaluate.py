"""Evaluation on held-out days, the GAN beside two baselines in the same run.

Protocol (``../shared/EVALUATION.md``, TimeGAN-style metrics), with these choices:

* held-out = the last 20 % of days (test split); the seasonal profile, the analogue pool and the
  GAN all come from the first 70 % (training split); the spread calibration from the 10 % between;
* each method produces, for every test day, ``n_samples`` 24-hour samples conditioned on that day's
  calendar only (no knowledge of its events); sample k of every day, concatenated in order, is the
  k-th synthetic copy of the held-out period;
* the series are min-max scaled per sensor over the whole history; windows of 24 hours, stride 1;
  missing real readings are filled with the seasonal profile **in the real and the synthetic copy
  alike** (same cells), so the classifier cannot use missingness;
* discriminative: GRU (hidden = sensors / 2, last state -> logit), Adam, batch 128, trained on 80 %
  of real and synthetic windows, score = |accuracy - 0.5| on the rest; predictive: GRU predicting the
  next value of the last sensor from the others, trained on synthetic (or, for reference, on the real
  training split), MAE on the real held-out windows; the discriminative score of real held-out days
  against the real days just before them is reported as a reference (what a perfect copy of the history
  would score with this little held-out data); correlational: sum |C_syn - C_real| over the
  lower triangle of the lag-0 correlation matrix / 10; ``repeats`` runs, mean +- 95 % interval;
* sensors with less than 5 % of readings in the training split (installed later) are left out of
  every score and listed: no method has history to generate them from;
* coverage: share of observed held-out readings inside the per-sensor-hour P10-P90 band;
* controllability (GAN only: the baselines cannot be asked for an event): requests with the place,
  size and duration of surges labelled in the training split, on held-out calendar days; the
  generated effect is the per-sample mean over the event hours at the place of scenario minus
  baseline (same noise), in the request's unit; relative error of its median, and the share of the
  total absolute effect that lands on the requested place / reach;
* latency: ``generate()`` with one event and 64 samples, median of repeated calls.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from explorer.models.generator.api import GeneratorBundle, event_weights, generate, generated_size, load_generator
from explorer.models.generator.calibration import event_requests
from explorer.models.generator.data import Prepared, inverse, prepare
from explorer.models.generator.model import calendar_features

METHODS = ("gan", "analogue_bootstrap", "seasonal_noise")
MIN_TRAIN_OBSERVED = 0.05  # sensors observed less than this in the training split are not evaluated


@dataclass
class EvalSettings:
    """Sizes of one evaluation run."""

    n_samples: int = 64
    repeats: int = 3
    disc_steps: int = 300
    pred_steps: int = 200
    requests: int = 40
    latency_calls: int = 20
    seed: int = 0
    device: str = "cpu"  # where the metric GRUs train: cpu, cuda or auto

    @classmethod
    def quick(cls) -> EvalSettings:
        return cls(n_samples=16, repeats=1, disc_steps=150, pred_steps=150, requests=8, latency_calls=5)


# ---------------------------------------------------------------- samplers: (days, S, 24, N) native


def sample_gan(bundle: GeneratorBundle, prep: Prepared, days: np.ndarray, n: int, seed: int) -> np.ndarray:
    out = np.empty((len(days), n, 24, prep.n), np.float32)
    empty = np.zeros((24, prep.n), np.float32)
    for i, d in enumerate(days):
        cond = calendar_features(np.arange(24), np.full(24, prep.dow[d]), np.full(24, prep.holiday[d]))
        r = bundle.alpha * bundle.sample(cond, empty, seed * 100_003 + int(d), n)[0]
        k = prep.dtype[d]
        out[i] = inverse(bundle.mu[k] + bundle.sd[k] * r, prep.view.domain)
    return out


def sample_bootstrap(prep: Prepared, days: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Historical analogues: whole training days of the same day type, drawn with replacement."""
    rng = np.random.default_rng(seed)
    train = prep.splits["train"]
    out = np.empty((len(days), n, 24, prep.n), np.float32)
    for i, d in enumerate(days):
        k = prep.dtype[d]
        pool = train[prep.dtype[train] == k]
        pool = pool if len(pool) else train
        pick = rng.choice(pool, n)
        y = np.where(prep.mask[pick], prep.y[pick], prep.mu[k][None])  # missing -> profile
        out[i] = inverse(y, prep.view.domain)
    return out


def sample_seasonal_noise(prep: Prepared, days: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Seasonal profile plus independent Gaussian noise of the robust spread (model space)."""
    rng = np.random.default_rng(seed)
    out = np.empty((len(days), n, 24, prep.n), np.float32)
    for i, d in enumerate(days):
        k = prep.dtype[d]
        z = rng.standard_normal((n, 24, prep.n)).astype(np.float32)
        out[i] = inverse(prep.mu[k] + prep.sd[k] * z, prep.view.domain)
    return out


# ---------------------------------------------------------------- TimeGAN-style metrics


def _windows(x: np.ndarray, length: int = 24) -> np.ndarray:
    """(T, F) -> (T - length + 1, length, F), stride 1."""
    idx = np.arange(len(x) - length + 1)[:, None] + np.arange(length)[None]
    return x[idx]


class _GRU(nn.Module):
    def __init__(self, dim_in: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(dim_in, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, last = self.gru(x)
        return self.out(h), self.out(last[-1])


def metric_device(name: str = "cpu") -> torch.device:
    """``auto`` -> CUDA when present; the metric GRUs give the same protocol on either device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def discriminative(real: np.ndarray, fake: np.ndarray, steps: int, seed: int, blocked: bool = False,
                   device: str = "cpu") -> float:
    """|accuracy - 0.5| of a GRU classifier on held-out 20 % of real and synthetic windows.

    ``blocked=False``: the protocol's random 80/20 split of the stride-1 windows (test windows overlap
    training windows, so a classifier can recognise the few real days by heart); ``blocked=True``:
    the first 80 % of the period for training, the last 20 % for testing, 23 windows apart (no overlap).
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dim = real.shape[2]
    x = np.concatenate([real, fake]).astype(np.float32)
    y = np.concatenate([np.ones(len(real)), np.zeros(len(fake))]).astype(np.float32)
    train = np.zeros(len(x), bool)
    test = np.zeros(len(x), bool)
    for lo, hi in ((0, len(real)), (len(real), len(x))):
        k = hi - lo
        if blocked:
            cut = int(0.8 * k)
            train[lo : lo + cut - 23] = True
            test[lo + cut :] = True
        else:
            perm = rng.permutation(k)
            train[lo + perm[: int(0.8 * k)]] = True
            test[lo + perm[int(0.8 * k) :]] = True
    dev = metric_device(device)
    xt, yt = torch.from_numpy(x[train]).to(dev), torch.from_numpy(y[train]).to(dev)
    model = _GRU(dim, max(dim // 2, 1)).to(dev)
    opt = torch.optim.Adam(model.parameters())
    lossf = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        b = torch.from_numpy(rng.choice(len(xt), min(128, len(xt)))).to(dev)
        loss = lossf(model(xt[b])[1].squeeze(-1), yt[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred = model(torch.from_numpy(x[test]).to(dev))[1].squeeze(-1) > 0
    acc = float((pred.cpu().numpy() == (y[test] > 0.5)).mean())
    return abs(acc - 0.5)


def predictive(train_windows: np.ndarray, test_windows: np.ndarray, steps: int, seed: int,
               device: str = "cpu") -> float:
    """Train on ``train_windows``, MAE on ``test_windows``: next value of the last feature from the others."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dim = train_windows.shape[2]
    dev = metric_device(device)
    xt = torch.from_numpy(train_windows.astype(np.float32)).to(dev)
    model = _GRU(dim - 1, max(dim // 2, 1)).to(dev)
    opt = torch.optim.Adam(model.parameters())
    for _ in range(steps):
        b = torch.from_numpy(rng.choice(len(xt), min(128, len(xt)))).to(dev)
        seq = xt[b]
        pred = model(seq[:, :-1, :-1])[0].squeeze(-1)
        loss = (pred - seq[:, 1:, -1]).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        seq = torch.from_numpy(test_windows.astype(np.float32)).to(dev)
        pred = model(seq[:, :-1, :-1])[0].squeeze(-1)
        return float((pred - seq[:, 1:, -1]).abs().mean())


def correlational(real: np.ndarray, fake: np.ndarray) -> float:
    """Sum |C_fake - C_real| over the lower triangle of lag-0 correlations / 10 (rows = time)."""

    def corr(a: np.ndarray) -> np.ndarray:
        c = np.corrcoef(a, rowvar=False)
        return np.nan_to_num(c)

    diff = np.abs(corr(fake) - corr(real))
    return float(np.tril(diff, -1).sum() / 10)


def _ci(values: list[float]) -> dict[str, float]:
    v = np.asarray(values, float)
    half = 1.96 * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
    return {"mean": float(v.mean()), "ci95": float(half)}


# ---------------------------------------------------------------- controllability and latency


def controllability(bundle: GeneratorBundle, prep: Prepared, k: int, n: int, seed: int) -> dict[str, Any]:
    errs, on_place, in_reach, rows = [], [], [], []
    ids = prep.view.sensor_ids
    for j, sc in enumerate(event_requests(prep, k, seed)):
        ev = sc.events[0]
        res = generate(bundle.view, sc, n_samples=n, seed=seed + j, model=bundle)
        p = ids.index(ev.place.sensor_id)  # type: ignore[arg-type]
        got = generated_size(res, ev, p)
        err = abs(got - ev.magnitude) / ev.magnitude
        errs.append(err)
        effect = np.abs(np.median(res.difference, axis=0)).sum(0)  # (N,)
        total = max(float(effect.sum()), 1e-9)
        w = event_weights(bundle.view, ev)
        on_place.append(float(effect[p] / total))
        in_reach.append(float(effect[w > 0].sum() / total))
        rows.append({"unit": ev.unit, "requested": ev.magnitude, "generated": float(got), "rel_error": float(err)})
    e = np.asarray(errs)
    return {
        "rel_error_mean": float(e.mean()),
        "rel_error_median": float(np.median(e)),
        "share_within_15pct": float((e <= 0.15).mean()),
        "effect_share_at_place": float(np.mean(on_place)),
        "effect_share_within_reach": float(np.mean(in_reach)),
        "requests": rows,
    }


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
    days = prep.splits["test"]
    tr = prep.splits["train"]
    # sensors with no training history (installed later) cannot be generated: left out, and listed
    keep = prep.mask[tr].mean(axis=(0, 1)) >= MIN_TRAIN_OBSERVED
    excluded = [sid for sid, k in zip(prep.view.sensor_ids, keep, strict=True) if not k]
    n = int(keep.sum())
    real = prep.y[days][..., keep]  # (D, 24, n) model space
    mask = prep.mask[days][..., keep]
    fill = prep.mu[prep.dtype[days]][..., keep]
    domain = prep.view.domain

    def filled_native(ds: np.ndarray) -> np.ndarray:
        """Days ``ds`` as one (hours, n) native series, missing readings filled with the profile."""
        y = np.where(prep.mask[ds], prep.y[ds], prep.mu[prep.dtype[ds]])[..., keep]
        return inverse(y, domain).reshape(-1, n)

    real_native = filled_native(days)
    full = inverse(prep.y[..., keep].reshape(-1, n), domain)
    lo, hi = np.nanmin(full, 0), np.nanmax(full, 0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)

    def scale(a: np.ndarray) -> np.ndarray:
        return ((a - lo) / span).astype(np.float32)

    real_w = _windows(scale(real_native))
    # predictive reference: the same GRU trained on the real training split
    tr_w = _windows(scale(filled_native(tr)))
    pred_real = [predictive(tr_w, real_w, s.pred_steps, s.seed + k, s.device)
                 for k in range(s.repeats)]
    # discriminative reference: real days against other real days (the same number of days just before the
    # held-out period, filled the same way). What a perfect copy of the city's history would score here.
    before = np.arange(days[0] - len(days), days[0])
    before = before[before >= 0]
    before_w = _windows(scale(filled_native(before)))
    disc_real = [discriminative(real_w, before_w, s.disc_steps, s.seed + k, device=s.device) for k in range(s.repeats)]
    disc_real_b = [discriminative(real_w, before_w, s.disc_steps, s.seed + k, blocked=True, device=s.device)
                   for k in range(s.repeats)]

    samplers = {
        "gan": lambda: sample_gan(bundle, prep, days, s.n_samples, s.seed),
        "analogue_bootstrap": lambda: sample_bootstrap(prep, days, s.n_samples, s.seed),
        "seasonal_noise": lambda: sample_seasonal_noise(prep, days, s.n_samples, s.seed),
    }
    y_obs = inverse(real, domain)
    out: dict[str, Any] = {}
    for name, sampler in samplers.items():
        t1 = time.perf_counter()
        samples = sampler()[..., keep]  # (D, S, 24, n)
        sample_ms = 1000 * (time.perf_counter() - t1) / len(days)
        q10, q90 = np.quantile(samples, [0.1, 0.9], axis=1)  # (D, 24, N)
        inside = (y_obs >= q10) & (y_obs <= q90)
        m: dict[str, Any] = {
            "coverage_p10_p90": float(inside[mask].mean()),
            "band_width_p10_p90": float((q90 - q10)[mask].mean()),
        }
        disc, disc_b, pred, corr = [], [], [], []
        for k in range(s.repeats):
            syn = samples[:, k % s.n_samples]  # (D, 24, N)
            syn = np.where(mask, syn, inverse(fill, domain)).reshape(-1, n)  # same fill as real
            syn_w = _windows(scale(syn))
            disc.append(discriminative(real_w, syn_w, s.disc_steps, s.seed + k, device=s.device))
            disc_b.append(discriminative(real_w, syn_w, s.disc_steps, s.seed + k, blocked=True, device=s.device))
            pred.append(predictive(syn_w, real_w, s.pred_steps, s.seed + k, s.device))
            corr.append(correlational(scale(real_native), scale(syn)))
        m["discriminative"] = _ci(disc)
        m["discriminative_blocked"] = _ci(disc_b)
        m["predictive"] = _ci(pred)
        m["correlational"] = _ci(corr)
        m["sample_ms_per_day_all_samples"] = sample_ms
        out[name] = m
    out["gan"]["controllability"] = controllability(bundle, prep, s.requests, s.n_samples, s.seed)
    out["gan"]["latency_ms_64_samples"] = latency_ms(bundle, prep, s.latency_calls)
    return {
        "city": prep.view.slug,
        "held_out_days": [str(prep.dates[days[0]]), str(prep.dates[days[-1]])],
        "n_held_out_days": int(len(days)),
        "n_sensors_evaluated": n,
        "sensors_without_training_history": excluded,
        "settings": s.__dict__ | {"quick": quick},
        "predictive_real_reference": _ci(pred_real),
        "discriminative_real_reference": _ci(disc_real),
        "discriminative_blocked_real_reference": _ci(disc_real_b),
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


def markdown(report: dict[str, Any]) -> str:
    """A results table for one city."""
    ms = report["methods"]
    c = ms["gan"]["controllability"]
    lines = [
        f"### {report['city']} — held-out {report['held_out_days'][0]} .. {report['held_out_days'][1]} "
        f"({report['n_held_out_days']} days, {report.get('n_sensors_evaluated', '?')} sensors)",
        "",
        f"Settings: {json.dumps(report['settings'], sort_keys=True)}. "
        + (
            f"Left out (no training history): sensors {', '.join(report['sensors_without_training_history'])}. "
            if report.get("sensors_without_training_history")
            else ""
        )
        + f"Predictive score of the same GRU trained on real data: {_fmt(report['predictive_real_reference'])}.",
        "",
        *(
            [
                "Discriminative score of real held-out days against the real days just before them (what a "
                f"perfect copy of the history would score): {_fmt(report['discriminative_real_reference'])}, "
                f"blocked split {_fmt(report.get('discriminative_blocked_real_reference'))}.",
                "",
            ]
            if report.get("discriminative_real_reference")
            else []
        ),
        "| method | discriminative ↓ | discriminative, blocked split ↓ | predictive ↓ | correlational ↓ | "
        "P10–P90 coverage (target 0.80) | band width | controllability rel. error ↓ | "
        "effect at place / within reach | latency 64 samples (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in METHODS:
        m = ms[name]
        ctrl = m.get("controllability")
        if ctrl:
            err = f"{ctrl['rel_error_mean']:.3f} (median {ctrl['rel_error_median']:.3f})"
            where = f"{ctrl['effect_share_at_place']:.2f} / {ctrl['effect_share_within_reach']:.2f}"
        else:
            err, where = "n/a (cannot condition)", "n/a"
        lat = m.get("latency_ms_64_samples")
        lat_s = f"{lat:.1f}" if lat is not None else f"{m['sample_ms_per_day_all_samples']:.1f}*"
        lines.append(
            f"| {name} | {_fmt(m['discriminative'])} | {_fmt(m['discriminative_blocked'])} | "
            f"{_fmt(m['predictive'])} | {_fmt(m['correlational'], 2)} | "
            f"{m['coverage_p10_p90']:.3f} | {m['band_width_p10_p90']:.2f} | {err} | {where} | {lat_s} |"
        )
    ck = (report.get("checkpoint") or {}).get("metrics") or {}
    lines += [
        "",
        f"Checkpoint: {ck.get('steps', '?')} steps in {ck.get('train_seconds', 0) / 60:.1f} min of training "
        f"({ck.get('total_seconds', 0) / 60:.1f} min in all, device {ck.get('device', '?')}, "
        f"{ck.get('torch_threads', '?')} thread(s)); spread calibration alpha = {ck.get('alpha', float('nan')):.2f}, "
        f"validation coverage {ck.get('val_coverage_raw', float('nan')):.3f} before, "
        f"{ck.get('val_coverage_calibrated', float('nan')):.3f} after"
        + (
            f"; event-response calibration: gain {ck['event_gain']:.3f}, learned gain modulation kept "
            f"{ck.get('event_modulation', 1.0):.0%}, validation controllability error "
            f"{ck.get('val_ctrl_error_raw', float('nan')):.3f} as trained, "
            f"{ck.get('val_ctrl_error_calibrated', float('nan')):.3f} calibrated ({ck.get('val_requests', '?')} "
            "requests on validation days)."
            if "event_gain" in ck
            else "."
        ),
        "",
        f"Controllability: {len(c['requests'])} requests, share within 15 %: {c['share_within_15pct']:.2f}. "
        "Baseline latency (*) is the time to draw all samples of one day. "
        f"Evaluation took {report['eval_seconds']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def write_markdown(report: dict[str, Any], path: str | Path) -> Path:
    """Replace (or add) this city's section of a results file, keeping the other cities'."""
    from explorer.io import atomic_write_text

    path = Path(path)
    start, end = f"<!-- results:{report['city']} -->", f"<!-- /results:{report['city']} -->"
    body = f"{start}\n{markdown(report)}{end}\n"
    text = path.read_text(encoding="utf-8") if path.is_file() else (
        "# Scenario generator: measured results\n\n"
        "Generated by `explorer generate eval --city SLUG --markdown docs/generator_results.md`; do not edit.\n\n"
    )  # fmt: skip
    if start in text and end in text:
        a, b = text.index(start), text.index(end) + len(end) + 1
        text = text[:a] + body + text[b:]
    else:
        text = text + body + "\n"
    return atomic_write_text(path, text)
