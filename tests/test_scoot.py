"""Shoot-and-scoot: fire units that relocate to candidate sites after firing (iadsim.engine.scoot)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

import iadsim
from conftest import edited, small_scenario_dict
from iadsim.catalog import Figure
from iadsim.cli import main
from iadsim.engine.scoot import active_site, relocations
from iadsim.geo.terrain import write_dem
from iadsim.scenario.models import Position, Relocate
from test_engine import _crossing_scenario, _neutral_pk

SLS = {"mode": "shoot-look-shoot", "max_engagements": 3, "kill_assessment_s": 3}
#: pack 20 s + move 30 s + set-up 10 s at dt 1 s: 60 steps without the unit
PACK, MOVE, SETUP = 20.0, 30.0, 10.0
GAP = int(PACK + MOVE + SETUP)


def _never_kills(ld):
    """The Tor's single-shot Pk made negligible (every engagement misses), in a private catalog."""
    ld.catalog = copy.deepcopy(ld.catalog)
    _neutral_pk(ld)
    ld.catalog["tor_m2"].figures["pk_single_shot"] = Figure(value=1e-9, unit="1", source="test: never kills",
                                                            confidence="estimate")
    return ld


def _scoot(ld, sites, **fields):
    eff = ld.scenario.effectors[0]
    kw = dict(pack_s=PACK, move_s=MOVE, setup_s=SETUP)
    kw.update(fields)
    eff.relocate = Relocate(sites=[Position(lat=a, lon=b, height_m=h) for a, b, h in sites], **kw)
    return ld


def _events(res, kind):
    tl = res.timeline
    return tl.loc[tl.event == kind, "time_s"].to_numpy()


# ------------------------------------------------------------------ timing (closed form)


def test_second_launch_comes_only_after_pack_move_and_setup(small_dir):
    # the unit fires once, waits for its missile (it guides it), then is gone pack + move + set-up:
    # closed form on the crossing geometry: the second launch is at the first intercept + 60 s
    # (the threat is tracked again at the first look of the set-up radar; the Tor scans every step)
    ld = _scoot(_never_kills(_crossing_scenario(small_dir, SLS)), [(10.21, 20.21, 400)])
    res = iadsim.simulate(ld, replications=30, seed=3)
    launches, misses = _events(res, "launch"), _events(res, "miss")
    assert len(launches) == 3 and len(misses) >= 2
    assert launches[1] == misses[0] + GAP and launches[2] == misses[1] + GAP
    log = res.raw.relocation_log[:, 0]   # [R, L, 2] pack step, set-up step
    moved = log[:, :, 0] >= 0
    assert moved[:, 0].all()
    assert np.all(log[:, :, 1][moved] - log[:, :, 0][moved] == GAP)
    # without relocation the second launch follows the kill assessment at once
    ref = iadsim.simulate(_crossing_scenario_copy(ld, relocate=None), replications=30, seed=3)
    ref_launches = _events(ref, "launch")
    assert ref_launches[1] - ref_launches[0] < launches[1] - launches[0] - GAP + 10
    assert "relocation" in res.world.models and "relocation" not in ref.world.models


def _crossing_scenario_copy(ld, **fields):
    out = copy.copy(ld)
    out.scenario = ld.scenario.model_copy(deep=True)
    for k, v in fields.items():
        setattr(out.scenario.effectors[0], k, v)
    return out


def test_nothing_launched_or_detected_while_it_moves(small_dir):
    ld = _scoot(_never_kills(_crossing_scenario(small_dir, SLS)), [(10.21, 20.21, 400)])
    res = iadsim.simulate(ld, replications=10, seed=5)
    sites = active_site(res.raw.relocation_log, res.raw.relocation_sites, res.world.nsteps)
    assert sites.shape == (10, 1, res.world.nsteps)
    rep0 = sites[0, 0]
    launches = _events(res, "launch").astype(int)
    assert np.all(rep0[launches] >= 0)                     # every launch from a site where it stands
    away = np.flatnonzero(rep0 < 0)
    assert away.size >= GAP
    assert set(np.unique(rep0[rep0 >= 0])) == {0, 1}       # its own site, then sites[0]
    # the timeline says when it packed and when it stood set up again, and where
    log0 = res.raw.relocation_log[0, 0]
    moves = log0[log0[:, 0] >= 0]
    tl = res.timeline
    assert np.array_equal(_events(res, "pack"), moves[:, 0]) and np.array_equal(_events(res, "setup"), moves[:, 1])
    assert list(tl.loc[tl.event == "setup", "missiles"]) == list(res.raw.relocation_sites[0, 0, 1:len(moves) + 1])
    assert set(tl.loc[tl.event.isin(["pack", "setup"]), "unit"]) == {"tor"}
    # the only radar is away: the track is lost during the move
    lost = _events(res, "lost")
    assert any(away[0] <= t <= away[-1] for t in lost)


