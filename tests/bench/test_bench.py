"""``explorer bench``: the JSON holds every figure, ratios are positive finite numbers; the Markdown section
replaces only itself. No wall-clock assertions: the machine is shared."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.bench.report import BEGIN, END, HEADING, markdown, previous_results, with_kept_sections, write_section

ROOT = Path(__file__).resolve().parents[2]


def _bench(*args: str, timeout: int = 900) -> dict:
    proc = subprocess.run([sys.executable, "-m", "explorer.cli", "bench", "--json", "--quick", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _positive(x: object) -> bool:
    return isinstance(x, int | float) and math.isfinite(x) and x > 0


@pytest.mark.slow
def test_generation_section_structure(tmp_path: Path) -> None:
    res = _bench("--only", "generation", "--sizes", "200,400", "--markdown", str(tmp_path / "perf.md"))
    assert res["sections"] == ["generation"] and res["machine"]["cpu_count"] >= 1
    g = res["generation"]
    assert "error" not in g and "skipped" not in g, g
    b = g["bundled"]
    for x in (b["ms"]["median"], b["ms"]["p95"], b["samples_per_s"], b["ratio_median_to_budget"],
              b["ratio_default_to_one_thread"], b["peak_rss_mb"]):
        assert _positive(x)
    assert [r["sensors"] for r in g["sizes"]] == [200, 400]
    assert g["sizes"][0]["time_ratio_to_smallest"] == 1.0
    for r in g["sizes"]:
        assert all(_positive(r[k]) for k in ("samples_per_s", "time_ratio_to_smallest", "per_sensor_us"))
        assert r["ms"]["median"] <= r["ms"]["p95"] <= r["ms"]["max"]
    assert math.isfinite(g["exponent_all"])
    text = (tmp_path / "perf.md").read_text()
    assert HEADING in text and "| 400 sensors x 24 h |" in text and "load average" in text


@pytest.mark.slow
@pytest.mark.browser
def test_payload_section_structure() -> None:
    res = _bench("--only", "payload", "--repeats", "2")
    p = res["payload"]
    if "skipped" in p:
        pytest.skip(p["skipped"])
    assert "error" not in p, p
    assert "interaction" not in res  # measured together, reported only when asked for
    s = p["scenario_change_bytes"]
    assert s["n"] >= 1 and _positive(s["median"]) and s["median"] <= s["max"]
    assert p["hour_step_bytes"]["n"] >= 1 and p["hour_step_bytes"]["max"] >= 0  # 0: no rerun on an hour step
    assert _positive(p["first_load_bytes"]) and _positive(p["ratio_max_to_target"])
    assert p["first_load_bytes"] > s["median"]  # the first load also carries the city's layers


def test_markdown_section_replaces_only_itself(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\n## Large cities\n\nkept by hand\n\n## Where the time goes\n\nnotes\n")
    res = {"machine": {"cpu_count": 2, "load_avg_1m": 1.0, "time_utc": "t0"},
           "generation": {"skipped": "no synthetic cities here"}}
    write_section(doc, markdown(res, "explorer bench --only generation"))
    write_section(doc, markdown(res, "explorer bench --only generation"))  # idempotent: replaced, not appended
    text = doc.read_text()
    assert text.count(HEADING) == 1 and text.count(BEGIN) == 1 and text.count(END) == 1
    assert "kept by hand" in text and "## Where the time goes\n\nnotes" in text
    assert "Not measured: no synthetic cities here" in text


def test_partial_run_keeps_the_other_sections(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    first = {"machine": {"cpu_count": 2, "load_avg_1m": 1.0, "time_utc": "t0"}, "sections": ["generation", "payload"],
             "generation": {"skipped": "gen -- first run", "measured": {"time_utc": "t0", "load_avg_1m": 1.0}},
             "payload": {"error": "no browser", "measured": {"time_utc": "t0", "load_avg_1m": 1.0}}}
    write_section(doc, markdown(first, "explorer bench --only generation,payload"))
    assert previous_results(doc)["generation"]["skipped"] == "gen -- first run"  # "--" survives the comment
    second = {"machine": {"cpu_count": 2, "load_avg_1m": 2.0, "time_utc": "t1"}, "sections": ["payload"],
              "payload": {"skipped": "still no browser", "measured": {"time_utc": "t1", "load_avg_1m": 2.0}}}
    merged = with_kept_sections(second, doc, ("generation", "interaction", "payload"))
    assert merged["kept_from_earlier"] == ["generation"]
    write_section(doc, markdown(merged, "explorer bench --only payload"))
    text = doc.read_text()
    assert "Kept from earlier runs (not re-run by this command): generation" in text
    assert "Not measured: gen -- first run" in text and "Not measured: still no browser" in text
    assert previous_results(doc)["payload"]["measured"]["time_utc"] == "t1"
