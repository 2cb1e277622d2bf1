"""Detection in clutter: the direction of every effect, the instrumented range, and paths below
the terrain (no silent clamps)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import iadsim
from iadsim.coverage.los import min_visible_altitude
from iadsim.coverage.products import radar_detection_range_m
from iadsim.coverage.specs import RadarSpec
from iadsim.engine.world import compile_world, radar_sinr, terrain_slope
from iadsim.errors import InputError
from iadsim.geo.grid import LocalGrid
from iadsim.geo.terrain import Terrain
from iadsim.physics.radar import detection_probability

from conftest import small_scenario_dict

RES = 200.0


def _terrain(tilt: float = 0.0, start_m: float = 0.0) -> Terrain:
    grid = LocalGrid.around(10.0, 20.0, (-30e3, 30e3), (-30e3, 30e3), RES)
    x = grid.x_centers()[None, :]
    z = 500.0 + tilt * np.maximum(x - start_m, 0.0) + 0.0 * grid.y_centers()[:, None]
    return Terrain(grid, z.astype(np.float32))


def _radar(**kw) -> RadarSpec:
    base = dict(name="r", system="pantsir_s1", where="effectors[0]", x=0.0, y=0.0, z=505.0, ground=500.0,
                ref_range_m=40e3, ref_rcs_m2=1.0, ref_pd=0.9, pfa=1e-6, scan_period_s=1.0,
                instrumented_range_m=40e3, mast_m=5.0, wavelength_m=0.05,
                az_beamwidth_rad=np.radians(2.0), el_beamwidth_rad=np.radians(6.0), range_resolution_m=30.0,
                mti_improvement=10 ** 4.5, min_radial_speed_m_s=10.0)
    base.update(kw)
    return RadarSpec(**base)


FLAT = _terrain()
HILL = _terrain(tilt=0.3, start_m=6e3)  # a basin, then a 17 deg slope facing the radar: strong clutter


def _sinr(terrain, radar, x, y, alt, vel, rcs, clutter="mountains"):
    key = (id(terrain), radar.z)
    if key not in _MVA_CACHE:
        _MVA_CACHE[key] = min_visible_altitude(terrain, radar.x, radar.y, radar.z, max_range_m=radar.range_bound_m)
    pos = np.column_stack([np.atleast_1d(x), np.atleast_1d(y), np.atleast_1d(alt)]).astype(float)
    v = np.broadcast_to(np.asarray(vel, float), pos.shape)
    return radar_sinr(radar, terrain, _MVA_CACHE[key], pos, v, np.broadcast_to(np.asarray(rcs, float), len(pos)),
                      clutter, terrain_slope(terrain))


_MVA_CACHE: dict = {}


def _on_range_sphere(terrain, radar, R, height_agl):
    """x [m] (on the x axis) and altitude [m MSL] of a point at slant range R and height_agl above
    the ground."""
    from scipy.optimize import brentq

    f = lambda x: radar.z + np.sqrt(R * R - x * x) - (float(terrain.height_at(x, 0.0)) + height_agl)  # noqa: E731
    x = brentq(f, 0.0, R)
    return x, float(terrain.height_at(x, 0.0)) + height_agl


def test_low_target_over_rising_ground_is_harder_to_see_than_high_one():
    # same slant range and azimuth, radial speed 50 m/s: 15 m vs 2 km above the ground; an MTI
    # improvement factor of 30 dB (the older radars of the catalog)
    r = _radar(mti_improvement=1e3)
    R = 12e3
    x_low, z_low = _on_range_sphere(HILL, r, R, 15.0)
    x_high, z_high = _on_range_sphere(HILL, r, R, 2000.0)
    low = _sinr(HILL, r, x_low, 0.0, z_low, (50.0, 0, 0), 0.1)
    high = _sinr(HILL, r, x_high, 0.0, z_high, (50.0, 0, 0), 0.1)
    free = _sinr(HILL, r, x_low, 0.0, z_low, (50.0, 0, 0), 0.1, clutter="none")
    assert low[0] < 0.1 * free[0]           # clutter takes more than 10 dB
    assert low[0] < 0.1 * high[0]
    assert high[0] == pytest.approx(_sinr(HILL, r, x_high, 0.0, z_high, (50.0, 0, 0), 0.1, clutter="none")[0],
                                    rel=0.05)  # 2 km up, the ground is (nearly) out of the beam
    pd = detection_probability(np.array([low[0], high[0]]), 1e-6)
    assert pd[0] < pd[1]
    # a modern 45 dB MTI recovers much of it, but not all
    modern = _sinr(HILL, _radar(), x_low, 0.0, z_low, (50.0, 0, 0), 0.1)[0]
    assert low[0] < modern < free[0]
    # no clutter figures: free space
    assert _sinr(HILL, _radar(wavelength_m=None), x_low, 0.0, z_low, (50.0, 0, 0), 0.1)[0] == pytest.approx(free[0])


def test_multipath_loss_near_smooth_flat_ground():
    # flat farmland, a target 5 m above the ground at 15 km: below the first lobe, deep loss
    r = _radar(min_radial_speed_m_s=0.0, mti_improvement=1e9)
    low = _sinr(FLAT, r, 15e3, 0.0, 505.0, (50.0, 0, 0), 1.0, clutter="flatland")[0]
    free = _sinr(FLAT, r, 15e3, 0.0, 505.0, (50.0, 0, 0), 1.0, clutter="none")[0]
    assert low < 0.5 * free


def test_target_in_the_mti_notch_is_lost():
    r = _radar()
    x = 10e3
    alt = 3000.0
    radial = _sinr(FLAT, r, x, 0.0, alt, (-60.0, 0, 0), 0.5)[0]
    tangential = _sinr(FLAT, r, x, 0.0, alt, (0.0, 60.0, 0), 0.5)[0]
    assert tangential == 0.0 < radial
    assert detection_probability(tangential, 1e-6) == pytest.approx(1e-6)


def test_nothing_detected_beyond_instrumented_range_in_coverage_products():
    r = _radar(instrumented_range_m=25e3)
    # a 100 m2 target would be seen far beyond 40 km by the radar equation; the maps stop at 25 km
    assert radar_detection_range_m(r, 100.0, 0.5) == 25e3
    assert radar_detection_range_m(r, 1e-3, 0.5) < 25e3


@settings(max_examples=60, deadline=None)
@given(st.floats(3e3, 35e3), st.floats(0.0, 1.0), st.floats(1e-3, 10.0), st.floats(0.01, 1.0),
       st.floats(0.0, 80.0), st.floats(0.0, 1.0), st.sampled_from(["farmland", "mountains", "urban"]))
def test_smaller_lower_slower_can_only_lower_detection(R, az, rcs, shrink, speed, lower, clutter):
    """Lower RCS, lower elevation at the same slant range (nearer the ground, in clutter) and lower
    radial speed never raise the SINR."""
    r = _radar()
    terrain = HILL
    el_hi = np.radians(0.5 + 20.0 * az)
    el_lo = el_hi * lower
    pts = []
    for el in (el_hi, el_lo):
        pts.append((R * np.cos(el) * np.cos(az), R * np.cos(el) * np.sin(az), r.z + R * np.sin(el)))
    pts = np.array(pts)
    ground = terrain.height_at(pts[:, 0], pts[:, 1])
    if np.any(pts[:, 2] < ground + 1.0):
        return  # below ground: not a flyable geometry
    los = (pts - np.array([r.x, r.y, r.z])) / R   # radial motion: the same radial speed at both points
    v_fast = los[0] * speed
    base = _sinr(terrain, r, pts[0, 0], pts[0, 1], pts[0, 2], v_fast, rcs, clutter)[0]
    smaller = _sinr(terrain, r, pts[0, 0], pts[0, 1], pts[0, 2], v_fast, rcs * shrink, clutter)[0]
    slower = _sinr(terrain, r, pts[0, 0], pts[0, 1], pts[0, 2], v_fast * lower, rcs, clutter)[0]
    assert smaller <= base * (1 + 1e-9)
    assert slower <= base * (1 + 1e-9)
    if abs(float(ground[0]) - float(ground[1])) < 1e-6:  # same ground plane under both points
        low = _sinr(terrain, r, pts[1, 0], pts[1, 1], pts[1, 2], v_fast, rcs, clutter)[0]
        assert low <= base * (1 + 1e-6)


# ----------------------------------------------------------------------------- whole scenario


def _write(tmp_path, synthetic_dem, data) -> iadsim.scenario.LoadedScenario:
    (tmp_path / "dem.tif").write_bytes(synthetic_dem.read_bytes())
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return iadsim.load_scenario(tmp_path / "scenario.yaml")


def test_world_detection_directions_and_instrumented_range(tmp_path, synthetic_dem):
    data = small_scenario_dict()
    data["terrain"]["clutter"] = "mountains"
    data["threats"] = [
        {"name": "high", "type": "shahed_136", "altitude_m": 2000, "altitude_ref": "agl",
         "route": [{"lat": 10.36, "lon": 20.05}, {"lat": 10.05, "lon": 20.36}]},
        {"name": "low", "type": "shahed_136", "altitude_m": 15, "altitude_ref": "agl",
         "route": [{"lat": 10.36, "lon": 20.05}, {"lat": 10.05, "lon": 20.36}]},
    ]
    w = compile_world(_write(tmp_path, synthetic_dem, data))
    pd = detection_probability(w.snr.astype(float), w.pfa[None, :, None])
    flying = np.isfinite(w.pos[..., 0])[:, None, :]
    mean_pd = (pd * flying).sum(axis=(0, 1)) / (flying.sum(axis=(0, 1)) * w.snr.shape[1])
    assert mean_pd[1] < mean_pd[0]  # 15 m above ground in clutter is seen less than 2 km
    # nothing is detected beyond each radar's instrumented range
    rel = w.pos[:, None, :, :] - w.sensor_xyz[None, :, None, :]
    rng = np.sqrt(np.nansum(rel**2, axis=-1))
    assert not np.any((w.snr > 0) & (rng > w.sensor_range_m[None, :, None]))
    assert "instrumented range" in w.models["detection"] and "clutter class 'mountains'" in w.models["detection"]
    # class 'none' switches clutter off: SNR only rises
    data["terrain"]["clutter"] = "none"
    w0 = compile_world(_write(tmp_path, synthetic_dem, data))
    assert np.all(w0.snr >= w.snr)
    assert np.any(w0.snr > w.snr)


def test_pantsir_no_longer_detects_far_beyond_its_instrumented_range(tmp_path, synthetic_dem):
    data = small_scenario_dict()
    data["effectors"] = data["effectors"][1:]  # pantsir only: instrumented range 40 km
    w = compile_world(_write(tmp_path, synthetic_dem, data))
    assert w.sensor_range_m[0] == pytest.approx(40e3)
    rel = w.pos[:, None, :, :] - w.sensor_xyz[None, :, None, :]
    rng = np.sqrt(np.nansum(rel**2, axis=-1))
    assert np.all(w.snr[rng > 40e3] == 0)


# ----------------------------------------------------------------------------- no silent clamps


def test_waypoint_below_terrain_is_an_input_error(tmp_path, synthetic_dem):
    data = small_scenario_dict()
    data["threats"][1]["route"][1]["altitude_m"] = 10.0  # MSL, the synthetic ground is >= 300 m
    with pytest.raises(InputError) as e:
        compile_world(_write(tmp_path, synthetic_dem, data))
    p = e.value.problems[0]
    assert p.path == "threats[1].route[1].altitude_m"
    assert "below the terrain" in p.message and "ground is at" in p.message and "clamp: ground" in p.message


def test_leg_through_a_hill_is_an_input_error_and_clamp_ground_allows_it(tmp_path, synthetic_dem):
    data = small_scenario_dict()
    ld = _write(tmp_path, synthetic_dem, data)
    w = compile_world(ld)
    ground = w.terrain.elevation_m
    # an MSL altitude between the lowest and highest ground along the drone's route: both waypoints
    # above their ground but the leg cuts the hills
    drone = w.threat_labels.index("drone")
    gpath = w.terrain.height_at(w.pos[:, drone, 0], w.pos[:, drone, 1])
    g0 = float(np.nanmin(gpath))
    g1 = float(np.nanmax(gpath))
    assert g1 - g0 > 50 and ground.max() > g1 - 1
    ends = w.terrain.height_at(*w.grid.to_local([10.05, 10.35], [20.05, 20.35]))
    alt = max(float(np.max(ends)) + 1.0, g0 + 1.0)
    if alt >= g1:
        pytest.skip("synthetic terrain too gentle for a leg through a hill")
    data["threats"][1]["altitude_m"] = alt
    with pytest.raises(InputError) as e:
        compile_world(_write(tmp_path, synthetic_dem, data))
    p = e.value.problems[0]
    assert p.path == "threats[1].altitude_m"  # the leg's altitude comes from the threat's default
    assert "the leg from route[0] to route[1] passes below the terrain" in p.message
    data["threats"][1]["clamp"] = "ground"
    w2 = compile_world(_write(tmp_path, synthetic_dem, data))
    assert "clamp: ground" in w2.models["threat_paths"]
    i = w2.threat_labels.index("drone")
    z = w2.pos[:, i, 2]
    g = w2.terrain.height_at(w2.pos[:, i, 0], w2.pos[:, i, 1])
    ok = np.isfinite(z)
    assert np.all(z[ok] >= g[ok] - 1e-6)


def test_cli_reports_below_terrain_with_exit_code_2_and_writes_nothing(tmp_path, synthetic_dem, capsys):
    from iadsim.cli import main

    data = small_scenario_dict()
    data["threats"][0]["altitude_ref"] = "msl"
    data["threats"][0]["altitude_m"] = 5.0
    _write(tmp_path, synthetic_dem, data)
    out = tmp_path / "out"
    code = main(["run", str(tmp_path / "scenario.yaml"), "-n", "4", "-o", str(out)])
    text = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "threats[0].altitude_m" in text and "below the terrain" in text
    assert "Traceback" not in text
    assert not out.exists()


def test_first_below_ground_finds_where_a_leg_meets_the_terrain():
    from iadsim.engine.trajectory import Path3D, first_below_ground, sample_path

    xy = np.array([[0.0, 0.0], [10e3, 0.0], [20e3, 0.0]])
    path = Path3D(xy, np.array([600.0, 600.0, 400.0]), np.array([False, False, False]), np.array([50.0, 50.0]))
    k, x, y, alt, ground = first_below_ground(path, FLAT)
    assert k == 1 and 15e3 <= x <= 15.2e3 and alt < ground == pytest.approx(500.0)  # crosses 500 m at 15 km
    agl = Path3D(xy, np.array([600.0, 600.0, 0.0]), np.array([True, True, True]), np.array([50.0, 50.0]))
    assert first_below_ground(agl, FLAT) is None
    # unclamped sampling leaves the path where it is; clamp: ground raises it
    pos, *_ = sample_path(path, FLAT, 0.0, 10.0, 50)
    assert np.nanmin(pos[:, 2]) < 500.0
    path.clamp = True
    pos, *_ = sample_path(path, FLAT, 0.0, 10.0, 50)
    assert np.nanmin(pos[:, 2]) >= 500.0 - 1e-9
