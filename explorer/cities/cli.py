"""``explorer city check|add|list|synth``."""

from __future__ import annotations

from pathlib import Path

import typer

from explorer.cities.city import list_cities, load_city
from explorer.cities.importer import add_city
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
    layout: str = typer.Option("wide", help="'wide' (one column per sensor) or 'long' (time, id, value)."),
    time_column: str = typer.Option("timestamp"),
    series_id_column: str = typer.Option("sensor_id", help="Long layout: the sensor id column."),
    value_column: str = typer.Option("value", help="Long layout: the value column."),
    value_name: str = typer.Option(..., help="What is measured, e.g. 'Traffic speed'."),
    unit: str = typer.Option(..., help="Unit, e.g. 'mph' or 'people/hour'."),
    domain: str = typer.Option("other", help="traffic_speed, traffic_flow, pedestrian_count, energy or other."),
    roads: Path = typer.Option(None), zones: Path = typer.Option(None),
    zone_name_column: str = typer.Option(None), buildings: Path = typer.Option(None),
) -> None:
    """Import your own files into a new city folder (nothing is written if validation fails)."""
    try:
        city = add_city(slug=slug, name=name, timezone=timezone, sensors=sensors, sensor_id_column=sensor_id_column,
                        sensor_label_column=sensor_label_column, series=series, layout=layout,
                        time_column=time_column, series_id_column=series_id_column, value_column=value_column,
                        value_name=value_name, unit=unit, domain=domain, roads=roads, zones=zones,
                        zone_name_column=zone_name_column, buildings=buildings)
    except ExplorerError as exc:
        _fail(exc)
    typer.echo(f"added {city.name} at {city.folder} ({city.series.shape[1]} sensors)")


@app.command()
def synth(
    sensors: int = typer.Option(10_000, "--sensors", min=2, help="Number of synthetic sensors."),
    source: str = typer.Option("los-angeles", "--source", help="Bundled city to resample from."),
    out: Path = typer.Option(..., "--out", help="Folder to create the city in (e.g. a cities folder)."),
    seed: int = typer.Option(0, help="Random seed (same seed, same city)."),
    days: int = typer.Option(None, help="Days of hourly history (default: sensors x hours under 10 million)."),
    generator: bool = typer.Option(True, help="Also derive a generator from the source city's checkpoint."),
) -> None:
    """Build a large synthetic city resampled from a bundled one, with a derived generator (no training)."""
    from explorer.cities.synthetic import make_synthetic_city

    try:
        folder = make_synthetic_city(source, sensors, seed, out, days=days, with_generator=generator)
    except ExplorerError as exc:
        _fail(exc)
    except FileExistsError as exc:
        typer.secho(f"error: {exc}; choose another --out or --seed", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {folder} ({sensors} sensors from {source}); use it with EXPLORER_CITIES_DIR={out}")
