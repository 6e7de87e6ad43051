"""Read what a page hands to the browser map (AppTest cannot run the component's JavaScript)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.render.mapdata import unpack
from explorer.ui.after_map import COMPONENT as AFTER_MAP
from explorer.ui.deckmap import COMPONENT
from explorer.ui.overview import COMPONENT as HOME_AFTER_MAP


@dataclass
class MapSeen:
    """One map element: its options, and the base and data payloads (header, arrays) it names."""

    opts: dict[str, Any]
    base: dict[str, Any]
    base_arrays: dict[str, np.ndarray]
    data: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def q(self, which: str) -> np.ndarray:
        """Quantiles (3, H, N) of 'qb' / 'qs' / 'qd'."""
        return self.arrays[which].reshape(3, len(self.data["hours"]), self.data["n"])


def maps(at) -> list[MapSeen]:
    """Every map on the page, with the payloads carried beside it (a map whose payload is missing fails)."""
    payloads, opts = {}, []
    for el in at.get("bidi_component"):
        if el.proto.component_name in (AFTER_MAP, HOME_AFTER_MAP):  # What if's and Home's invisible triggers
            continue
        assert el.proto.component_name == COMPONENT
        kind = el.proto.WhichOneof("data")
        if kind == "bytes":
            header, arrays = unpack(el.proto.bytes)
            payloads[header["key"]] = (header, arrays)
        else:
            opts.append(json.loads(el.proto.json))
    out = []
    for o in opts:
        assert o["base"] in payloads and o["data"] in payloads, "a map's payload was not sent"
        (bh, ba), (dh, da) = payloads[o["base"]], payloads[o["data"]]
        assert dh["base"] == bh["key"]
        out.append(MapSeen(o, bh, ba, dh, da))
    return out
