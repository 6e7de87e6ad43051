"""Training loop: WGAN-GP on 24-hour windows of masked residuals, with proper-scoring and origin losses.

* Data: the training split (first 70 % of days) of the hourly, transformed series; missing readings
  are **masked** (the critic sees ``residual * mask`` and the mask, for real and generated windows alike),
  nothing is imputed.
* Windows: 24 consecutive hours starting at any hour (so scenarios may start at any hour).
* Conditioning: calendar of each hour and the **origin field** of the episodes in the window
  (:mod:`explorer.models.generator.episodes`): for each episode only its origin (sensor, hours, size), what
  a planner states. Each episode is given as a condition with probability ``keep_origin``; the others stay
  in the data unannounced, so the event-free part learns a typical day (surges happen) and the event branch
  learns what an announced event adds, everywhere else and at other hours included.
* Losses: the WGAN critic (joint structure over sensors and hours); the CRPS of two samples per window at
  every observed cell (a proper scoring rule: calibrated, sharp marginals, the footprint of announced events
  included); at the origins, the relative error of the generated size (controllability); optionally the
  per-sensor quantile loss of earlier versions (weight 0 by default).
* Calibration: after training, on the validation days (the next 10 % of days), one factor ``alpha``
  scales the residual spread so that 80 % of the readings fall inside P10-P90, and one factor
  ``event_gain`` the event response so that requested sizes come out at their place
  (:mod:`explorer.models.generator.calibration`); both are reported beside the uncalibrated figures.
* Resumable: a partial checkpoint ``generator.partial.pt`` is written every ``save_every`` steps and
  picked up by the next run with the same city, data and config.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from explorer.cities.view import CityView, as_view
from explorer.models.generator.api import KIND, GeneratorBundle, checkpoint_base
from explorer.models.generator.calibration import calibrate
from explorer.models.generator.data import Prepared, flat_calendar, prepare
from explorer.models.generator.episodes import count_scale, episodes, footprint_shares, origin_field
from explorer.models.generator.model import Critic, Generator, GeneratorConfig, calendar_features

LEVELS = np.array([0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99])


@dataclass
class TrainData:
    """Flat hourly arrays of a run of consecutive days, (T, N) each, and valid window starts."""

    r: torch.Tensor
    m: torch.Tensor
    o: torch.Tensor  # origin field of the episodes, event units (log ratio / fraction slower)
    ep: torch.Tensor  # (T, N) long: the episode each origin cell belongs to (-1: none)
    mu: torch.Tensor
    sd: torch.Tensor
    cond: torch.Tensor  # (T, COND_DIM)
    starts: np.ndarray
    n_episodes: int
    q_real: torch.Tensor | None = None  # (len(LEVELS), N) per-sensor quantiles of the observed residuals

    @property
    def q_levels(self) -> torch.Tensor:
        return torch.tensor(LEVELS, dtype=torch.float32, device=self.r.device)

    def batch(self, idx: np.ndarray, keep: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        """Windows starting at ``idx``: (r, m, origin field, mu, sd, cond), each (B, 24, ...). ``keep`` (n_episodes,)
        bool: which episodes are announced (default: all)."""
        w = torch.from_numpy(idx[:, None] + np.arange(24)[None]).to(self.r.device)  # (B, 24)
        o = self.o[w]
        if keep is not None:
            ep = self.ep[w]
            o = o * (keep[ep.clamp(min=0)] & (ep >= 0))
        return self.r[w], self.m[w], o, self.mu[w], self.sd[w], self.cond[w]

    def to(self, device: torch.device) -> TrainData:
        ts = (self.r, self.m, self.o, self.ep, self.mu, self.sd, self.cond)
        q = None if self.q_real is None else self.q_real.to(device)
        return TrainData(*(t.to(device) for t in ts), self.starts, self.n_episodes, q)


def build_train_data(prep: Prepared, eps: pd.DataFrame, days: np.ndarray, min_observed: float = 0.2,
                     clip: float = 16.0, scale: float = 1.0) -> TrainData:
    """Flatten ``days`` (consecutive) of residual, mask, origin field, profile and calendar."""
    n = prep.n
    r = prep.residual(clip)[days].reshape(-1, n)
    m = prep.mask[days].reshape(-1, n).astype(np.float32)
    shape = (len(prep.dates) * 24, n)
    o = origin_field(eps, shape, prep.view.domain, scale)
    ep = np.full(shape, -1, np.int64)
    for k, (sensor, t, d) in enumerate(eps[["origin", "t0", "duration_hours"]].itertuples(index=False)):
        ep[int(t):int(t) + int(d), int(sensor)] = k
    hrs = (days[:, None] * 24 + np.arange(24)[None]).reshape(-1)
    o, ep = o[hrs], ep[hrs]
    mu = prep.mu[prep.dtype[days]].reshape(-1, n)
    sd = prep.sd[prep.dtype[days]].reshape(-1, n)
    hours, dows, hols = (a.reshape(len(prep.dates), 24)[days].reshape(-1) for a in flat_calendar(prep))
    cond = calendar_features(hours, dows, hols)
    obs = np.convolve(m.mean(1), np.ones(24) / 24, mode="valid")  # observed share of each window
    starts = np.flatnonzero(obs >= min_observed)

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, np.float32))

    q_real = np.nan_to_num(np.nanquantile(np.where(m > 0, r, np.nan), LEVELS, axis=0))  # (L, N)
    return TrainData(t(r), t(m), t(o), torch.from_numpy(ep), t(mu), t(sd), t(cond), starts, len(eps), t(q_real))


def generated_deviation(r: torch.Tensor, mu: torch.Tensor, sd: torch.Tensor, domain: str, scale: Any = 1.0
                        ) -> torch.Tensor:
    """Residual -> event units against the profile (counts: extra people over ``scale``; speeds: fraction
    slower)."""
    if domain == "counts":
        return (torch.expm1(mu + sd * r).clamp(min=0) - torch.expm1(mu)) / scale
    return -(r * sd) / mu.clamp(min=1.0)


def crps_pair(x1: torch.Tensor, x2: torch.Tensor, y: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Mean CRPS of two samples against ``y`` over the cells where ``m`` (unbiased two-sample estimator)."""
    c = 0.5 * ((x1 - y).abs() + (x2 - y).abs()) - 0.5 * (x1 - x2).abs()
    return (c * m).sum() / m.sum().clamp(min=1.0)


