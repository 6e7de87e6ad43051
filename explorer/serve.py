"""``explorer app``: start the Streamlit app, warming the default city's caches in the background.

Kept apart from the rest of the CLI so that starting the server imports nothing heavy first (the warm-up
thread loads the geo stack, the city and the models once the server is up)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def run_app(
    port: int = typer.Option(8501, help="Port to serve on."),
    address: str = typer.Option("127.0.0.1", help="Address to listen on (127.0.0.1: this machine only)."),
    warm: bool = typer.Option(True, help="Load the default city and its models into the shared caches in the "
                                         "background while the server starts."),
) -> None:
    """Start the app (``streamlit run app.py``), warming the default city's caches in the background."""
    script = Path(__file__).resolve().parent.parent / "app.py"
    if not script.is_file():
        raise typer.BadParameter(f"{script} not found: run the app from a source checkout (see README)")
    from streamlit.web import cli as streamlit_cli

    if warm:
        from explorer.ui.warmup import warm_in_background

        warm_in_background()
    streamlit_cli.main(["run", str(script), "--server.address", address, "--server.port", str(port),
                        "--browser.gatherUsageStats", "false"], prog_name="streamlit")


def entry() -> None:
    """The ``explorer`` console script: ``explorer app`` starts the server at once (the full CLI imports the geo
    stack first); anything else is :func:`explorer.cli.main`."""
    if sys.argv[1:2] == ["app"]:
        one = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        one.command()(run_app)
        typer.main.get_command(one)(sys.argv[2:], prog_name="explorer app")
        return
    from explorer.cli import main

    main()


if __name__ == "__main__":
    entry()
