"""The graph a city gets when it ships none: dense Gaussian kernel for small cities, sparse kNN above a size."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from explorer.cities.graph import default_adjacency, gaussian_kernel_adjacency
from explorer.geo import pairwise_km


def _points(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return 34.05 + rng.normal(0, 0.05, n), -118.25 + rng.normal(0, 0.05, n)


def test_small_city_keeps_the_dense_kernel():
    lat, lon = _points(50)
    np.testing.assert_array_equal(default_adjacency(lat, lon), gaussian_kernel_adjacency(pairwise_km(lat, lon)))


def test_large_city_gets_a_sparse_nearest_neighbour_graph():
    lat, lon = _points(3000)
    g = default_adjacency(lat, lon, dense_max=2000)
    assert sparse.issparse(g) and g.shape == (3000, 3000)
    assert g.nnz <= 3000 * 8 and (g.getnnz(axis=1) > 0).mean() > 0.9  # <= 8 neighbours each
    # every link joins near points: within the 8 nearest of each sensor
    i, j = g.nonzero()
    d = np.hypot(lat[i] - lat[j], lon[i] - lon[j])
    assert np.quantile(d, 0.99) < 0.01
