"""Planner-language tables and sentences, and the chart-fitting rules, on cases with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explorer.render.readable import (
    CHAR_EM,
    aggregate_rows,
    category_axis,
    chart_height,
    format_value,
    metrics_table,
    plain_summary,
    settings_sentence,
    title_layout,
    wrap_title,
)

IMPUTER_METRICS = {"block": {"infer_s": 7.2, "mae": 94.0287, "mre": 0.1587, "mse": 34929.1103}, "mask_seed": 9101112,
                   "point": {"infer_s": 7.0, "mae": 75.0357, "mre": 0.1264, "mse": 26079.8806}, "val_mae": 66.044}
EVAL_SETTINGS = {"device": "cpu", "disc_steps": 300, "latency_calls": 20, "n_samples": 64, "pred_steps": 200,
                 "quick": False, "repeats": 3, "requests": 40, "seed": 0}


@pytest.mark.parametrize(("value", "fmt", "unit", "text"), [
    (0.8045, "pct", "", "80 %"),
    (0.034, "pct", "", "3.4 %"),
    (1500.1, "min", "", "25 min"),
    (95.0, "min", "", "1.6 min"),
    (1.55, "x", "", "× 1.55"),
    (94.0287, "unit", "people/hour", "94.0 people/hour"),
    (34929.1103, "num", "", "34,929"),
    (0.01747, "num", "", "0.0175"),
    (9101112, "int", "", "9,101,112"),
    (False, "bool", "", "no"),
    (float("nan"), "num", "", "—"),
    (None, "pct", "", "—"),
    ("cpu", "text", "", "cpu"),
])
def test_values_read_as_a_planner_would_write_them(value, fmt, unit, text):
    assert format_value(value, fmt, unit) == text


def test_a_nested_metrics_dict_becomes_a_table_without_braces():
    t = metrics_table(IMPUTER_METRICS, unit="people/hour", skip={"mask_seed"})
    assert list(t.columns) == ["Measure", "Value", "What it means"]
    row = t.set_index("Measure").loc["Long gaps (whole blocks missing): Average error"]
    assert row["Value"] == "94.0 people/hour" and "lower is better" in row["What it means"]
    assert t.set_index("Measure").loc["Scattered missing readings: Relative error", "Value"] == "13 %"
    assert len(t) == 9  # 4 + 4 nested figures and the validation error; the seed skipped
    text = t.to_string()
    assert not any(c in text for c in "{}[]") and "mask" not in text.lower()


def test_unknown_keys_are_named_in_words_and_long_lists_left_to_charts():
    t = metrics_table({"warmup_ratio": 0.25, "history": list(range(50)), "pair": [1, 2]})
    assert t["Measure"].tolist() == ["Warmup ratio", "Pair"] and t["Value"].tolist() == ["0.25", "1, 2"]


def test_settings_read_as_one_line():
    line = settings_sentence(EVAL_SETTINGS)
    assert line.startswith("Device cpu · Steps of the real-or-generated test 300")
    assert "Samples drawn 64" in line and "Quick run no" in line and "Random seed 0" in line
    assert "{" not in line and ":" not in line and '"' not in line


def test_the_first_sentence_about_a_model():
    assert plain_summary("the usual rhythm of each hour.", "far-reaching events;", "days it never saw") == (
        "Good at the usual rhythm of each hour; not good at far-reaching events. Measured on days it never saw.")


def test_chart_height_grows_with_rows_within_bounds():
    assert chart_height(0) == 280 and chart_height(5) == 280
    assert chart_height(39) == 130 + 18 * 39 == 832
    assert chart_height(207) == 900 and chart_height(40, per_row=10, chrome=100, lo=100) == 500
    assert [chart_height(n) for n in range(0, 60)] == sorted(chart_height(n) for n in range(0, 60))


@pytest.mark.parametrize("width", [250, 380, 800])
def test_titles_wrap_to_fit_their_plot(width):
    title = "Share of readings missing while installed (worst 40 sensors), most first"
    wrapped = wrap_title(title, width, 16)
    lines = wrapped.split("<br>")
    assert " ".join(lines) == title
    assert all(len(line) * 16 * CHAR_EM <= width for line in lines)
    assert (len(lines) == 1) == (len(title) * 16 * CHAR_EM <= width)
    lay = title_layout(title, width_px=width)
    assert lay["title"]["text"] == wrapped and lay["margin_t"] == int(24 + len(lines) * 16 * 1.35)


def test_numeric_ids_stay_categories_in_their_order():
    ax = category_axis([773869, "717445", "1"])
    assert ax == {"type": "category", "categoryorder": "array", "categoryarray": ["773869", "717445", "1"]}


def test_heatmap_rows_kept_grouped_or_banded():
    m = pd.DataFrame(np.arange(12, dtype=float).reshape(6, 2), index=[f"s{i}" for i in range(6)], columns=["d1", "d2"])
    same, kind = aggregate_rows(m, max_rows=6)
    assert kind == "sensor" and same is m
    zones = {"s0": "North", "s1": "North", "s2": "South", "s3": "South", "s4": "South"}  # s5 in no zone
    grouped, kind = aggregate_rows(m, zones, max_rows=3)
    assert kind == "zone"
    assert grouped.index.tolist() == ["(no zone) (1 sensor)", "North (2 sensors)", "South (3 sensors)"]
    assert grouped.loc["North (2 sensors)"].tolist() == [1.0, 2.0]  # mean of rows s0 [0, 1] and s1 [2, 3]
    assert grouped.loc["South (3 sensors)"].tolist() == [6.0, 7.0]
    banded, kind = aggregate_rows(m, zones, max_rows=2)  # three zones are still too many: bands by rank
    assert kind == "band of sensors" and banded.index.tolist() == ["ranked 1–3", "ranked 4–6"]
    assert banded.iloc[0].tolist() == [8.0, 9.0]  # s5, s4, s3 have the largest means


def test_sensor_zones_from_the_city_layers():
    import geopandas as gpd
    from shapely.geometry import Point, box

    from explorer.render.readable import sensor_zones

    class Town:
        sensors = gpd.GeoDataFrame({"sensor_id": ["a", "b", "c"]},
                                   geometry=[Point(0.5, 0.5), Point(1.5, 0.5), Point(5, 5)], crs=4326)
        zones = gpd.GeoDataFrame({"name": ["West", "East"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)

    assert sensor_zones(Town()) == {"a": "West", "b": "East"}
    Town.zones = None
    assert sensor_zones(Town()) is None


SECTION = """### melbourne — held-out 2014-07-02 .. 2015-02-15 (229 days, 32 sensors)

