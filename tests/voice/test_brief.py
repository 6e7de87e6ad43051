"""The planning brief: built from the result's numbers, escaped, with every section."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from explorer.cities import load_city
from explorer.models.generator.api import generate
from explorer.voice.brief import brief_html, brief_markdown, build_brief, md_escape
from explorer.voice.parser import parse_offline
from tests.generator_fixture import trained_generator


@pytest.fixture(scope="module")
def mel_result():
    city = load_city("melbourne")
    res = parse_offline("twice the usual at Flinders St station on Saturday at 8pm", city, dt.date(2026, 11, 30))
    return city, res, generate(city, res.scenario, 16, 0, model=trained_generator(city))


def test_brief_sections_and_numbers(mel_result) -> None:
    city, res, result = mel_result
    b = build_brief(result, city, res.text, res.parser, res.notes)
    assert [h for h, _ in b.sections] == ["What was asked", "What the model expects, and where", "How sure",
                                          "Limits"]
    q = np.quantile(result.difference, (0.1, 0.5, 0.9), axis=0)
    assert b.figures["peak_p50"] == pytest.approx(float(q[1].max()))
    md = brief_markdown(b)
    assert f"{abs(b.figures['peak_p50']):,.0f}" in md
    # the peak's time as the pages say it (the scenario's day and hour), not a clock time alone or a stored date
    t = int(np.unravel_index(int(np.argmax(q[1])), q[1].shape)[0])
    assert f"around {result.time_labels[t]}:" in md and b.figures["peak_time"] == result.time_labels[t]
    assert "P10" not in md or "percentile" in md


def test_user_text_is_escaped(mel_result) -> None:
    city, res, result = mel_result
    evil = "<script>alert(1)</script> [click](http://evil) **x**"
    b = build_brief(result, city, evil, "offline")
    html = brief_html(b)
    assert "<script>" not in html and "&lt;script&gt;" in html
    md = brief_markdown(b)
    assert "<script>" not in md and "\\[click\\]" in md
    assert md_escape("- a") == "\\- a"
