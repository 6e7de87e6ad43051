"""Grid files: schema, axis paths, expansion order and count, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import explorer.sweep.grid as grid_mod
from explorer.scenarios import Scenario
from explorer.sweep.grid import ALL_SENSORS, GridError, count, expand, load_grid, parse_grid
from explorer.sweep.run import scenario_seed
from tests.sweep import BASE

AXES = {
    "events.0.place": ["4", {"zone_id": "z1"}, {"lat": -37.81, "lon": 144.96}],
    "events.0.magnitude": [100, 1000],
    "day": [{"day_of_week": 2}, {"day_of_week": 6, "holiday": True}],
}


def grid(**kw):
    return parse_grid({"seed": 3, "n_samples": 8, "base": BASE, "axes": AXES, **kw})


def test_expansion_count_and_order():
    g = grid()
    pts = expand(g, "melbourne")
    assert count(g) == len(pts) == 3 * 2 * 2
    assert [p.index for p in pts] == list(range(12))
    # the last axis varies fastest
    assert [p.scenario.day.weekday for p in pts[:4]] == [2, 6, 2, 6]
    assert [p.scenario.events[0].magnitude for p in pts[:4]] == [100, 100, 1000, 1000]
    assert pts[0].scenario.events[0].place.sensor_id == "4"  # a bare string is a sensor id
    assert pts[4].scenario.events[0].place.zone_id == "z1"
    assert pts[8].scenario.events[0].place.lat == -37.81
    assert all(p.scenario.city == "melbourne" and p.scenario.start_hour == 16 for p in pts)
    assert pts[11].scenario.day.holiday is True


def test_no_axes_is_the_base_alone():
    pts = expand(parse_grid({"base": BASE}), "melbourne")
    assert len(pts) == 1 and pts[0].scenario == Scenario.model_validate({**BASE, "city": "melbourne"})


def test_all_sensors_expands_to_the_given_ids():
    g = parse_grid({"base": BASE, "axes": {"events.0.place": [ALL_SENSORS, "9"], "start_hour": [7, 17]}})
    pts = expand(g, "melbourne", sensor_ids=["1", "2", "3"])
    assert len(pts) == 8
    assert [p.scenario.events[0].place.sensor_id for p in pts[::2]] == ["1", "2", "3", "9"]
    with pytest.raises(GridError, match="needs the city's sensors"):
        expand(g, "melbourne")


def test_json_and_toml_files_read_alike(tmp_path: Path):
    j = tmp_path / "g.json"
    j.write_text(json.dumps({"seed": 3, "n_samples": 8, "base": BASE, "axes": {"events.0.magnitude": [100, 1000]}}))
    t = tmp_path / "g.toml"
    t.write_text(
        "seed = 3\nn_samples = 8\n[base]\nday = { day_of_week = 4 }\nstart_hour = 16\nhorizon_hours = 8\n"
        '[[base.events]]\nplace = { sensor_id = "4" }\nmagnitude = 500\nunit = "people"\n'
        "start_offset_hours = 2\nduration_hours = 3\nreach_km = 0.3\n"
        '[axes]\n"events.0.magnitude" = [100, 1000]\n'
    )
    a, b = load_grid(j), load_grid(t)
    assert a == b
    assert [p.scenario for p in expand(a, "melbourne")] == [p.scenario for p in expand(b, "melbourne")]


def test_bundled_examples_are_valid():
    root = Path(__file__).resolve().parents[2] / "examples" / "sweeps"
    files = sorted(root.glob("*.json")) + sorted(root.glob("*.toml"))
    assert len(files) >= 2
    la = load_grid(root / "los-angeles-stadium.json")
    assert count(la) == 5 * 3 * 2
    assert len(expand(la, "los-angeles")) == 30
    for f in files:
        load_grid(f)


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("day.weekday", "'weekday' is not a field of day (fields: date, day_of_week, holiday)"),
        ("event.place", "'event' is not a field of the scenario"),
        ("events.magnitude", "'events' is a list; name an item by index"),
        ("events", "cannot be an axis"),
        ("events.0.place.street", "'street' is not a field of events.0.place"),
        ("start_hour.x", "start_hour has no fields"),
        ("events..magnitude", "not a dotted field path"),
    ],
)
def test_bad_axis_path_is_refused(path: str, says: str):
    with pytest.raises(GridError) as exc:
        parse_grid({"base": BASE, "axes": {path: [1]}})
    assert says in str(exc.value) and "docs/sweeps.md" in str(exc.value)


def test_bad_axis_index_beyond_the_base_events_is_refused():
    g = parse_grid({"base": BASE, "axes": {"events.1.magnitude": [10]}})
    with pytest.raises(GridError, match=r"no events\.1 \(1 item\(s\)\)"):
        expand(g, "melbourne")


def test_bad_values_out_of_range_are_refused_with_the_combination():
    g = parse_grid({"base": BASE, "axes": {"events.0.magnitude": [100, 60000], "events.0.duration_hours": [3, 9]}})
    with pytest.raises(GridError) as exc:
        expand(g, "melbourne")
    msg = str(exc.value)
    assert "3 of 4 combinations are invalid" in msg
    assert "magnitude 60000 people is out of range (at most 50000) -- in 2 combination(s)" in msg
    assert "beyond the horizon of 8 h" in msg and "events.0.duration_hours = 9" in msg
    assert "Traceback" not in msg


def test_bad_start_hour_out_of_range_is_refused():
    with pytest.raises(GridError, match="start_hour: Input should be less than or equal to 23"):
        expand(parse_grid({"base": BASE, "axes": {"start_hour": [5, 24]}}), "melbourne")


def test_too_many_combinations_is_refused_before_building(monkeypatch):
    axes = {"events.0.magnitude": list(range(1, 401)), "events.0.reach_km": [i / 100 for i in range(300)]}
    built = []
    monkeypatch.setattr(grid_mod, "_build", lambda *a: built.append(a))
    with pytest.raises(GridError, match=r"120,000 combinations .* more than the limit of 100,000"):
        expand(parse_grid({"base": BASE, "axes": axes}), "melbourne")
    assert not built, "no scenario is built before the size is checked"
    monkeypatch.undo()
    with pytest.raises(GridError, match="more than the limit of 10"):
        expand(
            parse_grid({"base": BASE, "axes": {"events.0.magnitude": list(range(1, 12))}, "max_scenarios": 10}),
            "melbourne",
        )
    with pytest.raises(GridError, match="max_scenarios"):
        parse_grid({"base": BASE, "max_scenarios": 100_001})


def test_bad_grid_files_are_refused(tmp_path: Path):
    with pytest.raises(GridError, match="grid file not found"):
        load_grid(tmp_path / "nope.json")
    (tmp_path / "g.yaml").write_text("base: {}")
    with pytest.raises(GridError, match="unknown grid file type"):
        load_grid(tmp_path / "g.yaml")
    (tmp_path / "g.json").write_text("{not json")
    with pytest.raises(GridError, match="cannot parse the file"):
        load_grid(tmp_path / "g.json")
    (tmp_path / "h.json").write_text(json.dumps({"base": BASE, "axis": {}}))
    with pytest.raises(GridError, match="axis: Extra inputs are not permitted"):
        load_grid(tmp_path / "h.json")
    (tmp_path / "e.json").write_text(json.dumps({"base": BASE, "axes": {"start_hour": []}}))
    with pytest.raises(GridError, match="axis 'start_hour' has no values"):
        load_grid(tmp_path / "e.json")


def test_bad_city_in_the_base_is_refused():
    with pytest.raises(GridError, match="for city 'los-angeles', not 'melbourne'"):
        expand(parse_grid({"base": {**BASE, "city": "los-angeles"}}), "melbourne")


def test_scenario_seed_depends_on_grid_seed_and_content_only():
    a, b = (p.scenario for p in expand(grid(), "melbourne")[:2])
    assert scenario_seed(3, a) == scenario_seed(3, Scenario.from_json(a.to_json()))
    assert scenario_seed(3, a) != scenario_seed(4, a)
    assert scenario_seed(3, a) != scenario_seed(3, b)
    assert 0 <= scenario_seed(3, a) < 2**63
    assert scenario_seed(3, a, "common") == scenario_seed(3, b, "common") == 3
