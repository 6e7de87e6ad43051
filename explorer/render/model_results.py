"""The stored results sections of the models (docs/generator_results.md, docs/imputation_results.md, written by
the evaluation commands) for the Model card: a one-line summary in plain words, the methods' figures as a table
that fits a laptop's page (one row per measure, a column per method, what each measure means), and the rest
(settings, references, notes, smaller tables) for an expander.

Pure functions (no streamlit). A section in a format these rules do not know still reads: headers nobody
described keep their words, and a summary that cannot be found is left out rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from explorer.render.readable import markdown_parts

# (pattern of a table header, plain name with {unit}, what it means); the first match wins
_MEASURES: tuple[tuple[str, str, str], ...] = (
    # generator evaluation (held-out days)
    (r"crps per sensor-hour.*calibrated \(raw\)", "Spread-aware error per sensor-hour ({unit}), calibrated "
     "(as trained)", "CRPS: scores the whole spread of the samples against what happened, not only their middle; "
     "lower is better"),
    (r"crps normalised", "…as a share of the readings", "the same, divided by the readings (comparable between "
     "cities); lower is better"),
    (r"energy score", "Whole-day error (energy score)", "scores each generated day as a whole, every sensor "
     "together; lower is better"),
    (r"p10.p90 coverage, calibrated", "Real readings inside the P10–P90 band, calibrated (as trained)",
     "80 % is the aim: less means the band is too narrow"),
    (r"band width", "Width of the P10–P90 band ({unit})", "narrower is sharper, as long as the band still holds "
     "80 % of readings"),
    (r"discriminative", "Tell-apart score (whole days held out)", "how well a small classifier tells generated "
     "days from real ones: 0 = it cannot, 0.5 = always; lower is better"),
    (r"predictive", "Forecast error when trained on generated days", "a small forecaster trained on generated "
     "days, tested on real ones; lower is better"),
    (r"correlational", "Sensor-to-sensor correlation mismatch", "difference between real and generated "
     "correlations between sensors; lower is better"),
    (r"latency", "Time to generate 64 samples (ms)", "for a baseline (marked *): the time to draw every sample "
     "of a day"),
    # generator backtest (held-out events)
    (r"footprint crps", "Spread-aware error over the whole footprint ({unit})", "every other sensor from 2 h "
     "before to 4 h after the event, most of them untouched by it; lower is better"),
    (r"footprint mae", "Average error of the median over the footprint", "lower is better"),
    (r"crps where the episode reached", "Spread-aware error where the real event reached", "lower is better"),
    (r"crps at the origin", "Spread-aware error at the event's place", "lower is better"),
    (r"effect reproduced", "Share of the real effect reproduced", "1 = all of it, 0 = none, below 0 = a wrong "
     "effect; higher is better"),
    (r"peaks within 1 h", "Busiest hour within 1 h of the real one", "share of the sensors the event reached; "
     "higher is better"),
    (r"median peak error", "Typical error of the busiest hour (h)", "median over the sensors the event reached"),
    # imputer
    (r"mae$", "Average error ({unit})", "against readings hidden from the model; lower is better"),
    (r"mse$", "Squared error", "punishes large misses; lower is better"),
    (r"mre$", "Relative error", "error as a share of the readings; lower is better"),
    (r"crps$", "Spread-aware error (share of the readings)", "scores the spread of the fills, not only their "
     "middle; for a method with one fill it equals the relative error; lower is better"),
    (r"p10.p90 coverage$", "Hidden readings inside the P10–P90 band", "80 % is the aim"),
    (r"lag-1 corr", "Step-to-step correlation, sampled fills / real", "close to the real readings' is best"),
    (r"neighbour corr", "Correlation with neighbouring sensors, sampled fills / real", "close to the real "
     "readings' is best"),
    (r"train s$", "Training time (s)", ""),
    (r"infer s$", "Time to fill the test period (s)", "on the server's CPU"),
    (r"runs$", "Runs", "repeats averaged"),
)

# method names as the commands write them -> plain words
_METHODS: tuple[tuple[str, str], ...] = (
    (r"gan$", "This model"),
    (r"analogue_bootstrap$", "Past days replayed (baseline)"),
    (r"seasonal_noise$", "Usual profile plus noise (baseline)"),
    (r"\(a\)", "No event (baseline)"),
    (r"\(b\)", "Request painted over its reach (baseline)"),
    (r"\(c\)", "Nearest past event, rescaled (baseline)"),
    (r"\(d\)", "This model"),
    (r"reference", "Real outcome at the event's sensors (the ceiling, not a method)"),
    (r"stgar$", "This model"),
    (r"interpolation$", "Straight line across the gap"),
    (r"knn$", "Nearest sensors (kNN)"),
    (r"mean$", "Sensor's average"),
    (r"brits$", "BRITS (neural network)"),
    (r"saits$", "SAITS (neural network)"),
)
OURS = "This model"
PROTOCOLS = {"point": "Scattered missing readings", "block": "Long gaps (blocks missing)"}


@dataclass
class ResultsView:
    """A results section as the Model card draws it."""

    heading: str = ""  # what was measured on, in words ('Held out 2014-07-02 to 2015-02-15 (229 days, …)')
    summary: str = ""  # one plain sentence ('' when the figures it needs are not in the section)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)  # (caption, table) shown
    details: list[str | pd.DataFrame] = field(default_factory=list)  # prose and tables for the expander


def plain_method(name: str) -> str:
    s = str(name).strip()
    for pattern, plain in _METHODS:
        if re.match(pattern, s, re.I):
            return plain
    return s


def plain_measure(header: str, unit: str = "") -> tuple[str, str]:
    """A table header in words and what it means (a header nobody described keeps its words, no arrows)."""
    h = re.sub(r"\s*[↓↑]\s*$", "", str(header)).strip()
    for pattern, plain, meaning in _MEASURES:
        if re.search(pattern, h, re.I):
            return plain.format(unit=unit).replace(" ()", ""), meaning
    return h, ""


def methods_table(table: pd.DataFrame, unit: str = "") -> pd.DataFrame:
    """A table with one row per method and a column per measure, turned: one row per measure (in plain words,
    index 'Measure'), a column per method (plain names, this model first), and 'What it means'. Narrow enough
    for a laptop's page, where ten measures side by side are not. Cells stay as stored ('nan' shows as '—')."""
    t = table.set_index(table.columns[0])
    names = [plain_method(m) for m in t.index]
    if len(set(names)) < len(names):  # two rows would share a column name: keep the stored names
        names = [str(m) for m in t.index]
    t.index = names
    t = t.T
    order = [c for c in t.columns if c == OURS] + [c for c in t.columns if c != OURS]
    t = t[order].replace({"nan": "—", "": "—"})
    plain = [plain_measure(h, unit) for h in t.index]
    t.index = pd.Index([p for p, _ in plain], name="Measure")
    t.columns.name = None
    t["What it means"] = [m for _, m in plain]
    return t


