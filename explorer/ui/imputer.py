"""The imputer, loaded once per server, and imputations cached by city, range, samples and seed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.cities.training import require_model
from explorer.models.imputer.api import ImputationResult, impute
from explorer.models.imputer.model import STImputer
from explorer.models.imputer.store import load_imputer
from explorer.ui.models import model_path
from explorer.ui.state import cached_city


@st.cache_resource(show_spinner="Loading the imputer…")
def cached_imputer(slug: str) -> tuple[STImputer, dict]:
    require_model(cached_city(slug), "imputer")  # a new city: say so, with the command to train it
    return load_imputer(cached_city(slug), model_path(slug, "imputer"))


@st.cache_data(max_entries=32, show_spinner="Filling the gaps…")
def cached_imputation(slug: str, start: pd.Timestamp, end: pd.Timestamp, n_samples: int, seed: int
                      ) -> ImputationResult:
    model, meta = cached_imputer(slug)
    return impute(cached_city(slug), n_samples=n_samples, seed=seed, start=start, end=end, model=model, meta=meta)
