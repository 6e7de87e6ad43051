"""Episodes: labelled surges grouped into events with one origin and a footprint.

A surge (:mod:`explorer.models.generator.events`) is a run of unusual hours at **one** sensor. A real event
shows up as several such runs: a crowd at a stadium gate and, an hour later, at the station next to it; a jam
at a bottleneck and, as the queue grows, at the sensors upstream. Runs are linked when their hours overlap
(or follow within ``gap`` hours) and their sensors are neighbours on the city's sensor graph; each connected
group is an **episode**. Its **origin** is the run with the largest total deviation (size x hours): the place a
planner would name. Everything else the episode did (the other runs, and whatever happened at other sensors
and hours) is its **footprint**, which the generator must learn to produce from the origin alone.

The origin field (sensors x hours, the origin run's size over its hours at its sensor, 0 elsewhere) is what
the generator is conditioned on: the same information a planner gives (place, start, duration, size).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

EPISODE_COLUMNS = ["episode", "origin", "origin_id", "t0", "start", "duration_hours", "size", "size_native",
                   "n_runs", "n_sensors", "t_first", "t_last"]


def neighbour_sets(adjacency: Any) -> list[np.ndarray]:
    """For each sensor, the sensors linked to it on the graph in either direction (itself included)."""
    a = sparse.csr_matrix(adjacency) if not sparse.issparse(adjacency) else adjacency.tocsr()
    a = (a + a.T).tocsr()
    return [np.union1d(a.indices[a.indptr[i]:a.indptr[i + 1]], [i]) for i in range(a.shape[0])]


def group_runs(runs: pd.DataFrame, adjacency: Any, gap: int = 1) -> np.ndarray:
    """Episode label of each run (``runs`` has flat-hour columns ``t`` (start) and ``duration_hours`` and a sensor
    index column ``sensor``): runs whose hours overlap or follow within ``gap`` hours on neighbouring sensors
    share a label (union-find over a sweep in time)."""
    near = neighbour_sets(adjacency)
    near_sets = [set(x.tolist()) for x in near]
    order = np.argsort(runs["t"].to_numpy(), kind="stable")
    s = runs["t"].to_numpy()[order]
    e = s + runs["duration_hours"].to_numpy()[order]
    n = runs["sensor"].to_numpy()[order]
    parent = np.arange(len(order))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    active: list[int] = []
    for i in range(len(order)):
        active = [j for j in active if e[j] + gap > s[i]]
        for j in active:
            if n[j] in near_sets[n[i]]:
                a, b = root(i), root(j)
                if a != b:
                    parent[a] = b
        active.append(i)
    labels = np.empty(len(order), np.int64)
    roots = np.array([root(i) for i in range(len(order))])
    _, dense = np.unique(roots, return_inverse=True)
    labels[order] = dense
    return labels


def episodes_from_runs(runs: pd.DataFrame, t_index0: pd.Timestamp, adjacency: Any, gap: int = 1) -> pd.DataFrame:
    """One row per episode (see the module docstring) from a surge table with flat-hour starts ``t``."""
    if runs.empty:
        return pd.DataFrame(columns=EPISODE_COLUMNS)
    runs = runs.copy()
    runs["episode"] = group_runs(runs, adjacency, gap)
    runs["mass"] = runs["size"].abs() * runs["duration_hours"]
    runs["end"] = runs["t"] + runs["duration_hours"]
    origin = runs.sort_values(["episode", "mass", "t"], ascending=[True, False, True]).groupby("episode").head(1)
    g = runs.groupby("episode")
    out = pd.DataFrame({
        "episode": origin["episode"].to_numpy(),
        "origin": origin["sensor"].to_numpy(),
        "origin_id": origin["sensor_id"].astype(str).to_numpy(),
        "t0": origin["t"].to_numpy(),
        "start": t_index0 + pd.to_timedelta(origin["t"].to_numpy(), unit="h"),
        "duration_hours": origin["duration_hours"].to_numpy(),
        "size": origin["size"].to_numpy(),
        "size_native": origin["size_native"].to_numpy(),
        "n_runs": g.size().loc[origin["episode"]].to_numpy(),
        "n_sensors": g["sensor"].nunique().loc[origin["episode"]].to_numpy(),
        "t_first": g["t"].min().loc[origin["episode"]].to_numpy(),
        "t_last": g["end"].max().loc[origin["episode"]].to_numpy(),
    })
    return out.sort_values("t0", kind="stable").reset_index(drop=True)


def episodes(prep: Any, table: pd.DataFrame | None = None, gap: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Episodes of a prepared city (its surges against the training-split profile): (episodes, runs with their
    episode label and flat-hour start ``t``)."""
    from explorer.models.generator.events import surges_from_prepared

    if table is None:
        table, _ = surges_from_prepared(prep)
    t_index0 = pd.Timestamp(prep.dates[0])
    runs = table.copy()
    runs["t"] = ((runs["start"] - t_index0) / pd.Timedelta("1h")).astype(np.int64)
    eps = episodes_from_runs(runs, t_index0, prep.view.adjacency, gap)
    if len(runs):
        runs["episode"] = group_runs(runs, prep.view.adjacency, gap)
    return eps, runs


