"""Widgets of the citizen-voice pages: the parsed-scenario editor, the What-if scenario of this session,
the workshop store (one per server) and an anonymous session hash."""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from typing import Any
from urllib.parse import urlsplit

import segno
import streamlit as st

from explorer.cities import City
from explorer.scenarios.schema import MAX_MAGNITUDE, UNITS_BY_KIND, PlaceKey, Scenario, event_scenario
from explorer.settings import load_settings
from explorer.ui.scenario_controls import DAYS, place_options, whatif_scenario
from explorer.voice.brief import md_escape
from explorer.voice.parser import ParseResult, examples
from explorer.voice.store import Store, default_url

EDIT_KEYS = ("ask_dow", "ask_date", "ask_holiday", "ask_hour", "ask_duration", "ask_place", "ask_unit", "ask_mag",
             "ask_reach")
UNIT_LABELS = {"people": "extra people / hour", "percent": "% more than usual", "percent_slower": "% slower"}


def scenario_editor(city: City) -> Scenario:
    """Editable fields of the parsed scenario; returns the (validated) edited scenario."""
    ss = st.session_state
    c1, c2, c3 = st.columns(3)
    dated = bool(ss.get("ask_date"))
    if dated:
        c1.text_input("Date", key="ask_date", disabled=True, help="A named day, read as this calendar date.")
        dow = None
    else:
        dow = c1.selectbox("Day", range(7), format_func=DAYS.__getitem__, key="ask_dow")
    holiday = c1.checkbox("Public holiday", key="ask_holiday")
    hour = c2.number_input("Event starts at (hour)", 0, 23, step=1, key="ask_hour")
    duration = c2.number_input("Lasts (hours)", 1, 12, step=1, key="ask_duration")
    opts = place_options(city)
    place = c3.selectbox("Place", list(opts), format_func=opts.get, key="ask_place")
    units = list(UNITS_BY_KIND[city.manifest.series.kind])
    if ss.get("ask_unit") not in units:
        ss.ask_unit = units[0]
    unit = c3.selectbox("Size as", units, format_func=UNIT_LABELS.get, key="ask_unit")
    hi = MAX_MAGNITUDE[unit]
    ss.ask_mag = min(max(float(ss.get("ask_mag", 1.0)), 1.0), hi)
    mag = c2.number_input(f"Size ({UNIT_LABELS[unit]})", 1.0, hi, key="ask_mag")
    reach = c3.slider("Reach (km)", 0.0, 10.0, step=0.1, key="ask_reach")
    return build_scenario(city, dow=dow, date=ss.get("ask_date") or None, holiday=holiday, hour=int(hour),
                          duration=int(duration), place=place, unit=unit, magnitude=float(mag), reach=float(reach))


def build_scenario(city: City, *, dow: int | None, date: str | None, holiday: bool, hour: int, duration: int,
                   place: str, unit: str, magnitude: float, reach: float) -> Scenario:
    """A scenario around one event at ``hour``: two hours of lead-in, three after (within 24 h)."""
    day: dict[str, Any] = {"date": date} if date else {"day_of_week": dow}
    return event_scenario(city.slug, day | {"holiday": holiday}, hour, duration,
                          {"place": PlaceKey.parse(place).place, "magnitude": magnitude, "unit": unit,
                           "reach_km": reach})


def current_whatif(city: City) -> Scenario | None:
    """The What-if page's scenario in this session (from its widget state), or None if it was not opened."""
    ss = st.session_state
    if ss.get("sc_city") != city.slug or "sc_dow" not in ss:
        return None
    try:
        return whatif_scenario(city.slug, ss)
    except (ValueError, KeyError):
        return None


def vote_candidates(city: City) -> dict[str, Scenario]:
    """The scenarios a facilitator may put up for votes: the What-if page's and the last 'Ask the city' question's,
    each only when this session has one for ``city``."""
    parsed = st.session_state.get("ask_parsed")
    candidates = {"What if page": current_whatif(city),
                  "Last 'Ask the city' question": parsed.scenario if parsed is not None and parsed.ok
                  and parsed.scenario.city == city.slug else None}
    return {k: v for k, v in candidates.items() if v is not None}


