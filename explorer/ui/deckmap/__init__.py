"""The explorer's deck.gl map as a Streamlit custom component (``st.components.v2``: no iframe, two-way).

The front-end (``frontend/src``, built with esbuild into ``frontend/dist/deckmap.js`` and committed: nothing is
fetched or built at run time) keeps a city's layers and a scenario's per-hour values in the browser and switches
hour, view, 2D/3D and Play there; clicks come back as the trigger value ``click``. Payloads (see
:mod:`explorer.render.mapdata`) travel in their own hidden "carrier" elements: an unchanged element is resent by
Streamlit as a reference to the copy the browser already holds, so a city's layers cross the wire once.

The bundle is served as a file by Streamlit's component route (``/_stcore/bidi-components/...``), which needs the
component's asset folder declared. Streamlit finds such declarations in installed packages' ``pyproject.toml``;
this project is installed in development mode, where that lookup does not reach the checkout, so the folder is
declared here on the running server's component manager. Should that internal interface change, the bundle is
sent inline instead (it works, at ~0.9 MB per map element instead of a cached URL); tests/render/test_deckmap.py
checks which path is taken.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from explorer.render.mapdata import Payload

NAME = "deckmap"
PROJECT = "urban-whatif-explorer"
COMPONENT = f"{PROJECT}.{NAME}"
FRONTEND = Path(__file__).resolve().parent / "frontend"
BUNDLE = FRONTEND / "dist" / "deckmap.js"

_MOUNTS: dict[int, tuple[Any, Callable[..., Any], bool]] = {}


def _declare_assets(manager: Any) -> bool:
    """Declare ``frontend/dist`` as the component's asset folder on ``manager``; False if that cannot be done."""
    try:
        from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest

        if manager.get_component_asset_root(COMPONENT) is None:
            manifest = ComponentManifest(name=PROJECT, version="0", components=[ComponentConfig(NAME, "dist")])
            manager.register_from_manifest(manifest, FRONTEND)
        return manager.get_component_asset_root(COMPONENT) is not None
    except Exception:  # an internal interface moved: fall back to the inline bundle
        return False


def _mount() -> tuple[Callable[..., Any], bool]:
    """The component's mount function on the running server (one per component manager), and whether its
    bundle is served as a file."""
    from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager

    manager = get_bidi_component_manager()
    hit = _MOUNTS.get(id(manager))
    if hit is None or hit[0] is not manager:
        as_file = _declare_assets(manager)
        js = "deckmap.js" if as_file else BUNDLE.read_text()
        hit = _MOUNTS[id(manager)] = (manager, st.components.v2.component(COMPONENT, js=js, isolate_styles=False),
                                      as_file)
    return hit[1], hit[2]


def bundle_served_as_file() -> bool:
    """Whether the map's JavaScript reaches the browser as a cached file (else inline in every map element)."""
    return _mount()[1]


def carry(payload: Payload, key: str) -> None:
    """Send ``payload`` to the browser in a hidden element (``key`` stable per slot: an unchanged payload costs a
    reference, not its bytes)."""
    mount, _ = _mount()
    mount(data=payload.data, key=key)


def deck_map(base: Payload, data: Payload, *, key: str, height: int = 600, three_d: bool = True,
             view: str = "difference", hour: int = 0, selected: str | None = None, cell: str | None = None,
             note: str = "", large: bool = False) -> dict | None:
    """Draw the map of ``data`` over the city layers ``base`` and return a click made since the last run
    (``{"kind": "sensor" | "cell", "id": ...}``; ``id`` None for "Show all areas"), else None.

    ``three_d``, ``view`` and ``hour`` are where a new map starts; the browser keeps what the user chose after.
    Both payloads must also be sent with :func:`carry` (the map waits for them in the browser).
    """
    opts = {"id": key, "base": base.key, "data": data.key, "height": int(height), "three_d": bool(three_d),
            "view": view, "hour": int(hour), "selected": selected, "cell": cell, "note": note, "large": bool(large)}
    mount, _ = _mount()
    res = mount(data=opts, key=key, on_click_change=lambda: None)
    click = getattr(res, "click", None)
    if isinstance(click, str):
        click = json.loads(click)
    return click if isinstance(click, dict) else None


def map_with_layers(base: Payload, data: Payload, *, key: str, **options: Any) -> dict | None:
    """:func:`deck_map` and its two carriers (the base layers under one key for every page)."""
    click = deck_map(base, data, key=key, **options)
    carry(base, key=f"{key}-base")
    carry(data, key=f"{key}-data")
    return click
