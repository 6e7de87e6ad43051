"""Conditional WGAN-GP generating one 24-hour window of residuals for all sensors of a city.

The window is a sequence of 24 hourly tokens. Generator:

* **hour path** (city-wide structure): per hour, projections of the calendar condition, a day-level
  latent ``z_global`` and an hourly latent ``z_hour`` are summed into ``hidden`` features, mixed
  along time and features by MLP-mixer blocks and decoded into one value per sensor (a learned
  sensors x hidden loading);
* **sensor path** (local structure): each sensor's own noise, AR(1) along the hours with a learned
  per-sensor correlation, a learned sinh-arcsinh shape (skew, heavy tails: incidents) and a spread
  decoded from the hour path;
* **event branch** (:class:`EventResponse`, a graph-temporal network): from the *origin* of an event only
  (its sensor, hours and size, as a planner states it) to the deviation it causes at **every** sensor and
  hour: spread over the sensor graph (forward and backward along directed links, several hops, plus a
  learned origin-to-sensor pattern where the city is small enough), in time by learned kernels (build-up
  before, queues that last after), scaled by the hour of day, with its own uncertainty (per-sample
  latent scales per component and per sensor). The deviation is in event units (extra people per hour over
  the city's count scale for counts, fraction slower for speeds) and acts on the event-free sample: counts
  additive in people, speeds multiplicative (:func:`apply_event`). The event-free part does not see the
  events, so with the same noise the difference between scenario and baseline is exactly the event's
  response.

The critic reads the masked residuals, the mask and the origin field per hour, mixes along time the
same way and pools. Everything but the small-city origin-to-sensor pattern is linear in the number of
sensors, so sampling is cheap.
"""

from __future__ import annotations

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
    aux_weight: float = 20.0  # requested size at the origin (relative error)
    quantile_weight: float = 0.0  # per-sensor quantiles of a batch vs the training residuals (0: off)
    adv_weight: float = 1.0  # the critic's (adversarial) term in the generator's loss
    crps_weight: float = 10.0  # per-cell CRPS of two samples against the real window (a proper scoring rule)
    r_clip: float = 16.0  # residual clip (training data) and soft clip (generator)
    components: int = 6  # event branch: spatio-temporal components (half for small events, half for large)
    hops: int = 3  # event branch: graph hops each way
    lag_before: int = 3  # event branch: hours of build-up before the origin's hours
    lag_after: int = 6  # event branch: hours the response may last after them
    pair_specific: bool = True  # event branch: a learned origin-to-sensor pattern (cities up to PAIR_MAX sensors)
    pair_hops: int = 1  # event branch: that pattern links sensors at most this many graph links apart (0: any)
    tau_init: float = 0.5  # event branch: initial per-sample spread (log-normal) of the response away from the origin
    origin_fixed: bool = True  # event branch: no per-sample factors at the origin (the stated size in every sample)
    same_sign: bool = True  # event branch: graph, pattern and time weights kept >= 0 (response of the origin's sign)
    keep_origin: float = 0.5  # training: share of the history's episodes given as conditions (others: background)
    event_lr_scale: float = 10.0  # training: the event branch learns this much faster (few, sparse signals)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GeneratorConfig:
        names = {f.name for f in fields(cls)}
        # checkpoints written before a field existed behave as they were trained
        legacy = {"r_clip": 16.0, "pair_hops": 0, "tau_init": float(np.exp(-2.0)), "origin_fixed": False,
                  "same_sign": False}
        return cls(**{**legacy, **{k: v for k, v in d.items() if k in names}})


def transition(adj: np.ndarray | sparse.spmatrix) -> torch.Tensor:
    """Row-normalised ``D^-1 A`` without self loops (one hop along the graph's links, in their direction), dense
    or sparse (COO) like ``adj``. Rows without links stay 0."""
    if sparse.issparse(adj):
        a = adj.tocsr().astype(np.float32)
        a = (a - sparse.diags(a.diagonal())).tocsr()
        a.eliminate_zeros()
        deg = np.asarray(a.sum(1)).ravel()
        a = (sparse.diags(np.where(deg > 0, 1.0 / np.maximum(deg, 1e-12), 0.0)).astype(np.float32) @ a).tocoo()
        idx = torch.from_numpy(np.vstack([a.row, a.col]).astype(np.int64))
        return torch.sparse_coo_tensor(idx, torch.from_numpy(a.data.astype(np.float32)), size=a.shape,
                                       check_invariants=True).coalesce()
    a = np.array(adj, np.float32)
    np.fill_diagonal(a, 0.0)
    deg = a.sum(1, keepdims=True)
    return torch.from_numpy(np.where(deg > 0, a / np.maximum(deg, 1e-12), 0.0).astype(np.float32))


