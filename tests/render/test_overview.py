"""Pure rendering: the overview deck and profile chart, checked without a browser."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from explorer.cities import load_city
from explorer.render.colors import VIRIDIS, legend_html, ramp
from explorer.render.overview import daily_profile_figure, overview_map

GOLDEN = Path(__file__).parent / "golden"


def test_ramp_endpoints_and_nan():
    rgb = ramp(np.array([0.0, 1.0, np.nan]), 0, 1)
    assert rgb[0].tolist() == VIRIDIS[0].astype(int).tolist()
    assert rgb[1].tolist() == VIRIDIS[-1].astype(int).tolist()
    assert rgb[2].tolist() == [170, 170, 170]


def test_legend_escapes_text():
    html = legend_html("<script>x</script>", 0, 1, "mph")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_overview_deck_matches_golden(tiny_city_dir):
    deck = json.loads(overview_map(load_city(tiny_city_dir), "mean").deck.to_json())
    golden = GOLDEN / "tiny_overview.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(deck, indent=1, sort_keys=True) + "\n")
    assert deck == json.loads(golden.read_text())


def test_la_overview_has_every_layer_offline(la):
    ov = overview_map(la, "peak")
    spec = json.loads(ov.deck.to_json())
    assert [layer["id"] for layer in spec["layers"]] == ["zones", "roads", "sensors"]
    # no basemap provider and pydeck's placeholder style: Streamlit then fetches no style from outside
    assert "mapProvider" not in spec and spec["mapStyle"] == "__MAP_STYLE__"
    sensors = spec["layers"][2]["data"]
    assert len(sensors) == 207
    assert all(5 < s["value"] < 71 for s in sensors)  # mph at the busiest hour (some jam)
    assert len(spec["layers"][0]["data"]["features"]) == 115
    assert "mph" in ov.legend
    assert len(ov.deck.to_json()) < 2_500_000


def test_graph_fallback_for_roads(la):
    spec = json.loads(overview_map(la, "mean", road_source="graph").deck.to_json())
    roads = spec["layers"][1]["data"]
    assert 100 < len(roads) < 5000
    assert all(r["name"] == "sensor graph link" for r in roads)


def test_profile_figure_has_bands_and_units(melbourne):
    fig = daily_profile_figure(melbourne).to_dict()
    names = [t["name"] for t in fig["data"]]
    assert names == ["Weekday P10–P90", "Weekday median", "Weekend P10–P90", "Weekend median"]
    assert "people/hour" in fig["layout"]["yaxis"]["title"]["text"]
    assert fig["data"][0]["fill"] == "toself"
    weekday = np.asarray(daily_profile_figure(melbourne).data[1].y, dtype=float)
    assert weekday.max() > 5 * weekday.min()  # busy days, quiet nights


def test_large_city_overview_draws_areas_with_the_mean_of_their_sensors(la):
    """Above the threshold the sensors become h3 areas (LA with a threshold of 100 stands in for a large city):
    each area's colour is the mean of its sensors' statistic, its tooltip gives the count and the range."""
    from explorer.render.aggregate import sensor_cells
    from explorer.stats import sensor_statistic

    ov = overview_map(la, "mean", road_source="graph", aggregate_above=100)
    spec = json.loads(ov.deck.to_json())
    assert [layer["id"] for layer in spec["layers"]] == ["zones", "areas"]  # no 207-sensor graph links
    areas = spec["layers"][1]["data"]
    cells = sensor_cells(la)
    assert ov.n_areas == len(areas) == len(cells.ids) and sum(a["n"] for a in areas) == 207
    values = sensor_statistic(la.series, "mean", la.manifest.higher_is_busier).to_numpy(float)
    biggest = max(areas, key=lambda a: a["n"])
    inside = values[cells.sensors_in(biggest["h"])]
    assert biggest["v"] == f"{np.nanmean(inside):,.1f}"
    assert biggest["lo"] == f"{np.nanmin(inside):,.1f}" and biggest["hi"] == f"{np.nanmax(inside):,.1f}"
    assert "areas" in ov.legend
    roads = overview_map(la, "mean", road_source="layer", aggregate_above=100)
    assert [layer["id"] for layer in json.loads(roads.deck.to_json())["layers"]] == ["zones", "roads", "areas"]
    assert overview_map(la, "mean").n_areas is None  # 207 sensors: drawn one by one
