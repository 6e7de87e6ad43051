"""Shared fixtures: the bundled cities, loaded once."""

from __future__ import annotations

import pytest
import torch

from explorer.cities import City, load_city


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def melbourne() -> City:
    return load_city("melbourne")


@pytest.fixture(scope="session")
def los_angeles() -> City:
    return load_city("los-angeles")
