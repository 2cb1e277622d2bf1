"""Flyout envelope in the engine: directions of the effects and no kill outside the envelope."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import iadsim
from iadsim.engine import compile_world
from iadsim.physics.flyout import predicted_intercept_nb, table_lookup

KM_PER_DEG_LON = 109.6   # at latitude 10 deg


def _scenario(small_dir, altitude_m=3000.0, standoff_km=0.0, speed=None, name="prop"):
    """A drone flying south past a Tor-M2 at a lateral stand-off, at an altitude [m MSL]."""
    lon = 20.2 + standoff_km / KM_PER_DEG_LON
    thr = {"name": "drone", "type": "shahed_136", "altitude_m": altitude_m, "altitude_ref": "msl",
           "route": [{"lat": 10.38, "lon": lon}, {"lat": 10.02, "lon": lon}]}
    if speed is not None:
        thr["speed_m_s"] = speed
    data = {
        "schema_version": 1, "name": name,
        "terrain": {"dem": "dem.tif", "resolution_m": 400, "margin_km": 2},
        "simulation": {"duration_s": 1500, "dt_s": 1.0, "track_latency_s": 2},
        "assets": [{"name": "base", "lat": 10.05, "lon": 20.2}],
        "effectors": [{"name": "tor", "system": "tor_m2", "site": {"lat": 10.2, "lon": 20.2, "height_m": 5},
                       "doctrine": {"mode": "shoot-look-shoot", "max_engagements": 3}}],
        "threats": [thr],
    }
    path = small_dir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return iadsim.load_scenario(path)


def _kill(ld, reps=300, seed=2):
    res = iadsim.simulate(ld, replications=reps, seed=seed)
    return res, float(res.replications.killed.mean())


def _assert_kills_inside(res):
    """Every kill lies inside the killer's slant-range and altitude limits, and every launch was
    at a PIP inside the flyout envelope (pip_ok)."""
    w = res.world
    df = res.replications
    k = df[df.killed]
    for lab, grp in k.groupby("killed_by"):
        e = w.effector_labels.index(lab)
        site = w.effector_xyz[e]
        d = np.sqrt((grp.kill_x_m - site[0]) ** 2 + (grp.kill_y_m - site[1]) ** 2 + (grp.kill_alt_m - site[2]) ** 2)
        assert np.all(d <= w.range_max_m[e] + 1e-3)
        assert np.all(d >= w.range_min_m[e] - 1e-3)
        assert np.all(grp.kill_alt_m - site[2] <= w.altitude_max_m[e] + 1e-3)
    launches = res.timeline[res.timeline.event == "launch"]
    for t in launches.time_s:
        step = int(round(t / w.dt))
        assert w.pip_ok[step, 0, 0] and w.pk_geo[step, 0, 0] > 0


def test_raising_the_threat_can_only_lower_the_kill_probability(small_dir):
    # the Tor-M2's public ceiling is 10,000 m above the site; the flyout loses energy climbing
    pk = []
    for alt in (2500.0, 6000.0, 9000.0, 10500.0, 13000.0):   # above the synthetic hills (to ~2,000 m)
        res, p = _kill(_scenario(small_dir, altitude_m=alt, name=f"alt{int(alt)}"))
        _assert_kills_inside(res)
        pk.append(p)
    assert all(b <= a + 0.03 for a, b in zip(pk, pk[1:])), pk
    assert pk[0] > 0.5
    assert pk[-1] == 0.0     # above the ceiling over the site: never killed


def test_stand_off_can_only_lower_the_kill_probability(small_dir):
    pk = []
    for d in (0.0, 8.0, 12.0, 14.5, 17.0):
        res, p = _kill(_scenario(small_dir, altitude_m=3000.0, standoff_km=d, name=f"so{int(d * 10)}"))
        _assert_kills_inside(res)
        pk.append(p)
    assert all(b <= a + 0.03 for a, b in zip(pk, pk[1:])), pk
    assert pk[0] > 0.5
    assert pk[-1] == 0.0     # beyond the 15 km maximum range: never killed


def test_faster_than_the_systems_maximum_target_speed_is_never_engaged(small_dir):
    # Tor-M2: fastest target 700 m/s (catalog target_speed_max_m_s)
    res, p = _kill(_scenario(small_dir, altitude_m=3000.0, speed=750.0, name="fast"), reps=50)
    assert res.replications.shots.sum() == 0 and p == 0.0
    res, p = _kill(_scenario(small_dir, altitude_m=3000.0, speed=600.0, name="fast2"), reps=50)
    assert res.replications.shots.sum() > 0


def test_receding_target_moves_the_pip_out_and_shrinks_the_envelope(small_dir):
    w = compile_world(_scenario(small_dir, name="recede"))
    tof, spd, par = w.tab_tof[0], w.tab_spd[0], w.flyout_par[0]
    from iadsim.engine.kernel import FP_DH, FP_DR, FP_TMAX, FP_VMEAN, FP_VMIN

    def pip(x, vx):
        return predicted_intercept_nb(x, 0.0, 3000.0, vx, 0.0, 0.0, tof, spd, par[FP_DR], par[FP_DH], par[FP_VMEAN])

    toward = pip(10e3, -200.0)
    away = pip(10e3, 200.0)
    assert toward[2] and away[2]
    assert away[0] > toward[0] and away[1] < toward[1]
    # the PIP is where the flyout time says: tau = tof(p + v tau)
    t_check, _ = table_lookup(tof, spd, par[FP_DR], par[FP_DH], 10e3 + 200.0 * away[0], 3000.0)
    assert float(t_check) == pytest.approx(away[0], abs=0.02)

    def feasible(x, vx):
        t, v, ok = pip(x, vx)
        return ok and t <= par[FP_TMAX] and v >= par[FP_VMIN]

    xs = np.arange(2e3, 30e3, 250.0)
    reach_toward = max(x for x in xs if feasible(x, -200.0))
    reach_away = max(x for x in xs if feasible(x, 200.0))
    assert reach_away < reach_toward - 3e3


@pytest.mark.parametrize("kw,name", [({"standoff_km": 17.0}, "fso"), ({"altitude_m": 13000.0}, "falt")])
def test_full_fidelity_honours_the_envelope(small_dir, kw, name):
    # beyond the 15 km range or above the 10 km ceiling the track-estimate path never launches
    ld = _scenario(small_dir, name=name, **kw)
    ld.scenario.simulation.fidelity = "full"
    res = iadsim.simulate(ld, replications=40, seed=1)
    assert res.world.full is not None
    assert res.replications.shots.sum() == 0 and not res.replications.killed.any()
    # and inside it, it does engage and kill
    ld = _scenario(small_dir, name=name + "in", altitude_m=3000.0, standoff_km=4.0)
    ld.scenario.simulation.fidelity = "full"
    res = iadsim.simulate(ld, replications=40, seed=1)
    assert res.replications.killed.mean() > 0.5
