"""Shared fixtures: a small synthetic-terrain scenario that runs in a second."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml

from iadsim.geo.terrain import synthetic_elevation, write_dem

REPO = Path(__file__).resolve().parents[1]
#: the project's shared data set: ``shared/`` next to the repository (reference/systems.yaml,
#: reference/wta/, data/N44W072.hgt, data/PROVENANCE.md)
SHARED = REPO.parent / "shared"
#: set IADSIM_ALLOW_MISSING_SHARED=1 to skip (not fail) tests whose shared data are absent
ALLOW_MISSING_SHARED_ENV = "IADSIM_ALLOW_MISSING_SHARED"


def shared_path(*parts: str) -> Path:
    """The shared data file or folder ``SHARED/parts...``. A test that needs it FAILS when it is
    missing (a checkout without ``../shared`` must not pass by skipping its data tests), unless
    the environment variable IADSIM_ALLOW_MISSING_SHARED=1 says to skip instead."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        msg = (f"shared data {path} is missing: check out shared/ next to the repository "
               f"({SHARED}), or set {ALLOW_MISSING_SHARED_ENV}=1 to skip the tests that need it")
        if os.environ.get(ALLOW_MISSING_SHARED_ENV, "").strip() not in ("", "0"):
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    return path

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




#: test files that must not run at the same time as each other under pytest-xdist (``make test``
#: runs two workers): one xdist group each, so one worker runs them one after the other. The Ray
#: tests each start a local Ray instance with two CPUs and kill its workers.
SERIAL_GROUPS = {"tests/test_ray.py": "ray", "tests/test_ray_faults.py": "ray"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``--dist loadgroup``), each test file is one group (its module and
    session fixtures are made once, in one worker, and its tests run in file order), except the
    files of :data:`SERIAL_GROUPS`, which share their group. Without xdist nothing changes."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            rel = Path(str(item.path)).resolve().relative_to(config.rootpath.resolve()).as_posix()
            item.add_marker(pytest.mark.xdist_group(SERIAL_GROUPS.get(rel, rel)))
