"""The defence's state: failures and repairs, alert states, emission control and C2 modes."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import iadsim
from conftest import edited, small_scenario_dict
from iadsim.cli import main
from iadsim.engine.defstate import ALERT_DELAY_S, EMCON_AMBUSH, updown_times
from iadsim.physics.engagement import cumulative_pk
from iadsim.scenario.models import C2, CommandPost, Emcon, Link
from test_engine import _crossing_scenario, _neutral_pk

SLS = {"mode": "shoot-look-shoot", "max_engagements": 2, "kill_assessment_s": 3}


def _tor(ld, **fields):
    eff = ld.scenario.effectors[0]
    for k, v in fields.items():
        setattr(eff, k, v)
    return ld


def _ci(p, n, k=4.0):
    return k * np.sqrt(max(p * (1 - p), 1e-4) / n)


# ------------------------------------------------------------------ failures and repairs


def test_long_run_fraction_up_is_mtbf_over_mtbf_plus_mttr():
    # alternating renewal process: long-run availability A = MTBF / (MTBF + MTTR)
    # (Barlow & Proschan 1975, Statistical Theory of Reliability, ch. 7; Ross 2014, Introduction to
    # Probability Models, 11th ed., sec. 7.5, Example 7.14)
    rng = np.random.default_rng(1)
    mtbf, mttr, horizon = 10.0, 2.5, 200_000.0
    fractions = []
    for _ in range(20):
        ts = [0.0] + updown_times(mtbf, mttr, True, horizon, rng) + [horizon]
        up = sum(b - a for i, (a, b) in enumerate(zip(ts, ts[1:])) if i % 2 == 0)
        fractions.append(up / horizon)
    f = np.array(fractions)
    exp = mtbf / (mtbf + mttr)
    half = 4 * f.std(ddof=1) / np.sqrt(len(f))
    assert abs(f.mean() - exp) < half, (f.mean(), exp, half)
    assert half < 0.01   # the interval is tight enough to tell 0.8 from 0.79


def test_engine_fraction_of_time_radiating_matches_the_availability(small_dir):
    # the engine's own up/down states: a radar with MTBF 0.1 h and MTTR 0.05 h radiates a fraction
    # of the time close to 2/3 (short run: starting up biases it upwards, by at most MTTR/run)
    ld = _crossing_scenario(small_dir, dict(SLS, fire="hold"))   # never fires: the run lasts its duration
    ld.scenario.threats[0].speed_m_s = 10.0
    ld.scenario.simulation.duration_s = 3000
    _tor(ld, mtbf_h=0.1, mttr_h=0.05)
    res = iadsim.simulate(ld, replications=200, seed=4)
    rad = res.raw.radiating[:, 0]
    frac = rad.sum() / (res.world.nsteps * len(rad))
    assert 0.62 < frac < 0.74, frac
    assert "failures" in res.world.models and "MTBF 0.1 h" in res.world.models["failures"]


def test_readiness_scales_pkill_by_p_with_failures_on(small_dir):
    # one threat, one unit: readiness p (state at the start), failures far rarer than the run:
    # P(kill) = p x P(kill | up) (same seed: the readiness draws are common random numbers)
    ld = _neutral_pk(_crossing_scenario(small_dir, SLS))
    _tor(ld, mtbf_h=1e5, mttr_h=1e4)
    n = 2000
    full = iadsim.simulate(_tor(ld, readiness=1.0), replications=n, seed=5).replications.killed.to_numpy()
    part = iadsim.simulate(_tor(ld, readiness=0.5), replications=n, seed=5).replications.killed.to_numpy()
    assert np.all(part <= full)
    exp = 0.5 * full.mean()
    assert part.mean() == pytest.approx(exp, abs=_ci(exp, n))
    p = ld.catalog["tor_m2"].nominal("pk_single_shot")
    assert full.mean() == pytest.approx(float(cumulative_pk(p, 2)), abs=_ci(0.8, n))


def test_failed_unit_neither_detects_nor_launches(small_dir):
    ld = _crossing_scenario(small_dir, SLS)
    _tor(ld, readiness=0.0, mtbf_h=1.0, mttr_h=1e5)   # down at the start, repaired (practically) never
    res = iadsim.simulate(ld, replications=50, seed=2)
    assert (res.raw.det_step < 0).all() and res.replications.shots.sum() == 0
    assert (res.raw.radiating == 0).all()


def test_frequent_failures_cannot_raise_pkill(small_dir):
    base = _neutral_pk(_crossing_scenario(small_dir, SLS))
    n = 600
    ref = iadsim.simulate(base, replications=n, seed=8)
    assert "fail" not in set(ref.timeline.event)
    fail = iadsim.simulate(_tor(base, mtbf_h=0.02, mttr_h=0.02), replications=n, seed=8)
    k = fail.replications.killed.mean()
    assert k < ref.replications.killed.mean() - 0.05
    assert {"fail", "repair"} <= set(fail.timeline.event)   # replication 0's timeline


# ------------------------------------------------------------------ alert states


def test_lower_alert_cannot_raise_pkill_and_delays_by_the_table(small_dir):
    base = _neutral_pk(_crossing_scenario(small_dir, SLS))
    # low alert: the first launch comes exactly the catalog reaction time + the table's 300 s after
    # the firm track (the slow target is still inside the envelope by then)
    res = iadsim.simulate(_tor(base, alert="low"), replications=40, seed=6)
    fired = res.raw.eng_step[:, 0] >= 0
    assert fired.all()
    d = ALERT_DELAY_S["default"]["low"]["value"]
    react = base.catalog["tor_m2"].nominal("reaction_time_s")
    assert np.all(res.raw.eng_step[:, 0] - res.raw.firm_step[:, 0] == int(np.ceil(react + d)))
    assert "alert" in res.world.models
    # a fast target: the later the unit may fire, the fewer its chances (same seed: common numbers)
    base.scenario.threats[0].speed_m_s = 120.0
    killed = {}
    for alert in ("high", "medium", "low"):
        r = iadsim.simulate(_tor(base, alert=alert), replications=300, seed=6)
        killed[alert] = r.replications.killed.to_numpy()
    assert killed["high"].sum() >= killed["medium"].sum() >= killed["low"].sum()
    assert killed["high"].sum() > killed["low"].sum()
    # an explicit reaction time wins over the alert state
    a = iadsim.simulate(_tor(base, alert="low", reaction_time_s=5.0), replications=50, seed=6)
    b = iadsim.simulate(_tor(base, alert="high", reaction_time_s=5.0), replications=50, seed=6)
    assert np.array_equal(a.raw.eng_step, b.raw.eng_step)


def test_alert_figures_carry_source_and_confidence():
    for system, rows in ALERT_DELAY_S.items():
        for state, fig in rows.items():
            assert fig["source"] and fig["confidence"] in ("high", "medium", "low", "estimate"), (system, state)
            assert fig["value"] >= 0


# ------------------------------------------------------------------ emission control


def test_duty_cycle_detects_no_more_often_than_always_on(small_dir):
    base = _crossing_scenario(small_dir, SLS)
    n = 200
    always = iadsim.simulate(base, replications=n, seed=7)
    duty = iadsim.simulate(_tor(base, emcon=Emcon(mode="duty", duty_cycle=0.3, period_s=40)), replications=n, seed=7)
    a, d = always.raw.det_step[:, 0], duty.raw.det_step[:, 0]
    assert np.all(d >= a)                    # the same looks, fewer of them: never earlier
    assert (d > a).any()
    assert always.raw.radiating is None      # no defence state: nothing changes, nothing recorded
    assert (duty.raw.radiating[:, 0] > 0).all()
    assert "emcon" in duty.world.models
    # 30 % of each 40 s cycle radiating: at most 12 steps per started cycle
    assert np.all(duty.raw.radiating[:, 0] <= 12 * np.ceil(duty.world.nsteps / 40))


def test_ambush_radiates_only_after_the_threat_crosses_the_range(small_dir):
    ld = _crossing_scenario(small_dir, SLS)
    _tor(ld, emcon=Emcon(mode="ambush", ambush_range_km=8.0))
    res = iadsim.simulate(ld, replications=30, seed=3)
    w = res.world
    d = np.linalg.norm(w.pos[:, 0, :] - w.sensor_xyz[0], axis=-1)
    cross = int(np.argmax(np.nan_to_num(d, nan=1e12) <= 8000.0))
    assert cross > 0
    tl = res.timeline
    on = tl[(tl.event == "radiate") & (tl.unit == "tor")]
    assert len(on) >= 1 and on.time_s.min() == pytest.approx(cross * w.dt)
    assert (res.raw.det_step[:, 0] >= cross).all()
    # radiating steps: from the crossing to the end of the replication's engagement, no more
    assert np.all(res.raw.radiating[:, 0] <= w.nsteps - cross)
    assert w.scenario.effectors[0].emcon.mode == "ambush" and EMCON_AMBUSH == 3


def test_silent_radar_is_never_recorded_as_radiating(small_dir):
    data = small_scenario_dict()
    sysname = data["effectors"][0]["system"]
    # a cued radar whose only cue is a radar that is never available: it never radiates
    data["sensors"] = [{"name": "ew", "system": sysname, "site": {"lat": 10.2, "lon": 20.2}, "readiness": 0.0},
                       {"name": "quiet", "system": sysname, "site": {"lat": 10.21, "lon": 20.2},
                        "emcon": {"mode": "cued", "cued_by": ["ew"]}}]
    (small_dir / "s.yaml").write_text(yaml.safe_dump(data))
    res = iadsim.simulate(iadsim.load_scenario(small_dir / "s.yaml"), replications=20, seed=1)
    w = res.world
    q = w.sensor_labels.index("quiet")
    assert (res.raw.radiating[:, q] == 0).all()
    tl = res.timeline
    assert not ((tl.event == "radiate") & (tl.unit == "quiet")).any()
    summary = res.summary
    row = next(r for r in summary["radiating"] if r["radar"] == "quiet")
    assert row["mean_radiating_s"] == 0.0


def test_cued_radar_radiates_after_the_cue_and_warmup(small_dir):
    data = small_scenario_dict()
    sysname = data["effectors"][0]["system"]
    data["sensors"] = [{"name": "ew", "system": sysname, "site": {"lat": 10.2, "lon": 20.2}},
                       {"name": "cued", "system": sysname, "site": {"lat": 10.21, "lon": 20.2},
                        "emcon": {"mode": "cued", "cued_by": ["ew"], "warmup_s": 10}}]
    (small_dir / "s.yaml").write_text(yaml.safe_dump(data))
    res = iadsim.simulate(iadsim.load_scenario(small_dir / "s.yaml"), replications=20, seed=1)
    tl = res.timeline
    first_det = tl[(tl.event == "detect")].time_s.min()
    on = tl[(tl.event == "radiate") & (tl.unit == "cued")]
    assert len(on) and on.time_s.min() >= first_det + 10 - 1e-9


# ------------------------------------------------------------------ C2 modes


def _two_unit_scenario(small_dir, mode="integrated", authority=0.0):
    """A long-range search radar sees the threat; the Tor's own radar is blinded towards it (a sector
    facing away) but its launcher can engage anywhere: only a picture from the other radar cues it."""
    ld = _neutral_pk(_crossing_scenario(small_dir, SLS))
    data = ld.scenario.model_dump(mode="json", exclude_none=True)
    data["sensors"] = [{"name": "ew", "system": "tor_m2", "site": {"lat": 10.2, "lon": 20.21, "height_m": 400}}]
    data["c2"] = {"mode": mode, "engagement_authority_s": authority}
    (small_dir / "two.yaml").write_text(yaml.safe_dump(data))
    ld2 = _neutral_pk(iadsim.load_scenario(small_dir / "two.yaml"))
    return ld2


def _run_blind(ld, n, seed):
    """Replications of ``ld`` with the Tor's own radar blind (its SNR zero: it sees nothing) and its
    launcher as it is: only another radar's picture can cue it."""
    from iadsim.engine import simulate_chunk
    from iadsim.engine.world import compile_world

    w = compile_world(ld)
    w.snr[:, 0, :] = 0.0
    return simulate_chunk(w, seed, 0, n)


