"""A city's public holidays come from city.toml ([calendar]: holidays package, holidays file, excluded days)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from explorer.cities import CityDataError, load_city
from explorer.cities.calendar import HolidayCalendar, holiday_calendar

D = dt.date

# The calendars the generator was trained with (its former hard-coded lists), inside each city's period.
LA_2012 = {D(2012, 5, 28)}
VIC = {D(*d) for d in [
    (2012, 1, 2), (2012, 1, 26), (2012, 3, 12), (2012, 4, 6), (2012, 4, 7), (2012, 4, 9), (2012, 4, 25),
    (2012, 6, 11), (2012, 11, 6), (2012, 12, 25), (2012, 12, 26), (2013, 1, 1), (2013, 1, 28), (2013, 3, 11),
    (2013, 3, 29), (2013, 3, 30), (2013, 4, 1), (2013, 4, 25), (2013, 6, 10), (2013, 11, 5), (2013, 12, 25),
    (2013, 12, 26), (2014, 1, 1), (2014, 1, 27), (2014, 3, 10), (2014, 4, 18), (2014, 4, 19), (2014, 4, 21),
    (2014, 4, 25), (2014, 6, 9), (2014, 11, 4), (2014, 12, 25), (2014, 12, 26), (2015, 1, 1), (2015, 1, 26)]}


def _period(city):
    return city.series.index[0].date(), city.series.index[-1].date()


def test_bundled_cities_keep_their_holidays(la, melbourne):
    assert set(la.holidays.holidays_between(*_period(la))) == LA_2012
    assert set(melbourne.holidays.holidays_between(*_period(melbourne))) == VIC
    assert holiday_calendar(la) is la.holidays  # cached on the city
    assert la.holidays.name("2012-05-28") == "Memorial Day"
    assert melbourne.holidays.name(D(2013, 11, 5)) == "Melbourne Cup Day"  # first Tuesday of November
    assert melbourne.holidays.is_holiday(D(2014, 4, 19))  # Easter Saturday, a Victorian holiday
    assert not melbourne.holidays.is_holiday(D(2014, 4, 20))  # Easter Sunday was not one before 2016
    assert not melbourne.holidays.is_holiday(D(2012, 1, 1))  # excluded: observed on Monday 2 January


def test_excluded_days_are_listed_by_the_package_but_not_kept(la):
    plain = HolidayCalendar("US", "CA")
    assert plain.name(D(2012, 3, 31)) == "Cesar Chavez Day"
    assert not la.holidays.is_holiday(D(2012, 3, 31))
    # outside the data the package's calendar goes on (a date a user picks in 2025 still knows its holidays)
    assert la.holidays.name(D(2025, 7, 4)) == "Independence Day"


def test_accepts_timestamps_strings_and_arrays(melbourne):
    import numpy as np
    import pandas as pd

    cal = melbourne.holidays
    assert cal.is_holiday(pd.Timestamp("2014-01-27 08:00")) and cal.is_holiday("2014-01-27")
    assert cal.is_holiday(np.datetime64("2014-01-27"))
    days = pd.date_range("2014-04-17", "2014-04-22").date
    assert cal.flags(days).tolist() == [False, True, True, False, True, False]
    assert list(cal.find("cup", "2012-01-01", "2014-12-31")) == [D(2012, 11, 6), D(2013, 11, 5), D(2014, 11, 4)]


def test_holidays_file_and_no_calendar(tiny_city_dir):
    city = load_city(tiny_city_dir)
    assert city.holidays.empty and city.holidays.holidays_between("2024-01-01", "2024-12-31") == {}
    assert any("[calendar]" in w for w in city.warnings)

    (tiny_city_dir / "holidays.csv").write_text("date,name\n2024-05-02,Town fair\n2024-05-08,\n")
    p = tiny_city_dir / "city.toml"
    p.write_text(p.read_text() + '\n[calendar]\ncountry = "FR"\nfile = "holidays.csv"\nexclude = [2024-05-01]\n')
    city = load_city(tiny_city_dir)
    got = city.holidays.holidays_between("2024-05-01", "2024-05-31")
    assert got[D(2024, 5, 2)] == "Town fair"
    assert got[D(2024, 5, 8)] == "Victory Day"  # the package's name (English) wins over an empty file name
    assert D(2024, 5, 1) not in got  # Labour Day excluded
    assert D(2024, 5, 9) in got  # Ascension Day from the package
    assert not any("[calendar]" in w for w in city.warnings)


@pytest.mark.parametrize(("table", "message"), [
    ('country = "XX"', "country 'XX' is not known"),
    ('country = "AU"\nsubdivision = "QQ"', "'QQ' is not a subdivision of AU"),
    ('subdivision = "VIC"', "subdivision needs a country"),
    ('file = "../etc/holidays.csv"', "must be a file name inside the city folder"),
    ('file = "missing.csv"', "the holidays file does not exist"),
    ('file = "holidays.csv"', "'31/12/2024' is not a date"),
    ('country = "FR"\nexclude = ["soon"]', "exclude"),
])
def test_bad_calendar_is_refused(tiny_city_dir, table, message):
    (tiny_city_dir / "holidays.csv").write_text("date,name\n31/12/2024,New Year's Eve\n")
    p = tiny_city_dir / "city.toml"
    p.write_text(p.read_text() + f"\n[calendar]\n{table}\n")
    with pytest.raises(CityDataError, match=message) as err:
        load_city(tiny_city_dir)
    assert str(tiny_city_dir) in err.value.message and "How to fix" in err.value.message


def test_threads_share_one_calendar():
    cal = HolidayCalendar("AU", "VIC")
    out: list[int] = []
    threads = [threading.Thread(target=lambda: out.append(len(cal.holidays_between("2000-01-01", "2030-12-31"))))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == 1 and out[0] > 300
