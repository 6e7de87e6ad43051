"""The browser map's payloads: the binary format round-trips, keys follow content, the layers and quantiles are the
city's and the result's own (in the base's sensor order), legends never show a degenerate range."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from explorer.cities import load_city
from explorer.models.generator.api import generate
from explorer.render.aggregate import cell_summary, sensor_cells
from explorer.render.mapdata import base_payload, legend_spec, pack, scenario_payload, stat_payload, unpack
from explorer.render.scenario import Summary
from explorer.scenarios.schema import Scenario
from explorer.stats import sensor_statistic
from tests.generator_fixture import trained_generator

GOLDEN = Path(__file__).parent / "golden" / "tiny_base_header.json"


def test_pack_round_trips_every_dtype_on_8_byte_boundaries():
    arrays = {"a": np.arange(5, dtype=np.float32) / 3, "b": np.array([1, 2, 3], np.uint32),
              "c": np.array([-1, 7], np.int32), "d": np.array([1, 2, 3, 4, 5], np.uint8),
              "e": np.array([65535], np.uint16), "f": np.array([np.nan, 1], np.float32)}
    p = pack("test", {"name": "Café <b>"}, arrays)
    header, back = unpack(p.data)
    assert header["name"] == "Café <b>" and header["key"] == p.key and p.key.startswith("test-")
    for name, a in arrays.items():
        np.testing.assert_array_equal(back[name], a)
        assert (header["arrays"][name][1]) % 8 == 0
    assert pack("test", {"name": "Café <b>"}, arrays).key == p.key  # same content, same key
    assert pack("test", {"name": "Café <b>"}, {**arrays, "d": arrays["d"] + 1}).key != p.key
    with pytest.raises(TypeError, match="dtype float64"):
        pack("test", {}, {"x": np.zeros(2)})
    with pytest.raises(ValueError, match="not a map payload"):
        unpack(b"nope" + p.data[4:])


def test_legend_never_shows_a_degenerate_range():
    none = legend_spec("Change", 1e-6, -1e-6, "mph", np.zeros((5, 3)), fmt="{:+,.1f}", change=True)
    assert none["no_change"].startswith("No change") and (none["lo"], none["hi"]) == ("+0.0", "-0.0")
    real = legend_spec("Change", 3.25, -3.25, "mph", np.zeros((5, 3)), fmt="{:+,.1f}", change=True)
    assert real["no_change"] is None and (real["lo"], real["hi"]) == ("+3.2", "-3.2")
    flat = legend_spec("Speed", 50.0, 50.0, "mph", np.zeros((5, 3)))
    assert flat["no_change"] == "Every value is 50.0 mph"


def test_base_payload_holds_the_citys_layers(la):
    b = base_payload(la, "layer", aggregate_above=2000)
    h, a = unpack(b.data)
    assert h["mode"] == "sensors" and h["ids"] == [str(x) for x in la.sensors["sensor_id"]]
    pos = a["spos"].reshape(-1, 2)
    assert np.allclose(pos[:, 0], la.sensors.geometry.x, atol=1e-4) and np.allclose(pos[:, 1], la.sensors.geometry.y,
                                                                                   atol=1e-4)
    zs, zp = a["zstart"], a["zpos"].reshape(-1, 2)
    assert zs[-1] == len(zp) and np.all(np.diff(zs) >= 4)
    assert np.allclose(zp[zs[:-1]], zp[zs[1:] - 1])  # rings are closed
    rs = a["rstart"]
    assert rs[-1] == len(a["rpos"]) // 2 and len(a["rsensor"]) == len(rs) - 1 and a["rsensor"].max() < 207
    assert b.nbytes < 200_000  # the static layers of Los Angeles, sent once


def test_scenario_payload_holds_every_hour_in_the_base_order(la):
    sc = Scenario.model_validate({"city": "los-angeles", "day": {"day_of_week": 4}, "start_hour": 17,
                                  "horizon_hours": 24, "events": [{"place": {"sensor_id": "767541"},
                                                                   "magnitude": 40, "unit": "percent_slower",
                                                                   "start_offset_hours": 1, "duration_hours": 3,
                                                                   "reach_km": 2.0}]})
    res = generate(la, sc, 32, 0, model=trained_generator(la))
    summary = Summary.of(res)
    b = base_payload(la, "layer", aggregate_above=2000)
    p = scenario_payload(la, res, summary, b)
    h, a = unpack(p.data)
    order = [res.sensor_ids.index(s) for s in b.header["ids"]]
    qd = a["qd"].reshape(3, 24, 207)
    np.testing.assert_allclose(qd, summary.difference[:, :, order].astype(np.float32))
    assert h["hours"][0] == f"{res.times[0]:%a %H:%M}" and len(h["hours"]) == 24 and h["base"] == b.key
    assert h["scales"]["lim"] == pytest.approx(summary.change_limit())
    assert h["legends"]["difference"]["no_change"] is None and h["unit"] == "mph"
    assert p.nbytes < 300_000  # the target for a scenario change on Los Angeles, at the longest horizon


def test_large_city_payloads_are_h3_cells(la):
    """Above the threshold the map draws h3 cells: outlines in the base, the cells' own quantiles in the scenario,
    a selected cell's sensors one by one."""
    b = base_payload(la, "layer", aggregate_above=100)
    assert b.header["mode"] == "cells" and "spos" not in b.arrays and sum(b.header["cell_counts"]) == 207
    cs_start, cpos = b.arrays["cstart"], b.arrays["cpos"].reshape(-1, 2)
    assert len(cs_start) - 1 == len(b.header["cell_ids"]) and np.allclose(cpos[cs_start[:-1]], cpos[cs_start[1:] - 1])
    sc = Scenario.model_validate({"city": "los-angeles", "day": {"day_of_week": 4}, "start_hour": 16,
                                  "horizon_hours": 6, "events": []})
    res = generate(la, sc, 16, 0, model=trained_generator(la))
    summary = Summary.of(res)
    cell = b.header["cell_ids"][int(np.argmax(b.header["cell_counts"]))]
    p = scenario_payload(la, res, summary, b, cell=cell)
    cells = sensor_cells(la)
    cs = cell_summary(res, cells, la.manifest.series.aggregate)
    np.testing.assert_allclose(p.arrays["qb"].reshape(3, 6, -1), cs.baseline.astype(np.float32))
    d = p.header["detail"]
    assert d["cell"] == cell and len(d["ids"]) == max(b.header["cell_counts"]) == len(p.arrays["dpos"]) // 2
    assert p.header["legends"]["difference"]["no_change"]  # no event: nothing changes, and the legend says so


def test_stat_payload_is_homes_statistic(la):
    b = base_payload(la, "graph", aggregate_above=2000)
    p = stat_payload(la, "mean", b)
    want = sensor_statistic(la.series, "mean", la.manifest.series.higher_is_busier).reindex(la.sensors["sensor_id"])
    np.testing.assert_allclose(p.arrays["values"], want.to_numpy(np.float32), rtol=1e-6)
    assert ["rgb(90,90,90)", "Sensor graph links"] in p.header["legend"]["extra"]


def test_tiny_city_base_header_golden(tiny_city_dir):
    """The header of a small city's layers, field by field (regenerate: delete the golden file and run once)."""
    h = base_payload(load_city(tiny_city_dir), "layer", aggregate_above=2000).header
    h = {k: v for k, v in h.items() if k != "key"}
    if not GOLDEN.exists():
        GOLDEN.write_text(json.dumps(h, indent=1, sort_keys=True) + "\n")
    assert h == json.loads(GOLDEN.read_text())
