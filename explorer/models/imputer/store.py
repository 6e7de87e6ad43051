"""Save and load the imputer through the project's self-describing checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.errors import CheckpointError
from explorer.models.checkpoint import load_checkpoint, save_checkpoint
from explorer.models.imputer.model import ImputerConfig, STImputer

if TYPE_CHECKING:
    from explorer.cities import City

KIND = "imputer"
NAME = "imputer"


def default_path(city: City) -> Path:
    """``data/cities/<slug>/models/imputer`` (without suffix)."""
    return city.models_dir / NAME


def save_imputer(model: STImputer, city: City, meta: dict[str, Any], path: Path | None = None) -> Path:
    """Write weights + JSON (config, metrics, command, ...) for ``city``; returns the weights path."""
    record = {"kind": KIND, **meta, "config": {"model": model.cfg.to_dict(), **meta.get("config", {})}}
    return save_checkpoint(path or default_path(city), model.state_dict(), record, city, kind=KIND)


def load_imputer(city: City, path: Path | None = None) -> tuple[STImputer, dict[str, Any]]:
    """Rebuild the model from its config and load the weights on CPU; raises CheckpointError."""
    tensors, meta = load_checkpoint(path or default_path(city), city, KIND)
    try:
        model = STImputer(ImputerConfig.from_dict(meta["config"]["model"]))
        model.load_state_dict(tensors)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"the checkpoint does not fit this model ({exc})", where=str(path or default_path(city)),
                              fix=f"retrain it: explorer impute train --city {city.slug}") from None
    return model.eval(), meta