def test_longer_relocations_cannot_raise_pkill(small_dir):
    # direction of the effect: the longer the unit is away after each engagement, the fewer its
    # chances at a threat crossing its envelope (same seed: common random numbers)
    base = _neutral_pk(_crossing_scenario(small_dir, SLS))
    base.scenario.threats[0].speed_m_s = 120.0
    n = 400
    killed = []
    for gap in (None, 0.0, 40.0, 160.0):
        ld = _crossing_scenario_copy(base)
        if gap is not None:
            _scoot(ld, [(10.2, 20.2, 400)], pack_s=0.0, move_s=gap, setup_s=0.0)
        killed.append(iadsim.simulate(ld, replications=n, seed=11).replications.killed.to_numpy())
    means = [k.mean() for k in killed]
    assert means[0] == means[1]                       # a move of no time changes nothing here
    assert means[1] >= means[2] >= means[3] and means[3] < means[0] - 0.05, means


# ------------------------------------------------------------------ line of sight of the new site


@pytest.fixture()
def ridge_dir(tmp_path):
    """Flat ground at 300 m with an east-west ridge 2,000 m high at 10.24-10.26 N."""
    n, res, west, north = 134, 0.003, 20.0, 10.4
    lat = north - (np.arange(n) + 0.5) * res
    z = np.full((n, n), 300.0, np.float32)
    z[(lat > 10.24) & (lat < 10.26), :] = 2300.0
    write_dem(tmp_path / "dem.tif", z, west, north, res)
    return tmp_path


def _ridge_scenario(ridge_dir, site, relocate_to=None):
    data = {
        "schema_version": 1, "name": "ridge",
        "terrain": {"dem": "dem.tif", "resolution_m": 400, "margin_km": 2},
        "simulation": {"duration_s": 900, "dt_s": 1.0, "track_latency_s": 2},
        "assets": [{"name": "base", "lat": 10.33, "lon": 20.35}],
        "effectors": [{"name": "tor", "system": "tor_m2", "site": {"lat": site[0], "lon": site[1]},
                       "doctrine": dict(SLS, max_engagements=6)}],
        "threats": [{"name": "owa", "type": "shahed_136", "altitude_m": 150, "altitude_ref": "agl",
                     "route": [{"lat": 10.32, "lon": 20.08}, {"lat": 10.32, "lon": 20.36}]}],
    }
    if relocate_to is not None:
        data["effectors"][0]["relocate"] = {"sites": [{"lat": relocate_to[0], "lon": relocate_to[1]}],
                                            "pack_s": 0.0, "move_s": 0.0, "setup_s": 0.0}
    (ridge_dir / "ridge.yaml").write_text(yaml.safe_dump(data))
    return _never_kills(iadsim.load_scenario(ridge_dir / "ridge.yaml"))


def test_the_relocated_unit_sees_with_its_new_sites_line_of_sight(ridge_dir):
    north, south = (10.30, 20.2), (10.19, 20.2)
    n = 20
    # the north site sees the low threat north of the ridge and engages it again and again
    stay = iadsim.simulate(_ridge_scenario(ridge_dir, north), replications=n, seed=1)
    assert (stay.raw.shots[:, 0] >= 3).all()
    # the south site, behind the ridge, never sees it
    hidden = iadsim.simulate(_ridge_scenario(ridge_dir, south), replications=n, seed=1)
    assert (hidden.raw.det_step < 0).all() and hidden.raw.shots.sum() == 0
    # moving (instantly) behind the ridge after the first engagement: it fires once, then is blind
    scoot = iadsim.simulate(_ridge_scenario(ridge_dir, north, relocate_to=south), replications=n, seed=1)
    assert (scoot.raw.shots[:, 0] == 1).all()
    assert (relocations(scoot.raw.relocation_log)[:, 0] == 1).all()
    assert scoot.raw.expended.shape == (n, 1) and (scoot.raw.expended[:, 0] == 1).all()
    # and the other way round: from behind the ridge to the north site it begins to see and fire
    # after a first move (it moves only after an engagement, so here it never moves: stays blind)
    back = iadsim.simulate(_ridge_scenario(ridge_dir, south, relocate_to=north), replications=n, seed=1)
    assert back.raw.shots.sum() == 0 and (relocations(back.raw.relocation_log) == 0).all()


