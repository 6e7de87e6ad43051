"""The side-by-side run of the GRIN protocol: every method on the same masks, split and windows.

- Mask: the protocol's point or block mask, drawn with ``np.random.default_rng(mask_seed)``, ANDed with what
  was observed. Training (of the learned methods) sees only the first 70 % and never a value hidden by the
  point or the block mask, so one trained model serves both protocols.
- Windows of 24 steps with stride 1 inside the test part; the predictions of overlapping windows are
  averaged per time step (this model and the PyPOTS peers alike). Mean, interpolation and KNN need no windows.
- Metrics (MAE, MSE, MRE) on the original scale over the hidden test values only; for a method that samples
  fills (this model), also CRPS (normalised as CSDI / PriSTI), P10-P90 coverage and the coherence of sampled
  fills (``metrics.py``), from ``samples`` draws. A deterministic method's CRPS is that of a point mass: its MRE.
- ``seeds`` repeats the learned methods with training seeds 0..seeds-1 on the same mask; the table reports
  mean and standard deviation. The deterministic baselines are run once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from explorer.models.imputer.baselines import interpolate_impute, knn_impute, mean_impute
from explorer.models.imputer.data import WINDOW, ProtocolData, prepare, window_starts
from explorer.models.imputer.masks import DEFAULT_SEED, Protocol
from explorer.models.imputer.metrics import all_metrics, crps, probabilistic_metrics, strongest_neighbour

MODEL = "stgar"  # this model: spatio-temporal point estimate + graph-autoregressive Gaussian residual
METHODS = ("mean", "interpolation", "knn", "brits", "saits", MODEL)
N_SAMPLES = 50
CHECK_STEPS = 288  # the headline check: the first steps of the test part, point protocol (see ``headline_check``)


@dataclass
class Budget:
    """Training budget of the learned methods (quick mode shrinks everything to run inside CI)."""

    model_steps: int = 1000
    peer_epochs: int = 1
    peer_windows: int | None = 3200  # training windows drawn (fixed seed) for the peers; None = all of them
    quick_steps: int | None = None  # truncate the series to this many steps (quick mode)
    samples: int = N_SAMPLES  # sampled fills per hidden value for the probabilistic metrics


QUICK = Budget(model_steps=10, peer_epochs=1, peer_windows=256, quick_steps=700)


def _scaled(x: np.ndarray, a: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sensor z-scores with training statistics; sensors with no training data (installed later) take the
    mean of the other sensors' means and the median of their standard deviations."""
    with np.errstate(all="ignore"):
        mu = np.nanmean(x[:a], axis=0)
        sd = np.nanstd(x[:a], axis=0)
    mu = np.where(np.isnan(mu), np.nanmean(mu), mu)
    bad = ~np.isfinite(sd) | (sd < 1e-6)
    sd = np.where(bad, np.nanmedian(np.where(bad, np.nan, sd)) if (~bad).any() else 1.0, sd)
    return (x - mu) / sd, mu, sd


def _windows(x: np.ndarray, start: int, stop: int) -> np.ndarray:
    s = window_starts(start, stop)
    return x[s[:, None] + np.arange(WINDOW)[None, :]]  # (W, T, N)


