"""Fire control: a fire unit launches only at a target its own fire-control radar holds (range,
elevation limits with the cone of silence overhead, line of sight) on a free fire-control channel;
the search radar's track cues it (iadsim.catalog.firecontrol).

Geometry is closed form: elevation from the site atan2(height, ground range), slant range
hypot(ground range, height) (any radar text, e.g. Skolnik 2001, ch. 1; the cone of silence above a
tracking radar's highest elevation: Barton 2005, "Radar System Analysis and Modeling", ch. 1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

import iadsim
from iadsim.catalog import Catalog, load_catalog, load_system_file
from iadsim.catalog.firecontrol import NO_FIRE_CONTROL, fire_control_limits, in_fire_control
from iadsim.engine import compile_world
from iadsim.errors import InputError
from iadsim.geo.terrain import write_dem

SITE = (10.2, 20.2)
KM_PER_DEG_LAT, KM_PER_DEG_LON = 110.6, 109.6   # near 10 N


@pytest.fixture(scope="module")
def flat_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("flat")
    # about 1 x 1 degree of flat ground at 200 m around the site
    write_dem(d / "dem.tif", np.full((334, 334), 200.0), 19.7, 10.7, 0.003)
    return d


def _without_fire_control(name: str) -> Catalog:
    """The bundled catalog with system ``name``'s fire-control figures removed (its organic radar
    then guides, as before fire control was modelled)."""
    cat = load_catalog()
    systems = {n: cat[n] for n in cat}
    s = cat[name]
    systems[name] = s.model_copy(update={"figures": {k: v for k, v in s.figures.items() if not k.startswith("fcr_")}})
    return Catalog(systems)


def _offset(north_km: float, east_km: float) -> dict:
    return {"lat": SITE[0] + north_km / KM_PER_DEG_LAT, "lon": SITE[1] + east_km / KM_PER_DEG_LON}


def _write(d, name, effectors, threats, sensors=(), duration=600, fidelity="fast", sensors_first=False, **extra):
    data = {"schema_version": 1, "name": name,
            "terrain": {"dem": "dem.tif", "resolution_m": 400, "margin_km": 2},
            "simulation": {"duration_s": duration, "dt_s": 1.0, "track_latency_s": 2, "fidelity": fidelity},
            "assets": [{"name": "base", "lat": SITE[0], "lon": SITE[1] + 0.01}]}
    if sensors_first and sensors:
        data["sensors"] = list(sensors)
    data["effectors"] = list(effectors)
    data["threats"] = list(threats)
    if sensors and not sensors_first:
        data["sensors"] = list(sensors)
    data.update(extra)
    path = d / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _unit(system="pantsir_s1", name="u", max_eng=20, **kw):
    return {"name": name, "system": system, "site": {"lat": SITE[0], "lon": SITE[1]},
            "doctrine": {"mode": "shoot-look-shoot", "max_engagements": max_eng}, **kw}


def _overhead_circuit(height_m=4000.0, half_km=0.2, laps=12):
    """A slow drone flying a square circuit of 2 x half_km sides centred on the site (ground range at
    most half_km * sqrt(2)): with height_m = 4 km the elevation stays above atan(4 / 0.283) = 86 deg."""
    corners = [(-half_km, -half_km), (half_km, -half_km), (half_km, half_km), (-half_km, half_km)]
    route = [_offset(n, e) for _ in range(laps) for (n, e) in corners]
    return {"name": "drone", "type": "shahed_136", "altitude_m": height_m, "altitude_ref": "agl",
            "route": route, "speed_m_s": 40.0}


def test_fire_control_figures_carry_sources_and_limits():
    cat = load_catalog()
    for name in ("pantsir_s1", "tor_m2", "buk_m2"):
        s = cat[name]
        for key in ("fcr_range_km", "fcr_channels", "fcr_elevation_min_deg", "fcr_elevation_max_deg"):
            f = s.figure(key)
            assert f.source and f.confidence in ("high", "medium", "low", "estimate")
            assert f.low <= f.value <= f.high
        # the radar that guides the missile tracks at least out to the engagement range
        assert s.nominal("fcr_range_km") >= s.nominal("engagement_range_max_km")
    # Tor-M2's four targets at once is the published figure (Sputnik 2018, in the reference)
    tor = cat["tor_m2"].figure("fcr_channels")
    assert tor.value == 4 and not tor.is_estimate and "sputniknews" in tor.source
    # a system without the figures: no limit at all
    assert fire_control_limits(cat["gepard"]) == NO_FIRE_CONTROL


def test_in_fire_control_closed_form():
    lim = (24000.0, math.radians(-5.0), math.radians(80.0))
    # overhead: 4 km up, 0.5 km out -> elevation 82.9 deg > 80: cone of silence
    assert not in_fire_control(500.0, 0.0, 4000.0, lim)
    # 4 km up, 1 km out -> 75.96 deg: tracked
    assert in_fire_control(1000.0, 0.0, 4000.0, lim)
    # slant range just beyond / within 24 km at low elevation
    assert not in_fire_control(24001.0, 0.0, 0.0, lim) and in_fire_control(23999.0, 0.0, 0.0, lim)
    # below -5 deg: not tracked
    assert not in_fire_control(1000.0, 0.0, -1000.0 * math.tan(math.radians(6.0)), lim)
    # the edge itself, closed form: at ground range g the cone starts at height g * tan(80 deg)
    g = 700.0
    h = g * math.tan(math.radians(80.0))
    assert in_fire_control(g, 0.0, h * (1 - 1e-9), lim) and not in_fire_control(g, 0.0, h * (1 + 1e-6), lim)


def test_target_overhead_in_the_cone_of_silence_is_never_engaged(flat_dir):
    """A drone circling 4 km above the Pantsir (elevation above 86 deg, slant range about 4 km:
    inside the missile envelope) is detected but never engaged; without the fire-control figures
    the same drone is engaged."""
    thr = [_overhead_circuit()]
    path = _write(flat_dir, "cone", [_unit()], thr, duration=500)
    res = iadsim.simulate(iadsim.load_scenario(path), replications=20, seed=3)
    w = res.world
    rel = w.pos[:, 0, :] - w.effector_xyz[0]
    flying = np.isfinite(rel[:, 0])
    el = np.degrees(np.arctan2(rel[flying, 2], np.hypot(rel[flying, 0], rel[flying, 1])))
    assert el.min() > 85.0                              # always inside the cone (above 80 deg)
    assert np.all(np.hypot(np.hypot(rel[flying, 0], rel[flying, 1]), rel[flying, 2]) < 20000.0)
    assert (res.raw.det_step[:, 0] >= 0).all()          # detected by the search radar ...
    assert (res.raw.shots[:, 0] == 0).all()             # ... never engaged
    assert not w.pip_ok[:, 0, 0].any()
    free = iadsim.simulate(iadsim.load_scenario(path, catalog=_without_fire_control("pantsir_s1")),
                           replications=20, seed=3)
    assert free.raw.shots[:, 0].sum() > 0               # the same target, no fire-control limits: engaged


def test_target_beyond_the_fire_control_range_is_detected_but_not_engaged(flat_dir):
    """A fast jet inbound at 3 km: the search radar (40 km) detects it at once; a launch waits until
    the fire-control radar (24 km) holds it, though the intercept point would lie inside 20 km earlier."""
    thr = [{"name": "jet", "type": "f_16_fighting_falcon", "altitude_m": 3000, "altitude_ref": "agl",
            "route": [_offset(38.0, 0.0), _offset(-5.0, 0.0)], "speed_m_s": 300.0}]
    path = _write(flat_dir, "far", [_unit()], thr, duration=200)
    res = iadsim.simulate(iadsim.load_scenario(path), replications=40, seed=5)
    w = res.world
    slant = np.linalg.norm(w.pos[:, 0, :] - w.effector_xyz[0], axis=-1)
    det = res.raw.det_step[:, 0]
    eng = res.raw.eng_step[:, 0]
    assert (det >= 0).all() and np.all(slant[det] > 24000.0)   # detected beyond the fire-control range
    assert (eng >= 0).any()
    assert np.all(slant[eng[eng >= 0]] <= 24000.0)              # engaged only once the FCR holds it
    k = res.raw.kill_step[:, 0]
    assert np.all(slant[k[k >= 0]] <= 24000.0)                  # no kill beyond the fire-control range
    free = iadsim.simulate(iadsim.load_scenario(path, catalog=_without_fire_control("pantsir_s1")),
                           replications=40, seed=5)
    e0 = free.raw.eng_step[:, 0]
    assert np.any(slant[e0[e0 >= 0]] > 24000.0)                 # without it, launches begin further out


def test_fire_control_channels_bind_on_a_raid(flat_dir):
    """Tor-M2 with channels_per_vehicle overridden to 8: its fire-control radar guides 4 targets at
    once (fcr_channels), so a raid of 8 drones never has more than 4 engagements in the air."""
    thr = [{"name": f"d{i}", "type": "shahed_136", "altitude_m": 300, "altitude_ref": "agl",
            "route": [_offset(14.0, -3.5 + i), _offset(-6.0, -3.5 + i)]} for i in range(8)]
    path = _write(flat_dir, "raid", [_unit("tor_m2")], thr,
                  duration=400, catalog={"tor_m2": {"channels_per_vehicle": 8}})
    ld = iadsim.load_scenario(path)
    w = compile_world(ld)
    assert w.channels[0] == 4
    free = compile_world(iadsim.load_scenario(path, catalog=_without_fire_control("tor_m2")))
    assert free.channels[0] == 8
    res = iadsim.simulate(ld, replications=1, seed=2)
    tl = res.timeline
    busy = 0
    peak = 0
    for _, ev in tl.sort_values("time_s", kind="stable").iterrows():
        if ev.event == "launch":
            busy += 1
        elif ev.event in ("kill", "miss"):
            busy -= 1
        peak = max(peak, busy)
    assert 0 < peak <= 4
    # sampled figures: the channel count drawn never exceeds the fire-control radar's
    from iadsim.engine.parameters import sampled

    p = sampled(w, seed=1, first=0, count=50)
    assert p.channels[:, 0].max() <= 4


def test_effector_radar_mapping_is_explicit_and_order_free(flat_dir):
    """The fire unit -> own radar mapping comes from the specs, and a scenario that lists its
    stand-alone sensors before the fire units gives the same numbers."""
    thr = [{"name": "jet", "type": "f_16_fighting_falcon", "altitude_m": 3000, "altitude_ref": "agl",
            "route": [_offset(38.0, 2.0), _offset(-5.0, 2.0)], "speed_m_s": 250.0}]
    sens = [{"name": "ew", "system": "buk_m2", "site": _offset(-2.0, 1.0)}]
    units = [_unit("tor_m2", name="a"), {**_unit("pantsir_s1", name="b"), "site": _offset(1.0, -1.0)}]
    a = _write(flat_dir, "order_a", units, thr, sens, duration=200)
    b = _write(flat_dir, "order_b", units, thr, sens, duration=200, sensors_first=True)
    wa = compile_world(iadsim.load_scenario(a))
    assert list(wa.effector_sensor) == [0, 1] and wa.sensor_labels == ["a", "b", "ew"]
    ra = iadsim.simulate(iadsim.load_scenario(a), replications=10, seed=9)
    rb = iadsim.simulate(iadsim.load_scenario(b), replications=10, seed=9)
    for key in ("kill_step", "eng_step", "shots", "det_step"):
        assert np.array_equal(getattr(ra.raw, key), getattr(rb.raw, key))


def _entry(name):
    from iadsim.catalog import builtin_dir

    return yaml.safe_load((builtin_dir() / f"{name}.yaml").read_text(encoding="utf-8"))


def test_fire_control_range_below_the_envelope_is_refused(tmp_path):
    data = _entry("pantsir_s1")
    data["figures"]["fcr_range_km"].update({"value": 12, "low": 10, "high": 14})
    path = tmp_path / "pantsir_s1.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_system_file(path)
    msg = str(err.value)
    assert str(path) in msg and "figures.fcr_range_km" in msg and "'pantsir_s1'" in msg
    assert "engagement_range_max_km" in msg


def test_fire_control_elevations_that_contradict_are_refused(tmp_path):
    data = _entry("tor_m2")
    data["figures"]["fcr_elevation_max_deg"].update({"value": -10, "low": -10, "high": -10})
    path = tmp_path / "tor_m2.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"figures\.fcr_elevation_max_deg.*'tor_m2'"):
        load_system_file(path)


def test_a_gun_with_less_than_one_burst_is_refused(tmp_path):
    data = _entry("gepard")
    data["figures"]["gun_rounds_carried"].update({"value": 10, "low": 10, "high": 10})
    path = tmp_path / "gepard.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_system_file(path)
    assert "figures.gun_rounds_carried" in str(err.value) and "'gepard'" in str(err.value)
    data["figures"]["gun_rounds_carried"].update({"value": 0, "low": 0, "high": 0})
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"figures\.gun_rounds_carried"):
        load_system_file(path)


def test_cli_refuses_a_fire_control_override_that_contradicts_the_envelope(flat_dir, tmp_path, capsys):
    from iadsim.cli import main

    path = _write(flat_dir, "bad_fcr", [_unit()], [_overhead_circuit(laps=1)], duration=100,
                  catalog={"pantsir_s1": {"fcr_range_km": 5}})
    out = tmp_path / "out"
    code = main(["run", str(path), "--out", str(out), "--replications", "2"])
    err = capsys.readouterr()
    assert code == 2
    text = err.err + err.out
    assert "catalog.pantsir_s1.fcr_range_km" in text and "'pantsir_s1'" in text and "Traceback" not in text
    assert not out.exists()


def test_full_fidelity_respects_the_cone_of_silence(flat_dir):
    """Full fidelity (tracks from noisy measurements): the same overhead drone is never engaged."""
    path = _write(flat_dir, "cone_full", [_unit()], [_overhead_circuit(laps=6)], duration=250, fidelity="full")
    res = iadsim.simulate(iadsim.load_scenario(path), replications=5, seed=3)
    assert (res.raw.shots[:, 0] == 0).all()
    free = iadsim.simulate(iadsim.load_scenario(path, catalog=_without_fire_control("pantsir_s1")),
                           replications=5, seed=3)
    assert free.raw.shots[:, 0].sum() > 0


def _without_guns(name: str = "pantsir_s1") -> Catalog:
    """The bundled catalog with system ``name``'s gun figures removed (missiles only)."""
    from iadsim.catalog.envelope import GUN_ENGINE_FIGURES

    cat = load_catalog()
    systems = {n: cat[n] for n in cat}
    s = cat[name]
    systems[name] = s.model_copy(update={"figures": {k: v for k, v in s.figures.items() if k not in GUN_ENGINE_FIGURES}})
    return Catalog(systems)


