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
OFFSET_RE = r"(?:[+-]\d\d:?\d\d|Z)$"
#: Domains whose readings cannot be negative (counts and speeds).


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
        offset = values.astype(str).str.strip().str.contains(OFFSET_RE, na=False)
        if offset.any() and not offset[values.notna()].all():
            row = int((~offset & values.notna()).to_numpy().nonzero()[0][0])
            raise CityDataError(f"row {row + 1}: timestamp '{values.iloc[row]}' has no UTC offset while others do",
                                where=where, fix="write every timestamp with its offset (or none of them)")
        parsed = pd.to_datetime(values, errors="coerce", format="mixed", utc=bool(offset.any()))
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


def _refuse_infinite(col: object, values: np.ndarray, raw: pd.Series, where: str, what: str = "sensor") -> None:
    inf = np.isinf(values)
    if inf.any():
        row = int(inf.nonzero()[0][0])
        raise CityDataError(f"{what} '{col}', row {row + 1}: '{raw.iloc[row]}' is not a finite number "
                            f"({int(inf.sum())} infinite reading(s) in that column)", where=where,
                            fix="leave a missing or failed reading empty instead of writing inf")


def _to_numeric(df: pd.DataFrame, where: str, what: str = "sensor") -> pd.DataFrame:
    """Readings as float32; text that is not a number and infinite values are refused (``what``: how to name a
    column in messages, 'sensor' in a wide table, 'column' in a long one)."""
    if len(df.columns) and all(pd.api.types.is_numeric_dtype(t) for t in df.dtypes):
        out = df.astype("float32")  # one block copy: per-column work dominated loading 10,000 sensors
        values = out.to_numpy()
        if np.isinf(values).any():
            col = int(np.isinf(values).any(axis=0).nonzero()[0][0])
            _refuse_infinite(out.columns[col], values[:, col], df.iloc[:, col], where, what)
        return out
    out = {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s):
            _refuse_infinite(col, s.to_numpy(dtype="float64", na_value=np.nan), s, where, what)
            out[col] = s.astype("float32")
            continue
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna() & s.notna() & (s.astype(str).str.strip() != "")
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise CityDataError(f"{what} '{col}', row {row + 1}: '{s.iloc[row]}' is not a number", where=where,
                                fix="leave missing readings empty and keep only numbers in value columns")
        _refuse_infinite(col, num.to_numpy(dtype="float64", na_value=np.nan), s, where, what)
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
    vals = _to_numeric(df[[spec.value_column]], where, "column")[spec.value_column]
    long = pd.DataFrame({"t": idx, "id": ids.to_numpy(), "v": vals.to_numpy()})
    dup = long.duplicated(["t", "id"])
    if dup.any():
        repeated, _ = dst_flags(pd.DatetimeIndex(long["t"]), tz)
        if not (dup.to_numpy() <= repeated).all():  # a duplicate outside a repeated daylight-saving hour
            row = int((dup.to_numpy() & ~repeated).nonzero()[0][0])
            raise CityDataError(f"row {row + 1}: sensor '{long['id'].iloc[row]}' has two readings at "
                                f"{long['t'].iloc[row]}", where=where, fix="keep one reading per sensor and time")
        return long.groupby(["t", "id"])["v"].mean().unstack("id").astype("float32")
    return long.pivot(index="t", columns="id", values="v").astype("float32")


def dst_flags(index: pd.DatetimeIndex, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """For naive local times: (happens twice when clocks go back, does not exist when they go forward)."""
    naive = pd.DatetimeIndex(index)
    repeated = naive.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").isna()
    skipped = naive.tz_localize(tz, ambiguous=np.zeros(len(naive), bool), nonexistent="NaT").isna()
    return np.asarray(repeated), np.asarray(skipped)


def merge_dst_repeats(series: pd.DataFrame, tz: str, where: str, notes: list[str]) -> pd.DataFrame:
    """Rows sharing a timestamp are refused, unless they are the hour clocks go back (local time repeats it):
    those are averaged, and the merge is reported in ``notes``."""
    if not series.index.has_duplicates:
        return series
    dup = series.index.duplicated(keep=False)
    repeated, _ = dst_flags(series.index, tz)
    if not (dup <= repeated).all():
        ts = series.index[dup & ~repeated][0]
        raise CityDataError(f"timestamp {ts} appears more than once", where=where,
                            fix="keep one row per timestamp (merge or drop the duplicates)")
    stamps = sorted(set(series.index[dup]))
    notes.append(f"{len(stamps)} local time(s) occur twice because clocks went back (daylight saving ends), "
                 f"e.g. {stamps[0]}: their readings were averaged into one step")
    return series.groupby(level=0).mean()


def note_dst_gaps(series: pd.DataFrame, tz: str, notes: list[str]) -> None:
    """Report the local times skipped when clocks went forward (left empty on the regular grid)."""
    _, skipped = dst_flags(series.index, tz)
    empty = skipped & series.isna().all(axis=1).to_numpy()
    if empty.any():
        first = series.index[empty][0]
        notes.append(f"{int(empty.sum())} step(s) do not exist in local time because clocks went forward "
                     f"(daylight saving starts), e.g. {first}: they are left empty (missing)")


def refuse_negative(series: pd.DataFrame, spec: SeriesSpec, where: str) -> None:
    """Counts and speeds cannot be negative: refuse them with the first one and how many there are."""
    if not spec.non_negative:
        return
    values = series.to_numpy()
    neg = values < 0
    if neg.any():
        r, c = (int(a[0]) for a in neg.nonzero())
        raise CityDataError(
            f"{int(neg.sum())} negative reading(s), e.g. sensor '{series.columns[c]}' at {series.index[r]}: "
            f"{values[r, c]:g}; a {spec.domain.replace('_', ' ')} cannot be negative", where=where,
            fix="correct them, or leave them empty if they mean 'no reading' (e.g. a -1 placeholder)")


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


def read_series(folder: Path, spec: SeriesSpec, tz: str,
                notes: list[str] | None = None) -> tuple[pd.DataFrame, pd.Timedelta]:
    """Read every series file of ``spec`` and return (wide float32 table on a regular grid, step).

    What was repaired rather than refused (a repeated or skipped daylight-saving hour) goes to ``notes``.
    """
    notes = notes if notes is not None else []
    parts = []
    for name in spec.paths:
        path = folder / name
        where = str(path)
        df = _read_table(path)
        parts.append(_wide(df, spec, where, tz) if spec.layout == "wide" else _long(df, spec, where, tz))
        refuse_negative(parts[-1], spec, where)
    series = pd.concat(parts, axis=0) if len(parts) > 1 else parts[0]
    series = series.T.groupby(level=0, sort=False).first().T if series.columns.has_duplicates else series
    where = ", ".join(str(folder / p) for p in spec.paths[:3]) + (", ..." if len(spec.paths) > 3 else "")
    series = merge_dst_repeats(series, tz, where, notes)
    series, step = regularise(series, where, spec.frequency)
    note_dst_gaps(series, tz, notes)
    empty = series.columns[series.notna().sum() == 0]
    if len(empty):
        raise CityDataError(f"sensor '{empty[0]}' has no readings at all", where=where,
                            fix="drop that sensor's column or supply its readings")
    return series.astype("float32"), step
