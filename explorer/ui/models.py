"""Models loaded once per server (``st.cache_resource``) and results cached by scenario and seed."""

from __future__ import annotations

import contextlib
import os
import threading

import streamlit as st
import torch
from cachetools import LRUCache

from explorer.cities.training import require_model
from explorer.models.generator.api import GeneratorBundle, ScenarioResult, generate, load_generator
from explorer.scenarios.schema import Scenario
from explorer.settings import get_settings
from explorer.ui.state import cached_city

SMALL_CITY = 2_000  # sensors; below this, one torch thread samples faster on a busy server


def model_path(slug: str, kind: str):
    root = get_settings().models_dir
    return None if root is None else root / slug / kind


@st.cache_resource(show_spinner="Loading the scenario generator…")
def cached_generator(slug: str) -> GeneratorBundle:
    """The city's generator, in eval mode, shared by every session (never mutated).

    Small cities sample on one torch thread (on a shared 2-core server two threads spin-wait for each other:
    docs/performance.md, 'torch threads'); cities of thousands of sensors keep two.
    """
    require_model(cached_city(slug), "generator")  # a new city: say so, with the command to train it
    bundle = load_generator(cached_city(slug), model_path(slug, "generator"))
    torch.set_num_threads(1 if len(bundle.view.sensor_ids) < SMALL_CITY else min(2, os.cpu_count() or 1))
    return bundle


def model_id(bundle: GeneratorBundle) -> str:
    """A short id of the weights (their sha256 prefix), carried in shared links."""
    return str(bundle.meta.get("weights_sha256", ""))[:12]


def result_bytes(result: ScenarioResult) -> int:
    """Memory a cached result holds: its sample arrays, and room for the quantiles it caches (3 x 3 x H x N)."""
    arrays = result.baseline.nbytes + result.scenario_samples.nbytes
    return arrays + 9 * result.baseline[0].nbytes


@st.cache_resource(show_spinner=False)
def _result_store() -> tuple[LRUCache, threading.Lock, dict]:
    """One store of results for the server (least recently used dropped first beyond ``result_cache_mb``), its
    lock, and one lock per result being computed (so 30 sessions opening the same scenario compute it once)."""
    store = LRUCache(maxsize=get_settings().result_cache_mb * 2**20, getsizeof=result_bytes)
    return store, threading.Lock(), {}


def cached_result(slug: str, scenario_json: str, n_samples: int, seed: int, model: str) -> ScenarioResult:
    """Results keyed by city, scenario, sample count, seed and model id, shared by every session.

    The same object is handed to every session (no copy per rerun: a 10,000-sensor result is 120 MB, and the
    quantiles it computes once stay with it); its arrays are made read-only, so no page can change another's.
    """
    key = (slug, scenario_json, n_samples, seed, model)
    store, lock, computing = _result_store()
    with lock:
        hit = store.get(key)
        if hit is not None:
            return hit
        key_lock = computing.setdefault(key, threading.Lock())
    with st.spinner("Generating samples…"), key_lock:
        try:
            with lock:
                hit = store.get(key)  # computed by another session while this one waited
            if hit is not None:
                return hit
            result = generate(cached_city(slug), Scenario.from_json(scenario_json), n_samples, seed,
                              model=cached_generator(slug))
            for arr in (result.baseline, result.scenario_samples, result.event_field):
                arr.flags.writeable = False
            with lock, contextlib.suppress(ValueError):  # ValueError: one result larger than the whole store
                store[key] = result
        finally:
            with lock:
                computing.pop(key, None)
    return result


@st.cache_resource(show_spinner="Replaying a real held-out event…")
def cached_showcase(slug: str, model: str):  # noqa: ARG001 (``model``: part of the cache key)
    """The Model card's held-out event beside its generated footprint (computed once per city and model)."""
    from explorer.models.generator.showcase import showcase

    return showcase(cached_generator(slug))
