"""`explorer city add` imports atomically; `explorer city check` exits 0 or names the problem."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from explorer.cities import CityDataError, load_city
from explorer.cities.importer import add_city
from explorer.cli import app
from tests.conftest import tiny_series

runner = CliRunner()


def _add(tiny_city_dir, target, **kw):
    args = dict(slug="my-town", name="My Town", timezone="Europe/Paris", sensors=tiny_city_dir / "sensors.geojson",
                sensor_id_column="sensor_id", sensor_label_column="name", series=[tiny_city_dir / "series.csv"],
                value_name="Pedestrians", unit="people/hour", domain="pedestrian_count", cities_dir=target)
    args.update(kw)
    return add_city(**args).city


def test_add_city_creates_a_loadable_folder(tiny_city_dir, tmp_path):
    city = _add(tiny_city_dir, tmp_path / "cities")
    assert city.slug == "my-town"
    assert (tmp_path / "cities" / "my-town" / "city.toml").is_file()
    assert (tmp_path / "cities" / "my-town" / "SOURCE.txt").is_file()
    assert load_city(tmp_path / "cities" / "my-town").series.shape == (72, 3)


def test_failed_import_leaves_nothing(tiny_city_dir, tmp_path):
    bad = tiny_series()
    bad.loc[4, "timestamp"] = "not a time"
    bad.to_csv(tiny_city_dir / "bad.csv", index=False)
    target = tmp_path / "cities"
    with pytest.raises(CityDataError, match="could not be parsed"):
        _add(tiny_city_dir, target, series=[tiny_city_dir / "bad.csv"])
    assert not (target / "my-town").exists()
    assert list(target.iterdir()) == []  # no temporary folder left either


def test_import_refuses_existing_city_and_bad_slug(tiny_city_dir, tmp_path):
    _add(tiny_city_dir, tmp_path)
    with pytest.raises(CityDataError, match="already exists"):
        _add(tiny_city_dir, tmp_path)
    with pytest.raises(CityDataError, match="invalid city settings"):
        _add(tiny_city_dir, tmp_path, slug="../escape")


def test_cli_check_bundled_cities():
    for slug in ("data/cities/los-angeles", "data/cities/melbourne"):
        result = runner.invoke(app, ["city", "check", slug])
        assert result.exit_code == 0, result.output
        assert "OK" in result.output


def test_cli_check_broken_folder_names_file(tiny_city_dir):
    (tiny_city_dir / "sensors.geojson").write_text("{ not json")
    result = runner.invoke(app, ["city", "check", str(tiny_city_dir)])
    assert result.exit_code == 1
    assert "sensors.geojson" in result.output and "How to fix" in result.output
    assert "Traceback" not in result.output


def test_console_script_runs(tiny_city_dir, tmp_path):
    """The installed `explorer` entry point works end to end in a subprocess."""
    out = subprocess.run([sys.executable, "-m", "explorer.cli", "city", "add", "--slug", "cli-town", "--name", "CLI",
                          "--timezone", "UTC", "--sensors", str(tiny_city_dir / "sensors.geojson"),
                          "--series", str(tiny_city_dir / "series.csv"), "--value-name", "Count", "--unit", "n"],
                         capture_output=True, text=True, env={"EXPLORER_CITIES_DIR": str(tmp_path),
                                                              "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "added CLI" in out.stdout
    assert (tmp_path / "cli-town" / "city.toml").is_file()
