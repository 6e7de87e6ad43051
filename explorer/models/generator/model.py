"""Conditional WGAN-GP generating one 24-hour window of residuals for all sensors of a city.

The window is a sequence of 24 hourly tokens. Generator:

* **hour path** (city-wide structure): per hour, projections of the calendar condition, a day-level
  latent ``z_global`` and an hourly latent ``z_hour`` are summed into ``hidden`` features, mixed
  along time and features by MLP-mixer blocks and decoded into one value per sensor (a learned
  sensors x hidden loading);
* **sensor path** (local structure): each sensor's own noise, AR(1) along the hours with a learned
  per-sensor correlation, a learned sinh-arcsinh shape (skew, heavy tails: incidents) and a spread
  decoded from the hour path;
* **event response**: the event intensity at each sensor with a gain modulated by the hour path,
  plus a learned per-sensor response to the intensity spread over the sensor graph
  (``city.adjacency``, normalised). The hour path does not see the events, so with the same noise
  the scenario differs from its baseline only at the requested sensors and their graph neighbours.

Every per-sensor operation is element-wise on (batch, 24, sensors) or a matmul, so sampling 128
windows of 207 sensors takes a few milliseconds.

The critic reads the masked residuals, the mask and the event field per hour, mixes along time the
same way and pools. Everything is linear in the number of sensors, so sampling is cheap.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
from scipy import sparse
from torch import nn

T = 24  # hours per generated window
COND_DIM = 10  # per hour: sin/cos hour of day, 7 x day of week one-hot, holiday


@dataclass
class GeneratorConfig:
    """Hyper-parameters of the model and its training."""

    hidden: int = 64
    z_global: int = 16
    z_hour: int = 8
    blocks: int = 3
    critic_hidden: int = 64
    critic_blocks: int = 3
    batch: int = 32
    steps: int = 3000
    n_critic: int = 2
    lr: float = 2e-4
    gp_weight: float = 10.0
    aux_weight: float = 20.0
    quantile_weight: float = 5.0
    r_clip: float = 16.0  # residual clip (training data) and soft clip (generator)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GeneratorConfig:
        names = {f.name for f in fields(cls)}
        legacy = {"r_clip": 16.0}  # checkpoints written before the field existed
        return cls(**{**legacy, **{k: v for k, v in d.items() if k in names}})


def normalised_adjacency(adj: np.ndarray | sparse.spmatrix) -> torch.Tensor:
    """Symmetric ``D^-1/2 (max(A, A^T) + I) D^-1/2`` as a float tensor (n, n): dense, or sparse (COO) when
    ``adj`` is a scipy sparse matrix (large cities: a dense 50,000^2 matrix would take 10 GB)."""
    if sparse.issparse(adj):
        a = adj.tocsr().astype(np.float32)
        a = a.maximum(a.T)
        a = (a - sparse.diags(a.diagonal()) + sparse.eye(a.shape[0], dtype=np.float32)).tocsr()
        d = sparse.diags(1.0 / np.sqrt(np.asarray(a.sum(1)).ravel())).astype(np.float32)
        a = (d @ a @ d).tocsr().astype(np.float32)
        coo = a.tocoo()
        idx = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
        return torch.sparse_coo_tensor(idx, torch.from_numpy(coo.data), size=a.shape,
                                       check_invariants=True).coalesce()
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


class MixerBlock(nn.Module):
    """MLP-mixer block on (B, 24, H): mixing along the hours, then along the features (both residual)."""

    def __init__(self, h: int) -> None:
        super().__init__()
        self.t1, self.t2 = nn.Linear(T, 2 * T), nn.Linear(2 * T, T)
        self.c1, self.c2 = nn.Linear(h, 2 * h), nn.Linear(2 * h, h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = nn.functional.leaky_relu
        x = x + self.t2(act(self.t1(x.transpose(1, 2)), 0.2)).transpose(1, 2)
        return x + self.c2(act(self.c1(x), 0.2))


SAMPLE_CHUNK_BYTES = 8 << 20  # temporaries per chunk of samples in Generator.sample_parts


def _time_stack(h: int, blocks: int) -> nn.Sequential:
    return nn.Sequential(*(MixerBlock(h) for _ in range(blocks)))


class Generator(nn.Module):
    """Noise + (cond (B, 24, C), event (B, 24, N) in residual units) -> residual (B, 24, N)."""

    def __init__(self, cfg: GeneratorConfig, adjacency: np.ndarray) -> None:
        super().__init__()
        n, h = adjacency.shape[0], cfg.hidden
        self.cfg, self.n = cfg, n
        a = normalised_adjacency(adjacency)
        self.register_buffer("a", a, persistent=not a.is_sparse)  # a sparse graph is rebuilt from the city
        self.p_cond = nn.Linear(COND_DIM, h)
        self.p_zg = nn.Linear(cfg.z_global, h)
        self.p_zh = nn.Linear(cfg.z_hour, h)
        self.time = _time_stack(h, cfg.blocks)
        self.decode = nn.Linear(h, n)  # city-wide part, per sensor
        self.scale = nn.Linear(h, n)  # log spread of the sensor's own noise, per hour
        self.gain_head = nn.Linear(h, n)  # hour-dependent modulation of the event response
        nn.init.zeros_(self.gain_head.weight)
        nn.init.zeros_(self.gain_head.bias)
        self.rho = nn.Parameter(torch.full((n,), 1.4))  # logit of the hour-to-hour correlation of own noise
        self.tail = nn.Parameter(torch.zeros(n))  # sinh-arcsinh tail weight (0 = Gaussian)
        self.skew = nn.Parameter(torch.zeros(n))  # sinh-arcsinh skew
        self.spread_gain = nn.Parameter(torch.zeros(n))  # response to the event over graph neighbours

    def noise(self, b: int, generator: torch.Generator | None = None, device: Any = None) -> tuple[torch.Tensor, ...]:
        """(z_global (B, Zg), z_hour (B, 24, Zh), z_sensor (B, 24, N))."""
        kw = {"generator": generator, "device": device}
        return (
            torch.randn(b, self.cfg.z_global, **kw),
            torch.randn(b, T, self.cfg.z_hour, **kw),
            torch.randn(b, T, self.n, **kw),
        )

    def own_noise(self, zs: torch.Tensor) -> torch.Tensor:
        """AR(1) along the hours with a per-sensor correlation, then a sinh-arcsinh shape: (B, 24, N)."""
        rho = torch.sigmoid(self.rho)
        keep = torch.sqrt(1 - rho**2)
        if torch.is_grad_enabled():  # training: autograd needs the out-of-place form
            u = [zs[:, 0]]
            for t in range(1, T):
                u.append(rho * u[-1] + keep * zs[:, t])
            u_t = torch.stack(u, 1)
        else:  # sampling: the same numbers, filled in place (no 24 slices stacked into a copy)
            u_t = torch.empty_like(zs)
            u_t[:, 0] = zs[:, 0]
            for t in range(1, T):
                torch.add(rho * u_t[:, t - 1], keep * zs[:, t], out=u_t[:, t])
        # asinh(u) written out: torch.asinh is not vectorised on CPU and dominated the sampling time
        asinh = torch.sign(u_t) * torch.log(u_t.abs() + torch.sqrt(u_t * u_t + 1))
        return torch.sinh(torch.exp(self.tail) * asinh + self.skew)

    def parts(self, noise: tuple[torch.Tensor, ...], cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The event-free residual and the event gain, both (B, 24, N)."""
        zg, zh, zs = noise
        x = self.p_cond(cond) + self.p_zg(zg)[:, None] + self.p_zh(zh)  # (B, 24, H)
        x = nn.functional.leaky_relu(self.time(x), 0.2)  # (B, 24, H)
        base = self.decode(x) + torch.exp(self.scale(x).clamp(-6, 3)) * self.own_noise(zs)
        clip = self.cfg.r_clip
        base = clip * torch.tanh(base / clip)  # the training residuals are clipped to +-r_clip
        return base, 1 + 0.5 * torch.tanh(self.gain_head(x))

    @torch.no_grad()
    def sample_parts(
        self,
        noise: tuple[torch.Tensor, ...],
        cond: torch.Tensor,
        cols: torch.Tensor,
        modulation: float = 1.0,
        chunk_bytes: int = SAMPLE_CHUNK_BYTES,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sampling form of :meth:`parts`: the same numbers, computed in place in the sensor noise, a few
        samples at a time, and the event gain only at sensors ``cols`` (B, 24, len(cols)), its learned
        modulation around 1 scaled by ``modulation`` (1 = as trained). **Overwrites the sensor noise.**

        A (64, 24, 10,000) float32 array is 61 MB; the allocator maps such blocks fresh from the kernel each
        time (first-touch page faults cost more than the arithmetic), while temporaries under ``chunk_bytes``
        are reused from the heap and stay in cache. Each sample's numbers do not depend on the chunking."""
        zg, zh, zs = noise
        x = self.p_cond(cond) + self.p_zg(zg)[:, None] + self.p_zh(zh)
        x = nn.functional.leaky_relu(self.time(x), 0.2)  # (B, 24, H): small
        rho = torch.sigmoid(self.rho)
        keep = torch.sqrt(1 - rho**2)
        tail, clip = torch.exp(self.tail), self.cfg.r_clip
        b = zs.shape[0]
        # chunks of a multiple of 8 x 24 x N values: torch's vectorised loops then end each chunk where the
        # whole array's loop would end a block, so no value falls into a scalar remainder it would not have
        align = 8 // math.gcd(self.n, 8)
        step = max(align, chunk_bytes // max(1, zs[:1].numel() * zs.element_size()) // align * align)
        for s in range(0, b, step):
            u, xs = zs[s : s + step], x[s : s + step]  # views: results are written back into the noise
            for t in range(1, T):  # AR(1) along the hours
                u[:, t].mul_(keep).add_(rho * u[:, t - 1])
            shaped = u.abs()  # sinh(exp(tail) * asinh(u) + skew), asinh written out (not vectorised on CPU)
            shaped.square_().add_(1).sqrt_().add_(u.abs()).log_().copysign_(u)
            shaped.mul_(tail).add_(self.skew).sinh_()
            spread = self.scale(xs).clamp_(-6, 3).exp_().mul_(shaped)
            out = self.decode(xs).add_(spread)
            u.copy_(out.div_(clip).tanh_().mul_(clip))
        w, bias = self.gain_head.weight[cols], self.gain_head.bias[cols]
        gain = torch.tanh(nn.functional.linear(x, w, bias)).mul_(0.5 * modulation).add_(1)
        return zs, gain

    def event_response_at(self, gain: torch.Tensor, event: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """:meth:`event_response` at sensors ``cols`` only: ``gain`` is (B, 24, len(cols)), event (1, 24, N)."""
        if self.a.is_sparse:
            flat = event.reshape(-1, self.n)
            spread = torch.sparse.mm(self.a, flat.T.contiguous()).T.reshape(event.shape)
        else:
            spread = torch.matmul(event, self.a)
        return gain * event[..., cols] + self.spread_gain[cols] * spread[..., cols]

    def reach(self, event: torch.Tensor) -> torch.Tensor:
        """Indices of the sensors an event field (K, 24, N) can change: where it is non-zero and their
        graph neighbours (the support of :meth:`event_response`)."""
        at = (event != 0).any(0).any(0).to(self.a.dtype)  # (N,)
        if self.a.is_sparse:
            near = torch.sparse.mm(self.a, at[:, None])[:, 0]
        else:
            near = self.a @ at
        return torch.nonzero((near != 0) | (at != 0)).flatten()

    def event_response(self, gain: torch.Tensor, event: torch.Tensor) -> torch.Tensor:
        """The event acts locally: at its sensors with an hour-dependent gain, and over graph neighbours."""
        if self.a.is_sparse:  # a is symmetric: event @ a = (a @ event^T)^T
            flat = event.reshape(-1, self.n)
            spread = torch.sparse.mm(self.a, flat.T.contiguous()).T.reshape(event.shape)
        else:
            spread = torch.matmul(event, self.a)
        return gain * event + self.spread_gain * spread

    def forward(self, noise: tuple[torch.Tensor, ...], cond: torch.Tensor, event: torch.Tensor) -> torch.Tensor:
        base, gain = self.parts(noise, cond)
        return base + self.event_response(gain, event)


class Critic(nn.Module):
    """(residual (B, 24, N) already masked, mask, cond, event) -> score (B,)."""

    def __init__(self, cfg: GeneratorConfig, adjacency: np.ndarray) -> None:
        super().__init__()
        n, h = adjacency.shape[0], cfg.critic_hidden
        self.p_in = nn.Linear(3 * n, h)
        self.p_cond = nn.Linear(COND_DIM, h)
        self.time = _time_stack(h, cfg.critic_blocks)
        self.out = nn.Sequential(nn.Linear(2 * h, h), nn.LeakyReLU(0.2), nn.Linear(h, 1))

    def forward(self, r: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor, event: torch.Tensor) -> torch.Tensor:
        x = self.p_in(torch.cat([r, mask, event], -1)) + self.p_cond(cond)  # (B, 24, H)
        x = nn.functional.leaky_relu(self.time(x), 0.2)  # (B, 24, H)
        return self.out(torch.cat([x.mean(1), x.amax(1)], -1)).squeeze(-1)
