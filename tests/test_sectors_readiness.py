"""Radar and launcher sectors, and unit readiness (issue #14)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import iadsim
from conftest import edited, small_scenario_dict
from iadsim.cli import main
from iadsim.geo.sector import ALL_ROUND, in_sector, sector_tuple
from iadsim.physics.engagement import cumulative_pk
from iadsim.scenario.models import Sector
from test_engine import _crossing_scenario, _neutral_pk

SLS = {"mode": "shoot-look-shoot", "max_engagements": 2, "kill_assessment_s": 3}


def _with(ld, **fields):
    """The loaded scenario with the Tor's fields set (sector, readiness)."""
    eff = ld.scenario.effectors[0]
    for k, v in fields.items():
        setattr(eff, k, Sector(**v) if k == "sector" and v is not None else v)
    return ld


def test_in_sector_geometry():
    north = sector_tuple(Sector(azimuth_deg=0, width_deg=90))
    # 44 deg east of north is in, 46 deg is out; north-west at -44 deg is in (wraps through 0)
    for az, inside in ((0, True), (44, True), (46, False), (-44, True), (180, False), (316, True)):
        a = np.radians(az)
        assert bool(in_sector(np.sin(a) * 1000, np.cos(a) * 1000, 0.0, north)) is inside, az
    south = sector_tuple(Sector(azimuth_deg=180, width_deg=10, min_elevation_deg=0, max_elevation_deg=30))
    assert in_sector(0.0, -1000.0, 100.0, south) and not in_sector(0.0, -1000.0, -10.0, south)
    assert not in_sector(0.0, -1000.0, 1000.0, south)   # 45 deg elevation: above the limit
    assert in_sector(1.0, 2.0, 3.0, ALL_ROUND) and not in_sector(np.nan, 0.0, 0.0, ALL_ROUND)


@pytest.mark.parametrize("fidelity", ["fast", "full"])
def test_sector_facing_away_never_engages_facing_the_threat_does(small_dir, fidelity):
    # the threat flies due south along the Tor's meridian: a sector centred east (60 deg wide)
    # never contains it, so P(kill) = 0 exactly; centred north it does (the unsectored result)
    ld = _neutral_pk(_crossing_scenario(small_dir, SLS))
    ld.scenario.simulation.fidelity = fidelity
    reps = 400 if fidelity == "fast" else 60
    away = iadsim.simulate(_with(ld, sector={"azimuth_deg": 90, "width_deg": 60}), replications=reps, seed=3)
    assert away.replications.killed.sum() == 0
    assert away.replications.shots.sum() == 0
    assert (away.raw.det_step < 0).all(), "the radar must not detect outside its sector"
    assert "sectors" in away.world.models
    facing = iadsim.simulate(_with(ld, sector={"azimuth_deg": 0, "width_deg": 90}), replications=reps, seed=3)
    p = ld.catalog["tor_m2"].nominal("pk_single_shot")
    k = facing.replications.killed.mean()
    if fidelity == "fast":
        exp = float(cumulative_pk(p, 2))
        assert k == pytest.approx(exp, abs=4 * np.sqrt(exp * (1 - exp) / reps))
    else:
        assert k > 0.3


def test_launcher_sector_masks_the_pip_and_the_coverage_products_agree(small_dir):
    from iadsim.coverage.products import detection_mask, engagement_mask

    ld = _crossing_scenario(small_dir, SLS)
    w_all = iadsim.engine.world.compile_world(ld)
    ld2 = _with(_crossing_scenario(small_dir, SLS), sector={"azimuth_deg": 90, "width_deg": 60})
    w = iadsim.engine.world.compile_world(ld2)
    assert w_all.pip_ok.any() and not w.pip_ok.any()
    assert w_all.snr.max() > 0 and w.snr.max() == 0
    from iadsim.coverage.envelope import unit_envelopes
    from iadsim.coverage.specs import effector_specs, radar_specs

    radars = radar_specs(ld2, w.grid, w.terrain)
    effs = effector_specs(ld2, radars)
    alt = w.terrain.elevation_m + 300.0
    det = detection_mask(radars[0], w.mva[0], w.terrain, alt, 0.1, 0.5)
    eng = engagement_mask(unit_envelopes(ld2, effs)[0], w.mva[0], w.terrain, alt)
    g = w.terrain.grid
    xs = g.xmin + (np.arange(g.nx) + 0.5) * g.res
    ys = g.ymax - (np.arange(g.ny) + 0.5) * g.res
    X, Y = np.meshgrid(xs, ys)
    west = (X - radars[0].x) < -g.res
    assert det.any() and eng.any()
    assert not det[west].any() and not eng[west].any()   # nothing west of the site in an east sector