Settings: {"device": "cpu", "n_samples": 64, "quick": false, "seed": 0}. Left out: sensors 33, 34.

| method | discriminative ↓ | P10–P90 coverage (target 0.80) |
|---|---:|---|
| gan | 0.440 ± 0.011 | 0.795 |
| analogue_bootstrap | 0.455 \\| 0.010 | 0.399 |

\\* latency of a stored draw. Not {valid json} here.
"""


def test_results_sections_become_words_and_tables():
    from explorer.render.readable import dicts_to_words, markdown_parts

    parts = markdown_parts(SECTION)
    assert [type(p).__name__ for p in parts] == ["str", "DataFrame", "str"]
    assert "Device cpu · Samples drawn 64 · Quick run no · Random seed 0. Left out" in parts[0]
    assert "{" not in parts[0] and parts[0].startswith("### melbourne")
    table = parts[1]
    assert table.columns.tolist() == ["method", "discriminative ↓", "P10–P90 coverage (target 0.80)"]
    assert table.values.tolist() == [["gan", "0.440 ± 0.011", "0.795"],
                                     ["analogue_bootstrap", "0.455 \\| 0.010", "0.399"]]
    assert parts[2].endswith("Not {valid json} here.")  # not JSON: kept as written
    assert dicts_to_words('a {"x": [1, 2]} b') == "a X 1, 2 b"
    assert markdown_parts("no table at all") == ["no table at all"]