def test_autonomous_unit_blind_to_the_threat_never_engages_while_integrated_does(small_dir):
    n = 100
    ri = _run_blind(_two_unit_scenario(small_dir, "integrated"), n, 3)
    ld = _two_unit_scenario(small_dir, "autonomous")
    ra = _run_blind(ld, n, 3)
    assert ri.shots.sum() > 0 and (ri.kill_step >= 0).sum() > 0
    assert (ra.det_step >= 0).all()          # the other radar sees it: the picture has it
    assert ra.shots.sum() == 0
    w = iadsim.engine.world.compile_world(ld)
    assert "c2_mode" in w.models and "autonomous" in w.models["c2_mode"]


def test_lost_link_makes_a_unit_fire_only_on_its_own_tracks(small_dir):
    ld = _two_unit_scenario(small_dir, "integrated")
    ld.scenario.c2 = C2(links=[Link(unit="tor", down_at_s=0.0)])
    assert _run_blind(ld, 60, 3).shots.sum() == 0
    ld.scenario.c2 = C2(links=[Link(unit="tor", down_at_s=0.0, loss_probability=0.0)])
    assert _run_blind(ld, 60, 3).shots.sum() > 0
    # a lost command post cuts every link
    ld.scenario.c2 = C2(command_post=CommandPost(name="cp", lost_at_s=0.0))
    r = _run_blind(ld, 60, 3)
    assert r.shots.sum() == 0 and (r.det_step < 0).all()


