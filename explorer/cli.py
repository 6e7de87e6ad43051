"""One CLI for cities, models and benchmarks: ``explorer --help``."""

from __future__ import annotations

import typer

from explorer.app_command import run_app
from explorer.bench.cli import app as bench_app
from explorer.cities.cli import app as city_app
from explorer.models.generator.cli import app as generate_app
from explorer.models.imputer.cli import app as impute_app
from explorer.sweep.cli import app as sweep_app
from explorer.voice.cli import app as voice_app

app = typer.Typer(help="Urban what-if explorer: cities, imputation, scenario generation.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(city_app, name="city", help="Check and import city folders.")
app.add_typer(impute_app, name="impute", help="Train and evaluate the generative imputer.")
app.add_typer(generate_app, name="generate", help="Train, evaluate and run the scenario generator.")
app.add_typer(voice_app, name="voice", help="Plain-language requests -> scenarios: parse, evaluate.")
app.add_typer(sweep_app, name="sweep", help="Run a grid of scenarios locally or on a Ray cluster.")
app.add_typer(bench_app, name="bench", help="Benchmarks: generation scaling, interaction, cold start, payload, "
                                                    "sessions.")


app.command("app")(run_app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