# ------------------------------------------------------------------ one magazine, one identity


def test_the_magazine_moves_with_the_unit(small_dir):
    ld = _scoot(_never_kills(_crossing_scenario(small_dir, dict(SLS, max_engagements=10))),
                [(10.21, 20.21, 400), (10.19, 20.19, 400)], pack_s=0.0, move_s=5.0, setup_s=0.0)
    ld.scenario.effectors[0].missiles = 2
    res = iadsim.simulate(ld, replications=40, seed=2)
    ex = res.raw.expended
    assert ex.shape == (40, 1)
    assert ex.max() <= 2 and (ex[:, 0] == 2).all()          # two missiles in all, wherever it stood
    assert (res.raw.killer < 1).all()                       # kills name the unit, never a copy
    et = res.effector_table()
    assert list(et.effector) == ["tor"] and et.loc[0, "sites"] == 3
    assert et.loc[0, "mean_relocations"] >= 1.0
    # where it stood: its time at the three sites and away (packing, moving, setting up) fill the run
    at = et.loc[0, "mean_time_at_sites_s"]
    assert len(at) == 3 and at[0] > 0 and at[1] > 0
    moving = (res.raw.relocation_log[:, 0, :, 0] >= 0).sum() * 5.0 / len(ex)   # 5 s per move
    assert sum(at) + moving == pytest.approx(res.world.nsteps * res.world.dt, abs=6.0)
    assert set(res.timeline.unit.dropna()) == {"tor"}


def test_sequence_and_random_orders_are_reproducible(small_dir):
    sites = [(10.21, 20.21, 400), (10.19, 20.19, 400), (10.2, 20.22, 400)]
    ld = _scoot(_never_kills(_crossing_scenario(small_dir, dict(SLS, max_engagements=8))), sites,
                pack_s=0.0, move_s=0.0, setup_s=0.0, order="random")
    a = iadsim.simulate(ld, replications=16, seed=9)
    b = iadsim.simulate(ld, replications=16, seed=9)
    for k in ("shots", "kill_step", "expended", "relocation_log", "relocation_sites"):
        assert np.array_equal(getattr(a.raw, k), getattr(b.raw, k)), k
    seq = a.raw.relocation_sites[:, 0]
    assert np.all(seq[:, 1:] != seq[:, :-1]) and seq.min() >= 0 and seq.max() <= 3   # always another site
    assert len({tuple(r[:6]) for r in seq}) > 1                                      # orders differ by replication
    ld.scenario.effectors[0].relocate.order = "sequence"
    s = iadsim.simulate(ld, replications=4, seed=9).raw.relocation_sites[:, 0]
    assert np.array_equal(s[0, :6], [0, 1, 2, 3, 0, 1])


def test_march_speed_sets_the_move_time(small_dir):
    ld = _scoot(_never_kills(_crossing_scenario(small_dir, SLS)), [(10.21, 20.2, 400)],
                move_s=None, speed_kmh=36.0)   # 10 m/s
    w = iadsim.simulate(ld, replications=2, seed=1).world
    d = float(np.hypot(*(w.scoot.aux.effector_xyz[0, :2] - w.effector_xyz[0, :2])))
    assert 1000 < d < 1200
    assert w.scoot.steps[0, 0, 1] == int(np.ceil(PACK + d / 10.0 + SETUP))


