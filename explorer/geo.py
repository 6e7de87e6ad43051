"""Distances on the Earth: one great-circle formula and one radius for the whole package."""

from __future__ import annotations

from typing import Any

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius


def great_circle_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Haversine distance in km between points given in degrees (numpy broadcasting: one to many, or pairwise
    with ``lat[:, None]`` against ``lat[None, :]``)."""
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    l1, l2 = np.radians(np.asarray(lon1, float)), np.radians(np.asarray(lon2, float))
    a = np.sin((p1 - p2) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l1 - l2) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def pairwise_km(lat: Any, lon: Any) -> np.ndarray:
    """(n, n) great-circle distances between n points."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    return great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
