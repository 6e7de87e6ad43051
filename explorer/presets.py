"""Preset scenarios per city: the workshop tour and sensible starting points."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.scenarios.schema import Scenario


@dataclass(frozen=True)
class Preset:
    title: str
    story: str
    scenario: Scenario


def _s(city: str, **kw) -> Scenario:
    return Scenario.model_validate({"city": city, **kw})


PRESETS: dict[str, list[Preset]] = {
    "los-angeles": [
        Preset("A quiet Tuesday", "An ordinary Tuesday from 6 am: no event. What does the model expect?",
               _s("los-angeles", day={"day_of_week": 1}, start_hour=6, horizon_hours=12)),
        Preset("Friday game night downtown",
               "A sold-out game near Downtown / Echo Park on a Friday: traffic 35 % slower for 3 hours from 6 pm.",
               _s("los-angeles", day={"day_of_week": 4}, start_hour=15, horizon_hours=9,
                  events=[{"place": {"lat": 34.0739, "lon": -118.2400}, "magnitude": 35, "unit": "percent_slower",
                           "start_offset_hours": 3, "duration_hours": 3, "reach_km": 2.5}])),
        Preset("Sunday concert at the Hollywood Bowl",
               "A Sunday evening concert: the freeway near Hollywood 40 % slower before and after the show.",
               _s("los-angeles", day={"day_of_week": 6}, start_hour=16, horizon_hours=8,
                  events=[{"place": {"lat": 34.1122, "lon": -118.3391}, "magnitude": 40, "unit": "percent_slower",
                           "start_offset_hours": 2, "duration_hours": 2, "reach_km": 1.5}])),
    ],
    "melbourne": [
        Preset("An ordinary Wednesday", "A Wednesday from 7 am with no event: the daily rhythm of the CBD.",
               _s("melbourne", day={"day_of_week": 2}, start_hour=7, horizon_hours=14)),
        Preset("Friday night event at Flinders Street",
               "20,000 extra people an hour around Flinders St station for 3 hours from 7 pm on a Friday.",
               _s("melbourne", day={"day_of_week": 4}, start_hour=16, horizon_hours=8,
                  events=[{"place": {"lat": -37.8179, "lon": 144.9651}, "magnitude": 20000, "unit": "people",
                           "start_offset_hours": 3, "duration_hours": 3, "reach_km": 0.3}])),
        Preset("New Year's Eve on the river",
               "New Year's Eve 2014: crowds three times the usual near Princes Bridge from 8 pm.",
               _s("melbourne", day={"date": "2014-12-31"}, start_hour=17, horizon_hours=8,
                  events=[{"place": {"lat": -37.8185, "lon": 144.9680}, "magnitude": 200, "unit": "percent",
                           "start_offset_hours": 3, "duration_hours": 4, "reach_km": 0.6}])),
    ],
}


def presets_for(slug: str) -> list[Preset]:
    """Presets of a bundled city, or a plain no-event scenario for any other city."""
    if slug in PRESETS:
        return PRESETS[slug]
    return [Preset("An ordinary weekday", "A Wednesday from 7 am with no event.",
                   _s(slug, day={"day_of_week": 2}, start_hour=7, horizon_hours=12))]
