"""The workshop database against a real SQLite file: validation, rate limit, votes, moderation,
30+ parallel submitters losing nothing, themes."""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import sqlite3
from pathlib import Path

import pytest

from explorer.scenarios.schema import Scenario
from explorer.voice import store as store_mod
from explorer.voice.store import RateLimited, Store, StoreError, themes

SC = Scenario.model_validate({"city": "melbourne", "day": {"day_of_week": 5}}).to_json()


def sid(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()[:32]


@pytest.fixture()
def db(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'sub' / 'workshop.db'}")


def test_sqlite_file_in_wal_mode(db: Store, tmp_path: Path) -> None:
    db.add_feedback("melbourne", "Too crowded at the station", sid(1))
    path = tmp_path / "sub" / "workshop.db"
    assert path.exists()
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT text FROM feedback").fetchall() == [("Too crowded at the station",)]


def test_default_url_from_env(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EXPLORER_DB_URL", f"sqlite:///{tmp_path}/x.db")
    assert store_mod.default_url().endswith("x.db")
    monkeypatch.delenv("EXPLORER_DB_URL")
    assert store_mod.default_url().endswith("var/workshop.db")


@pytest.mark.parametrize("text", ["", " ", "x" * 501, "!!!"])
def test_feedback_is_validated(db: Store, text: str) -> None:
    with pytest.raises(StoreError):
        db.add_feedback("melbourne", text, sid(1))


def test_bad_session_and_city_refused(db: Store) -> None:
    with pytest.raises(StoreError):
        db.add_feedback("melbourne", "fine text", "not-a-hash")
    with pytest.raises(StoreError):
        db.add_feedback("Melbourne; DROP TABLE", "fine text", sid(1))


def test_text_is_stored_as_typed_and_places_kept(db: Store) -> None:
    evil = "<script>alert(1)</script> **bold** [x](http://e)"
    db.add_feedback("melbourne", evil, sid(1), sensor_id="6")
    row = db.feedback("melbourne")[0]
    assert row.text == evil and row.sensor_id == "6" and row.zone_id is None


def test_rate_limit_per_session(db: Store) -> None:
    for i in range(store_mod.RATE_LIMIT):
        db.add_feedback("melbourne", f"point number {i}", sid(1))
    with pytest.raises(RateLimited):
        db.add_feedback("melbourne", "one too many", sid(1))
    db.add_feedback("melbourne", "another phone is fine", sid(2))


def test_hide_for_moderation(db: Store) -> None:
    fid = db.add_feedback("melbourne", "rude words here", sid(1))
    db.add_feedback("melbourne", "a fair point", sid(2))
    db.set_hidden(fid)
    assert [r.text for r in db.feedback("melbourne")] == ["a fair point"]
    assert len(db.feedback("melbourne", include_hidden=True)) == 2
    db.set_hidden(fid, False)
    assert len(db.feedback("melbourne")) == 2
    with pytest.raises(StoreError):
        db.set_hidden(9999)


def test_votes_one_per_session_and_tallies(db: Store) -> None:
    a = db.post_scenario("melbourne", "New Year's Eve crowd", SC)
    db.vote(a, sid(1), 1)
    db.vote(a, sid(2), 1)
    db.vote(a, sid(3), -1)
    db.vote(a, sid(1), -1)  # changes their vote
    (t,) = db.tallies("melbourne")
    assert (t.up, t.down, t.title) == (1, 2, "New Year's Eve crowd")
    assert db.my_votes(sid(1)) == {a: -1}
    with pytest.raises(StoreError):
        db.vote(a, sid(1), 5)
    db.close_scenario(a)
    with pytest.raises(StoreError):
        db.vote(a, sid(4), 1)
    assert db.tallies("melbourne") == []
    with pytest.raises(StoreError):
        db.post_scenario("los-angeles", "wrong city", SC)


def test_parallel_submitters_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    Store(url)  # create the tables once
    sc_id = Store(url).post_scenario("melbourne", "vote on me", SC)
    n_phones, per_phone = 40, 4

    def phone(i: int) -> int:
        s = Store(url)  # each phone its own engine and connections, like separate server processes
        for k in range(per_phone - 1):
            s.add_feedback("melbourne", f"phone {i} says point {k}", sid(i))
        s.vote(sc_id, sid(i), 1 if i % 2 else -1)
        return i

    with cf.ThreadPoolExecutor(max_workers=n_phones) as ex:
        done = list(ex.map(phone, range(n_phones)))
    assert len(done) == n_phones
    s = Store(url)
    rows = s.feedback("melbourne", limit=10_000)
    assert len(rows) == n_phones * (per_phone - 1)
    want = {f"phone {i} says point {k}" for i in range(n_phones) for k in range(per_phone - 1)}
    assert {r.text for r in rows} == want
    (t,) = s.tallies("melbourne")
    assert (t.up, t.down) == (n_phones // 2, n_phones // 2)


def test_themes_group_similar_feedback() -> None:
    from explorer.voice.store import FeedbackRow

    texts = ["Flinders station is far too crowded", "too crowded at Flinders station at night",
             "crowded station platforms at Flinders", "more bike lanes on Swanston", "bike lanes please",
             "need safer bike lanes"]
    rows = [FeedbackRow(i, "melbourne", t, None, None, False, None) for i, t in enumerate(texts)]
    groups = themes(rows)
    sets = sorted(sorted(r.id for r in g.items) for g in groups)
    assert sets == [[0, 1, 2], [3, 4, 5]]
    assert any("crowded" in g.label or "flinders" in g.label for g in groups)
    assert themes([]) == []
