"""``explorer voice``: evaluate the plain-language parser, or parse one request."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

app = typer.Typer(help="Plain-language requests -> scenarios; workshop input.", no_args_is_help=True,
                  pretty_exceptions_enable=False)


@app.command("eval")
def eval_cmd(city: str = typer.Option(..., "--city", help="City slug, e.g. los-angeles"),
             path: Path | None = typer.Option(None, help="A .jsonl evaluation set (default: the bundled one)"),
             as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON"),
             llm: bool = typer.Option(False, help="Use the configured LLM endpoint first (EXPLORER_LLM_URL)"),
             show_misses: bool = typer.Option(False, "--misses", help="List the requests with a wrong field")) -> None:
    """Field-level accuracy of the parser on a city's evaluation set."""
    from explorer.voice.evaluate import evaluate

    rep = evaluate(city, path=path, llm=llm)
    if as_json:
        typer.echo(json.dumps(rep.as_dict(), indent=2, default=str))
        return
    typer.echo(f"{city}: {rep.n_requests} requests, field accuracy {100 * rep.accuracy:.1f} %")
    for k, v in rep.as_dict()["fields"].items():
        typer.echo(f"  {k:<12} {v['correct']:>3}/{v['total']:<3} {100 * v['accuracy']:5.1f} %")
    typer.echo(f"  parsers: {dict(rep.parsers)}")
    if show_misses:
        for m in rep.misses:
            typer.echo(f"- {m['text']!r}: wrong {m['wrong']}; got {m['got']} {m['reason'][:60]}")


@app.command("parse")
def parse_cmd(text: str, city: str = typer.Option(..., "--city"),
              today: str | None = typer.Option(None, help="Reference date YYYY-MM-DD (default: today)"),
              llm: bool = typer.Option(True, help="Try the configured LLM endpoint first")) -> None:
    """Parse one request and print the scenario (or the refusal) as JSON."""
    from explorer.voice.parser import parse

    res = parse(text, city, dt.date.fromisoformat(today) if today else None, use_llm=llm)
    out = {"parser": res.parser, "notes": res.notes, "place": res.place_label}
    out |= {"scenario": json.loads(res.scenario.to_json())} if res.scenario else {"refusal": res.refusal,
                                                                                   "reason": res.reason}
    typer.echo(json.dumps(out, indent=2))


if __name__ == "__main__":
    app()
