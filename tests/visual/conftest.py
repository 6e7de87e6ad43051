"""The app for the visual suite: started as the README does, on a fresh workshop database holding a few
comments and a vote (so the Projector shows what a room sees), with a fixed public address for its QR code."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from tests.browser.conftest import ROOT, app_server
from tests.visual.cases import CITIES, PUBLIC_URL

FEEDBACK = {
    "los-angeles": ["The 110 is already jammed on game nights, this matches what we see",
                    "Please show the side streets too, that is where the traffic goes",
                    "Buses get stuck near the stadium: add a bus lane on Sunset"],
    "melbourne": ["Flinders Street is packed after every concert, more trams please",
                  "The crossing at Swanston St needs a longer green for people walking",
                  "More trams after events would help everyone get home"],
}


def _hash(i: int) -> str:
    return hashlib.sha256(f"visual-{i}".encode()).hexdigest()


def seed_workshop(url: str) -> None:
    """Comments for both cities and one scenario put up for votes, with votes."""
    from explorer.presets import presets_for
    from explorer.voice.store import Store

    store = Store(url)
    n = 0
    for city in CITIES:
        for text in FEEDBACK[city]:
            n += 1
            store.add_feedback(city, text, _hash(n))
        scenario = next(p for p in presets_for(city) if p.scenario.events)
        sid = store.post_scenario(city, scenario.title, scenario.scenario.to_json())
        for k, value in enumerate((1, 1, 1, -1)):
            store.vote(sid, _hash(100 + 10 * n + k), value)


@pytest.fixture(scope="session")
def visual_url(tmp_path_factory) -> Iterator[str]:
    db = f"sqlite:///{tmp_path_factory.mktemp('workshop') / 'workshop.db'}"
    seed_workshop(db)
    # PYTHONPATH: the server imports this checkout's explorer even where another one is installed
    env = {"EXPLORER_DB_URL": db, "EXPLORER_PUBLIC_URL": PUBLIC_URL, "PYTHONPATH": str(ROOT)}
    with app_server("visual-server.log", extra_env=env, launcher="explorer") as (url, _):
        yield url


@pytest.fixture(scope="session")
def compare_links() -> dict[str, str]:
    """Per city, a Compare link holding its preset tour."""
    from explorer.comparison import encode_comparison, keep
    from explorer.presets import presets_for

    links = {}
    for city in CITIES:
        saved: list[dict] = []
        for p in presets_for(city):
            saved = keep(saved, p.scenario, 0, 64)
        links[city] = encode_comparison(saved)
    return links
