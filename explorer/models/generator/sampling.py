"""The sampling form of the generator's event-free path: the training forward's numbers, computed in place.

A (64, 24, 10,000) float32 array is 61 MB; the allocator maps such blocks fresh from the kernel each time
(first-touch page faults cost more than the arithmetic), while temporaries under ``chunk_bytes`` are reused from
the heap and stay in cache. So :func:`sample_base` works a few samples at a time, writing into the sensor noise.
"""

from __future__ import annotations

import math

import torch

from explorer.models.generator.model import Generator, T

SAMPLE_CHUNK_BYTES = 8 << 20  # temporaries per chunk of samples


@torch.no_grad()
def sample_base(model: Generator, noise: tuple[torch.Tensor, ...], cond: torch.Tensor,
                chunk_bytes: int = SAMPLE_CHUNK_BYTES) -> torch.Tensor:
    """:meth:`Generator.base` (the event-free residual, (B, 24, N)) with the same numbers, computed in place in the
    sensor noise, a few samples at a time. **Overwrites the sensor noise** and returns it. Each sample's numbers
    do not depend on the chunking."""
    zg, zh, zs = noise[:3]
    x = model.hours(zg, zh, cond)  # (B, 24, H): small
    rho = torch.sigmoid(model.rho)
    keep = torch.sqrt(1 - rho**2)
    tail, clip = torch.exp(model.tail), model.cfg.r_clip
    b = zs.shape[0]
    # chunks of a multiple of 8 x 24 x N values: torch's vectorised loops then end each chunk where the
    # whole array's loop would end a block, so no value falls into a scalar remainder it would not have
    align = 8 // math.gcd(model.n, 8)
    step = max(align, chunk_bytes // max(1, zs[:1].numel() * zs.element_size()) // align * align)
    for s in range(0, b, step):
        u, xs = zs[s : s + step], x[s : s + step]  # views: results are written back into the noise
        for t in range(1, T):  # AR(1) along the hours
            u[:, t].mul_(keep).add_(rho * u[:, t - 1])
        shaped = u.abs()  # sinh(exp(tail) * asinh(u) + skew), asinh written out (not vectorised on CPU)
        shaped.square_().add_(1).sqrt_().add_(u.abs()).log_().copysign_(u)
        shaped.mul_(tail).add_(model.skew).sinh_()
        spread = model.scale(xs).clamp_(-6, 3).exp_().mul_(shaped)
        out = model.decode(xs).add_(spread)
        u.copy_(out.div_(clip).tanh_().mul_(clip))
    return zs
