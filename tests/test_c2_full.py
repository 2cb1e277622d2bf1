"""C2 modes in both fidelities: autonomous units and lost links in full fidelity (a picture of the unit's
own radar), autonomous units deciding alone in both, and jamming figures sampled per replication."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import iadsim
from iadsim.engine.world import compile_world
from iadsim.scenario.models import C2, CommandPost, Link
from test_defstate import SLS, _run_blind, _two_unit_scenario
from test_engine import _crossing_scenario, _neutral_pk


def _full(ld):
    """Full fidelity, launching on the picture's track alone (no fire-control looks of the unit's own
    radar: with them a blind unit could never fire, whatever the C2 mode)."""
    ld.scenario.simulation.fidelity = "full"
    ld.scenario.simulation.fire_control_looks = 0
    return ld


# ------------------------------------------------------------------ full fidelity: pictures


def test_full_autonomous_unit_blind_to_the_threat_never_engages_while_integrated_does(small_dir):
    # the Tor's own radar sees nothing; a stand-alone radar sees the threat. Integrated: the central
    # picture (fed by the other radar) cues the Tor. Autonomous: the Tor fuses its own radar only.
    n = 30
    ri = _run_blind(_full(_two_unit_scenario(small_dir, "integrated")), n, 3)
    ld = _full(_two_unit_scenario(small_dir, "autonomous"))
    ra = _run_blind(ld, n, 3)
    assert ri.shots.sum() > 0 and (ri.kill_step >= 0).sum() > 0
    assert (ra.det_step >= 0).all()          # the other radar sees it: the central picture has it
    assert ra.shots.sum() == 0 and (ra.kill_step < 0).all()
    w = compile_world(ld)
    assert "autonomous" in w.models["c2_mode"] and "picture of its own" in w.models["c2_mode"]


def test_full_autonomous_unit_with_its_own_radar_still_engages(small_dir):
    # not blind: its own radar's picture is enough to engage (the mode removes cueing, not the unit)
    ld = _full(_two_unit_scenario(small_dir, "autonomous"))
    res = iadsim.simulate(ld, replications=12, seed=5)
    assert res.replications.shots.sum() > 0


def test_full_lost_link_falls_back_to_the_own_radar_from_that_step(small_dir):
    n = 30
    ld = _full(_two_unit_scenario(small_dir, "integrated"))
    ref = _run_blind(ld, n, 3)
    first = ref.eng_step[:, 0]
    assert (first >= 0).all()
    # cut before the first launch: the blind unit never fires
    ld.scenario.c2 = C2(links=[Link(unit="tor", down_at_s=0.0)])
    assert _run_blind(ld, n, 3).shots.sum() == 0
    # cut just after the last first launch: everything before is as connected, nothing fires after
    t_cut = float(first.max() + 1) * ld.scenario.simulation.dt_s
    ld.scenario.c2 = C2(links=[Link(unit="tor", down_at_s=t_cut)])
    cut = _run_blind(ld, n, 3)
    assert np.array_equal(cut.eng_step, ref.eng_step)
    assert (cut.shots <= 1).all() and (ref.shots > 1).any()
    # a lost command post cuts every link: the stand-alone radar feeds no picture
    ld.scenario.c2 = C2(command_post=CommandPost(name="cp", lost_at_s=0.0))
    r = _run_blind(ld, n, 3)
    assert r.shots.sum() == 0 and (r.det_step < 0).all()


def test_full_authority_delay_holds_fire_by_the_delay(small_dir):
    # the delay runs from the confirmation in the unit's picture to permission to fire. (In full
    # fidelity a short delay can RAISE P(kill): the track settles and the shot is closer; only a
    # delay that outlasts the threat's passage is sure to cost kills.)
    out = {}
    for delay in (0.0, 30.0, 1200.0):
        ld = _full(_two_unit_scenario(small_dir, "integrated", authority=delay))
        out[delay] = iadsim.simulate(ld, replications=24, seed=11).raw
    dt = ld.scenario.simulation.dt_s
    for delay, raw in out.items():
        e, f = raw.eng_step[:, 0], raw.firm_step[:, 0]
        assert np.all((e[e >= 0] - f[e >= 0]) * dt >= delay), delay
    assert (out[30.0].eng_step[:, 0] >= 0).any()
    assert (out[1200.0].kill_step < 0).all() and (out[0.0].kill_step >= 0).sum() > 0


@pytest.mark.parametrize("fidelity", ["fast", "full"])
def test_fast_and_full_agree_that_autonomy_and_lost_links_cannot_help_a_blind_unit(small_dir, fidelity):
    n = 24
    kills = {}
    for name, c2 in (("integrated", C2()), ("autonomous", C2(mode="autonomous")),
                     ("link lost", C2(links=[Link(unit="tor", down_at_s=0.0, loss_probability=0.5)]))):
        ld = _two_unit_scenario(small_dir)
        if fidelity == "full":
            _full(ld)
        ld.scenario.c2 = c2
        kills[name] = int((_run_blind(ld, n, 4).kill_step >= 0).sum())
    assert kills["integrated"] > kills["link lost"] > kills["autonomous"] == 0, kills


def test_scenarios_without_c2_fields_run_full_fidelity_as_before(small_dir):
    # an empty c2 block is no C2 feature: the same numbers as no block at all
    ld = _full(_two_unit_scenario(small_dir))
    ld.scenario.c2 = None
    a = iadsim.simulate(ld, replications=6, seed=9).raw
    ld.scenario.c2 = C2()
    b = iadsim.simulate(ld, replications=6, seed=9).raw
    for k in ("det_step", "firm_step", "eng_step", "shots", "kill_step"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k


# ------------------------------------------------------------------ both fidelities: deciding alone


def _pair(small_dir, mode):
    """Two Tor fire units side by side under one threat, one engagement each (no look-shoot-look
    between them unless the network deconflicts)."""
    ld = _neutral_pk(_crossing_scenario(small_dir, {"mode": "shoot-look-shoot", "max_engagements": 1,
                                                    "kill_assessment_s": 3}))
    data = ld.scenario.model_dump(mode="json", exclude_none=True)
    twin = dict(data["effectors"][0], name="tor-2")
    twin["site"] = dict(twin["site"], lon=20.205)
    data["effectors"].append(twin)
    data["c2"] = {"mode": mode}
    (small_dir / "pair.yaml").write_text(yaml.safe_dump(data))
    return _neutral_pk(iadsim.load_scenario(small_dir / "pair.yaml"))


@pytest.mark.parametrize("fidelity", ["fast", "full"])
def test_two_autonomous_units_both_engage_one_threat_where_integrated_deconflicts(small_dir, fidelity):
    n = 40 if fidelity == "fast" else 16
    out = {}
    for mode in ("integrated", "autonomous"):
        ld = _pair(small_dir, mode)
        ld.scenario.simulation.fidelity = fidelity
        res = iadsim.simulate(ld, replications=n, seed=21)
        both = (res.raw.expended > 0).all(axis=1)
        # both fired before the first intercept: two launches within one flight time
        out[mode] = (both, res.raw.shots[:, 0], res.raw.kill_step[:, 0])
    both_i, _, _ = out["integrated"]
    both_a, shots_a, _ = out["autonomous"]
    # integrated: the second unit fires only after the first one's miss is assessed
    assert not both_i.all()
    # autonomous: each unit decides alone, so both fire at the one threat in every replication
    assert both_a.all() and (shots_a >= 2).all()


def test_full_autonomous_single_unit_is_its_own_central_picture(small_dir):
    # one fire unit and no other radar: its own picture holds exactly the tracks the central one did,
    # so autonomous mode gives the same numbers as integrated
    ld = _crossing_scenario(small_dir, SLS)
    ld.scenario.simulation.fidelity = "full"
    a = iadsim.simulate(ld, replications=16, seed=12).raw
    ld.scenario.c2 = C2(mode="autonomous")
    b = iadsim.simulate(ld, replications=16, seed=12).raw
    assert (a.eng_step[:, 0] >= 0).all()
    for k in ("det_step", "firm_step", "eng_step", "shots", "kill_step"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k
    assert np.array_equal(a.track_stats, b.track_stats, equal_nan=True)
