"""``explorer generate``: train, evaluate and run the scenario generator."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer

app = typer.Typer(help="Train, evaluate and run the conditional GAN scenario generator.", no_args_is_help=True)


def _fail(exc: Exception) -> NoReturn:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(2)


def _on_model(city: str, checkpoint: Path | None, run: Any) -> dict[str, Any]:
    """``run(bundle)`` on the city's generator (or ``checkpoint``); a user's mistake ends with a clear message."""
    from explorer.errors import ExplorerError
    from explorer.models.generator.api import load_generator

    try:
        return run(load_generator(city, checkpoint))
    except ExplorerError as exc:
        _fail(exc)


def _write_and_show(report: dict[str, Any], markdown: Path | None, as_json: bool, write: Any, to_md: Any) -> None:
    if markdown is not None:
        write(report, markdown)
    typer.echo(json.dumps(report, indent=2, sort_keys=True) if as_json else to_md(report))


def _threads(n: int | None) -> None:
    if n:
        import torch

        torch.set_num_threads(n)


@app.command()
def train(
    city: str = typer.Option(..., "--city", help="city slug or folder"),
    steps: int | None = typer.Option(None, help="training steps (default: the config's)"),
    device: str = typer.Option("auto", help="auto, cpu or cuda"),
    dry_run: bool = typer.Option(False, "--dry-run", help="a few steps on small batches, to a temporary folder"),
    resume: bool = typer.Option(True, help="continue from generator.partial.pt when present"),
    out: Path | None = typer.Option(None, help="checkpoint path without suffix (default: the city's models/)"),
    threads: int | None = typer.Option(None, help="torch CPU threads"),
    max_minutes: float | None = typer.Option(None, help="stop training after this many minutes"),
    crps_weight: float | None = typer.Option(None, min=0.0, help="weight of the CRPS loss (default: the config's)"),
    adv_weight: float | None = typer.Option(None, min=0.0, help="weight of the critic's term (default: the config's)"),
    pair_hops: int | None = typer.Option(None, min=0, help="graph links the learned origin-to-sensor pattern may "
                                         "span (0: any; default: the config's)"),
    same_sign: bool | None = typer.Option(None, "--same-sign/--free-sign", help="keep the event response's "
                                          "graph, pattern and time weights >= 0 (default: the config's)"),
) -> None:
    """Train the generator of a city (progress bar, resumable) and write its checkpoint."""
    from explorer.errors import ExplorerError
    from explorer.models.generator.model import GeneratorConfig
    from explorer.models.generator.train import train as run_train

    _threads(threads)
    chosen = {"steps": steps, "crps_weight": crps_weight, "adv_weight": adv_weight, "pair_hops": pair_hops,
              "same_sign": same_sign}
    cfg = GeneratorConfig(**{k: v for k, v in chosen.items() if v is not None})
    command = "explorer generate train " + " ".join(shlex.quote(a) for a in sys.argv[3:])
    try:
        path = run_train(
            city, cfg, out=out, device=device, dry_run=dry_run, resume=resume, command=command, max_minutes=max_minutes
        )
    except ExplorerError as exc:
        _fail(exc)
    meta = json.loads(Path(path).with_suffix(".json").read_text())
    typer.echo(f"wrote {path}")
    typer.echo(json.dumps(meta["metrics"], sort_keys=True))


@app.command()
def calibrate(
    city: str = typer.Option(..., "--city", help="city slug or folder"),
    checkpoint: Path | None = typer.Option(None, help="checkpoint path without suffix (default: the city's)"),
    threads: int | None = typer.Option(None, help="torch CPU threads"),
) -> None:
    """Refit the spread and event-size calibrations of a trained checkpoint on its validation days (the
    last step of training; the weights are not changed) and write it back."""
    from explorer.errors import ExplorerError
    from explorer.models.generator.calibration import recalibrate_checkpoint

    _threads(threads)
    command = "explorer generate calibrate " + " ".join(shlex.quote(a) for a in sys.argv[3:])
    try:
        path = recalibrate_checkpoint(city, checkpoint, command=command)
    except ExplorerError as exc:
        _fail(exc)
    meta = json.loads(Path(path).with_suffix(".json").read_text())
    typer.echo(f"wrote {path}")
    typer.echo(json.dumps(meta["metrics"], sort_keys=True))


@app.command("eval")
def evaluate_cmd(
    city: str = typer.Option(..., "--city", help="city slug or folder"),
    quick: bool = typer.Option(False, "--quick", help="small settings for CI"),
    as_json: bool = typer.Option(False, "--json", help="print the full report as JSON"),
    markdown: Path | None = typer.Option(None, "--markdown", help="update this city's table in a results file"),
    checkpoint: Path | None = typer.Option(None, help="checkpoint path without suffix (default: the city's)"),
    repeats: int | None = typer.Option(None, help="override the number of repeats"),
    steps: int | None = typer.Option(None, help="override the GRU training steps"),
    threads: int | None = typer.Option(None, help="torch CPU threads"),
    device: str = typer.Option("cpu", help="where the metric GRUs train: cpu, cuda or auto"),
    from_json: Path | None = typer.Option(None, "--from-json", help="re-render a saved --json report, no run"),
) -> None:
    """Metrics of the GAN and both baselines on held-out days."""
    from explorer.models.generator.evaluate import EvalSettings, evaluate, write_markdown
    from explorer.models.generator.evaluate import markdown as to_md

    _threads(threads)
    s = EvalSettings.quick() if quick else EvalSettings()
    if repeats:
        s.repeats = repeats
    if steps:
        s.disc_steps = s.pred_steps = steps
    s.device = device
    if from_json is not None:
        try:
            report = json.loads(from_json.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            _fail(ValueError(f"{from_json} is not a saved --json report ({exc}); write one with --json"))
        if not isinstance(report, dict):
            _fail(ValueError(f"{from_json} is not a saved --json report; write one with --json"))
        if report.get("city") != city:
            _fail(ValueError(f"{from_json} is a report for {report.get('city')!r}, not {city!r}"))
    else:
        report = _on_model(city, checkpoint, lambda m: evaluate(m.view, quick=quick, settings=s, model=m))
    _write_and_show(report, markdown, as_json, write_markdown, to_md)


@app.command()
def backtest(
    city: str = typer.Option(..., "--city", help="city slug or folder"),
    quick: bool = typer.Option(False, "--quick", help="small settings for CI"),
    as_json: bool = typer.Option(False, "--json", help="print the full report as JSON"),
    markdown: Path | None = typer.Option(None, "--markdown", help="update this city's backtest table in a file"),
    checkpoint: Path | None = typer.Option(None, help="checkpoint path without suffix (default: the city's)"),
    max_events: int | None = typer.Option(None, "--max-events", help="held-out episodes used (default: all)"),
    samples: int | None = typer.Option(None, "--samples", help="samples per event (default 64)"),
    threads: int | None = typer.Option(None, help="torch CPU threads"),
    part: str = typer.Option("test", "--part", help="test (the held-out days) or val (validation days' episodes: "
                             "for choosing between models; not written to --markdown)"),
) -> None:
    """Replay the surges of the held-out days from their origin alone and score what every method generates
    at every other sensor and hour against what really happened (no event, painted request, historical
    analogue, this model)."""
    from explorer.models.generator.backtest import BacktestSettings, write_markdown
    from explorer.models.generator.backtest import backtest as run_backtest
    from explorer.models.generator.backtest import markdown as to_md

    if part not in ("test", "val"):
        _fail(ValueError(f"--part must be test or val, not {part!r}"))
    if part == "val" and markdown is not None:
        _fail(ValueError("--markdown takes the held-out table only: drop --markdown, or use --part test"))
    _threads(threads)
    s = BacktestSettings.quick() if quick else BacktestSettings()
    if max_events is not None:
        s.max_events = max_events
    if samples is not None:
        s.n_samples = samples
    report = _on_model(city, checkpoint, lambda m: run_backtest(m.view, settings=s, quick=quick, model=m, part=part))
    _write_and_show(report, markdown, as_json, write_markdown, to_md)


def write_result(result: Any, city: Any, out: Path) -> Path:
    """Write a ScenarioResult as Parquet (one row per sensor x hour) or GeoJSON (one feature per sensor)."""
    from explorer.cities.view import as_view
    from explorer.io import atomic_path, atomic_write_text

    suffix = out.suffix.lower()
    if suffix == ".parquet":
        frame = result.to_frame()  # hours as the scenario's day and time, not an undated one's reference week
        frame["time"] = [t for t in result.time_labels for _ in result.sensor_ids]
        with atomic_path(out) as tmp:
            frame.to_parquet(tmp, index=False)
        return out
    if suffix not in (".geojson", ".json"):
        raise ValueError(f"unknown output type {suffix!r}: use .parquet or .geojson")
    view = as_view(city)
    qb, qs, qd = (result.quantiles(w) for w in ("baseline", "scenario", "difference"))
    r2 = lambda a: [round(float(v), 2) for v in a]  # noqa: E731
    features = []
    for j, sid in enumerate(result.sensor_ids):
        props = {
            "sensor_id": sid,
            "baseline_p50": r2(qb[1, :, j]),
            "scenario_p10": r2(qs[0, :, j]),
            "scenario_p50": r2(qs[1, :, j]),
            "scenario_p90": r2(qs[2, :, j]),
            "difference_p10": r2(qd[0, :, j]),
            "difference_p50": r2(qd[1, :, j]),
            "difference_p90": r2(qd[2, :, j]),
        }
        geom = {"type": "Point", "coordinates": [float(view.lon[j]), float(view.lat[j])]}
        features.append({"type": "Feature", "geometry": geom, "properties": props})
    doc = {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "city": result.city,
            "unit": result.unit,
            "times": result.time_labels,
            "seed": result.seed,
            "n_samples": int(result.baseline.shape[0]),
            "headline": result.headline,
            "scenario": json.loads(result.scenario.to_json()),
        },
    }
    return atomic_write_text(out, json.dumps(doc, sort_keys=True))


@app.command()
def run(
    city: str = typer.Option(..., "--city", help="city slug or folder"),
    scenario: Path = typer.Option(..., "--scenario", help="scenario JSON file", exists=True, dir_okay=False),
    samples: int = typer.Option(64, "--samples", help="number of samples"),
    seed: int = typer.Option(0, "--seed", help="random seed (same seed, same numbers)"),
    out: Path = typer.Option(..., "--out", help="output .parquet or .geojson"),
    checkpoint: Path | None = typer.Option(None, help="checkpoint path without suffix (default: the city's)"),
) -> None:
    """Generate a scenario and write its quantiles; prints the headline numbers."""
    from pydantic import ValidationError

    from explorer.errors import ExplorerError
    from explorer.models.generator.api import generate, load_generator
    from explorer.scenarios.schema import Scenario, ScenarioError

    try:
        sc = Scenario.from_json(scenario.read_bytes())
        model = load_generator(city, checkpoint)
        result = generate(model.view, sc, n_samples=samples, seed=seed, model=model)
        write_result(result, model.view, out)
    except (ValidationError, ScenarioError, ExplorerError, ValueError) as exc:
        _fail(exc)
    head = {k: v for k, v in result.headline.items() if k != "affected_sensor_ids"}
    typer.echo(json.dumps(head, sort_keys=True))
    typer.echo(f"wrote {out}")
