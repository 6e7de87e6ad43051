"""Fill the server's shared caches in the background when it starts (``explorer app``), so the first
visitor does not wait for the city, Home's map or the generator: the default city first (what Home needs),
then the What-if page's roads and generator (which imports torch)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("explorer.warmup")
THREAD_NAME = "explorer-warmup"


def _steps(slug: str) -> list[tuple[str, Callable[[], object]]]:
    from explorer.settings import get_settings
    from explorer.stats import SENSOR_STATISTICS
    from explorer.ui.maps import cached_base, cached_stat
    from explorer.ui.overview import cached_profile
    from explorer.ui.state import cached_city

    first_stat = next(iter(SENSOR_STATISTICS))
    road = get_settings().road_source

    def generator() -> object:
        from explorer.ui.models import cached_generator

        cached_base(slug, "layer")
        return cached_generator(slug)

    return [
        ("city", lambda: cached_city(slug)),
        ("home map", lambda: cached_stat(slug, first_stat, road)),
        ("home chart", lambda: cached_profile(slug)),
        ("what-if roads and generator", generator),
    ]


def wait_for_server(timeout_s: float = 120.0) -> bool:
    """Wait until Streamlit's runtime is serving (the warm-up then does not slow the server's own start)."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.runtime import RuntimeState

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if Runtime.exists() and Runtime.instance().state not in (RuntimeState.INITIAL,):
            return True
        time.sleep(0.05)
    return False


def warm(slug: str | None = None, after_server_start: bool = False) -> dict[str, float]:
    """Load the default (or ``slug``) city's shared caches; returns the seconds each step took. A step that
    fails is logged and skipped: the page that needs it will then load it itself and say what went wrong."""
    if after_server_start and not wait_for_server():
        log.warning("warm-up skipped: the server did not start")
        return {}
    from explorer.settings import get_settings

    try:
        slug = slug or get_settings().default_city
        steps = _steps(slug)
    except Exception as exc:  # noqa: BLE001 (bad settings: the pages say what is wrong, clearly)
        log.warning("warm-up skipped: %s", exc)
        return {}
    took: dict[str, float] = {}
    for name, step in steps:
        t = time.perf_counter()
        try:
            step()
        except Exception as exc:  # noqa: BLE001 (a background helper: never take the server down)
            log.warning("warm-up of %s (%s) skipped: %s", slug, name, exc)
            break
        took[name] = time.perf_counter() - t
    log.info("warm-up of %s: %s", slug, ", ".join(f"{k} {v:.1f} s" for k, v in took.items()))
    return took


class _QuietBareMode(logging.Filter):
    """Drop Streamlit's "missing ScriptRunContext" warning for the warm-up thread (it runs no script)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD_NAME


def warm_in_background(slug: str | None = None) -> threading.Thread:
    """Start :func:`warm` on a daemon thread (the server does not wait for it)."""
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_QuietBareMode())
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    thread = threading.Thread(target=warm, args=(slug, True), name=THREAD_NAME, daemon=True)
    thread.start()
    return thread
