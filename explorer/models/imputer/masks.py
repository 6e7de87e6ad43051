"""Evaluation masks of the GRIN protocol (docs/imputation.md, shared/EVALUATION.md).

Re-implemented from the protocol text: faults start with probability ``p_fault`` per step and sensor and
last ``min_seq + randint(max_seq - min_seq)`` steps (one length per sensor), then every value is also hidden
with probability ``p_noise``. The random draws happen in that order from ``np.random.default_rng(seed)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Protocol = Literal["point", "block"]
DEFAULT_SEED = 9101112  # METR-LA's mask seed in GRIN; used for every bundled city


@dataclass(frozen=True)
class MaskSpec:
    """Parameters of one missing-data protocol."""

    p_fault: float
    p_noise: float
    min_seq: int = 12
    max_seq: int = 48


PROTOCOLS: dict[str, MaskSpec] = {
    "point": MaskSpec(p_fault=0.0, p_noise=0.25),
    "block": MaskSpec(p_fault=0.0015, p_noise=0.05),
}


def sample_mask(shape: tuple[int, int], spec: MaskSpec, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask (time, sensors): True where a value is hidden."""
    mask = rng.random(shape) < spec.p_fault
    for col in range(shape[1]):
        starts = np.flatnonzero(mask[:, col])
        if not len(starts):
            continue
        length = spec.min_seq
        if spec.max_seq > spec.min_seq:
            length += int(rng.integers(spec.max_seq - spec.min_seq))
        idx = np.unique(np.concatenate([np.arange(s, s + length) for s in starts]))
        mask[np.clip(idx, 0, shape[0] - 1), col] = True
    return mask | (rng.random(shape) < spec.p_noise)


def eval_mask(observed: np.ndarray, protocol: Protocol, seed: int = DEFAULT_SEED) -> np.ndarray:
    """The protocol's evaluation mask ANDed with what was really observed (time, sensors) bool."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {sorted(PROTOCOLS)}")
    rng = np.random.default_rng(seed)
    return sample_mask(observed.shape, PROTOCOLS[protocol], rng) & observed.astype(bool)
