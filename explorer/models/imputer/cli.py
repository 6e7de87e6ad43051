"""``explorer impute train|eval``: train the imputer for a city, run the GRIN-protocol comparison."""

from __future__ import annotations

import json
import shlex
import time
import warnings
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(help="Train and evaluate the generative imputer.", no_args_is_help=True,
                  pretty_exceptions_enable=False)

DRY_STEPS, DRY_SENSORS = 480, 16
METHODS = ("mean", "interpolation", "knn", "brits", "saits", "stgar")  # evaluate.METHODS, without importing torch
MODEL = "stgar"


def _quiet() -> None:
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # nanmean of all-NaN slices is expected
    warnings.filterwarnings("ignore", category=UserWarning)


def _command(ctx: typer.Context) -> str:
    """The command line that reproduces this call, rebuilt from the parsed options."""
    parts = ["explorer", "impute", ctx.info_name or ""]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        flag = param.opts[0] if param.opts else ""
        if value is None or value is False:
            continue
        if value is True:
            parts.append(flag)
        else:
            parts += [flag, shlex.quote(str(value))]
    return " ".join(parts)


def _eval_record_path(city: Any) -> Path:
    return city.models_dir / "imputer.eval.json"


def _round(r: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in r.items()}


def score_test(model: Any, series: Any, adjacency: Any, mask_seed: int,
                 log: Any = typer.echo) -> dict[str, Any]:
    """Both protocols' test figures (point and probabilistic, 50 samples) and the cheap headline check."""
    from explorer.models.imputer.data import prepare
    from explorer.models.imputer.evaluate import headline_check, run_model, score_part
    from explorer.models.imputer.metrics import strongest_neighbour

    metrics: dict[str, Any] = {}
    for protocol in ("point", "block"):
        data = prepare(series, protocol, mask_seed)  # type: ignore[arg-type]
        pred, draws, _, infer_s = run_model(series, data, 0, 0, model=model)
        metrics[protocol] = _round({**score_part(data, "test", pred, draws, strongest_neighbour(adjacency)),
                                    "infer_s": round(infer_s, 1)})
        log(f"test {protocol}: {metrics[protocol]}")
    metrics["check"] = headline_check(model, series, adjacency, mask_seed)
    log(f"headline check (stored for tests/imputer): {metrics['check']}")
    return metrics