def _average_windows(pred: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Average per step the (W, T, N) predictions of the stride-1 windows covering [start, stop)."""
    out = np.zeros((stop - start, pred.shape[2]))
    cnt = np.zeros((stop - start, 1))
    for j, s in enumerate(window_starts(start, stop)):
        out[s - start:s - start + WINDOW] += pred[j]
        cnt[s - start:s - start + WINDOW] += 1
    return out / cnt


def train_visible(series: pd.DataFrame, mask_seed: int) -> np.ndarray:
    """What learned methods may train on: observed values hidden by neither protocol's mask (NaN elsewhere)."""
    from explorer.models.imputer.data import prepare_training

    prep = prepare_training(series, mask_seed)
    return np.where(prep.visible, prep.values, np.nan).astype(np.float32)


def run_pypots(name: str, series: pd.DataFrame, data: ProtocolData, epochs: int, seed: int,
               device: str = "cpu", cache_dir: Path | None = None, n_windows: int | None = None,
               part: str = "test") -> tuple[np.ndarray, float, float]:
    """Train PyPOTS BRITS or SAITS on training windows, impute one part's windows; (pred, train_s, infer_s).

    Hyperparameters are those of the PyPOTS documentation examples (SAITS: 2 layers, d_model 256, 4 heads,
    d_k = d_v = 64, d_ffn 128, dropout 0.1; BRITS: 64 hidden units); batch 32. The budget is ``epochs`` over
    ``n_windows`` training windows drawn with the training seed (all stride-1 windows when None).
    Inputs are z-scored per sensor with training statistics and scaled back afterwards. Training sees the
    same values as this model (neither protocol's hidden values), so a model trained once serves both
    protocols: with ``cache_dir`` the fitted model is stored there and reused (its training time with it).
    """
    try:
        with contextlib.redirect_stdout(sys.stderr):  # pypots prints a banner on import; keep stdout for --json
            from pypots.imputation import BRITS, SAITS
            from pypots.utils.random import set_random_seed
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise RuntimeError("PyPOTS is not installed: pip install 'urban-whatif-explorer[eval]' (or pypots)") from exc
    set_random_seed(seed)
    a = data.bounds[0]
    n = series.shape[1]
    train_x, mu, sd = _scaled(train_visible(series, data.seed), a)
    test_in = (data.model_input - mu) / sd
    common = dict(n_steps=WINDOW, n_features=n, batch_size=32, epochs=epochs, device=device, verbose=False,
                  model_saving_strategy=None)
    if name == "saits":
        model = SAITS(n_layers=2, d_model=256, n_heads=4, d_k=64, d_v=64, d_ffn=128, dropout=0.1, **common)
    else:
        model = BRITS(rnn_hidden_size=64, **common)
    cached = None
    if cache_dir is not None:
        key = hashlib.sha256(np.ascontiguousarray(train_x[:a]).tobytes()).hexdigest()[:16]
        cached = cache_dir / f"{name}-v2-e{epochs}-w{n_windows}-s{seed}-{key}.pypots"
    if cached is not None and cached.is_file():
        model.load(str(cached))
        train_s = float(json.loads(cached.with_suffix(".json").read_text())["train_s"])
    else:
        t0 = time.perf_counter()
        windows = _windows(train_x, 0, a)
        if n_windows is not None and n_windows < len(windows):
            pick = np.random.default_rng(seed).choice(len(windows), n_windows, replace=False)
            windows = windows[np.sort(pick)]
        model.fit({"X": windows})
        train_s = time.perf_counter() - t0
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            model.save(str(cached), overwrite=True)
            cached.with_suffix(".json").write_text(json.dumps({"train_s": train_s}))
    t0 = time.perf_counter()
    rng = data.part(part)
    windows = _windows(test_in, rng.start, rng.stop)
    imputed = model.predict({"X": windows})["imputation"]
    pred = _average_windows(np.asarray(imputed), rng.start, rng.stop) * sd + mu
    return pred, train_s, time.perf_counter() - t0


def run_model(series: pd.DataFrame, data: ProtocolData, steps: int, seed: int, model: Any | None = None,
              train_s: float | None = None, n_samples: int = N_SAMPLES,
              part: str = "test", device: str = "auto") -> tuple[np.ndarray, np.ndarray, float, float]:
    """This model on one part: (point prediction, sampled fills (S, T, N), train_s, infer_s).

    Trains a model (with its band calibration) unless ``model`` is given. Windows of stride 1 give the point
    estimate and the residual's parameters; ``n_samples`` fills are drawn with sampling seed 0 and scaled by the
    model's validation-fitted ``band_scale``.
    """
    from explorer.models.imputer.data import prepare_training
    from explorer.models.imputer.infer import sample, to_original, window_outputs
    from explorer.models.imputer.train import TrainConfig, train

    if model is None:
        cfg = TrainConfig(steps=steps, seed=seed, mask_seed=data.seed, device=device,
                          val_every=max(1, steps // 4), threads=torch.get_num_threads())
        model, info = train(series, cfg=cfg, progress=False)
        train_s = info["train_s"]
    prep = prepare_training(series, data.seed)
    rng = data.part(part)
    t0 = time.perf_counter()
    x = data.model_input
    out = window_outputs(model, x, prep.slot, prep.daytype, start=rng.start, stop=rng.stop, stride=1)
    draws = sample(model, x, prep.slot, prep.daytype, n_samples, 0, start=rng.start, stop=rng.stop, out=out)
    return to_original(model, out["loc"]), draws, float(train_s or 0.0), time.perf_counter() - t0


def score_part(data: ProtocolData, part: str, pred: np.ndarray, draws: np.ndarray | None,
               neighbour: np.ndarray, start: int | None = None) -> dict[str, float | None]:
    """Point metrics, and with ``draws`` the probabilistic ones, over the hidden values of ``part``.

    ``pred`` (T, N) and ``draws`` (S, T, N) cover the part from its start (or from ``start``) on.
    """
    rng = data.part(part)
    lo = rng.start if start is None else start
    hi = lo + len(pred)
    y, mask = data.target[lo:hi], data.scored(part)[lo:hi]
    out: dict[str, float | None] = {**all_metrics(pred, y, mask)}
    if draws is None:  # a point mass: CRPS reduces to the absolute error (MRE once normalised)
        out |= {"crps": crps(pred[None], y, mask), "coverage": None}
    else:
        out |= probabilistic_metrics(draws, y, mask, neighbour)
    return out


def headline_check(model: Any, series: pd.DataFrame, adjacency: np.ndarray,
                   mask_seed: int = DEFAULT_SEED) -> dict[str, float]:
    """MAE and CRPS on the first ``CHECK_STEPS`` steps of the test part, point protocol, 50 samples (seed 0).

    Cheap enough for a test to recompute from the committed checkpoint and compare with the stored figure.
    """
    data = prepare(series, "point", mask_seed)
    b = data.bounds[1]
    sub = ProtocolData(values=data.values[:b + CHECK_STEPS], observed=data.observed[:b + CHECK_STEPS],
                       hidden=data.hidden[:b + CHECK_STEPS], index=data.index[:b + CHECK_STEPS],
                       bounds=data.bounds, protocol="point", seed=mask_seed)
    pred, draws, _, _ = run_model(series.iloc[:b + CHECK_STEPS], sub, 0, 0, model=model)
    r = score_part(sub, "test", pred, draws, strongest_neighbour(adjacency))
    return {"mae": round(float(r["mae"] or 0), 4), "crps": round(float(r["crps"] or 0), 5),
            "steps": CHECK_STEPS, "protocol": "point", "samples": N_SAMPLES}


def evaluate(series: pd.DataFrame, adjacency: np.ndarray, protocol: Protocol, seeds: int = 1,
             budget: Budget | None = None, methods: tuple[str, ...] = METHODS, mask_seed: int = DEFAULT_SEED,
             trained: Any | None = None, trained_s: float | None = None,
             cache_dir: Path | None = None, part: str = "test",
             log: Callable[[str], None] = print) -> dict[str, dict[str, Any]]:
    """Run ``methods`` on one city and protocol; returns ``{method: {mae, mse, mre, crps, coverage, ...}}``.

    ``trained`` is an already trained model (e.g. the committed checkpoint) used for training seed 0 instead of
    training one; ``trained_s`` is its recorded training time.
    ``part`` is "test" (the protocol's figures) or "val" (for choosing between variants).
    """
    budget = budget or Budget()
    if budget.quick_steps:
        series = series.iloc[:budget.quick_steps]
    data = prepare(series, protocol, mask_seed)
    a = data.bounds[0]
    x = data.model_input
    rng = data.part(part)
    neighbour = strongest_neighbour(adjacency)
    results: dict[str, dict[str, Any]] = {}

    simple = {
        "mean": lambda: mean_impute(x, a),
        "interpolation": lambda: interpolate_impute(x, a),
        "knn": lambda: knn_impute(x, a, adjacency),
    }
    for name in methods:
        if name not in METHODS:
            raise ValueError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
        runs: list[dict[str, Any]] = []
        n_runs = 1 if name in simple else seeds
        for seed in range(n_runs):
            draws = None
            if name in simple:
                t0 = time.perf_counter()
                pred = simple[name]()[rng]
                tr, inf = 0.0, time.perf_counter() - t0
            elif name == MODEL:
                use = trained if seed == 0 else None
                pred, draws, tr, inf = run_model(series, data, budget.model_steps, seed, model=use,
                                                 train_s=trained_s, n_samples=budget.samples,
                                                 part=part)
            else:
                pred, tr, inf = run_pypots(name, series, data, budget.peer_epochs, seed, cache_dir=cache_dir,
                                           n_windows=budget.peer_windows, part=part)
            runs.append({**score_part(data, part, pred, draws, neighbour), "train_s": round(tr, 1),
                         "infer_s": round(inf, 1)})
            log(f"{protocol} {name} seed {seed}: MAE {runs[-1]['mae']:.4f} CRPS {runs[-1]['crps']:.4f}")
        agg: dict[str, Any] = {k: (None if runs[0][k] is None else float(np.mean([r[k] for r in runs])))
                               for k in runs[0]}
        if len(runs) > 1:
            agg["mae_std"] = float(np.std([r["mae"] for r in runs]))
            agg["crps_std"] = float(np.std([r["crps"] for r in runs]))
        agg["runs"] = len(runs)
        results[name] = agg
    return results


def _fmt(v: Any, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def markdown_table(results: dict[str, dict[str, dict[str, dict[str, Any]]]], note: str = "") -> str:
    """Markdown tables from ``{city: {protocol: {method: metrics}}}`` (generated, never typed), one per city
    between ``<!-- results:slug -->`` markers (the Model card shows its city's)."""
    parts = []
    for city, by_prot in results.items():
        lines = [f"<!-- results:{city} -->", f"### {city}", "",
                 "| protocol | method | MAE | MSE | MRE | CRPS | P10–P90 coverage | lag-1 corr. sampled / real "
                 "| neighbour corr. sampled / real | train s | infer s | runs |",
                 "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for prot, by_method in by_prot.items():
            for method, r in by_method.items():
                mae_txt = f"{r['mae']:.3f}" + (f" ± {r['mae_std']:.3f}" if "mae_std" in r else "")
                crps_txt = _fmt(r.get("crps"), ".4f") + (f" ± {r['crps_std']:.4f}" if "crps_std" in r else "")
                lag = (f"{r['lag1_sampled']:.2f} / {r['lag1_real']:.2f}" if r.get("lag1_sampled") is not None
                       else "—")
                nbr = (f"{r['neighbour_sampled']:.2f} / {r['neighbour_real']:.2f}"
                       if r.get("neighbour_sampled") is not None else "—")
                lines.append(f"| {prot} | {method} | {mae_txt} | {r['mse']:.3f} | {r['mre']:.4f} | {crps_txt} | "
                             f"{_fmt(r.get('coverage'), '.3f')} | {lag} | {nbr} | {r['train_s']:.0f} | "
                             f"{r['infer_s']:.1f} | {int(r.get('runs', 1))} |")
        lines.append(f"<!-- /results:{city} -->")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + ("\n\n" + note if note else "") + "\n"