def _number(cell: object) -> float | None:
    m = re.search(r"[-+]?\d[\d,]*(?:\.\d+)?", str(cell))
    return float(m.group(0).replace(",", "")) if m else None


def _column(table: pd.DataFrame, pattern: str) -> str | None:
    return next((c for c in table.columns if re.search(pattern, str(c), re.I)), None)


def _compare(table: pd.DataFrame, pattern: str, ours: str, higher_better: bool = False
             ) -> tuple[float, float, str] | None:
    """(ours, best other method's, its plain name) in the column matching ``pattern``; None when missing."""
    col = _column(table, pattern)
    if col is None:
        return None
    rows = {plain_method(m): _number(v) for m, v in zip(table.iloc[:, 0], table[col], strict=True)
            if not str(m).lower().startswith("reference")}
    mine = rows.pop(ours, None)
    others = {k: v for k, v in rows.items() if v is not None}
    if mine is None or not others:
        return None
    best = (max if higher_better else min)(others, key=others.__getitem__)
    return mine, others[best], best


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.3g}" if abs(v) < 10 else f"{v:,.1f}"


def _name(plain: str) -> str:
    """A method's plain name inside a sentence: '(baseline)' dropped, lower case unless it starts an acronym."""
    s = plain.replace(" (baseline)", "")
    return s if s[1:2].isupper() else s[:1].lower() + s[1:]


def _pct(v: float) -> str:
    return f"{v:.0%}".replace("%", " %")


def _than(mine: float, best: float, higher_better: bool = False) -> str:
    better = mine > best if higher_better else mine < best
    return "better than" if better else "about the same as" if mine == best else "worse than"


def _heading(parts: list, slug: str) -> str:
    """The section's own heading without the city's slug, '..' as 'to'; removed from ``parts``."""
    if parts and isinstance(parts[0], str) and parts[0].lstrip().startswith("#"):
        first, _, rest = parts[0].partition("\n")
        parts[0] = rest.strip()
        if not parts[0]:
            parts.pop(0)
        text = re.sub(rf"^#+\s*{re.escape(slug)}\s*(—|-|:)?\s*", "", first.strip()).replace(" .. ", " to ")
        return text[:1].upper() + text[1:]
    return ""


