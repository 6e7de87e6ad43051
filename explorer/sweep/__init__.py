"""Scenario sweeps: expand a grid file into scenarios and run them serially, on a process pool or on Ray."""

from explorer.sweep.grid import MAX_SCENARIOS, Grid, GridError, expand, load_grid, parse_grid
from explorer.sweep.run import SweepError, run_sweep, scenario_seed

__all__ = [
    "MAX_SCENARIOS",
    "Grid",
    "GridError",
    "SweepError",
    "expand",
    "load_grid",
    "parse_grid",
    "run_sweep",
    "scenario_seed",
]