def _close_circuit(half_km=0.4, laps=10, height_m=300.0):
    corners = [(-half_km, -half_km), (half_km, -half_km), (half_km, half_km), (-half_km, half_km)]
    return {"name": "drone", "type": "shahed_136", "altitude_m": height_m, "altitude_ref": "agl",
            "route": [_offset(n, e) for _ in range(laps) for (n, e) in corners], "speed_m_s": 40.0}


def test_pantsir_is_one_unit_with_missiles_and_guns():
    from iadsim.engine.mixed import is_gun_missile
    from iadsim.catalog.envelope import is_gun

    cat = load_catalog()
    for name in ("pantsir_s1", "tunguska_2k22"):
        assert is_gun_missile(cat[name]) and not is_gun(cat[name])
    assert not is_gun_missile(cat["gepard"]) and not is_gun_missile(cat["tor_m2"])


def test_pantsir_guns_engage_inside_the_missile_minimum_range(flat_dir):
    """A drone circling 0.4-0.57 km from the Pantsir at 300 m (slant range under the missile's 1 km
    minimum) is engaged by the guns only: bursts, no missiles, kills; without the guns (the unit
    before it had them) it is never engaged."""
    path = _write(flat_dir, "close", [_unit(max_eng=30)], [_close_circuit()], duration=400)
    res = iadsim.simulate(iadsim.load_scenario(path), replications=30, seed=4)
    w = res.world
    assert w.second_weapon is not None and w.second_weapon.gun_of[0] == 0
    rel = w.pos[:, 0, :] - w.effector_xyz[0]
    assert np.nanmax(np.linalg.norm(rel, axis=-1)) < 1000.0          # always inside the missile's minimum
    assert (res.raw.expended[:, 0] == res.raw.bursts[:, 0]).all()  # no missile (expended counts bursts too)
    assert res.raw.bursts[:, 0].sum() > 0                          # bursts fired
    assert (res.raw.bursts[:, 0] <= w.second_weapon.bursts[0]).all()
    assert res.raw.kill_step[:, 0].max() >= 0                      # kills happen
    et = res.effector_table()
    assert et.loc[0, "mean_bursts"] > 0 and et.loc[0, "mean_missiles"] == 0
    none = iadsim.simulate(iadsim.load_scenario(path, catalog=_without_guns()), replications=30, seed=4)
    assert none.world.second_weapon is None
    assert (none.raw.shots[:, 0] == 0).all()


