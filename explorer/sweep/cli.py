"""``explorer sweep``: run a grid of scenarios locally or on a Ray cluster and write one Parquet table."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="Run a grid of scenarios locally or on a Ray cluster.", invoke_without_command=True, no_args_is_help=True
)


@app.callback()
def sweep(
    city: str = typer.Option(..., "--city", help="city slug or folder"),
    grid: Path = typer.Option(..., "--grid", help="grid file (.json or .toml), see docs/sweeps.md"),
    out: Path = typer.Option(..., "--out", help="output .parquet (one row per scenario)"),
    workers: int | None = typer.Option(None, "--workers", min=1, help="processes, or CPUs of a local Ray"),
    ray: str | None = typer.Option(None, "--ray", help="Ray cluster address (ray://host:10001, auto), or 'local'"),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda"),
    backend: str | None = typer.Option(None, "--backend", help="serial, process or ray (default: from --ray)"),
    chunk_size: int | None = typer.Option(None, "--chunk-size", min=1, help="scenarios per task"),
    checkpoint: Path | None = typer.Option(None, help="generator checkpoint without suffix (default: the city's)"),
    progress: bool = typer.Option(True, help="show a progress bar"),
) -> None:
    """Run every combination of the grid and write per-scenario headline numbers as Parquet."""
    from explorer.errors import ExplorerError
    from explorer.scenarios.schema import ScenarioError
    from explorer.sweep.grid import load_grid
    from explorer.sweep.run import run_sweep

    if out.suffix.lower() != ".parquet":
        typer.echo(f"error: --out must end in .parquet, got {out.name!r}", err=True)
        raise typer.Exit(2)
    stats: dict = {}
    try:
        g = load_grid(grid)
        df = run_sweep(
            city,
            g,
            backend=backend,  # type: ignore[arg-type]
            workers=workers,
            ray_address=ray,
            device=device,
            out=out,
            checkpoint=checkpoint,
            chunk_size=chunk_size,
            progress=progress,
            stats=stats,
        )
    except (ExplorerError, ScenarioError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    rate = stats["scenarios"] / max(stats["seconds"], 1e-9)
    typer.echo(
        f"wrote {out}: {len(df)} scenarios x {len(df.columns)} columns in {stats['seconds']:.1f} s "
        f"({rate:.1f} scenarios/s; {stats['backend']}, {stats['workers']} worker(s), {stats['device']})"
    )
