"""A spatio-temporal imputer whose sampled fills are coherent in time and across neighbouring sensors.

Shapes: B windows, T steps, N sensors, H hidden channels, K neighbour candidates.

Point estimate. The encoder reads what is visible in a window and builds cheap, strong evidence for every cell:
a linear interpolation in time of the same sensor, the sensor's daily profile, and attention-weighted anomalies
of its most correlated sensors at the same step. Dilated temporal convolutions and a learned sparse sensor
mixing turn that into a state ``u``; a head outputs ``loc``, a correction to the interpolation, trained for the
absolute error (so ``loc`` is a conditional median).

Sampled fills. Around ``loc`` the residual ``r = y - loc`` of the filled cells is a Gaussian process with a
graph-autoregressive structure (``residual="graph-ar"``): along time

    r_t = a_t * r_{t-1} + psi_t * eta_t + c_t * (W xi_t),    eta_t, xi_t ~ N(0, I_N),

where ``r_{t-1}`` counts only where the previous value was filled too (a measured value has no residual),
``a`` (AR coefficient), ``psi`` (own innovation scale) and ``c`` (graph innovation scale) are per cell, read
from ``u`` by a small head, and ``W`` (N x N, each row a softmax over the sensor and its K neighbours) spreads
shared innovations over neighbours. The head and ``W`` are trained by the exact Gaussian likelihood of the
held-out residuals, ``loc`` detached, so the sampling model never pulls the point estimate away from the median.
``residual="ar"`` drops the graph term and ``"independent"`` also the AR term (per-cell noise: the ablations).

Heavy-tailed shared term (``residual="graph-ar-gsm"``, ``"graph-ar-gsm-window"``): a Gaussian scale mixture,

    r_t = a_t * r_{t-1} + psi_t * eta_t + s * c_t * (W xi_t),    s = g_k with probability pi_k,

where one latent scale ``s`` multiplies the shared innovation of every sensor at a step (``-gsm``) or at every
step of a window (``-gsm-window``; sampling draws it per block of ``window`` steps), so large shared deviations
happen together. The scale points ``g`` are fixed (``2 ** linspace(-2, 3, gsm_scales)``) and rescaled so that
``sum_k pi_k g_k^2 = 1`` (``c`` keeps its meaning as the RMS scale of the shared term, ``pi`` shapes only its
tails); the weights ``pi`` are learned. ``"graph-ar-gsm-joint"`` also multiplies the own innovation by a learned
factor ``h_k`` of the same latent component (``sum_k pi_k h_k^2 = 1``): a network-wide regime per step whose
own and shared sizes may differ, so heavy tails need not all pass through the shared term. The likelihood
stays exact: a log-sum-exp over the K components of the exact Gaussian likelihoods, one Cholesky per component
and scored step.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

RESIDUALS = ("graph-ar", "ar", "independent", "graph-ar-gsm", "graph-ar-gsm-window", "graph-ar-gsm-joint")
GRAPH = ("graph-ar", "graph-ar-gsm", "graph-ar-gsm-window", "graph-ar-gsm-joint")  # with the shared graph term


@dataclass
class ImputerConfig:
    """Hyperparameters and data-derived sizes; everything needed to rebuild the model."""

    n_nodes: int
    slots_per_day: int
    window: int = 24
    hidden: int = 16
    n_neighbours: int = 16
    n_heads: int = 4
    dilations: tuple[int, ...] = (1, 2)
    embed: int = 8
    dropout: float = 0.0
    residual: str = "graph-ar"  # structure of the sampled residual: one of RESIDUALS
    gsm_scales: int = 6  # scale points of the shared term's mixture (graph-ar-gsm*)
    res_hidden: int = 16
    nll_steps: int = 6  # time steps per window whose residual likelihood is scored in a training step
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.n_neighbours = max(1, min(self.n_neighbours, self.n_nodes - 1))
        if self.residual not in RESIDUALS:
            raise ValueError(f"unknown residual structure {self.residual!r}; choose one of {RESIDUALS}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["dilations"] = list(self.dilations)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImputerConfig:
        d = dict(d)
        d["dilations"] = tuple(d.get("dilations", (1, 2)))
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
    """Point estimate plus a graph-autoregressive Gaussian residual (see module docstring)."""

    def __init__(self, cfg: ImputerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        n, k, hd = cfg.n_nodes, cfg.n_neighbours, cfg.hidden
        # data-derived buffers, filled by ``fit_buffers`` and saved with the weights
        self.register_buffer("mean", torch.zeros(n))
        self.register_buffer("std", torch.ones(n))
        self.register_buffer("profile", torch.zeros(2, cfg.slots_per_day, n))  # (daytype, slot, N) normalised
        self.register_buffer("nb_idx", torch.zeros(n, k, dtype=torch.long))
        # set by calibration on the validation part (``api.fit_band_scale``), not learned: the factor on sampled
        # residuals that makes the P10-P90 band cover 80 % of held-out values
        self.register_buffer("band_scale", torch.ones(()))
        self.nb_logits = nn.Parameter(torch.zeros(cfg.n_heads, n, k))
        self.node_emb = nn.Parameter(torch.randn(n, cfg.embed) * 0.1)
        n_feat = 8 + 2 * cfg.n_heads + 4 + cfg.embed
        self.inp = nn.Linear(n_feat, hd)
        self.blocks = nn.ModuleList(STBlock(hd, d, n, k, cfg.dropout) for d in (*cfg.dilations, 1))
        self.head = nn.Sequential(nn.Linear(hd, hd), nn.ReLU(), nn.Linear(hd, 1))
        # the residual's sampling model: per-cell (psi, c, a) and the graph spreading W
        self.res_head = nn.Sequential(nn.Linear(hd + 4, cfg.res_hidden), nn.ReLU(), nn.Linear(cfg.res_hidden, 3))
        self.res_logits = nn.Parameter(torch.zeros(n, k + 1))  # over [self, K neighbours]
        if self.mixture:  # weights of the shared term's scale points, first peaked at scale 1
            g = torch.linspace(-2.0, 3.0, cfg.gsm_scales) if cfg.gsm_scales > 1 else torch.zeros(1)
            self.register_buffer("res_mix_points", 2.0**g)
            self.res_mix_logits = nn.Parameter(-0.5 * g**2)
            if cfg.residual == "graph-ar-gsm-joint":  # log2 of the own innovation's factor per component
                self.res_mix_own = nn.Parameter(torch.zeros(len(g)))

    @property
    def mixture(self) -> bool:
        """Whether the shared term is a Gaussian scale mixture (``graph-ar-gsm*``)."""
        return self.cfg.residual.startswith("graph-ar-gsm")

    def mix(self) -> tuple[Tensor, Tensor, Tensor]:
        """The scale mixture: (log pi (K,), shared scales g (K,), own scales h (K,)), sum pi g^2 = sum pi h^2 = 1
        (h = 1 but for ``graph-ar-gsm-joint``)."""
        logp = torch.log_softmax(self.res_mix_logits, 0)
        g = self.res_mix_points
        h = 2.0 ** self.res_mix_own if self.cfg.residual == "graph-ar-gsm-joint" else torch.ones_like(g)
        pi = logp.exp()
        return logp, g / (pi * g**2).sum().sqrt(), h / (pi * h**2).sum().sqrt()

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
        self.nb_idx.copy_(torch.from_numpy(top_correlated(anomaly, self.cfg.n_neighbours)))
        self.mean.copy_(torch.from_numpy(mu.astype(np.float32)))
        self.std.copy_(torch.from_numpy(sd.astype(np.float32)))
        self.profile.copy_(torch.from_numpy(prof.astype(np.float32)))

    # ---- model -----------------------------------------------------------------------------------------
    def encode(self, x: Tensor, m: Tensor, slot: Tensor, daytype: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """State u (B, T, N, H), the interpolation base (B, T, N) and gap features (B, T, N, 4)."""
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
        gap = torch.stack([m, torch.log1p(d_prev) / math.log1p(tl), torch.log1p(d_next) / math.log1p(tl),
                           cover.mean(-1)], -1)  # (B, T, N, 4)
        feats = [x, m, interp, interp - prof, prof, anom, gap[..., 1], gap[..., 2]]
        h = torch.cat([
            torch.stack(feats, -1), nb_est, cover,
            tfeat.unsqueeze(2).expand(b, t, n, 4), self.node_emb.expand(b, t, n, -1),
        ], -1)
        h = self.inp(h)
        for blk in self.blocks:
            h = blk(h, self.nb_idx)
        return h, interp, gap

    def forward(self, x: Tensor, m: Tensor, slot: Tensor, daytype: Tensor) -> dict[str, Tensor]:
        """Normalised units, all (B, T, N): ``loc`` and the residual's ``psi``, ``c``, ``a``."""
        u, base, gap = self.encode(x, m, slot, daytype)
        loc = base + self.head(u)[..., 0]
        o = self.res_head(torch.cat([u.detach(), gap], -1))
        psi = F.softplus(o[..., 0] - 1.0) + 1e-2
        zero = torch.zeros_like(psi)
        c = F.softplus(o[..., 1] - 1.0) if self.cfg.residual in GRAPH else zero
        a = torch.tanh(o[..., 2]) if self.cfg.residual != "independent" else zero
        return {"loc": loc, "psi": psi, "c": c, "a": a}

    def spread(self) -> Tensor:
        """W (N, N): row i spreads the shared innovation over sensor i and its K neighbours (rows sum to 1)."""
        n = self.cfg.n_nodes
        cols = torch.cat([torch.arange(n, device=self.nb_idx.device)[:, None], self.nb_idx], 1)  # (N, K+1)
        w = torch.zeros(n, n, device=self.res_logits.device, dtype=self.res_logits.dtype)
        return w.scatter_add(1, cols, torch.softmax(self.res_logits, dim=1))

    def residual_nll(self, out: dict[str, Tensor], r: Tensor, target: Tensor, steps: Tensor) -> Tensor:
        """Exact negative log-likelihood (nats per scored cell) of held-out residuals at chosen steps.

        ``r`` (B, T, N) residuals y - loc (loc detached), 0 outside ``target`` (B, T, N) bool, the cells whose
        residual is known and scored; ``steps`` (S,) time indices >= 1 to score. The AR term reads r_{t-1}, which
        is 0 where the previous value was measured (as in sampling) or not known. Gaussian for ``graph-ar``,
        ``ar`` and ``independent``; for ``graph-ar-gsm*`` the log-sum-exp over the scale points of the Gaussian
        likelihoods of each scored step (``-gsm``) or of all scored steps of a window together (``-window``).
        """
        b, _, n = r.shape
        prev = r[:, steps - 1]  # (B, S, N)
        sel = {k: v[:, steps] for k, v in out.items()}
        tgt = target[:, steps].reshape(-1, n)  # (B*S, N)
        d = (r[:, steps] - sel["a"] * prev).reshape(-1, n)  # innovations
        psi, c = sel["psi"].reshape(-1, n), sel["c"].reshape(-1, n)
        # gather each row's scored sensors first, pad to the row maximum (identity where padded)
        order = torch.argsort((~tgt).to(torch.int8), dim=1, stable=True)
        width = int(tgt.sum(1).max())
        if width == 0:
            return r.new_zeros(())
        idx = order[:, :width]  # (R, M)
        valid = torch.gather(tgt, 1, idx).float()  # (R, M)
        dg = torch.gather(d, 1, idx) * valid
        own = torch.gather(psi, 1, idx) ** 2 * valid  # (R, M)
        diag = torch.diag_embed(own + (1 - valid))
        if self.cfg.residual not in GRAPH:
            return -_gauss_loglik(diag, dg, valid).sum() / valid.sum().clamp(min=1)
        w = self.spread()
        cg = torch.gather(c, 1, idx) * valid  # (R, M)
        shared = cg[:, :, None] * cg[:, None, :] * (w @ w.T)[idx[:, :, None], idx[:, None, :]]
        if not self.mixture:
            return -_gauss_loglik(diag + shared, dg, valid).sum() / valid.sum().clamp(min=1)
        logp, g, h = self.mix()
        ll = torch.stack([_gauss_loglik(torch.diag_embed(hk**2 * own + (1 - valid)) + gk**2 * shared, dg, valid)
                          for gk, hk in zip(g, h, strict=True)], -1)  # (R, K)
        if self.cfg.residual == "graph-ar-gsm-window":  # one scale for all scored steps of a window
            ll = ll.view(b, -1, len(g)).sum(1)
        return -torch.logsumexp(ll + logp, -1).sum() / valid.sum().clamp(min=1)


def _gauss_loglik(cov: Tensor, d: Tensor, valid: Tensor) -> Tensor:
    """Log-density (R,) of each row's innovations ``d`` (R, M) under N(0, cov (R, M, M)); padded cells (identity
    rows and columns, ``valid`` 0, d 0) add nothing."""
    chol = torch.linalg.cholesky(cov)
    z = torch.linalg.solve_triangular(chol, d.unsqueeze(-1), upper=False)[..., 0]
    logdet = chol.diagonal(dim1=1, dim2=2).log().sum(1)
    return -(0.5 * (z**2).sum(1) + logdet + 0.5 * math.log(2 * math.pi) * valid.sum(1))


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


def time_features(index: Any, freq_seconds: float, slots_per_day: int) -> tuple[np.ndarray, np.ndarray]:
    """Slot of the day (int) and daytype (0 weekday, 1 weekend) for each timestamp."""
    import pandas as pd

    idx = pd.DatetimeIndex(index)
    secs = idx.hour * 3600 + idx.minute * 60 + idx.second
    slot = (np.asarray(secs) // max(int(freq_seconds), 1)).astype(np.int64) % slots_per_day
    daytype = (np.asarray(idx.day_of_week) >= 5).astype(np.int64)
    return slot, daytype
