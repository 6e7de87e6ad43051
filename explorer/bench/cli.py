"""``explorer bench``: every figure as a ratio or percentile measured against its reference in the same run."""

from __future__ import annotations

import json
import math
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import typer

from explorer.bench.common import BenchUnavailable, machine

SECTIONS = ("generation", "interaction", "coldstart", "payload", "concurrency")
app = typer.Typer(help="Benchmarks: generation scaling, interaction, cold start, payload, concurrency.",
                  pretty_exceptions_enable=False)


def _parse_list(text: str | None, allowed: tuple[str, ...]) -> list[str]:
    if not text:
        return list(allowed)
    wanted = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in wanted if s not in allowed]
    if bad:
        raise typer.BadParameter(f"unknown section(s) {', '.join(bad)}; choose from {', '.join(allowed)}")
    return wanted


def _finite(obj: Any) -> Any:
    """NaN / inf -> None, so the JSON is strict."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def _run_section(res: dict[str, Any], only: list[str], name: str, fn, log=None) -> None:
    """Run one section into ``res``, stamped with when and under what load it was measured; a section that cannot
    run here says why, a failed one says how it failed (the others still run)."""
    if log:
        log(f"[bench] {name} ...")
    t = time.perf_counter()
    now = machine()
    stamp = {"time_utc": now["time_utc"], "load_avg_1m": now["load_avg_1m"], "cpu_count": now["cpu_count"]}
    try:
        out = fn()
    except BenchUnavailable as exc:
        out = {"skipped": str(exc)}
    except Exception as exc:  # a failed section is reported, the others still run
        out = {"error": f"{type(exc).__name__}: {exc}"}
    if isinstance(out, dict) and "interaction" in out and "payload" in out:
        for key in ("interaction", "payload"):
            if key in only:
                res[key] = {**out[key], "measured": stamp}
    else:
        res[name] = {**out, "measured": stamp}
    if log:
        log(f"[bench] {name} done in {time.perf_counter() - t:.0f} s")


def run_sections(only: list[str], quick: bool, sizes: tuple[int, ...] | None = None, repeats: int | None = None,
                 sessions: int | None = None, duration: float | None = None, log=None) -> dict[str, Any]:
    """Run the chosen sections in a fixed order; a section that cannot run here says why instead."""
    from explorer.bench import generation

    res: dict[str, Any] = {"machine": machine(), "quick": quick, "sections": only}

    def section(name: str, fn) -> None:
        _run_section(res, only, name, fn, log)

    if "generation" in only:
        gen_sizes = sizes or (generation.QUICK_SIZES if quick else generation.SIZES)
        section("generation", lambda: generation.run(sizes=gen_sizes, calls=3 if quick else 10))
    if "interaction" in only or "payload" in only:
        from explorer.bench import browser

        section("interaction+payload", lambda: browser.interaction_and_payload(repeats or (4 if quick else 15)))
        if "interaction+payload" in res:  # skipped or failed: both sections say so
            err = res.pop("interaction+payload")
            for key in ("interaction", "payload"):
                if key in only:
                    res[key] = err
    if "coldstart" in only:
        from explorer.bench import browser

        section("coldstart", lambda: browser.cold_start(1 if quick else 3))
    if "concurrency" in only:
        from explorer.bench import concurrency

        n = sessions or (3 if quick else 30)
        section("concurrency", lambda: concurrency.run(n, duration_s=duration or (10.0 if quick else 90.0)))
    res["machine_end"] = machine()
    return res


@app.callback(invoke_without_command=True)
def bench(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object with every figure."),
    only: str = typer.Option(None, "--only", help=f"Comma-separated sections: {','.join(SECTIONS)}."),
    quick: bool = typer.Option(False, "--quick", help="Small sizes and few repeats (a smoke run, not a baseline)."),
    markdown: Path = typer.Option(None, "--markdown", help="Write/replace the generated table in this file "
                                  "(e.g. docs/performance.md); the rest of the file is kept."),
    sizes: str = typer.Option(None, "--sizes", help="Synthetic city sizes, e.g. 200,2000 (default "
                              "200,2000,10000,50000; --quick: 200,2000)."),
    repeats: int = typer.Option(None, "--repeats", help="Slider presses per page (default 15; --quick 4)."),
    sessions: int = typer.Option(None, "--sessions", help="Concurrent sessions (default 30; --quick 3)."),
    duration: float = typer.Option(None, "--duration", help="Seconds per concurrency run (default 90; --quick 10)."),
) -> None:
    """Run the benchmarks; print ratios and percentiles (never a bare wall-clock claim)."""
    chosen = _parse_list(only, SECTIONS)
    try:
        size_list = tuple(int(s) for s in sizes.split(",") if s.strip()) if sizes else None
    except ValueError as exc:
        raise typer.BadParameter(f"--sizes takes whole numbers separated by commas, got {sizes!r}") from exc
    res = run_sections(chosen, quick, size_list, repeats, sessions, duration,
                       log=lambda m: print(m, file=sys.stderr, flush=True))
    res = _finite(res)
    if markdown is not None:
        from explorer.bench.report import markdown as render
        from explorer.bench.report import with_kept_sections, write_section

        cmd = "explorer bench " + " ".join(shlex.quote(a) for a in sys.argv[2:])
        write_section(markdown, render(with_kept_sections(res, markdown, SECTIONS), cmd.strip()))
    if json_out:
        print(json.dumps(res, indent=2))
    else:
        from explorer.bench.report import targets

        for target, value, verdict in targets(res):
            print(f"{verdict.strip('*'):>14}  {target}: {value}")
        for name in chosen:
            sec = res.get(name, {})
            if "skipped" in sec or "error" in sec:
                print(f"{'not measured':>14}  {name}: {sec.get('skipped') or sec.get('error')}")
    if any("error" in res.get(name, {}) for name in chosen):
        raise typer.Exit(1)
