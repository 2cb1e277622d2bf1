"""Threat missions: ISR stations, strikes that release weapons, the measures of a sortie."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import iadsim
from iadsim.cli import main
from iadsim.errors import InputError
from iadsim.missions.base import orbit_pattern, racetrack_lap, racetrack_pattern

# the synthetic DEM of conftest spans 10.0-10.4 N, 20.0-20.4 E


def _scenario(missions: list[dict], effectors: list[dict] | None = None, duration_s: float = 3600) -> dict:
    return {
        "schema_version": 1, "name": "missions",
        "terrain": {"dem": "dem.tif", "resolution_m": 400, "margin_km": 1},
        "simulation": {"duration_s": duration_s, "dt_s": 1.0, "track_latency_s": 2},
        "assets": [{"name": "depot", "lat": 10.2, "lon": 20.2, "radius_m": 300}],
        "effectors": effectors if effectors is not None else [
            {"name": "tor", "system": "tor_m2", "site": {"lat": 10.2, "lon": 20.21},
             "doctrine": {"mode": "shoot-look-shoot", "max_engagements": 2}}],
        "threats": missions,
    }


def _isr(lat=10.2, lon=20.2, alt=3000.0, tos=900.0, base=(10.39, 20.01), name="isr") -> dict:
    return {"name": name, "type": "mq_9_reaper", "altitude_m": alt, "altitude_ref": "msl",
            "route": [{"lat": base[0], "lon": base[1]}],
            "mission": {"kind": "isr", "station": {"lat": lat, "lon": lon, "radius_km": 3}, "time_on_station_s": tos}}


def _load(small_dir, data):
    p = small_dir / "m.yaml"
    p.write_text(yaml.safe_dump(data))
    return iadsim.load_scenario(p)


def test_racetrack_and_orbit_geometry():
    # a racetrack of two straights L joined by half-circles r: perimeter 2L + 2 pi r, flown
    # clockwise (negative signed area, shoelace formula)
    lap = racetrack_lap(1000.0, 4000.0, 30.0)
    closed = np.vstack([lap, lap[:1]])
    per = np.hypot(*np.diff(closed, axis=0).T).sum()
    assert per == pytest.approx(2 * 4000 + 2 * np.pi * 1000, rel=2e-3)
    area = 0.5 * np.sum(lap[:, 0] * np.roll(lap[:, 1], -1) - np.roll(lap[:, 0], -1) * lap[:, 1])
    assert area < 0 and abs(area) == pytest.approx(4000 * 2000 + np.pi * 1000 ** 2, rel=2e-3)
    # the long axis points along the heading (30 deg from north): unit vector (sin 30, cos 30)
    axis = lap[1] - lap[0]
    assert np.degrees(np.arctan2(axis[0], axis[1])) == pytest.approx(30.0, abs=1e-6)
    for pts in (orbit_pattern(0, 0, 2000.0, np.array([9000.0, 0.0]), 10_000.0),
                racetrack_pattern(0, 0, 1000.0, 4000.0, 0.0, np.array([0.0, 9000.0]), 10_000.0)):
        assert np.hypot(*np.diff(pts, axis=0).T).sum() == pytest.approx(10_000.0, rel=1e-9)


def test_isr_outside_every_envelope_always_accomplishes(small_dir):
    # the station and the route stay ~40 km from the only fire unit, whose missiles reach 12-15 km
    far = _isr(lat=10.38, lon=20.02, base=(10.39, 20.01))
    eff = [{"name": "tor", "system": "tor_m2", "site": {"lat": 10.02, "lon": 20.38}}]
    res = iadsim.simulate(_load(small_dir, _scenario([far], eff)), replications=50, seed=1)
    row = res.mission_table().iloc[0]
    assert row.mission == "isr" and row.p_accomplished == 1.0 and row.p_loss == 0.0
    assert row.mean_time_on_station_s == pytest.approx(900.0, abs=1.0)
    assert (res.replications.outcome == "survived the sortie").all()


def test_station_over_the_defence_is_harder_than_stand_off(small_dir):
    # direction of effect, common random numbers: moving the station away from the fire unit can
    # only lower P(loss) and raise P(accomplished)
    rows = []
    for lat in (10.2, 10.3, 10.38):
        res = iadsim.simulate(_load(small_dir, _scenario([_isr(lat=lat, lon=20.2 if lat < 10.3 else 20.05)])),
                              replications=60, seed=4)
        rows.append(res.mission_table().iloc[0])
    loss = [r.p_loss for r in rows]
    acc = [r.p_accomplished for r in rows]
    assert loss[0] >= loss[1] >= loss[2] and loss[0] > loss[2]
    assert acc[0] <= acc[1] <= acc[2]


def test_removing_a_fire_unit_cannot_lower_p_accomplished(small_dir):
    two = [{"name": "tor", "system": "tor_m2", "site": {"lat": 10.2, "lon": 20.21}},
           {"name": "pantsir", "system": "pantsir_s1", "site": {"lat": 10.21, "lon": 20.19}}]
    a = iadsim.simulate(_load(small_dir, _scenario([_isr()], two)), replications=60, seed=2).mission_table()
    b = iadsim.simulate(_load(small_dir, _scenario([_isr()], two[:1])), replications=60, seed=2).mission_table()
    assert b.p_accomplished.iloc[0] >= a.p_accomplished.iloc[0]


def test_strike_releases_weapons_that_fly_to_the_target(small_dir):
    strike = {"name": "strike", "type": "mq_9_reaper", "altitude_m": 4000, "altitude_ref": "msl",
              "route": [{"lat": 10.39, "lon": 20.2}],
              "mission": {"kind": "strike", "weapon": {"type": "Hellfire", "count": 2, "target": "depot"}}}
    ld = _load(small_dir, _scenario([strike], effectors=[]))
    res = iadsim.simulate(ld, replications=10, seed=1)
    w = res.world
    assert w.threat_labels == ["strike", "strike.agm_114_hellfire[0]", "strike.agm_114_hellfire[1]"]
    assert list(w.missions.parent) == [-1, 0, 0]
    rel = int(w.missions.release_step[0])
    assert w.first_step[1] == rel and w.first_step[2] == rel + 4   # released 4 s apart
    # released at 90% of the weapon's range from the target (8 km in the catalog)
    d = np.hypot(*(w.pos[rel, 0, :2] - w.asset_xy[0]))
    assert d == pytest.approx(0.9 * 8000.0, abs=60.0)   # within one step of flight (~55 m)
    # no defence: every weapon reaches its target, every carrier comes home
    row = res.mission_table().iloc[0]
    assert row.p_accomplished == 1.0 and row.p_weapon_reached_target == 1.0 and row.p_survived == 1.0


@pytest.mark.parametrize("mission, path, words", [
    ({"kind": "isr", "time_on_station_s": 600}, "threats[0].mission", "needs a station"),
    ({"kind": "isr", "station": {"lat": 10.2, "lon": 20.2}, "time_on_station_s": 0}, "threats[0].mission",
     "time_on_station_s > 0"),
    ({"kind": "strike"}, "threats[0].mission", "needs a weapon"),
    ({"kind": "strike", "weapon": {"type": "kh_101", "target": "depot"}}, "threats[0].mission.weapon.type",
     "does not carry"),
    ({"kind": "strike", "weapon": {"type": "Hellfire", "count": 9, "target": "depot"}},
     "threats[0].mission.weapon.count", "at most 4"),
    ({"kind": "strike", "weapon": {"type": "Hellfire", "target": "depo"}}, "threats[0].mission.weapon.target",
     "did you mean 'depot'"),
    ({"kind": "strike", "weapon": {"type": "Hellfire", "target": "depot"}, "release": {"lat": 10.39, "lon": 20.2}},
     "threats[0].mission.release", "beyond the 8 km range"),
])
def test_bad_missions_are_refused(small_dir, mission, path, words, capsys):
    thr = {"name": "m", "type": "mq_9_reaper", "altitude_m": 3000, "route": [{"lat": 10.39, "lon": 20.01}],
           "mission": mission}
    p = small_dir / "m.yaml"
    p.write_text(yaml.safe_dump(_scenario([thr])))
    with pytest.raises(InputError) as exc:
        iadsim.load_scenario(p)
    assert any(pr.path == path and words in pr.message for pr in exc.value.problems), exc.value.problems
    out = small_dir / "out"
    assert main(["run", str(p), "-n", "2", "-o", str(out)]) == 2
    assert not out.exists()


def test_options_answer_the_question_option_by_option(small_dir, tmp_path):
    from iadsim.report import write_report

    data = _scenario([_isr()], [
        {"name": "tor", "system": "tor_m2", "site": {"lat": 10.2, "lon": 20.21}},
        {"name": "pantsir", "system": "pantsir_s1", "site": {"lat": 10.21, "lon": 20.19}}])
    data["question"] = "Would the Tor and the Pantsir stop an ISR orbit over the depot?"
    data["options"] = [{"name": "no-pantsir", "set": {"effectors[pantsir].enabled": False}},
                       {"name": "stand-off", "set": {"threats[isr].mission.station.lat": 10.38,
                                                     "threats[isr].mission.station.lon": 20.02}}]
    res = iadsim.simulate(_load(small_dir, data), replications=40, seed=5)
    a = res.summary["answer"]
    assert a["question"].startswith("Would")
    assert [o["name"] for o in a["options"]] == ["as written", "no-pantsir", "stand-off"]
    acc = {o["name"]: o["missions"][0]["p_accomplished"] for o in a["options"]}
    # direction: fewer units or more stand-off can only help the sortie
    assert acc["no-pantsir"] >= acc["as written"] and acc["stand-off"] >= acc["as written"]
    assert acc["stand-off"] == 1.0
    assert sum(s.startswith("stand-off: isr") for s in a["sentences"]) == 1
    html = write_report(res, tmp_path / "r.html").read_text()
    assert 'id="answer"' in html and "Would the Tor" in html and "no-pantsir" in html


def test_option_with_a_path_that_does_not_exist_is_refused(small_dir):
    data = _scenario([_isr()])
    data["options"] = [{"name": "bad", "set": {"effectors[buk].enabled": False}}]
    with pytest.raises(InputError) as exc:
        _load(small_dir, data)
    assert exc.value.problems[0].path.startswith("options[0].set") and "buk" in exc.value.problems[0].message


def test_a_carrier_killed_before_release_releases_nothing(small_dir):
    # the strike carrier flies over the Tor before it can release: whenever it is killed before its
    # release step, its weapons never fly (outcome "not released"), in both fidelities
    strike = {"name": "strike", "type": "mq_9_reaper", "altitude_m": 3000, "altitude_ref": "msl",
              "route": [{"lat": 10.39, "lon": 20.21}],
              "mission": {"kind": "strike", "weapon": {"type": "Hellfire", "count": 2, "target": "depot"},
                          "release": {"lat": 10.25, "lon": 20.2}}}
    eff = [{"name": "tor", "system": "tor_m2", "site": {"lat": 10.32, "lon": 20.21},
            "doctrine": {"mode": "shoot-look-shoot", "max_engagements": 3}}]
    for fidelity in ("fast", "full"):
        data = _scenario([strike], eff)
        data["simulation"]["fidelity"] = fidelity
        res = iadsim.simulate(_load(small_dir, data), replications=60, seed=8)
        df = res.replications
        rel = int(res.world.missions.release_step[0])
        carrier = df[df.role == "carrier"].set_index("replication")
        weapons = df[df.role == "weapon"]
        early = carrier.index[carrier.killed & (carrier.kill_time_s <= rel * res.world.dt)]
        assert len(early) > 0, "the Tor must kill some carriers before the release point"
        w_early = weapons[weapons.replication.isin(early)]
        assert (w_early.outcome == "not released").all() and not w_early.killed.any()
        assert w_early.detected_at_s.isna().all()
        late = weapons[~weapons.replication.isin(early)]
        assert (late.outcome != "not released").all()
        row = res.mission_table().iloc[0]
        assert row.p_accomplished == pytest.approx(1 - len(early) / 60)
