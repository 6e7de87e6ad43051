"""Running a grid: identical tables whatever the backend, worker count or chunking; the CLI writes Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from explorer.cli import app
from explorer.settings import get_settings
from explorer.sweep.grid import GridError, parse_grid
from explorer.sweep.run import run_sweep
from tests.sweep import BASE

AXES = {
    "events.0.place": ["4", "7", "18"],
    "events.0.magnitude": [200, 2000],
    "day": [{"day_of_week": 2}, {"day_of_week": 6, "holiday": True}],
}
GRID = {"seed": 5, "n_samples": 8, "base": BASE, "axes": AXES}


def _checkpoint() -> Path | None:
    """The committed Melbourne generator (or EXPLORER_MODELS_DIR's, as the other generator tests use)."""
    root = get_settings().models_dir
    return None if root is None else root / "melbourne" / "generator"


def sweep(grid: dict, **kw) -> pd.DataFrame:
    return run_sweep("melbourne", parse_grid(grid), device="cpu", checkpoint=_checkpoint(), progress=False, **kw)


@pytest.fixture(scope="module")
def serial() -> pd.DataFrame:
    return sweep(GRID, backend="serial")


def test_one_row_per_scenario_with_axes_and_headline(serial: pd.DataFrame):
    assert len(serial) == 12 and list(serial["scenario_id"]) == list(range(12))
    assert list(serial.columns[:4]) == ["scenario_id", "events.0.place", "events.0.magnitude", "day"]
    assert list(serial["events.0.place"][:4]) == ["4"] * 4
    assert serial["day"][1] == '{"day_of_week": 6, "holiday": true}'
    for col in ("seed", "peak_change", "sensors_affected", "extra_pedestrian_hours_p50", "e0_requested",
                "e0_generated", "e0_scenario_p10", "e0_scenario_p50", "e0_scenario_p90", "e0_change_p50",
                "scenario_json"):  # fmt: skip
        assert col in serial.columns, col
    assert (serial["e0_scenario_p10"] <= serial["e0_scenario_p50"]).all()
    assert (serial["e0_scenario_p50"] <= serial["e0_scenario_p90"]).all()
    assert serial["seed"].nunique() == 12
    # a bigger crowd gives a bigger change at the place, on the same day and place
    small, big = serial.iloc[0], serial.iloc[2]
    assert small["e0_requested"] == 200 and big["e0_requested"] == 2000
    assert big["e0_change_p50"] > small["e0_change_p50"] > 0


def test_process_pool_gives_the_same_table(serial: pd.DataFrame):
    pool = sweep(GRID, backend="process", workers=2, chunk_size=5)
    pd.testing.assert_frame_equal(serial, pool)


def test_chunking_and_position_do_not_change_a_scenario(serial: pd.DataFrame):
    # the same scenarios inside a smaller grid, run in other chunks: same seeds, same numbers
    sub = sweep({**GRID, "axes": {**AXES, "events.0.place": ["7"]}}, backend="serial", chunk_size=3)
    full = serial[serial["events.0.place"] == "7"].reset_index(drop=True)
    pd.testing.assert_frame_equal(sub.drop(columns="scenario_id"), full.drop(columns="scenario_id"))


def test_another_grid_seed_changes_the_numbers(serial: pd.DataFrame):
    other = sweep({**GRID, "seed": 6}, backend="serial")
    assert (other["seed"] != serial["seed"]).all()
    assert not (other["e0_scenario_p50"] == serial["e0_scenario_p50"]).any()
    # the size stated at the place is the same in every sample (origin_fixed), so it does not move with the seed
    pd.testing.assert_series_equal(other["e0_change_p50"], serial["e0_change_p50"], rtol=1e-4)
    same = ["scenario_id", *AXES, "unit", "e0_sensor_id", "e0_requested", "scenario_json"]
    pd.testing.assert_frame_equal(other[same], serial[same])


@pytest.mark.usefixtures("serial")
def test_common_seed_mode_shares_the_noise():
    common = sweep({**GRID, "seed_mode": "common"}, backend="serial")
    assert (common["seed"] == 5).all()
    # same day, same noise: the baseline at a place does not depend on the event's size
    a, b = common.iloc[0], common.iloc[2]
    assert a["e0_baseline_p50"] == b["e0_baseline_p50"]


def test_bad_places_are_refused_before_any_work():
    with pytest.raises(GridError, match=r"(?s)1 of 2 scenarios do not fit melbourne.*sensor '999' is not a sensor"):
        sweep({**GRID, "axes": {"events.0.place": ["4", "999"]}}, backend="serial")
    with pytest.raises(GridError, match="sensor 33 has no history"):
        sweep({**GRID, "axes": {"events.0.place": ["33"]}}, backend="serial")
    with pytest.raises(GridError, match="unit 'percent_slower' does not fit melbourne"):
        sweep({**GRID, "axes": {"events.0.unit": ["percent_slower"], "events.0.magnitude": [20]}}, backend="serial")


def test_cli_writes_a_readable_parquet(tmp_path: Path, serial: pd.DataFrame):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps(GRID))
    out = tmp_path / "out" / "sweep.parquet"
    args = ["sweep", "--city", "melbourne", "--grid", str(grid), "--out", str(out), "--workers", "1",
            "--device", "cpu", "--no-progress"]  # fmt: skip
    ckpt = _checkpoint()
    if ckpt is not None:
        args += ["--checkpoint", str(ckpt)]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "12 scenarios" in r.output and "scenarios/s" in r.output
    pd.testing.assert_frame_equal(pd.read_parquet(out), serial)
    assert not list(out.parent.glob(".*.tmp"))


