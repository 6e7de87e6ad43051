"""Generate what-if scenarios: ``generate(city, scenario, n_samples, seed) -> ScenarioResult``.

Baseline and scenario samples are drawn with the **same noise** (one torch generator seeded with
``seed``), so their difference isolates the events. A scenario's events are given to the model by their
**origin** only (place, hours, size at the place); where and when the effect spreads is the model's learned
event response (:class:`explorer.models.generator.model.EventResponse`). An event's ``reach_km`` is an upper
bound: the response is kept only at sensors within that distance of the place (0: the place alone).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from explorer.cities.manifest import Kind
from explorer.cities.view import CityView, as_view
from explorer.geo import great_circle_km
from explorer.models.generator.data import (
    MIN_SD,
    inverse,
    inverse_inplace,
    is_holiday,
    training_range,
    window_calendar,
)
from explorer.models.generator.model import Generator, GeneratorConfig, calendar_features, dev_limits
from explorer.models.generator.result import ScenarioResult, generated_size, headline
from explorer.models.generator.sampling import sample_base
from explorer.scenarios.schema import Event, Scenario, ScenarioError, validate_for_city

KIND = "generator"
MIN_WEIGHT = 0.05  # event reach: sensors with a weight below this are not painted


@dataclass
class GeneratorBundle:
    """A trained generator with everything needed to sample: profile, spread calibration, sensors."""

    model: Generator
    config: GeneratorConfig
    mu: np.ndarray  # (7, 24, N) seasonal profile, model space
    sd: np.ndarray  # (7, 24, N) robust spread, model space
    alpha: float  # spread calibration: factor on the event-free residual (validation days)
    view: CityView
    meta: dict[str, Any] = field(default_factory=dict)
    event_gain: float = 1.0  # event-size calibration (validation requests); 1 = as trained

    @property
    def domain(self) -> Kind:
        return self.view.domain

    @property
    def count_scale(self) -> float:
        """Counts: the event branch's unit in people per hour (1 for speeds)."""
        return float(self.model.event_scale)

    @cached_property
    def sensors_without_history(self) -> list[str]:
        """Sensors with no reading in the training split (installed later): their profile is a
        placeholder and the generator has learned nothing about them."""
        flat = np.all(self.mu == 0, axis=(0, 1)) & np.all(np.isclose(self.sd, 4 * MIN_SD[self.domain]), axis=(0, 1))
        return [s for s, f in zip(self.view.sensor_ids, flat, strict=True) if f]

    @cached_property
    def observed_range(self) -> tuple[np.ndarray, np.ndarray]:
        """(N,) each sensor's lowest and highest hourly value on the training days: event-free samples are kept
        inside it (no bound where the checkpoint does not record its training days)."""
        train = (self.meta.get("splits") or {}).get("train")
        if not train:
            n = len(self.view.sensor_ids)
            return np.full(n, -np.inf, np.float32), np.full(n, np.inf, np.float32)
        return training_range(self.view, train[0], train[-1])

    def tensors(self) -> dict[str, torch.Tensor]:
        """Everything that goes into the safetensors file."""
        t = {f"g.{k}": v for k, v in self.model.state_dict().items()}
        t["mu"] = torch.from_numpy(self.mu)
        t["sd"] = torch.from_numpy(self.sd)
        t["alpha"] = torch.tensor([self.alpha], dtype=torch.float32)
        t["event_gain"] = torch.tensor([self.event_gain], dtype=torch.float32)
        return t

    @torch.inference_mode()
    def sample(
        self, cond: np.ndarray, field: np.ndarray, seed: int, n_samples: int, limit: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Event-free residuals of ``n_samples`` draws (before the spread calibration ``alpha``), the sensors the
        events change, and their deviation there (same noise; times ``event_gain``).

        cond: (24, COND_DIM); field: (24, N) origin field in event units; limit: (N,) bool, sensors the response
        may reach (None: any). Returns (S, 24, N), (M,) sensor indices and (S, 24, M) deviation in event units
        (log ratio / fraction slower): the scenario is the baseline changed at M sensors (M = 0 without events).
        """
        dev_ = next(self.model.parameters()).device  # noise is drawn on CPU: same seed, same noise on any device
        g = torch.Generator().manual_seed(int(seed))
        z = tuple(t.to(dev_) for t in self.model.noise(n_samples, g))
        c = torch.from_numpy(cond).float().to(dev_)[None].expand(n_samples, -1, -1)
        base = sample_base(self.model, z, c)
        f = torch.from_numpy(np.asarray(field, np.float32)).to(dev_)[None]
        if not bool(f.any()):
            return base.cpu().numpy(), np.zeros(0, np.int64), np.zeros((n_samples, 24, 0), np.float32)
        cols, resp = self.model.event.support(f)
        if limit is not None:
            ok = torch.from_numpy(np.asarray(limit, bool)).to(dev_)[cols]
            cols, resp = cols[ok], resp[:, ok]
        origin = f[0].abs().amax(0)[cols] > 0
        dev = self.model.event.sample_at(resp, cols, c, z[3], z[4][:, cols], origin).mul_(self.event_gain)
        lo, hi = dev_limits(self.domain)
        return base.cpu().numpy(), cols.cpu().numpy(), dev.clamp_(lo, hi).cpu().numpy()


def checkpoint_base(view: CityView) -> Path:
    """``data/cities/<slug>/models/generator`` (without suffix)."""
    folder = getattr(view.city, "models_dir", None)
    if folder is None:
        raise ScenarioError(f"city {view.slug} has no models folder")
    return Path(folder) / KIND


def load_generator(city: Any, path: str | Path | None = None, *, device: str | torch.device = "cpu") -> GeneratorBundle:
    """Load the city's generator checkpoint (refuses another city's or other data's) onto ``device``
    (default CPU; "auto" = CUDA when present)."""
    from explorer.models.checkpoint import load_checkpoint

    view = as_view(city)
    base = Path(path) if path is not None else checkpoint_base(view)
    tensors, meta = load_checkpoint(base, view.city, KIND)
    cfg = GeneratorConfig.from_dict(meta["config"])
    model = Generator(cfg, view.adjacency)
    try:
        model.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("g.")})
    except RuntimeError:
        from explorer.models.checkpoint import CheckpointError

        raise CheckpointError(
            f"the generator checkpoint of {view.slug} was written by another version of the model",
            fix=f"train it again: explorer generate train --city {view.slug}",
        ) from None
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device).eval()
    return GeneratorBundle(
        model=model,
        config=cfg,
        mu=tensors["mu"].numpy(),
        sd=tensors["sd"].numpy(),
        alpha=float(tensors["alpha"][0]),
        view=view,
        meta=meta,
        event_gain=float(tensors["event_gain"][0]) if "event_gain" in tensors else 1.0,
    )


# ---------------------------------------------------------------- scenario -> origin field


def place_index(view: CityView, ev: Event) -> tuple[int, float, float]:
    """The event's origin sensor and the place's lat/lon: the sensor itself; for a zone, the sensor inside it
    nearest its centroid (else the nearest to the centroid); for a lat/lon, the nearest sensor."""
    p = ev.place
    if p.sensor_id is not None:
        i = view.sensor_ids.index(p.sensor_id)
        return i, float(view.lat[i]), float(view.lon[i])
    if p.zone_id is not None:
        import shapely

        zone = view.zones[view.zones["zone_id"].astype(str) == p.zone_id].geometry.iloc[0]
        c = zone.centroid
        d = great_circle_km(c.y, c.x, view.lat, view.lon)
        inside = shapely.contains_xy(zone, view.lon, view.lat)
        if inside.any():
            d = np.where(inside, d, np.inf)
        return int(np.argmin(d)), float(c.y), float(c.x)
    d = great_circle_km(p.lat, p.lon, view.lat, view.lon)
    return int(np.argmin(d)), float(p.lat), float(p.lon)  # type: ignore[arg-type]


def event_size(ev: Event, base: np.ndarray, scale: float) -> np.ndarray:
    """The requested size at the origin in event units per hour of the event: extra people per hour over the
    model's count ``scale`` (``percent`` turned into people with the origin's usual counts ``base``), or the
    fraction slower."""
    if ev.unit == "people":
        return np.full(len(base), ev.magnitude / scale)
    if ev.unit == "percent":
        return base * ev.magnitude / 100.0 / scale
    return np.full(len(base), min(ev.magnitude / 100.0, 0.95))


def origin_field(bundle: GeneratorBundle, scenario: Scenario, mu_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(24, N) origin field of the scenario's events in event units (:func:`event_size`), and (N,) the sensors
    their responses may reach (within each event's ``reach_km`` of its place)."""
    view = bundle.view
    n = mu_w.shape[1]
    f = np.zeros((24, n), np.float64)
    limit = np.zeros(n, bool)
    base = inverse(mu_w, bundle.domain)  # (24, N) native
    for ev in scenario.events:
        i, lat, lon = place_index(view, ev)
        t = slice(ev.start_offset_hours, ev.start_offset_hours + ev.duration_hours)
        f[t, i] += event_size(ev, base[t, i], bundle.count_scale)
        limit |= great_circle_km(lat, lon, view.lat, view.lon) <= ev.reach_km
        limit[i] = True
    lo, hi = dev_limits(bundle.domain)
    return np.clip(f, lo, hi).astype(np.float32), limit


