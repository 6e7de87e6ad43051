"""The sensor graph: weights between sensors, and its edges drawn as lines when roads are not available."""

from __future__ import annotations

import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Pairwise great-circle distances (n, n) in km."""
    lat, lon = np.radians(lat)[:, None], np.radians(lon)[:, None]
    dlat, dlon = lat - lat.T, lon - lon.T
    a = np.sin(dlat / 2) ** 2 + np.cos(lat) * np.cos(lat.T) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def gaussian_kernel_adjacency(dist_km: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """DCRNN's thresholded Gaussian kernel of distances: exp(-(d/sigma)^2), weights below threshold -> 0."""
    sigma = float(dist_km[np.triu_indices_from(dist_km, 1)].std()) or 1.0
    w = np.exp(-np.square(dist_km / sigma))
    w[w < threshold] = 0.0
    return w.astype("float32")


def graph_edges(sensors: pd.DataFrame, adjacency: np.ndarray, min_weight: float = 0.5) -> pd.DataFrame:
    """Undirected edges with weight >= min_weight as source/target coordinates (for a pydeck LineLayer)."""
    w = np.maximum(adjacency, adjacency.T)
    i, j = np.nonzero(np.triu(w, 1) >= min_weight)
    lon, lat = sensors.geometry.x.to_numpy(), sensors.geometry.y.to_numpy()
    return pd.DataFrame({
        "source": [[float(lon[a]), float(lat[a])] for a in i],
        "target": [[float(lon[b]), float(lat[b])] for b in j],
        "weight": w[i, j].astype(float),
    })
