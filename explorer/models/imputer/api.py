"""What the app calls: fill a city's gaps with the committed imputer, with sampled uncertainty bands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from explorer.models.imputer.data import prepare_training
from explorer.models.imputer.infer import draw_residuals, to_original, window_outputs
from explorer.models.imputer.masks import DEFAULT_SEED
from explorer.models.imputer.model import STImputer, time_features

if TYPE_CHECKING:
    from explorer.cities import City


@dataclass
class ImputationResult:
    """Wide frames aligned with ``city.series`` (restricted to the requested range).

    ``observed`` holds the measurements (NaN where missing). ``mean`` is the model's point estimate (overlapping
    windows averaged); ``p10``/``p50``/``p90`` are quantiles over ``n_samples`` sampled fills, each the point
    estimate plus a residual drawn from the graph-autoregressive model, scaled by the model's
    validation-fitted ``band_scale``. ``samples`` keeps the first few sampled fills (K, T, N) to draw; each
    is coherent over time and neighbours. A series that is never negative (counts, speeds) gets no negative
    fill, band or sample.
    Measured cells keep their measured value in every frame and sample. ``imputed`` is True exactly where a
    value was filled; outside a sensor's active span (counters installed late or removed) nothing is filled:
    NaN there.
    """

    observed: pd.DataFrame
    mean: pd.DataFrame
    p10: pd.DataFrame
    p50: pd.DataFrame
    p90: pd.DataFrame
    imputed: pd.DataFrame
    n_samples: int
    seed: int
    samples: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), np.float32))
    checkpoint: dict[str, Any] = field(default_factory=dict)

    def sample_frame(self, k: int) -> pd.DataFrame:
        """Sampled fill ``k`` as a wide frame (measured values where measured, NaN outside active spans)."""
        return pd.DataFrame(self.samples[k], index=self.observed.index, columns=self.observed.columns)

    @property
    def filled(self) -> pd.DataFrame:
        """Measured values where present, the point estimate where imputed (NaN outside active spans)."""
        return self.mean


def fit_band_scale(model: STImputer, series: pd.DataFrame, n_samples: int = 20, seed: int = 0,
                   max_steps: int = 1000, target: float = 0.8, mask_seed: int = DEFAULT_SEED) -> dict[str, float]:
    """Factor k on the sampled residual so the P10-P90 band covers ``target`` of hidden validation values.

    Fitted on the validation part, inputs with both protocols' evaluation values hidden (as in training);
    the fill is ``loc + k * residual``, so its quantiles are ``loc + k * (residual quantiles)``.
    """
    prep = prepare_training(series, mask_seed)
    a, b = prep.bounds
    stop = min(b, a + max_steps)
    x = np.where(prep.visible, prep.values, np.nan).astype(np.float32)
    out = window_outputs(model, x, prep.slot, prep.daytype, start=a, stop=stop, stride=max(1, model.cfg.window // 2))
    res = draw_residuals(model, out, np.isnan(x[a:stop]), n_samples, seed)  # (S, T, N) normalised
    r10, r90 = np.quantile(res, [0.1, 0.9], axis=0)
    hid = prep.hidden[a:stop]
    std = model.std.numpy()
    y = ((np.nan_to_num(prep.values[a:stop]) - to_original(model, out["loc"])) / std)[hid]  # normalised errors
    lo, hi = r10[hid], r90[hid]
    grid = np.arange(0.5, 4.001, 0.05)
    cover = np.array([((y >= k * lo) & (y <= k * hi)).mean() for k in grid])
    best = int(np.argmin(np.abs(cover - target)))
    return {"band_scale": round(float(grid[best]), 2), "val_coverage": round(float(cover[best]), 4),
            "val_coverage_uncalibrated": round(float(((y >= lo) & (y <= hi)).mean()), 4),
            "n_samples": n_samples, "val_steps": stop - a}


def _range(index: pd.DatetimeIndex, start: Any, end: Any, window: int) -> tuple[int, int]:
    lo = 0 if start is None else int(index.searchsorted(pd.Timestamp(start), side="left"))
    hi = len(index) if end is None else int(index.searchsorted(pd.Timestamp(end), side="right"))
    if hi - lo < window:  # widen to one window so the model has a full input
        hi = min(len(index), lo + window)
        lo = max(0, hi - window)
    return lo, hi


def impute(city: City, n_samples: int = 20, seed: int = 0, start: Any = None, end: Any = None,
           model: STImputer | None = None, meta: dict[str, Any] | None = None,
           keep_samples: int = 5) -> ImputationResult:
    """Impute ``city``'s gaps in [start, end] (timestamps; default: the whole series).

    Loads the committed checkpoint unless ``model`` is given (it refuses a checkpoint made for another city or
    other data). Each gap is filled only inside its sensor's active span (``city.active_spans()``).
    ``keep_samples`` sampled fills are kept in the result for drawing.
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
    out = window_outputs(model, x, slot, daytype, start=lo, stop=hi, stride=max(1, model.cfg.window // 2))
    k = float(model.band_scale)  # validation-fitted when the model was trained (fit_band_scale)
    obs = x[lo:hi]
    measured = ~np.isnan(obs)
    res = draw_residuals(model, out, ~measured, n_samples, seed)  # (S, T, N) normalised
    point = to_original(model, out["loc"])
    draws = to_original(model, out["loc"][None] + k * res)
    if np.nanmin(x) >= 0:  # counts and speeds are never negative: neither is a fill, its band or a sample
        point, draws = np.maximum(point, 0.0), np.maximum(draws, 0.0)
    q10, q50, q90 = np.quantile(draws, [0.1, 0.5, 0.9], axis=0)

    active = city.active_mask().to_numpy()[lo:hi]
    fill = active & ~measured

    def values(v: np.ndarray) -> np.ndarray:
        return np.where(measured, obs, np.where(fill, v, np.nan)).astype(np.float32)

    def frame(v: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values(v), index=series.index[lo:hi], columns=series.columns)

    return ImputationResult(
        observed=series.iloc[lo:hi].copy(), mean=frame(point), p10=frame(np.minimum(q10, point)), p50=frame(q50),
        p90=frame(np.maximum(q90, point)),  # the point estimate (a median) stays inside its band
        imputed=pd.DataFrame(fill, index=series.index[lo:hi], columns=series.columns),
        n_samples=n_samples, seed=seed, samples=np.stack([values(d) for d in draws[:keep_samples]]),
        checkpoint={key: (meta or {}).get(key) for key in ("created", "metrics", "command")},
    )