def _event_checks(res: ScenarioResult, bundle: GeneratorBundle) -> list[dict[str, Any]]:
    """Per event: the requested magnitude and the generated one at the place (median over samples of
    the mean over the event's hours inside the horizon, same unit), so a page can show both."""
    out = []
    for i, ev in enumerate(res.scenario.events):
        p = place_index(bundle.view, ev)[0]
        got = generated_size(res, ev, p)
        out.append(
            {"event": i, "sensor_id": res.sensor_ids[p], "unit": ev.unit, "requested": ev.magnitude,
             "generated": float(got)}
        )  # fmt: skip
    return out


def _day(bundle: GeneratorBundle, scenario: Scenario) -> tuple[int, bool, bool, pd.Timestamp]:
    dc = scenario.day
    view = bundle.view
    if dc.date is not None:
        hol = dc.holiday or is_holiday(view, dc.date)
        nxt = is_holiday(view, dc.date + dt.timedelta(days=1))
        start = pd.Timestamp(dc.date)
    else:
        hol, nxt = dc.holiday, False
        start = pd.Timestamp("2000-01-03") + pd.Timedelta(days=dc.weekday)  # 2000-01-03 was a Monday
    return dc.weekday, bool(hol), bool(nxt), start + pd.Timedelta(hours=scenario.start_hour)


