"""Gun fire units in the engine (Gepard): bursts, shell time of flight, gun envelope, burst Pk."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import iadsim
from iadsim.catalog import load_catalog
from iadsim.catalog.envelope import (
    gun_bursts_carried, gun_rounds_per_burst, gun_table, is_gun, threat_gun_vulnerability,
)
from iadsim.engine.kernel import FP_GN, FP_GSIG, FP_GUN
from iadsim.geo.terrain import write_dem
from iadsim.physics.gun import burst_kill_probability_at_range, shell_time_of_flight_s

KM_PER_DEG_LON = 109.6   # at latitude 10 deg
SITE = (10.2, 20.2)


@pytest.fixture(scope="module")
def flat_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("flat")
    write_dem(d / "dem.tif", np.full((134, 134), 200.0), 20.0, 10.4, 0.003)
    return d


def _scenario(d, standoff_km, name, max_eng=8, fidelity="fast", head_on=False, start_lat=10.33):
    """A Shahed-136 at 300 m above flat ground flying south past a Gepard at a lateral stand-off
    (or, head_on, straight at it)."""
    lon = SITE[1] + standoff_km / KM_PER_DEG_LON
    route = ([{"lat": start_lat, "lon": SITE[1]}, {"lat": 10.2005, "lon": SITE[1]}] if head_on
             else [{"lat": 10.33, "lon": lon}, {"lat": 10.07, "lon": lon}])
    data = {
        "schema_version": 1, "name": name,
        "terrain": {"dem": "dem.tif", "resolution_m": 400, "margin_km": 2},
        "simulation": {"duration_s": 700, "dt_s": 1.0, "track_latency_s": 2, "fidelity": fidelity},
        "assets": [{"name": "base", "lat": 10.0, "lon": 20.2}],
        "effectors": [{"name": "gepard", "system": "gepard", "site": {"lat": SITE[0], "lon": SITE[1]},
                       "doctrine": {"mode": "shoot-look-shoot", "max_engagements": max_eng}}],
        "threats": [{"name": "drone", "type": "shahed_136", "altitude_m": 300, "altitude_ref": "agl",
                     "route": route}],
    }
    path = d / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return iadsim.load_scenario(path)


def _kills_inside(res):
    w = res.world
    k = res.replications[res.replications.killed]
    site = w.effector_xyz[0]
    d = np.sqrt((k.kill_x_m - site[0]) ** 2 + (k.kill_y_m - site[1]) ** 2 + (k.kill_alt_m - site[2]) ** 2)
    return d


def test_gepard_is_a_gun_unit_with_bursts_and_the_missile_systems_are_not():
    cat = load_catalog()
    g = cat["gepard"]
    assert is_gun(g) and is_gun(cat["zsu_23_4_shilka"])
    assert not is_gun(cat["pantsir_s1"]) and not is_gun(cat["tunguska_2k22"]) and not is_gun(cat["tor_m2"])
    n = gun_rounds_per_burst(g)
    assert n == round(1100 / 60 * 1.75) == 32           # rate of fire x 1.75 s burst (catalog estimate)
    assert gun_bursts_carried(g) == 640 // 32 == 20
    # the ZSU-23-4 has no burst length: the 1 s default of GUN_DEFAULTS
    assert gun_rounds_per_burst(cat["zsu_23_4_shilka"]) == round(4000 / 60)
    area, pkh = threat_gun_vulnerability(cat["shahed_136"])
    assert area.is_estimate and pkh.is_estimate and area.value > 0 and 0 < pkh.value <= 1
    tab = gun_table(g)
    # the table's time of flight is the shell's (closed form) and its time limit the effective range's
    i = 100
    r = float(np.hypot(tab.gr_m[i], tab.h_m[7]))
    assert tab.tof_s[i, 7] == pytest.approx(shell_time_of_flight_s(r, 1175.0, 0.00016), rel=1e-9)
    assert tab.max_time_s == pytest.approx(shell_time_of_flight_s(4000.0, 1175.0, 0.00016), rel=1e-6)


def test_the_world_compiles_gun_arrays(flat_dir):
    ld = _scenario(flat_dir, 1.0, "arrays")
    from iadsim.engine import compile_world

    w = compile_world(ld)
    assert w.effector_gun[0]
    assert w.flyout_par[0, FP_GUN] == 1.0
    assert w.range_max_m[0] == pytest.approx(4000.0)   # the gun's effective range, not the 5 km envelope
    assert w.ready[0] == gun_bursts_carried(load_catalog()["gepard"])
    assert w.pk[0] == 1.0
    # per-burst Pk = the physics' burst kill probability at the PIP's slant range
    ok = w.pip_ok[:, 0, 0]
    assert ok.any()
    want = burst_kill_probability_at_range(w.pip_r[ok, 0, 0].astype(float), w.gun_vuln[0, 0], w.flyout_par[0, FP_GN],
                                           w.flyout_par[0, FP_GSIG], 0.0, w.gun_vuln[0, 1])
    np.testing.assert_allclose(w.pk_geo[ok, 0, 0], want, rtol=1e-5)
    assert np.all(w.pip_r[ok, 0, 0] <= 4000.0 + 1e-3)
    # the gun's kill probability falls with range (direction)
    r = w.pip_r[ok, 0, 0]
    p = w.pk_geo[ok, 0, 0]
    order = np.argsort(r)
    assert np.all(np.diff(p[order]) <= 1e-7)
    # and the flyout time [steps] is the shell's time of flight to the PIP (dt = 1 s)
    t = np.flatnonzero(ok)
    want_steps = np.ceil(shell_time_of_flight_s(w.pip_r[t, 0, 0].astype(float), 1175.0, 0.00016) - 1e-6)
    assert np.all(np.abs(w.tof[t, 0, 0] - want_steps) <= 1)


def test_closer_crossing_is_killed_more_often_and_nothing_beyond_the_gun_range(flat_dir):
    near = iadsim.simulate(_scenario(flat_dir, 1.0, "near"), replications=300, seed=4)
    far = iadsim.simulate(_scenario(flat_dir, 3.0, "far"), replications=300, seed=4)
    beyond = iadsim.simulate(_scenario(flat_dir, 4.3, "beyond"), replications=100, seed=4)
    p_near = near.replications.killed.mean()
    p_far = far.replications.killed.mean()
    assert p_near > p_far + 0.1, (p_near, p_far)
    assert p_far > 0.0
    assert beyond.replications.killed.sum() == 0
    assert beyond.replications.shots.sum() == 0
    for res in (near, far):
        assert np.all(_kills_inside(res) <= 4000.0 + 1e-3)
        # bursts never exceed the magazine
        assert res.replications.shots.max() <= res.world.ready[0]
        et = res.effector_table()
        assert et.loc[0, "fires"] == "bursts" and et.loc[0, "ready"] == res.world.ready[0]


def test_bursts_never_exceed_the_magazine(flat_dir):
    ld = _scenario(flat_dir, 1.0, "mag", max_eng=50)
    ld.scenario.effectors[0].missiles = 3
    res = iadsim.simulate(ld, replications=50, seed=1)
    assert res.world.ready[0] == 3
    assert res.replications.shots.max() <= 3
    assert res.replications.shots.max() == 3           # a slow crossing drone draws the whole magazine


def test_one_burst_kill_probability_matches_the_physics(flat_dir):
    # one engagement at most: P(kill) = mean over replications of the burst Pk at the launch step
    # the drone appears 1.7 km north of the gun, flying at it: the burst is fired at about 1 km
    ld = _scenario(flat_dir, 0.0, "one", max_eng=1, head_on=True, start_lat=10.2155)
    res = iadsim.simulate(ld, replications=2000, seed=11)
    w = res.world
    df = res.replications
    assert df.shots.max() == 1
    eng = df.first_engaged_at_s.to_numpy()
    fired = np.isfinite(eng)
    assert fired.mean() > 0.95
    steps = np.rint(eng[fired] / w.dt).astype(int)
    r = w.pip_r[steps, 0, 0].astype(float)
    p = burst_kill_probability_at_range(r, w.gun_vuln[0, 0], w.flyout_par[0, FP_GN], w.flyout_par[0, FP_GSIG],
                                        0.0, w.gun_vuln[0, 1])
    expected = p.sum()
    sd = np.sqrt(np.sum(p * (1 - p)))
    got = df.killed.to_numpy()[fired].sum()
    assert abs(got - expected) <= 4 * sd + 1, (got, expected, sd)
    assert 0.02 < expected / fired.sum() < 0.98       # the test can tell a wrong Pk apart


def test_full_fidelity_honours_the_gun_envelope(flat_dir):
    near = iadsim.simulate(_scenario(flat_dir, 1.0, "fnear", fidelity="full"), replications=60, seed=3)
    beyond = iadsim.simulate(_scenario(flat_dir, 4.3, "fbeyond", fidelity="full"), replications=30, seed=3)
    assert near.replications.killed.sum() > 0
    assert np.all(_kills_inside(near) <= 4000.0 + 1e-3)
    assert near.replications.shots.max() <= near.world.ready[0]
    assert beyond.replications.killed.sum() == 0


def test_sampled_figures_keep_the_gun_envelope_and_do_not_draw_missile_stand_ins(flat_dir):
    from iadsim.engine import compile_world
    from iadsim.engine.parameters import sampled

    w = compile_world(_scenario(flat_dir, 1.0, "sampled"))
    p = sampled(w, seed=5, first=0, count=200)
    assert np.all(p.range_max_m[:, 0] <= 4000.0 + 1e-9)
    assert np.all(p.pk[:, 0] == 1.0)                       # the burst Pk is in pk_geo, pk1 stays 1
    assert np.all(p.ready[:, 0] == w.ready[0])             # bursts from the gun figures, not drawn
    assert ("gepard", "pk_single_shot") not in p.draws
    assert ("gepard", "ready_missiles_per_vehicle") not in p.draws
    # the engagement range is drawn from 5-6 km, yet the gun stops at its 4 km effective range
    assert p.draws[("gepard", "engagement_range_max_km")].min() >= 5.0
    assert np.all(p.range_max_m[:, 0] == pytest.approx(4000.0))