def _split(parts: list) -> tuple[list[pd.DataFrame], list[str | pd.DataFrame]]:
    """The tables that compare methods (first column 'method') and everything else, in order."""
    tables = [p for p in parts if isinstance(p, pd.DataFrame) and str(p.columns[0]).strip().lower() == "method"]
    return tables, [p for p in parts if not any(p is t for t in tables)]


def _opened(section: str, slug: str) -> tuple[ResultsView, list[pd.DataFrame]]:
    """A results section as a view with its heading and details, and the tables comparing methods (none: every
    part is a detail)."""
    parts = markdown_parts(section)
    view = ResultsView(heading=_heading(parts, slug))
    tables, view.details = _split(parts)
    if not tables:
        view.details = parts
    return view, tables


def evaluation_view(section: str, slug: str, unit: str) -> ResultsView:
    """The generator on held-out days against its baselines."""
    view, tables = _opened(section, slug)
    if not tables:
        return view
    main = tables[0]
    crps = _compare(main, r"^crps per sensor-hour", OURS)
    cov = _column(main, r"coverage")
    mine = next((r for r in main.itertuples(index=False) if plain_method(r[0]) == OURS), None)
    if crps:
        mine_v, best_v, best = crps
        text = (f"On days it never saw, this model's typical spread-aware error at a sensor is {_fmt(mine_v)} "
                f"{unit}, {_than(mine_v, best_v)} the best simple baseline ({_name(best)}: {_fmt(best_v)})")
        if cov and mine is not None and (c := _number(mine[list(main.columns).index(cov)])) is not None:
            text += f"; {_pct(c)} of real readings fall inside its P10–P90 band (80 % is the aim)"
        view.summary = text + "."
    view.tables = [("", methods_table(main, unit))]
    view.details += [methods_table(t, unit) for t in tables[1:]]
    return view


def backtest_view(section: str, slug: str, unit: str) -> ResultsView:
    """The generator replaying held-out events from their origin, against the baselines and the real outcome."""
    view, tables = _opened(section, slug)
    if not tables:
        return view
    main = tables[0]
    reached = _compare(main, r"effect reproduced", OURS, higher_better=True)
    foot = _compare(main, r"^footprint crps", OURS)
    bits = []
    if reached:
        mine, best_v, best = reached
        bits.append(f"where the real event reached, this model reproduces {_pct(mine)} of its effect, "
                    f"{_than(mine, best_v, True)} the best baseline ({_name(best)}: {_pct(best_v)})")
    if foot:
        mine, best_v, best = foot
        pct = abs(mine - best_v) / best_v if best_v else 0.0
        bits.append(f"over every other sensor in the hours around it, its error is {pct:.1%} "
                    f"{'lower' if mine < best_v else 'higher'} than the best baseline's ({_name(best)})"
                    .replace("%", " %"))
    if bits:
        view.summary = "Replayed from the place, day, start, duration and size alone: " + "; ".join(bits) + "."
    view.tables = [("", methods_table(main, unit))]
    view.details += [methods_table(t, unit) for t in tables[1:]]
    return view


def imputer_view(section: str, slug: str, unit: str) -> ResultsView:
    """The imputer against its peers, one table per way readings were hidden (scattered, long gaps)."""
    parts = markdown_parts(section)
    view = ResultsView(heading=_heading(parts, slug))
    tables = [p for p in parts if isinstance(p, pd.DataFrame)]
    view.details = [p for p in parts if isinstance(p, str)]
    if not tables:
        return view
    table = tables[0]
    if str(table.columns[0]).strip().lower() != "protocol":
        view.tables = [("", methods_table(table, unit))] if str(table.columns[1]).lower() == "method" else []
        return view
    bits = []
    for protocol, rows in table.groupby(table.columns[0], sort=False):
        rows = rows.drop(columns=table.columns[0]).reset_index(drop=True)
        name = PROTOCOLS.get(str(protocol), str(protocol))
        view.tables.append((name, methods_table(rows, unit)))
        mae = _compare(rows, r"^mae$", OURS)
        if mae:
            mine, best_v, best = mae
            bits.append(f"{name.split(' (')[0].lower()}: {_fmt(mine)} {unit} off on average, "
                        f"{_than(mine, best_v)} the best other method ({_name(best)}: {_fmt(best_v)})")
    if bits:
        view.summary = "On readings hidden from it: " + "; ".join(bits) + "."
    return view