def test_bad_cli_input_is_refused(tmp_path: Path):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({**GRID, "axes": {"day.weekday": [1]}}))
    r = CliRunner().invoke(
        app, ["sweep", "--city", "melbourne", "--grid", str(grid), "--out", str(tmp_path / "o.parquet")]
    )
    assert r.exit_code == 2 and "'weekday' is not a field of day" in r.output
    r = CliRunner().invoke(app, ["sweep", "--city", "melbourne", "--grid", str(grid), "--out", str(tmp_path / "o.csv")])
    assert r.exit_code == 2 and "--out must end in .parquet" in r.output
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ray_local_gives_the_same_table(serial: pd.DataFrame):
    ray = pytest.importorskip("ray")
    try:
        on_ray = sweep(GRID, ray_address="local", workers=2, chunk_size=5)
        assert not ray.is_initialized()  # the sweep started Ray, so it shut it down
    finally:
        if ray.is_initialized():
            ray.shutdown()
    pd.testing.assert_frame_equal(serial, on_ray)


def test_bad_ray_address_is_refused_fast():
    pytest.importorskip("ray")
    from explorer.sweep.run import SweepError

    with pytest.raises(SweepError, match="nothing answers at Ray address '127.0.0.1:1'"):
        sweep(GRID, ray_address="127.0.0.1:1")
    with pytest.raises(SweepError, match="the ray backend needs an address"):
        sweep(GRID, backend="ray")
    with pytest.raises(SweepError, match="unknown device 'tpu'"):
        run_sweep("melbourne", parse_grid(GRID), device="tpu", backend="serial", progress=False)


def test_device_cuda_without_a_gpu_is_refused():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    from explorer.sweep.run import SweepError

    with pytest.raises(SweepError, match="no CUDA GPU is visible"):
        run_sweep("melbourne", parse_grid(GRID), device="cuda", backend="serial", progress=False)


def test_cuda_is_close_to_cpu(serial: pd.DataFrame):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no GPU")
    gpu = run_sweep(
        "melbourne", parse_grid(GRID), backend="serial", device="cuda", checkpoint=_checkpoint(), progress=False
    )
    pd.testing.assert_frame_equal(gpu, serial, check_exact=False, rtol=1e-4, atol=1e-3)
