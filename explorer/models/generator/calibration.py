"""Calibrations fitted after training on the validation days (never on the held-out ones).

* **spread** ``alpha``: one factor on the event-free residual spread so that 80 % of the validation readings
  fall inside the generated P10-P90 band;
* **event size** ``event_gain``: one factor on the learned event response so that events asked for on
  validation days come out at the requested size at their place (smallest mean relative error, the
  controllability measure of :mod:`explorer.models.generator.evaluate`). The error as trained (gain 1) is
  recorded beside the calibrated one: the gain sets the overall size; where and when the response spreads,
  and how uncertain it is, stay as learned.

The requests are shaped like the surges labelled in the training split (place, size, duration), on
calendar days of the split being measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from explorer.models.generator.api import KIND, GeneratorBundle, checkpoint_base, generate
from explorer.models.generator.data import Prepared, prepare
from explorer.models.generator.events import surges_from_prepared
from explorer.models.generator.model import calendar_features
from explorer.models.generator.result import generated_size
from explorer.scenarios.schema import Scenario

COV_TARGET = 0.8
EVENT_GAIN_BOUNDS = (0.5, 2.0)


def calibrate(bundle: GeneratorBundle, prep: Prepared, *, quick: bool = False) -> dict[str, Any]:
    """Both calibrations on the validation days, in order (the event gain is fitted on calibrated
    samples); sets them on ``bundle`` and returns the figures for the checkpoint's metrics."""
    days = prep.splits["val"][:2] if quick else prep.splits["val"]
    alpha, cov_raw, cov_cal = calibrate_spread(bundle, prep, days, n_samples=8 if quick else 64)
    bundle.alpha = alpha
    out: dict[str, Any] = {"alpha": alpha, "val_coverage_raw": round(cov_raw, 4),
                           "val_coverage_calibrated": round(cov_cal, 4)}  # fmt: skip
    out.update(calibrate_event_gain(bundle, prep, k=8 if quick else 80, n_samples=8 if quick else 32))
    return out


def calibrate_spread(
    bundle: GeneratorBundle, prep: Prepared, days: np.ndarray, n_samples: int = 64, seed: int = 1234
) -> tuple[float, float, float]:
    """Spread factor alpha on the event-free residual for 80 % P10-P90 coverage on ``days``: (alpha, coverage
    as trained, coverage calibrated). The same rule the evaluation applies to every baseline."""
    lo, hi, real, obs = [], [], [], []
    empty = np.zeros((24, prep.n), np.float32)
    for d in days:
        cond = calendar_features(np.arange(24), np.full(24, prep.dow[d]), np.full(24, prep.holiday[d]))
        q = np.quantile(bundle.sample(cond, empty, seed + int(d), n_samples)[0], [0.1, 0.9], axis=0)
        lo.append(q[0])
        hi.append(q[1])
        real.append(np.nan_to_num((prep.y[d] - prep.mu[prep.dtype[d]]) / prep.sd[prep.dtype[d]]))
        obs.append(prep.mask[d] & prep.has_history[None])
    return coverage_alpha(*(np.stack(a) for a in (lo, hi, real, obs)))


def coverage_alpha(lo: np.ndarray, hi: np.ndarray, real: np.ndarray, observed: np.ndarray
                   ) -> tuple[float, float, float]:
    """The factor on a residual band (P10 ``lo``, P90 ``hi``, around the profile) for 80 % coverage of the
    ``observed`` real residuals (grid 0.3-4): (alpha, coverage raw, coverage calibrated)."""
    rv, lv, hv = real[observed], lo[observed], hi[observed]

    def cover(a: float) -> float:
        return float(((rv >= a * lv) & (rv <= a * hv)).mean())

    grid = np.linspace(0.3, 4.0, 75)
    covs = np.array([cover(a) for a in grid])
    alpha = round(float(grid[int(np.argmin(np.abs(covs - COV_TARGET)))]), 3)
    return alpha, cover(1.0), cover(alpha)


