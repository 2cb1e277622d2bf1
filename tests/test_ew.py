"""Jamming and decoys in the engine: bad input, direction of effects, burn-through, accounting.

Physics of J/S and burn-through: tests/test_physics_jamming.py (closed forms, Adamy 2001 ch. 9).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from conftest import edited, small_scenario_dict
from iadsim.cli import main
from iadsim.errors import InputError


def _load(tmp_path, synthetic_dem, data, name="scenario.yaml"):
    import iadsim

    d = tmp_path
    if not (d / "dem.tif").exists():
        (d / "dem.tif").write_bytes(synthetic_dem.read_bytes())
    (d / name).write_text(yaml.safe_dump(data), encoding="utf-8")
    return iadsim.load_scenario(d / name)


def jammed_dict(mode="self-screen", targets="all") -> dict:
    """The small scenario with the MQ-9 carrying a noise jammer."""
    d = small_scenario_dict()
    d["threats"][1]["jammer"] = {"system": "generic_escort_jammer", "mode": mode, "targets": targets}
    return d


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("path, value, field, words", [
    ("threats.1.jammer", {"system": "generic_escort_jammer", "targets": ["sam-1", "sam-9"]},
     "threats[1].jammer.targets[1]", "unknown radar"),
    ("threats.1.jammer", {"system": "shahed_136"}, "threats[1].jammer.system", "expected a jammer"),
    ("threats.1.jammer", {"system": "generic_escort_jammer", "mode": "deceive"}, "threats[1].jammer.mode", ""),
    ("threats.0.decoy", {"rcs_m2": 0}, "threats[0].decoy.rcs_m2", "radar signature"),
    ("threats.0.decoy", {"rcs_m2": -2.0}, "threats[0].decoy.rcs_m2", "radar signature"),
    ("threats.0.decoy", {"identify_p": 1.5}, "threats[0].decoy.identify_p", ""),
])
def test_bad_ew_input_exit_2_names_field_and_writes_nothing(small_dir, tmp_path, capsys, path, value, field,
                                                            words):
    bad = small_dir / "bad.yaml"
    bad.write_text(yaml.safe_dump(edited(small_scenario_dict(), path, value)))
    out = tmp_path / "never"
    rc = main(["run", str(bad), "-n", "4", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert field in err and words in err
    assert "Traceback" not in err
    assert not out.exists()


def test_a_radar_without_jamming_figures_cannot_be_a_jammers_target(tmp_path, synthetic_dem):
    d = jammed_dict(targets=["sam-1"])
    d["effectors"][0]["system"] = "iris_t_slm"   # no jamming figures in the catalog
    with pytest.raises(InputError) as exc:
        _load(tmp_path, synthetic_dem, d)
    assert "threats[1].jammer.targets[0]" in str(exc.value) and "no jamming figures" in str(exc.value)


def test_a_decoy_without_signature_in_its_catalog_is_refused(tmp_path, synthetic_dem):
    import iadsim
    from iadsim.catalog import load_catalog

    cat_dir = tmp_path / "cat"
    cat_dir.mkdir()
    src = yaml.safe_load(open(iadsim.catalog.builtin_dir() / "adm_160_mald.yaml"))
    src["figures"]["rcs_m2"]["value"] = src["figures"]["rcs_m2"]["low"] = 0.0
    (cat_dir / "adm_160_mald.yaml").write_text(yaml.safe_dump(src))
    with pytest.raises(InputError) as exc:   # the catalog itself refuses an RCS of 0
        load_catalog(cat_dir)
    assert "rcs_m2" in str(exc.value)


# ---------------------------------------------------------------- jamming


def _run(ld, n=48, seed=5):
    import iadsim

    return iadsim.simulate(ld, replications=n, seed=seed)


def test_jamming_cannot_raise_snr_or_bring_detection_earlier(tmp_path, synthetic_dem):
    """Property: with the same seed (common random numbers), a jammer only lowers the per-step SINR,
    so every threat is first detected no earlier than without it (or never)."""
    from iadsim.engine import compile_world
    from iadsim.engine.ew import jammed_snr

    clear = _load(tmp_path, synthetic_dem, small_scenario_dict(), "clear.yaml")
    jam = _load(tmp_path, synthetic_dem, jammed_dict(), "jam.yaml")
    wj = compile_world(jam)
    wc = compile_world(clear)
    assert wj.ew.has_jamming and (wj.ew.jam_js > 0).any()
    sj = jammed_snr(wj.snr, wj.ew.jam_js)
    assert np.all(sj <= wc.snr.astype(np.float64) * (1 + 1e-12))
    assert (sj < wc.snr * 0.5).any()                       # and it does lower it somewhere
    rc, rj = _run(clear), _run(jam)
    dc = rc.raw.det_step.astype(float)
    dj = rj.raw.det_step.astype(float)
    dc[dc < 0] = np.inf
    dj[dj < 0] = np.inf
    assert np.all(dj >= dc)
    assert rj.threat_table()["p_detected"].sum() <= rc.threat_table()["p_detected"].sum()
    assert np.any(dj > dc)                                   # the jammer delays some detections
    # without jammers nothing changes: the kernel gets empty jamming arrays
    assert not wc.ew.has_jamming and "jamming" not in rc.summary and "jamming" in rj.summary
    assert "jamming" in rj.summary["models"] and "Leaves out" in rj.summary["models"]["jamming"]


def test_self_screen_js_in_the_world_is_the_closed_form_and_detection_waits_for_burn_through(
        tmp_path, synthetic_dem):
    """A single self-screening MQ-9 flying at a Tor-M2: the world's J/S at each step is the
    closed form of iadsim.physics.jamming (main lobe, Rj = Rt), the nominal SINR stays below 1 beyond
    the burn-through range (S/J = 1) and the radar detects the drone (almost) only inside it."""
    from iadsim.catalog import load_catalog
    from iadsim.engine import compile_world
    from iadsim.engine.ew import jammed_snr, jammer_figures, radar_jamming_figures, _Silent
    from iadsim.physics.jamming import bandwidth_factor, burn_through_range_self_screen_m, jamming_to_signal

    d = small_scenario_dict()
    d["terrain"]["clutter"] = "none"
    d["effectors"] = d["effectors"][:1]
    d["threats"] = [{"name": "drone", "type": "mq_9_reaper", "altitude_m": 5000,
                     "route": [{"lat": 10.38, "lon": 20.38}, {"lat": 10.215, "lon": 20.195}],
                     "jammer": {"system": "generic_escort_jammer", "mode": "self-screen", "targets": ["sam-1"]}}]
    ld = _load(tmp_path, synthetic_dem, d, "one.yaml")
    w = compile_world(ld)
    cat = load_catalog()
    rf = radar_jamming_figures(cat["tor_m2"], _Silent())
    jf = jammer_figures(cat["generic_escort_jammer"], _Silent())
    sigma = cat["mq_9_reaper"].nominal("rcs_m2")
    b = bandwidth_factor(rf["bandwidth_hz"], jf["bandwidth_hz"])
    rng = np.linalg.norm(w.pos[:, 0, :] - w.sensor_xyz[0], axis=-1)
    seen = w.ew.jam_js[:, 0, 0, 0] > 0
    assert seen.sum() > 100
    want = jamming_to_signal(jf["erp_w"], rf["erp_w"], sigma, rng[seen], rng[seen], 1.0, b, jf["polarisation"],
                             rf["eccm"])
    np.testing.assert_allclose(w.ew.jam_js[seen, 0, 0, 0], want, rtol=1e-5)
    r_bt = burn_through_range_self_screen_m(rf["erp_w"], jf["erp_w"], sigma, b, jf["polarisation"], rf["eccm"])
    sj = jammed_snr(w.snr, w.ew.jam_js)[:, 0, 0]
    outside = seen & (rng > r_bt)
    assert outside.any() and np.all(sj[outside] < 1.0)
    res = _run(ld, n=64)
    det = res.raw.det_step[:, 0]
    clear = _run(_load(tmp_path, synthetic_dem, edited(d, "threats.0.jammer", ...), "one-clear.yaml"), n=64)
    det_c = clear.raw.det_step[:, 0]
    assert (det_c >= 0).all()
    r_det_c = rng[det_c]
    assert np.median(r_det_c) > 2 * r_bt                      # unjammed, it is seen far beyond R_bt
    r_det = np.where(det >= 0, rng[np.maximum(det, 0)], 0.0)
    # jammed, (almost) only inside R_bt: outside it Pd <= Pfa^(1/2) per look
    assert np.mean(r_det > r_bt) <= 0.1


# ---------------------------------------------------------------- decoys


def decoy_dict(n_decoys: int, identify_p: float = 0.0) -> dict:
    d = small_scenario_dict()
    d["effectors"][0]["missiles"] = 6
    d["effectors"][1]["missiles"] = 6
    if n_decoys:
        d["threats"].append({"name": "decoys", "type": "adm_160_mald", "count": n_decoys, "spacing_s": 10,
                             "altitude_m": 300, "altitude_ref": "agl", "speed_m_s": 60.0,
                             "route": [{"lat": 10.36, "lon": 20.06}, {"lat": 10.30, "lon": 20.13}],
                             "target": "base", "decoy": {"identify_p": identify_p}})
    return d


def test_more_decoys_cannot_lower_missiles_expended(tmp_path, synthetic_dem):
    """Property on a fixed seed (common random numbers: decoys are appended, the threats keep
    their random streams): mean missiles expended never falls as decoys are added, and rises."""
    spent = []
    for k in (0, 2, 4, 8):
        res = _run(_load(tmp_path, synthetic_dem, decoy_dict(k), f"decoys{k}.yaml"), n=48, seed=11)
        spent.append(res.expenditure["missiles"].sum() / res.n)
    assert all(b >= a for a, b in zip(spent, spent[1:])), spent
    assert spent[-1] > spent[0]


def test_decoys_are_counted_apart_and_never_as_kills(tmp_path, synthetic_dem):
    res = _run(_load(tmp_path, synthetic_dem, decoy_dict(4), "d4.yaml"), n=48, seed=11)
    df = res.replications
    assert df["decoy"].sum() == 4 * 48
    s = res.summary
    dec = s["decoys"]
    assert dec["decoys_per_replication"] == 4
    on_decoys = df.loc[df["decoy"], "shots"].sum() / 48
    assert dec["mean_missiles_on_decoys"] == pytest.approx(on_decoys)
    assert dec["mean_missiles_on_decoys"] + dec["mean_missiles_on_threats"] == pytest.approx(
        res.expenditure["missiles"].sum() / 48)
    assert 0 < dec["p_decoy_engaged"] <= 1
    # missiles per kill: decoys shot down are not kills
    real_kills = df.loc[~df["decoy"], "killed"].sum()
    assert res.missiles_per_kill() == pytest.approx(res.expenditure["missiles"].sum() / real_kills)
    # decoys are no attackers of the asset and not in the mission table
    assert s["assets"][0]["attackers"] == 3
    assert "decoys" not in {m["threat"] for m in s["missions"]}
    assert "decoys" in s["models"]
    tt = res.threat_table()
    assert tt.loc[tt["threat"].str.startswith("decoys"), "decoy"].all()


def test_identified_decoys_are_not_engaged_further(tmp_path, synthetic_dem):
    never = _run(_load(tmp_path, synthetic_dem, decoy_dict(4, 0.0), "n.yaml"), n=48, seed=11)
    always = _run(_load(tmp_path, synthetic_dem, decoy_dict(4, 1.0), "a.yaml"), n=48, seed=11)
    dn, da = never.summary["decoys"], always.summary["decoys"]
    assert dn["p_decoy_identified"] == 0.0
    assert da["p_decoy_identified"] == 1.0
    # identified on its first detected look, before any track is firm: never engaged
    assert da["p_decoy_engaged"] == 0.0 and dn["p_decoy_engaged"] > 0.0
    assert da["mean_missiles_on_decoys"] == 0.0


def test_full_fidelity_runs_with_jamming_and_decoys(tmp_path, synthetic_dem):
    d = decoy_dict(2, 0.1)
    d["threats"][1]["jammer"] = {"system": "generic_escort_jammer"}
    d["simulation"]["fidelity"] = "full"
    res = _run(_load(tmp_path, synthetic_dem, d, "full.yaml"), n=8, seed=3)
    assert "decoys" in res.summary and "jamming" in res.summary
    assert res.raw.ident_step is not None and res.raw.ident_step.shape == (8, res.world.n_threats)


# ---------------------------------------------------------------- a jammer stops at its kill


def test_jamming_js_counts_only_live_jammers():
    from iadsim.engine.kernel import jamming_js

    js = np.zeros((2, 1, 3, 2), np.float32)
    js[1, 0, 2, :] = (4.0, 0.5)
    owner = np.array([0, 1], np.int64)
    assert jamming_js(1, 0, 2, js, owner, np.array([True, True, True])) == pytest.approx(4.5)
    assert jamming_js(1, 0, 2, js, owner, np.array([False, True, True])) == pytest.approx(0.5)
    assert jamming_js(1, 0, 2, js, owner, np.array([False, False, True])) == 0.0


def test_a_jammer_shot_down_stops_jamming(tmp_path, synthetic_dem):
    """Common random numbers: after the jammer's aircraft is killed at step k, a threat that neither
    run has detected yet is first detected at the same step with and without the jammer (the same
    draws, the same SINR)."""
    base = small_scenario_dict()
    base["simulation"]["duration_s"] = 1500
    base["threats"][0]["launch_time_s"] = 400        # the drones come after the jammer
    base["threats"][1]["launch_time_s"] = 0
    base["threats"][1]["orbit"] = {"lat": 10.25, "lon": 20.25, "radius_km": 3.0, "laps": 20}   # it stays
    jam = copy.deepcopy(base)
    # it jams the Tor-M2 only: the Pantsir-S1 sees it unjammed and can shoot it down
    jam["threats"][1]["jammer"] = {"system": "generic_escort_jammer", "mode": "self-screen", "targets": ["sam-1"]}
    rc = _run(_load(tmp_path, synthetic_dem, base, "kc.yaml"), n=64, seed=9)
    rj = _run(_load(tmp_path, synthetic_dem, jam, "kj.yaml"), n=64, seed=9)
    carrier = rj.world.threat_labels.index("drone")
    kill = rj.raw.kill_step[:, carrier]
    dc = rc.raw.det_step.astype(float)
    dj = rj.raw.det_step.astype(float)
    dc[dc < 0] = np.inf
    dj[dj < 0] = np.inf
    compared = mattered = 0
    for r in np.flatnonzero(kill >= 0):
        for m in range(rj.world.n_threats):
            if m == carrier:
                continue
            if dc[r, m] >= kill[r] and dj[r, m] >= kill[r]:
                assert dj[r, m] == dc[r, m], (r, m, kill[r], dc[r, m], dj[r, m])
                compared += 1
                # the jammer's path would still have jammed this look had it flown on
                after = slice(int(kill[r]), None)
                mattered += bool(np.any((rj.world.ew.jam_js[after, 0, m, 0] > 0.01)
                                        & (rj.world.snr[after, 0, m] > 0)))
    assert compared >= 10, compared
    assert mattered >= 10, mattered
    assert (kill >= 0).sum() >= 10


def test_stand_off_jammer_is_received_through_the_sidelobes(tmp_path, synthetic_dem):
    """A jammer orbiting far from the line to the target is received at the sidelobe level: the
    world's J/S is the closed form with Gr'/Gr = 10^(sidelobe/10)."""
    from iadsim.catalog import load_catalog
    from iadsim.engine import compile_world
    from iadsim.engine.ew import _Silent, jammer_figures, radar_jamming_figures
    from iadsim.physics.jamming import bandwidth_factor, jamming_to_signal

    d = small_scenario_dict()
    d["effectors"] = d["effectors"][:1]
    d["threats"] = [
        {"name": "drone", "type": "mq_9_reaper", "altitude_m": 4000,
         "route": [{"lat": 10.05, "lon": 20.19}, {"lat": 10.20, "lon": 20.19}]},          # from the south
        {"name": "soj", "type": "f_16_fighting_falcon", "altitude_m": 8000, "speed_m_s": 150.0,
         "route": [{"lat": 10.36, "lon": 20.19}, {"lat": 10.37, "lon": 20.19}],           # to the north
         "orbit": {"lat": 10.37, "lon": 20.21, "radius_km": 1.0, "laps": 20},
         "jammer": {"system": "generic_standoff_jammer", "mode": "stand-off", "targets": "all"}}]
    w = compile_world(_load(tmp_path, synthetic_dem, d, "soj.yaml"))
    cat = load_catalog()
    rf = radar_jamming_figures(cat["tor_m2"], _Silent())
    jf = jammer_figures(cat["generic_standoff_jammer"], _Silent())
    js = w.ew.jam_js[:, 0, 0, 0]
    both = (js > 0) & np.isfinite(w.pos[:, 0, 0])
    assert both.sum() > 50
    c = w.sensor_xyz[0]
    rt = np.linalg.norm(w.pos[both, 0] - c, axis=-1)
    rj = np.linalg.norm(w.pos[both, 1] - c, axis=-1)
    want = jamming_to_signal(jf["erp_w"], rf["erp_w"], cat["mq_9_reaper"].nominal("rcs_m2"), rt, rj,
                             10 ** (rf["sidelobe_db"] / 10), bandwidth_factor(rf["bandwidth_hz"], jf["bandwidth_hz"]),
                             jf["polarisation"], rf["eccm"])
    np.testing.assert_allclose(js[both], want, rtol=1e-4)
