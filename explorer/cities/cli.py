"""``explorer city check|add|train|list|synth``."""

from __future__ import annotations

from pathlib import Path

import typer

from explorer.cities.city import list_cities, load_city
from explorer.cities.importer import add_city
from explorer.cities.training import TrainPlan
from explorer.errors import ExplorerError

app = typer.Typer(no_args_is_help=True)


def _fail(exc: ExplorerError) -> None:
    typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command("list")
def list_() -> None:
    """List the bundled and imported cities."""
    for slug in list_cities():
        typer.echo(slug)


@app.command()
def check(path: Path = typer.Argument(..., help="A city folder (with city.toml) or a bundled slug.")) -> None:
    """Validate a city folder: manifest, layers, series, ids, frequency."""
    try:
        city = load_city(path if path.exists() else str(path))
    except ExplorerError as exc:
        _fail(exc)
    s = city.series
    typer.echo(f"{city.name} ({city.slug}): OK")
    typer.echo(f"  sensors: {s.shape[1]}  steps: {s.shape[0]}  every {city.freq}  "
               f"{s.index[0]} .. {s.index[-1]}  missing: {float(s.isna().mean().mean()):.1%}")
    layers = ", ".join(r for r in ("zones", "roads", "buildings") if getattr(city, r) is not None) or "none"
    typer.echo(f"  other layers: {layers}")
    days = city.holidays.holidays_between(s.index[0], s.index[-1])
    typer.echo(f"  public holidays: {city.holidays.source}; {len(days)} in the history")
    from explorer.cities.training import estimate_minutes, missing_models

    missing = missing_models(city)
    typer.echo("  models: " + ("generator and imputer checkpoints present" if not missing else
                               f"no {' or '.join(missing)} yet: run 'explorer city train {city.slug}' (about "
                               f"{sum(estimate_minutes(city).values()):.0f} min on 2 cores)"))
    for w in city.warnings:
        typer.secho(f"  warning: {w}", fg=typer.colors.YELLOW)


@app.command()
def add(
    slug: str = typer.Option(..., help="Folder name: lower-case letters, digits and '-'."),
    name: str = typer.Option(..., help="Display name."),
    timezone: str = typer.Option(..., help="IANA time zone, e.g. Europe/Paris."),
    sensors: Path = typer.Option(..., help="Sensor points (GeoJSON, GeoPackage, GeoParquet, zipped Shapefile)."),
    sensor_id_column: str = typer.Option("sensor_id", help="Column of the sensor layer that the series ids match."),
    sensor_label_column: str = typer.Option(None, help="Column with a readable sensor name."),
    series: list[Path] = typer.Option(..., help="Series file(s), CSV or Parquet; repeat for several."),
    layout: str = typer.Option("auto", help="'auto' (long when most times repeat), 'wide' (one column per sensor) "
                               "or 'long' (time, id, value)."),
    time_column: str = typer.Option(None, help="Time column (default: 'timestamp', else the one holding times)."),
    series_id_column: str = typer.Option(None, help="Long layout: the sensor id column (default: guessed)."),
    value_column: str = typer.Option(None, help="Long layout: the value column (default: guessed)."),
    value_name: str = typer.Option(..., help="What is measured, e.g. 'Traffic speed'."),
    unit: str = typer.Option(..., help="Unit, e.g. 'mph' or 'people/hour'."),
    domain: str = typer.Option("other", help="traffic_speed, traffic_flow, pedestrian_count, energy or other."),
    roads: Path = typer.Option(None), zones: Path = typer.Option(None),
    zone_name_column: str = typer.Option(None), buildings: Path = typer.Option(None),
    holidays_country: str = typer.Option(None, help="Public holidays: ISO country code (default: the time zone's)."),
    holidays_subdivision: str = typer.Option(None, help="Public holidays: state/region code, e.g. VIC or CA."),
    holidays_file: Path = typer.Option(None, help="Extra public holidays: CSV date,name."),
    places: Path = typer.Option(None, help="Named places for Ask the city: CSV name,lat,lon,aliases."),
    presets: Path = typer.Option(None, help="Preset tour: JSON list of {title, story, scenario}."),
    train: bool = typer.Option(False, "--train", help="Then train the models (as 'explorer city train SLUG')."),
) -> None:
    """Import your own files into a new city folder (nothing is written if validation fails)."""

    try:
        result = add_city(slug=slug, name=name, timezone=timezone, sensors=sensors,
                          sensor_id_column=sensor_id_column, sensor_label_column=sensor_label_column, series=series,
                          layout=layout, time_column=time_column, series_id_column=series_id_column,
                          value_column=value_column, value_name=value_name, unit=unit, domain=domain, roads=roads,
                          zones=zones, zone_name_column=zone_name_column, buildings=buildings,
                          holidays_country=holidays_country, holidays_subdivision=holidays_subdivision,
                          holidays_file=holidays_file, places=places, presets=presets)
    except ExplorerError as exc:
        _fail(exc)
    city = result.city
    typer.echo(f"added {city.name} at {city.folder} ({city.series.shape[1]} sensors, {len(city.series):,} steps "
               f"of {city.freq.total_seconds() / 60:g} min)")
    for note in result.notes:
        typer.secho(f"  note: {note}", fg=typer.colors.YELLOW)
    if train:
        _train(city, TrainPlan())
        return
    from explorer.cities.training import estimate_minutes

    minutes = sum(estimate_minutes(city).values())
    typer.echo(f"next: explorer city train {city.slug}   (trains its models, about {minutes:.0f} min on 2 cores)")


