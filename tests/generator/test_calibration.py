"""Calibrations fitted after training: the event gain scales the event's effect and nothing else, is fitted on
validation requests (never held-out days), and ``explorer generate calibrate`` refits a checkpoint in place
without touching its weights."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from safetensors.torch import load_file
from typer.testing import CliRunner

from explorer.cities import load_city
from explorer.models.generator.api import generate, load_generator
from explorer.models.generator.calibration import EVENT_GAIN_BOUNDS, MODULATION_GRID, event_requests
from explorer.models.generator.cli import app
from explorer.models.generator.data import prepare
from explorer.scenarios import Scenario
from tests.generator.test_generate import SCENARIO


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "generator"
    r = CliRunner().invoke(app, ["train", "--city", "melbourne", "--dry-run", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_training_fits_both_calibrations_on_validation(ckpt):
    m = json.loads(ckpt.with_suffix(".json").read_text())["metrics"]
    assert EVENT_GAIN_BOUNDS[0] <= m["event_gain"] <= EVENT_GAIN_BOUNDS[1]
    assert m["event_modulation"] in MODULATION_GRID
    assert m["val_ctrl_error_calibrated"] <= m["val_ctrl_error_raw"]
    assert 0 < m["alpha"] and m["val_requests"] == 8


def test_requests_fall_on_the_split_asked_for():
    prep = prepare(load_city("melbourne"))
    val = {str(prep.dates[d]) for d in prep.splits["val"]}
    test = {str(prep.dates[d]) for d in prep.splits["test"]}
    assert {str(sc.day.date) for sc in event_requests(prep, 12, 0, split="val")} <= val
    assert {str(sc.day.date) for sc in event_requests(prep, 12, 0)} <= test


def test_event_gain_scales_the_effect_only(ckpt):
    bundle = load_generator(load_city("melbourne"), ckpt)
    sc = Scenario.model_validate(SCENARIO)
    bundle.event_gain = 1.0
    one = generate(bundle.view, sc, n_samples=8, seed=2, model=bundle)
    bundle.event_gain = 1.5
    more = generate(bundle.view, sc, n_samples=8, seed=2, model=bundle)
    np.testing.assert_array_equal(one.baseline, more.baseline)
    p = one.sensor_ids.index("4")
    assert np.median(more.difference[:, 2:5, p]) > np.median(one.difference[:, 2:5, p]) > 0


def test_without_modulation_the_gain_at_the_place_is_the_calibrated_gain(ckpt):
    """Modulation 0: the event response at a lone event's sensor is exactly gain x (1 + graph self-weight term)
    for every sample and hour, so the requested size is what comes out there, scaled by the gain."""
    bundle = load_generator(load_city("melbourne"), ckpt)
    bundle.event_modulation, bundle.event_gain = 0.0, 1.3
    ev = np.zeros((24, bundle.model.n), np.float32)
    ev[5:8, 4] = 0.7
    cond = np.zeros((24, 10), np.float32)
    _, cols, effect = bundle.sample(cond, ev, seed=1, n_samples=6)
    p = int(np.flatnonzero(cols == 4)[0])
    m = bundle.model
    self_w = float(m.spread_gain[4].detach()) * float(m.a[4, 4])  # Melbourne's graph is dense
    np.testing.assert_allclose(effect[:, 5:8, p], 1.3 * 0.7 * (1 + self_w), rtol=1e-5)
    assert np.all(effect[:, :5, p] == 0)


def test_cli_calibrate_refits_in_place_and_keeps_the_weights(ckpt, tmp_path):
    base = tmp_path / "generator"
    for suffix in (".safetensors", ".json"):
        shutil.copy(ckpt.with_suffix(suffix), base.with_suffix(suffix))
    before_meta = json.loads(base.with_suffix(".json").read_text())
    before = load_file(base.with_suffix(".safetensors"))
    r = CliRunner().invoke(app, ["calibrate", "--city", "melbourne", "--checkpoint", str(base)])
    assert r.exit_code == 0, r.output
    after = load_file(base.with_suffix(".safetensors"))
    meta = json.loads(base.with_suffix(".json").read_text())
    for k, v in before.items():
        if k.startswith("g.") or k in ("mu", "sd"):
            assert np.array_equal(v.numpy(), after[k].numpy()), k
    # deterministic: the same data and weights give the same calibration
    assert meta["metrics"]["event_gain"] == before_meta["metrics"]["event_gain"]
    assert meta["metrics"]["alpha"] == before_meta["metrics"]["alpha"]
    assert meta["metrics"]["event_modulation"] == before_meta["metrics"]["event_modulation"]
    assert meta["command"] == before_meta["command"] and meta["config"] == before_meta["config"]
    assert meta["calibration_command"].startswith("explorer generate calibrate")
    assert meta["trained"] == before_meta["created"]
    assert load_generator(load_city("melbourne"), base).event_gain == pytest.approx(meta["metrics"]["event_gain"])


def test_cli_calibrate_of_another_city_is_refused(ckpt):
    r = CliRunner().invoke(app, ["calibrate", "--city", "los-angeles", "--checkpoint", str(ckpt)])
    assert r.exit_code == 2 and "melbourne" in r.output and "Traceback" not in r.output
