"""Models loaded once per server (``st.cache_resource``) and results cached by scenario and seed."""

from __future__ import annotations

import os

import streamlit as st
import torch

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

    Small cities sample on one torch thread: on a shared 2-core server, 64 x 207 sensors took 57-84 ms on one
    thread against 236-418 ms on two (docs/performance.md); cities of thousands of sensors keep two.
    """
    bundle = load_generator(cached_city(slug), model_path(slug, "generator"))
    torch.set_num_threads(1 if len(bundle.view.sensor_ids) < SMALL_CITY else min(2, os.cpu_count() or 1))
    return bundle


def model_id(bundle: GeneratorBundle) -> str:
    """A short id of the weights (their sha256 prefix), carried in shared links."""
    return str(bundle.meta.get("weights_sha256", ""))[:12]


@st.cache_data(max_entries=128, show_spinner="Generating samples…")
def cached_result(slug: str, scenario_json: str, n_samples: int, seed: int, model: str) -> ScenarioResult:
    """Results keyed by city, scenario, sample count, seed and model id."""
    return generate(cached_city(slug), Scenario.from_json(scenario_json), n_samples, seed,
                    model=cached_generator(slug))
