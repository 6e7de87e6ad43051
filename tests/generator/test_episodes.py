"""Episodes (surges grouped into events with an origin) and the backtest's scores on cases with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explorer.models.generator.episodes import episodes_from_runs, group_runs, origin_field

# a line of five sensors: 0-1-2-3-4
LINE = np.eye(5, k=1) + np.eye(5, k=-1)


def _runs(rows):
    return pd.DataFrame(rows, columns=["sensor", "sensor_id", "t", "duration_hours", "size", "size_native"])


def test_runs_on_linked_sensors_at_overlapping_hours_are_one_episode_with_the_largest_as_origin():
    runs = _runs([
        (1, "b", 10, 2, 0.3, 30.0),   # a small run first ...
        (2, "c", 11, 3, 0.6, 60.0),   # ... the largest (0.6 x 3 h) next door: the origin
        (3, "d", 13, 1, 0.2, 20.0),   # the queue reaches the next sensor as it ends: same episode
        (0, "a", 40, 2, 0.9, 90.0),   # much later: another episode
        (4, "e", 11, 2, 0.5, 50.0),   # same hours but not linked to sensor 1 or 2 ... linked to 3 (hour 13)
    ])  # fmt: skip
    labels = group_runs(runs, LINE)
    assert labels[0] == labels[1] == labels[2] == labels[4] and labels[3] != labels[0]
    eps = episodes_from_runs(runs, pd.Timestamp("2020-01-01"), LINE)
    assert len(eps) == 2
    first = eps.iloc[0]
    assert first["origin_id"] == "c" and first["t0"] == 11 and first["n_runs"] == 4 and first["n_sensors"] == 4
    assert first["start"] == pd.Timestamp("2020-01-01 11:00")
    assert (first["t_first"], first["t_last"]) == (10, 14)


def test_runs_far_apart_in_time_or_space_stay_apart():
    runs = _runs([(0, "a", 5, 1, 0.4, 40.0), (4, "e", 5, 1, 0.4, 40.0), (0, "a", 9, 1, 0.4, 40.0)])
    assert len(set(group_runs(runs, LINE))) == 3


def test_origin_field_holds_each_origin_over_its_hours_in_event_units():
    runs = _runs([(1, "b", 3, 2, 0.5, 200.0)])
    eps = episodes_from_runs(runs, pd.Timestamp("2020-01-01"), LINE)
    speed = origin_field(eps, (8, 5), "speed")
    counts = origin_field(eps, (8, 5), "counts", count_scale=100.0)
    assert speed[3:5, 1].tolist() == [0.5, 0.5] and speed.sum() == 1.0
    assert counts[3:5, 1].tolist() == [2.0, 2.0] and counts.sum() == 4.0


@pytest.fixture(scope="module")
def melbourne_backtest():
    from explorer.cities import load_city
    from explorer.models.generator.backtest import BacktestSettings, backtest
    from tests.generator_fixture import trained_generator

    bundle = trained_generator(load_city("melbourne"))
    return backtest(bundle.view, settings=BacktestSettings(n_samples=8, max_events=12, val_events=4), model=bundle)


def test_backtest_scores_have_their_known_answers(melbourne_backtest):
    """No event reproduces none of the effect; the real outcome reproduces all of it, at every peak, and scores
    the lowest CRPS where the episode reached: the scores can tell a right answer from a wrong one."""
    ms = melbourne_backtest["methods"]
    assert ms["no_event"]["effect_reproduced"] == 0.0 and ms["no_event"]["peak_within_1h"] == 0.0
    assert ms["oracle"]["effect_reproduced"] == pytest.approx(1.0)
    assert ms["oracle"]["peak_within_1h"] == 1.0
    assert ms["oracle"]["reached_crps"] < min(ms[m]["reached_crps"] for m in ("no_event", "painted", "analogue"))
    assert melbourne_backtest["events"] == 12
    assert {"no_event", "painted", "analogue", "model"} <= set(ms)


def test_backtest_requests_say_only_what_a_planner_knows():
    from explorer.models.generator.backtest import BacktestSettings, cases
    from explorer.models.generator.data import prepare

    prep = prepare("melbourne")
    test_days = {str(prep.dates[d]) for d in prep.splits["test"]}
    for c in cases(prep, "test", BacktestSettings(), limit=10):
        (ev,) = c.scenario.events
        assert set(ev.place.model_dump(exclude_none=True)) == {"sensor_id"}
        assert ev.unit == "people" and ev.reach_km == 10.0
        assert str(c.scenario.day.date) in test_days


@pytest.mark.slow
def test_the_committed_backtest_figure_recomputes_from_the_checkpoint():
    """docs/generator_results.md's Melbourne backtest: the model's footprint CRPS and effect reproduced, recomputed
    from the committed checkpoint with the documented settings (not read from any stored JSON)."""
    import re

    from explorer.cities import load_city
    from explorer.models.generator.backtest import backtest
    from explorer.settings import REPO_ROOT
    from tests.generator_fixture import trained_generator

    text = (REPO_ROOT / "docs" / "generator_results.md").read_text()
    section = text.split("<!-- results:backtest:melbourne -->")[1].split("<!-- /results")[0]
    row = re.search(r"\| \(d\) this model \| ([\d.]+) \| [\d.]+ \| [\d.]+ \| [\d.]+ \| ([-\d.]+) \|", section)
    bundle = trained_generator(load_city("melbourne"))
    rep = backtest(bundle.view, model=bundle)
    assert rep["methods"]["model"]["footprint_crps"] == pytest.approx(float(row.group(1)), rel=2e-3)
    assert rep["methods"]["model"]["effect_reproduced"] == pytest.approx(float(row.group(2)), abs=2e-3)


def test_backtest_on_validation_episodes_for_choosing_models(tmp_path):
    """``--part val`` scores the validation days' episodes (how the committed checkpoints were chosen), never the
    held-out ones, and cannot overwrite the held-out table."""
    import json

    from typer.testing import CliRunner

    from explorer.models.generator.cli import app
    from explorer.models.generator.data import prepare

    prep = prepare("melbourne")
    val_days = [str(prep.dates[d]) for d in prep.splits["val"]]
    r = CliRunner().invoke(app, ["backtest", "--city", "melbourne", "--part", "val", "--max-events", "6",
                                 "--samples", "8", "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["part"] == "val" and rep["events"] == 6
    assert rep["held_out_days"] == [val_days[0], val_days[-1]]
    out = tmp_path / "results.md"
    bad = CliRunner().invoke(app, ["backtest", "--city", "melbourne", "--part", "val", "--markdown", str(out)])
    assert bad.exit_code == 2 and "held-out table only" in bad.output and not out.exists()
    wrong = CliRunner().invoke(app, ["backtest", "--city", "melbourne", "--part", "train"])
    assert wrong.exit_code == 2 and "--part must be test or val" in wrong.output
