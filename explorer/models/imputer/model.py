"""A spatio-temporal conditional VAE that imputes sensor windows and samples plausible fills.

Shapes: B windows, T steps, N sensors, H hidden channels, K neighbour candidates, Z latent channels.

The encoder reads what is visible in a window and builds cheap, strong evidence for every cell: a linear
interpolation in time of the same sensor, the sensor's daily profile, and attention-weighted anomalies of
its most correlated sensors at the same step. Dilated temporal convolutions and a learned sparse sensor
mixing turn that into a conditioning state ``h``. A prior ``p(z | h)`` and, during training only, a posterior
``q(z | h, y)`` give a per-cell latent; the decoder mixes ``z`` over time and sensors again (so samples are
coherent) and outputs a Laplace location and scale per cell, as a correction to the interpolation.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F


@dataclass
class ImputerConfig:
    """Hyperparameters and data-derived sizes; everything needed to rebuild the model."""

    n_nodes: int
    slots_per_day: int
    window: int = 24
    hidden: int = 16
    latent: int = 4
    n_neighbours: int = 16
    n_heads: int = 4
    dilations: tuple[int, ...] = (1, 2)
    embed: int = 8
    beta: float = 0.5  # KL weight; 0.05 let the posterior carry what the prior cannot see (validation MAE 2.36)
    nll_weight: float = 0.2  # weight of the posterior path's Laplace NLL against the prior mean's L1
    dropout: float = 0.0
    ridge: bool = False  # experimental: a closed-form spatial regression on neighbours' anomalies as an input
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.n_neighbours = max(1, min(self.n_neighbours, self.n_nodes - 1))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["dilations"] = list(self.dilations)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImputerConfig:
        d = dict(d)
        d["dilations"] = tuple(d.get("dilations", (1, 2)))
        d.setdefault("ridge", False)  # checkpoints written before the option existed
        return cls(**d)


def interpolate_window(x: Tensor, m: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Linear interpolation along T of each (window, sensor) from the visible cells.

    x, m: (B, T, N). Returns the interpolation (B, T, N), and the distance (in steps, capped at T) to the
    previous and next visible cell. Cells with no visible neighbour on one side take the other side; with none
    at all they are 0 (the sensor's mean in normalised units).
    """
    b, t, n = x.shape
    steps = torch.arange(t, device=x.device).view(1, t, 1).expand(b, t, n)
    vis = m > 0
    prev_idx = torch.where(vis, steps, torch.full_like(steps, -1)).cummax(dim=1).values
    nxt = torch.where(vis, steps, torch.full_like(steps, t)).flip(1).cummin(dim=1).values.flip(1)
    has_prev, has_next = prev_idx >= 0, nxt < t
    xp = x.gather(1, prev_idx.clamp(min=0))
    xn = x.gather(1, nxt.clamp(max=t - 1))
    d_prev = (steps - prev_idx).float()
    d_next = (nxt - steps).float()
    w = d_prev / (d_prev + d_next).clamp(min=1)
    both = xp + w * (xn - xp)
    out = torch.where(has_prev & has_next, both, torch.where(has_prev, xp, torch.where(has_next, xn, 0.0)))
    cap = float(t)
    return out, torch.where(has_prev, d_prev, cap), torch.where(has_next, d_next, cap)


class STBlock(nn.Module):
    """Residual dilated temporal convolution, then residual learned mixing over neighbour sensors."""

    def __init__(self, hidden: int, dilation: int, n_nodes: int, n_neighbours: int, dropout: float) -> None:
        super().__init__()
        self.norm_t = nn.LayerNorm(hidden)
        self.conv = nn.Conv1d(hidden, 2 * hidden, kernel_size=3, dilation=dilation, padding=dilation)
        self.norm_s = nn.LayerNorm(hidden)
        self.mix_logits = nn.Parameter(torch.zeros(n_nodes, n_neighbours))
        self.mix = nn.Linear(2 * hidden, hidden)
        self.drop = nn.Dropout(dropout)

    def forward(self, h: Tensor, nb_idx: Tensor) -> Tensor:
        b, t, n, c = h.shape
        u = self.norm_t(h).permute(0, 2, 3, 1).reshape(b * n, c, t)  # (B*N, H, T)
        u = F.glu(self.conv(u), dim=1).reshape(b, n, c, t).permute(0, 3, 1, 2)  # (B, T, N, H)
        h = h + self.drop(u)
        w = torch.zeros(n, n, device=h.device, dtype=h.dtype)
        w = w.scatter(1, nb_idx, torch.softmax(self.mix_logits, dim=1))  # (N, N) rows sum to 1
        v = self.norm_s(h)
        agg = (w @ v.permute(2, 0, 1, 3).reshape(n, b * t * c)).view(n, b, t, c).permute(1, 2, 0, 3)  # (B, T, N, H)
        h = h + self.drop(F.relu(self.mix(torch.cat([v, agg], dim=-1))))
        return h


