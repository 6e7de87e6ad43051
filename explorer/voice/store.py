"""Workshop input in a real database through SQLAlchemy 2: feedback, facilitator-posted scenarios, votes.

The URL comes from ``EXPLORER_DB_URL`` (default ``sqlite:///<repo>/var/workshop.db``, folder created); SQLite
runs in WAL mode with a busy timeout so many phones can write at once, and a PostgreSQL URL
(``postgresql+psycopg://...``) works for a shared deployment. No personal data is stored: a session is an
anonymous hash, feedback is free text of at most 500 characters with an optional sensor or zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from explorer.settings import REPO_ROOT, load_settings

MAX_TEXT = 500
RATE_LIMIT = 5  # submissions (feedback + votes) per session ...
RATE_WINDOW_S = 60  # ... in this many seconds


class StoreError(ValueError):
    """Input refused (too long, empty, rate limited, unknown scenario); the message says why."""


class RateLimited(StoreError):
    """Too many submissions from one session in a short time."""


def default_url() -> str:
    """``EXPLORER_DB_URL`` or a SQLite file under the repository's var/ folder."""
    return load_settings().db_url or f"sqlite:///{REPO_ROOT / 'var' / 'workshop.db'}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    sensor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    zone_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    session_hash: Mapped[str] = mapped_column(String(64), index=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, index=True)


