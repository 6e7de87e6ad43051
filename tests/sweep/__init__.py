"""Scenario sweeps: grid files, backends, identical results."""

# the scenario every test grid varies (Melbourne: sensor 4, a Friday afternoon, 500 extra people)
BASE = {
    "day": {"day_of_week": 4},
    "start_hour": 16,
    "horizon_hours": 8,
    "events": [{"place": {"sensor_id": "4"}, "magnitude": 500, "unit": "people", "start_offset_hours": 2,
                "duration_hours": 3, "reach_km": 0.3}],
}  # fmt: skip
