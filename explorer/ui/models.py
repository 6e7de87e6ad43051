"""Models loaded once per server (``st.cache_resource``) and results cached by scenario and seed."""

from __future__ import annotations

import streamlit as st

from explorer.models.generator.api import GeneratorBundle, ScenarioResult, generate, load_generator
from explorer.scenarios.schema import Scenario
from explorer.settings import get_settings
from explorer.ui.state import cached_city


def model_path(slug: str, kind: str):
    root = get_settings().models_dir
    return None if root is None else root / slug / kind


@st.cache_resource(show_spinner="Loading the scenario generator…")
def cached_generator(slug: str) -> GeneratorBundle:
    """The city's generator, in eval mode, shared by every session (never mutated)."""
    return load_generator(cached_city(slug), model_path(slug, "generator"))


def model_id(bundle: GeneratorBundle) -> str:
    """A short id of the weights (their sha256 prefix), carried in shared links."""
    return str(bundle.meta.get("weights_sha256", ""))[:12]


@st.cache_data(max_entries=128, show_spinner="Generating samples…")
def cached_result(slug: str, scenario_json: str, n_samples: int, seed: int, model: str) -> ScenarioResult:
    """Results keyed by city, scenario, sample count, seed and model id."""
    return generate(cached_city(slug), Scenario.from_json(scenario_json), n_samples, seed,
                    model=cached_generator(slug))