def recalibrate_checkpoint(city: Any, path: str | Path | None = None, *, command: str | None = None) -> Path:
    """Refit both calibrations of a trained checkpoint (weights untouched) and write it back with its
    metrics updated; the training command and config stay as they were."""
    from explorer.models.checkpoint import save_checkpoint
    from explorer.models.generator.api import load_generator

    bundle = load_generator(city, path)
    base = Path(path) if path is not None else checkpoint_base(bundle.view)
    prep = prepare(bundle.view)
    bundle.alpha, bundle.event_gain = 1.0, 1.0
    figures = calibrate(bundle, prep, quick=bool(bundle.meta.get("dry_run")))
    meta = {k: v for k, v in bundle.meta.items()
            if k not in ("format_version", "package_version", "city", "data_hash", "weights_sha256", "created",
                         "torch_version")}  # fmt: skip
    meta["metrics"] = {**meta.get("metrics", {}), **figures}
    meta["trained"] = bundle.meta.get("trained") or bundle.meta.get("created")
    if command:
        meta["calibration_command"] = command
    return save_checkpoint(base, bundle.tensors(), meta, bundle.view.city, kind=KIND)


def event_requests(prep: Prepared, k: int, seed: int, split: str = "test") -> list[Scenario]:
    """``k`` event requests shaped like the surges labelled in the training split, on days of ``split``."""
    rng = np.random.default_rng(seed)
    table, _ = surges_from_prepared(prep)
    train_end = np.datetime64(str(prep.dates[prep.splits["train"][-1]])) + np.timedelta64(1, "D")
    table = table[(table["start"].to_numpy() < train_end) & (table["duration_hours"] <= 6)]
    speed = prep.view.domain == "speed"
    out = []
    for j in range(k):
        row = table.iloc[int(rng.integers(len(table)))]
        day = prep.dates[int(rng.choice(prep.splits[split]))]
        start = int(rng.integers(0, 24 - int(row["duration_hours"]) + 1))
        if speed:
            mag, unit = float(np.clip(row["size_native"], 5, 90)), "percent_slower"
        elif j % 2:
            mag, unit = float(np.clip(100 * np.expm1(row["size"]), 5, 1000)), "percent"
        else:
            mag, unit = float(np.clip(row["size_native"], 1, 50_000)), "people"
        out.append(
            Scenario(
                city=prep.view.slug,
                day={"date": day},
                start_hour=0,
                horizon_hours=24,
                events=[{
                    "place": {"sensor_id": str(row["sensor_id"])}, "magnitude": round(mag, 1), "unit": unit,
                    "start_offset_hours": start, "duration_hours": int(row["duration_hours"]),
                    "reach_km": 0.0 if j % 4 < 2 else 1.0,
                }],
            )
        )  # fmt: skip
    return out


def request_errors(bundle: GeneratorBundle, requests: list[Scenario], n_samples: int, seed: int) -> np.ndarray:
    """Relative error |generated - requested| / requested of each request's size at its place."""
    ids = bundle.view.sensor_ids
    errs = []
    for j, sc in enumerate(requests):
        ev = sc.events[0]
        res = generate(bundle.view, sc, n_samples=n_samples, seed=seed + j, model=bundle)
        got = generated_size(res, ev, ids.index(ev.place.sensor_id))  # type: ignore[arg-type]
        errs.append(abs(got - ev.magnitude) / ev.magnitude)
    return np.asarray(errs)


def calibrate_event_gain(
    bundle: GeneratorBundle, prep: Prepared, k: int = 80, n_samples: int = 32, seed: int = 4321
) -> dict[str, Any]:
    """Fit the event gain on ``k`` validation-day requests (bounded Brent search) and set it on ``bundle``;
    kept only if it lowers the mean relative error. Deterministic. Returns the figures, with the validation
    error as trained (gain 1) for comparison."""
    requests = event_requests(prep, k, seed, split="val")
    old = bundle.event_gain

    def loss(g: float) -> float:
        bundle.event_gain = float(g)
        return float(request_errors(bundle, requests, n_samples, seed).mean())

    try:
        before = loss(1.0)
        fit = minimize_scalar(loss, bounds=EVENT_GAIN_BOUNDS, method="bounded", options={"xatol": 0.01})
        gain = round(float(fit.x), 3)
        after = loss(gain)
        if after >= before - 1e-4:
            gain, after = 1.0, before
    except BaseException:
        bundle.event_gain = old
        raise
    bundle.event_gain = gain
    return {"event_gain": gain, "val_requests": k, "val_ctrl_error_raw": round(before, 4),
            "val_ctrl_error_calibrated": round(after, 4)}  # fmt: skip
