"""What the app calls: fill a city's gaps with the committed imputer, with sampled uncertainty bands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from explorer.models.imputer.infer import predict, sample
from explorer.models.imputer.model import STImputer, time_features

if TYPE_CHECKING:
    from explorer.cities import City


@dataclass
class ImputationResult:
    """Wide frames aligned with ``city.series`` (restricted to the requested range).

    ``observed`` holds the measurements (NaN where missing). ``mean`` is the model's point estimate (latent at
    its prior mean, overlapping windows averaged); ``p10``/``p50``/``p90`` are quantiles over sampled fills,
    the P10-P90 band widened around P50 by the checkpoint's validation-fitted ``band_scale``; a series that is
    never negative (counts, speeds) gets no negative fill or band.
    Measured cells keep their measured value in every frame. ``imputed`` is True exactly where a value was
    filled; outside a sensor's active span (counters installed late or removed) nothing is filled: NaN there.
    """

    observed: pd.DataFrame
    mean: pd.DataFrame
    p10: pd.DataFrame
    p50: pd.DataFrame
    p90: pd.DataFrame
    imputed: pd.DataFrame
    n_samples: int
    seed: int
    checkpoint: dict[str, Any] = field(default_factory=dict)

    @property
    def filled(self) -> pd.DataFrame:
        """Measured values where present, the point estimate where imputed (NaN outside active spans)."""
        return self.mean


def fit_band_scale(model: STImputer, series: pd.DataFrame, n_samples: int = 20, seed: int = 0,
                   max_steps: int = 1000, target: float = 0.8) -> dict[str, float]:
    """Widening factor k of the sampled P10-P90 band (around P50) so it covers ``target`` of hidden values.

    Fitted on the validation part, inputs with both protocols' evaluation values hidden (as in training).
    """
    from explorer.models.imputer.train import prepare_training

    prep = prepare_training(series)
    a, b = prep.bounds
    stop = min(b, a + max_steps)
    x = np.where(prep.visible, prep.values, np.nan).astype(np.float32)
    draws = sample(model, x, prep.slot, prep.daytype, n_samples, seed, start=a, stop=stop)
    q10, q50, q90 = np.quantile(draws, [0.1, 0.5, 0.9], axis=0)
    hid = prep.hidden[a:stop]
    y = np.nan_to_num(prep.values[a:stop])[hid]
    lo, mid, hi = q10[hid], q50[hid], q90[hid]
    grid = np.arange(1.0, 6.01, 0.05)
    cover = np.array([((y >= mid - k * (mid - lo)) & (y <= mid + k * (hi - mid))).mean() for k in grid])
    best = int(np.argmin(np.abs(cover - target)))
    return {"band_scale": round(float(grid[best]), 2), "val_coverage": round(float(cover[best]), 4),
            "val_coverage_uncalibrated": round(float(cover[0]), 4), "n_samples": n_samples, "val_steps": stop - a}


def _range(index: pd.DatetimeIndex, start: Any, end: Any, window: int) -> tuple[int, int]:
    lo = 0 if start is None else int(index.searchsorted(pd.Timestamp(start), side="left"))
    hi = len(index) if end is None else int(index.searchsorted(pd.Timestamp(end), side="right"))
    if hi - lo < window:  # widen to one window so the model has a full input
        hi = min(len(index), lo + window)
        lo = max(0, hi - window)
    return lo, hi


def impute(city: City, n_samples: int = 20, seed: int = 0, start: Any = None, end: Any = None,
           model: STImputer | None = None, meta: dict[str, Any] | None = None) -> ImputationResult:
    """Impute ``city``'s gaps in [start, end] (timestamps; default: the whole series).

    Loads the committed checkpoint unless ``model`` is given (it refuses a checkpoint made for another city or
    other data). Each gap is filled only inside its sensor's active span (``city.active_spans()``).
    """
    if model is None:
        from explorer.models.imputer.store import load_imputer

        model, meta = load_imputer(city)
    if n_samples < 1:
        raise ValueError("n_samples must be at least 1")
    series = city.series
    lo, hi = _range(pd.DatetimeIndex(series.index), start, end, model.cfg.window)
    x = series.to_numpy(dtype=np.float32)
    step = pd.Timedelta(city.freq).total_seconds()
    slot, daytype = time_features(series.index, step, model.cfg.slots_per_day)
    point = predict(model, x, slot, daytype, start=lo, stop=hi, stride=max(1, model.cfg.window // 2))
    draws = sample(model, x, slot, daytype, n_samples, seed, start=lo, stop=hi)  # (S, T, N)
    q10, q50, q90 = np.quantile(draws, [0.1, 0.5, 0.9], axis=0)
    k = float(((meta or {}).get("calibration") or {}).get("band_scale", 1.0))
    q10, q90 = q50 - k * (q50 - q10), q50 + k * (q90 - q50)  # widen by the validation-fitted factor
    if np.nanmin(x) >= 0:  # counts and speeds are never negative: neither is a fill nor its band
        point, q10, q50, q90 = (np.maximum(a, 0.0) for a in (point, q10, q50, q90))

    obs = x[lo:hi]
    measured = ~np.isnan(obs)
    active = city.active_mask().to_numpy()[lo:hi]
    fill = active & ~measured

    def frame(values: np.ndarray) -> pd.DataFrame:
        out = np.where(measured, obs, np.where(fill, values, np.nan)).astype(np.float32)
        return pd.DataFrame(out, index=series.index[lo:hi], columns=series.columns)

    lows = np.minimum(q10, point)  # keep the point estimate inside its band
    highs = np.maximum(q90, point)
    return ImputationResult(
        observed=series.iloc[lo:hi].copy(), mean=frame(point), p10=frame(lows), p50=frame(q50), p90=frame(highs),
        imputed=pd.DataFrame(fill, index=series.index[lo:hi], columns=series.columns),
        n_samples=n_samples, seed=seed, checkpoint={k: (meta or {}).get(k) for k in ("created", "metrics", "command")},
    )