def _train(city, plan) -> None:  # noqa: ANN001
    from explorer.cities.training import train_city

    try:
        train_city(city, plan, say=typer.echo)
    except ExplorerError as exc:
        _fail(exc)


@app.command("train")
def train_cmd(
    city: str = typer.Argument(..., help="A city slug (or a city folder)."),
    minutes: float = typer.Option(12.0, help="Time budget of both training loops together (3/4 generator)."),
    generator_steps: int = typer.Option(3000, help="Generator steps at most (the budget may stop it earlier)."),
    imputer_steps: int = typer.Option(3000, help="Imputer steps at most (the budget may stop it earlier)."),
    only: str = typer.Option(None, help="Train only 'generator' or 'imputer'."),
    threads: int = typer.Option(1, help="CPU threads (1 is fastest on a busy or 2-core machine: "
                                "docs/performance.md)."),
    evaluate: bool = typer.Option(True, help="Check each model briefly after training."),
    seed: int = typer.Option(0, help="Training seed."),
) -> None:
    """Train a city's scenario generator and imputer, check them, and write their checkpoints."""
    from explorer.cities.training import KINDS

    if only is not None and only not in KINDS:
        typer.secho(f"error: --only must be one of {', '.join(KINDS)}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    try:
        c = load_city(Path(city) if Path(city).is_dir() and "/" in city else city)
    except ExplorerError as exc:
        _fail(exc)
    plan = TrainPlan(minutes=minutes, generator_steps=generator_steps, imputer_steps=imputer_steps,
                     threads=threads, kinds=(only,) if only else KINDS, evaluate=evaluate, seed=seed)
    _train(c, plan)


@app.command()
def synth(
    sensors: int = typer.Option(10_000, "--sensors", min=2, help="Number of synthetic sensors."),
    source: str = typer.Option(None, "--source", help="City to resample from (default: the default city)."),
    out: Path = typer.Option(..., "--out", help="Folder to create the city in (e.g. a cities folder)."),
    seed: int = typer.Option(0, help="Random seed (same seed, same city)."),
    days: int = typer.Option(None, help="Days of hourly history (default: sensors x hours under 10 million)."),
    generator: bool = typer.Option(True, help="Also derive a generator from the source city's checkpoint."),
) -> None:
    """Build a large synthetic city resampled from a bundled one, with a derived generator (no training)."""
    from explorer.cities.synthetic import make_synthetic_city
    from explorer.settings import get_settings

    source = source or get_settings().default_city
    try:
        folder = make_synthetic_city(source, sensors, seed, out, days=days, with_generator=generator)
    except ExplorerError as exc:
        _fail(exc)
    except FileExistsError as exc:
        typer.secho(f"error: {exc}; choose another --out or --seed", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {folder} ({sensors} sensors from {source}); use it with EXPLORER_CITIES_DIR={out}")
