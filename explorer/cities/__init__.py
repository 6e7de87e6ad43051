"""Cities: manifests, layer and series loading, validation, import."""

from explorer.cities.city import City, list_cities, load_city
from explorer.cities.manifest import CityManifest
from explorer.errors import CityDataError

__all__ = ["City", "CityDataError", "CityManifest", "list_cities", "load_city"]