class STImputer(nn.Module):
    """Spatio-temporal conditional VAE imputer (see module docstring)."""

    def __init__(self, cfg: ImputerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        n, k, hd = cfg.n_nodes, cfg.n_neighbours, cfg.hidden
        # data-derived buffers, filled by ``fit_buffers`` and saved with the weights
        self.register_buffer("mean", torch.zeros(n))
        self.register_buffer("std", torch.ones(n))
        self.register_buffer("profile", torch.zeros(2, cfg.slots_per_day, n))  # (daytype, slot, N) normalised
        self.register_buffer("nb_idx", torch.zeros(n, k, dtype=torch.long))
        if cfg.ridge:
            self.register_buffer("nb_w", torch.zeros(n, k))  # ridge weights of each sensor's neighbours
        self.nb_logits = nn.Parameter(torch.zeros(cfg.n_heads, n, k))
        self.node_emb = nn.Parameter(torch.randn(n, cfg.embed) * 0.1)
        n_feat = 8 + int(cfg.ridge) + 2 * cfg.n_heads + 4 + cfg.embed
        self.inp = nn.Linear(n_feat, hd)
        self.blocks = nn.ModuleList(STBlock(hd, d, n, k, cfg.dropout) for d in cfg.dilations)
        self.prior = nn.Linear(hd, 2 * cfg.latent)
        self.post = nn.Sequential(nn.Linear(hd + 2, hd), nn.ReLU(), nn.Linear(hd, 2 * cfg.latent))
        self.z_in = nn.Linear(cfg.latent, hd)
        self.dec = STBlock(hd, 1, n, k, cfg.dropout)
        self.head = nn.Sequential(nn.Linear(hd, hd), nn.ReLU(), nn.Linear(hd, 2))

    # ---- data-derived buffers -------------------------------------------------------------------------
    @torch.no_grad()
    def fit_buffers(self, x: np.ndarray, slot: np.ndarray, daytype: np.ndarray) -> None:
        """Per-sensor scaling, daily profiles and neighbour candidates from training input (T, N), NaN = missing."""
        with np.errstate(all="ignore"):
            mu = np.nanmean(x, axis=0)
            sd = np.nanstd(x, axis=0)
        mu = np.where(np.isnan(mu), np.nanmean(mu), mu)  # sensors without training data: typical values
        bad = ~np.isfinite(sd) | (sd < 1e-6)
        sd = np.where(bad, np.nanmedian(np.where(bad, np.nan, sd)) if (~bad).any() else 1.0, sd)
        z = (x - mu) / sd
        prof = np.zeros((2, self.cfg.slots_per_day, x.shape[1]), dtype=np.float64)
        for d in (0, 1):
            for s in range(self.cfg.slots_per_day):
                rows = z[(daytype == d) & (slot == s)]
                if len(rows):
                    with np.errstate(all="ignore"):
                        prof[d, s] = np.nan_to_num(np.nanmean(rows, axis=0))
        anomaly = z - prof[daytype, slot]
        nb = top_correlated(anomaly, self.cfg.n_neighbours)
        self.nb_idx.copy_(torch.from_numpy(nb))
        if self.cfg.ridge:
            self.nb_w.copy_(torch.from_numpy(ridge_weights(anomaly, nb).astype(np.float32)))
        self.mean.copy_(torch.from_numpy(mu.astype(np.float32)))
        self.std.copy_(torch.from_numpy(sd.astype(np.float32)))
        self.profile.copy_(torch.from_numpy(prof.astype(np.float32)))

    # ---- model -----------------------------------------------------------------------------------------
    def encode(self, x: Tensor, m: Tensor, slot: Tensor, daytype: Tensor) -> tuple[Tensor, Tensor]:
        """Conditioning state h (B, T, N, H) and the interpolation base (B, T, N), all normalised units."""
        b, t, n = x.shape
        x = x * m
        interp, d_prev, d_next = interpolate_window(x, m)
        prof = self.profile[daytype, slot]  # (B, T, N)
        anom = (x - prof) * m
        # attention over each sensor's K neighbour candidates, restricted to the visible ones:
        # est = sum_k e^l_k m_k a_k / sum_k e^l_k m_k, done as dense (N, N) matmuls per head
        heads = self.cfg.n_heads
        e = torch.zeros(heads, n, n, device=x.device, dtype=x.dtype)
        e = e.scatter(2, self.nb_idx.expand(heads, n, -1), torch.softmax(self.nb_logits, dim=2))  # (heads, N, N)
        e = e.permute(2, 0, 1).reshape(n, heads * n)  # (N_src, heads * N_dst)
        num = (anom.reshape(b * t, n) @ e).view(b, t, heads, n)
        cover = (m.reshape(b * t, n) @ e).view(b, t, heads, n)
        nb_est = (num / cover.clamp(min=1e-4)).permute(0, 1, 3, 2)  # (B, T, N, heads): neighbours' anomaly
        cover = cover.permute(0, 1, 3, 2)  # (B, T, N, heads): share of neighbour weight visible
        phase = 2 * math.pi * slot.float() / self.cfg.slots_per_day  # (B, T)
        tfeat = torch.stack([phase.sin(), phase.cos(), daytype.float(), torch.zeros_like(phase)], -1)
        tl = float(self.cfg.window)
        feats = [
            x, m, interp, interp - prof, prof, anom,
            *([self._ridge(anom)] if self.cfg.ridge else []),
            torch.log1p(d_prev) / math.log1p(tl), torch.log1p(d_next) / math.log1p(tl),
        ]
        h = torch.cat([
            torch.stack(feats, -1), nb_est, cover,
            tfeat.unsqueeze(2).expand(b, t, n, 4), self.node_emb.expand(b, t, n, -1),
        ], -1)
        h = self.inp(h)
        for blk in self.blocks:
            h = blk(h, self.nb_idx)
        return h, interp

    def _ridge(self, anom: Tensor) -> Tensor:
        """The ridge estimate of each cell's anomaly from its neighbours' visible anomalies (B, T, N)."""
        b, t, n = anom.shape
        r = torch.zeros(n, n, device=anom.device, dtype=anom.dtype).scatter(1, self.nb_idx, self.nb_w)  # (dst, src)
        return (anom.reshape(b * t, n) @ r.T).view(b, t, n)

    def decode(self, h: Tensor, z: Tensor, base: Tensor) -> tuple[Tensor, Tensor]:
        """Laplace location and scale (B, T, N) in normalised units."""
        u = self.dec(h + self.z_in(z), self.nb_idx)
        out = self.head(u)
        loc = base + out[..., 0]
        scale = F.softplus(out[..., 1]) + 1e-3
        return loc, scale

    def forward(self, x: Tensor, m: Tensor, slot: Tensor, daytype: Tensor,
                y: Tensor | None = None, mt: Tensor | None = None) -> dict[str, Tensor]:
        """Training pass when ``y``/``mt`` (targets and their mask) are given, else the prior-mean prediction."""
        h, base = self.encode(x, m, slot, daytype)
        mu_p, lv_p = self.prior(h).chunk(2, -1)
        lv_p = lv_p.clamp(-8, 4)
        loc_p, scale_p = self.decode(h, mu_p, base)
        out = {"loc": loc_p, "scale": scale_p}
        if y is not None and mt is not None:
            mu_q, lv_q = self.post(torch.cat([h, (y * mt).unsqueeze(-1), mt.unsqueeze(-1)], -1)).chunk(2, -1)
            lv_q = lv_q.clamp(-8, 4)
            z = mu_q + torch.randn_like(mu_q) * (0.5 * lv_q).exp()
            loc_q, scale_q = self.decode(h, z, base)
            kl = 0.5 * (lv_p - lv_q + ((lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp()) - 1).sum(-1)  # (B, T, N)
            out.update(loc_q=loc_q, scale_q=scale_q, kl=kl)
        return out

    @torch.no_grad()
    def sample(self, x: Tensor, m: Tensor, slot: Tensor, daytype: Tensor, n_samples: int,
               generator: torch.Generator | None = None) -> Tensor:
        """Samples (S, B, T, N) in normalised units: z from the prior, then Laplace noise."""
        h, base = self.encode(x, m, slot, daytype)
        mu_p, lv_p = self.prior(h).chunk(2, -1)
        sd_p = (0.5 * lv_p.clamp(-8, 4)).exp()
        outs = []
        for _ in range(n_samples):
            eps = torch.randn(mu_p.shape, generator=generator, device=mu_p.device, dtype=mu_p.dtype)
            loc, scale = self.decode(h, mu_p + eps * sd_p, base)
            u = torch.rand(loc.shape, generator=generator, device=loc.device, dtype=loc.dtype) - 0.5
            outs.append(loc - scale * u.sign() * torch.log1p(-2 * u.abs()).clamp(min=-20))
        return torch.stack(outs)


def top_correlated(z: np.ndarray, k: int) -> np.ndarray:
    """Indices (N, k) of each sensor's k most correlated other sensors (absolute correlation, NaN-tolerant)."""
    n = z.shape[1]
    k = min(k, n - 1) if n > 1 else 1
    v = ~np.isnan(z)
    zc = np.where(v, z - np.nanmean(np.where(v, z, np.nan), axis=0), 0.0)
    cov = zc.T @ zc
    cnt = v.T.astype(np.float64) @ v.astype(np.float64)
    var = np.diag(cov) / np.maximum(np.diag(cnt), 1)
    corr = cov / np.maximum(cnt, 1) / np.sqrt(np.outer(var, var) + 1e-12)
    corr = np.where(cnt > 24, np.abs(corr), 0.0)
    np.fill_diagonal(corr, -np.inf)
    idx = np.argsort(-corr, axis=1)[:, :k]
    if idx.shape[1] < k:  # a single sensor: point at itself
        idx = np.zeros((n, k), dtype=np.int64)
    return idx.astype(np.int64)


def ridge_weights(anomaly: np.ndarray, nb: np.ndarray, drop: float = 0.3, seed: int = 0,
                  max_rows: int = 12000) -> np.ndarray:
    """Per-sensor ridge regression (N, K) of its anomaly on its neighbours' anomalies.

    Missing neighbour values count as 0 (the sensor's profile); a share ``drop`` of neighbour values is
    dropped at random while fitting so the weights stay sensible when neighbours are missing too.
    """
    rng = np.random.default_rng(seed)
    rows = anomaly[np.linspace(0, len(anomaly) - 1, min(max_rows, len(anomaly))).astype(int)]
    n, k = nb.shape
    w = np.zeros((n, k))
    for i in range(n):
        y = rows[:, i]
        x = rows[:, nb[i]]
        x = np.where(np.isnan(x) | (rng.random(x.shape) < drop), 0.0, x)
        ok = ~np.isnan(y)
        if ok.sum() <= k:
            continue
        x, y = x[ok], y[ok]
        w[i] = np.linalg.solve(x.T @ x + 1e-2 * len(y) * np.eye(k), x.T @ y)
    return w


def time_features(index: Any, freq_seconds: float, slots_per_day: int) -> tuple[np.ndarray, np.ndarray]:
    """Slot of the day (int) and daytype (0 weekday, 1 weekend) for each timestamp."""
    import pandas as pd

    idx = pd.DatetimeIndex(index)
    secs = idx.hour * 3600 + idx.minute * 60 + idx.second
    slot = (np.asarray(secs) // max(int(freq_seconds), 1)).astype(np.int64) % slots_per_day
    daytype = (np.asarray(idx.day_of_week) >= 5).astype(np.int64)
    return slot, daytype
