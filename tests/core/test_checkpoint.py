"""Checkpoints: round trip, and refusal of another city, other data, altered weights and pickles."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from explorer.cities import load_city
from explorer.errors import CheckpointError
from explorer.models.checkpoint import load_checkpoint, save_checkpoint


@pytest.fixture()
def saved(tmp_path, tiny_city_dir):
    city = load_city(tiny_city_dir)
    tensors = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3)}
    base = tmp_path / "model"
    save_checkpoint(base, tensors, {"kind": "imputer", "config": {"hidden": 8}, "metrics": {"mae": 1.0}}, city)
    return base, city, tensors


def test_round_trip(saved):
    base, city, tensors = saved
    loaded, meta = load_checkpoint(base, city, "imputer")
    assert torch.equal(loaded["w"], tensors["w"])
    assert meta["city"] == "tiny" and meta["config"] == {"hidden": 8} and meta["data_hash"] == city.data_hash
    assert meta["command"].startswith("explorer")


def test_refuses_other_city(saved, la):
    base, _, _ = saved
    with pytest.raises(CheckpointError, match="trained for city 'tiny', not 'los-angeles'"):
        load_checkpoint(base, la, "imputer")


def test_refuses_other_kind(saved):
    base, city, _ = saved
    with pytest.raises(CheckpointError, match="not a 'generator'"):
        load_checkpoint(base, city, "generator")


def test_refuses_altered_or_truncated_weights(saved):
    base, city, _ = saved
    w = base.with_suffix(".safetensors")
    w.write_bytes(w.read_bytes()[:-7])
    with pytest.raises(CheckpointError, match="altered or truncated"):
        load_checkpoint(base, city, "imputer")


def test_refuses_pickle_disguised_as_weights(saved):
    base, city, _ = saved
    blob = pickle.dumps({"w": [1, 2, 3]})
    base.with_suffix(".safetensors").write_bytes(blob)
    meta = json.loads(base.with_suffix(".json").read_text())
    import hashlib

    meta["weights_sha256"] = hashlib.sha256(blob).hexdigest()  # even with a matching hash
    base.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_checkpoint(base, city, "imputer")


def test_refuses_changed_data(saved, tiny_city_dir):
    base, _, _ = saved
    from tests.conftest import tiny_series

    df = tiny_series()
    df["a"] = df["a"] + 1.0  # the same city with revised readings
    df.to_csv(tiny_city_dir / "series.csv", index=False)
    with pytest.raises(CheckpointError, match="different data"):
        load_checkpoint(base, load_city(tiny_city_dir), "imputer")