def test_pantsir_fires_missiles_where_the_missile_can_engage(flat_dir):
    """A drone passing 6 km out (beyond the guns' 4 km) draws missiles only."""
    thr = [{"name": "drone", "type": "shahed_136", "altitude_m": 300, "altitude_ref": "agl",
            "route": [_offset(15.0, 6.0), _offset(-15.0, 6.0)]}]
    path = _write(flat_dir, "passing", [_unit()], thr, duration=700)
    res = iadsim.simulate(iadsim.load_scenario(path), replications=20, seed=4)
    assert res.raw.expended[:, 0].sum() > 0 and res.raw.bursts[:, 0].sum() == 0
    assert np.array_equal(res.raw.shots.sum(axis=1), res.raw.expended.sum(axis=1))


@pytest.mark.parametrize("east_km", [0.0, 0.5, 2.0])
def test_removing_the_guns_never_raises_leakers(flat_dir, east_km):
    """A raid of drones passing at a given offset: the leak rate with the guns is never above the
    rate without them (beyond sampling noise)."""
    thr = [{"name": f"d{i}", "type": "shahed_136", "altitude_m": 150, "altitude_ref": "agl",
            "route": [_offset(10.0 + 0.3 * i, east_km + 0.1 * i), _offset(-10.0, east_km + 0.1 * i)]}
           for i in range(6)]
    path = _write(flat_dir, f"raid_guns_{east_km}", [_unit()], thr, duration=500)
    n = 60
    with_guns = iadsim.simulate(iadsim.load_scenario(path), replications=n, seed=8)
    without = iadsim.simulate(iadsim.load_scenario(path, catalog=_without_guns()), replications=n, seed=8)
    lw = (with_guns.raw.leak_step >= 0).mean()
    lo = (without.raw.leak_step >= 0).mean()
    sd = math.sqrt(max(lo * (1 - lo), 0.01) / (n * 6))
    assert lw <= lo + 2 * sd, (lw, lo)


