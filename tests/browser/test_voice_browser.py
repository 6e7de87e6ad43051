"""Citizen voice in headless Chromium: a phone-sized Have-your-say page whose feedback reaches the projector,
and a typed question that becomes a previewed scenario, runs and yields a brief."""

from __future__ import annotations

import os
import tempfile
import uuid

import pytest

from tests.browser.helpers import exception_boxes, wait_ready

pytestmark = pytest.mark.browser

# the app server (started once per session from a copy of the environment) writes to a throwaway database
os.environ.setdefault("EXPLORER_DB_URL", f"sqlite:///{tempfile.mkdtemp(prefix='whatif-voice-')}/workshop.db")
PHONE = {"width": 390, "height": 844}


@pytest.fixture()
def phone(browser):
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    p = ctx.new_page()
    yield p
    ctx.close()


def test_phone_feedback_reaches_the_projector(phone, page, app_url, shots):
    words = f"Too crowded at the station tonight {uuid.uuid4().hex[:6]} <b>not bold</b>"
    phone.goto(f"{app_url}/have_your_say?city=melbourne")
    wait_ready(phone, selector="textarea")
    assert exception_boxes(phone) == []
    overflow = phone.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the phone page scrolls sideways by {overflow} px"
    box = phone.locator("textarea").first
    box.click()
    box.fill(words)
    box.press("Tab")
    phone.get_by_role("button", name="Send").click()
    phone.wait_for_selector("text=Thank you", timeout=60_000)
    send = phone.get_by_role("button", name="Send").bounding_box()
    assert send is not None and send["width"] >= 0.6 * PHONE["width"] and send["height"] >= 40  # thumb-sized
    phone.screenshot(path=str(shots / "voice-have-your-say-phone.png"), full_page=True)

    page.goto(f"{app_url}/projector?city=melbourne")
    wait_ready(page, selector="h1")
    page.wait_for_selector(f"text={words}", timeout=60_000)  # drawn as typed: the tag is text, not markup
    assert page.locator("img").count() >= 1  # the QR code
    assert exception_boxes(page) == []
    page.screenshot(path=str(shots / "voice-projector.png"), full_page=True)


def test_typed_question_previews_runs_and_briefs(page, app_url, shots):
    page.goto(f"{app_url}/ask?city=melbourne")
    wait_ready(page, selector="textarea")
    box = page.locator("textarea").first
    box.click()
    box.fill("Flinders St station gets twice the usual crowd on New Year's Eve")
    box.press("Tab")
    page.get_by_role("button", name="Read my question").click()
    page.wait_for_selector("text=The scenario, as I understood it", timeout=60_000)
    page.wait_for_selector("text=Read by the offline parser", timeout=60_000)
    wait_ready(page)
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("text=Planning brief", timeout=120_000)
    wait_ready(page)
    assert exception_boxes(page) == []
    body = page.inner_text("body")
    assert "How sure" in body and "Flinders Street Station Underpass" in body
    assert page.get_by_role("button", name="Download the brief (HTML)").count() == 1
    page.screenshot(path=str(shots / "voice-ask.png"), full_page=True)
