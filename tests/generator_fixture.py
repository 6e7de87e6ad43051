"""The generator the page and export tests use: the committed checkpoint of the city.

``EXPLORER_MODELS_DIR`` may point elsewhere (development); in CI the committed checkpoints are used.
"""

from __future__ import annotations

from explorer.models.generator.api import GeneratorBundle, load_generator
from explorer.settings import get_settings


def trained_generator(city) -> GeneratorBundle:
    root = get_settings().models_dir
    return load_generator(city, None if root is None else root / city.slug / "generator")
