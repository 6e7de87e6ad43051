"""Training loop: WGAN-GP on 24-hour windows of masked residuals, plus a controllability loss.

* Data: the training split (first 70 % of days) of the hourly, transformed series; missing readings
  are **masked** (the critic sees ``(residual - event) * mask`` and the mask, for real and generated
  windows alike), nothing is imputed. The critic judges what is left after the labelled event field
  (in residual units), so the event response is pushed towards the labelled size, not shrunk.
* Windows: 24 consecutive hours starting at any hour (so scenarios may start at any hour).
* Conditioning: calendar of each hour and the event-intensity field of the surges detected in the
  history (:mod:`explorer.models.generator.events`).
* Quantile loss: per-sensor quantiles (1 %..99 %) of each generated batch are pulled towards those of
  the observed training residuals, which speeds up learning the marginals (spread, skew, tails) on
  a small CPU budget; the critic does the rest (joint, temporal and spatial structure).
* Auxiliary loss: where the field is non-zero, the generated deviation (log ratio / fraction slower)
  must match the labelled size, which makes the requested magnitude controllable.
* Calibration: after training, on the validation days (the next 10 % of days), one factor ``alpha``
  scales the residual spread so that 80 % of the readings fall inside P10-P90, and one factor
  ``event_gain`` the event response so that requested sizes come out at their place
  (:mod:`explorer.models.generator.calibration`).
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
import torch
from tqdm import tqdm

from explorer.models.generator.api import KIND, GeneratorBundle, checkpoint_base
from explorer.models.generator.calibration import calibrate
from explorer.models.generator.data import (
    CityView,
    Prepared,
    as_view,
    flat_calendar,
    prepare,
    residual_from_deviation,
)
from explorer.models.generator.events import surges_from_prepared
from explorer.models.generator.model import Critic, Generator, GeneratorConfig, calendar_features

LEVELS = np.array([0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99])


@dataclass
class TrainData:
    """Flat hourly arrays of a run of consecutive days, (T, N) each, and valid window starts."""

    r: torch.Tensor
    m: torch.Tensor
    e: torch.Tensor  # event field, event units (log ratio / fraction slower)
    er: torch.Tensor  # the same in residual units (what the networks see)
    mu: torch.Tensor
    sd: torch.Tensor
    cond: torch.Tensor  # (T, COND_DIM)
    starts: np.ndarray
    q_real: torch.Tensor | None = None  # (len(LEVELS), N) per-sensor quantiles of the observed residuals

    @property
    def q_levels(self) -> torch.Tensor:
        return torch.tensor(LEVELS, dtype=torch.float32, device=self.r.device)

    def batch(self, idx: np.ndarray) -> tuple[torch.Tensor, ...]:
        """Windows starting at ``idx``: each (B, 24, ...)."""
        w = torch.from_numpy(idx[:, None] + np.arange(24)[None])  # (B, 24)
        return self.r[w], self.m[w], self.e[w], self.er[w], self.mu[w], self.sd[w], self.cond[w]

    def to(self, device: torch.device) -> TrainData:
        ts = (self.r, self.m, self.e, self.er, self.mu, self.sd, self.cond)
        q = None if self.q_real is None else self.q_real.to(device)
        return TrainData(*(t.to(device) for t in ts), self.starts, q)


def build_train_data(
    prep: Prepared, field: np.ndarray, days: np.ndarray, min_observed: float = 0.2, clip: float = 16.0
) -> TrainData:
    """Flatten ``days`` (consecutive) of residual, mask, event field, profile and calendar."""
    n = prep.n
    r = prep.residual(clip)[days].reshape(-1, n)
    m = prep.mask[days].reshape(-1, n).astype(np.float32)
    e = field[days].reshape(-1, n)
    mu = prep.mu[prep.dtype[days]].reshape(-1, n)
    sd = prep.sd[prep.dtype[days]].reshape(-1, n)
    hours, dows, hols = (a.reshape(len(prep.dates), 24)[days].reshape(-1) for a in flat_calendar(prep))
    cond = calendar_features(hours, dows, hols)
    obs = np.convolve(m.mean(1), np.ones(24) / 24, mode="valid")  # observed share of each window
    starts = np.flatnonzero(obs >= min_observed)
    er = residual_from_deviation(e, mu, sd, prep.view.domain)

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, np.float32))

    q_real = np.stack([np.nanquantile(np.where(m > 0, r, np.nan), LEVELS, axis=0)])[0]  # (L, N)
    q_real = np.nan_to_num(q_real)
    return TrainData(t(r), t(m), t(e), t(er), t(mu), t(sd), t(cond), starts, t(q_real))


def generated_deviation(r: torch.Tensor, mu: torch.Tensor, sd: torch.Tensor, domain: str) -> torch.Tensor:
    """Residual -> event units (log ratio for counts, fraction slower for speeds)."""
    return r * sd if domain == "counts" else -(r * sd) / mu.clamp(min=1.0)


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
    table, field = surges_from_prepared(prep)
    data = build_train_data(prep, field, prep.splits["train"], clip=cfg.r_clip).to(dev)
    g = Generator(cfg, view.adjacency).to(dev)
    c = Critic(cfg, view.adjacency).to(dev)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(0.5, 0.9))
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

    bar = tqdm(range(step0, cfg.steps), initial=step0, total=cfg.steps, disable=not progress, desc=view.slug)
    w_dist = aux = torch.zeros(())
    t_loop = time.perf_counter()
    steps_done = step0
    for step in bar:
        if max_minutes is not None and spent + time.perf_counter() - t_loop > 60 * max_minutes:
            break
        steps_done = step + 1
        for _ in range(cfg.n_critic):
            r, m, e, er, mu, sd, cond = data.batch(rng.choice(data.starts, cfg.batch))
            with torch.no_grad():
                fake = (g(g.noise(cfg.batch, device=dev), cond, er) - er) * m
            real = (r - er) * m  # the critic judges what is left after the labelled event
            w_dist = c(real, m, cond, er).mean() - c(fake, m, cond, er).mean()
            loss_c = -w_dist + cfg.gp_weight * gradient_penalty(c, real, fake, m, cond, er)
            opt_c.zero_grad(set_to_none=True)
            loss_c.backward()
            opt_c.step()
        r, m, e, er, mu, sd, cond = data.batch(rng.choice(data.starts, cfg.batch))
        fake = g(g.noise(cfg.batch, device=dev), cond, er)
        hot = (e != 0).float()
        dev_hat = generated_deviation(fake, mu, sd, view.domain)
        rel = (dev_hat - e) / e.abs().clamp(min=0.1)  # relative error of the generated event size
        aux = (rel**2 * hot).sum() / hot.sum().clamp(min=1.0)
        # marginal matching: per-sensor quantiles of the batch vs the training data (speeds up the GAN)
        q_fake = torch.quantile(fake.reshape(-1, fake.shape[2]), data.q_levels, dim=0)  # (L, N)
        qloss = (q_fake - data.q_real).abs().mean()
        loss_g = -c((fake - er) * m, m, cond, er).mean() + cfg.aux_weight * aux + cfg.quantile_weight * qloss
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if step % 20 == 0:
            bar.set_postfix(w=f"{w_dist.item():.3f}", aux=f"{aux.item():.4f}", q=f"{qloss.item():.3f}")
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
        **calibration,
        "surges_labelled": int(len(table)),
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