def origin_field(eps: pd.DataFrame, shape: tuple[int, int], domain: str, count_scale: float = 1.0) -> np.ndarray:
    """(T, N) origin field in event units: each episode's origin size over its origin run's hours, 0 elsewhere
    (speeds: the fraction slower; counts: extra people per hour over ``count_scale``)."""
    f = np.zeros(shape, np.float32)
    col = "size" if domain == "speed" else "size_native"
    k = 1.0 if domain == "speed" else 1.0 / count_scale
    for n, t, d, size in eps[["origin", "t0", "duration_hours", col]].itertuples(index=False):
        f[int(t):int(t) + int(d), int(n)] = k * size
    return f


def count_scale(prep: Any) -> float:
    """A city's typical count per hour (median over sensors with history of their mean profile): the unit of
    the event branch for counts. 1 for speeds."""
    if prep.view.domain == "speed":
        return 1.0
    from explorer.models.generator.data import inverse

    level = inverse(prep.mu, "counts").mean(axis=(0, 1))[prep.has_history]
    return float(max(np.median(level), 1.0)) if len(level) else 1.0


def footprint_shares(prep: Any, eps: pd.DataFrame, runs: pd.DataFrame, split: str = "train") -> np.ndarray:
    """Counts: for each episode of ``split``, the extra people counted at all its sensors over its hours, as a
    multiple of what its origin saw (1 = the crowd was seen at the origin only). What a request's city-wide total
    should stay within. Empty for speeds."""
    if prep.view.domain != "counts" or eps.empty:
        return np.zeros(0)
    from explorer.models.generator.data import inverse

    lo, hi = int(prep.splits[split][0]) * 24, (int(prep.splits[split][-1]) + 1) * 24
    y = inverse(prep.y.reshape(-1, prep.n), "counts")
    mu = inverse(prep.mu[np.repeat(prep.dtype, 24), np.tile(np.arange(24), len(prep.dates))], "counts")
    extra = np.nan_to_num(y - mu)
    out = []
    cells = runs.groupby("episode")[["sensor", "t", "duration_hours"]]
    for ep in eps[(eps["t_first"] >= lo) & (eps["t_last"] <= hi)].itertuples(index=False):
        at_origin = extra[int(ep.t0):int(ep.t0) + int(ep.duration_hours), int(ep.origin)].sum()
        if at_origin <= 0:
            continue
        total = sum(extra[int(t):int(t) + int(d), int(n)].sum()
                    for n, t, d in cells.get_group(ep.episode).itertuples(index=False))
        out.append(total / at_origin)
    return np.asarray(out)
