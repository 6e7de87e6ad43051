"""The Add-a-city page: uploads go through the same checks as `city add`, with the same messages naming the
uploaded file; a good pair becomes a city and the page shows the train command."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from explorer.cities import CityDataError
from explorer.settings import get_settings
from explorer.ui.add_city import AddCityForm, import_uploads, shown_name, slug_of
from tests.conftest import tiny_sensors, tiny_series

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "add_city.py")


@pytest.fixture()
def cities(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_CITIES_DIR", str(tmp_path / "cities"))
    get_settings.cache_clear()
    yield tmp_path / "cities"
    get_settings.cache_clear()


def _long_csv(bad: str | None = None) -> bytes:
    df = tiny_series().melt(id_vars="timestamp", var_name="station", value_name="count")
    if bad is not None:
        df = df.astype({"count": object})
        df.loc[5, "count"] = bad
    return df.to_csv(index=False).encode()


def _fill(at: AppTest, name: str, csv: bytes, csv_name: str = "counts.csv") -> AppTest:
    at.text_input(key="ac_name").set_value(name)
    at.selectbox(key="ac_tz").set_value("Europe/Paris")
    at.selectbox(key="ac_domain").set_value("pedestrian_count")
    at.text_input(key="ac_value_name").set_value("Pedestrians")
    at.text_input(key="ac_unit").set_value("people/hour")
    at.file_uploader[0].set_value(("stations.geojson", json.dumps(tiny_sensors()).encode(), "application/json"))
    at.file_uploader[1].set_value([(csv_name, csv, "text/csv")])
    at.button[0].click()
    return at.run()


def test_upload_becomes_a_city_and_shows_the_train_command(cities):
    at = _fill(AppTest.from_file(PAGE, default_timeout=120).run(), "Pont Neuf", _long_csv())
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Added **Pont Neuf**: 3 sensors, 72 time steps" in at.success[0].value
    assert at.code[0].value == "explorer city train pont-neuf"
    assert any("read as a long table" in c.value for c in at.caption)
    assert (cities / "pont-neuf" / "city.toml").is_file()


def test_bad_upload_names_the_uploaded_file_and_writes_nothing(cities):
    at = _fill(AppTest.from_file(PAGE, default_timeout=120).run(), "Pont Neuf", _long_csv("inf"),
               csv_name="comptages.csv")
    assert not at.exception
    msg = at.error[0].value
    assert msg.startswith("comptages.csv: ") and "'inf' is not a finite number" in msg and "How to fix" in msg
    assert "tmp" not in msg and "explorer-upload" not in msg
    assert not cities.exists() or list(cities.iterdir()) == []


@pytest.mark.usefixtures("cities")
def test_form_values_are_validated():
    at = _fill(AppTest.from_file(PAGE, default_timeout=120).run(), "Pont Neuf", _long_csv())
    at.text_input(key="ac_slug").set_value("Bad/Slug")
    at.button[0].click()
    at.run()
    assert "invalid city settings: slug" in at.error[0].value


def _upload(name: str, data: bytes):
    return SimpleNamespace(name=name, size=len(data), getvalue=lambda: data)


def test_upload_names_never_reach_the_filesystem(cities, tmp_path):
    form = AddCityForm(name="X", slug="x-town", timezone="Europe/Paris", value_name="P", unit="p",
                       domain="pedestrian_count", sensor_id_column="sensor_id")
    sensors = _upload("../../../../etc/sensors.geojson", json.dumps(tiny_sensors()).encode())
    series = _upload("..\\..\\counts.csv", tiny_series().to_csv(index=False).encode())
    res = import_uploads(form, sensors, [series])
    assert res.city.slug == "x-town"
    assert sorted(p.name for p in (cities / "x-town").iterdir()) == ["SOURCE.txt", "city.toml", "sensors.geojson",
                                                                      "series.csv"]
    assert "counts.csv" in (cities / "x-town" / "SOURCE.txt").read_text()
    assert not any(p.name == "sensors.geojson" for p in tmp_path.parent.iterdir())
    assert shown_name("../../etc/passwd") == "passwd" and shown_name("a<b>.csv") == "a_b_.csv"
    assert slug_of("Lyon Part-Dieu!") == "lyon-part-dieu"


@pytest.mark.parametrize(("name", "size", "words"), [
    ("sensors.exe", 10, "not a supported sensors format"),
    ("sensors.geojson", 10**12, "over the"),
])
def test_wrong_type_or_size_is_refused(cities, name, size, words):
    form = AddCityForm(name="X", slug="x-town", timezone="UTC", value_name="P", unit="p",
                       sensor_id_column="sensor_id")
    up = SimpleNamespace(name=name, size=size, getvalue=lambda: b"{}")
    with pytest.raises(CityDataError, match=words) as err:
        import_uploads(form, up, [_upload("c.csv", b"timestamp,a\n")])
    assert err.value.message.startswith(f"{name}: ")
    assert not cities.exists()
    assert os.environ["EXPLORER_CITIES_DIR"] == str(cities)
