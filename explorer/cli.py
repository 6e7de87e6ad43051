"""One CLI for cities, models and benchmarks: ``explorer --help``."""

from __future__ import annotations

import importlib

import typer

from explorer.cities.cli import app as city_app
from explorer.serve import run_app

app = typer.Typer(help="Urban what-if explorer: cities, imputation, scenario generation.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(city_app, name="city", help="Check and import city folders.")


def _optional(module: str, name: str, help_text: str) -> None:
    """Register a sub-command group whose module may not exist yet in a partial checkout."""
    try:
        sub = importlib.import_module(module).app
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return
        raise
    app.add_typer(sub, name=name, help=help_text)


_optional("explorer.models.imputer.cli", "impute", "Train and evaluate the generative imputer.")
_optional("explorer.models.generator.cli", "generate", "Train, evaluate and run the scenario generator.")
_optional("explorer.voice.cli", "voice", "Plain-language requests -> scenarios: parse, evaluate.")
_optional("explorer.sweep.cli", "sweep", "Run a grid of scenarios locally or on a Ray cluster.")
_optional("explorer.bench.cli", "bench", "Benchmarks: generation scaling, interaction, cold start, payload, sessions.")


app.command("app")(run_app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
