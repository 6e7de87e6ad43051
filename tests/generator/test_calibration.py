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
from explorer.models.generator.calibration import EVENT_GAIN_BOUNDS, event_requests, request_errors
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


def test_the_stored_calibration_figures_recompute_from_the_checkpoint(ckpt):
    """The validation errors in the JSON are what the checkpoint's own weights give on the same requests, as
    trained (gain 1) and with the stored gain: recomputed here, not read back."""
    m = json.loads(ckpt.with_suffix(".json").read_text())["metrics"]
    assert m["event_gain"] == 1.0 or EVENT_GAIN_BOUNDS[0] <= m["event_gain"] <= EVENT_GAIN_BOUNDS[1]
    assert 0 < m["alpha"] and m["val_requests"] == 8
    bundle = load_generator(load_city("melbourne"), ckpt)
    requests = event_requests(prepare(bundle.view), 8, 4321, split="val")
    bundle.event_gain = 1.0
    assert float(request_errors(bundle, requests, 8, 4321).mean()) == pytest.approx(m["val_ctrl_error_raw"], abs=1e-4)
    bundle.event_gain = m["event_gain"]
    got = float(request_errors(bundle, requests, 8, 4321).mean())
    assert got == pytest.approx(m["val_ctrl_error_calibrated"], abs=1e-4)


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


def test_an_untrained_event_branch_paints_the_origin_only_so_any_spread_is_learned():
    """At initialisation the response is the request at the origin over its hours, and nothing anywhere else:
    whatever a trained model does at other sensors and hours comes from training."""
    import torch

    from explorer.models.generator.model import EventResponse, GeneratorConfig

    adj = np.asarray(load_city("melbourne").adjacency)
    branch = EventResponse(GeneratorConfig(), adj)
    field = torch.zeros(1, 24, adj.shape[0])
    field[0, 5:8, 4] = 0.7
    cols, resp = branch.support(field)
    assert cols.tolist() == [4]
    np.testing.assert_allclose(resp[:, 0].sum(-1).numpy(), np.r_[np.zeros(5), [0.7] * 3, np.zeros(16)], atol=1e-7)


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
    assert meta["command"] == before_meta["command"] and meta["config"] == before_meta["config"]
    assert meta["calibration_command"].startswith("explorer generate calibrate")
    assert meta["trained"] == before_meta["created"]
    assert load_generator(load_city("melbourne"), base).event_gain == pytest.approx(meta["metrics"]["event_gain"])


def test_cli_calibrate_of_another_city_is_refused(ckpt):
    r = CliRunner().invoke(app, ["calibrate", "--city", "los-angeles", "--checkpoint", str(ckpt)])
    assert r.exit_code == 2 and "melbourne" in r.output and "Traceback" not in r.output


def test_the_committed_spread_calibration_recomputes_from_its_weights():
    """The Model card's validation coverage and alpha of the committed Melbourne checkpoint, recomputed."""
    from explorer.models.generator.calibration import calibrate_spread
    from tests.generator_fixture import trained_generator

    bundle = trained_generator(load_city("melbourne"))
    m = bundle.meta["metrics"]
    prep = prepare(bundle.view)
    alpha, raw, cal = calibrate_spread(bundle, prep, prep.splits["val"], n_samples=64)
    assert alpha == pytest.approx(m["alpha"]) and bundle.alpha == pytest.approx(m["alpha"])
    assert raw == pytest.approx(m["val_coverage_raw"], abs=2e-4)
    assert cal == pytest.approx(m["val_coverage_calibrated"], abs=2e-4)


@pytest.mark.badinput
@pytest.mark.parametrize("text", ["", "not json", "[1, 2]"])
def test_cli_eval_from_a_file_that_is_not_a_report_is_refused(tmp_path, text):
    bad = tmp_path / "report.json"
    bad.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(app, ["eval", "--city", "melbourne", "--from-json", str(bad)])
    assert r.exit_code == 2 and "is not a saved --json report" in r.output and "Traceback" not in r.output
