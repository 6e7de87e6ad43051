"""Run a trained imputer over a long series: sliding windows, overlapping predictions averaged per step."""

from __future__ import annotations

import numpy as np
import torch

from explorer.models.imputer.model import STImputer


def _starts(start: int, stop: int, window: int, stride: int) -> np.ndarray:
    """Window starts covering [start, stop) with the given stride; the last window ends at ``stop``."""
    last = max(start, stop - window)
    starts = np.arange(start, last + 1, stride)
    if starts[-1] != last:
        starts = np.append(starts, last)
    return starts


def _batch(model: STImputer, x: np.ndarray, slot: np.ndarray, daytype: np.ndarray, starts: np.ndarray,
           device: torch.device) -> tuple[torch.Tensor, ...]:
    w = model.cfg.window
    idx = starts[:, None] + np.arange(w)[None, :]  # (B, T)
    xw = torch.from_numpy(x[idx]).to(device)  # (B, T, N) original units, NaN = not visible
    m = (~torch.isnan(xw)).float()
    z = (torch.nan_to_num(xw) - model.mean) / model.std * m
    return z, m, torch.from_numpy(slot[idx]).to(device), torch.from_numpy(daytype[idx]).to(device)


@torch.no_grad()
def predict(model: STImputer, x: np.ndarray, slot: np.ndarray, daytype: np.ndarray, start: int = 0,
            stop: int | None = None, stride: int = 1, batch: int = 64) -> np.ndarray:
    """Point prediction (prior-mean latent) on the original scale for steps [start, stop): (stop-start, N).

    ``x`` is (time, sensors) with NaN where a value is not visible. Every window lies inside [start, stop);
    predictions of overlapping windows are averaged per step.
    """
    stop = len(x) if stop is None else stop
    model.eval()
    device = next(model.parameters()).device
    w = model.cfg.window
    if stop - start < w:
        raise ValueError(f"the range holds {stop - start} steps, fewer than one window of {w}")
    starts = _starts(start, stop, w, stride)
    total = torch.zeros(stop - start, x.shape[1], dtype=torch.float64)
    count = torch.zeros(stop - start, 1, dtype=torch.float64)
    for i in range(0, len(starts), batch):
        s = starts[i:i + batch]
        z, m, sl, dt = _batch(model, x, slot, daytype, s, device)
        loc = model(z, m, sl, dt)["loc"].double().cpu()  # (B, T, N)
        for j, s0 in enumerate(s):
            total[s0 - start:s0 - start + w] += loc[j]
            count[s0 - start:s0 - start + w] += 1
    mean = (total / count).float()
    return (mean * model.std.cpu() + model.mean.cpu()).numpy()


@torch.no_grad()
def sample(model: STImputer, x: np.ndarray, slot: np.ndarray, daytype: np.ndarray, n_samples: int, seed: int,
           start: int = 0, stop: int | None = None, stride: int | None = None,
           batch: int = 64) -> np.ndarray:
    """``n_samples`` sampled fills on the original scale, (S, stop-start, N).

    Windows overlap by half (stride ``window // 2`` by default); overlapping samples are averaged per step,
    which keeps each sample smooth across window borders.
    """
    stop = len(x) if stop is None else stop
    model.eval()
    device = next(model.parameters()).device
    w = model.cfg.window
    stride = stride or max(1, w // 2)
    starts = _starts(start, stop, w, stride)
    gen = torch.Generator(device=device).manual_seed(seed)
    total = torch.zeros(n_samples, stop - start, x.shape[1], dtype=torch.float64)
    count = torch.zeros(1, stop - start, 1, dtype=torch.float64)
    for i in range(0, len(starts), batch):
        s = starts[i:i + batch]
        z, m, sl, dt = _batch(model, x, slot, daytype, s, device)
        draws = model.sample(z, m, sl, dt, n_samples, generator=gen).double().cpu()  # (S, B, T, N)
        for j, s0 in enumerate(s):
            total[:, s0 - start:s0 - start + w] += draws[:, j]
            count[:, s0 - start:s0 - start + w] += 1
    out = (total / count).float()
    return (out * model.std.cpu() + model.mean.cpu()).numpy()
