"""Stored results sections as the Model card shows them: plain summaries with known answers, tables turned to fit,
and sections in formats nobody described still readable."""

from __future__ import annotations

from pathlib import Path

from explorer.render.model_card import results_section
from explorer.render.model_results import (
    backtest_view,
    evaluation_view,
    imputer_view,
    methods_table,
    plain_measure,
    plain_method,
)
from explorer.render.readable import markdown_parts

EVAL = """### townsville — held-out 2020-01-01 .. 2020-02-01 (31 days, 4 sensors)

Settings: {"device": "cpu", "n_samples": 64}. References: halves 0.01.

| method | CRPS per sensor-hour (mph), calibrated (raw) ↓ | P10–P90 coverage, calibrated (raw) | latency (ms) |
|---|---|---|---|
| gan | 2.000 (1.900) | 0.812 (0.600) | 7.5 |
| analogue_bootstrap | 2.500 (2.400) | 0.700 (0.650) | 0.3* |
| seasonal_noise | 1.500 (1.500) | 0.790 (0.790) | 1.7* |

| controllability (GAN; baselines cannot be asked) | mean rel. error ↓ |
|---|---|
| as trained (event gain 1.000) | 0.086 |
"""

BACKTEST = """### townsville — backtest on 10 held-out episodes (2020-01-01 .. 2020-02-01; 4 reached more)

Footprint: every other sensor.

| method | footprint CRPS (mph) ↓ | effect reproduced (1 = all) ↑ | median peak error (h) |
|---|---|---|---|
| (a) no event (event-free samples) | 3.000 | 0.000 | nan |
| (c) nearest historical analogue | 3.300 | 0.100 | 1.0 |
| (d) this model | 2.700 | 0.250 | 1.0 |
| reference: the real outcome at the episode's sensors (not a method) | 2.000 | 0.950 | 0.0 |
"""

IMPUTE = """### townsville

| protocol | method | MAE | CRPS | runs |
|---|---|---|---|---|
| point | interpolation | 2.000 | 0.04 | 1 |
| point | stgar | 1.500 | 0.03 | 1 |
| block | interpolation | 3.000 | 0.05 | 1 |
| block | stgar | 3.300 | 0.06 | 1 |
"""


def test_the_evaluation_reads_as_a_sentence_and_a_table_that_fits():
    view = evaluation_view(EVAL, "townsville", "mph")
    assert view.heading == "Held-out 2020-01-01 to 2020-02-01 (31 days, 4 sensors)"
    # 2.0 against the best baseline 1.5 (seasonal noise): worse; coverage is the calibrated 0.812
    assert view.summary == ("On days it never saw, this model's typical spread-aware error at a sensor is 2 mph, "
                            "worse than the best simple baseline (usual profile plus noise: 1.5); 81 % of real "
                            "readings fall inside its P10–P90 band (80 % is the aim).")
    (_, table), = view.tables
    assert list(table.columns) == ["This model", "Past days replayed (baseline)",
                                   "Usual profile plus noise (baseline)", "What it means"]
    assert table.index.name == "Measure" and table.index[0].startswith("Spread-aware error per sensor-hour (mph)")
    assert table.loc[table.index[0], "This model"] == "2.000 (1.900)"  # cells as stored
    assert table["What it means"].iloc[0].endswith("lower is better")
    assert not any("↓" in i for i in table.index)
    # the settings (written as words), the references and the second table go to the details
    assert any(isinstance(d, str) and "Device cpu · Samples drawn 64" in d for d in view.details)
    assert not any(isinstance(d, str) and "{" in d for d in view.details)
    assert sum(not isinstance(d, str) for d in view.details) == 1


def test_the_backtest_summary_names_the_best_baseline_and_leaves_out_the_reference():
    view = backtest_view(BACKTEST, "townsville", "mph")
    assert view.heading.startswith("Backtest on 10 held-out episodes (2020-01-01 to 2020-02-01;")
    # effect: 0.25 against the analogue's 0.10 (the reference's 0.95 is no method); footprint 2.7 vs 3.0: 10 % lower
    assert view.summary == ("Replayed from the place, day, start, duration and size alone: where the real event "
                            "reached, this model reproduces 25 % of its effect, better than the best baseline "
                            "(nearest past event, rescaled: 10 %); over every other sensor in the hours around it, "
                            "its error is 10.0 % lower than the best baseline's (no event).")
    (_, table), = view.tables
    assert list(table.columns)[0] == "This model" and list(table.columns)[-1] == "What it means"
    assert table.loc["Typical error of the busiest hour (h)", "No event (baseline)"] == "—"  # 'nan' as a dash


def test_the_imputer_gets_a_table_per_way_readings_were_hidden():
    view = imputer_view(IMPUTE, "townsville", "mph")
    assert view.heading == ""
    assert [cap for cap, _ in view.tables] == ["Scattered missing readings", "Long gaps (blocks missing)"]
    assert view.summary == ("On readings hidden from it: scattered missing readings: 1.5 mph off on average, better "
                            "than the best other method (straight line across the gap: 2); long gaps: 3.3 mph off "
                            "on average, worse than the best other method (straight line across the gap: 3).")
    point = view.tables[0][1]
    assert list(point.columns) == ["This model", "Straight line across the gap", "What it means"]
    assert list(point.index) == ["Average error (mph)", "Spread-aware error (share of the readings)", "Runs"]


def test_sections_in_an_unknown_format_still_read():
    assert plain_method("my_new_method") == "my_new_method"
    assert plain_measure("speed-up ↑") == ("speed-up", "")
    table = markdown_parts("| method | speed-up ↑ |\n|---|---|\n| a | 2 |\n| b | 3 |")[0]
    turned = methods_table(table)
    assert list(turned.columns) == ["a", "b", "What it means"] and list(turned.index) == ["speed-up"]
    # no table, no summary: the prose is kept, nothing is guessed
    view = evaluation_view("### townsville — something\n\nJust words.", "townsville", "mph")
    assert view.summary == "" and view.tables == [] and view.details == ["Just words."]
    assert backtest_view("| method | x |\n|---|---|\n| (d) this model | 1 |", "t", "").summary == ""


def test_the_committed_results_give_every_city_its_summaries():
    docs = Path(__file__).resolve().parents[2] / "docs"
    for slug, unit in (("los-angeles", "mph"), ("melbourne", "people/hour")):
        for view in (evaluation_view(results_section(docs / "generator_results.md", slug), slug, unit),
                     backtest_view(results_section(docs / "generator_results.md", f"backtest:{slug}"), slug, unit),
                     imputer_view(results_section(docs / "imputation_results.md", slug), slug, unit)):
            assert view.summary and view.tables
            for _, table in view.tables:
                assert table.columns[0] == "This model" and len(table.columns) <= 8  # fits a laptop's page
