"""A city's public holidays: the ``holidays`` package by the country and subdivision in ``city.toml``, plus an
optional holidays file of the city's own (CSV ``date,name``), less any dates the manifest excludes.

``[calendar]`` in ``city.toml``::

    [calendar]
    country = "AU"            # ISO 3166 code as the holidays package names it (optional)
    subdivision = "VIC"       # state / province / region code (optional)
    file = "holidays.csv"     # extra days, columns date,name (optional)
    exclude = [2012-01-01]    # days the package lists that the city does not keep (optional)

A city without ``[calendar]`` has no public holidays (``city check`` says so). Everything that needs holidays
(the generator's holiday flag, the voice parser, the preset tour) asks ``city.holidays``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from explorer.errors import CityDataError

if TYPE_CHECKING:
    from explorer.cities.city import City
    from explorer.cities.manifest import CalendarSpec

MAX_HOLIDAYS_FILE_BYTES = 1_000_000


def as_date(value: Any) -> dt.date:
    """A date from a date, datetime, pandas Timestamp, numpy datetime64 or ISO string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip()[:10])
    return pd.Timestamp(value).date()


def package_calendar(country: str, subdivision: str | None = None, language: str | None = None,
                     years: int | Iterable[int] | None = None) -> Any:
    """The ``holidays`` package's calendar (raises NotImplementedError for an unknown country/subdivision)."""
    import holidays

    cal = holidays.country_holidays(country, subdiv=subdivision)
    if language is None:  # English names where the package has them
        default = cal.default_language or ""
        language = default if default.startswith("en") else ("en_US" if "en_US" in cal.supported_languages
                                                             else default or None)
    return holidays.country_holidays(country, subdiv=subdivision, language=language, years=years or [])


def check_country(country: str, subdivision: str | None) -> None:
    """Raise ValueError (a message naming the choices) when the package has no such country or subdivision."""
    import holidays

    supported = holidays.list_supported_countries()
    if country not in supported:
        raise ValueError(f"country '{country}' is not known to the holidays package; use an ISO 3166 code such as "
                         "'US', 'AU', 'GB', 'FR'")
    if subdivision is not None:
        try:
            holidays.country_holidays(country, subdiv=subdivision)
        except NotImplementedError:
            raise ValueError(f"'{subdivision}' is not a subdivision of {country}; use one of: "
                             f"{', '.join(supported[country])}") from None


class HolidayCalendar:
    """Public holidays of one city: ``is_holiday``, ``name``, ``holidays_between``; immutable, thread-safe."""

    def __init__(self, country: str | None = None, subdivision: str | None = None, *,
                 extra: Mapping[dt.date, str] | None = None, exclude: Iterable[dt.date] = (),
                 language: str | None = None, source: str = "") -> None:
        self.country = country
        self.subdivision = subdivision
        self.language = language
        self.extra = {as_date(d): str(n) for d, n in (extra or {}).items()}
        self.exclude = frozenset(as_date(d) for d in exclude)
        self.source = source or self._describe()
        self._years: dict[int, dict[dt.date, str]] = {}
        self._lock = threading.Lock()

    def _describe(self) -> str:
        parts = []
        if self.country:
            parts.append(f"holidays package, {self.country}{'/' + self.subdivision if self.subdivision else ''}")
        if self.extra:
            parts.append(f"{len(self.extra)} day(s) from the city's holidays file")
        if self.exclude:
            parts.append(f"{len(self.exclude)} day(s) excluded")
        return "; ".join(parts) or "no public holidays known"

    def _year(self, year: int) -> dict[dt.date, str]:
        hit = self._years.get(year)
        if hit is not None:
            return hit
        days: dict[dt.date, str] = {}
        if self.country:
            days.update(package_calendar(self.country, self.subdivision, self.language, years=year).items())
        days.update({d: n or days.get(d) or "Public holiday" for d, n in self.extra.items() if d.year == year})
        days = {d: n for d, n in sorted(days.items()) if d not in self.exclude}
        with self._lock:
            return self._years.setdefault(year, days)

    @property
    def empty(self) -> bool:
        """True when the calendar knows no holidays at all (no country, no file)."""
        return not self.country and not self.extra

    def is_holiday(self, day: Any) -> bool:
        d = as_date(day)
        return d in self._year(d.year)

    def name(self, day: Any) -> str | None:
        d = as_date(day)
        return self._year(d.year).get(d)

    def holidays_between(self, start: Any, end: Any) -> dict[dt.date, str]:
        """Holidays from ``start`` to ``end``, both included, in date order."""
        lo, hi = as_date(start), as_date(end)
        out: dict[dt.date, str] = {}
        for year in range(lo.year, hi.year + 1):
            out.update({d: n for d, n in self._year(year).items() if lo <= d <= hi})
        return out

    def flags(self, days: Iterable[Any]) -> np.ndarray:
        """A bool array: whether each day is a holiday (vectorised form of ``is_holiday``)."""
        return np.array([self.is_holiday(d) for d in days], dtype=bool)

    def find(self, text: str, start: Any, end: Any) -> dict[dt.date, str]:
        """Holidays between ``start`` and ``end`` whose name contains ``text`` (case-insensitive)."""
        t = text.casefold().strip()
        return {d: n for d, n in self.holidays_between(start, end).items() if t and t in n.casefold()}

    def __repr__(self) -> str:
        return f"HolidayCalendar({self.source})"


def read_holidays_file(path: Path) -> dict[dt.date, str]:
    """``date,name`` rows of a city's holidays CSV (name optional). Errors name the file and the fix."""
    if not path.is_file():
        raise CityDataError("the holidays file does not exist", where=str(path),
                            fix="add it, or remove 'file' from [calendar] in city.toml")
    if path.stat().st_size > MAX_HOLIDAYS_FILE_BYTES:
        raise CityDataError("the holidays file is over 1 MB", where=str(path), fix="keep one row per holiday")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - one clear message for any reader failure
        raise CityDataError(f"the holidays file could not be read ({str(exc)[:150]})", where=str(path),
                            fix="save it as a CSV with columns date,name") from None
    cols = {c.strip().lower(): c for c in df.columns}
    if "date" not in cols:
        raise CityDataError(f"the holidays file has no 'date' column (columns: {', '.join(df.columns)})",
                            where=str(path), fix="name the columns date,name")
    out: dict[dt.date, str] = {}
    for row, (raw, name) in enumerate(zip(df[cols["date"]], df[cols["name"]] if "name" in cols else [""] * len(df),
                                          strict=True)):
        try:
            day = dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            raise CityDataError(f"row {row + 2}: '{raw}' is not a date", where=str(path),
                                fix="write dates as YYYY-MM-DD") from None
        out[day] = str(name).strip()  # empty: the package's name for that day, else "Public holiday"
    return out


def calendar_from_spec(spec: CalendarSpec | None, folder: Path) -> HolidayCalendar:
    """The calendar a manifest's ``[calendar]`` table describes (empty when there is none)."""
    if spec is None:
        return HolidayCalendar()
    extra = read_holidays_file(folder / spec.file) if spec.file else None
    return HolidayCalendar(spec.country, spec.subdivision, extra=extra, exclude=spec.exclude, language=spec.language)


def holiday_calendar(city: City) -> HolidayCalendar:
    """The city's public holidays (same object as ``city.holidays``, which caches it)."""
    return city.holidays
