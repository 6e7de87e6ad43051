"""One registry of settings: name, default and help. Read from ``EXPLORER_*`` environment variables.

Unknown ``EXPLORER_*`` variables and wrongly typed values are refused at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

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
    result_cache_mb: int = Field(
        1024, ge=16, le=1_000_000, description="Memory the server keeps for generated scenario results, shared by "
        "every session (least recently used dropped first).")
    # --- workshop (citizen voice) ---
    db_url: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9+]*://", max_length=2000,
        description="Workshop database as an SQLAlchemy URL (SQLite in WAL mode, or postgresql+psycopg://...); "
        "default: sqlite:///<repo>/var/workshop.db.")
    public_url: str | None = Field(
        None, pattern=r"^https?://[^\s/]+(/\S*)?$", max_length=500,
        description="Address phones should use, for the projector's QR code; default: the page's own address.")
    facilitator_pin: SecretStr | None = Field(
        None, min_length=1, max_length=64, description="When set, the projector's facilitator controls ask for it.")
    llm_url: str | None = Field(
        None, pattern=r"^https?://\S+$", max_length=500,
        description="Base URL of an OpenAI-compatible endpoint for Ask the city, e.g. http://127.0.0.1:11434/v1; "
        "unset: the offline parser only.")
    llm_model: str | None = Field(None, min_length=1, max_length=200, description="Model name for that endpoint.")
    llm_key: SecretStr | None = Field(None, description="Bearer token, if the endpoint needs one.")
    llm_timeout: float = Field(20.0, gt=0, le=600,
                               description="Seconds before Ask the city falls back to the offline parser.")


class _FromMapping(Settings):
    """The same fields, validated from keyword arguments only (the mapping read by ``load_settings``)."""

    @classmethod
    def settings_customise_sources(  # pydantic-settings passes every source by name; only init is kept
            cls,
            settings_cls: type[BaseSettings],  # noqa: ARG003
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,  # noqa: ARG003
            dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003
            file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def _unknown_env(env: Mapping[str, str]) -> list[str]:
    known = {f"EXPLORER_{name.upper()}" for name in Settings.model_fields}
    return sorted(k for k in env if k.startswith("EXPLORER_") and k not in known)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Validated settings from ``environ`` (default: the process environment), read afresh; one clear
    ``ExplorerError`` naming the bad variable. ``get_settings()`` is the cached one for start-up."""
    env = os.environ if environ is None else environ
    unknown = _unknown_env(env)
    if unknown:
        raise ExplorerError(f"unknown setting {', '.join(unknown)}", where="environment",
                            fix=f"remove it; known settings: {', '.join(sorted(Settings.model_fields))}")
    values: dict[str, str] = {}
    source: dict[str, str] = {}
    for name in Settings.model_fields:
        var = f"EXPLORER_{name.upper()}"
        if var in env:
            values[name], source[name] = env[var], var
    try:
        return _FromMapping(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else ""
        name = source.get(field, "EXPLORER_" + field.upper() if field else "EXPLORER_*")
        raise ExplorerError(f"{name} is invalid: {err['msg']}", where="environment",
                            fix="correct or unset the variable") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Validated settings, read once; raise one clear error naming the bad variable."""
    return load_settings()
