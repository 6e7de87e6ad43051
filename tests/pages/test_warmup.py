"""The start-up warm-up (``explorer app``) fills the caches the pages read, and never raises."""

from __future__ import annotations

import logging

import pytest

import explorer.ui.state as state
from explorer.settings import get_settings
from explorer.stats import SENSOR_STATISTICS
from explorer.ui.maps import cached_stat
from explorer.ui.warmup import warm


def test_warm_fills_the_caches_the_pages_read(monkeypatch):
    took = warm("los-angeles")
    assert list(took) == ["city", "home map", "home chart", "what-if roads and generator"]

    def no_load(_slug):
        raise AssertionError("the page should have found the city in the cache")

    monkeypatch.setattr(state, "load_city", no_load)
    city = state.cached_city("los-angeles")
    stat = cached_stat("los-angeles", next(iter(SENSOR_STATISTICS)), get_settings().road_source)
    assert len(stat.arrays["values"]) == len(city.sensors) == 207


def test_warm_of_an_unknown_city_logs_and_returns(caplog):
    with caplog.at_level(logging.WARNING, logger="explorer.warmup"):
        assert warm("no-such-city") == {}
    assert "warm-up of no-such-city (city) skipped" in caplog.text


@pytest.mark.parametrize("args", [["app", "--help"]])
def test_app_command_is_documented(args):
    from typer.testing import CliRunner

    from explorer.cli import app

    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0
    assert "warming the default city" in out.output


def test_warm_with_bad_settings_logs_what_is_wrong(monkeypatch, caplog):
    from explorer.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setenv("EXPLORER_RESULT_CACHE_MB", "5")
    try:
        with caplog.at_level(logging.WARNING, logger="explorer.warmup"):
            assert warm() == {}
    finally:
        monkeypatch.delenv("EXPLORER_RESULT_CACHE_MB")
        get_settings.cache_clear()
    assert "EXPLORER_RESULT_CACHE_MB is invalid" in caplog.text