def test_readiness_scales_the_kill_probability(small_dir):
    # available with probability r, independent of the engagement: P(kill) = r x P(kill | available)
    ld = _with(_neutral_pk(_crossing_scenario(small_dir, SLS)), readiness=0.6)
    n = 3000
    res = iadsim.simulate(ld, replications=n, seed=5)
    p = ld.catalog["tor_m2"].nominal("pk_single_shot")
    exp = 0.6 * float(cumulative_pk(p, 2))
    assert res.replications.killed.mean() == pytest.approx(exp, abs=4 * np.sqrt(exp * (1 - exp) / n))
    fired = (res.replications.shots > 0).mean()
    assert fired == pytest.approx(0.6, abs=4 * np.sqrt(0.24 / n))
    assert "readiness" in res.world.models and "available" in res.world.models["readiness"]
    # the same seed gives the same availability and numbers
    again = iadsim.simulate(ld, replications=200, seed=5)
    assert again.replications.equals(iadsim.simulate(ld, replications=200, seed=5).replications)


def test_lower_readiness_never_raises_the_kill_probability(small_dir):
    # coupled draws (unit up when u < r, the same u per replication): the replications a unit is
    # available in at a lower readiness are a subset of those at a higher one, replication by
    # replication, so kills can only be lost
    base = _neutral_pk(_crossing_scenario(small_dir, SLS))
    killed = []
    for r in (0.0, 0.3, 0.7, 1.0):
        res = iadsim.simulate(_with(base, readiness=r), replications=300, seed=9)
        killed.append(res.replications.killed.to_numpy())
    assert killed[0].sum() == 0
    for lo, hi in zip(killed, killed[1:]):
        assert np.all(lo <= hi)
    assert killed[1].sum() < killed[2].sum() < killed[3].sum()


def test_unavailable_sensor_detects_nothing(small_dir):
    data = small_scenario_dict()
    data["sensors"] = [{"name": "ew", "system": data["effectors"][0]["system"],
                        "site": {"lat": 10.2, "lon": 20.2}, "readiness": 0.0}]
    data["effectors"] = [dict(data["effectors"][0], readiness=0.0)]
    (small_dir / "s.yaml").write_text(yaml.safe_dump(data))
    res = iadsim.simulate(iadsim.load_scenario(small_dir / "s.yaml"), replications=16, seed=1)
    assert (res.raw.det_step < 0).all() and res.replications.shots.sum() == 0


@pytest.mark.parametrize("path,value,field", [
    ("effectors.0.sector", {"azimuth_deg": 0, "width_deg": 0}, "effectors[0].sector.width_deg"),
    ("effectors.0.sector", {"azimuth_deg": 0, "width_deg": 400}, "effectors[0].sector.width_deg"),
    ("effectors.0.sector", {"azimuth_deg": 0, "min_elevation_deg": 30, "max_elevation_deg": 10},
     "effectors[0].sector"),
    ("effectors.0.sector", {"azimuth_deg": 0, "max_elevation_deg": 95}, "effectors[0].sector.max_elevation_deg"),
    ("effectors.0.readiness", 1.5, "effectors[0].readiness"),
    ("effectors.0.readiness", -0.1, "effectors[0].readiness"),
])
def test_bad_sector_or_readiness_exit_2(small_dir, tmp_path, capsys, path, value, field):
    bad = small_dir / "bad.yaml"
    bad.write_text(yaml.safe_dump(edited(small_scenario_dict(), path, value)))
    out = tmp_path / "never"
    rc = main(["run", str(bad), "-n", "4", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "bad.yaml" in err and field in err and "Traceback" not in err, err
    assert not out.exists()


def test_reaction_time_override_delays_the_first_launch_by_exactly_that_time(small_dir):
    # the first launch waits for the firm track plus the reaction time: with the target in the
    # envelope by then, launch step = detection step + track latency + reaction time
    base = _crossing_scenario(small_dir, SLS)
    for reaction in (100.0, 150.0):
        res = iadsim.simulate(_with(base, reaction_time_s=reaction), replications=20, seed=2)
        r, w = res.raw, res.world
        fired = r.shots[:, 0] > 0
        assert fired.all()
        assert np.all(r.firm_step[:, 0] - r.det_step[:, 0] == w.latency_steps)
        assert np.all(r.eng_step[fired, 0] - r.firm_step[fired, 0] == int(reaction))


def test_bad_reaction_time_exit_2(small_dir, tmp_path, capsys):
    bad = small_dir / "bad.yaml"
    bad.write_text(yaml.safe_dump(edited(small_scenario_dict(), "effectors.0.reaction_time_s", -1.0)))
    assert main(["run", str(bad), "-n", "4", "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert "effectors[0].reaction_time_s" in err and not (tmp_path / "never").exists()


def test_unavailable_radar_makes_no_false_alarms_in_full_fidelity(small_dir):
    from iadsim.engine import chunk_parameters
    from iadsim.engine.world import compile_world

    ld = _with(_crossing_scenario(small_dir, SLS), readiness=0.5)
    w = compile_world(ld)
    p = chunk_parameters(w, 4, 0, 200)
    down = p.channels[:, 0] == 0
    assert 0 < down.sum() < 200
    assert np.all(p.pfa[down, 0] == 0) and np.all(p.snr_scale[down, 0, :] == 0)
    assert np.all(p.pfa[~down, 0] > 0) and np.all(p.snr_scale[~down, 0, :] == 1)