def _history_share(prep: Prepared, eps: pd.DataFrame, runs: pd.DataFrame) -> dict[str, float]:
    """Counts: how many times its origin's extra people a past event added at all its sensors (P50, P90 over the
    training split's episodes), the range a request's city-wide total is checked against."""
    share = footprint_shares(prep, eps, runs)
    if not len(share):
        return {}
    return {"history_share_p50": round(float(np.quantile(share, 0.5)), 3),
            "history_share_p90": round(float(np.quantile(share, 0.9)), 3)}


def gradient_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
    eps = torch.rand(real.shape[0], 1, 1, device=real.device)
    x = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x, *rest).sum(), x, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def _device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def train(
    city: Any,
    cfg: GeneratorConfig | None = None,
    *,
    out: str | Path | None = None,
    device: str = "auto",
    dry_run: bool = False,
    resume: bool = True,
    progress: bool = True,
    save_every: int = 200,
    command: str | None = None,
    max_minutes: float | None = None,
) -> Path:
    """Train the city's generator and write its checkpoint; returns the weights path.

    ``dry_run``: a few steps on small batches, written to ``out`` (default: a temporary folder) so the
    real loop is exercised in seconds without touching the bundled checkpoint. ``max_minutes``: stop
    the loop when this much training time (including resumed time) is spent; the steps done are
    recorded in the metrics.
    """
    view: CityView = as_view(city)
    cfg = cfg or GeneratorConfig()
    if dry_run:
        cfg = GeneratorConfig.from_dict({**cfg.to_dict(), "steps": 3, "batch": 8, "n_critic": 1})
    base = Path(out) if out is not None else checkpoint_base(view)
    if dry_run and out is None:
        base = Path(tempfile.mkdtemp(prefix="generator-dry-run-")) / KIND
    base = base.with_suffix("") if base.suffix in (".safetensors", ".json") else base
    partial = base.with_name(base.name + ".partial.pt")
    dev = _device(device)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)

    t_start = time.perf_counter()
    prep = prepare(view)
    eps, runs = episodes(prep)
    train_end = (int(prep.splits["train"][-1]) + 1) * 24
    eps = eps[eps["t0"] + eps["duration_hours"] <= train_end].reset_index(drop=True)
    scale = count_scale(prep)
    data = build_train_data(prep, eps, prep.splits["train"], clip=cfg.r_clip, scale=scale).to(dev)
    g = Generator(cfg, view.adjacency)
    g.event_scale.fill_(scale)
    g.event.knee.fill_(1.0 if view.domain == "counts" else 0.3)
    g = g.to(dev)
    c = Critic(cfg, view.adjacency).to(dev)
    branch = set(map(id, g.event.parameters()))
    opt_g = torch.optim.Adam([{"params": [p for p in g.parameters() if id(p) not in branch]},
                              {"params": list(g.event.parameters()), "lr": cfg.lr * cfg.event_lr_scale}],
                             lr=cfg.lr, betas=(0.5, 0.9))
    opt_c = torch.optim.Adam(c.parameters(), lr=cfg.lr, betas=(0.5, 0.9))
    step0, spent = 0, 0.0
    key = {"city": view.slug, "data_hash": view.data_hash, "config": cfg.to_dict()}
    if resume and not dry_run and partial.is_file():
        state = torch.load(partial, map_location=dev, weights_only=True)
        if state.get("key") == key:
            g.load_state_dict(state["g"])
            c.load_state_dict(state["c"])
            opt_g.load_state_dict(state["opt_g"])
            opt_c.load_state_dict(state["opt_c"])
            step0, spent = int(state["step"]), float(state["seconds"])
            rng = np.random.default_rng([cfg.seed, step0])
            torch.manual_seed(cfg.seed + step0)
            print(f"resuming from step {step0} ({partial})", file=sys.stderr)

    dom = view.domain
    bar = tqdm(range(step0, cfg.steps), initial=step0, total=cfg.steps, disable=not progress, desc=view.slug)
    w_dist = aux = crps = torch.zeros(())
    t_loop = time.perf_counter()
    steps_done = step0

    def draw() -> tuple[torch.Tensor, ...]:
        keep = torch.from_numpy(rng.random(max(data.n_episodes, 1)) < cfg.keep_origin).to(dev)
        return data.batch(rng.choice(data.starts, cfg.batch), keep)

    for step in bar:
        if max_minutes is not None and spent + time.perf_counter() - t_loop > 60 * max_minutes:
            break
        steps_done = step + 1
        for _ in range(cfg.n_critic):
            r, m, o, mu, sd, cond = draw()
            with torch.no_grad():
                fake = g(g.noise(cfg.batch, device=dev), cond, o, mu, sd, dom)[1] * m
            real = r * m
            w_dist = c(real, m, cond, o).mean() - c(fake, m, cond, o).mean()
            loss_c = -w_dist + cfg.gp_weight * gradient_penalty(c, real, fake, m, cond, o)
            opt_c.zero_grad(set_to_none=True)
            loss_c.backward()
            opt_c.step()
        r, m, o, mu, sd, cond = draw()
        two = lambda x: torch.cat([x, x])  # noqa: E731 - two samples of every window
        _, fake2 = g(g.noise(2 * cfg.batch, device=dev), two(cond), two(o), two(mu), two(sd), dom)
        fake, other = fake2[: cfg.batch], fake2[cfg.batch :]
        crps = crps_pair(fake, other, r, m)
        hot = (o != 0).float() * m
        gen = generated_deviation(fake2, two(mu), two(sd), dom, g.event_scale)
        rel = (gen - two(o)) / two(o).abs().clamp(min=0.1)
        aux = (rel**2 * two(hot)).sum() / (2 * hot.sum()).clamp(min=1.0)  # size at the origins
        loss_g = -cfg.adv_weight * c(fake * m, m, cond, o).mean() + cfg.aux_weight * aux + cfg.crps_weight * crps
        if cfg.quantile_weight:
            q_fake = torch.quantile(fake.reshape(-1, fake.shape[2]), data.q_levels, dim=0)  # (L, N)
            loss_g = loss_g + cfg.quantile_weight * (q_fake - data.q_real).abs().mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if cfg.same_sign:
            g.event.keep_sign_()
        if step % 20 == 0:
            bar.set_postfix(w=f"{w_dist.item():.3f}", aux=f"{aux.item():.4f}", crps=f"{crps.item():.3f}")
        if not dry_run and (step + 1) % save_every == 0 and step + 1 < cfg.steps:
            from explorer.io import atomic_path

            with atomic_path(partial) as tmp:
                torch.save(
                    {"key": key, "g": g.state_dict(), "c": c.state_dict(), "opt_g": opt_g.state_dict(),
                     "opt_c": opt_c.state_dict(), "step": step + 1,
                     "seconds": spent + time.perf_counter() - t_loop},
                    tmp,
                )  # fmt: skip
    bar.close()
    train_seconds = spent + time.perf_counter() - t_loop

    g = g.cpu().eval()
    bundle = GeneratorBundle(model=g, config=cfg, mu=prep.mu, sd=prep.sd, alpha=1.0, view=view)
    calibration = calibrate(bundle, prep, quick=dry_run)
    metrics = {
        "train_seconds": round(train_seconds, 1),
        "total_seconds": round(spent + time.perf_counter() - t_start, 1),
        "steps": steps_done,
        "final_wasserstein": round(float(w_dist.detach()), 4),
        "final_aux": round(float(aux.detach()), 5),
        "final_crps": round(float(crps.detach()), 4),
        **calibration,
        "episodes_labelled": int(len(eps)),
        **_history_share(prep, eps, runs),
        "device": str(dev),
        "torch_threads": torch.get_num_threads(),
    }
    meta = {
        "kind": KIND,
        "config": cfg.to_dict(),
        "metrics": metrics,
        "resolution": "1h",
        "window_hours": 24,
        "training_data": "masked history (missing readings masked, not imputed)",
        "splits": {k: [str(prep.dates[v[0]]), str(prep.dates[v[-1]])] for k, v in prep.splits.items() if len(v)},
        "dry_run": dry_run,
    }
    if command:
        meta["command"] = command
    from explorer.models.checkpoint import save_checkpoint

    path = save_checkpoint(base, bundle.tensors(), meta, view.city, kind=KIND)
    if not dry_run:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return path