def generate(
    city: Any,
    scenario: Scenario,
    n_samples: int = 64,
    seed: int = 0,
    *,
    model: GeneratorBundle | None = None,
) -> ScenarioResult:
    """Sample the scenario and its baseline (same noise) for every sensor; deterministic per seed.

    ``city``: slug, City or CityView; ``model``: a bundle from :func:`load_generator` (loaded once
    and cached by the app); loaded from the city's checkpoint when omitted.
    """
    t0 = time.perf_counter()
    bundle = model if model is not None else load_generator(city)
    slug = city if isinstance(city, str) else getattr(city, "slug", None)
    if slug is not None and slug != bundle.view.slug:
        raise ScenarioError(f"the model is for {bundle.view.slug!r}, not {slug!r}")
    validate_for_city(scenario, bundle.view)
    no_history = bundle.sensors_without_history
    for i, e in enumerate(scenario.events):
        if e.place.sensor_id is not None and e.place.sensor_id in no_history:
            raise ScenarioError(
                f"event {i}: sensor {e.place.sensor_id} has no history in the model's training period; "
                "choose another sensor or a nearby lat/lon"
            )
    if not 1 <= n_samples <= 4096:
        raise ScenarioError(f"n_samples must be between 1 and 4096, got {n_samples}")
    dow, hol, nxt, start = _day(bundle, scenario)
    hours, dows, hols = window_calendar(dow, hol, scenario.start_hour, nxt)
    types = np.where(hols, 6, dows)
    mu_w = bundle.mu[types, hours]  # (24, N)
    sd_w = bundle.sd[types, hours]
    field, limit = origin_field(bundle, scenario, mu_w)
    r, cols, dev = bundle.sample(calendar_features(hours, dows, hols), field, seed, n_samples, limit)
    r *= np.float32(bundle.alpha)  # the spread calibration widens the event-free residual around the profile
    h = scenario.horizon_hours
    r *= sd_w  # -> native values, in place (a 10,000-sensor batch is 61 MB per copy)
    r += mu_w
    base = inverse_inplace(r, bundle.domain)
    np.clip(base, *bundle.observed_range, out=base)  # never beyond what each sensor recorded in training
    base = base if h == 24 else np.ascontiguousarray(base[:, :h])
    scen = base.copy()
    if len(cols):  # counts: extra people added; speeds: speed x (1 - fraction slower)
        b_c, d_c = base[:, :, cols], dev[:, :h]
        if bundle.domain == "counts":
            scen[:, :, cols] = np.maximum(b_c + bundle.count_scale * d_c, 0.0)
        else:
            scen[:, :, cols] = np.clip(b_c * (1.0 - d_c), 0.0, 90.0)
    res = ScenarioResult(
        scenario=scenario,
        city=bundle.view.slug,
        domain=bundle.domain,
        unit=bundle.view.unit,
        sensor_ids=list(bundle.view.sensor_ids),
        times=pd.date_range(start, periods=h, freq="1h"),
        baseline=base,
        scenario_samples=scen,
        event_field=field[:h],
        seed=seed,
        elapsed_ms=0.0,
        sensors_without_history=no_history,
        changed=cols,
    )
    res.headline = headline(res)
    res.headline["events_requested_vs_generated"] = _event_checks(res, bundle)
    if bundle.domain == "counts" and scenario.events:  # sizes that add up: the city-wide total against the ask
        asked = float(field[:h].sum() * bundle.count_scale)
        res.headline["requested_extra_people_hours"] = asked
        res.headline["share_of_request_p10_p50_p90"] = [
            x / max(asked, 1e-9) for x in res.headline["extra_pedestrian_hours_p10_p50_p90"]]
    res.elapsed_ms = 1000 * (time.perf_counter() - t0)
    return res


__all__ = [
    "GeneratorBundle",
    "ScenarioResult",
    "origin_field",
    "place_index",
    "generate",
    "load_generator",
]
