"""Golden files for the browser map's payloads on the tiny city, field by field and value by value: a scenario
(sensors, and h3 areas with one area opened) and Home's statistics. The result is built by hand (known samples),
so a change to what the map is sent shows here and not only as pixels. Regenerate: delete the file, run once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from explorer.cities import load_city
from explorer.models.generator.result import ScenarioResult
from explorer.render.mapdata import Payload, base_payload, scenario_payload, stat_payload, unpack
from explorer.render.scenario import Summary
from explorer.scenarios.schema import Scenario
from tests.conftest import tiny_series

GOLDEN = Path(__file__).parent / "golden"


def _result(order: tuple[str, ...] = ("a", "b", "c")) -> ScenarioResult:
    """40 samples x 3 hours x 3 sensors (in ``order``); the event adds 30, 60 and 30 people at 'b' (the origin)
    and 10 at 'a' in the middle hour, nothing at 'c'."""
    rng = np.random.default_rng(5)
    base = rng.normal(100, 8, (40, 3, 3)).astype(np.float32)
    add = np.zeros((3, 3), np.float32)
    add[:, order.index("b")] = [30, 60, 30]
    add[1, order.index("a")] = 10
    sc = Scenario.model_validate({"city": "tiny", "day": {"day_of_week": 2}, "start_hour": 17, "horizon_hours": 3,
                                  "events": [{"place": {"sensor_id": "b"}, "magnitude": 60, "unit": "people",
                                              "start_offset_hours": 0, "duration_hours": 3, "reach_km": 1.0}]})
    return ScenarioResult(scenario=sc, city="tiny", domain="counts", unit="people/hour", sensor_ids=list(order),
                          times=pd.date_range("2000-01-05 17:00", periods=3, freq="1h"), baseline=base,
                          scenario_samples=base + add, event_field=add, seed=0, elapsed_ms=0.0)


def _rounded(x: Any) -> Any:
    """Every float to 3 decimals (the last bits of a float32 sum may differ between machines)."""
    if isinstance(x, float):
        return round(x, 3)
    if isinstance(x, dict):
        return {k: _rounded(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_rounded(v) for v in x]
    return x


def _plain(p: Payload) -> dict[str, Any]:
    """Header without content keys, and every array, as rounded numbers."""
    header, arrays = unpack(p.data)
    header = {k: v for k, v in header.items() if k not in ("key", "base", "arrays")}
    return _rounded({"header": header, "arrays": {k: a.astype(float).tolist() for k, a in sorted(arrays.items())}})


def _golden(name: str, got: dict[str, Any]) -> None:
    path = GOLDEN / name
    got = json.loads(json.dumps(got, sort_keys=True))
    if not path.exists():
        path.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    assert got == json.loads(path.read_text())


def test_scenario_payload_golden_sensors(tiny_city_dir):
    city = load_city(tiny_city_dir)
    res = _result(("c", "a", "b"))  # the payload puts them in the base layer's order
    base = base_payload(city, "layer", aggregate_above=2000)
    p = scenario_payload(city, res, Summary.of(res), base)
    qd = p.arrays["qd"].reshape(3, 3, 3)
    np.testing.assert_allclose(qd[1], [[0, 30, 0], [10, 60, 0], [0, 30, 0]], atol=1e-4)  # base order a, b, c
    _golden("tiny_scenario_sensors.json", _plain(p))


def test_scenario_payload_golden_areas(tiny_city_dir):
    city = load_city(tiny_city_dir)
    res = _result()
    base = base_payload(city, "layer", aggregate_above=2)
    assert base.header["mode"] == "cells"
    cell = base.header["cell_ids"][0]
    p = scenario_payload(city, res, Summary.of(res), base, cell=cell)
    assert p.header["detail"]["cell"] == cell
    _golden("tiny_scenario_areas.json", _plain(p))


@pytest.mark.parametrize("aggregate_above", [2000, 2])
def test_stat_payload_golden(tiny_city_dir, aggregate_above: int):
    series = tiny_series()
    series.loc[:11, "c"] = np.nan  # 12 of 72 hours missing at 'c'
    series.to_csv(tiny_city_dir / "series.csv", index=False)
    city = load_city(tiny_city_dir)
    base = base_payload(city, "layer", aggregate_above=aggregate_above)
    got = {stat: _plain(stat_payload(city, stat, base)) for stat in ("mean", "missing")}
    if base.header["mode"] == "sensors":
        assert got["missing"]["arrays"]["values"] == [0.0, 0.0, pytest.approx(12 / 72, abs=1e-3)]
    _golden(f"tiny_stat_{base.header['mode']}.json", got)
