"""The side-by-side run of the GRIN protocol: every method on the same masks, split and windows.

- Mask: the protocol's point or block mask, drawn with ``np.random.default_rng(mask_seed)``, ANDed with what
  was observed. Training (of the learned methods) sees only the first 70 % and never a value hidden by the
  point or the block mask, so one trained model serves both protocols.
- Windows of 24 steps with stride 1 inside the test part; the predictions of overlapping windows are
  averaged per time step (this model and the PyPOTS peers alike). Mean, interpolation and KNN need no windows.
- Metrics (MAE, MSE, MRE) on the original scale over the hidden test values only.
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
from explorer.models.imputer.metrics import all_metrics

METHODS = ("mean", "interpolation", "knn", "brits", "saits", "stcvae")


@dataclass
class Budget:
    """Training budget of the learned methods (quick mode shrinks everything to run inside CI)."""

    stcvae_steps: int = 600
    peer_epochs: int = 1
    peer_windows: int | None = 3200  # training windows drawn (fixed seed) for the peers; None = all of them
    quick_steps: int | None = None  # truncate the series to this many steps (quick mode)


QUICK = Budget(stcvae_steps=10, peer_epochs=1, peer_windows=256, quick_steps=700)


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
    from explorer.models.imputer.train import prepare_training

    prep = prepare_training(series, mask_seed)
    return np.where(prep.visible, prep.values, np.nan).astype(np.float32)


def run_pypots(name: str, series: pd.DataFrame, data: ProtocolData, epochs: int, seed: int,
               device: str = "cpu", cache_dir: Path | None = None,
               n_windows: int | None = None) -> tuple[np.ndarray, float, float]:
    """Train PyPOTS BRITS or SAITS on training windows, impute the test windows; (test pred, train_s, infer_s).

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
    a, b = data.bounds
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
    windows = _windows(test_in, b, len(test_in))
    imputed = model.predict({"X": windows})["imputation"]
    pred = _average_windows(np.asarray(imputed), b, len(test_in)) * sd + mu
    return pred, train_s, time.perf_counter() - t0


def run_stcvae(series: pd.DataFrame, data: ProtocolData, steps: int, seed: int,
               model: Any | None = None, train_s: float | None = None,
               device: str = "auto") -> tuple[np.ndarray, float, float]:
    """This model: train (unless a trained ``model`` is given) and predict the test part; (pred, train_s, infer_s)."""
    from explorer.models.imputer.infer import predict
    from explorer.models.imputer.train import TrainConfig, prepare_training, train

    if model is None:
        cfg = TrainConfig(steps=steps, seed=seed, mask_seed=data.seed, device=device,
                          val_every=max(1, steps // 4), threads=torch.get_num_threads())
        model, info = train(series, cfg=cfg, progress=False)
        train_s = info["train_s"]
    prep = prepare_training(series, data.seed)
    b = data.bounds[1]
    t0 = time.perf_counter()
    pred = predict(model, data.model_input, prep.slot, prep.daytype, start=b, stop=len(series), stride=1)
    return pred, float(train_s or 0.0), time.perf_counter() - t0


def evaluate(series: pd.DataFrame, adjacency: np.ndarray, protocol: Protocol, seeds: int = 1,
             budget: Budget | None = None, methods: tuple[str, ...] = METHODS, mask_seed: int = DEFAULT_SEED,
             trained: Any | None = None, trained_s: float | None = None,
             trained_metrics: dict[str, float] | None = None, cache_dir: Path | None = None,
             log: Callable[[str], None] = print) -> dict[str, dict[str, float]]:
    """Run ``methods`` on one city and protocol; returns ``{method: {mae, mse, mre, train_s, infer_s, ...}}``.

    ``trained`` is an already trained STImputer (e.g. the committed checkpoint, trained under this protocol)
    used for training seed 0 instead of training one; ``trained_s`` is its recorded training time.
    ``trained_metrics`` are that checkpoint's own test metrics for this protocol, computed at training time by
    the same code (same mask, split, windows): given, they are reported instead of predicting again.
    """
    budget = budget or Budget()
    if budget.quick_steps:
        series = series.iloc[:budget.quick_steps]
    data = prepare(series, protocol, mask_seed)
    a, b = data.bounds
    x, y, scored = data.model_input, data.target, data.scored("test")
    results: dict[str, dict[str, float]] = {}

    def score(pred_test: np.ndarray) -> dict[str, float]:
        full = np.zeros_like(y)
        full[b:] = pred_test
        return all_metrics(full, y, scored)

    simple = {
        "mean": lambda: mean_impute(x, a),
        "interpolation": lambda: interpolate_impute(x, a),
        "knn": lambda: knn_impute(x, a, adjacency),
    }
    for name in methods:
        runs: list[dict[str, float]] = []
        n_runs = 1 if name in simple else seeds
        for seed in range(n_runs):
            if name in simple:
                t0 = time.perf_counter()
                pred = simple[name]()[b:]
                tr, inf = 0.0, time.perf_counter() - t0
            elif name == "stcvae" and seed == 0 and trained_metrics is not None:
                runs.append({**{k: trained_metrics[k] for k in ("mae", "mse", "mre")},
                             "train_s": round(float(trained_s or 0.0), 1),
                             "infer_s": float(trained_metrics.get("infer_s", 0.0))})
                log(f"{protocol} {name} seed {seed}: MAE {runs[-1]['mae']:.4f} (checkpoint metadata)")
                continue
            elif name == "stcvae":
                use = trained if seed == 0 else None
                pred, tr, inf = run_stcvae(series, data, budget.stcvae_steps, seed, model=use, train_s=trained_s)
            else:
                pred, tr, inf = run_pypots(name, series, data, budget.peer_epochs, seed, cache_dir=cache_dir,
                                           n_windows=budget.peer_windows)
            runs.append({**score(pred), "train_s": round(tr, 1), "infer_s": round(inf, 1)})
            log(f"{protocol} {name} seed {seed}: MAE {runs[-1]['mae']:.4f}")
        agg = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        if len(runs) > 1:
            agg["mae_std"] = float(np.std([r["mae"] for r in runs]))
        agg["runs"] = len(runs)
        results[name] = agg
    return results


def markdown_table(results: dict[str, dict[str, dict[str, dict[str, float]]]], note: str = "") -> str:
    """A markdown table from ``{city: {protocol: {method: metrics}}}`` (generated, never typed)."""
    lines = ["| city | protocol | method | MAE | MSE | MRE | train s | infer s | runs |",
             "|---|---|---|---|---|---|---|---|---|"]
    for city, by_prot in results.items():
        for prot, by_method in by_prot.items():
            for method, r in by_method.items():
                mae_txt = f"{r['mae']:.3f}" + (f" ± {r['mae_std']:.3f}" if "mae_std" in r else "")
                lines.append(f"| {city} | {prot} | {method} | {mae_txt} | {r['mse']:.3f} | {r['mre']:.4f} | "
                             f"{r['train_s']:.0f} | {r['infer_s']:.1f} | {int(r.get('runs', 1))} |")
    return "\n".join(lines) + ("\n\n" + note if note else "") + "\n"
