"""What-if scenarios: the schema shared by the generator, the explorer page and URL sharing."""

from explorer.scenarios.schema import (
    SCHEMA_VERSION,
    DayContext,
    Event,
    Place,
    Scenario,
    ScenarioError,
    validate_for_city,
)

__all__ = ["SCHEMA_VERSION", "DayContext", "Event", "Place", "Scenario", "ScenarioError", "validate_for_city"]
