"""Run a trained imputer over a long series.

The point estimate and the residual's parameters come from sliding windows (overlapping windows averaged per
step); sampled fills then run the residual's graph-autoregressive recursion once over the whole range, so a
sample stays coherent across window borders.
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.models.imputer.model import STImputer

OUTPUTS = ("loc", "psi", "c", "a")


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
def window_outputs(model: STImputer, x: np.ndarray, slot: np.ndarray, daytype: np.ndarray, start: int = 0,
                   stop: int | None = None, stride: int = 1, batch: int = 64) -> dict[str, np.ndarray]:
    """The model's outputs (normalised units) for steps [start, stop), each (stop-start, N).

    ``x`` is (time, sensors) with NaN where a value is not visible. Every window lies inside [start, stop);
    outputs of overlapping windows are averaged per step.
    """
    stop = len(x) if stop is None else stop
    model.eval()
    device = next(model.parameters()).device
    w = model.cfg.window
    if stop - start < w:
        raise ValueError(f"the range holds {stop - start} steps, fewer than one window of {w}")
    starts = _starts(start, stop, w, stride)
    total = torch.zeros(len(OUTPUTS), stop - start, x.shape[1], dtype=torch.float64)
    count = torch.zeros(stop - start, 1, dtype=torch.float64)
    for i in range(0, len(starts), batch):
        s = starts[i:i + batch]
        out = model(*_batch(model, x, slot, daytype, s, device))
        stacked = torch.stack([out[k] for k in OUTPUTS], 1).double().cpu()  # (B, 4, T, N)
        for j, s0 in enumerate(s):
            total[:, s0 - start:s0 - start + w] += stacked[j]
            count[s0 - start:s0 - start + w] += 1
    mean = (total / count).float().numpy()
    return dict(zip(OUTPUTS, mean, strict=True))


def to_original(model: STImputer, z: np.ndarray) -> np.ndarray:
    """Normalised units -> the series' units (broadcast over leading axes)."""
    return z * model.std.cpu().numpy() + model.mean.cpu().numpy()


def predict(model: STImputer, x: np.ndarray, slot: np.ndarray, daytype: np.ndarray, start: int = 0,
            stop: int | None = None, stride: int = 1, batch: int = 64) -> np.ndarray:
    """Point prediction on the original scale for steps [start, stop): (stop-start, N)."""
    out = window_outputs(model, x, slot, daytype, start, stop, stride, batch)
    return to_original(model, out["loc"])


@torch.no_grad()
def draw_residuals(model: STImputer, out: dict[str, np.ndarray], filled: np.ndarray, n_samples: int, seed: int,
                   chunk: int = 256) -> np.ndarray:
    """Sampled residuals (S, T, N) in normalised units from ``window_outputs``; 0 where not ``filled``.

    Runs r_t = a_t * r_{t-1} [filled at t-1] + psi_t * eta_t + s * c_t * (W xi_t) over the whole range; s = 1,
    or for a ``graph-ar-gsm*`` model a scale drawn from its mixture per sample and step (``-gsm``, ``-joint``,
    which also scales psi) or per sample and block of ``window`` steps from the range's start (``-window``),
    shared by all sensors.
    """
    gen = torch.Generator().manual_seed(seed)
    t_len, n = out["loc"].shape
    w_t = model.spread().detach().cpu().T  # (N, N): xi @ W.T
    psi, c, a = (torch.from_numpy(out[k]) for k in ("psi", "c", "a"))
    fill = torch.from_numpy(np.asarray(filled, dtype=bool)).float()
    res = torch.zeros(n_samples, t_len, n)
    r = torch.zeros(n_samples, n)
    graph = bool((c != 0).any())
    scale, own = _mixture_scales(model, n_samples, t_len, gen) if graph and model.mixture else (None, None)
    for c0 in range(0, t_len, chunk):
        c1 = min(t_len, c0 + chunk)
        innov = torch.randn(n_samples, c1 - c0, n, generator=gen) * psi[c0:c1]
        if own is not None:
            innov *= own[:, c0:c1, None]
        if graph:
            shared = (torch.randn(n_samples, c1 - c0, n, generator=gen) @ w_t) * c[c0:c1]
            innov += shared if scale is None else shared * scale[:, c0:c1, None]
        for t in range(c0, c1):
            r = a[t] * r + innov[:, t - c0]
            r = r * fill[t]  # a measured value has no residual: the next step starts afresh from it
            res[:, t] = r
    return res.numpy()


@torch.no_grad()
def _mixture_scales(model: STImputer, n_samples: int, t_len: int,
                    gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The latent component's scales (S, T) of the shared and (``-joint``, else None) the own innovation for
    each sample and step, drawn from the model's mixture."""
    logp, g, h = (v.detach().cpu().float() for v in model.mix())
    span = model.cfg.window if model.cfg.residual == "graph-ar-gsm-window" else 1
    blocks = -(-t_len // span)
    k = torch.multinomial(logp.exp(), n_samples * blocks, replacement=True, generator=gen).view(n_samples, blocks)
    k = k.repeat_interleave(span, 1)[:, :t_len]
    return g[k], (h[k] if model.cfg.residual == "graph-ar-gsm-joint" else None)


def sample(model: STImputer, x: np.ndarray, slot: np.ndarray, daytype: np.ndarray, n_samples: int, seed: int,
           start: int = 0, stop: int | None = None, stride: int | None = None,
           out: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """``n_samples`` sampled fills on the original scale, (S, stop-start, N); visible cells keep their value.

    The residual is scaled by the model's validation-fitted ``band_scale``; ``stride`` is that of the
    windows giving the parameters (default: half a window); ``out`` reuses ``window_outputs`` already computed.
    """
    stop = len(x) if stop is None else stop
    if out is None:
        out = window_outputs(model, x, slot, daytype, start, stop, stride or max(1, model.cfg.window // 2))
    obs = x[start:stop]
    filled = np.isnan(obs)
    res = draw_residuals(model, out, filled, n_samples, seed)
    draws = to_original(model, out["loc"][None] + float(model.band_scale) * res)
    return np.where(filled[None], draws, obs[None]).astype(np.float32)
