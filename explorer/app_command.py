"""``explorer app``: start the Streamlit app, warming the default city's caches in the background.

Imports nothing heavy first (the warm-up thread loads the geo stack, the city and the models once the server is
up); the console script (:mod:`explorer.serve`) runs it without loading the rest of the CLI."""

from __future__ import annotations

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
