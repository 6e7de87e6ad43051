"""Pure rendering for Home: colours, legends, the profile chart and the map's data, checked without a browser."""

from __future__ import annotations

import numpy as np

from explorer.render.colors import VIRIDIS, legend_html, ramp
from explorer.render.mapdata import base_payload, stat_payload
from explorer.render.overview import daily_profile_figure


def test_ramp_endpoints_and_nan():
    rgb = ramp(np.array([0.0, 1.0, np.nan]), 0, 1)
    assert rgb[0].tolist() == VIRIDIS[0].astype(int).tolist()
    assert rgb[1].tolist() == VIRIDIS[-1].astype(int).tolist()
    assert rgb[2].tolist() == [170, 170, 170]


def test_legend_escapes_text():
    html = legend_html("<script>x</script>", 0, 1, "mph")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_graph_fallback_for_roads(la):
    """road_source='graph' draws the sensor graph's strong links where the roads would be; the legend says so."""
    base = base_payload(la, "graph", aggregate_above=10_000)
    links = len(base.arrays["rstart"]) - 1
    assert 100 < links < 5000 and all(np.diff(base.arrays["rstart"]) == 2)  # straight links: two points each
    legend = stat_payload(la, "mean", base).header["legend"]
    assert ["rgb(90,90,90)", "Sensor graph links"] in legend["extra"]


def test_profile_figure_has_bands_and_units(melbourne):
    fig = daily_profile_figure(melbourne).to_dict()
    names = [t["name"] for t in fig["data"]]
    assert names == ["Weekday P10–P90", "Weekday median", "Weekend P10–P90", "Weekend median"]
    assert "people/hour" in fig["layout"]["yaxis"]["title"]["text"]
    assert fig["data"][0]["fill"] == "toself"
    weekday = np.asarray(daily_profile_figure(melbourne).data[1].y, dtype=float)
    assert weekday.max() > 5 * weekday.min()  # busy days, quiet nights


def test_large_city_home_map_draws_areas_with_the_mean_of_their_sensors(la):
    """Above the threshold the sensors become h3 areas (LA with a threshold of 100 stands in for a large city):
    each area's value is the mean of its sensors' statistic, with their range for the tooltip."""
    from explorer.render.aggregate import sensor_cells
    from explorer.stats import sensor_statistic

    base = base_payload(la, "graph", aggregate_above=100)
    assert base.header["mode"] == "cells" and "rpos" not in base.arrays  # no 207-sensor graph links
    stat = stat_payload(la, "mean", base)
    cells = sensor_cells(la)
    counts = np.asarray(base.header["cell_counts"])
    assert len(stat.arrays["values"]) == len(cells.ids) and counts.sum() == 207
    values = sensor_statistic(la.series, "mean", la.manifest.series.higher_is_busier).to_numpy(float)
    k = int(np.argmax(counts))
    inside = values[cells.sensors_in(base.header["cell_ids"][k])]
    assert np.isclose(stat.arrays["values"][k], np.nanmean(inside), rtol=1e-5)
    assert np.isclose(stat.arrays["lo"][k], np.nanmin(inside)) and np.isclose(stat.arrays["hi"][k], np.nanmax(inside))
    assert "areas" in stat.header["legend"]["title"]
    assert base_payload(la, "layer", aggregate_above=100).arrays["rpos"].size  # the road layer is kept
    assert base_payload(la).header["mode"] == "sensors"  # 207 sensors: drawn one by one