@app.command()
def train(
    ctx: typer.Context,
    city: str = typer.Option(..., "--city", help="City slug or folder."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Tiny data, a few steps: exercises the real loop."),
    epochs: float | None = typer.Option(None, help="Passes over the training windows (else --steps)."),
    steps: int = typer.Option(4000, help="Optimiser steps (upper bound; the time budget may stop earlier)."),
    minutes: float = typer.Option(25.0, help="Wall-clock budget for the training loop."),
    batch: int = typer.Option(16, help="Windows per step."),
    seed: int = typer.Option(0, help="Training seed."),
    lr: float | None = typer.Option(None, help="Peak learning rate (default: the training config's)."),
    hidden: int | None = typer.Option(None, help="Hidden channels (default: the model config's)."),
    residual: str = typer.Option("graph-ar", help="Residual structure of sampled fills: graph-ar, ar, independent, "
                                 "graph-ar-gsm, graph-ar-gsm-window."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    threads: int = typer.Option(2, help="CPU threads."),
    out: Path | None = typer.Option(None, help="Checkpoint path without suffix (default: the city's models/)."),
    test_metrics_: bool = typer.Option(True, "--test-metrics/--no-test-metrics",
                                       help="Score the test part under both protocols after training."),
) -> None:
    """Train the imputer, fit its band calibration, write ``imputer.safetensors`` + ``imputer.json``."""
    _quiet()
    from explorer.cities import load_city
    from explorer.models.imputer.model import RESIDUALS
    from explorer.models.imputer.store import save_imputer
    from explorer.models.imputer.train import TrainConfig
    from explorer.models.imputer.train import train as train_model

    if residual not in RESIDUALS:
        raise typer.BadParameter(f"--residual must be one of {', '.join(RESIDUALS)}")
    c = load_city(city)
    series = c.series
    adjacency = c.adjacency
    if dry_run:
        series = series.iloc[:DRY_STEPS, :DRY_SENSORS]
        adjacency = adjacency[:DRY_SENSORS, :DRY_SENSORS]
        steps, minutes = 3, 1.0
    elif epochs is not None:
        steps = max(1, int(epochs * (int(len(series) * 0.7) - 23) / batch))
    cfg = TrainConfig(steps=steps, batch=batch, seed=seed, device=device, threads=threads, max_minutes=minutes,
                      val_every=2 if dry_run else 200)
    if lr is not None:
        cfg.lr = lr
    model_cfg: dict[str, Any] = {"hidden": 8, "n_neighbours": 4, "res_hidden": 8} if dry_run else {}
    model_cfg["residual"] = residual
    if hidden is not None:
        model_cfg["hidden"] = hidden
    model, info = train_model(series, model_cfg, cfg)
    typer.echo(f"trained in {info['train_s']:.0f} s on {info['device']}; best validation MAE {info['val_mae']:.4f}")
    cal = info["calibration"]
    typer.echo(f"band scale {cal['band_scale']}: validation P10-P90 coverage {cal['val_coverage_uncalibrated']:.3f}"
               f" -> {cal['val_coverage']:.3f}")
    metrics: dict[str, Any] = {"val_mae": info["val_mae"], "mask_seed": cfg.mask_seed}
    meta = {"metrics": metrics, "command": _command(ctx), "calibration": cal,
            "config": {"train": info["train_config"], "mask_seed": cfg.mask_seed, "split": [0.7, 0.1, 0.2]},
            "training": {k: v for k, v in info.items() if k not in ("train_config", "calibration")}}
    if dry_run and out is None:
        typer.echo("dry run: no checkpoint written (pass --out to write one)")
    else:  # write now, so that a long test pass cannot lose the trained weights
        path = save_imputer(model, c, meta, out)
        typer.echo(f"wrote {path} and {path.with_suffix('.json')}")
    if not test_metrics_:
        return
    metrics.update(score_test(model, series, adjacency, cfg.mask_seed))
    if not (dry_run and out is None):
        path = save_imputer(model, c, meta, out)
        typer.echo(f"added test metrics to {path.with_suffix('.json')}")


@app.command("eval")
def eval_cmd(
    ctx: typer.Context,
    city: str = typer.Option(..., "--city", help="City slug or folder."),
    protocol: str = typer.Option("point", help="point or block."),
    seeds: int = typer.Option(1, help="Training seeds of the learned methods (mean ± std)."),
    quick: bool = typer.Option(False, "--quick", help="Truncated series, tiny budgets: for CI."),
    as_json: bool = typer.Option(False, "--json", help="Print {method: {mae, mse, mre, crps, coverage, ...}}."),
    methods: str = typer.Option(",".join(METHODS), help="Comma-separated methods."),
    stored: bool = typer.Option(False, "--stored", help="Print the test figures stored in the checkpoint's JSON "
                                "(computed when it was trained) instead of computing anything."),
    part: str = typer.Option("test", help="test (the protocol's figures) or val (to choose between variants)."),
    samples: int = typer.Option(50, help="Sampled fills per hidden value for CRPS, coverage and coherence."),
    checkpoint: Path | None = typer.Option(None, help="Checkpoint (without suffix) to evaluate instead of the "
                                           "city's committed one."),
    peer_epochs: int = typer.Option(1, help="Training epochs of PyPOTS BRITS and SAITS."),
    peer_windows: int = typer.Option(3200, help="Training windows the peers see per epoch (0 = all)."),
    steps: int = typer.Option(1000, help="Steps for this model when it is trained here (seeds > 1, --retrain)."),
    retrain: bool = typer.Option(False, help="Train this model here even when a checkpoint exists."),
    cache: Path | None = typer.Option(Path("artifacts/imputer_peers"),
                                      help="Where fitted PyPOTS peers are kept and reused across protocols."),
    record: bool = typer.Option(False, help="Store the results in the city's models/imputer.eval.json."),
    markdown: Path | None = typer.Option(None, help="Regenerate a markdown table from all recorded results."),
    threads: int = typer.Option(2, help="CPU threads for torch."),
) -> None:
    """Run the GRIN protocol side by side (recomputed): mean, interpolation, KNN, BRITS, SAITS and this model."""
    _quiet()
    import torch

    torch.set_num_threads(max(1, threads))
    from explorer.cities import load_city
    from explorer.errors import CheckpointError
    from explorer.models.imputer.evaluate import QUICK, Budget, evaluate
    from explorer.models.imputer.store import load_imputer

    if protocol not in ("point", "block"):
        raise typer.BadParameter("protocol must be 'point' or 'block'")
    if part not in ("test", "val"):
        raise typer.BadParameter("part must be 'test' or 'val'")
    if samples < 2:
        raise typer.BadParameter("--samples must be at least 2 (50 or more for CRPS as CSDI/PriSTI report it)")
    chosen = tuple(m.strip() for m in methods.split(",") if m.strip())
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise typer.BadParameter(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    c = load_city(city)
    log = (lambda s: typer.echo(s, err=True)) if as_json else typer.echo
    if stored:
        _print_stored(c, protocol, checkpoint, as_json, log)
        return
    budget = QUICK if quick else Budget(model_steps=steps, peer_epochs=peer_epochs,
                                        peer_windows=peer_windows or None)
    budget.samples = samples
    trained, trained_s, source = None, None, "trained here"
    if MODEL in chosen and not quick and not retrain:
        try:
            trained, meta = load_imputer(c, checkpoint)
            # the point path's training, plus a later refit of the residual alone (refit-residual) if any
            trained_s = float(meta["training"]["train_s"]) + float(meta.get("residual_refit", {}).get("train_s", 0.0))
            source = f"checkpoint {checkpoint or 'committed'} ({meta['created']}), recomputed"
        except (CheckpointError, KeyError) as exc:
            if checkpoint is not None:
                raise
            typer.echo(f"no usable checkpoint, training here: {exc}", err=True)
    log(f"recomputing {protocol} on the {part} part ({samples} samples per hidden value); stored figures: --stored")
    t0 = time.perf_counter()
    results = evaluate(c.series, c.adjacency, protocol, seeds=seeds, budget=budget, methods=chosen,  # type: ignore[arg-type]
                       trained=trained, trained_s=trained_s,
                       cache_dir=None if quick else cache, part=part, log=log)
    if as_json:
        typer.echo(json.dumps({k: _round(v) for k, v in results.items()}, indent=2))
    else:
        for k, v in results.items():
            typer.echo(_line(k, v))
    if record:
        if part != "test":
            raise typer.BadParameter("--record stores test figures only (drop --part val)")
        path = _eval_record_path(c)
        from explorer.io import atomic_write_text

        rec = json.loads(path.read_text()) if path.is_file() else {}
        entry = rec.get(protocol, {"results": {}, "runs": {}})
        run = {"seeds": seeds, "quick": quick, "peer_epochs": budget.peer_epochs, "peer_windows": budget.peer_windows,
               "model": source, "samples": samples, "data_hash": c.data_hash, "command": _command(ctx),
               "wall_s": round(time.perf_counter() - t0, 1)}
        for method, r in results.items():  # a run of some methods replaces only those methods' results
            entry["results"][method] = r
            entry["runs"][method] = run
        rec[protocol] = entry
        atomic_write_text(path, json.dumps(rec, indent=2, sort_keys=True) + "\n")
        log(f"recorded in {path}")
    if markdown is not None:
        write_markdown(markdown)
        log(f"wrote {markdown}")


def _line(name: str, v: dict[str, Any]) -> str:
    cov = "" if v.get("coverage") is None else f"  P10-P90 {v['coverage']:.3f}"
    coh = ("" if v.get("lag1_sampled") is None else
           f"  lag-1 {v['lag1_sampled']:.2f}/{v['lag1_real']:.2f}  neighbour "
           f"{v['neighbour_sampled']:.2f}/{v['neighbour_real']:.2f} (sampled/real)")
    return (f"{name:>14}: MAE {v['mae']:.4f}  MSE {v['mse']:.3f}  MRE {v['mre']:.4f}  CRPS {v['crps']:.4f}{cov}"
            f"{coh}  train {v['train_s']:.0f} s  infer {v['infer_s']:.1f} s")


def _print_stored(c: Any, protocol: str, checkpoint: Path | None, as_json: bool, log: Any) -> None:
    """This model's test figures as stored in its checkpoint JSON, labelled as stored."""
    from explorer.models.checkpoint import read_metadata
    from explorer.models.imputer.store import default_path

    meta = read_metadata(checkpoint or default_path(c))
    figures = (meta.get("metrics") or {}).get(protocol)
    if figures is None:
        raise typer.BadParameter(f"the checkpoint stores no {protocol} test figures; run without --stored")
    label = (f"STORED figures, read from the checkpoint's JSON (computed when it was trained, {meta.get('created')}); "
             "nothing was recomputed")
    log(label)
    if as_json:
        typer.echo(json.dumps({"stored": True, "created": meta.get("created"), MODEL: figures}, indent=2))
    else:
        typer.echo(_line(MODEL, {"train_s": (meta.get("training") or {}).get("train_s", 0.0), **figures}))


def write_markdown(path: Path) -> None:
    """Regenerate the results table from every city's recorded ``imputer.eval.json``."""
    from explorer.cities import list_cities, load_city
    from explorer.io import atomic_write_text
    from explorer.models.imputer.evaluate import markdown_table

    table: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    notes = []
    for slug in list_cities():
        rec_path = _eval_record_path(load_city(slug))
        if not rec_path.is_file():
            continue
        rec = json.loads(rec_path.read_text())
        table[slug] = {p: rec[p]["results"] for p in ("point", "block") if p in rec}
        for p in ("point", "block"):
            seen: list[str] = []
            for r in rec.get(p, {}).get("runs", {}).values():
                if r["command"] in seen:
                    continue
                seen.append(r["command"])
                done = [m for m, q in rec[p]["runs"].items() if q["command"] == r["command"]]
                parts = [f"- {slug} {p} ({', '.join(done)}): `{r['command']}`"]
                if MODEL in done:
                    parts.append(f"{MODEL} from {r['model']}, {r['samples']} samples")
                if {"brits", "saits"} & set(done):
                    parts.append(f"PyPOTS budget {r['peer_epochs']} epoch(s) over {r.get('peer_windows') or 'all'} "
                                 "training windows")
                parts.append(f"seeds {r['seeds']}{'; QUICK mode' if r['quick'] else ''}; wall {r['wall_s']:.0f} s.")
                notes.append("; ".join(parts))
    header = ("<!-- generated by `explorer impute report`; do not edit by hand -->\n\n"
              "# Imputation results (GRIN protocol)\n\n")
    atomic_write_text(path, header + markdown_table(table, "\n".join(notes)))


@app.command()
def calibrate(
    city: str = typer.Option(..., "--city", help="City slug or folder."),
    threads: int = typer.Option(2, help="CPU threads for torch."),
) -> None:
    """Refit the sampled residual's scale factor (band_scale) on the validation part; store it in the checkpoint.

    ``explorer impute train`` already does this; the command refits it for a checkpoint kept as it is.
    """
    _quiet()
    import torch

    from explorer.cities import load_city
    from explorer.models.imputer.api import fit_band_scale
    from explorer.models.imputer.store import load_imputer, save_imputer

    torch.set_num_threads(max(1, threads))
    c = load_city(city)
    model, meta = load_imputer(c)
    mask_seed = int(meta["config"].get("mask_seed", 9101112))
    cal = fit_band_scale(model, c.series, mask_seed=mask_seed)
    model.band_scale.fill_(cal["band_scale"])
    cal["command"] = f"explorer impute calibrate --city {c.slug}"
    keep = {k: v for k, v in meta.items() if k in ("metrics", "command", "training", "residual_refit")}
    keep["config"] = {k: v for k, v in meta["config"].items() if k != "model"}
    save_imputer(model, c, {**keep, "calibration": cal})
    typer.echo(f"band scale {cal['band_scale']}: validation P10-P90 coverage {cal['val_coverage_uncalibrated']:.3f}"
               f" -> {cal['val_coverage']:.3f}; the stored test figures predate it: recompute with impute eval")


@app.command()
def ablate(
    city: str = typer.Option(..., "--city", help="City slug or folder."),
    residuals: str = typer.Option("independent,ar,graph-ar", help="Residual structures to compare."),
    steps: int = typer.Option(300, help="Training steps of each residual model (the point path stays frozen)."),
    warm: bool = typer.Option(False, "--warm", help="Start each residual from the checkpoint's own (where its "
                              "parameters fit) instead of afresh."),
    samples: int = typer.Option(50, help="Sampled fills per hidden value."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    threads: int = typer.Option(2, help="CPU threads for torch."),
) -> None:
    """Compare residual structures on the VALIDATION part: each trained afresh on the checkpoint's frozen point
    path, calibrated, then scored under both protocols (CRPS, coverage, coherence). The model's own residual
    (trained with it) is listed as ``as trained``."""
    _quiet()
    import torch

    from explorer.cities import load_city
    from explorer.models.imputer.evaluate import Budget, evaluate
    from explorer.models.imputer.model import RESIDUALS
    from explorer.models.imputer.store import load_imputer
    from explorer.models.imputer.train import refit_residual

    torch.set_num_threads(max(1, threads))
    c = load_city(city)
    model, meta = load_imputer(c)
    variants = {"as trained": model}
    for name in (r.strip() for r in residuals.split(",") if r.strip()):
        typer.echo(f"training the {name} residual ({steps} steps)...", err=True)
        if name not in RESIDUALS:
            raise typer.BadParameter(f"unknown residual {name!r}; choose from {', '.join(RESIDUALS)}")
        variants[name + (" (warm)" if warm else "")] = refit_residual(model, c.series, name, steps=steps, warm=warm)
    table: dict[str, dict[str, Any]] = {}
    for name, variant in variants.items():
        for protocol in ("point", "block"):
            r = evaluate(c.series, c.adjacency, protocol, budget=Budget(samples=samples),  # type: ignore[arg-type]
                         methods=(MODEL,), trained=variant, part="val", log=lambda _: None)[MODEL]
            table[f"{name} / {protocol}"] = _round({**r, "band_scale": float(variant.band_scale)})
            typer.echo(f"{name:>12} {protocol:>5}: {_line(MODEL, r)}", err=True)
    if as_json:
        typer.echo(json.dumps(table, indent=2))


@app.command("refit-residual")
def refit_residual_cmd(
    ctx: typer.Context,
    city: str = typer.Option(..., "--city", help="City slug or folder."),
    residual: str = typer.Option("graph-ar-gsm", help="Residual structure to fit: graph-ar, ar, independent, "
                                 "graph-ar-gsm, graph-ar-gsm-window."),
    steps: int = typer.Option(1500, help="Training steps of the residual model."),
    warm: bool = typer.Option(True, "--warm/--fresh", help="Start from the checkpoint's own residual parameters "
                              "where they fit, or afresh."),
    seed: int = typer.Option(0, help="Seed of the residual's training windows."),
    threads: int = typer.Option(2, help="CPU threads for torch."),
    out: Path | None = typer.Option(None, help="Checkpoint path without suffix (default: overwrite the city's)."),
    test_metrics_: bool = typer.Option(True, "--test-metrics/--no-test-metrics",
                                       help="Score the test part under both protocols afterwards."),
) -> None:
    """Refit only the sampled residual of the city's checkpoint on its frozen point path, recalibrate, save.

    The point estimate (and so MAE) stays exactly as trained; the JSON keeps the training command and records
    this one under ``residual_refit``.
    """
    _quiet()
    import torch

    from explorer.cities import load_city
    from explorer.models.imputer.api import fit_band_scale
    from explorer.models.imputer.model import RESIDUALS
    from explorer.models.imputer.store import load_imputer, save_imputer
    from explorer.models.imputer.train import refit_residual

    if residual not in RESIDUALS:
        raise typer.BadParameter(f"--residual must be one of {', '.join(RESIDUALS)}")
    torch.set_num_threads(max(1, threads))
    c = load_city(city)
    model, meta = load_imputer(c)
    mask_seed = int(meta["config"].get("mask_seed", 9101112))
    t0, c0 = time.perf_counter(), time.process_time()
    fresh = refit_residual(model, c.series, residual, steps=steps, seed=seed, mask_seed=mask_seed, warm=warm,
                           calibrate=False)
    refit = {"command": _command(ctx), "from": model.cfg.residual, "residual": residual, "steps": steps,
             "warm": warm, "train_s": round(time.perf_counter() - t0, 1),
             "cpu_s": round(time.process_time() - c0, 1), "threads": torch.get_num_threads()}
    cal = fit_band_scale(fresh, c.series, mask_seed=mask_seed)
    fresh.band_scale.fill_(cal["band_scale"])
    typer.echo(f"refitted the {residual} residual in {refit['train_s']:.0f} s; band scale {cal['band_scale']}: "
               f"validation P10-P90 coverage {cal['val_coverage_uncalibrated']:.3f} -> {cal['val_coverage']:.3f}")
    metrics = {k: v for k, v in meta.get("metrics", {}).items() if k in ("val_mae", "mask_seed")}
    keep = {k: v for k, v in meta.items() if k in ("command", "training")}
    keep["config"] = {k: v for k, v in meta["config"].items() if k != "model"}
    record = {**keep, "metrics": metrics, "calibration": cal, "residual_refit": refit}
    path = save_imputer(fresh, c, record, out)
    typer.echo(f"wrote {path} and {path.with_suffix('.json')}")
    if test_metrics_:
        metrics.update(score_test(fresh, c.series, c.adjacency, mask_seed))
        save_imputer(fresh, c, record, out)
        typer.echo(f"added test metrics to {path.with_suffix('.json')}")


@app.command()
def report(
    markdown: Path = typer.Option(Path("docs/imputation_results.md"), help="Where to write the table."),
) -> None:
    """Regenerate the results table from the recorded ``imputer.eval.json`` files (no computation)."""
    write_markdown(markdown)
    typer.echo(f"wrote {markdown}")
