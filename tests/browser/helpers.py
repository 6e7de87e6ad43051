"""Helpers to wait for a Streamlit page and read a map's pixels."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

BACKGROUND = (255, 255, 255)  # the page behind the transparent deck canvas


def wait_ready(page, timeout_ms: int = 90_000, selector: str | None = None) -> None:
    """Wait until the app has finished running its script (and ``selector`` is on the page)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    if selector:
        page.wait_for_selector(selector, timeout=timeout_ms)
    idle = """() => !document.querySelector('[data-testid="stStatusWidget"]')
                    && !document.querySelector('[data-testid="stSpinner"]')"""
    for _ in range(2):  # idle twice, a second apart: a rerun may start just after the first check
        page.wait_for_function(idle, timeout=timeout_ms)
        page.wait_for_timeout(1000)


def exception_boxes(page) -> list[str]:
    return [e.inner_text() for e in page.query_selector_all('[data-testid="stException"]')]


MAP = '[data-testid="explorerDeckMap"]'
HIDE_OVERLAYS = ".xdm-clock, .xdm-legend, .xdm-note { visibility: hidden !important; }"


def wait_map(page, index: int = 0, timeout_ms: int = 60_000) -> None:
    """Wait until the index-th browser map has drawn a frame of its current state (hour, view, data)."""
    page.locator(MAP).nth(index).locator("canvas").first.wait_for(timeout=timeout_ms)
    page.wait_for_function(
        """([sel, i]) => { const m = document.querySelectorAll(sel)[i];
            return m && m.dataset.ready === 'true' && m.dataset.renderedHour === m.dataset.hour
                   && m.dataset.renderedView === m.dataset.view; }""", arg=[MAP, index], timeout=timeout_ms)


def map_pixels(page, index: int = 0, timeout_ms: int = 60_000, settle_ms: int = 1200) -> np.ndarray:
    """Screenshot of the index-th browser map's drawing area (controls bar excluded) as an (h, w, 3) array,
    once it has drawn its current state and colour transitions have ended."""
    wait_map(page, index, timeout_ms)
    page.wait_for_timeout(settle_ms)
    png = page.locator(MAP).nth(index).locator(".xdm-stage").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def changed_fraction(a: np.ndarray, b: np.ndarray, tol: int = 30) -> float:
    """Share of pixels that differ by more than ``tol`` in some channel."""
    return float((np.abs(a.astype(int) - b.astype(int)).max(axis=2) > tol).mean())


def drawn_fraction(pixels: np.ndarray, background: tuple[int, int, int] = BACKGROUND, tol: int = 12) -> float:
    """Share of pixels that differ from the background: 0 means the map did not draw."""
    diff = np.abs(pixels.astype(int) - np.array(background)).max(axis=2)
    return float((diff > tol).mean())


def colour_fraction(pixels: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> float:
    diff = np.abs(pixels.astype(int) - np.array(rgb)).max(axis=2)
    return float((diff <= tol).mean())


class Reruns:
    """Counts this page's script runs at the protocol level (CDP): rerun requests the browser sends
    (``BackMsg.rerun_script``, which fragments' timers and widgets use too) and runs the server finishes
    (``ForwardMsg.script_finished``). Both stay still while nothing asks the server for anything."""

    def __init__(self, page) -> None:
        self.requested = 0
        self.finished = 0
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Network.webSocketFrameSent", self._sent)
        self.cdp.on("Network.webSocketFrameReceived", self._received)
        self.cdp.send("Network.enable")

    @staticmethod
    def _bytes(event: dict) -> bytes | None:
        r = event["response"]
        return base64.b64decode(r.get("payloadData", "")) if r.get("opcode") == 2 else None

    def _sent(self, event: dict) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        data = self._bytes(event)
        if data:
            msg = BackMsg()
            msg.ParseFromString(data)
            self.requested += msg.WhichOneof("type") == "rerun_script"

    def _received(self, event: dict) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        data = self._bytes(event)
        if data:
            msg = ForwardMsg()
            msg.ParseFromString(data)
            self.finished += msg.WhichOneof("type") == "script_finished"

    def counts(self) -> tuple[int, int]:
        return self.requested, self.finished
