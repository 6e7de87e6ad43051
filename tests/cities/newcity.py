"""Files a new user would bring: a sensors GeoJSON and a long CSV with string ids, made from real counts.

A subset of the bundled Melbourne counters (real data, naive local time) written as the portal's own export
looks: counters named by their street description (the ids are strings), a long table ``Date_Time, Year,
Month, Sensor_Name, Hourly_Counts``, a missing reading is a missing row. Nothing of the bundled folder is
reused: the importer sees only these two files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.cities import load_city
from explorer.settings import REPO_ROOT

SOURCE = REPO_ROOT / "data" / "cities" / "melbourne"  # the bundled folder, whatever EXPLORER_CITIES_DIR says


def write_new_city_files(folder: Path, n_sensors: int = 20, days: int = 730, start: str = "2013-02-01",
                         drop_share: float = 0.01, seed: int = 0) -> tuple[Path, Path]:
    """Write ``counters.geojson`` and ``counts.csv`` into ``folder``; returns their paths."""
    src = load_city(SOURCE)
    t0 = pd.Timestamp(start)
    window = src.series.loc[t0: t0 + pd.Timedelta(days=days) - pd.Timedelta(hours=1)]
    keep = window.notna().mean().sort_values(ascending=False, kind="stable").index[:n_sensors]
    window = window[keep]
    sensors = src.sensors.set_index("sensor_id").loc[keep]
    names = [f"{lbl} counter" for lbl in sensors["label"]]
    lat, lon = sensors.geometry.y.to_numpy(), sensors.geometry.x.to_numpy()
    features = [{"type": "Feature", "properties": {"name": n, "installed": 2012 + k % 3},
                 "geometry": {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]}}
                for k, (n, x, y) in enumerate(zip(names, lon, lat, strict=True))]
    folder.mkdir(parents=True, exist_ok=True)
    sensors_path = folder / "counters.geojson"
    sensors_path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    long = window.set_axis(names, axis=1).rename_axis("t").stack().rename("Hourly_Counts").reset_index()
    long.columns = ["t", "Sensor_Name", "Hourly_Counts"]
    long = long.dropna(subset=["Hourly_Counts"])  # a missing reading is a missing row in a long export
    rng = np.random.default_rng(seed)
    long = long[rng.random(len(long)) >= drop_share]  # a few rows missing, as in real exports
    out = pd.DataFrame({
        "Date_Time": long["t"].dt.strftime("%Y-%m-%dT%H:%M:%S"),
        "Year": long["t"].dt.year, "Month": long["t"].dt.month_name(), "Sensor_Name": long["Sensor_Name"],
        "Hourly_Counts": long["Hourly_Counts"].round().astype(int),
    })
    series_path = folder / "counts.csv"
    out.to_csv(series_path, index=False)
    return sensors_path, series_path
