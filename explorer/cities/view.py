"""A city as the models and the scenario checks read it: ids, coordinates, graph, what its series measure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from explorer.cities.calendar import HolidayCalendar
from explorer.cities.city import load_city
from explorer.cities.manifest import Kind


@dataclass
class CityView:
    """The parts of a city the generator needs (built from ``explorer.cities.City``)."""

    slug: str
    series: pd.DataFrame
    sensor_ids: list[str]
    lat: np.ndarray
    lon: np.ndarray
    adjacency: np.ndarray | sparse.csr_matrix  # sparse for large (synthetic) cities
    data_hash: str
    domain: Kind
    unit: str
    zones: Any = None  # GeoDataFrame with zone_id, geometry, or None
    city: Any = field(default=None, repr=False)  # the original city object (for checkpoints)
    holidays: HolidayCalendar = field(default_factory=HolidayCalendar, repr=False)  # public holidays


def as_view(city: Any) -> CityView:
    """Accept a slug, a path, a loaded ``City`` or a ``CityView``."""
    if isinstance(city, CityView):
        return city
    if isinstance(city, (str, Path)):
        city = load_city(city)
    geom = city.sensors.geometry
    return CityView(
        slug=city.slug,
        series=city.series,
        sensor_ids=[str(s) for s in city.series.columns],
        lat=np.asarray(geom.y, np.float64),
        lon=np.asarray(geom.x, np.float64),
        adjacency=city.adjacency if sparse.issparse(city.adjacency) else np.asarray(city.adjacency, np.float32),
        data_hash=str(city.data_hash),
        domain=city.manifest.series.kind,
        unit=city.manifest.series.unit,
        zones=getattr(city, "zones", None),
        city=city,
        holidays=getattr(city, "holidays", None) or HolidayCalendar(),
    )
