"""Guess how a user's series file is laid out: its time column, and wide (a column per sensor) or long (one row
per time and sensor: time, id, value). What cannot be guessed safely is asked for with the exact option to add.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from explorer.cities.layers import ids_as_str
from explorer.cities.series import _read_table
from explorer.errors import CityDataError

TIME_NAME = re.compile(r"time|date|stamp|datetime|period|hour_beginning", re.I)
#: Columns of long exports that describe the time, not a reading (never the value column).
DATE_PARTS = {"year", "month", "mdate", "day", "date", "time", "hour", "minute", "weekday", "dow", "week",
              "day_of_week", "dayofweek", "mday"}
SAMPLE = 2000


@dataclass
class SeriesLayout:
    """Where a series file's time, ids and values are."""

    layout: str  # "wide" or "long"
    time_column: str
    id_column: str | None = None
    value_column: str | None = None
    notes: list[str] = field(default_factory=list)


def _columns(df: pd.DataFrame, limit: int = 12) -> str:
    cols = [str(c) for c in df.columns]
    return ", ".join(cols[:limit]) + (", ..." if len(cols) > limit else "")


def _parses_as_time(values: pd.Series) -> bool:
    sample = values.dropna().head(200)
    if len(sample) == 0:
        return False
    if pd.api.types.is_datetime64_any_dtype(sample):
        return True
    if pd.api.types.is_numeric_dtype(sample) or pd.to_numeric(sample, errors="coerce").notna().all():
        return False  # plain numbers are readings or ids, not times
    parsed = pd.to_datetime(sample.astype(str), errors="coerce", format="mixed", utc=True)
    return bool(parsed.notna().mean() >= 0.95)


def find_time_column(df: pd.DataFrame, given: str | None, where: str) -> tuple[str, list[str]]:
    """The time column: the one given, else 'timestamp', else the first column that reads as times."""
    if given is not None:
        if given not in df.columns:
            raise CityDataError(f"the time column '{given}' is missing (columns: {_columns(df)})", where=where,
                                fix="pass the name of the column that holds the times with --time-column")
        return given, []
    if "timestamp" in df.columns:
        return "timestamp", []
    named = [c for c in df.columns if TIME_NAME.search(str(c))]
    others = [c for c in df.columns if c not in named]
    for col in named + others:
        if _parses_as_time(df[col]):
            return str(col), [f"using '{col}' as the time column"]
    raise CityDataError(f"no column holds timestamps (columns: {_columns(df)})", where=where,
                        fix="add a time column (ISO 8601, e.g. 2024-03-01 08:00) and name it with --time-column")


def looks_long(df: pd.DataFrame, time_column: str) -> bool:
    """One row per time and sensor: most times repeat (a wide table repeats none, except a DST hour)."""
    t = df[time_column]
    return len(t) > 1 and float(t.duplicated().mean()) > 0.5


def _numeric_share(values: pd.Series) -> float:
    sample = values.dropna().head(SAMPLE)
    if len(sample) == 0:
        return 0.0
    if pd.api.types.is_numeric_dtype(sample):
        return 1.0
    return float(pd.to_numeric(sample.astype(str).str.strip(), errors="coerce").notna().mean())


def _id_column(df: pd.DataFrame, time_column: str, sensor_ids: set[str] | None) -> list[str]:
    """Candidate id columns, best first: those whose values are the sensor layer's ids, else text columns
    with repeated values."""
    cols = [c for c in df.columns if c != time_column]
    if sensor_ids:
        scores = {c: pd.Series(ids_as_str(df[c].dropna().unique()[:5000])).isin(sensor_ids).mean() for c in cols}
        best = [c for c, s in sorted(scores.items(), key=lambda kv: -kv[1]) if s >= 0.5]
        if best:
            return best[:1]
    n = len(df)
    return [c for c in cols if _numeric_share(df[c]) < 0.5 and df[c].nunique() <= max(1, n // 2)]


def _long_hint(id_col: str | None, values: list[str]) -> str:
    opts = "--layout long" + (f" --series-id-column {id_col}" if id_col else " --series-id-column ID_COLUMN")
    if len(values) == 1:
        return f"{opts} --value-column {values[0]}"
    named = f" (one of: {', '.join(values)})" if values else ""
    return f"{opts} --value-column VALUE_COLUMN{named}"


def long_table_hint(df: pd.DataFrame, time_column: str, sensor_ids: set[str] | None = None) -> str:
    """'this looks like a long table: add ...' with the options that would read it."""
    ids = _id_column(df, time_column, sensor_ids)
    id_col = str(ids[0]) if len(ids) == 1 else None
    values = [str(c) for c in df.columns if c not in (time_column, id_col) and str(c).lower() not in DATE_PARTS
              and _numeric_share(df[c]) >= 0.95]
    return f"add {_long_hint(id_col, values)}"


def sniff_series(path: Path, *, where: str | None = None, layout: str = "auto", time_column: str | None = None,
                 id_column: str | None = None, value_column: str | None = None,
                 sensor_ids: set[str] | None = None) -> SeriesLayout:
    """Read ``path`` and decide its layout and columns; raise CityDataError with the options to add when it
    cannot be decided (or contradicts the options given)."""
    where = where or str(path)
    df = _read_table(path)
    tcol, notes = find_time_column(df, time_column, where)
    is_long = looks_long(df, tcol)
    if layout == "wide" or (layout == "auto" and not is_long):
        if is_long:
            raise CityDataError("this looks like a long table (most times repeat, one row per time and sensor), "
                                "not a wide one", where=where,
                                fix=long_table_hint(df, tcol, sensor_ids) + " (or --layout auto)")
        return SeriesLayout("wide", tcol, notes=notes)
    if id_column is not None and id_column not in df.columns:
        raise CityDataError(f"the id column '{id_column}' is missing (columns: {_columns(df)})", where=where,
                            fix="pass the column that names the sensor with --series-id-column")
    if value_column is not None and value_column not in df.columns:
        raise CityDataError(f"the value column '{value_column}' is missing (columns: {_columns(df)})", where=where,
                            fix="pass the column that holds the readings with --value-column")
    ids = [id_column] if id_column else _id_column(df, tcol, sensor_ids)
    if len(ids) != 1:
        raise CityDataError("this looks like a long table, but which column names the sensor is unclear "
                            f"(columns: {_columns(df)})", where=where, fix=long_table_hint(df, tcol, sensor_ids))
    idc = str(ids[0])
    if value_column is None:
        values = [str(c) for c in df.columns if c not in (tcol, idc) and str(c).lower() not in DATE_PARTS
                  and _numeric_share(df[c]) >= 0.95]
        if len(values) != 1:
            raise CityDataError("this looks like a long table, but which column holds the readings is unclear "
                                f"(columns: {_columns(df)})", where=where, fix=f"add {_long_hint(idc, values)}")
        value_column = values[0]
    if layout == "auto":
        notes.append(f"read as a long table: time '{tcol}', sensor '{idc}', value '{value_column}'")
    return SeriesLayout("long", tcol, idc, value_column, notes)
