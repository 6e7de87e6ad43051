"""The quick evaluation path (all six methods), recomputed and stored figures, and the app-facing impute()."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from explorer.models.imputer.api import impute
from explorer.models.imputer.cli import app
from explorer.models.imputer.model import ImputerConfig, STImputer


def test_quick_eval_prints_every_method_as_json() -> None:
    methods = ["mean", "interpolation", "knn", "stgar"]
    try:
        import pypots  # noqa: F401

        methods += ["brits", "saits"]
    except ImportError:
        pass
    args = ["eval", "--city", "melbourne", "--protocol", "block", "--quick", "--json", "--threads", "1"]
    result = CliRunner().invoke(app, [*args, "--methods", ",".join(methods)])
    assert result.exit_code == 0, result.output
    assert "recomputing block on the test part (50 samples" in result.stderr
    out = json.loads(result.stdout[result.stdout.index("{"):])
    assert sorted(out) == sorted(methods)
    for name, r in out.items():
        assert {"mae", "mse", "mre", "crps", "coverage", "train_s", "infer_s"} <= set(r)
        assert np.isfinite(r["mae"]) and r["mae"] > 0, name
        if name != "stgar":  # a point forecast's CRPS is its MRE; it has no band
            assert r["crps"] == pytest.approx(r["mre"], rel=1e-4) and r["coverage"] is None, name
    assert out["interpolation"]["mae"] < out["mean"]["mae"]
    model = out["stgar"]
    assert 0 < model["coverage"] < 1 and model["crps"] < model["mre"]  # a spread of samples beats its own median
    assert {"lag1_real", "lag1_sampled", "neighbour_real", "neighbour_sampled"} <= set(model)


def test_impute_fills_only_gaps_inside_active_spans(melbourne) -> None:
    series = melbourne.series
    model = STImputer(ImputerConfig(n_nodes=series.shape[1], slots_per_day=24, hidden=8, n_neighbours=4))
    spans = melbourne.active_spans()
    late = spans["first"].idxmax()  # the counter installed last
    start = spans.loc[late, "first"] - 3 * melbourne.freq * 24
    end = start + 7 * melbourne.freq * 24
    res = impute(melbourne, n_samples=4, seed=1, start=start, end=end, model=model, meta={})
    obs = res.observed.to_numpy()
    imputed = res.imputed.to_numpy()
    assert res.mean.shape == obs.shape == imputed.shape
    assert not (imputed & ~np.isnan(obs)).any()  # measured values are never marked imputed
    np.testing.assert_array_equal(res.mean.to_numpy()[~np.isnan(obs)], obs[~np.isnan(obs)])
    before = res.observed.index < spans.loc[late, "first"]
    assert not imputed[before, list(series.columns).index(late)].any()  # not filled before installation
    assert np.isnan(res.mean[late].to_numpy()[before]).all()
    assert not imputed.all()

    gaps = melbourne.active_mask().to_numpy() & series.isna().to_numpy()
    first_gap = series.index[np.flatnonzero(gaps.any(axis=1))[0]]
    res = impute(melbourne, n_samples=4, seed=1, start=first_gap - 24 * melbourne.freq,
                 end=first_gap + 48 * melbourne.freq, model=model, meta={})
    imputed = res.imputed.to_numpy()
    assert imputed.any()
    lo, mid, hi = (f.to_numpy()[imputed] for f in (res.p10, res.mean, res.p90))
    assert (lo <= mid).all() and (mid <= hi).all() and (lo < hi).any()
    assert (lo >= 0).all(), "pedestrian counts: no negative fill or band, even from an untrained model"
    assert res.samples.shape == (4, *imputed.shape)  # n_samples < keep_samples: all of them kept
    obs = res.observed.to_numpy()
    for k in range(4):
        draw = res.sample_frame(k).to_numpy()
        np.testing.assert_array_equal(draw[~np.isnan(obs)], obs[~np.isnan(obs)])  # measured stays measured
        assert np.isfinite(draw[imputed]).all() and (draw[imputed] >= 0).all()
        assert np.isnan(draw[~imputed & np.isnan(obs)]).all()  # nothing filled outside active spans
    assert not np.array_equal(res.samples[0][imputed], res.samples[1][imputed])
    again = impute(melbourne, n_samples=4, seed=1, start=res.mean.index[0], end=res.mean.index[-1], model=model,
                   meta={})
    np.testing.assert_array_equal(res.p90.to_numpy(), again.p90.to_numpy())
    with pytest.raises(ValueError, match="n_samples"):
        impute(melbourne, n_samples=0, model=model, meta={})


def test_band_scale_reaches_target_coverage_on_validation(melbourne) -> None:
    from explorer.models.imputer.api import fit_band_scale

    series = melbourne.series.iloc[:600, :12]
    model = STImputer(ImputerConfig(n_nodes=12, slots_per_day=24, hidden=8, n_neighbours=4))
    cal = fit_band_scale(model, series, n_samples=8, max_steps=60)
    assert 1.0 <= cal["band_scale"] <= 6.01
    assert cal["val_coverage_uncalibrated"] < 0.8  # an untrained model's band is too narrow...
    assert cal["val_coverage"] > cal["val_coverage_uncalibrated"]  # ...and widening it covers more


def test_committed_model_never_shows_negative_counts(melbourne) -> None:
    """The calibrated band is widened around P50; for pedestrian counts it must still stay at or above zero."""
    from explorer.models.imputer.store import load_imputer

    model, meta = load_imputer(melbourne)
    res = impute(melbourne, n_samples=8, seed=0, start="2014-08-27", end="2014-09-03", model=model, meta=meta)
    imputed = res.imputed.to_numpy()
    assert imputed.any()
    for frame in (res.p10, res.mean, res.p50, res.p90):
        assert (frame.to_numpy()[imputed] >= 0).all()


def test_stored_figures_are_labelled_and_match_the_checkpoint(melbourne) -> None:
    from explorer.models.checkpoint import read_metadata
    from explorer.models.imputer.store import default_path

    result = CliRunner().invoke(app, ["eval", "--city", "melbourne", "--protocol", "block", "--stored", "--json"])
    assert result.exit_code == 0, result.output
    assert "STORED figures" in result.stderr and "nothing was recomputed" in result.stderr
    out = json.loads(result.stdout[result.stdout.index("{"):])
    assert out["stored"] is True
    assert out["stgar"] == read_metadata(default_path(melbourne))["metrics"]["block"]


def test_headline_figure_recomputes_from_the_committed_checkpoint(los_angeles) -> None:
    """The committed Los Angeles checkpoint's stored check (first test day, point mask, 50 samples) recomputes."""
    from explorer.models.imputer.evaluate import headline_check
    from explorer.models.imputer.store import load_imputer

    model, meta = load_imputer(los_angeles)
    stored = meta["metrics"]["check"]
    again = headline_check(model, los_angeles.series, los_angeles.adjacency)
    assert again["mae"] == pytest.approx(stored["mae"], abs=2e-4)
    assert again["crps"] == pytest.approx(stored["crps"], abs=2e-5)
    from explorer.models.imputer.baselines import interpolate_impute
    from explorer.models.imputer.data import prepare
    from explorer.models.imputer.metrics import mae

    data = prepare(los_angeles.series, "point")
    b = data.bounds[1]
    day = slice(b, b + stored["steps"])
    interp = interpolate_impute(data.model_input, data.bounds[0])[day]
    assert stored["mae"] < mae(interp, data.target[day], data.hidden[day])  # and it beats interpolation there
