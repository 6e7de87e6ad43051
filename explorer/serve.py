"""The ``explorer`` console script: ``explorer app`` starts the server at once (:mod:`explorer.app_command`);
anything else is the full CLI (:mod:`explorer.cli`, which imports the geo stack first)."""

from __future__ import annotations

import sys

import typer

from explorer.app_command import run_app


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
