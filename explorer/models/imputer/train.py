"""Self-supervised training of the imputer: hide extra visible values in each window, reconstruct them.

Training sees only the training part (first 70 %) and never a value hidden by either protocol's evaluation
mask, so one trained model is valid for the point and the block evaluation.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from explorer.models.imputer.api import fit_band_scale
from explorer.models.imputer.data import Prepared, prepare_training
from explorer.models.imputer.infer import predict
from explorer.models.imputer.masks import DEFAULT_SEED
from explorer.models.imputer.model import ImputerConfig, STImputer


@dataclass
class TrainConfig:
    """Optimisation settings (the model's own are in ImputerConfig)."""

    steps: int = 1000
    batch: int = 16
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    mask_seed: int = DEFAULT_SEED
    val_every: int = 100
    max_minutes: float = 28.0
    threads: int = 2
    device: str = "auto"


def pick_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def synthetic_hide(m: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Extra cells to hide (B, T, N) bool: half the windows point-like, half block-like (faults of 6-48 steps)."""
    b, t, n = m.shape
    dev = m.device
    point = torch.rand(b, 1, 1, generator=gen, device=dev) < 0.5
    p_point = 0.05 + 0.3 * torch.rand(b, 1, 1, generator=gen, device=dev)
    p_noise = 0.1 * torch.rand(b, 1, 1, generator=gen, device=dev)
    p = torch.where(point, p_point, p_noise)
    hide = torch.rand(b, t, n, generator=gen, device=dev) < p
    length = torch.randint(6, 49, (b, 1, n), generator=gen, device=dev)
    begin = torch.randint(-47, t, (b, 1, n), generator=gen, device=dev)
    has_block = (~point) & (torch.rand(b, 1, n, generator=gen, device=dev) < 0.2)
    steps = torch.arange(t, device=dev).view(1, t, 1)
    block = has_block & (steps >= begin) & (steps < begin + length)
    return hide | block


def loss_fn(model: STImputer, out: dict[str, torch.Tensor], y: torch.Tensor, mt: torch.Tensor,
            weight: torch.Tensor, steps: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """L1 of the point estimate on hidden targets + the residual's Gaussian NLL (point estimate detached).

    ``weight`` (N,) scales each sensor's L1 by its standard deviation so it tracks MAE on the original scale.
    The NLL trains only the residual's head and graph spreading (their inputs are detached), so adding it does
    not change the point estimate's training.
    """
    wm = mt * weight  # (B, T, N)
    l1 = ((y - out["loc"]).abs() * wm).sum() / wm.sum().clamp(min=1.0)
    r = (y - out["loc"].detach()) * mt
    nll = model.residual_nll(out, r, mt > 0, steps)
    return l1 + nll, {"l1": float(l1.detach()), "nll": float(nll.detach())}


def val_mae(model: STImputer, data: Prepared, max_steps: int = 2000) -> float:
    """MAE (original scale) on hidden validation cells, windows with stride 4 (a cheap proxy)."""
    a, b = data.bounds
    stop = min(b, a + max_steps)
    x = np.where(data.visible, data.values, np.nan).astype(np.float32)
    pred = predict(model, x, data.slot, data.daytype, start=a, stop=stop, stride=4)
    mask = data.hidden[a:stop]
    return float(np.abs(pred - np.nan_to_num(data.values[a:stop]))[mask].mean())


def train(series: pd.DataFrame, model_cfg: dict[str, Any] | None = None, cfg: TrainConfig | None = None,
          progress: bool = True) -> tuple[STImputer, dict[str, Any]]:
    """Train a fresh model on the training part of ``series``; returns the best model (by validation MAE) and
    a record of the run. The band calibration (``model.band_scale``) is fitted on the validation part last."""
    cfg = cfg or TrainConfig()
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    device = pick_device(cfg.device)
    if device.type == "cpu":
        torch.set_num_threads(max(1, cfg.threads))
    data = prepare_training(series, cfg.mask_seed)
    a, _ = data.bounds
    mc = ImputerConfig(n_nodes=series.shape[1], slots_per_day=data.slots_per_day, **(model_cfg or {}))
    model = STImputer(mc)
    train_x = np.where(data.visible[:a], data.values[:a], np.nan)
    model.fit_buffers(train_x, data.slot[:a], data.daytype[:a])
    model.to(device)

    vals = torch.from_numpy(np.nan_to_num(data.values[:a])).to(device)
    vis = torch.from_numpy(data.visible[:a]).to(device)
    slot = torch.from_numpy(data.slot[:a]).to(device)
    dayt = torch.from_numpy(data.daytype[:a]).to(device)
    weight = (model.std / model.std.mean()).to(device)
    w = mc.window
    n_windows = a - w + 1
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    cpu_gen = torch.Generator().manual_seed(cfg.seed)

    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    residual = [p for name, p in model.named_parameters() if name.startswith("res_")]
    groups = [[p for name, p in model.named_parameters() if not name.startswith("res_")], residual]
    best: tuple[float, dict[str, torch.Tensor] | None, int] = (float("inf"), None, 0)
    history: list[dict[str, float]] = []
    t0, c0 = time.perf_counter(), time.process_time()
    bar = tqdm(range(cfg.steps), desc="train imputer", disable=not progress, dynamic_ncols=True)
    stopped_early = False
    for step in bar:
        model.train()
        starts = torch.randint(0, n_windows, (cfg.batch,), generator=cpu_gen).to(device)
        idx = starts[:, None] + torch.arange(w, device=device)[None, :]  # (B, T)
        x = (vals[idx] - model.mean) / model.std  # (B, T, N)
        m = vis[idx]
        hide = synthetic_hide(m, gen)
        mt = (m & hide).float()
        m_in = (m & ~hide).float()
        out = model(x * m_in, m_in, slot[idx], dayt[idx])
        steps = 1 + torch.randperm(w - 1, generator=cpu_gen)[:mc.nll_steps].to(device)
        loss, parts = loss_fn(model, out, x * m.float(), mt, weight, steps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for group in groups:  # the point path and the residual model clipped apart: neither starves the other
            torch.nn.utils.clip_grad_norm_(group, 1.0)
        opt.step()
        # warm-up, then cosine decay over whichever runs out first: steps or the time budget
        done = max((step + 1) / cfg.steps, (time.perf_counter() - t0) / 60 / cfg.max_minutes)
        for group in opt.param_groups:
            group["lr"] = cfg.lr * min(1.0, (step + 2) / 50) * 0.5 * (1 + math.cos(math.pi * min(done, 1.0)))
        bar.set_postfix(l1=f"{parts['l1']:.3f}", nll=f"{parts['nll']:.3f}")
        last = step + 1 == cfg.steps
        over = (time.perf_counter() - t0) / 60 > cfg.max_minutes
        if (step + 1) % cfg.val_every == 0 or last or over:
            v = val_mae(model, data)
            history.append({"step": step + 1, "val_mae": v, **parts})
            bar.write(f"step {step + 1}: val MAE {v:.4f}")
            if v < best[0]:
                best = (v, copy.deepcopy(model.state_dict()), step + 1)
        if over:
            stopped_early = True
            break
    train_s = time.perf_counter() - t0
    assert best[1] is not None
    model.load_state_dict(best[1])
    model.to("cpu").eval()
    calibration = fit_band_scale(model, series, mask_seed=cfg.mask_seed)
    model.band_scale.fill_(calibration["band_scale"])
    info = {
        "train_s": round(train_s, 1),
        "cpu_s": round(time.process_time() - c0, 1),
        "device": str(device),
        "threads": torch.get_num_threads() if device.type == "cpu" else None,
        "best_step": best[2],
        "val_mae": round(best[0], 4),
        "stopped_early_by_time": stopped_early,
        "calibration": calibration,
        "history": history,
        "train_config": asdict(cfg),
    }
    return model, info


def refit_residual(model: STImputer, series: pd.DataFrame, residual: str, steps: int = 300, batch: int = 16,
                   lr: float = 3e-3, seed: int = 0, mask_seed: int = DEFAULT_SEED, warm: bool = False,
                   calibrate: bool = True) -> STImputer:
    """A copy of ``model`` whose residual model (structure ``residual``) is trained on its frozen point path,
    then calibrated: the side-by-side comparison of residual structures on one point estimate, and the way to
    change a committed checkpoint's residual without moving its point estimate.

    Windows, synthetic hiding and the likelihood are those of ``train``; only ``res_*`` parameters move. The
    residual starts afresh, or with ``warm`` from ``model``'s own residual parameters where they fit (the head
    and the graph spreading; a new mixture starts peaked at scale 1). ``calibrate`` refits ``band_scale``
    (else it is left at 1).
    """
    torch.manual_seed(seed)
    cfg = ImputerConfig.from_dict({**model.cfg.to_dict(), "residual": residual})
    fresh = STImputer(cfg)
    mine = fresh.state_dict()
    state = {k: v for k, v in model.state_dict().items()
             if (warm or not k.startswith("res_")) and k in mine and mine[k].shape == v.shape}
    fresh.load_state_dict(state, strict=False)
    fresh.band_scale.fill_(1.0)
    data = prepare_training(series, mask_seed)
    a, _ = data.bounds
    vals = torch.from_numpy(np.nan_to_num(data.values[:a]))
    vis = torch.from_numpy(data.visible[:a])
    slot, dayt = torch.from_numpy(data.slot[:a]), torch.from_numpy(data.daytype[:a])
    w = cfg.window
    gen = torch.Generator().manual_seed(seed)
    params = [p for name, p in fresh.named_parameters() if name.startswith("res_")]
    for name, p in fresh.named_parameters():
        p.requires_grad_(name.startswith("res_"))
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    fresh.train()
    for step in range(steps):
        idx = torch.randint(0, a - w + 1, (batch,), generator=gen)[:, None] + torch.arange(w)[None, :]
        x = (vals[idx] - fresh.mean) / fresh.std
        m = vis[idx]
        mt = m & synthetic_hide(m, gen)
        m_in = (m & ~mt).float()
        out = fresh(x * m_in, m_in, slot[idx], dayt[idx])
        nll = fresh.residual_nll(out, (x - out["loc"].detach()) * mt, mt,
                                 1 + torch.randperm(w - 1, generator=gen)[:cfg.nll_steps])
        opt.zero_grad(set_to_none=True)
        nll.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        for group in opt.param_groups:
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * (step + 1) / steps))
    for p in fresh.parameters():
        p.requires_grad_(True)
    fresh.eval()
    if calibrate:
        fresh.band_scale.fill_(fit_band_scale(fresh, series, mask_seed=mask_seed)["band_scale"])
    return fresh
