"""Run every scenario of a grid and collect per-scenario headline numbers in one table.

Backends: ``serial`` (this process), ``process`` (a local pool of spawned processes) and ``ray`` (an
existing Ray cluster, or a local single-node Ray with ``ray_address="local"``). Scenarios go to the
workers in chunks; each worker process loads the city and the generator once and keeps them.

Results do not depend on the backend, the worker count or the chunking: each scenario's seed is
derived from the grid seed and the scenario's canonical JSON, and every worker samples with one torch
thread (the same arithmetic everywhere). On another device (CUDA) the numbers may differ in the last
digits from CPU runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from explorer.errors import ExplorerError
from explorer.models.generator.result import QUANTILES
from explorer.scenarios.schema import Scenario, ScenarioError, validate_for_city
from explorer.sweep.grid import Grid, GridError, GridPoint, expand, iter_labels

Backend = Literal["serial", "process", "ray"]
_TOTALS = ("extra_pedestrian_hours_p10_p50_p90", "delay_min_per_mile_sensor_hours_p10_p50_p90")


class SweepError(ExplorerError):
    """A sweep that cannot run (bad backend, device, Ray address, scenarios that do not fit the city)."""


@dataclass(frozen=True)
class Job:
    """What every worker needs to know besides its scenarios (small and picklable)."""

    city: str
    checkpoint: str | None
    device: str
    n_samples: int


# --------------------------------------------------------------------------- seeds and devices


def scenario_seed(grid_seed: int, scenario: Scenario, mode: str = "per_scenario") -> int:
    """The scenario's sampling seed: from the grid seed and the scenario's canonical JSON (so it does not
    depend on the scenario's position, the backend or the chunking), or the grid seed itself ('common')."""
    if mode == "common":
        return int(grid_seed)
    digest = hashlib.sha256(f"{int(grid_seed)}\n{scenario.to_json()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # 63 bits: a valid torch seed


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when a GPU is visible, else 'cpu'; refuses 'cuda' without one."""
    import torch

    if device not in ("auto", "cpu", "cuda"):
        raise SweepError(f"unknown device {device!r}", fix="use auto, cpu or cuda")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise SweepError("--device cuda but no CUDA GPU is visible", fix="use --device cpu or auto")
    return device


# --------------------------------------------------------------------------- worker side

_MODELS: dict[tuple[str, str | None, str], Any] = {}  # per process: (city, checkpoint, device) -> bundle


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Sample with one torch thread: the same arithmetic in every backend, no oversubscription."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _bundle(job: Job) -> Any:
    from explorer.models.generator.api import load_generator

    device = resolve_device(job.device)  # 'auto' is resolved where the work runs (a Ray node may have a GPU)
    key = (job.city, job.checkpoint, device)
    if key not in _MODELS:
        _MODELS[key] = load_generator(job.city, job.checkpoint, device=device)
    return _MODELS[key]


def headline_row(res: Any) -> dict[str, Any]:
    """Flat headline numbers of one ScenarioResult, plus per event the requested and generated size and the
    P10/P50/P90 (over samples) of the scenario and of the change at the place, averaged over the event hours."""
    h = res.headline
    row: dict[str, Any] = {
        "seed": int(res.seed),
        "unit": h["unit"],
        "peak_change": h["peak_change"],
        "peak_change_percent": h["peak_change_percent"],
        "peak_sensor": h["peak_sensor"],
        "peak_time": h["peak_time"],
        "sensors_affected": h["sensors_affected"],
        "affected_sensor_ids": ",".join(h["affected_sensor_ids"]),
    }
    for name in _TOTALS:
        if name in h:
            stem = name.removesuffix("_p10_p50_p90")
            for q, v in zip(("p10", "p50", "p90"), h[name], strict=True):
                row[f"{stem}_{q}"] = v
    for check, ev in zip(h["events_requested_vs_generated"], res.scenario.events, strict=True):
        i, p = check["event"], res.sensor_ids.index(check["sensor_id"])
        t = slice(ev.start_offset_hours, ev.start_offset_hours + ev.duration_hours)
        base = res.baseline[:, t, p].mean(1).astype(np.float64)
        scen = res.scenario_samples[:, t, p].mean(1).astype(np.float64)
        row[f"e{i}_sensor_id"] = check["sensor_id"]
        row[f"e{i}_requested"] = check["requested"]
        row[f"e{i}_generated"] = check["generated"]
        row[f"e{i}_baseline_p50"] = float(np.quantile(base, 0.5))
        for q, v in zip(("p10", "p50", "p90"), np.quantile(scen, QUANTILES), strict=True):
            row[f"e{i}_scenario_{q}"] = float(v)
        for q, v in zip(("p10", "p50", "p90"), np.quantile(scen - base, QUANTILES), strict=True):
            row[f"e{i}_change_{q}"] = float(v)
    return row


def run_chunk(job: Job, items: Sequence[tuple[int, str, int]]) -> list[dict[str, Any]]:
    """Generate each ``(scenario_id, scenario JSON, seed)`` and return its headline row (runs in a worker)."""
    from explorer.models.generator.api import generate

    bundle = _bundle(job)
    rows = []
    with _one_thread():
        for idx, text, seed in items:
            res = generate(bundle.view, Scenario.from_json(text), n_samples=job.n_samples, seed=seed, model=bundle)
            rows.append({"scenario_id": idx, **headline_row(res)})
    return rows


# --------------------------------------------------------------------------- backends

Chunk = list[tuple[int, str, int]]
Tick = Callable[[int], None]


def _serial(job: Job, chunks: list[Chunk], tick: Tick) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for c in chunks:
        rows += run_chunk(job, c)
        tick(len(c))
    return rows


@contextlib.contextmanager
def _plain_main() -> Iterator[None]:
    """A spawned worker first runs the parent's ``__main__`` file; under Streamlit (the app, or AppTest in the
    tests) that is a page script, which fails outside a session and breaks the pool. The workers need nothing
    from it (their work lives in this module): they start from an empty ``__main__``."""
    import sys
    import types

    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _process(job: Job, chunks: list[Chunk], tick: Tick, workers: int) -> list[dict[str, Any]]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    rows: list[dict[str, Any]] = []
    # spawn, not fork: forking a process that has torch (and its thread pools) loaded can deadlock
    with _plain_main(), ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        futures = {pool.submit(run_chunk, job, c): len(c) for c in chunks}
        for f in as_completed(futures):
            rows += f.result()
            tick(futures[f])
    return rows


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast when nothing listens at a ``host:port`` / ``ray://host:port`` address (Ray itself retries
    for minutes). Other forms ('auto', 'local') are left to Ray."""
    import socket

    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise SweepError(
            f"nothing answers at Ray address {address!r} ({exc})",
            fix="start the cluster (ray start --head) and give its address (host:6379, or ray://host:10001)",
        ) from None


def _ray(job: Job, chunks: list[Chunk], tick: Tick, workers: int, address: str) -> list[dict[str, Any]]:
    try:
        import ray
    except ImportError:
        raise SweepError("Ray is not installed", fix="pip install 'urban-whatif-explorer[sweep]'") from None
    started = False
    if not ray.is_initialized():
        try:
            if address == "local":  # ray.init(local_mode=True) was removed in Ray 2.x: a local single node
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
            else:
                _check_reachable(address)
                ray.init(address=address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise SweepError(
                f"cannot connect to Ray at {address!r}: {exc}",
                fix="start the cluster (ray start --head) or check the address",
            ) from None
        started = True
    try:
        opts: dict[str, Any] = {"num_cpus": 1, "max_retries": 2}
        if job.device == "cuda":
            if not ray.cluster_resources().get("GPU"):
                raise SweepError("--device cuda but the Ray cluster has no GPU", fix="use --device cpu or auto")
            opts["num_gpus"] = 1
        remote = ray.remote(**opts)(run_chunk)
        job_ref = ray.put(job)
        pending = {remote.remote(job_ref, c): len(c) for c in chunks}
        rows: list[dict[str, Any]] = []
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                rows += ray.get(ref)
                tick(pending.pop(ref))
        return rows
    finally:
        if started:
            ray.shutdown()


# --------------------------------------------------------------------------- driver


def _check_points(points: list[GridPoint], view: Any, no_history: set[str]) -> None:
    """Every scenario must fit the city before any work starts; problems grouped by message."""
    problems: dict[str, list[int]] = {}
    for p in points:
        try:
            validate_for_city(p.scenario, view)
            for i, e in enumerate(p.scenario.events):
                if e.place.sensor_id in no_history:
                    raise ScenarioError(f"event {i}: sensor {e.place.sensor_id} has no history in the model")
        except ScenarioError as exc:
            problems.setdefault(str(exc), []).append(p.index)
    if problems:
        bad = sum(len(v) for v in problems.values())
        lines = [f"{msg} -- in {len(ix)} scenario(s), e.g. #{ix[0]}" for msg, ix in problems.items()][:10]
        raise GridError(
            f"{bad:,} of {len(points):,} scenarios do not fit {view.slug}:\n  " + "\n  ".join(lines),
            fix="use sensor or zone ids of the city ('explorer city check') or 'all sensors'",
        )


def _frame(rows: list[dict[str, Any]], points: list[GridPoint], paths: list[str]) -> pd.DataFrame:
    rows = sorted(rows, key=lambda r: r["scenario_id"])
    labels = pd.DataFrame([dict(iter_labels(p, paths)) for p in points], columns=paths)
    for c in labels.columns:  # one Parquet type per column
        if labels[c].map(type).nunique() > 1:
            labels[c] = labels[c].astype(str)
    body = pd.DataFrame(rows)
    df = pd.concat([body[["scenario_id"]], labels, body.drop(columns="scenario_id")], axis=1)
    df["scenario_json"] = [p.scenario.to_json() for p in points]
    return df


def run_sweep(
    city: str,
    grid: Grid,
    backend: Backend | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    device: str = "cpu",
    *,
    out: str | Path | None = None,
    checkpoint: str | Path | None = None,
    chunk_size: int | None = None,
    progress: bool = True,
    stats: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Run every scenario of ``grid`` for ``city`` and return one row per scenario (written to ``out`` as
    Parquet, atomically, when given).

    backend: 'serial', 'process' or 'ray' (default: 'ray' when ``ray_address`` is given, else 'process', or
    'serial' for one worker). workers: processes / Ray CPUs for a local Ray (default: CPU count, at most 8).
    ray_address: an existing cluster's address, or 'local' for a local single-node Ray.
    device: 'cpu', 'cuda' or 'auto'. stats: filled with the scenario count, seconds, backend and workers.
    Raises GridError / SweepError before any work on bad input.
    """
    import os

    from tqdm.auto import tqdm

    from explorer.models.generator.api import load_generator

    if backend is None:
        backend = "ray" if ray_address else ("serial" if workers == 1 else "process")
    if backend not in ("serial", "process", "ray"):
        raise SweepError(f"unknown backend {backend!r}", fix="use serial, process or ray")
    if backend == "ray" and not ray_address:
        raise SweepError("the ray backend needs an address", fix="give --ray ADDRESS, or --ray local")
    workers = workers or min(os.cpu_count() or 1, 8)
    if workers < 1:
        raise SweepError(f"workers must be at least 1, got {workers}")
    if backend != "ray" or device != "auto":
        device = resolve_device(device)
    ckpt = None if checkpoint is None else str(checkpoint)
    model = load_generator(city, ckpt)  # on the driver: the city's sensors and zones, and a fast failure
    if backend == "serial" and device == "cpu":
        _MODELS.setdefault((str(city), ckpt, "cpu"), model)  # the serial worker is this process: reuse it
    view = model.view
    no_history = set(model.sensors_without_history)
    sensors = [s for s in view.sensor_ids if s not in no_history]
    zones = None if view.zones is None else [str(z) for z in view.zones["zone_id"]]
    points = expand(grid, view.slug, sensors, zones)
    _check_points(points, view, no_history)
    paths = list(grid.axes)

    items = [(p.index, p.scenario.to_json(), scenario_seed(grid.seed, p.scenario, grid.seed_mode)) for p in points]
    size = chunk_size or max(1, min(64, math.ceil(len(items) / (workers * 4))))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    job = Job(city=str(city), checkpoint=ckpt, device=device, n_samples=grid.n_samples)
    t0 = time.perf_counter()
    with tqdm(total=len(items), unit="scenario", desc=f"sweep ({backend})", disable=not progress) as bar:
        if backend == "serial":
            rows = _serial(job, chunks, bar.update)
        elif backend == "process":
            rows = _process(job, chunks, bar.update, workers)
        else:
            rows = _ray(job, chunks, bar.update, workers, str(ray_address))
    elapsed = time.perf_counter() - t0
    df = _frame(rows, points, paths)
    df.attrs = {
        "city": view.slug,
        "grid": grid.model_dump_json(),
        "generator_weights_sha256": str(model.meta.get("weights_sha256", "")),
    }
    if out is not None:
        write_parquet(df, out)
    if stats is not None:
        stats.update(
            scenarios=len(items),
            seconds=elapsed,
            backend=backend,
            chunks=len(chunks),
            workers=1 if backend == "serial" else workers,
            device=device,
        )
    return df


def write_parquet(df: pd.DataFrame, out: str | Path) -> Path:
    """Write the sweep table as Parquet through a temporary sibling and an atomic rename."""
    from explorer.io import atomic_path

    out = Path(out)
    with atomic_path(out) as tmp:
        df.to_parquet(tmp, index=False)
    return out


__all__ = ["Job", "SweepError", "headline_row", "resolve_device", "run_chunk", "run_sweep", "scenario_seed"]