def test_full_fidelity_pantsir_guns_engage_inside_the_missile_minimum_range(flat_dir):
    """Full fidelity (launch decisions on tracks from noisy measurements): the drone circling inside
    the missile's 1 km minimum range draws bursts only, at the shells' intercept with the track's
    estimate, and is killed; missiles and bursts stay within their magazines; without the guns it is
    never engaged."""
    path = _write(flat_dir, "close_full", [_unit(max_eng=30)], [_close_circuit(laps=5)], duration=220,
                  fidelity="full")
    res = iadsim.simulate(iadsim.load_scenario(path), replications=12, seed=4)
    w = res.world
    assert w.full is not None and w.second_weapon.gun_of[0] == 0
    assert res.raw.bursts is not None
    assert (res.raw.expended[:, 0] == res.raw.bursts[:, 0]).all()   # no missile (expended counts bursts too)
    assert res.raw.bursts[:, 0].sum() > 0
    assert (res.raw.bursts[:, 0] <= w.second_weapon.bursts[0]).all()
    assert (res.raw.kill_step[:, 0] >= 0).sum() > 0                   # kills happen
    assert (res.raw.killer[res.raw.kill_step[:, 0] >= 0, 0] == 0).all()
    et = res.effector_table()
    assert et.loc[0, "mean_bursts"] > 0 and et.loc[0, "mean_missiles"] == 0
    again = iadsim.simulate(iadsim.load_scenario(path), replications=12, seed=4)
    assert np.array_equal(again.raw.bursts, res.raw.bursts) and np.array_equal(again.raw.kill_step,
                                                                                res.raw.kill_step)
    none = iadsim.simulate(iadsim.load_scenario(path, catalog=_without_guns()), replications=12, seed=4)
    assert none.raw.bursts is None
    assert (none.raw.shots[:, 0] == 0).all()


