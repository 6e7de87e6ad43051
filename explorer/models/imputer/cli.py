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


@app.command()
def train(
    ctx: typer.Context,
    city: str = typer.Option(..., "--city", help="City slug or folder."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Tiny data, a few steps: exercises the real loop."),
    epochs: float | None = typer.Option(None, help="Passes over the training windows (else --steps)."),
    steps: int = typer.Option(1000, help="Optimiser steps (upper bound; the time budget may stop earlier)."),
    minutes: float = typer.Option(25.0, help="Wall-clock budget for the training loop."),
    batch: int = typer.Option(16, help="Windows per step."),
    seed: int = typer.Option(0, help="Training seed."),
    lr: float | None = typer.Option(None, help="Peak learning rate (default: the training config's)."),
    beta: float | None = typer.Option(None, help="KL weight (default: the model config's)."),
    nll_weight: float | None = typer.Option(None, help="Weight of the posterior NLL against the prior mean's L1."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    threads: int = typer.Option(2, help="CPU threads."),
    out: Path | None = typer.Option(None, help="Checkpoint path without suffix (default: the city's models/)."),
    test_metrics: bool = typer.Option(True, help="Score the test part under both protocols after training."),
) -> None:
    """Train the imputer and write ``imputer.safetensors`` + ``imputer.json``."""
    _quiet()
    from explorer.cities import load_city
    from explorer.models.imputer.data import prepare
    from explorer.models.imputer.evaluate import run_stcvae
    from explorer.models.imputer.metrics import all_metrics
    from explorer.models.imputer.store import save_imputer
    from explorer.models.imputer.train import TrainConfig
    from explorer.models.imputer.train import train as train_model

    c = load_city(city)
    series = c.series
    if dry_run:
        series = series.iloc[:DRY_STEPS, :DRY_SENSORS]
        steps, minutes = 3, 1.0
    elif epochs is not None:
        steps = max(1, int(epochs * (int(len(series) * 0.7) - 23) / batch))
    cfg = TrainConfig(steps=steps, batch=batch, seed=seed, device=device, threads=threads, max_minutes=minutes,
                      val_every=2 if dry_run else 100)
    if lr is not None:
        cfg.lr = lr
    model_cfg: dict[str, Any] = {"hidden": 8, "n_neighbours": 4} if dry_run else {}
    model_cfg |= {k: v for k, v in (("beta", beta), ("nll_weight", nll_weight)) if v is not None}
    model, info = train_model(series, model_cfg, cfg)
    typer.echo(f"trained in {info['train_s']:.0f} s on {info['device']}; best validation MAE {info['val_mae']:.4f}")
    metrics: dict[str, Any] = {"val_mae": info["val_mae"], "mask_seed": cfg.mask_seed}
    meta = {"metrics": metrics, "command": _command(ctx),
            "config": {"train": info["train_config"], "mask_seed": cfg.mask_seed, "split": [0.7, 0.1, 0.2]},
            "training": {k: v for k, v in info.items() if k != "train_config"}}
    if dry_run and out is None:
        typer.echo("dry run: no checkpoint written (pass --out to write one)")
    else:  # write now, so that a long test pass cannot lose the trained weights
        path = save_imputer(model, c, meta, out)
        typer.echo(f"wrote {path} and {path.with_suffix('.json')}")
    if not test_metrics:
        return
    for protocol in ("point", "block"):
        data = prepare(series, protocol, cfg.mask_seed)
        pred, _, infer_s = run_stcvae(series, data, 0, seed, model=model, train_s=info["train_s"])
        b = data.bounds[1]
        full = data.target.copy()
        full[b:] = pred
        metrics[protocol] = {k: round(v, 4) for k, v in all_metrics(full, data.target, data.scored()).items()}
        metrics[protocol]["infer_s"] = round(infer_s, 1)
        typer.echo(f"test {protocol}: {metrics[protocol]}")
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
    as_json: bool = typer.Option(False, "--json", help="Print {method: {mae, mse, mre, train_s, infer_s}}."),
    methods: str = typer.Option(",".join(("mean", "interpolation", "knn", "brits", "saits", "stcvae")),
                                help="Comma-separated methods."),
    peer_epochs: int = typer.Option(1, help="Training epochs of PyPOTS BRITS and SAITS."),
    peer_windows: int = typer.Option(3200, help="Training windows the peers see per epoch (0 = all)."),
    steps: int = typer.Option(1000, help="Steps for this model when it is trained here (seeds > 0, --retrain)."),
    retrain: bool = typer.Option(False, help="Train this model here even when a checkpoint exists."),
    recompute: bool = typer.Option(False, help="Predict with the checkpoint even when its JSON holds test metrics."),
    cache: Path | None = typer.Option(Path("artifacts/imputer_peers"),
                                      help="Where fitted PyPOTS peers are kept and reused across protocols."),
    record: bool = typer.Option(False, help="Store the results in the city's models/imputer.eval.json."),
    markdown: Path | None = typer.Option(None, help="Regenerate a markdown table from all recorded results."),
    threads: int = typer.Option(2, help="CPU threads for torch."),
) -> None:
    """Run the GRIN protocol side by side: mean, interpolation, KNN, BRITS, SAITS and this model."""
    _quiet()
    import torch

    torch.set_num_threads(max(1, threads))
    from explorer.cities import load_city
    from explorer.errors import CheckpointError
    from explorer.models.imputer.evaluate import QUICK, Budget, evaluate
    from explorer.models.imputer.masks import DEFAULT_SEED
    from explorer.models.imputer.store import load_imputer

    if protocol not in ("point", "block"):
        raise typer.BadParameter("protocol must be 'point' or 'block'")
    c = load_city(city)
    budget = QUICK if quick else Budget(stcvae_steps=steps, peer_epochs=peer_epochs,
                                        peer_windows=peer_windows or None)
    trained, trained_s, trained_metrics, source = None, None, None, "trained here"
    chosen = tuple(m.strip() for m in methods.split(",") if m.strip())
    if "stcvae" in chosen and not quick and not retrain:
        try:
            trained, meta = load_imputer(c)
            trained_s = float(meta["training"]["train_s"])
            source = f"committed checkpoint ({meta['created']})"
            stored = meta.get("metrics", {})
            if not recompute and protocol in stored and meta["config"].get("mask_seed") == DEFAULT_SEED:
                trained_metrics = stored[protocol]
                source += ", test metrics from its metadata"
        except (CheckpointError, KeyError) as exc:
            typer.echo(f"no usable checkpoint, training here: {exc}", err=True)
    log = (lambda s: typer.echo(s, err=True)) if as_json else typer.echo
    t0 = time.perf_counter()
    results = evaluate(c.series, c.adjacency, protocol, seeds=seeds, budget=budget, methods=chosen,  # type: ignore[arg-type]
                       trained=trained, trained_s=trained_s, trained_metrics=trained_metrics,
                       cache_dir=None if quick else cache, log=log)
    if as_json:
        typer.echo(json.dumps({k: {m: round(v[m], 4) for m in ("mae", "mse", "mre", "train_s", "infer_s")}
                               for k, v in results.items()}, indent=2))
    else:
        for k, v in results.items():
            typer.echo(f"{k:>14}: MAE {v['mae']:.4f}  MSE {v['mse']:.3f}  MRE {v['mre']:.4f}  "
                       f"train {v['train_s']:.0f} s  infer {v['infer_s']:.1f} s")
    if record:
        path = _eval_record_path(c)
        from explorer.io import atomic_write_text

        rec = json.loads(path.read_text()) if path.is_file() else {}
        entry = rec.get(protocol, {"results": {}, "runs": {}})
        run = {"seeds": seeds, "quick": quick, "peer_epochs": budget.peer_epochs, "peer_windows": budget.peer_windows,
               "stcvae": source, "data_hash": c.data_hash, "command": _command(ctx),
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
                if "stcvae" in done:
                    parts.append(f"stcvae from {r['stcvae']}")
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
    """Fit the P10-P90 band's widening factor on the validation part; store it in the checkpoint JSON."""
    _quiet()
    import torch

    from explorer.cities import load_city
    from explorer.models.imputer.api import fit_band_scale
    from explorer.models.imputer.store import load_imputer, save_imputer

    torch.set_num_threads(max(1, threads))
    c = load_city(city)
    model, meta = load_imputer(c)
    cal = fit_band_scale(model, c.series)
    cal["command"] = f"explorer impute calibrate --city {c.slug}"
    keep = {k: v for k, v in meta.items() if k in ("metrics", "command", "training")}
    keep["config"] = {k: v for k, v in meta["config"].items() if k != "model"}
    save_imputer(model, c, {**keep, "calibration": cal})
    typer.echo(f"band scale {cal['band_scale']}: validation P10-P90 coverage {cal['val_coverage_uncalibrated']:.3f}"
               f" -> {cal['val_coverage']:.3f}")


@app.command()
def report(
    markdown: Path = typer.Option(Path("docs/imputation_results.md"), help="Where to write the table."),
) -> None:
    """Regenerate the results table from the recorded ``imputer.eval.json`` files (no computation)."""
    write_markdown(markdown)
    typer.echo(f"wrote {markdown}")
