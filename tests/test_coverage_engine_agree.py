"""Coverage maps, 3-D exports and the engine agree on where a fire unit engages.

The source of truth is the run: ``iadsim.engine.world.compile_world`` (predicted intercept point from
the unit's flyout table, the flyout envelope, line of sight, sector: ``pip_ok`` / ``act_ok``) and the
kernel's slant-range x altitude test at the intercept point and where the target is when the missile
arrives (``iadsim.engine.kernel._run_one``; ``full.py`` applies the same limits). The envelope model
is the one documented in ``iadsim.physics.flyout`` (point-mass flyout, Zarchan 2012 ch. 1; Fleeman
2006 ch. 6; the collision-triangle predicted intercept point, Zarchan 2012 ch. 2) and
``iadsim.catalog.envelope`` (gun shells: McCoy 1999, ch. 2).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from xml.etree import ElementTree

import numpy as np
import pytest
import rasterio
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import iadsim
from iadsim.catalog import load_catalog
from iadsim.catalog.envelope import gun_table, is_gun, system_table
from iadsim.coverage import min_visible_altitude
from iadsim.coverage.envelope import (
    UnitEnvelope, engageable, engageable_at, envelope_profile, envelope_rings, intercept, unit_envelope_of_world,
    unit_envelopes,
)
from iadsim.coverage.los import visible_at
from iadsim.coverage.products import engagement_mask, target_altitude
from iadsim.coverage.specs import effector_specs, radar_specs
from iadsim.engine import compile_world
from iadsim.geo import LocalGrid, Terrain
from iadsim.geo.terrain import synthetic_elevation, write_dem

#: seed systems: three missile systems with a flyout and two gun fire units
SYSTEMS = ("pantsir_s1", "tor_m2", "buk_m2", "zsu_23_4_shilka", "gepard")
LAT0, LON0 = 10.2, 20.0
KM_PER_DEG_LAT, KM_PER_DEG_LON = 110.6, 109.6   # near 10 N


@pytest.fixture(scope="module")
def wide_dem(tmp_path_factory):
    """A 1.4 x 1.4 degree synthetic DEM (about 150 km square: room for the Buk-M2's 45 km), low hills."""
    d = tmp_path_factory.mktemp("wide")
    z = synthetic_elevation((280, 280), res_m=550.0, seed=5, base_m=100.0, relief_m=300.0)
    return write_dem(d / "dem.tif", z, 19.3, 10.9, 0.005)


def _world(tmp_path, dem, system: str, sector=None):
    """One fire unit at (LAT0, LON0) and level threats on north-south lines at lateral offsets and
    heights around its envelope's edges (range limit, altitude limit, minimum range, overhead),
    at several speeds; 1 s steps."""
    cat = load_catalog()
    s = cat[system]
    R = s.nominal("engagement_range_max_km") * 1000.0
    H = s.nominal("engagement_altitude_max_m")
    lines = [(0.0, 0.05, 60.0), (0.3, 0.2, 60.0), (0.7, 0.6, 120.0), (0.97, 0.1, 60.0), (1.03, 0.3, 60.0),
             (0.5, 0.95, 200.0), (0.2, 1.05, 200.0), (0.6, 0.4, 250.0), (0.05, 0.5, 30.0)]
    thr = []
    for i, (dx, h, v) in enumerate(lines):
        lon = LON0 + dx * R / (KM_PER_DEG_LON * 1000.0)
        half = 1.2 * R / (KM_PER_DEG_LAT * 1000.0)
        thr.append({"name": f"t{i}", "type": "shahed_136", "altitude_m": 450.0 + h * H, "altitude_ref": "msl",
                    "speed_m_s": v, "route": [{"lat": LAT0 + half, "lon": lon}, {"lat": LAT0 - half, "lon": lon}]})
    eff = {"name": "unit", "system": system, "site": {"lat": LAT0, "lon": LON0, "height_m": 0}}
    if sector is not None:
        eff["sector"] = sector
    data = {"schema_version": 1, "name": f"agree-{system}",
            "terrain": {"dem": "dem.tif", "resolution_m": 500, "margin_km": 2},
            "simulation": {"duration_s": 3000, "dt_s": 1.0, "replications": 4},
            "assets": [{"name": "base", "lat": LAT0 - 0.1, "lon": LON0}],
            "effectors": [eff], "threats": thr}
    (tmp_path / "dem.tif").write_bytes(dem.read_bytes())
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    ld = iadsim.load_scenario(tmp_path / "s.yaml")
    return ld, compile_world(ld)


def _engine_decision(w, e: int) -> np.ndarray:
    """[T, M]: the kernel's envelope test (iadsim.engine.kernel._run_one, before the kill probability):
    the PIP inside the flyout envelope and the limits there, and the limits where the target is at
    intercept."""
    rm, rM, hm, hM = w.range_min_m[e], w.range_max_m[e], w.altitude_min_m[e], w.altitude_max_m[e]
    pip = (w.pip_ok[:, :, e] & (rm <= w.pip_r[:, :, e]) & (w.pip_r[:, :, e] <= rM)
           & (w.pip_agl[:, :, e] >= hm) & (w.pip_above[:, :, e] <= hM))
    act = (w.act_ok[:, :, e] & (rm <= w.act_r[:, :, e]) & (w.act_r[:, :, e] <= rM)
           & (w.act_agl[:, :, e] >= hm) & (w.act_above[:, :, e] <= hM))
    out = pip & act
    side = getattr(w, "second_weapon", None)
    if side is not None and side.gun_of[e] >= 0:   # a gun-missile unit: where its guns engage too
        out = out | side.ok[:, :, side.gun_of[e]]
    return out


def _same_envelope(a, b) -> None:
    for f in dataclasses.fields(UnitEnvelope):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "second":
            assert (x is None) == (y is None), f.name
            if x is not None:
                _same_envelope(x, y)
            continue
        assert (np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y), f.name


@pytest.mark.parametrize("system, sector", [(s, None) for s in SYSTEMS] + [
    ("buk_m2", {"azimuth_deg": 60, "width_deg": 90, "min_elevation_deg": 2, "max_elevation_deg": 60}),
    ("tor_m2", {"azimuth_deg": 0, "width_deg": 360, "min_elevation_deg": 0, "max_elevation_deg": 40}),
])
def test_the_envelope_function_decides_as_the_engine(tmp_path, wide_dem, system, sector):
    ld, w = _world(tmp_path, wide_dem, system, sector)
    e = 0
    env = unit_envelope_of_world(w, e)
    # the catalog builder gives exactly what the compiled world holds
    cat_env = unit_envelopes(ld, effector_specs(ld, radar_specs(ld, w.grid, w.terrain)))[e]
    _same_envelope(env, cat_env)
    assert env.gun == is_gun(load_catalog()[system])

    eng = _engine_decision(w, e)
    # compare where the threat flies on for longer than any flyout (the engine also needs the run to
    # last until the intercept, and takes the target's true position then)
    K = int(math.ceil(min(env.max_time_s, 200.0) / w.dt)) + 2
    fly = np.isfinite(w.pos[..., 0])
    valid = np.zeros_like(fly)
    valid[:-K] = fly[:-K] & fly[K:]
    rel = w.pos - np.asarray(w.effector_xyz[e])
    mva = w.mva[w.effector_sensor[e]]
    mine = engageable(env, np.nan_to_num(rel), np.nan_to_num(w.vel), ground_at=w.terrain.height_at, dt_s=w.dt,
                      visible=lambda x, y, z: visible_at(mva, w.terrain, x, y, z))
    n = int(valid.sum())
    assert n > 400
    assert 50 < int(eng[valid].sum()) < n - 50   # engaged and not engaged samples both
    # many samples on and around the boundary: the decision flips along the threats' lines
    flips = int(((eng[1:] != eng[:-1]) & valid[1:] & valid[:-1]).sum())
    assert flips >= 8
    bad = np.argwhere((eng != mine) & valid)
    assert len(bad) == 0, [(int(t), int(m), bool(eng[t, m]), rel[t, m].round(1).tolist()) for t, m in bad[:5]]


def _flat(n: int, res: float, z: float = 0.0) -> Terrain:
    g = LocalGrid(0.0, 0.0, -n / 2 * res, n / 2 * res, res, n, n)
    return Terrain(g, np.full((n, n), z, dtype=np.float32))


@functools.lru_cache(maxsize=None)
def _catalog_env(system: str, sector=(0.0, math.pi, -math.pi / 2, math.pi / 2)) -> UnitEnvelope:
    """A unit of ``system`` at the origin of flat ground at sea level, built as the engine does."""
    s = load_catalog()[system]
    gun = is_gun(s)
    tab = gun_table(s) if gun else system_table(s, 0.0)
    rmax = s.nominal("engagement_range_max_km") * 1000.0
    if gun:
        rmax = min(rmax, s.nominal("gun_effective_range_km") * 1000.0)
    vt = s.nominal("target_speed_max_m_s") if "target_speed_max_m_s" in s.figures else np.inf
    return UnitEnvelope("u", system, 0.0, 0.0, 0.0, tab.tof_s, tab.speed_m_s, float(tab.gr_m[1]),
                        float(tab.h_m[1]), float(tab.max_time_s), float(tab.min_speed_m_s), float(vt),
                        s.nominal("gun_muzzle_velocity_m_s") if gun else s.nominal("missile_speed_m_s"),
                        s.nominal("engagement_range_min_km") * 1000.0, rmax,
                        s.nominal("engagement_altitude_min_m"), s.nominal("engagement_altitude_max_m"), sector, gun)


@pytest.mark.parametrize("system", SYSTEMS)
def test_coverage_mask_is_the_envelope_at_the_cells(system):
    """engagement_mask is engageable() at the cell centres (hovering and inbound targets), with the
    radar's line of sight."""
    env = _catalog_env(system)
    res = max(env.range_max_m / 60.0, 50.0)
    t = _flat(161, res)
    mva = min_visible_altitude(t, 0.0, 0.0, 5.0, k=np.inf)
    x, y = np.meshgrid(t.grid.x_centers(), t.grid.y_centers())
    for h in (0.1 * env.altitude_max_m, 0.5 * env.altitude_max_m):
        alt = target_altitude(t, h, agl=False)
        rel = np.stack([x, y, alt], axis=-1)
        m0 = engagement_mask(env, mva, t, alt)
        assert np.array_equal(m0, engageable(env, rel) & (alt >= mva))
        v = 200.0
        gr = np.hypot(x, y)
        vel = np.stack([np.where(gr > 0, -v * x / np.where(gr > 0, gr, 1), 0.0),
                        np.where(gr > 0, -v * y / np.where(gr > 0, gr, 1), 0.0), np.zeros_like(x)], axis=-1)
        m1 = engagement_mask(env, mva, t, alt, target_speed_m_s=v, dt_s=1.0)
        assert np.array_equal(m1, engageable(env, rel, vel, dt_s=1.0) & (alt >= mva))
        assert m0.any() and m1.any()


@pytest.mark.parametrize("system", SYSTEMS)
def test_engagement_area_shrinks_with_altitude_and_ends_at_the_reach(system):
    env = _catalog_env(system)
    res = max(env.range_max_m / 60.0, 50.0)
    t = _flat(161, res)
    mva = np.full(t.grid.shape, -1.0e4, dtype=np.float32)   # everything in sight: the envelope alone
    top = env.altitude_max_m
    # above the minimum range's height the inner hole has closed: the area can only shrink upward
    heights = np.linspace(max(env.range_min_m, env.altitude_min_m) + 1.0, top, 8)
    areas = [int(engagement_mask(env, mva, t, target_altitude(t, h, agl=False)).sum()) for h in heights]
    assert all(b <= a for a, b in zip(areas, areas[1:])), areas
    assert areas[0] > areas[-1] > 0
    # beyond the altitude reach nothing is engaged
    for h in (top + 1.0, top * 1.2):
        assert not engagement_mask(env, mva, t, target_altitude(t, h, agl=False)).any()
    # below the lowest engagement height neither
    if env.altitude_min_m > 1.0:
        assert not engagement_mask(env, mva, t, target_altitude(t, env.altitude_min_m - 1.0, agl=False)).any()


@pytest.mark.parametrize("system", SYSTEMS)
def test_nothing_is_engaged_inside_the_minimum_range(system):
    env = _catalog_env(system)
    gr, h = np.meshgrid(np.linspace(0.0, env.range_min_m, 60), np.linspace(0.0, env.range_min_m, 60))
    inside = np.hypot(gr, h) < env.range_min_m
    assert not engageable_at(env, gr[inside], h[inside]).any()
    # just outside the minimum range (at a height it allows) it is engaged
    h0 = env.altitude_min_m + 1.0
    assert engageable_at(env, math.sqrt((env.range_min_m + 5.0) ** 2 - h0 ** 2), h0)
    # a moving target: never an intercept point inside the minimum range
    rel = np.stack([gr.ravel() + env.range_min_m, np.zeros(gr.size), h.ravel()], axis=-1)
    vel = np.array([-150.0, 0.0, 0.0])
    ok = engageable(env, rel, vel)
    tau, _, _ = intercept(env, rel, vel)
    pip = rel + vel * tau[:, None]
    assert ok.any()
    assert np.all(np.linalg.norm(pip[ok], axis=1) >= env.range_min_m - 1e-3)


@pytest.mark.parametrize("system", ("tor_m2", "buk_m2", "zsu_23_4_shilka"))
def test_directions_of_the_effects(system):
    """A target flying at the unit is engaged from farther out the faster it flies (the launch point
    leads the intercept point by speed x flyout time); faster than the system's target speed limit
    it is never engaged; a higher target is engaged out to no farther a ground range."""
    env = _catalog_env(system)
    h = np.array([0.2, 0.5]) * env.altitude_max_m
    outers = [envelope_profile(env, h, v)[1] for v in (0.0, 100.0, 250.0)]
    assert np.all(outers[1] > outers[0]) and np.all(outers[2] > outers[1])
    hs = np.linspace(env.altitude_min_m + 1.0, env.altitude_max_m, 12)
    hs = hs[hs >= env.range_min_m]
    o = envelope_profile(env, hs)[1]
    assert np.all(np.diff(o) <= 1.0)
    if np.isfinite(env.max_target_speed_m_s):
        assert not engageable_at(env, np.linspace(0, 2 * env.range_max_m, 200), h[0],
                                 env.max_target_speed_m_s + 10.0).any()


# ---------------------------------------------------------------- the 3-D exports

@pytest.fixture(scope="module")
def sector_results(tmp_path_factory, synthetic_dem):
    from conftest import small_scenario_dict

    d = tmp_path_factory.mktemp("sector")
    (d / "dem.tif").write_bytes(synthetic_dem.read_bytes())
    sc = small_scenario_dict()
    sc["effectors"][1]["sector"] = {"azimuth_deg": 90, "width_deg": 120, "min_elevation_deg": 0,
                                    "max_elevation_deg": 70}
    (d / "scenario.yaml").write_text(yaml.safe_dump(sc))
    return iadsim.simulate(iadsim.load_scenario(d / "scenario.yaml"), replications=8, seed=3)


def _check_ring(w, env, xy_local: np.ndarray, alt: float) -> None:
    """Points of one drawn ring: at the envelope's reach at its height (within a table step), inside
    the launcher's azimuth sector."""
    # the drawn altitude is rounded to 0.1 m: back inside the height limits the rings lie within
    h = min(max(alt - env.ground, env.altitude_min_m), env.altitude_max_m)
    _inner, outer = envelope_profile(env, [h])
    dx, dy = xy_local[0] - env.x, xy_local[1] - env.y
    r = np.hypot(dx, dy)
    far = r > 0.5 * outer[0]
    assert far.sum() >= 3
    assert np.allclose(r[far], outer[0], atol=env.dr_m)
    assert np.allclose(r[far], outer[0], atol=1.0)   # lon/lat to 1e-7 degrees: centimetres
    # it is the edge: engaged just inside, not just outside (on the sector's centre line)
    assert engageable_at(env, outer[0] - 5.0, h) and not engageable_at(env, outer[0] + env.dr_m, h)
    az0, half = env.sector[0], env.sector[1]
    if half < math.pi:
        off = np.abs((np.arctan2(dx[far], dy[far]) - az0 + math.pi) % (2 * math.pi) - math.pi)
        assert np.all(off <= half + 1e-6)


def test_czml_rings_are_the_envelope_at_their_height(sector_results, tmp_path):
    from czml3 import Document

    from iadsim.export.czml import czml_json, run_czml

    w = sector_results.world
    text = czml_json(run_czml(sector_results))
    Document.model_validate_json(text)   # czml3 reads it back
    packets = {p["id"]: p for p in json.loads(text)}
    assert "envelopes" in packets
    for e, name in enumerate(w.effector_labels):
        env = unit_envelope_of_world(w, e)
        rings = [p for k, p in packets.items() if k.startswith(f"envelope/{name}/ring/") and not k.endswith("inner")]
        assert len(rings) == len(envelope_rings(env, 8)) >= 4
        for p in rings:
            v = np.array(p["polyline"]["positions"]["cartographicDegrees"]).reshape(-1, 3)
            x, y = w.grid.to_local(v[:, 1], v[:, 0])
            _check_ring(w, env, np.array([x, y]), float(v[0, 2]))
        bands = [p for k, p in packets.items() if k.startswith(f"envelope/{name}/band/")]
        assert len(bands) == len(rings) - 1
        for p in bands:
            assert p["polygon"]["extrudedHeight"] > p["polygon"]["height"] >= env.ground
    # the sector unit's rings are wedges, the all-round unit's circles with a minimum-range hole low down
    assert "envelope/sam-1/ring/0/inner" in packets
    assert not any(k.startswith("envelope/sam-2/") and k.endswith("/inner") for k in packets)


def test_kml_rings_are_the_envelope_at_their_height(sector_results):
    from iadsim.export.kml_run import ENVELOPE_LEVELS, run_kml

    w = sector_results.world
    root = ElementTree.fromstring(run_kml(sector_results).tostring())
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    top = [f for f in root.findall("k:Document/k:Folder", ns) if f.find("k:name", ns).text == "Engagement envelopes"]
    assert len(top) == 1
    units = top[0].findall("k:Folder", ns)
    assert len(units) == len(w.effector_labels)
    for e, f in enumerate(units):
        env = unit_envelope_of_world(w, e)
        n = 0
        for pm in f.findall("k:Placemark", ns):
            if "maximum" not in pm.find("k:name", ns).text:
                continue
            ls = pm.find("k:LineString", ns)
            assert ls.find("k:altitudeMode", ns).text == "absolute"
            v = np.array([[float(c) for c in t.split(",")] for t in ls.find("k:coordinates", ns).text.split()])
            x, y = w.grid.to_local(v[:, 1], v[:, 0])
            _check_ring(w, env, np.array([x, y]), float(v[0, 2]))
            n += 1
        assert n == len(envelope_rings(env, ENVELOPE_LEVELS))


def test_report_map_layer_is_the_envelope_function(sector_results):
    from iadsim.report.maps import engagement_envelope

    w = sector_results.world
    g = w.grid
    x, y = np.meshgrid(g.x_centers(), g.y_centers())
    for e in range(len(w.effector_labels)):
        env = unit_envelope_of_world(w, e)
        z = w.terrain.elevation_m + 300.0
        rel = np.stack([x - env.x, y - env.y, z - env.ground], axis=-1)
        mva = w.mva[w.effector_sensor[e]]
        expect = engageable(env, rel, ground_at=w.terrain.height_at) & np.isfinite(mva) & (z >= mva)
        got = engagement_envelope(w, e, 300.0)
        assert np.array_equal(got, expect) and got.any()
        if env.sector[1] < math.pi:   # nothing behind the launcher's sector
            assert not got[(x - env.x) < -1000.0].any()


def test_coverage_command_states_the_target_and_uses_its_speed(small_dir, tmp_path):
    from iadsim.cli import main

    a, b = tmp_path / "slow", tmp_path / "fast"
    args = ["coverage", str(small_dir / "scenario.yaml"), "--alt", "1000", "--rcs", "1", "-q"]
    assert main([*args, "--out", str(a)]) == 0
    assert main([*args, "--target-speed", "250", "--out", str(b)]) == 0
    sa = json.loads((a / "coverage.json").read_text())
    sb = json.loads((b / "coverage.json").read_text())
    assert sa["engagement_target"]["speed_m_s"] == 0.0 and sb["engagement_target"]["speed_m_s"] == 250.0
    assert "flying straight at the fire unit" in sa["engagement_target"]["meaning"]
    # the speed changes the maps (over hills a target flying in must also be in sight at intercept,
    # so the area is not simply larger: the flat-ground tests above check the directions)
    assert [f["engagement"] for f in sa["fire_units"]] != [f["engagement"] for f in sb["fire_units"]]
    assert all(f["engagement"][0]["area_km2"] > 0 for f in sa["fire_units"])
    with rasterio.open(b / "sam-1.engagement.tif") as ds:
        assert "250 m/s" in ds.descriptions[0]
    with rasterio.open(a / "sam-1.engagement.tif") as ds:
        assert "hovering" in ds.descriptions[0]


@settings(max_examples=80, deadline=None)
@given(system=st.sampled_from(("tor_m2", "zsu_23_4_shilka")), gr=st.floats(0.0, 25_000.0),
       h=st.floats(0.0, 12_000.0), v=st.floats(0.0, 400.0), more=st.floats(1.0, 5_000.0))
def test_looser_limits_never_remove_an_engagement(system, gr, h, v, more):
    env = _catalog_env(system)
    base = bool(engageable_at(env, gr, h, v, dt_s=1.0))
    looser = [dataclasses.replace(env, range_max_m=env.range_max_m + more),
              dataclasses.replace(env, range_min_m=max(env.range_min_m - more, 0.0)),
              dataclasses.replace(env, altitude_max_m=env.altitude_max_m + more),
              dataclasses.replace(env, max_time_s=env.max_time_s + more)]
    tighter = [dataclasses.replace(env, range_max_m=max(env.range_max_m - more, 0.0)),
               dataclasses.replace(env, altitude_max_m=max(env.altitude_max_m - more, 0.0)),
               dataclasses.replace(env, min_speed_m_s=env.min_speed_m_s + more / 10.0)]
    if base:
        assert all(engageable_at(e, gr, h, v, dt_s=1.0) for e in looser)
    else:
        assert not any(engageable_at(e, gr, h, v, dt_s=1.0) for e in tighter)
