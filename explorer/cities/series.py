"""Read sensor history (CSV or Parquet, wide or long) into one regular wide table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from explorer.cities.layers import ids_as_str
from explorer.cities.manifest import SeriesSpec
from explorer.errors import CityDataError
from explorer.settings import get_settings

SERIES_SUFFIXES = (".csv", ".parquet")


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise CityDataError("the series file does not exist", where=str(path), fix="check the path in the manifest")
    if path.suffix.lower() not in SERIES_SUFFIXES:
        raise CityDataError(f"'{path.suffix}' is not a supported series format", where=str(path),
                            fix="use .csv or .parquet")
    limit = get_settings().max_file_mb
    if path.stat().st_size > limit * 1e6:
        raise CityDataError(f"the file is over the {limit} MB limit", where=str(path),
                            fix="split it by month or raise EXPLORER_MAX_FILE_MB")
    if path.stat().st_size == 0:
        raise CityDataError("the file is empty", where=str(path), fix="export the series again")
    try:
        if path.suffix.lower() == ".parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=True)
    except Exception as exc:  # noqa: BLE001 - one clear message for any reader failure
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CityDataError(f"the series could not be read ({detail})", where=str(path),
                            fix="check that the file is a complete CSV or Parquet export") from None
    if df.index.name is not None and df.index.name not in df.columns:
        df = df.reset_index()
    return df


def _require(df: pd.DataFrame, column: str, where: str, what: str) -> None:
    if column not in df.columns:
        cols = ", ".join(map(str, list(df.columns)[:12]))
        raise CityDataError(f"the {what} column '{column}' is missing (columns: {cols})", where=where,
                            fix=f"rename the column or set {what}_column in the manifest")


def _parse_times(values: pd.Series, where: str, tz: str) -> pd.DatetimeIndex:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values)
    else:
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        bad = parsed.isna() & values.notna()
        bad |= values.isna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise CityDataError(f"row {row + 1}: timestamp '{values.iloc[row]}' could not be parsed", where=where,
                                fix="write timestamps as ISO 8601, e.g. 2012-03-01 08:00")
    idx = pd.DatetimeIndex(parsed)
    if idx.tz is not None:  # stored as naive local time of the city
        idx = idx.tz_convert(tz).tz_localize(None)
    return idx


def _to_numeric(df: pd.DataFrame, where: str) -> pd.DataFrame:
    if len(df.columns) and all(pd.api.types.is_numeric_dtype(t) for t in df.dtypes):
        return df.astype("float32")  # one block copy: per-column work dominated loading 10,000 sensors
    out = {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype("float32")
            continue
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna() & s.notna() & (s.astype(str).str.strip() != "")
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise CityDataError(f"sensor '{col}', row {row + 1}: '{s.iloc[row]}' is not a number", where=where,
                                fix="leave missing readings empty and keep only numbers in value columns")
        out[col] = num.astype("float32")
    return pd.DataFrame(out, index=df.index)


def _wide(df: pd.DataFrame, spec: SeriesSpec, where: str, tz: str) -> pd.DataFrame:
    _require(df, spec.time_column, where, "time")
    idx = _parse_times(df[spec.time_column], where, tz)
    values = df.drop(columns=[spec.time_column])
    values.columns = ids_as_str(values.columns)
    values.index = idx
    return _to_numeric(values, where)


def _long(df: pd.DataFrame, spec: SeriesSpec, where: str, tz: str) -> pd.DataFrame:
    for col, what in ((spec.time_column, "time"), (spec.id_column, "id"), (spec.value_column, "value")):
        _require(df, col, where, what)
    idx = _parse_times(df[spec.time_column], where, tz)
    ids = pd.Series(ids_as_str(df[spec.id_column]), index=df.index)
    vals = _to_numeric(df[[spec.value_column]], where)[spec.value_column]
    long = pd.DataFrame({"t": idx, "id": ids.to_numpy(), "v": vals.to_numpy()})
    dup = long.duplicated(["t", "id"])
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0])
        raise CityDataError(f"row {row + 1}: sensor '{long['id'].iloc[row]}' has two readings at {long['t'].iloc[row]}",
                            where=where, fix="keep one reading per sensor and time")
    return long.pivot(index="t", columns="id", values="v").astype("float32")


def regularise(df: pd.DataFrame, where: str, frequency: str | None = None) -> tuple[pd.DataFrame, pd.Timedelta]:
    """Sort, refuse duplicate or off-grid timestamps, and reindex onto one regular grid (gaps -> NaN)."""
    if df.index.has_duplicates:
        ts = df.index[df.index.duplicated()][0]
        raise CityDataError(f"timestamp {ts} appears more than once", where=where,
                            fix="keep one row per timestamp (merge or drop the duplicates)")
    df = df.sort_index()
    df.index = pd.DatetimeIndex(df.index).as_unit("ns")
    if len(df) < 2:
        raise CityDataError("the series has fewer than two timestamps", where=where,
                            fix="provide at least two regular time steps")
    diffs = np.diff(df.index.asi8)
    if frequency is not None:
        try:
            step = pd.Timedelta(frequency)
        except ValueError:
            raise CityDataError(f"frequency '{frequency}' is not a duration", where=where,
                                fix="write it like '5min' or '1h'") from None
    else:
        step = pd.Timedelta(int(pd.Series(diffs).mode().iloc[0]), unit="ns")
    step_ns = step.value
    if step_ns <= 0:
        raise CityDataError("the time step is zero", where=where, fix="check the timestamps")
    off = (df.index.asi8 - df.index.asi8[0]) % step_ns != 0
    if off.any():
        row = int(off.nonzero()[0][0])
        raise CityDataError(
            f"timestamp {df.index[row]} is off the regular {step} grid: the frequency is irregular",
            where=where,
            fix=f"resample the series to one frequency (e.g. df.resample('{_alias(step)}').mean()) before importing",
        )
    full = pd.date_range(df.index[0], df.index[-1], freq=step)
    out = df.reindex(full)
    out.index.name = "timestamp"
    return out, step


def _alias(step: pd.Timedelta) -> str:
    minutes = int(step.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}min"


def read_series(folder: Path, spec: SeriesSpec, tz: str) -> tuple[pd.DataFrame, pd.Timedelta]:
    """Read every series file of ``spec`` and return (wide float32 table on a regular grid, step)."""
    parts = []
    for name in spec.paths:
        path = folder / name
        where = str(path)
        df = _read_table(path)
        parts.append(_wide(df, spec, where, tz) if spec.layout == "wide" else _long(df, spec, where, tz))
    series = pd.concat(parts, axis=0) if len(parts) > 1 else parts[0]
    series = series.T.groupby(level=0, sort=False).first().T if series.columns.has_duplicates else series
    where = str(folder / spec.paths[0]) if len(spec.paths) == 1 else f"{folder} (series files)"
    series, step = regularise(series, where, spec.frequency)
    empty = series.columns[series.notna().sum() == 0]
    if len(empty):
        raise CityDataError(f"sensor '{empty[0]}' has no readings at all", where=where,
                            fix="drop that sensor's column or supply its readings")
    return series.astype("float32"), step
