"""The evaluation: every set scored per field and per exact scenario, refusals and flipped directions counted;
the new place kind street:<Street Name>; the documented table command."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from explorer.voice.cli import app
from explorer.voice.evaluate import (
    DOCS_END,
    DOCS_START,
    EVAL_DIR,
    ParseResult,
    evaluate,
    load_set,
    reference,
    score,
    set_path,
    write_docs,
)
from explorer.voice.parser import parse_offline

TODAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize("slug", ["los-angeles", "melbourne"])
def test_eval_set_accuracy(slug: str) -> None:
    rows = load_set(slug)
    assert len(rows) >= 60
    assert sum("refusal" in r["expect"] for r in rows) >= 10  # unanswerable requests are part of the set
    rep = evaluate(slug)
    assert rep.accuracy >= 0.90, rep.misses
    assert rep.flipped == 0


@pytest.mark.parametrize("slug", ["los-angeles", "melbourne"])
@pytest.mark.parametrize("name", ["holdout", "holdout2", "dev"])
def test_other_sets_accuracy(slug: str, name: str) -> None:
    """Hold-out sets written blind after the parser, and the issue-19 development set."""
    path = EVAL_DIR / f"{slug}.{name}.jsonl"
    rep = evaluate(slug, path=path, name=name)
    assert rep.accuracy >= 0.90, rep.misses
    assert rep.flipped == 0


def test_street_kind_accepts_every_sensor_naming_the_street_and_only_those() -> None:
    ref = reference("melbourne")
    by_label = {v: k for k, v in ref.labels.items()}
    ok = {lab for lab in ref.labels.values() if ref.ok("street:Swanston Street", f"sensor:{by_label[lab]}")}
    assert ok == {"Chinatown-Swanston St (North)", "Flinders St-Swanston St (West)"}
    bourke = {lab for lab in ref.labels.values() if ref.ok("street:Bourke Street", f"sensor:{by_label[lab]}")}
    assert bourke == {"Bourke Street Mall (North)", "Bourke Street Mall (South)", "Bourke St-Russell St (West)"}
    assert ref.ok("street:Little Bourke Street", f"sensor:{by_label['Chinatown-Lt Bourke St (South)']}")
    assert ref.ok("street:St Kilda Road", f"sensor:{by_label['St Kilda Rd-Alexandra Gardens']}")
    assert not ref.ok("street:Swanston Street", "zone:1")
    with pytest.raises(ValueError, match="unknown place kind"):
        ref.ok("avenue:Swanston", "sensor:19")


def test_scores_refusals_and_flipped_directions_on_known_cases(tmp_path) -> None:
    lines = [
        {"text": "fewer people at Princes Bridge", "expect": {"refusal": "decrease"}},  # right refusal
        {"text": "2000 people at Princes Bridge on friday", "expect": {"refusal": "decrease"}},  # missed + flipped
        {"text": "close Princes Bridge", "expect": {"place": "label:Princes Bridge"}},  # wrong refusal
        {"text": "rain at Princes Bridge", "expect": {"refusal": "closure"}},  # refused, other reason
        {"text": "3000 people at Princes Bridge on friday at 8pm",
         "expect": {"place": "label:Princes Bridge", "magnitude": 3000, "day_of_week": 4, "hour": 21}},  # 1 wrong
    ]
    p = tmp_path / "known.jsonl"
    p.write_text("\n".join(json.dumps(x | {"today": "2026-11-30"}) for x in lines))
    rep = evaluate("melbourne", path=p)
    assert rep.expected_refusals == 3 and rep.flipped == 1
    assert (rep.refusals["right"], rep.refusals["other_reason"], rep.refusals["missed"], rep.refusals["wrong"]) == (
        1, 1, 1, 1)
    assert rep.exact == 1 and rep.exact_accuracy == pytest.approx(0.2)
    assert rep.total["hour"] == 1 and rep.correct["hour"] == 0 and rep.correct["magnitude"] == 1
    assert rep.refused_share == pytest.approx(2 / 3)


def test_score_ignores_fields_the_line_does_not_state() -> None:
    res = parse_offline("Hollywood Bowl concert: 18,000 people drive home at 11pm", "los-angeles", TODAY)
    got = score({"place": "landmark:hollywood bowl", "unit": "percent_slower", "hour": 23}, res,
                reference("los-angeles"))
    assert got == {"refusal": True, "place": True, "unit": True, "hour": True}
    assert not score({"refusal": "decrease"}, ParseResult(text="x", refusal="closure"), reference("melbourne"))[
        "refusal"]


def test_paraphrase_sets_are_frozen_and_scored() -> None:
    for slug, n in (("melbourne", 169), ("los-angeles", 168)):
        assert len(load_set(slug, set_path(slug, "paraphrase"))) == n


def test_cli_prints_every_set_and_json() -> None:
    r = CliRunner().invoke(app, ["eval", "--city", "melbourne", "--set", "main", "--set", "holdout"])
    assert r.exit_code == 0, r.output
    assert "exact scenarios" in r.output and "flipped directions" in r.output and "melbourne / holdout" in r.output
    r = CliRunner().invoke(app, ["eval", "--city", "melbourne", "--set", "main", "--json"])
    data = json.loads(r.output)
    assert data[0]["requests"] >= 60 and 0.9 <= data[0]["accuracy"] <= 1.0 and "refusals" in data[0]
    r = CliRunner().invoke(app, ["eval", "--city", "melbourne", "--set", "nope"])
    assert r.exit_code == 2 and "unknown evaluation set" in r.output


def test_docs_table_is_written_between_the_markers(tmp_path) -> None:
    doc = tmp_path / "voice.md"
    doc.write_text(f"# x\n{DOCS_START}\nold\n{DOCS_END}\nafter\n")
    write_docs(doc, "| new |")
    assert doc.read_text() == f"# x\n{DOCS_START}\n| new |\n{DOCS_END}\nafter\n"
    doc.write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        write_docs(doc, "| new |")


def test_llm_path_is_scored_on_the_same_sets(monkeypatch, llm_server, tmp_path) -> None:
    from tests.voice.conftest import LLMHandler

    _, url = llm_server
    monkeypatch.setenv("EXPLORER_LLM_URL", url)
    monkeypatch.setenv("EXPLORER_LLM_MODEL", "tiny")
    LLMHandler.answer = json.dumps({"refusal": "decrease", "reason": "fewer people cannot be asked for"})
    p = tmp_path / "two.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in [
        {"text": "fewer people at Princes Bridge", "today": "2026-11-30", "expect": {"refusal": "decrease"}},
        {"text": "2000 people at Princes Bridge", "today": "2026-11-30", "expect": {"place": "label:Princes Bridge"}},
    ]))
    rep = evaluate("melbourne", path=p, llm=True)
    assert rep.parsers == {"llm:tiny": 2}
    assert rep.refusals["right"] == 1 and rep.refusals["wrong"] == 1 and rep.exact == 1
