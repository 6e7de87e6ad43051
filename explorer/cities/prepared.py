"""A loaded city kept on disk, so a server's start does not parse and validate the city's files again.

:func:`load_city` reads the Parquet series, checks every layer and labels the sensors (~0.9 s for Los Angeles on an
idle core, more under load); the app's cold start waits for it. :func:`load_city_prepared` keeps the result, the
:class:`City` object's fields pickled, in ``var/cache/cities/`` of the checkout, and reads that back (~30 ms) while
nothing it was made from changed. The key covers every file of the city folder (path, size, modification time;
the ``models/`` folder is not read by ``load_city`` and left out), the source of ``explorer/cities`` and
``explorer/geo.py``, the ``max_file_mb`` setting, Python's and the data libraries' versions. A stale, unreadable or
foreign file is never used: the city is loaded again and the file rewritten. Pickle is only read from this folder,
which the app itself writes; only the app's shared city cache (``explorer.ui.state.cached_city``) uses it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from explorer.cities.city import City, load_city, resolve_city_folder
from explorer.settings import REPO_ROOT, get_settings

log = logging.getLogger(__name__)
CACHE_DIR = REPO_ROOT / "var" / "cache" / "cities"
FORMAT = 1
_SOURCES = (Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent / "geo.py")
_LIBRARIES = ("numpy", "pandas", "geopandas", "shapely", "pyproj", "scipy", "pyarrow", "pydantic")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def cache_key(folder: Path) -> str:
    """What a prepared city depends on, hashed: its folder's files (not ``models/``), this code, the libraries."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"format {FORMAT}|{sys.version}|max_file_mb {get_settings().max_file_mb}".encode())
    for name in _LIBRARIES:
        h.update(f"|{name} {_version(name)}".encode())
    for src in _SOURCES:
        for path in sorted(src.glob("*.py")) if src.is_dir() else [src]:
            h.update(path.name.encode())
            h.update(path.read_bytes())
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if rel.parts[0] == "models" or not path.is_file():
            continue
        st = path.stat()
        h.update(f"|{rel.as_posix()} {st.st_size} {st.st_mtime_ns}".encode())
    return h.hexdigest()


def _prefix(folder: Path) -> str:
    where = hashlib.blake2b(str(folder.resolve()).encode(), digest_size=6).hexdigest()
    return f"{folder.name}-{where}-"


def load_city_prepared(city: str | Path, cache_dir: Path | None = None,
                       load: Callable[[str | Path], City] = load_city) -> City:
    """:func:`load_city` (``load``), read from ``cache_dir`` when this city was loaded before and nothing it was
    made from changed; else loaded and written there for the next start (a folder that cannot be written is
    only logged). Raises what ``load`` raises for a bad city."""
    cache_dir = cache_dir or CACHE_DIR
    folder = resolve_city_folder(city)
    path = cache_dir / f"{_prefix(folder)}{cache_key(folder)}.pkl"
    if path.is_file():
        try:
            with path.open("rb") as f:
                fields = pickle.load(f)  # noqa: S301 (a file this function wrote, in the app's own folder)
            prepared = City(**fields)
            prepared.holidays  # noqa: B018 - as load_city: the holidays are read (and checked) at load
            return prepared
        except Exception as exc:  # noqa: BLE001 (a damaged or foreign file: load the city again)
            log.warning("prepared city %s not used (%s); loading it again", path.name, exc)
    loaded = load(city)
    _write(loaded, path)
    return loaded


def _write(city: City, path: Path) -> None:
    """Write ``city``'s fields to ``path`` (atomically) and remove this folder's older prepared files."""
    fields = {f.name: getattr(city, f.name) for f in dataclasses.fields(City)}
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", suffix=".pkl", delete=False) as f:
            tmp = Path(f.name)
            pickle.dump(fields, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        for old in path.parent.glob(f"{path.name.rsplit('-', 1)[0]}-*.pkl"):
            if old != path:
                old.unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 (a cache: the city is loaded; say why it is not kept)
        log.warning("prepared city not written to %s (%s)", path.parent, exc)
        if tmp is not None:
            tmp.unlink(missing_ok=True)


__all__ = ["CACHE_DIR", "cache_key", "load_city_prepared"]
