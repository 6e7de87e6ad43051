"""``explorer voice``: evaluate the plain-language parser, or parse one request."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

app = typer.Typer(help="Plain-language requests -> scenarios; workshop input.", no_args_is_help=True,
                  pretty_exceptions_enable=False)


@app.command("eval")
def eval_cmd(city: str = typer.Option(..., "--city", help="City slug (a folder under data/cities)"),
             set_name: list[str] = typer.Option([], "--set", help="main, holdout, holdout2 or paraphrase "
                                                "(repeatable; default: every set the city has)"),
             path: Path | None = typer.Option(None, help="Another .jsonl evaluation set"),
             as_json: bool = typer.Option(False, "--json", help="Print the full reports as JSON"),
             llm: bool = typer.Option(False, help="Use the configured LLM endpoint first (EXPLORER_LLM_URL)"),
             show_misses: bool = typer.Option(False, "--misses", help="List the requests with a wrong field")) -> None:
    """Field-level and exact-scenario accuracy, refusals and flipped directions on a city's evaluation sets."""
    from explorer.voice.evaluate import evaluate, evaluate_all, set_path

    try:
        if path is not None:
            reps = [evaluate(city, path=path, name=path.name, llm=llm)]
        elif set_name:
            reps = [evaluate(city, path=set_path(city, n), name=n, llm=llm) for n in set_name]
        else:
            reps = evaluate_all(city, llm=llm)
    except (ValueError, OSError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in reps], indent=2, default=str))
        return
    for rep in reps:
        rf = rep.refusals
        typer.echo(f"{city} / {rep.name}: {rep.n_requests} requests, field accuracy {100 * rep.accuracy:.1f} %, "
                   f"exact scenarios {100 * rep.exact_accuracy:.1f} % ({rep.exact}/{rep.n_requests})")
        for k, v in rep.as_dict()["fields"].items():
            typer.echo(f"  {k:<12} {v['correct']:>3}/{v['total']:<3} {100 * v['accuracy']:5.1f} %")
        typer.echo(f"  refusals: {rep.expected_refusals} expected; right {rf['right']}, other reason "
                   f"{rf['other_reason']}, missed {rf['missed']}; wrong refusals {rf['wrong']}; "
                   f"flipped directions {rep.flipped}")
        typer.echo(f"  parsers: {dict(rep.parsers)}; {1000 * rep.seconds / max(rep.n_requests, 1):.1f} ms/request")
        if show_misses:
            for m in rep.misses:
                typer.echo(f"  - {m['text']!r}: wrong {m['wrong']}; got {m['got']} {m['reason'][:60]}")


@app.command("table")
def table_cmd(write: bool = typer.Option(False, "--write", help="Write it into docs/voice.md"),
              llm: bool = typer.Option(False, help="Score the configured LLM endpoint instead")) -> None:
    """The accuracy table of every bundled city's evaluation sets (as in docs/voice.md)."""
    from explorer.settings import REPO_ROOT
    from explorer.voice.evaluate import EVAL_DIR, docs_table, write_docs

    slugs = sorted({p.name.split(".")[0] for p in EVAL_DIR.glob("*.jsonl")})
    table = docs_table(slugs, llm=llm)
    if write:
        write_docs(REPO_ROOT / "docs" / "voice.md", table)
        typer.echo("docs/voice.md updated")
    typer.echo(table)


@app.command("parse")
def parse_cmd(text: str, city: str = typer.Option(..., "--city"),
              today: str | None = typer.Option(None, help="Reference date YYYY-MM-DD (default: today)"),
              llm: bool = typer.Option(True, help="Try the configured LLM endpoint first")) -> None:
    """Parse one request and print the scenario (or the refusal) as JSON."""
    from explorer.voice.parser import parse

    res = parse(text, city, dt.date.fromisoformat(today) if today else None, use_llm=llm)
    out = {"parser": res.parser, "notes": res.notes, "place": res.place_label,
           "alternatives": [a[1] for a in res.alternatives]}
    out |= {"scenario": json.loads(res.scenario.to_json())} if res.scenario else {"refusal": res.refusal,
                                                                                   "reason": res.reason}
    typer.echo(json.dumps(out, indent=2))


if __name__ == "__main__":
    app()