def test_authority_delay_cannot_raise_pkill(small_dir):
    killed = []
    for delay in (0.0, 60.0, 300.0, 900.0):
        ld = _two_unit_scenario(small_dir, "integrated", authority=delay)
        res = iadsim.simulate(ld, replications=300, seed=11)
        killed.append(res.replications.killed.to_numpy())
    for lo, hi in zip(killed[1:], killed):
        assert lo.sum() <= hi.sum()
    assert killed[-1].sum() < killed[0].sum()


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("path,value,field", [
    ("effectors.0.readiness", 1.2, "effectors[0].readiness"),
    ("effectors.0.mttr_h", 0.0, "effectors[0].mttr_h"),
    ("effectors.0.mtbf_h", -3.0, "effectors[0].mtbf_h"),
    ("effectors.0.alert", "sleepy", "effectors[0].alert"),
    ("effectors.0.emcon", {"mode": "duty", "duty_cycle": 0.0}, "effectors[0].emcon.duty_cycle"),
    ("effectors.0.emcon", {"mode": "duty", "duty_cycle": 1.5}, "effectors[0].emcon.duty_cycle"),
    ("effectors.0.emcon", {"mode": "cued", "cued_by": ["nowhere"]}, "effectors[0].emcon.cued_by[0]"),
    ("effectors.0.emcon", {"mode": "ambush"}, "effectors[0].emcon"),
    ("c2", {"links": [{"unit": "ghost"}]}, "c2.links[0].unit"),
    ("c2", {"mode": "hierarchical"}, "c2.mode"),
])
def test_bad_defence_state_exit_2(small_dir, tmp_path, capsys, path, value, field):
    bad = small_dir / "bad.yaml"
    bad.write_text(yaml.safe_dump(edited(small_scenario_dict(), path, value)))
    out = tmp_path / "never"
    rc = main(["run", str(bad), "-n", "4", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "bad.yaml" in err and field in err and "Traceback" not in err, err
    assert not out.exists()


def test_mtbf_without_mttr_is_refused(small_dir, tmp_path, capsys):
    bad = small_dir / "bad.yaml"
    bad.write_text(yaml.safe_dump(edited(small_scenario_dict(), "effectors.0.mtbf_h", 5.0)))
    rc = main(["run", str(bad), "-n", "4", "--out", str(tmp_path / "never")])
    err = capsys.readouterr().err
    assert rc == 2 and "effectors[0]" in err and "mttr_h" in err


def test_a_unit_failing_while_its_missile_flies_loses_it(small_dir):
    # replay the same replications with the Tor failing one step after its first launch (never
    # repaired): the missiles already in flight lose guidance, so nothing is killed by them
    from iadsim.engine import chunk_parameters, simulate_chunk
    from iadsim.engine.defstate import NEVER
    from iadsim.engine.world import compile_world

    ld = _neutral_pk(_crossing_scenario(small_dir, SLS))
    _tor(ld, mtbf_h=1e5, mttr_h=1e5)           # the defence state on, failures practically never
    w = compile_world(iadsim.api.revalidated(ld))
    n = 40
    base = simulate_chunk(w, 3, 0, n)
    assert (base.kill_step[:, 0] >= 0).sum() > 20
    p = chunk_parameters(w, 3, 0, n)
    p.defstate.toggles[:] = NEVER
    p.defstate.toggles[:, 0, 0] = base.eng_step[:, 0] + 1
    cut = simulate_chunk(w, 3, 0, n, params=p)
    assert (cut.kill_step[:, 0] < 0).all()
    assert np.array_equal(cut.eng_step, base.eng_step)    # the first launch is the same
    assert (cut.shots[:, 0] == 1).all()                   # and no further launch by the failed unit


def test_updown_times_alternate_within_the_horizon():
    from hypothesis import given, settings, strategies as st

    @settings(max_examples=60, deadline=None)
    @given(st.floats(0.1, 100.0), st.floats(0.1, 100.0), st.booleans(), st.integers(0, 2**32 - 1))
    def check(mtbf, mttr, up0, seed):
        ts = updown_times(mtbf, mttr, up0, 500.0, np.random.default_rng(seed))
        assert all(0.0 <= a < b <= 500.0 for a, b in zip([0.0] + ts, ts + [500.0]))
        assert all(0 < t < 500.0 for t in ts)
        assert ts == sorted(ts)

    check()


def test_ambush_warmup_delays_the_first_look(small_dir):
    ld = _crossing_scenario(small_dir, SLS)
    r0 = iadsim.simulate(_tor(ld, emcon=Emcon(mode="ambush", ambush_range_km=8.0)), replications=30, seed=3)
    r1 = iadsim.simulate(_tor(ld, emcon=Emcon(mode="ambush", ambush_range_km=8.0, warmup_s=20)),
                         replications=30, seed=3)
    on0 = r0.timeline[(r0.timeline.event == "radiate")].time_s.min()
    on1 = r1.timeline[(r1.timeline.event == "radiate")].time_s.min()
    assert on1 == on0 + 20
    assert np.all(r1.raw.det_step[:, 0] >= r0.raw.det_step[:, 0])


def test_full_fidelity_takes_c2_modes_emcon_and_alert(small_dir, tmp_path, capsys):
    full = edited(small_scenario_dict(), "simulation.fidelity", "full")
    auto = small_dir / "auto.yaml"
    auto.write_text(yaml.safe_dump(edited(full, "c2", {"mode": "autonomous", "links": [{"unit": "sam-1"}],
                                                       "command_post": {"name": "cp", "lost_at_s": 60}})))
    assert main(["validate", str(auto)]) == 0
    ok = small_dir / "ok.yaml"
    ok.write_text(yaml.safe_dump(edited(edited(full, "effectors.0.alert", "low"), "effectors.0.emcon",
                                        {"mode": "duty", "duty_cycle": 0.5})))
    assert main(["validate", str(ok)]) == 0


@pytest.mark.parametrize("emcon", [{"mode": "duty", "duty_cycle": 0.3, "period_s": 40},
                                   {"mode": "ambush", "ambush_range_km": 8.0}])
def test_full_fidelity_silent_radar_detects_no_earlier(small_dir, emcon):
    base = _crossing_scenario(small_dir, SLS)
    base.scenario.simulation.fidelity = "full"
    n = 16
    always = iadsim.simulate(base, replications=n, seed=7)
    quiet = iadsim.simulate(_tor(base, emcon=Emcon(**emcon)), replications=n, seed=7)
    a, q = always.raw.det_step[:, 0], quiet.raw.det_step[:, 0]
    assert np.all(q >= a) and (q > a).any()
    assert always.raw.radiating is None and (quiet.raw.radiating[:, 0] < quiet.world.nsteps).all()
    if emcon["mode"] == "ambush":
        w = quiet.world
        d = np.linalg.norm(w.pos[:, 0, :] - w.sensor_xyz[0], axis=-1)
        cross = int(np.argmax(np.nan_to_num(d, nan=1e12) <= 8000.0))
        assert (q >= cross).all()


def test_full_fidelity_failed_unit_neither_detects_nor_launches(small_dir):
    ld = _crossing_scenario(small_dir, SLS)
    ld.scenario.simulation.fidelity = "full"
    _tor(ld, readiness=0.0, mtbf_h=1.0, mttr_h=1e5)
    res = iadsim.simulate(ld, replications=8, seed=2)
    assert (res.raw.det_step < 0).all() and res.replications.shots.sum() == 0
    assert (res.raw.radiating == 0).all()


def test_autonomous_single_unit_fires_when_integrated_does(small_dir):
    # one fire unit, no other radar: its own picture is the central one, so the first launch comes
    # at the same step in both modes (the own track is firm after the same latency)
    base = _crossing_scenario(small_dir, SLS)
    integ = iadsim.simulate(base, replications=60, seed=12)
    base.scenario.c2 = C2(mode="autonomous")
    auto = iadsim.simulate(base, replications=60, seed=12)
    assert (integ.raw.eng_step[:, 0] >= 0).all()
    assert np.array_equal(auto.raw.eng_step, integ.raw.eng_step)
    assert np.array_equal(auto.raw.det_step, integ.raw.det_step)


def test_full_fidelity_honours_the_alert_state(small_dir):
    base = _crossing_scenario(small_dir, SLS)
    base.scenario.simulation.fidelity = "full"
    high = iadsim.simulate(_tor(base, alert="high"), replications=12, seed=4)
    low = iadsim.simulate(_tor(base, alert="low"), replications=12, seed=4)
    h, lo = high.raw.eng_step[:, 0], low.raw.eng_step[:, 0]
    assert (h >= 0).all() and (lo >= 0).all()
    assert np.all(lo - high.raw.firm_step[:, 0] >= 300)     # 300 s added (ALERT_DELAY_S, low)
    assert np.all(lo > h)


@pytest.mark.parametrize("policy", ["greedy", "exact"])
def test_defence_state_runs_with_every_assignment_policy(small_dir, policy):
    # the compiled (greedy) and the Python-callback (exact: serial kernel) paths take the same state
    ld = _crossing_scenario(small_dir, SLS)
    _tor(ld, emcon=Emcon(mode="ambush", ambush_range_km=8.0), mtbf_h=1e5, mttr_h=1e5)
    ref = iadsim.simulate(ld, replications=20, seed=3)
    res = iadsim.simulate(ld, replications=20, seed=3, policy=policy)
    assert res.raw.radiating is not None and np.array_equal(res.raw.radiating, ref.raw.radiating)
    assert np.array_equal(res.raw.det_step, ref.raw.det_step)   # one unit, one threat: the same choices
    assert np.array_equal(res.raw.kill_step, ref.raw.kill_step)


def test_duty_cycle_radiates_its_share_of_the_run(small_dir):
    # a whole number of cycles in the run: exactly duty_cycle x run radiating, whatever the phase
    ld = _crossing_scenario(small_dir, dict(SLS, fire="hold"))   # never fires: the run lasts its duration
    ld.scenario.threats[0].speed_m_s = 10.0
    ld.scenario.simulation.duration_s = 1200
    _tor(ld, emcon=Emcon(mode="duty", duty_cycle=0.25, period_s=40))
    res = iadsim.simulate(ld, replications=30, seed=4)
    assert res.world.nsteps == 1200
    assert (res.raw.radiating[:, 0] == 300).all()
    # the random phase differs between replications: so do the first detections
    assert len(set(res.raw.det_step[:, 0].tolist())) > 1


def test_cued_by_default_is_every_other_radar(small_dir):
    data = small_scenario_dict()
    sysname = data["effectors"][0]["system"]
    data["sensors"] = [{"name": "ew", "system": sysname, "site": {"lat": 10.2, "lon": 20.2}},
                       {"name": "cued", "system": sysname, "site": {"lat": 10.21, "lon": 20.2},
                        "emcon": {"mode": "cued"}}]
    (small_dir / "s.yaml").write_text(yaml.safe_dump(data))
    res = iadsim.simulate(iadsim.load_scenario(small_dir / "s.yaml"), replications=10, seed=1)
    q = res.world.sensor_labels.index("cued")
    assert (res.raw.radiating[:, q] > 0).all()
    tl = res.timeline
    assert tl[(tl.event == "radiate") & (tl.unit == "cued")].time_s.min() > 0
