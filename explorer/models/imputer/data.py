"""The protocol's data: observed values, evaluation mask, 70/10/20 sequential split, scaling, windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.models.imputer.masks import DEFAULT_SEED, Protocol, eval_mask
from explorer.models.imputer.model import time_features

WINDOW = 24
SPLIT = (0.7, 0.1, 0.2)


@dataclass
class ProtocolData:
    """One city's series prepared for the GRIN protocol. Arrays are (time, sensors)."""

    values: np.ndarray  # float32, NaN where not observed
    observed: np.ndarray  # bool
    hidden: np.ndarray  # bool, the evaluation mask (subset of observed)
    index: pd.DatetimeIndex
    bounds: tuple[int, int]  # train = [0, a), validation = [a, b), test = [b, T)
    protocol: str
    seed: int

    @property
    def model_input(self) -> np.ndarray:
        """What every method may see: observed values that are not hidden, NaN elsewhere."""
        return np.where(self.observed & ~self.hidden, self.values, np.nan).astype(np.float32)

    @property
    def target(self) -> np.ndarray:
        """Ground truth with NaN replaced by 0 (only read where ``hidden``)."""
        return np.nan_to_num(self.values).astype(np.float32)

    def part(self, name: str) -> slice:
        """The time slice of ``"train"``, ``"val"`` or ``"test"``."""
        a, b = self.bounds
        return {"train": slice(0, a), "val": slice(a, b), "test": slice(b, len(self.values))}[name]

    def scored(self, name: str = "test") -> np.ndarray:
        """Evaluation mask restricted to one part (full-length bool array)."""
        out = np.zeros_like(self.hidden)
        out[self.part(name)] = self.hidden[self.part(name)]
        return out


def split_bounds(n_steps: int, split: tuple[float, float, float] = SPLIT) -> tuple[int, int]:
    """Sequential split points (train end, validation end)."""
    a = int(round(n_steps * split[0]))
    b = int(round(n_steps * (split[0] + split[1])))
    return a, b


def prepare(series: pd.DataFrame, protocol: Protocol, seed: int = DEFAULT_SEED) -> ProtocolData:
    """Observed values, the protocol mask drawn with ``seed``, and the split of a wide series."""
    values = series.to_numpy(dtype=np.float32)
    observed = ~np.isnan(values)
    hidden = eval_mask(observed, protocol, seed)
    return ProtocolData(values=values, observed=observed, hidden=hidden, index=pd.DatetimeIndex(series.index),
                        bounds=split_bounds(len(values)), protocol=protocol, seed=seed)


def window_starts(start: int, stop: int, window: int = WINDOW) -> np.ndarray:
    """Starts of all windows of ``window`` steps with stride 1 inside [start, stop)."""
    return np.arange(start, max(start, stop - window + 1))


@dataclass
class Prepared:
    """A city's series with the protocol split and the union of both evaluation masks."""

    values: np.ndarray  # (T, N) float32, NaN = not observed
    visible: np.ndarray  # (T, N) bool: observed and hidden by neither evaluation mask
    hidden: np.ndarray  # (T, N) bool: observed and hidden by the point or the block mask
    slot: np.ndarray  # (T,) int64
    daytype: np.ndarray  # (T,) int64
    bounds: tuple[int, int]
    slots_per_day: int


def prepare_training(series: pd.DataFrame, mask_seed: int = DEFAULT_SEED) -> Prepared:
    """Split and masks for training; time features from the series' regular index."""
    values = series.to_numpy(dtype=np.float32)
    observed = ~np.isnan(values)
    hidden = eval_mask(observed, "point", mask_seed) | eval_mask(observed, "block", mask_seed)
    step = pd.Timedelta(series.index[1] - series.index[0]).total_seconds()
    spd = max(1, int(round(86400 / step)))
    slot, daytype = time_features(series.index, step, spd)
    return Prepared(values=values, visible=observed & ~hidden, hidden=hidden, slot=slot, daytype=daytype,
                    bounds=split_bounds(len(values)), slots_per_day=spd)