class PostedScenario(Base):
    __tablename__ = "posted_scenario"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    scenario_json: Mapped[str] = mapped_column(Text)
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class Vote(Base):
    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("scenario_id", "session_hash", name="one_vote_per_session"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("posted_scenario.id"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer)  # +1 = worried / important, -1 = not a concern
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class FeedbackIn(BaseModel):
    """Validated feedback from a participant."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    city: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")
    text: str = Field(min_length=2, max_length=MAX_TEXT)
    sensor_id: str | None = Field(None, max_length=64)
    zone_id: str | None = Field(None, max_length=64)
    session_hash: str = Field(min_length=8, max_length=64, pattern=r"^[0-9a-f]+$")

    @field_validator("text")
    @classmethod
    def _clean(cls, v: str) -> str:
        v = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", v)  # control characters
        if not re.search(r"\w", v):
            raise ValueError("feedback needs some words")
        return v


@dataclass(frozen=True)
class FeedbackRow:
    id: int
    city: str
    text: str
    sensor_id: str | None
    zone_id: str | None
    hidden: bool
    created: dt.datetime


@dataclass(frozen=True)
class Tally:
    scenario_id: int
    title: str
    up: int
    down: int
    scenario_json: str


class Store:
    """The workshop database. Thread-safe: each call opens its own short session."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        self.engine = make_engine(self.url)
        Base.metadata.create_all(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session() as s, s.begin():
            yield s

    # ---------------------------------------------------------------- rate limit
    def _check_rate(self, s: Session, session_hash: str) -> None:
        since = _now() - dt.timedelta(seconds=RATE_WINDOW_S)
        n = s.scalar(select(func.count()).select_from(Feedback).where(
            Feedback.session_hash == session_hash, Feedback.created >= since)) or 0
        n += s.scalar(select(func.count()).select_from(Vote).where(
            Vote.session_hash == session_hash, Vote.created >= since)) or 0
        if n >= RATE_LIMIT:
            raise RateLimited(f"at most {RATE_LIMIT} submissions a minute from one phone; please wait a moment")

    # ---------------------------------------------------------------- feedback
    def add_feedback(self, city: str, text: str, session_hash: str, *, sensor_id: str | None = None,
                     zone_id: str | None = None) -> int:
        """Store validated feedback; returns its id. Raises StoreError / RateLimited."""
        try:
            data = FeedbackIn(city=city, text=text, sensor_id=sensor_id, zone_id=zone_id,
                              session_hash=session_hash)
        except ValueError as exc:
            raise StoreError(_first_error(exc)) from None
        with self.session() as s:
            self._check_rate(s, data.session_hash)
            row = Feedback(**data.model_dump())
            s.add(row)
            s.flush()
            return int(row.id)

    def feedback(self, city: str, *, include_hidden: bool = False, limit: int = 500) -> list[FeedbackRow]:
        """Newest first."""
        with self.session() as s:
            q = select(Feedback).where(Feedback.city == city)
            if not include_hidden:
                q = q.where(Feedback.hidden.is_(False))
            rows = s.scalars(q.order_by(Feedback.id.desc()).limit(limit)).all()
            return [FeedbackRow(r.id, r.city, r.text, r.sensor_id, r.zone_id, r.hidden, r.created) for r in rows]

    def set_hidden(self, feedback_id: int, hidden: bool = True) -> None:
        """Moderation: hide (or show again) one entry."""
        with self.session() as s:
            row = s.get(Feedback, feedback_id)
            if row is None:
                raise StoreError(f"no feedback #{feedback_id}")
            row.hidden = hidden

    # ---------------------------------------------------------------- scenarios and votes
    def post_scenario(self, city: str, title: str, scenario_json: str) -> int:
        """The facilitator puts a scenario up for votes."""
        title = title.strip()[:200]
        if not title:
            raise StoreError("a posted scenario needs a title")
        from explorer.scenarios.schema import Scenario

        sc = Scenario.from_json(scenario_json)
        if sc.city != city:
            raise StoreError(f"the scenario is for {sc.city}, not {city}")
        with self.session() as s:
            row = PostedScenario(city=city, title=title, scenario_json=sc.to_json())
            s.add(row)
            s.flush()
            return int(row.id)

    def close_scenario(self, scenario_id: int) -> None:
        with self.session() as s:
            row = s.get(PostedScenario, scenario_id)
            if row is not None:
                row.open = False

    def vote(self, scenario_id: int, session_hash: str, value: int) -> None:
        """One vote per session and scenario (a second vote replaces the first)."""
        if value not in (1, -1):
            raise StoreError("a vote is +1 or -1")
        if not re.fullmatch(r"[0-9a-f]{8,64}", session_hash or ""):
            raise StoreError("invalid session")
        with self.session() as s:
            sc = s.get(PostedScenario, scenario_id)
            if sc is None or not sc.open:
                raise StoreError("that scenario is not open for votes")
            self._check_rate(s, session_hash)
            old = s.scalar(select(Vote).where(Vote.scenario_id == scenario_id, Vote.session_hash == session_hash))
            if old is not None:
                old.value, old.created = value, _now()
            else:
                s.add(Vote(scenario_id=scenario_id, session_hash=session_hash, value=value))

    def tallies(self, city: str, *, only_open: bool = True) -> list[Tally]:
        """Votes per posted scenario, newest scenario first."""
        with self.session() as s:
            q = select(PostedScenario).where(PostedScenario.city == city)
            if only_open:
                q = q.where(PostedScenario.open.is_(True))
            out = []
            for sc in s.scalars(q.order_by(PostedScenario.id.desc())).all():
                up = s.scalar(select(func.count()).where(Vote.scenario_id == sc.id, Vote.value == 1)) or 0
                down = s.scalar(select(func.count()).where(Vote.scenario_id == sc.id, Vote.value == -1)) or 0
                out.append(Tally(sc.id, sc.title, int(up), int(down), sc.scenario_json))
            return out

    def my_votes(self, session_hash: str) -> dict[int, int]:
        with self.session() as s:
            return {v.scenario_id: v.value for v in s.scalars(select(Vote).where(Vote.session_hash == session_hash))}


def make_engine(url: str) -> Engine:
    """An engine; for SQLite the folder is created, WAL and a busy timeout are switched on."""
    kw: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kw["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        kw["pool_pre_ping"] = True
    engine = create_engine(url, **kw)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # a thanked-for entry survives a power cut too
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # take the write lock up front: a read-then-write transaction cannot then fail with
            # SQLITE_BUSY_SNAPSHOT when another phone commits in between
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    return engine


def _first_error(exc: Exception) -> str:
    errs = getattr(exc, "errors", None)
    if callable(errs):
        e = errs()[0]
        where = ".".join(str(x) for x in e.get("loc", ())) or "input"
        return f"{where}: {e.get('msg', 'invalid')}"
    return str(exc)


# ---------------------------------------------------------------- themes


@dataclass(frozen=True)
class Theme:
    label: str  # the top terms
    items: list[FeedbackRow]


def themes(rows: list[FeedbackRow], threshold: float = 0.2, max_themes: int = 12) -> list[Theme]:
    """Group feedback by text similarity (TF-IDF cosine, greedy single pass, deterministic)."""
    if not rows:
        return []
    if len(rows) == 1:
        return [Theme(_short(rows[0].text), list(rows))]
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [r.text for r in rows]
    try:
        vec = TfidfVectorizer(stop_words="english", ngram_range=(1, 2), min_df=1, sublinear_tf=True)
        x = vec.fit_transform(texts)
    except ValueError:  # only stop words
        return [Theme("other", list(rows))]
    terms = np.array(vec.get_feature_names_out())
    sim = (x @ x.T).toarray()
    groups: list[list[int]] = []
    for i in range(len(rows)):
        best, best_s = -1, threshold
        for g, members in enumerate(groups):
            s = float(np.mean(sim[i, members]))
            if s > best_s:
                best, best_s = g, s
        if best >= 0:
            groups[best].append(i)
        else:
            groups.append([i])
    groups.sort(key=lambda m: (-len(m), m[0]))
    out = []
    rest: list[FeedbackRow] = []
    for members in groups:
        if len(out) >= max_themes - 1 or (len(members) == 1 and len(groups) > max_themes):
            rest += [rows[i] for i in members]
            continue
        weights = np.asarray(x[members].sum(axis=0)).ravel()
        top = [t for t in terms[np.argsort(-weights)] if " " not in t][:3]
        out.append(Theme(", ".join(top) or _short(rows[members[0]].text), [rows[i] for i in members]))
    if rest:
        out.append(Theme("other", rest))
    return out


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
