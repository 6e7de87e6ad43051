"""The sensor graph: weights between sensors, and its edges drawn as lines when roads are not available."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from explorer.geo import pairwise_km

DENSE_GRAPH_MAX = 2000  # above this many sensors, a city without a graph file gets a sparse kNN graph
KNN = 8


def gaussian_kernel_adjacency(dist_km: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """DCRNN's thresholded Gaussian kernel of distances: exp(-(d/sigma)^2), weights below threshold -> 0."""
    sigma = float(dist_km[np.triu_indices_from(dist_km, 1)].std()) or 1.0
    w = np.exp(-np.square(dist_km / sigma))
    w[w < threshold] = 0.0
    return w.astype("float32")


def local_km(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """(n, 2) east/north km from (lat0, lon0), equirectangular (fine over a city)."""
    return np.c_[(lon - lon0) * 111.32 * math.cos(math.radians(lat0)), (lat - lat0) * 110.57]


def knn_graph(lat: np.ndarray, lon: np.ndarray, k: int = KNN) -> sparse.csr_matrix:
    """Sparse Gaussian-kernel weights to each sensor's k nearest neighbours (scale: median neighbour distance)."""
    xy = local_km(lat, lon, float(np.mean(lat)), float(np.mean(lon)))
    k = min(k, len(lat) - 1)
    dist, idx = cKDTree(xy).query(xy, k=k + 1)
    dist, idx = dist[:, 1:], idx[:, 1:]
    sigma = float(np.median(dist)) or 1.0
    w = np.exp(-np.square(dist / sigma)).astype(np.float32)
    w[w < 0.1] = 0.0
    rows = np.repeat(np.arange(len(lat)), k)
    g = sparse.csr_matrix((w.ravel(), (rows, idx.ravel())), shape=(len(lat), len(lat)))
    g.eliminate_zeros()
    return g


def default_adjacency(lat: np.ndarray, lon: np.ndarray, dense_max: int = DENSE_GRAPH_MAX
                      ) -> np.ndarray | sparse.csr_matrix:
    """The graph of a city that ships none: DCRNN's thresholded Gaussian kernel of all pairwise distances
    (dense n x n) up to ``dense_max`` sensors; above, each sensor's k nearest neighbours, sparse (a dense
    matrix of 50,000 sensors would take 10 GB, and its pairwise distances several times that)."""
    if len(lat) > dense_max:
        return knn_graph(np.asarray(lat, float), np.asarray(lon, float))
    return gaussian_kernel_adjacency(pairwise_km(lat, lon))


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