def test_full_fidelity_waits_for_the_move_too(small_dir):
    ld = _scoot(_never_kills(_crossing_scenario(small_dir, SLS)), [(10.21, 20.21, 400)])
    ld.scenario.simulation.fidelity = "full"
    res = iadsim.simulate(ld, replications=6, seed=3)
    log = res.raw.relocation_log[:, 0]
    moved = log[:, :, 0] >= 0
    assert moved[:, 0].all() and np.all(log[:, :, 1][moved] - log[:, :, 0][moved] == GAP)
    launches, misses = _events(res, "launch"), _events(res, "miss")
    assert len(launches) >= 2 and launches[1] >= misses[0] + GAP
    assert res.raw.expended.shape == (6, 1)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("value,field", [
    ({"sites": [{"lat": 10.9, "lon": 20.2}], "pack_s": 1, "move_s": 1, "setup_s": 1},
     "effectors[sam-1].relocate.sites[0]"),
    ({"sites": [{"lat": 10.2, "lon": 20.2}, {"lat": 10.2, "lon": 19.5}], "pack_s": 1, "move_s": 1, "setup_s": 1},
     "effectors[sam-1].relocate.sites[1]"),
    ({"sites": [], "pack_s": 1, "move_s": 1, "setup_s": 1}, "effectors[0].relocate.sites"),
    ({"sites": [{"lat": 10.2, "lon": 20.2}], "pack_s": -1, "move_s": 1, "setup_s": 1}, "effectors[0].relocate.pack_s"),
    ({"sites": [{"lat": 10.2, "lon": 20.2}], "pack_s": 1, "setup_s": 1}, "effectors[0].relocate"),
    ({"sites": [{"lat": 10.2, "lon": 20.2}], "pack_s": 1, "move_s": 1, "setup_s": 1, "order": "zigzag"},
     "effectors[0].relocate.order"),
])
def test_bad_relocation_exit_2_names_the_field_and_writes_nothing(small_dir, tmp_path, capsys, value, field):
    bad = small_dir / "bad.yaml"
    bad.write_text(yaml.safe_dump(edited(small_scenario_dict(), "effectors.0.relocate", value)))
    out = tmp_path / "never"
    rc = main(["run", str(bad), "-n", "4", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "bad.yaml" in err and field in err and "Traceback" not in err, err
    assert not out.exists()


def test_a_gun_missile_unit_cannot_relocate_yet(small_dir, tmp_path, capsys):
    """Pantsir-S1 carries missiles and guns (iadsim.engine.mixed); its guns are not carried to the
    relocation copies, so relocating it is refused, naming the field."""
    bad = small_dir / "bad.yaml"
    value = {"sites": [{"lat": 10.2, "lon": 20.2}], "pack_s": 1, "move_s": 1, "setup_s": 1}
    bad.write_text(yaml.safe_dump(edited(small_scenario_dict(), "effectors.1.relocate", value)))
    out = tmp_path / "never"
    rc = main(["run", str(bad), "-n", "4", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "bad.yaml" in err and "effectors[sam-2].relocate" in err and "Traceback" not in err, err
    assert not out.exists()


# ------------------------------------------------------------------ outputs


def test_run_outputs_show_the_candidate_sites_and_relocations(small_dir, tmp_path, capsys):
    import json
    import zipfile

    data = edited(small_scenario_dict(), "effectors.0.relocate",
                  {"sites": [{"lat": 10.22, "lon": 20.18}, {"lat": 10.23, "lon": 20.2}], "pack_s": 60,
                   "speed_kmh": 30, "setup_s": 120})
    data["simulation"]["duration_s"] = 600
    path = small_dir / "scoot.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    rc = main(["run", str(path), "-n", "8", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0 and "relocations (mean)" in text
    gj = json.loads((out / "routes.geojson").read_text())
    names = {f["properties"]["name"] for f in gj["features"] if f["properties"].get("kind") == "relocation_site"}
    assert names == {"sam-1@1", "sam-1@2"}
    with zipfile.ZipFile(out / "run.kmz") as z:
        kml = z.read("doc.kml").decode()
    assert "sam-1@2" in kml and "Relocation site 2 of fire unit sam-1" in kml
    summary = json.loads((out / "summary.json").read_text())
    units = {e["effector"]: e for e in summary["effectors"]}
    assert set(units) == {"sam-1", "sam-2"} and units["sam-1"]["sites"] == 3 and units["sam-2"]["sites"] == 1
    assert "relocation" in summary["models"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "relocated" in html and "sam-1@1" in json.dumps(gj)
