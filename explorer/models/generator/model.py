"""Conditional WGAN-GP on the sensor graph, generating one 24-hour window of residuals.

Each sensor is a token of ``hidden`` features. The generator sums, per token, projections of:
a learned sensor embedding, a day-level latent ``z_global`` (shared by all sensors: weather, mood of
the day), a per-sensor latent ``z_local``, the calendar condition of the 24 hours (hour of day, day of
week, holiday) and the sensor's 24-hour event-intensity row. Graph blocks then mix tokens along the
normalised adjacency (``city.adjacency``) and a head decodes each token into its 24 hourly residuals.
The critic mirrors it on (masked residual, mask, event row) tokens and pools over sensors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import nn

T = 24  # hours per generated window
COND_DIM = 10  # per hour: sin/cos hour of day, 7 x day of week one-hot, holiday


@dataclass
class GeneratorConfig:
    """Hyper-parameters of the model and its training."""

    hidden: int = 48
    z_global: int = 16
    z_local: int = 4
    embed: int = 8
    blocks: int = 2
    critic_hidden: int = 64
    critic_blocks: int = 2
    batch: int = 64
    steps: int = 3000
    n_critic: int = 3
    lr: float = 2e-4
    gp_weight: float = 10.0
    aux_weight: float = 20.0
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GeneratorConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def normalised_adjacency(adj: np.ndarray) -> torch.Tensor:
    """Symmetric ``D^-1/2 (max(A, A^T) + I) D^-1/2`` as a dense float tensor (n, n)."""
    a = np.maximum(adj, adj.T).astype(np.float32)
    np.fill_diagonal(a, 1.0)
    d = 1.0 / np.sqrt(a.sum(1))
    return torch.from_numpy(a * d[:, None] * d[None, :])


def calendar_features(hours: np.ndarray, dows: np.ndarray, holidays: np.ndarray) -> np.ndarray:
    """(..., 24) clock hour, day of week, holiday flag -> (..., 24, COND_DIM) float32."""
    ang = 2 * np.pi * np.asarray(hours) / 24.0
    oh = np.eye(7, dtype=np.float32)[np.asarray(dows, int)]
    return np.concatenate(
        [np.sin(ang)[..., None], np.cos(ang)[..., None], oh, np.asarray(holidays, np.float32)[..., None]], axis=-1
    ).astype(np.float32)


class GraphBlock(nn.Module):
    """Token MLP then graph mixing, both residual."""

    def __init__(self, h: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.LayerNorm(h), nn.Linear(h, 2 * h), nn.LeakyReLU(0.2), nn.Linear(2 * h, h))
        self.mix = nn.Sequential(nn.LayerNorm(h), nn.Linear(h, h), nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:  # x (B, N, H), a (N, N)
        x = x + self.mlp(x)
        return x + torch.matmul(a, self.mix(x))


class Generator(nn.Module):
    """(z_global (B, Zg), z_local (B, N, Zl), cond (B, 24, C), event (B, 24, N)) -> residual (B, 24, N)."""

    def __init__(self, cfg: GeneratorConfig, adjacency: np.ndarray) -> None:
        super().__init__()
        n, h = adjacency.shape[0], cfg.hidden
        self.cfg = cfg
        self.register_buffer("a", normalised_adjacency(adjacency))
        self.emb = nn.Parameter(0.1 * torch.randn(n, cfg.embed))
        self.p_emb = nn.Linear(cfg.embed, h)
        self.p_zg = nn.Linear(cfg.z_global, h)
        self.p_zl = nn.Linear(cfg.z_local, h)
        self.p_cond = nn.Linear(T * COND_DIM, h)
        self.p_event = nn.Linear(T, h)
        self.blocks = nn.ModuleList(GraphBlock(h) for _ in range(cfg.blocks))
        self.head = nn.Sequential(nn.LayerNorm(h), nn.Linear(h, h), nn.LeakyReLU(0.2), nn.Linear(h, T))
        self.event_gain = nn.Parameter(torch.zeros(1))  # direct path from the event row (learned scale)

    def forward(self, zg: torch.Tensor, zl: torch.Tensor, cond: torch.Tensor, event: torch.Tensor) -> torch.Tensor:
        ev = event.transpose(1, 2)  # (B, N, 24)
        x = (
            self.p_emb(self.emb)[None]  # (1, N, H)
            + self.p_zg(zg)[:, None]  # (B, 1, H)
            + self.p_zl(zl)  # (B, N, H)
            + self.p_cond(cond.flatten(1))[:, None]  # (B, 1, H)
            + self.p_event(ev)  # (B, N, H)
        )
        x = nn.functional.leaky_relu(x, 0.2)
        for blk in self.blocks:
            x = blk(x, self.a)
        out = self.head(x) + self.event_gain * ev  # (B, N, 24)
        return out.transpose(1, 2)  # (B, 24, N)


class Critic(nn.Module):
    """(residual (B, 24, N) already masked, mask, cond, event) -> score (B,)."""

    def __init__(self, cfg: GeneratorConfig, adjacency: np.ndarray) -> None:
        super().__init__()
        n, h = adjacency.shape[0], cfg.critic_hidden
        self.register_buffer("a", normalised_adjacency(adjacency))
        self.emb = nn.Parameter(0.1 * torch.randn(n, cfg.embed))
        self.p_in = nn.Linear(3 * T + cfg.embed, h)
        self.p_cond = nn.Linear(T * COND_DIM, h)
        self.blocks = nn.ModuleList(GraphBlock(h) for _ in range(cfg.critic_blocks))
        self.out = nn.Sequential(nn.Linear(2 * h, h), nn.LeakyReLU(0.2), nn.Linear(h, 1))

    def forward(self, r: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor, event: torch.Tensor) -> torch.Tensor:
        b = r.shape[0]
        tok = torch.cat(
            [r.transpose(1, 2), mask.transpose(1, 2), event.transpose(1, 2), self.emb[None].expand(b, -1, -1)], -1
        )  # (B, N, 3*24 + E)
        x = nn.functional.leaky_relu(self.p_in(tok) + self.p_cond(cond.flatten(1))[:, None], 0.2)
        for blk in self.blocks:
            x = blk(x, self.a)
        pooled = torch.cat([x.mean(1), x.amax(1)], -1)  # (B, 2H)
        return self.out(pooled).squeeze(-1)
