"""Shared fixtures: a small synthetic-terrain scenario that runs in a second."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from iadsim.geo.terrain import synthetic_elevation, write_dem

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# A 0.4 x 0.4 degree synthetic DEM near 10 N, 20 E (0.003 deg ~ 330 m cells)
DEM_WEST, DEM_NORTH, DEM_RES, DEM_N = 20.0, 10.4, 0.003, 134


def small_scenario_dict(dem: str = "dem.tif") -> dict:
    return {
        "schema_version": 1,
        "name": "small-synthetic",
        "title": "test scenario on synthetic hills",
        "terrain": {"dem": dem, "resolution_m": 400, "margin_km": 3},
        "simulation": {"duration_s": 900, "dt_s": 1.0, "replications": 64, "seed": 7},
        "assets": [{"name": "base", "lat": 10.2, "lon": 20.2, "radius_m": 500}],
        "effectors": [
            {"name": "sam-1", "system": "tor_m2", "site": {"lat": 10.21, "lon": 20.19, "height_m": 0}},
            {"name": "sam-2", "system": "pantsir_s1", "site": {"lat": 10.19, "lon": 20.21},
             "doctrine": {"mode": "salvo", "salvo_size": 2}},
        ],
        "threats": [
            {"name": "owa", "type": "shahed_136", "count": 3, "spacing_s": 15, "altitude_m": 200,
             "altitude_ref": "agl", "route": [{"lat": 10.36, "lon": 20.05}, {"lat": 10.30, "lon": 20.12}],
             "target": "base"},
            {"name": "drone", "type": "mq_9_reaper", "altitude_m": 4000, "launch_time_s": 60,
             "route": [{"lat": 10.05, "lon": 20.05}, {"lat": 10.35, "lon": 20.35}]},
        ],
    }


@pytest.fixture(scope="session")
def synthetic_dem(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dem")
    z = synthetic_elevation((DEM_N, DEM_N), res_m=330.0, seed=3, base_m=300.0, relief_m=900.0)
    return write_dem(folder / "dem.tif", z, DEM_WEST, DEM_NORTH, DEM_RES)


@pytest.fixture()
def small_dir(tmp_path, synthetic_dem) -> Path:
    """A folder with dem.tif and scenario.yaml of the small synthetic scenario."""
    (tmp_path / "dem.tif").write_bytes(synthetic_dem.read_bytes())
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(small_scenario_dict()), encoding="utf-8")
    return tmp_path


@pytest.fixture()
def small_scenario(small_dir):
    import iadsim

    return iadsim.load_scenario(small_dir / "scenario.yaml")


@pytest.fixture(scope="session")
def small_results(tmp_path_factory, synthetic_dem):
    import iadsim

    d = tmp_path_factory.mktemp("small")
    (d / "dem.tif").write_bytes(synthetic_dem.read_bytes())
    (d / "scenario.yaml").write_text(yaml.safe_dump(small_scenario_dict()), encoding="utf-8")
    return iadsim.simulate(iadsim.load_scenario(d / "scenario.yaml"), replications=64, seed=7)


def edited(base: dict, path: str, value) -> dict:
    """A deep copy of ``base`` with the dotted/indexed ``path`` set to ``value`` (or deleted if ...)."""
    out = copy.deepcopy(base)
    parts = path.replace("]", "").replace("[", ".").split(".")
    node = out
    for p in parts[:-1]:
        node = node[int(p)] if p.isdigit() else node[p]
    last = parts[-1]
    key = int(last) if last.isdigit() else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return out


