"""The generation contract on a real (dry-run trained) model: seeds, same noise, checkpoints, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from explorer.cities import load_city
from explorer.errors import CheckpointError
from explorer.models.generator.api import generate, load_generator
from explorer.models.generator.cli import app
from explorer.scenarios import Scenario

SCENARIO = {
    "city": "melbourne",
    "day": {"date": "2014-09-26"},
    "start_hour": 16,
    "horizon_hours": 8,
    "events": [
        {"place": {"sensor_id": "4"}, "magnitude": 3000, "unit": "people", "start_offset_hours": 2,
         "duration_hours": 3, "reach_km": 0.3}
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def melbourne():
    return load_city("melbourne")


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    """A checkpoint written by the real training loop, in dry-run mode, through the CLI."""
    out = tmp_path_factory.mktemp("gen") / "generator"
    r = CliRunner().invoke(app, ["train", "--city", "melbourne", "--dry-run", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.with_suffix(".safetensors").is_file()
    return out


@pytest.fixture(scope="module")
def bundle(melbourne, ckpt):
    return load_generator(melbourne, ckpt)


def test_dry_run_writes_a_self_describing_checkpoint(ckpt, melbourne):
    meta = json.loads(ckpt.with_suffix(".json").read_text())
    assert meta["kind"] == "generator" and meta["city"] == "melbourne" and meta["dry_run"] is True
    assert meta["data_hash"] == melbourne.data_hash
    assert meta["config"]["steps"] == 3
    # the spread calibration aims at 80 % P10-P90 coverage on validation days (alpha on a 0.05 grid)
    assert meta["metrics"]["val_coverage_calibrated"] == pytest.approx(0.8, abs=0.03)
    assert meta["training_data"].startswith("masked history")


def test_same_seed_same_numbers_other_seed_different(melbourne, bundle):
    sc = Scenario.model_validate(SCENARIO)
    a = generate(melbourne, sc, n_samples=16, seed=3, model=bundle)
    b = generate(melbourne, sc, n_samples=16, seed=3, model=bundle)
    c = generate(melbourne, sc, n_samples=16, seed=4, model=bundle)
    np.testing.assert_array_equal(a.scenario_samples, b.scenario_samples)
    np.testing.assert_array_equal(a.baseline, b.baseline)
    assert a.headline == b.headline
    assert not np.allclose(a.baseline, c.baseline)
    assert a.baseline.shape == (16, 8, 39)
    assert list(a.times) == list(pd.date_range("2014-09-26 16:00", periods=8, freq="1h"))


def test_baseline_and_scenario_share_the_noise(melbourne, bundle):
    sc = Scenario.model_validate(SCENARIO)
    quiet = Scenario.model_validate({**SCENARIO, "events": []})
    with_event = generate(melbourne, sc, n_samples=8, seed=11, model=bundle)
    without = generate(melbourne, quiet, n_samples=8, seed=11, model=bundle)
    # the baseline is the same draw as the event-free scenario: the difference isolates the event
    np.testing.assert_allclose(with_event.baseline, without.scenario_samples, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(without.difference, 0.0)
    place = with_event.sensor_ids.index("4")
    assert np.median(with_event.difference[:, 2:5, place]) > 0  # more people during the event


def test_result_quantiles_and_frame(melbourne, bundle):
    res = generate(melbourne, Scenario.model_validate(SCENARIO), n_samples=16, seed=0, model=bundle)
    q = res.quantiles("scenario")
    assert q.shape == (3, 8, 39) and (q[0] <= q[1]).all() and (q[1] <= q[2]).all()
    frame = res.to_frame()
    assert len(frame) == 8 * 39 and {"scenario_p50", "difference_p90"} <= set(frame.columns)
    assert res.headline["unit"] == melbourne.manifest.series.unit
    assert "extra_pedestrian_hours_p10_p50_p90" in res.headline
    (check,) = res.headline["events_requested_vs_generated"]
    assert check["sensor_id"] == "4" and check["requested"] == 3000 and check["unit"] == "people"
    assert check["generated"] > 0


def test_checkpoint_of_another_city_is_refused(ckpt):
    with pytest.raises(CheckpointError, match="trained for city 'melbourne', not 'los-angeles'"):
        load_generator(load_city("los-angeles"), ckpt)


def test_cli_run_is_reproducible_and_writes_parquet_and_geojson(ckpt, tmp_path):
    spec = tmp_path / "scenario.json"
    spec.write_text(json.dumps(SCENARIO))
    runner = CliRunner()
    outs = []
    for seed, name in ((5, "a.parquet"), (5, "b.parquet"), (6, "c.parquet")):
        args = ["run", "--city", "melbourne", "--scenario", str(spec), "--samples", "8", "--seed", str(seed),
                "--out", str(tmp_path / name), "--checkpoint", str(ckpt)]  # fmt: skip
        r = runner.invoke(app, args)
        assert r.exit_code == 0, r.output
        outs.append(pd.read_parquet(tmp_path / name))
    pd.testing.assert_frame_equal(outs[0], outs[1])
    assert not outs[0]["scenario_p50"].equals(outs[2]["scenario_p50"])
    geo = tmp_path / "r.geojson"
    args = ["run", "--city", "melbourne", "--scenario", str(spec), "--samples", "8", "--out", str(geo),
            "--checkpoint", str(ckpt)]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    doc = json.loads(geo.read_text())
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 39
    assert len(doc["features"][0]["properties"]["scenario_p50"]) == 8
    # hours as the scenario's day and time (here a dated Friday from 16:00), in both outputs
    assert doc["properties"]["times"][0] == "Fri 26 Sep 2014 16:00" and len(doc["properties"]["times"]) == 8
    assert outs[0]["time"].iloc[0] == "Fri 26 Sep 2014 16:00" and outs[0]["time"].iloc[-1] == "Fri 26 Sep 2014 23:00"


def test_cli_run_refuses_a_bad_scenario(ckpt, tmp_path):
    spec = tmp_path / "bad.json"
    spec.write_text(json.dumps({**SCENARIO, "start_hour": 30}))
    r = CliRunner().invoke(app, ["run", "--city", "melbourne", "--scenario", str(spec), "--out",
                                 str(tmp_path / "x.parquet"), "--checkpoint", str(ckpt)])  # fmt: skip
    assert r.exit_code == 2
    assert not (tmp_path / "x.parquet").exists()


def test_event_free_samples_stay_inside_what_each_sensor_recorded_in_training():
    """The committed Los Angeles generator's heavy tails put about 4 % of its calibrated samples outside a
    sensor's training range (above its all-time highest hourly speed, a few at 0 mph): generate() keeps the
    baseline inside each sensor's training range. The range the app uses (from the checkpoint's recorded
    training days) is the one the evaluation scores with (from the prepared split), and it is a real range, not
    the 0-90 mph guard."""
    from explorer.models.generator.data import prepare
    from tests.generator_fixture import trained_generator

    la = load_city("los-angeles")
    bundle = trained_generator(la)
    lo, hi = bundle.observed_range
    p_lo, p_hi = prepare(bundle.view).observed_range
    np.testing.assert_array_equal(lo, p_lo)
    np.testing.assert_array_equal(hi, p_hi)
    assert np.isfinite(lo).all() and 0 < hi.max() <= 90 and hi.max() < 85 and lo.min() >= 0
    sc = Scenario.model_validate({"city": "los-angeles", "day": {"day_of_week": 4}, "start_hour": 15,
                                  "horizon_hours": 9})
    res = generate(la, sc, 64, seed=0, model=bundle)
    assert ((res.baseline >= lo) & (res.baseline <= hi)).all()
    assert (np.median(res.baseline, axis=0) > 1).all()  # no freeway at a standstill on an ordinary Friday


def test_cli_train_records_chosen_loss_weights_and_refuses_a_negative_one(tmp_path):
    out = tmp_path / "generator"
    r = CliRunner().invoke(app, ["train", "--city", "melbourne", "--dry-run", "--crps-weight", "30", "--adv-weight",
                                 "0.3", "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    meta = json.loads(out.with_suffix(".json").read_text())
    # (the recorded command is sys.argv: not the runner's)
    assert meta["config"]["crps_weight"] == 30.0 and meta["config"]["adv_weight"] == 0.3
    for flag in ("--crps-weight", "--adv-weight"):
        bad = CliRunner().invoke(app, ["train", "--city", "melbourne", "--dry-run", flag, "-1", "--out",
                                       str(tmp_path / "bad")])  # fmt: skip
        assert bad.exit_code == 2 and not (tmp_path / "bad.json").exists()


def test_cli_train_same_sign_keeps_the_event_weights_non_negative(tmp_path):
    """``--same-sign`` clips the event branch's graph, pattern and time weights at 0 after every step (so the
    response has the origin's sign everywhere); without it the same steps leave some of them negative."""
    from safetensors.torch import load_file

    lows = {}
    for flag in ("--same-sign", "--free-sign"):
        out = tmp_path / flag.strip("-")
        r = CliRunner().invoke(app, ["train", "--city", "melbourne", "--dry-run", flag, "--out", str(out)])
        assert r.exit_code == 0, r.output
        assert json.loads(out.with_suffix(".json").read_text())["config"]["same_sign"] is (flag == "--same-sign")
        w = load_file(str(out.with_suffix(".safetensors")))
        lows[flag] = min(float(w[k].min()) for k in w if k.split(".")[-1] in ("hop", "kernel", "pair"))
    assert lows["--same-sign"] >= 0.0
    assert lows["--free-sign"] < 0.0