def test_full_fidelity_missiles_and_bursts_stay_within_their_magazines(flat_dir):
    """A raid passing 0.5 km from a Pantsir with a small missile load (4) in full fidelity: missiles
    fired never exceed the missiles carried and bursts never exceed the burst magazine."""
    thr = [{"name": f"d{i}", "type": "shahed_136", "altitude_m": 150, "altitude_ref": "agl",
            "route": [_offset(8.0 + 0.3 * i, 0.5 + 0.1 * i), _offset(-8.0, 0.5 + 0.1 * i)]}
           for i in range(8)]
    path = _write(flat_dir, "mags_full", [_unit(missiles=4, reloads=0)], thr, duration=450, fidelity="full")
    res = iadsim.simulate(iadsim.load_scenario(path), replications=10, seed=5)
    gs = res.world.second_weapon
    missiles = res.raw.expended[:, 0] - res.raw.bursts[:, 0]
    assert (missiles >= 0).all() and (missiles <= 4).all()
    assert (res.raw.bursts[:, 0] <= gs.bursts[0]).all()
    assert res.raw.bursts[:, 0].sum() > 0 and missiles.sum() > 0   # both weapons fired


@pytest.mark.parametrize("east_km", [0.5, 2.0])
def test_full_fidelity_removing_the_guns_never_raises_leakers(flat_dir, east_km):
    """Full fidelity: the leak rate of a drone raid with the Pantsir's guns is never above the rate
    without them (beyond sampling noise)."""
    thr = [{"name": f"d{i}", "type": "shahed_136", "altitude_m": 150, "altitude_ref": "agl",
            "route": [_offset(8.0 + 0.3 * i, east_km + 0.1 * i), _offset(-8.0, east_km + 0.1 * i)]}
           for i in range(6)]
    path = _write(flat_dir, f"raid_guns_full_{east_km}", [_unit()], thr, duration=450, fidelity="full")
    n = 20
    with_guns = iadsim.simulate(iadsim.load_scenario(path), replications=n, seed=8)
    without = iadsim.simulate(iadsim.load_scenario(path, catalog=_without_guns()), replications=n, seed=8)
    lw = (with_guns.raw.leak_step >= 0).mean()
    lo = (without.raw.leak_step >= 0).mean()
    sd = math.sqrt(max(lo * (1 - lo), 0.01) / (n * 6))
    assert lw <= lo + 2 * sd, (lw, lo)
    if east_km == 0.5:   # the raid passes inside the missile's minimum range: the guns fire
        assert with_guns.raw.bursts[:, 0].sum() > 0
