"""Dry-run training through the CLI, checkpoint round trip, refusal of mismatched checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from explorer.errors import CheckpointError
from explorer.models.imputer.cli import DRY_SENSORS, DRY_STEPS, app
from explorer.models.imputer.infer import predict
from explorer.models.imputer.model import time_features
from explorer.models.imputer.store import load_imputer


@pytest.fixture(scope="module")
def dry_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("ckpt") / "imputer"
    result = CliRunner().invoke(app, ["train", "--city", "melbourne", "--dry-run", "--threads", "1",
                                      "--out", str(base)])
    assert result.exit_code == 0, result.output
    return base


def test_dry_run_writes_self_describing_checkpoint(dry_checkpoint: Path, melbourne) -> None:
    meta = json.loads(dry_checkpoint.with_suffix(".json").read_text())
    assert meta["kind"] == "imputer" and meta["city"] == "melbourne"
    assert meta["data_hash"] == melbourne.data_hash
    assert "--dry-run" in meta["command"]
    assert meta["config"]["model"]["n_nodes"] == DRY_SENSORS
    assert set(meta["metrics"]) >= {"val_mae", "point", "block", "check"}
    for protocol in ("point", "block"):
        figures = meta["metrics"][protocol]
        assert figures["mae"] > 0 and figures["crps"] > 0
        assert 0.5 < figures["coverage"] < 0.98, "a band calibrated to 80 % on validation: never none or all"
        assert {"lag1_real", "lag1_sampled", "neighbour_real", "neighbour_sampled"} <= set(figures)
    assert meta["calibration"]["band_scale"] > 0 and meta["config"]["model"]["residual"] == "graph-ar"
    assert meta["calibration"]["val_coverage"] == pytest.approx(0.8, abs=0.03)  # what band_scale is chosen for


def test_round_trip_gives_identical_predictions(dry_checkpoint: Path, melbourne) -> None:
    model, _ = load_imputer(melbourne, dry_checkpoint)
    again, _ = load_imputer(melbourne, dry_checkpoint)
    x = melbourne.series.iloc[:DRY_STEPS, :DRY_SENSORS].to_numpy(np.float32)
    slot, daytype = time_features(melbourne.series.index[:DRY_STEPS], 3600, 24)
    a = predict(model, x, slot, daytype, start=0, stop=96, stride=4)
    b = predict(again, x, slot, daytype, start=0, stop=96, stride=4)
    assert a.shape == (96, DRY_SENSORS) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, again.state_dict()[name]), name


def test_refuses_another_city(dry_checkpoint: Path, los_angeles) -> None:
    with pytest.raises(CheckpointError, match="trained for city 'melbourne'"):
        load_imputer(los_angeles, dry_checkpoint)


def test_refuses_altered_weights(dry_checkpoint: Path, melbourne, tmp_path: Path) -> None:
    base = tmp_path / "imputer"
    blob = bytearray(dry_checkpoint.with_suffix(".safetensors").read_bytes())
    blob[-5] ^= 0xFF
    base.with_suffix(".safetensors").write_bytes(bytes(blob))
    base.with_suffix(".json").write_text(dry_checkpoint.with_suffix(".json").read_text())
    with pytest.raises(CheckpointError, match="altered"):
        load_imputer(melbourne, base)


@pytest.mark.parametrize("change", [{"hidden": 64}, {"beta": 0.5, "latent": 4}])  # the second: the earlier CVAE's
def test_refuses_config_that_does_not_fit(dry_checkpoint: Path, melbourne, tmp_path: Path, change: dict) -> None:
    base = tmp_path / "imputer"
    meta = json.loads(dry_checkpoint.with_suffix(".json").read_text())
    meta["config"]["model"].update(change)
    base.with_suffix(".safetensors").write_bytes(dry_checkpoint.with_suffix(".safetensors").read_bytes())
    base.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="does not fit"):
        load_imputer(melbourne, base)


def test_refit_residual_keeps_the_point_path_and_round_trips(dry_checkpoint: Path, melbourne, tmp_path: Path) -> None:
    """A heavy-tailed residual refitted (warm) on a graph-ar checkpoint: every point-path weight and so every
    point prediction is unchanged, the residual moved, and the new checkpoint loads and samples identically."""
    from explorer.models.imputer.infer import sample
    from explorer.models.imputer.store import save_imputer
    from explorer.models.imputer.train import refit_residual

    model, meta = load_imputer(melbourne, dry_checkpoint)
    series = melbourne.series.iloc[:DRY_STEPS, :DRY_SENSORS]
    gsm = refit_residual(model, series, "graph-ar-gsm", steps=4, warm=True, calibrate=False)
    assert gsm.cfg.residual == "graph-ar-gsm" and model.cfg.residual == "graph-ar"
    before, after = model.state_dict(), gsm.state_dict()
    for name, tensor in before.items():
        if name.startswith("res_"):
            continue
        assert torch.equal(tensor, after[name]) or name == "band_scale", name
    assert not torch.equal(before["res_logits"], after["res_logits"])  # warm start, then trained
    assert not torch.allclose(after["res_mix_logits"], -0.5 * torch.linspace(-2.0, 3.0, 6) ** 2)
    x = series.to_numpy(np.float32)
    slot, daytype = time_features(series.index, 3600, 24)
    np.testing.assert_array_equal(predict(model, x, slot, daytype, 0, 96, 4), predict(gsm, x, slot, daytype, 0, 96, 4))
    path = save_imputer(gsm, melbourne, {"command": meta["command"], "config": {}}, tmp_path / "gsm")
    again, saved = load_imputer(melbourne, path.with_suffix(""))
    assert saved["config"]["model"]["residual"] == "graph-ar-gsm"
    draws = sample(gsm, x, slot, daytype, 5, 0, 0, 96)
    np.testing.assert_array_equal(draws, sample(again, x, slot, daytype, 5, 0, 0, 96))
    with pytest.raises(ValueError, match="unknown residual structure"):
        refit_residual(model, series, "gsm", steps=1)


def test_refit_residual_cli_refuses_an_unknown_structure() -> None:
    result = CliRunner().invoke(app, ["refit-residual", "--city", "melbourne", "--residual", "heavy"])
    assert result.exit_code != 0 and "--residual must be one of" in result.output
