"""Self-describing checkpoints: safetensors weights beside a JSON metadata file.

The JSON records format version, package version, kind, city slug, data hash, the weights' sha256,
config, metrics and the command that made it. Loading refuses anything that does not match.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from explorer import __version__
from explorer.errors import CheckpointError
from explorer.io import atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    from explorer.cities import City

FORMAT_VERSION = 1


def _paths(base: str | Path) -> tuple[Path, Path]:
    base = Path(base)
    if base.suffix in (".safetensors", ".json"):
        base = base.with_suffix("")
    return base.with_suffix(".safetensors"), base.with_suffix(".json")


def save_checkpoint(base: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any], city: City,
                    *, kind: str | None = None) -> Path:
    """Write ``base.safetensors`` and ``base.json`` atomically; returns the weights path.

    ``meta`` should hold ``kind``, ``config``, ``metrics``; ``command`` defaults to this process's argv.
    """
    weights_path, meta_path = _paths(base)
    blob = st_save({k: v.detach().contiguous().cpu() for k, v in tensors.items()})
    record = {
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "kind": kind or meta.get("kind", "model"),
        "city": city.slug,
        "data_hash": city.data_hash,
        "weights_sha256": hashlib.sha256(blob).hexdigest(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": meta.get("command") or "explorer " + " ".join(sys.argv[1:]),
        "torch_version": torch.__version__,
        **{k: v for k, v in meta.items() if k not in ("kind", "command")},
    }
    atomic_write_bytes(weights_path, blob)
    atomic_write_text(meta_path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    return weights_path


def read_metadata(base: str | Path) -> dict[str, Any]:
    """The JSON metadata of a checkpoint, or CheckpointError."""
    _, meta_path = _paths(base)
    if not meta_path.is_file():
        raise CheckpointError("the checkpoint's metadata file is missing", where=str(meta_path),
                              fix="train the model again with 'explorer ... train' to write weights and metadata")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CheckpointError("the metadata file is not valid JSON", where=str(meta_path),
                              fix="restore it from version control or retrain the model") from None
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if version != FORMAT_VERSION:
        raise CheckpointError(f"unsupported checkpoint format {version}",
                              where=str(meta_path), fix="retrain the model with this version of the explorer")
    return meta


def _group(kind: str) -> str:
    return "impute" if kind == "imputer" else "generate"


def load_checkpoint(base: str | Path, city: City, kind: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Load weights (CPU) and metadata, refusing another city, other data, altered or non-safetensors files."""
    weights_path, _ = _paths(base)
    meta = read_metadata(base)
    if meta.get("kind") != kind:
        raise CheckpointError(f"this is a '{meta.get('kind')}' checkpoint, not a '{kind}'", where=str(weights_path),
                              fix=f"point to the {kind} checkpoint")
    if meta.get("city") != city.slug:
        raise CheckpointError(
            f"this checkpoint was trained for city '{meta.get('city')}', not '{city.slug}'",
            where=str(weights_path),
            fix=f"train one for this city: explorer {_group(kind)} train --city {city.slug}",
        )
    if meta.get("data_hash") != city.data_hash:
        raise CheckpointError(
            f"this checkpoint was trained on different data for '{city.slug}' (data hash differs)",
            where=str(weights_path),
            fix=f"retrain it on the current data: explorer {_group(kind)} train --city {city.slug}",
        )
    if not weights_path.is_file():
        raise CheckpointError("the weights file is missing", where=str(weights_path), fix="retrain the model")
    blob = weights_path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta.get("weights_sha256"):
        raise CheckpointError("the weights do not match the sha256 in their metadata: the file was altered or "
                              "truncated", where=str(weights_path),
                              fix="restore the file from version control or retrain the model")
    try:
        tensors = st_load(blob)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"the weights are not a valid safetensors file ({exc})", where=str(weights_path),
                              fix="only safetensors checkpoints are loaded; retrain the model") from None
    return tensors, meta
