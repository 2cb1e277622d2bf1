"""Scenario files: models, safe loading, validation, JSON Schema."""

from iadsim.scenario.loader import LoadedScenario, json_schema, load_scenario, scenario_from_dict
from iadsim.scenario.models import (
    Asset, Doctrine, Effector, Orbit, Position, Scenario, Sensor, Simulation, Terrain, Threat, Waypoint,
)

__all__ = [
    "Asset", "Doctrine", "Effector", "LoadedScenario", "Orbit", "Position", "Scenario", "Sensor",
    "Simulation", "Terrain", "Threat", "Waypoint", "json_schema", "load_scenario", "scenario_from_dict",
]