def within_hops(adj: np.ndarray | sparse.spmatrix, hops: int) -> np.ndarray:
    """(N, N) bool: sensors at most ``hops`` links apart, either direction (the diagonal included)."""
    a = sparse.csr_matrix(adj, dtype=np.float32)
    step = ((a + a.T + sparse.identity(a.shape[0], format="csr")) > 0).astype(np.float32)
    reach = sparse.identity(a.shape[0], dtype=np.float32, format="csr")
    for _ in range(hops):
        reach = ((reach @ step) > 0).astype(np.float32)
    return reach.toarray() > 0


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




def _time_stack(h: int, blocks: int) -> nn.Sequential:
    return nn.Sequential(*(MixerBlock(h) for _ in range(blocks)))


PAIR_MAX = 2000  # above this many sensors the event branch has no dense origin-to-sensor pattern


def _hop(p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """One hop ``x @ P`` over the sensor axis for x (..., N): ``p`` is P (N, N) when dense, and P transposed
    when sparse (stored so, as ``sparse.mm`` multiplies from the left)."""
    if p.is_sparse:
        flat = x.reshape(-1, x.shape[-1])
        return torch.sparse.mm(p, flat.t().contiguous()).t().reshape(x.shape)
    return x @ p


class EventResponse(nn.Module):
    """Graph-temporal event branch: origin field (B, 24, N) in event units -> deviation (B, 24, N).

    ``J = components`` spatio-temporal components, half reading the small-event part of the field (which
    saturates at the ``knee`` size), half the large-event rest (:meth:`parts`; they add up to the field), so a
    big event may spread differently from a small one at the same place. Component j spreads its part over
    the graph (``sum_k hop[j, k] X_k`` with ``X_0`` the part and ``X_k`` its k-hop spread forward / backward
    along the links, plus ``part @ pair[j]``, a learned origin-to-sensor pattern), then along the hours with its own
    kernel over lags ``-lag_before .. +lag_after`` (build-up before, lasting queue after), times a gain set by
    the hour of day and a per-sample log-normal factor (uncertainty of the component), all times a per-sample
    log-normal factor per sensor. At the origin itself (the sensors the field names) neither per-sample factor
    applies (``origin_fixed``; checkpoints written before it existed keep both): the size there is what the
    planner stated, so the spread is learned where the event reaches, not pinned by the origin's size. At
    initialisation it paints the origin's field at the origin and nothing else; everything beyond is learned
    from the episodes of the history."""

    def __init__(self, cfg: GeneratorConfig, adjacency: np.ndarray | sparse.spmatrix) -> None:
        super().__init__()
        n, j = adjacency.shape[0], cfg.components
        self.n, self.hops, self.before, self.after = n, cfg.hops, cfg.lag_before, cfg.lag_after
        self.origin_fixed = cfg.origin_fixed
        adj_t = adjacency.T if sparse.issparse(adjacency) else np.asarray(adjacency).T
        hops = [transition(a) for a in (adjacency, adj_t)]
        hops = [p.t().coalesce() if p.is_sparse else p for p in hops]  # see _hop
        self.register_buffer("p_fwd", hops[0], persistent=False)
        self.register_buffer("p_bwd", hops[1], persistent=False)
        self.half = j // 2  # components [0, half) read the small-event part of the field, the rest the large part
        hop = torch.zeros(j, 1 + 2 * cfg.hops)
        hop[[0, self.half], 0] = 1.0  # the two parts add up to the field: together they paint it at the origin
        self.hop = nn.Parameter(hop)
        self.pair = nn.Parameter(torch.zeros(j, n, n)) if cfg.pair_specific and n <= PAIR_MAX else None
        near = None
        if self.pair is not None and cfg.pair_hops > 0:
            near = torch.from_numpy(within_hops(adjacency, cfg.pair_hops))
        self.register_buffer("pair_near", near, persistent=False)
        self._pair_cache: tuple[Any, torch.Tensor] | None = None
        lags = torch.arange(-cfg.lag_before, cfg.lag_after + 1, dtype=torch.float32)
        centres = torch.linspace(-1, 4, j - self.half).repeat(2)[:j]
        kernel = torch.stack([torch.exp(-0.5 * ((lags - c) / 1.5) ** 2) / 3 for c in centres])
        kernel[[0, self.half]] = (lags == 0).float()
        self.kernel = nn.Parameter(kernel)  # (J, L): weight of the field ``lag`` hours earlier
        self.hour_gain = nn.Linear(COND_DIM, j)
        nn.init.zeros_(self.hour_gain.weight)
        nn.init.zeros_(self.hour_gain.bias)
        self.log_sigma = nn.Parameter(torch.full((j,), -2.0))  # per-sample spread of each component
        self.log_tau = nn.Parameter(torch.full((n,), float(np.log(cfg.tau_init))))  # per-sample spread per sensor
        # size where an event counts as large (event units; set at training: 1 count scale, or 30 % slower)
        self.register_buffer("knee", torch.ones(()))

    @torch.no_grad()
    def keep_sign_(self) -> None:
        """Clip the graph, pattern and time weights at 0 (``same_sign``, after each optimiser step): with the
        positive hour and per-sample factors, every sensor then moves the way the origin does (a crowd adds
        people where it reaches, a slowdown slows its neighbours); how far and how much stays learned."""
        for p in (self.hop, self.kernel, self.pair):
            if p is not None:
                p.clamp_(min=0.0)  # in place: bumps the version that keys pair_pattern's cache

    def parts(self, field: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The field split into a small-event part that saturates at the knee and the large-event rest (they
        add up to the field), so small and large events may spread differently."""
        large = field * field.abs() / (field.abs() + self.knee)
        return field - large, large

    def pair_pattern(self) -> torch.Tensor | None:
        """The learned origin-to-sensor pattern (J, N, N), zero between sensors more than ``pair_hops`` links apart:
        farther away the response spreads only by the graph hops, whose weights every origin shares (a pattern
        free to reach anywhere learned the confounded congestion of each origin's training days, which did not
        carry to other days). Computed once per weights when no gradient is needed."""
        if self.pair is None or self.pair_near is None:
            return self.pair
        if torch.is_grad_enabled():
            return self.pair * self.pair_near
        key = (self.pair._version, self.pair.data_ptr(), self.pair.device)
        if self._pair_cache is None or self._pair_cache[0] != key:
            self._pair_cache = (key, self.pair * self.pair_near)
        return self._pair_cache[1]

    def spatial(self, field: torch.Tensor) -> torch.Tensor:
        """(B, 24, N) -> (B, 24, N, J): each component's spread over the graph."""
        out = []
        full = self.pair_pattern()
        for part, hop, pair in zip(self.parts(field), (self.hop[: self.half], self.hop[self.half :]),
                                   (None, None) if full is None else (full[: self.half], full[self.half :]),
                                   strict=True):
            xs = [part]
            for p in (self.p_fwd, self.p_bwd):
                x = part
                for _ in range(self.hops):
                    x = _hop(p, x)
                    xs.append(x)
            s = torch.einsum("btnk,jk->btnj", torch.stack(xs, -1), hop)
            if pair is not None:
                s = s + torch.einsum("btm,jmn->btnj", part, pair)
            out.append(s)
        return torch.cat(out, -1)

    def temporal(self, s: torch.Tensor) -> torch.Tensor:
        """(B, 24, N, J) -> (B, 24, N, J): out[t] = sum_lag kernel[lag] * s[t - lag]."""
        b, t, n, j = s.shape
        x = s.permute(0, 2, 3, 1).reshape(b * n, j, t)
        x = nn.functional.pad(x, (self.after, self.before))
        w = self.kernel.flip(-1)[:, None, :]  # conv1d correlates: flip to convolve
        return nn.functional.conv1d(x, w, groups=j).reshape(b, n, j, t).permute(0, 3, 1, 2)

    def shape(self, cond: torch.Tensor, z_event: torch.Tensor | None) -> torch.Tensor:
        """(B, 24, J) gains: hour of day times a per-sample log-normal factor per component (mean 1); without
        ``z_event`` the hour of day alone (what the origin gets when ``origin_fixed``)."""
        if z_event is None:
            return torch.exp(self.hour_gain(cond))
        sig = torch.exp(self.log_sigma)
        return torch.exp(self.hour_gain(cond) + (sig * z_event - 0.5 * sig**2)[:, None, :])

    def sensor_factor(self, z_sensor: torch.Tensor, cols: torch.Tensor | None = None) -> torch.Tensor:
        """(B, N or M) per-sample log-normal factor per sensor (mean 1)."""
        tau = torch.exp(self.log_tau if cols is None else self.log_tau[cols])
        return torch.exp(tau * z_sensor - 0.5 * tau**2)

    def forward(self, field: torch.Tensor, cond: torch.Tensor, z_event: torch.Tensor, z_sensor: torch.Tensor
                ) -> torch.Tensor:
        resp = self.temporal(self.spatial(field))  # (B, 24, N, J)
        dev = torch.einsum("btnj,btj->btn", resp, self.shape(cond, z_event)) * self.sensor_factor(z_sensor)[:, None]
        origin = field.abs().amax(1) > 0  # (B, N)
        if not self.origin_fixed or not bool(origin.any()):
            return dev
        plain = torch.einsum("btnj,btj->btn", resp, self.shape(cond, None))
        return torch.where(origin[:, None], plain, dev)

    @torch.no_grad()
    def support(self, field: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For one field (1, 24, N): the sensors it can change (M,) and its components there (24, M, J), before
        the hour and per-sample factors (the same for every sample: computed once)."""
        spread = self.spatial(field)[0]  # (24, N, J); the time kernels do not mix sensors: restrict first
        cols = torch.nonzero(spread.abs().amax(dim=(0, 2)) > 0).flatten()
        return cols, self.temporal(spread[:, cols][None])[0]

    @torch.no_grad()
    def sample_at(self, resp: torch.Tensor, cols: torch.Tensor, cond: torch.Tensor, z_event: torch.Tensor,
                  z_sensor: torch.Tensor, origin: torch.Tensor | None = None) -> torch.Tensor:
        """Deviation (S, 24, M) at ``cols`` from :meth:`support`'s components; cond (S, 24, C), noise (S, J), (S, M);
        ``origin`` (M,) bool: which of ``cols`` the field names (no per-sample factors there)."""
        dev = torch.einsum("tmj,stj->stm", resp, self.shape(cond, z_event))
        dev.mul_(self.sensor_factor(z_sensor, cols)[:, None, :])
        if self.origin_fixed and origin is not None and bool(origin.any()):
            dev[..., origin] = torch.einsum("tmj,stj->stm", resp[:, origin], self.shape(cond, None))
        return dev


def dev_limits(domain: str) -> tuple[float, float]:
    """Bounds of an event's deviation: fraction slower <= 0.95 (speeds); extra counts in units of the city's
    count scale (counts: practically unbounded; a count never falls below 0)."""
    return (-1.0, 0.95) if domain == "speed" else (-1e4, 1e4)


def apply_event(r: torch.Tensor, dev: torch.Tensor, mu: torch.Tensor, sd: torch.Tensor, domain: str,
                scale: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Residual with an event's deviation. Counts: **extra people** (``dev x scale`` per hour) added to the
    sample's count, ``log1p(max(y + extra, 0))``: a crowd adds people, it does not multiply every counter it
    reaches. Speeds: fraction slower, multiplicative (``v (1 - dev)`` with ``v = mu + sd r``)."""
    if domain == "counts":
        y = torch.expm1(mu + sd * r).clamp(min=0)
        return (torch.log1p((y + dev * scale).clamp(min=0)) - mu) / sd
    return r * (1 - dev) - dev * mu / sd


class Generator(nn.Module):
    """Noise + (cond (B, 24, C), origin field (B, 24, N) in event units) -> residual (B, 24, N)."""

    def __init__(self, cfg: GeneratorConfig, adjacency: np.ndarray | sparse.spmatrix) -> None:
        super().__init__()
        n, h = adjacency.shape[0], cfg.hidden
        self.cfg, self.n = cfg, n
        self.p_cond = nn.Linear(COND_DIM, h)
        self.p_zg = nn.Linear(cfg.z_global, h)
        self.p_zh = nn.Linear(cfg.z_hour, h)
        self.time = _time_stack(h, cfg.blocks)
        self.decode = nn.Linear(h, n)  # city-wide part, per sensor
        self.scale = nn.Linear(h, n)  # log spread of the sensor's own noise, per hour
        self.rho = nn.Parameter(torch.full((n,), 1.4))  # logit of the hour-to-hour correlation of own noise
        self.tail = nn.Parameter(torch.zeros(n))  # sinh-arcsinh tail weight (0 = Gaussian)
        self.skew = nn.Parameter(torch.zeros(n))  # sinh-arcsinh skew
        self.event = EventResponse(cfg, adjacency)
        # counts: the event branch works in extra people per hour divided by this (the city's typical count)
        self.register_buffer("event_scale", torch.ones(()))

    def noise(self, b: int, generator: torch.Generator | None = None, device: Any = None) -> tuple[torch.Tensor, ...]:
        """(z_global (B, Zg), z_hour (B, 24, Zh), z_sensor (B, 24, N), z_event (B, J), z_response (B, N))."""
        kw = {"generator": generator, "device": device}
        return (
            torch.randn(b, self.cfg.z_global, **kw),
            torch.randn(b, T, self.cfg.z_hour, **kw),
            torch.randn(b, T, self.n, **kw),
            torch.randn(b, self.cfg.components, **kw),
            torch.randn(b, self.n, **kw),
        )

    def own_noise(self, zs: torch.Tensor) -> torch.Tensor:
        """AR(1) along the hours with a per-sensor correlation, then a sinh-arcsinh shape: (B, 24, N)."""
        rho = torch.sigmoid(self.rho)
        keep = torch.sqrt(1 - rho**2)
        u = [zs[:, 0]]
        for t in range(1, T):
            u.append(rho * u[-1] + keep * zs[:, t])
        u_t = torch.stack(u, 1)
        # asinh(u) written out: torch.asinh is not vectorised on CPU and dominated the sampling time
        asinh = torch.sign(u_t) * torch.log(u_t.abs() + torch.sqrt(u_t * u_t + 1))
        return torch.sinh(torch.exp(self.tail) * asinh + self.skew)

    def hours(self, zg: torch.Tensor, zh: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """The hour path's features (B, 24, H)."""
        x = self.p_cond(cond) + self.p_zg(zg)[:, None] + self.p_zh(zh)
        return nn.functional.leaky_relu(self.time(x), 0.2)

    def base(self, noise: tuple[torch.Tensor, ...], cond: torch.Tensor) -> torch.Tensor:
        """The event-free residual (B, 24, N)."""
        zg, zh, zs = noise[:3]
        x = self.hours(zg, zh, cond)
        base = self.decode(x) + torch.exp(self.scale(x).clamp(-6, 3)) * self.own_noise(zs)
        clip = self.cfg.r_clip
        return clip * torch.tanh(base / clip)  # the training residuals are clipped to +-r_clip

    def deviation(self, noise: tuple[torch.Tensor, ...], cond: torch.Tensor, field: torch.Tensor,
                  domain: str) -> torch.Tensor:
        """The event's deviation (B, 24, N), event units, within :func:`dev_limits`."""
        lo, hi = dev_limits(domain)
        return self.event(field, cond, noise[3], noise[4]).clamp(lo, hi)

    def forward(self, noise: tuple[torch.Tensor, ...], cond: torch.Tensor, field: torch.Tensor, mu: torch.Tensor,
                sd: torch.Tensor, domain: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(event-free residual, scenario residual), both (B, 24, N)."""
        base = self.base(noise, cond)
        return base, apply_event(base, self.deviation(noise, cond, field, domain), mu, sd, domain, self.event_scale)


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