def session_hash() -> str:
    """An anonymous id of this browser session (a random token's hash; nothing personal)."""
    ss = st.session_state
    if "voice_token" not in ss:
        ss.voice_token = secrets.token_hex(16)
    return hashlib.sha256(("whatif-voice:" + ss.voice_token).encode()).hexdigest()[:32]


@st.cache_resource(show_spinner=False)
def _cached_store(url: str) -> Store:
    return Store(url)


def cached_store() -> Store:
    """One workshop store per server and database URL (``EXPLORER_DB_URL``)."""
    return _cached_store(default_url())


def say_url(city: City, base: str | None = None) -> str:
    """The address of the Have-your-say page for this city (from the browser's own URL)."""
    raw = base or load_settings().public_url or st.context.url or "http://127.0.0.1:8501"
    parts = urlsplit(raw)
    root = f"{parts.scheme or 'http'}://{parts.netloc or '127.0.0.1:8501'}"
    return f"{root}/have_your_say?city={city.slug}"


def qr_png(text: str, scale: int = 8) -> bytes:
    """A QR code (PNG) made offline with segno."""
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()


def place_name(city: City, sensor_id: str | None, zone_id: str | None) -> str:
    """Readable name of an optional feedback place."""
    opts = place_options(city)
    if sensor_id:
        return opts.get(PlaceKey.sensor(sensor_id), f"sensor {sensor_id}")
    if zone_id:
        return opts.get(PlaceKey.zone(zone_id), f"zone {zone_id}").removeprefix("Zone: ")
    return ""


def facilitator_ok() -> bool:
    """True when no PIN is set (EXPLORER_FACILITATOR_PIN) or the right PIN was typed in this session."""
    secret = load_settings().facilitator_pin
    pin = secret.get_secret_value() if secret else ""
    if not pin:
        return True
    typed = st.text_input("Facilitator PIN", type="password", key="proj_pin")
    return bool(typed) and hmac.compare_digest(typed, pin)


def llm_configured() -> bool:
    from explorer.voice.llm import LLMConfig

    return LLMConfig.from_env() is not None


@st.cache_data(max_entries=64, show_spinner="Rewording the brief…")
def polished_brief(_brief: Any, key: str) -> tuple[Any, str]:  # noqa: ARG001 (``key``: the cache key)
    """The brief reworded by the configured language model (figures checked), cached by its text ``key``."""
    from explorer.voice.llm import polish_brief

    return polish_brief(_brief)


@st.cache_data(show_spinner=False)
def city_examples(slug: str) -> list[str]:
    """Example questions written from the city's presets and places (cached per city)."""
    return examples(slug, 3)


def _use_example(text: str) -> None:
    st.session_state.ask_text = text


def example_buttons(texts: list[str]) -> None:
    """The city's example questions as small buttons that fill the question box."""
    if not texts:
        return
    st.caption("Or start from an example of this city:")
    row = st.container(horizontal=True, gap="small")  # as wide as their text, wrapping: never cut
    for i, text in enumerate(texts):
        row.button(text, key=f"ask_example_{i}", on_click=_use_example, args=(text,))


def assumptions(res: ParseResult) -> None:
    """Every assumption the parser made, said back in plain words."""
    if not res.notes:
        return
    with st.container(border=True, key="ask_assumptions"):
        st.markdown("**What I assumed** (change any of it below)")
        st.markdown("\n".join(f"- {md_escape(n)}" for n in res.notes))


def _pick_place() -> None:
    st.session_state.ask_place = st.session_state.ask_dym


def did_you_mean(city: City, res: ParseResult) -> None:
    """A 'did you mean' choice when the place is ambiguous (a street with several counters, a shared name)."""
    if not res.alternatives or res.scenario is None:
        return
    chosen = str(PlaceKey.of(res.scenario.events[0].place))
    opts = place_options(city)
    keys = [chosen, *[k for k, _ in res.alternatives if k in opts and k != chosen]]
    if st.session_state.get("ask_dym") not in keys:
        st.session_state.ask_dym = st.session_state.get("ask_place", chosen)
    st.radio("Did you mean", keys, format_func=lambda k: opts.get(k, k), key="ask_dym", on_change=_pick_place,
             horizontal=True, help="The place was ambiguous; the first one was used.")
