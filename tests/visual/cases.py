"""The screens the visual suite takes: every page, both bundled cities, at a laptop's 1280x720 and a projector's
1920x1080 with workshop mode on."""

from __future__ import annotations

from dataclasses import dataclass

CITIES = ("los-angeles", "melbourne")
SIZES = {"1280": (1280, 720, False), "1920": (1920, 1080, True)}  # name: width, height, workshop mode
PAGES = ("home", "scenario", "compare", "health", "model_card", "ask", "have_your_say", "projector", "add_city")
MAP_PAGES = {"home": 1, "scenario": 1, "compare": 3}  # how many browser maps each page draws (Compare: 3 kept)
PUBLIC_URL = "http://192.168.1.20:8501"  # the projector's QR code and link, fixed so the screen is the same


@dataclass(frozen=True)
class Case:
    page: str
    city: str
    size: str

    @property
    def name(self) -> str:
        return f"{self.page}-{self.city}-{self.size}"

    @property
    def viewport(self) -> dict[str, int]:
        w, h, _ = SIZES[self.size]
        return {"width": w, "height": h}

    @property
    def workshop(self) -> bool:
        return SIZES[self.size][2]

    @property
    def maps(self) -> int:
        return MAP_PAGES.get(self.page, 0)

    def path(self, compare_link: str) -> str:
        """The page's address (Compare opens on the city's preset tour, kept as a Compare link)."""
        query = f"cmp={compare_link}" if self.page == "compare" else f"city={self.city}"
        if self.workshop:
            query += "&workshop=1"
        return f"/{'' if self.page == 'home' else self.page}?{query}"


CASES = [Case(p, c, s) for s in SIZES for c in CITIES for p in PAGES]
