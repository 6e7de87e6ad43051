"""One registry of settings: name, default and help. Read from ``EXPLORER_*`` environment variables.

Unknown ``EXPLORER_*`` variables and wrongly typed values are refused at start-up.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from explorer.errors import ExplorerError

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent


class Settings(BaseSettings):
    """Every setting of the app and the CLI. Each field's description is its help text."""

    model_config = SettingsConfigDict(env_prefix="EXPLORER_", extra="forbid", frozen=True)

    cities_dir: Path = Field(REPO_ROOT / "data" / "cities", description="Folder holding one sub-folder per city.")
    models_dir: Path | None = Field(
        None, description="Folder with <city-slug>/generator.* and imputer.* checkpoints; default: each city's "
        "own models/ folder.")
    default_city: str = Field("los-angeles", description="Slug of the city the app opens on.")
    max_file_mb: int = Field(200, ge=1, le=5000, description="Largest layer or series file accepted, in MB.")
    road_source: str = Field(
        "layer",
        pattern="^(layer|graph)$",
        description="'layer' draws the city's road layer; 'graph' draws the sensor graph's edges instead "
        "(for road layers whose licence is unclear).",
    )
    map_aggregate_above: int = Field(
        2000, ge=1, description="Cities with more sensors than this draw them as h3 hexagons on the scenario map "
        "(a cell's sensors are shown one by one when it is selected).")


def _unknown_env() -> list[str]:
    known = {f"EXPLORER_{name.upper()}" for name in Settings.model_fields}
    return sorted(k for k in os.environ if k.startswith("EXPLORER_") and k not in known)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Validated settings; raise one clear error naming the bad variable."""
    unknown = _unknown_env()
    if unknown:
        raise ExplorerError(f"unknown setting {', '.join(unknown)}", where="environment",
                            fix=f"remove it; known settings: {', '.join(sorted(Settings.model_fields))}")
    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "EXPLORER_" + str(err["loc"][0]).upper() if err["loc"] else "EXPLORER_*"
        raise ExplorerError(f"{name} is invalid: {err['msg']}", where="environment",
                            fix="correct or unset the variable") from None
