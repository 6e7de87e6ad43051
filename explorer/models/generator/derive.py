"""A generator for a synthetic city without retraining: gather the source's per-sensor parameters.

The generator's city-wide hour path and the event branch's graph-hop and time kernels are shared by all
sensors; everything per sensor (the decoder rows of the hour path, the spread head, AR(1) correlation,
sinh-arcsinh shape, the event response's per-sensor spread, seasonal profile and spread) is copied from the
sensor each synthetic sensor was resampled from (``source_sensor``), and so is the learned origin-to-sensor
pattern while the synthetic city is small enough to have one. The profile follows the copy's scale factor.
The graph is the synthetic city's own sparse k-nearest-neighbour graph. Nothing is fitted: the result is a
checkpoint for the synthetic city whose metadata says which checkpoint it was derived from, and how.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from explorer.cities.view import as_view
from explorer.models.checkpoint import read_metadata, save_checkpoint
from explorer.models.generator.api import KIND, GeneratorBundle, checkpoint_base, load_generator
from explorer.models.generator.model import Generator

#: state-dict entries with one row (or value) per sensor
PER_SENSOR = ("decode.weight", "decode.bias", "scale.weight", "scale.bias", "rho", "tail", "skew", "event.log_tau")
HOW = ("per-sensor parameters (decoder rows, spread head, AR(1) correlation, shape, event response spread, "
       "origin-to-sensor pattern below PAIR_MAX sensors, profile and spread) gathered through source_sensor; "
       "profile scaled by each copy's scale factor; graph: the synthetic city's sparse k-nearest-neighbour "
       "kernel; no retraining")


def _profile(mu: np.ndarray, sd: np.ndarray, idx: np.ndarray, scale: np.ndarray, domain: str
             ) -> tuple[np.ndarray, np.ndarray]:
    """Gather (7, 24, N) profile and spread to the copies; a copy's values are its source's times ``scale``."""
    mu, sd, a = mu[:, :, idx], sd[:, :, idx], scale[None, None, :].astype(np.float32)
    flat = np.all(mu == 0, axis=(0, 1))  # no history: keep the placeholder as it is
    if domain == "counts":  # model space log1p(count)
        mu2 = np.log1p(a * np.expm1(mu))
        sd2 = sd
    else:
        mu2, sd2 = a * mu, a * sd
    mu2[:, :, flat], sd2[:, :, flat] = mu[:, :, flat], sd[:, :, flat]
    return mu2.astype(np.float32), sd2.astype(np.float32)


def derive_generator(source: GeneratorBundle | Any, city: Any, mapping: pd.DataFrame) -> GeneratorBundle:
    """A generator bundle for synthetic ``city`` from ``source`` (a bundle, or a city/slug whose checkpoint is
    loaded). Each synthetic sensor takes its ``source_sensor``'s parameters; ``mapping`` has one row per sensor
    of ``city``, in its order, with ``source_sensor`` and ``scale`` (``cities.synthetic.synthetic_mapping``)."""
    src = source if isinstance(source, GeneratorBundle) else load_generator(source)
    view = as_view(city)
    pos = {s: i for i, s in enumerate(src.view.sensor_ids)}
    missing = sorted(set(mapping["source_sensor"]) - set(pos))
    if missing:
        raise ValueError(f"source sensor {missing[0]!r} is not in the {src.view.slug} generator")
    idx = np.array([pos[s] for s in mapping["source_sensor"]])
    model = Generator(src.config, view.adjacency)
    ix = torch.from_numpy(idx)
    state = {k: (v[ix] if k in PER_SENSOR else v) for k, v in src.model.state_dict().items()}
    if "event.pair" in state:
        if model.event.pair is None:  # too many sensors for a dense pattern: the graph hops carry the spread
            del state["event.pair"]
        else:
            state["event.pair"] = state["event.pair"][:, ix][:, :, ix]
    model.load_state_dict(state)
    model.eval()
    mu, sd = _profile(src.mu, src.sd, idx, mapping["scale"].to_numpy(), src.domain)
    meta = {
        "config": src.config.to_dict(),
        "metrics": {},
        "derived_from": {"city": src.view.slug, "weights_sha256": src.meta.get("weights_sha256"),
                         "data_hash": src.meta.get("data_hash"), "created": src.meta.get("created")},
        "derivation": HOW,
        "calibration_alpha_from_source": float(src.alpha),
        "derived": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return GeneratorBundle(model=model, config=src.config, mu=mu, sd=sd, alpha=src.alpha, view=view, meta=meta)


def save_derived(bundle: GeneratorBundle, city: Any, base: str | Path | None = None) -> Path:
    """Save the derived bundle as the city's generator checkpoint (``models/generator``); fills ``bundle.meta``
    with the written metadata (weights sha256 included) and returns the weights path."""
    base = Path(base) if base is not None else checkpoint_base(bundle.view)
    meta = {**bundle.meta, "command": f"derive_generator from {bundle.meta['derived_from']['city']}"}
    path = save_checkpoint(base, bundle.tensors(), meta, city, kind=KIND)
    bundle.meta = read_metadata(base)
    return path
