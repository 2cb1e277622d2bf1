"""Attrition and SEAD: threat weapons that put fire units and radars out (iadsim.engine.sites).

Closed forms checked here: a site hit by n independent weapons that all arrive, each with kill
probability p, is out with probability 1 - (1 - p)^n (one weapon: p; the binomial distribution of
the count over independent replications gives the interval, Wilson 1927, JASA 22:209); an
anti-radiation missile whose radar does not radiate has nothing to home on (probability 0)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from scipy.stats import binom

import iadsim
from iadsim.cli import main
from iadsim.errors import InputError

# the synthetic DEM of conftest spans 10.0-10.4 N, 20.0-20.4 E

EW = {"name": "ew", "system": "buk_m2", "site": {"lat": 10.2, "lon": 20.21}}
TOR = {"name": "tor", "system": "tor_m2", "site": {"lat": 10.2, "lon": 20.21},
       "doctrine": {"mode": "shoot-look-shoot", "max_engagements": 2}}


def _sead(target="ew", count=1, p_kill=None, launch_s=0.0, name="sead", **mission) -> dict:
    w = {"type": "HARM", "count": count, "target": target}
    if p_kill is not None:
        w["p_kill_site"] = p_kill
    mission = {"release": {"lat": 10.33, "lon": 20.07}, **mission}   # ~25 km from the site, inside the 48 km
    return {"name": name, "type": "f_16_fighting_falcon", "altitude_m": 6000, "launch_time_s": launch_s,
            "route": [{"lat": 10.39, "lon": 20.01}], "mission": {"kind": "sead", "weapon": w, **mission}}


def _later(launch_s=240.0) -> dict:
    """A drone that comes past the site after the SEAD package, aimed at the depot."""
    return {"name": "later", "type": "shahed_136", "altitude_m": 300, "altitude_ref": "agl",
            "launch_time_s": launch_s,
            "route": [{"lat": 10.02, "lon": 20.35}, {"lat": 10.15, "lon": 20.25}], "target": "depot"}


def _scenario(threats, sensors=(), effectors=(), fidelity="fast", duration_s=900) -> dict:
    return {
        "schema_version": 1, "name": "sead",
        "terrain": {"dem": "dem.tif", "resolution_m": 400, "margin_km": 1},
        "simulation": {"duration_s": duration_s, "dt_s": 1.0, "track_latency_s": 2, "fidelity": fidelity},
        "assets": [{"name": "depot", "lat": 10.19, "lon": 20.2, "radius_m": 300}],
        "effectors": list(effectors), "sensors": list(sensors), "threats": list(threats),
    }


def _run(small_dir, data, n, seed=3, name="s.yaml"):
    p = small_dir / name
    p.write_text(yaml.safe_dump(data))
    return iadsim.simulate(iadsim.load_scenario(p), replications=n, seed=seed)


@pytest.mark.parametrize("fidelity", ["fast", "full"])
def test_a_destroyed_radar_leaves_later_threats_undetected(small_dir, fidelity):
    """Only radar, destroyed early (p_kill_site 1, nothing intercepts the ARM): the later drone is never
    detected; without the SEAD package the same radar detects it."""
    n = 20
    base = _run(small_dir, _scenario([_later()], sensors=[EW], fidelity=fidelity), n)
    hit = _run(small_dir, _scenario([_later(), _sead(p_kill=1.0)], sensors=[EW], fidelity=fidelity), n)
    det_base = base.raw.det_step[:, 0] >= 0
    assert det_base.mean() > 0.9
    assert (hit.raw.site_kill[:, 0] >= 0).all()                        # the ARM put the radar out
    assert (hit.raw.site_kill[:, 0] < hit.world.first_step[0]).all()   # before the drone took off
    assert not (hit.raw.det_step[:, 0] >= 0).any()                     # and the drone is never seen
    assert "attrition" in hit.models and "anti-radiation" in hit.models["attrition"]
    row = hit.mission_table().set_index("threat").loc["sead"]
    assert row.mission == "sead" and row.p_accomplished == 1.0 and row.p_target_site_destroyed == 1.0
    s = hit.summary
    assert s["sites"][0]["site"] == "ew" and s["sites"][0]["p_destroyed"] == 1.0
    assert base.raw.site_kill is None and "sites" not in base.summary


def test_arm_against_a_silent_radar_never_destroys_it_and_an_always_on_one_with_its_pk(small_dir):
    """Emission control: an ambush radar whose trigger range the ARM reaches only in its last second
    is silent through the terminal phase, so the ARM has nothing to home on: never destroyed. The
    same ARM at an always-on radar destroys it with its p_kill_site (binomial interval)."""
    n, p = 400, 0.6
    silent = dict(EW, emcon={"mode": "ambush", "ambush_range_km": 0.3})
    quiet = _run(small_dir, _scenario([_sead(p_kill=p)], sensors=[silent], duration_s=300), n)
    loud = _run(small_dir, _scenario([_sead(p_kill=p)], sensors=[EW], duration_s=300), n)
    assert quiet.world.sites.arm_steps[1] == 10            # the catalog's terminal phase, 10 s
    assert not (quiet.raw.site_kill >= 0).any()
    assert (quiet.raw.leak_step[:, 1] >= 0).all()          # the ARM did arrive: it missed
    k = int((loud.raw.site_kill[:, 0] >= 0).sum())
    lo, hi = binom.ppf(0.0005, n, p), binom.ppf(0.9995, n, p)   # 99.9% of the binomial(n, p) mass
    assert lo <= k <= hi, (k, lo, hi)
    # the event log names the site and the weapon
    tl = loud.timeline
    if (loud.raw.site_kill[loud.timeline_replication, 0] >= 0):
        ev = tl[tl["event"] == "site_hit"]
        assert list(ev["unit"]) == ["ew"] and ev["threat"].iloc[0].startswith("sead.agm_88_harm")


def test_two_weapons_and_a_repair_time(small_dir):
    """Two weapons 4 s apart, each p: out with 1 - (1 - p)^2 (the second ARM homes while the radar
    still radiates, i.e. when the first missed); a repair time of 60 s brings the radar back, so the
    drone that comes minutes later is detected again; without repair it is not."""
    n, p = 400, 0.5
    ew = dict(EW, repair_s=60)
    res = _run(small_dir, _scenario([_later(), _sead(count=2, p_kill=p)], sensors=[ew]), n, seed=5)
    out = res.raw.site_kill[:, 0] >= 0
    k = int(out.sum())
    q = 1 - (1 - p) ** 2
    assert binom.ppf(0.0005, n, q) <= k <= binom.ppf(0.9995, n, q)
    assert (res.raw.det_step[out, 0] >= 0).mean() > 0.9          # repaired before the drone came
    never = _run(small_dir, _scenario([_later(), _sead(count=2, p_kill=p)], sensors=[EW]), 50, seed=5)
    gone = never.raw.site_kill[:, 0] >= 0
    assert gone.any() and not (never.raw.det_step[gone, 0] >= 0).any()


def test_sead_cannot_raise_the_defences_chance_against_a_later_threat(small_dir):
    """Property: adding a SEAD strike at the only fire unit cannot raise P(the later drone is killed)."""
    n = 200
    without = _run(small_dir, _scenario([_later()], effectors=[TOR]), n)
    with_sead = _run(small_dir, _scenario([_later(), _sead(target="tor", count=2, p_kill=0.9)], effectors=[TOR]), n)
    p0 = (without.raw.kill_step[:, 0] >= 0).mean()
    p1 = (with_sead.raw.kill_step[:, 0] >= 0).mean()
    se = np.sqrt(max(p0 * (1 - p0), 1e-3) / n)
    assert p1 <= p0 + 3 * se, (p0, p1)
    assert p0 > 0.5 and p1 < p0          # (and here it falls: the Tor is often out before the drone comes)
    # a destroyed fire unit launches nothing after its hit
    kill = with_sead.raw.site_kill[:, 0]
    eng = with_sead.raw.eng_step[:, 0]
    assert not ((kill >= 0) & (eng >= 0) & (eng > kill)).any()


def test_a_one_way_attacker_at_a_site(small_dir):
    """A one-way drone aimed at the radar (target: ew) puts it out on arrival with the default
    p_kill_site, an estimate (shahed_136 has no catalog figure), unless the analyst gives one."""
    from iadsim.engine.sites import DEFAULT_P_KILL_SITE

    drone = dict(_later(launch_s=0.0), target="ew")
    n = 300
    res = _run(small_dir, _scenario([drone], sensors=[EW], duration_s=900), n, seed=7)
    assert res.world.sites.site_of[0] == 0 and res.world.sites.arm_steps[0] == 0   # not an ARM
    p = DEFAULT_P_KILL_SITE["value"]
    assert DEFAULT_P_KILL_SITE["confidence"] == "estimate"
    k = int((res.raw.site_kill[:, 0] >= 0).sum())
    assert binom.ppf(0.0005, n, p) <= k <= binom.ppf(0.9995, n, p)
    assert (res.raw.site_kill[res.raw.site_kill[:, 0] >= 0, 0] == res.world.end_step[0]).all()   # on arrival
    sure = _run(small_dir, _scenario([dict(drone, p_kill_site=1.0)], sensors=[EW], duration_s=900), 20, seed=7)
    assert (sure.raw.site_kill[:, 0] >= 0).all()
    assert sure.threat_table().set_index("threat").loc["later", "target"] == "ew"


def test_the_catalog_figures_of_an_arm_are_used_and_logged(small_dir):
    """Without the analyst's p_kill_site the HARM's catalog estimate applies, and the report's figure
    list names it and the terminal phase (figures carry source and confidence)."""
    from iadsim.engine import compile_world

    p = small_dir / "c.yaml"
    p.write_text(yaml.safe_dump(_scenario([_sead(count=2)], sensors=[EW], duration_s=300)))
    w = compile_world(iadsim.load_scenario(p))
    harm = w.loaded.catalog["agm_88_harm"]
    assert list(w.sites.p_kill[1:]) == [harm.nominal("p_kill_site")] * 2
    used = {(f.system, f.key): f.figure for f in w.figures}
    for key in ("p_kill_site", "arm_terminal_phase_s", "weapon_range_km"):
        assert ("agm_88_harm", key) in used
    assert used[("agm_88_harm", "p_kill_site")].confidence == "estimate"
    assert used[("agm_88_harm", "weapon_range_km")].value == 48


def test_no_site_target_no_change(small_dir):
    """A scenario without weapons aimed at sites compiles no site attacks (and runs as before)."""
    res = _run(small_dir, _scenario([_later()], sensors=[EW]), 5)
    assert res.world.sites is None and res.raw.site_kill is None


@pytest.mark.parametrize("threat, path, words", [
    (_sead(target="eww"), "threats[0].mission.weapon.target", "did you mean 'ew'"),
    (_sead(target="depot"), "threats[0].mission.weapon.target", "a sead mission attacks a site"),
    (_sead(release={"lat": 9.75, "lon": 20.21}), "threats[0].mission.release", "beyond the 48 km range"),
    (dict(_sead(), mission={"kind": "sead", "weapon": {"type": "Hellfire", "target": "ew"}}),
     "threats[0].mission.weapon.type", "does not carry"),
    (dict(_sead(), type="mq_9_reaper"), "threats[0].mission.weapon.type", "does not carry agm_88_harm"),
    (dict(_later(), target="eww"), "threats[0].target", "unknown asset or site"),
])
def test_bad_site_targets_are_refused(small_dir, threat, path, words):
    p = small_dir / "bad.yaml"
    p.write_text(yaml.safe_dump(_scenario([threat], sensors=[EW])))
    with pytest.raises(InputError) as exc:
        iadsim.load_scenario(p)
    assert any(pr.path == path and words in pr.message for pr in exc.value.problems), exc.value.problems
    out = small_dir / "out"
    assert main(["run", str(p), "-n", "2", "-o", str(out)]) == 2
    assert not out.exists()


def test_a_unit_that_relocated_is_not_where_the_anti_radiation_missile_arrives(small_dir):
    """Shoot-and-scoot against SEAD: the Tor fires at the early drone, then moves (pack, move, set-up
    60 s in all); an ARM aimed at its site arrives minutes later and finds the old site silent, so the
    unit is never put out. The same Tor staying put is put out by the same ARM (p_kill_site 1) in
    every replication where the ARM is not shot down."""
    n = 12
    early = _later(launch_s=0.0)
    stay = dict(TOR, doctrine={"mode": "shoot-look-shoot", "max_engagements": 1})
    moves = dict(stay, relocate={"sites": [{"lat": 10.25, "lon": 20.26}], "pack_s": 20, "move_s": 20,
                                 "setup_s": 20})
    arm = _sead(target="tor", p_kill=1.0, launch_s=600.0)
    a = _run(small_dir, _scenario([early, arm], effectors=[stay], duration_s=1200), n)
    b = _run(small_dir, _scenario([early, arm], effectors=[moves], duration_s=1200), n)
    fired = b.raw.eng_step[:, 0] >= 0
    assert fired.all()                                            # the Tor engaged the drone first
    assert (a.raw.site_kill[:, 0] >= 0).mean() > 0.5              # staying put, the ARM gets it
    assert not (b.raw.site_kill[:, 0] >= 0).any()                 # moved away: nothing to home on
    assert b.raw.site_kill.shape == a.raw.site_kill.shape          # one column per real site


def test_a_sead_egress_below_the_terrain_names_the_egress(small_dir):
    """A SEAD sortie returns home like ISR and strike (its kind's ``returns`` flag): an egress below the
    terrain is reported at threats[i].mission.egress, not at the target it never flies at."""
    from iadsim.engine import compile_world

    thr = _sead()
    thr["mission"]["egress"] = [{"lat": 10.05, "lon": 20.3, "altitude_m": 10.0}]   # MSL; the ground is >= 300 m
    p = small_dir / "low.yaml"
    p.write_text(yaml.safe_dump(_scenario([thr], sensors=[EW])))
    with pytest.raises(InputError) as exc:
        compile_world(iadsim.load_scenario(p))
    [problem] = exc.value.problems
    assert problem.path == "threats[0].mission.egress", problem
    assert problem.message.startswith("the egress passes below the terrain"), problem.message


def test_a_mission_that_releases_nothing_says_which_kinds_do(small_dir):
    thr = {"name": "isr", "type": "mq_9_reaper", "altitude_m": 3000, "route": [{"lat": 10.39, "lon": 20.01}],
           "mission": {"kind": "isr", "station": {"lat": 10.2, "lon": 20.2}, "time_on_station_s": 600,
                       "weapon": {"type": "Hellfire", "target": "depot"}}}
    p = small_dir / "isr.yaml"
    p.write_text(yaml.safe_dump(_scenario([thr])))
    with pytest.raises(InputError) as exc:
        iadsim.load_scenario(p)
    msgs = [pr.message for pr in exc.value.problems if pr.path == "threats[0].mission"]
    assert any("releases no weapon" in m and "(sead, strike)" in m for m in msgs), msgs
    assert not any("only a strike" in m for m in msgs)


def test_a_decoy_on_a_sead_mission_is_named_by_its_kind(small_dir):
    thr = dict(_sead(), decoy=True)
    p = small_dir / "decoy.yaml"
    p.write_text(yaml.safe_dump(_scenario([thr], sensors=[EW])))
    with pytest.raises(InputError) as exc:
        iadsim.load_scenario(p)
    assert any("a decoy releases no weapons" in pr.message and "not a sead mission" in pr.message
               for pr in exc.value.problems), exc.value.problems
