"""Full fidelity: noisy measurements, the central tracker in the compiled loop, C2 on track estimates."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

import iadsim
from iadsim.engine import compile_world, simulate_chunk

from test_engine import _crossing_scenario, _neutral_pk


def _full(small_dir, name="scenario.yaml", **sim):
    data = yaml.safe_load((small_dir / name).read_text())
    data["simulation"].update({"fidelity": "full", **sim})
    out = small_dir / f"full_{name}"
    out.write_text(yaml.safe_dump(data))
    return iadsim.load_scenario(out)


def _crossing_full(small_dir, doctrine, noise=None, **sim):
    """The crossing scenario of test_engine at full fidelity; ``noise`` (range m, azimuth deg,
    elevation deg) replaces the Tor-M2's measurement noise (in a private copy of the catalog)."""
    ld = _crossing_scenario(small_dir, doctrine)
    ld.scenario.simulation.fidelity = "full"
    for k, v in sim.items():
        setattr(ld.scenario.simulation, k, v)
    if noise is not None:
        ld.catalog = copy.deepcopy(ld.catalog)
        figs = ld.catalog["tor_m2"].figures
        for key, v in zip(("radar_range_sigma_m", "radar_azimuth_sigma_deg", "radar_elevation_sigma_deg"), noise):
            figs[key] = figs[key].model_copy(update={"value": v, "low": v, "high": v})
    return ld


def test_full_fidelity_runs_and_is_deterministic_across_chunking_and_workers(small_dir):
    ld = _full(small_dir)
    a = iadsim.simulate(ld, replications=48, seed=11, chunk_size=48)
    b = iadsim.simulate(ld, replications=48, seed=11, chunk_size=7)
    c = iadsim.simulate(ld, replications=48, seed=11, chunk_size=12, workers=2)
    pd.testing.assert_frame_equal(a.replications, b.replications)
    pd.testing.assert_frame_equal(a.replications, c.replications)
    pd.testing.assert_frame_equal(a.expenditure, c.expenditure)
    pd.testing.assert_frame_equal(a.timeline, c.timeline)
    df = a.replications
    assert df.shots.sum() > 0 and df.killed.any()
    assert a.summary["fidelity"] == "full"
    # the tracker's figures are in the provenance, with the measurement model
    keys = {(u.system, u.key) for u in a.world.figures}
    assert ("tor_m2", "radar_azimuth_sigma_deg") in keys and ("pantsir_s1", "radar_range_sigma_m") in keys
    assert "Bar-Shalom" in a.world.models["tracking"]


def test_full_fidelity_invariants_and_track_statistics(small_dir):
    ld = _full(small_dir)
    world = compile_world(ld)
    r = simulate_chunk(world, 3, 0, 32, record_rep=0)
    killed = r.kill_step >= 0
    assert np.all(r.expended <= (world.ready + world.reloads)[None, :])
    assert not np.any(killed & (r.leak_step >= 0))
    assert np.all(r.shots[killed] > 0)
    assert np.all(r.kill_step[killed] > r.eng_step[killed])
    # an engagement needs a confirmed track, which needs detections
    engaged = r.eng_step >= 0
    assert np.all(r.firm_step[engaged] >= 0) and np.all(r.eng_step[engaged] >= r.firm_step[engaged])
    assert np.all(r.firm_step[r.firm_step >= 0] >= r.det_step[r.firm_step >= 0])
    created, confirmed, err, false_confirmed, false_shots, lost = r.track_stats.T
    assert np.all(created >= confirmed) and np.all(confirmed >= 1)
    # without false alarms every track follows a threat
    assert np.all(false_confirmed == 0) and np.all(false_shots == 0) and np.all(lost == 0)
    assert np.all((err > 0) & (err < 500))
    # chunks give the same replications
    part = simulate_chunk(world, 3, 20, 12)
    np.testing.assert_array_equal(part.kill_step, r.kill_step[20:])
    np.testing.assert_array_equal(part.track_stats, r.track_stats[20:])
    assert r.events is not None and len(r.events) > 0


def test_sampled_uncertainty_runs_at_full_fidelity(small_dir):
    ld = _full(small_dir, uncertainty="sample")
    a = iadsim.simulate(ld, replications=24, seed=3, chunk_size=24)
    b = iadsim.simulate(ld, replications=24, seed=3, chunk_size=5)
    pd.testing.assert_frame_equal(a.replications, b.replications)


def test_small_noise_and_large_basket_match_fast_fidelity_and_analytic(small_dir):
    # With (almost) perfect measurements and a generous seeker basket the tracker's estimate is the
    # truth, so shoot-look-shoot with 2 engagements kills with 1-(1-p)^2 as in the fast fidelity.
    doctrine = {"mode": "shoot-look-shoot", "max_engagements": 2, "kill_assessment_s": 3}
    # (the Pk model made neutral: the catalog's reference Pk everywhere in the envelope; the range
    # cap lifted so the flyout's energy limit bounds the range: the truth is checked against the
    # cap at intercept, and a track estimate a few metres off would make the first shot straddle it)
    fast = iadsim.simulate(_neutral_pk(_crossing_scenario(small_dir, doctrine), range_cap_km=40.0),
                           replications=3000, seed=3).replications
    ld = _neutral_pk(_crossing_full(small_dir, doctrine, noise=(0.5, 0.001, 0.001), seeker_basket_m=5000.0),
                     range_cap_km=40.0)
    full = iadsim.simulate(ld, replications=3000, seed=3).replications
    p = ld.catalog["tor_m2"].nominal("pk_single_shot")
    pk_exp = 1 - (1 - p) ** 2
    n = len(full)
    tol = 4 * np.sqrt(pk_exp * (1 - pk_exp) / n)
    assert (full.shots > 0).all()
    assert full.killed.mean() == pytest.approx(pk_exp, abs=tol)
    assert full.killed.mean() == pytest.approx(fast.killed.mean(), abs=tol * np.sqrt(2))
    assert full.shots.mean() == pytest.approx(fast.shots.mean(), abs=4 * np.sqrt(p * (1 - p) * 2 / n))


def test_large_angle_noise_and_small_basket_lower_the_kill_probability(small_dir):
    doctrine = {"mode": "shoot-look-shoot", "max_engagements": 2, "kill_assessment_s": 3}
    good = _crossing_full(small_dir, doctrine, noise=(0.5, 0.001, 0.001), seeker_basket_m=5000.0)
    bad = _crossing_full(small_dir, doctrine, noise=(300.0, 3.0, 3.0), seeker_basket_m=30.0)
    k_good = iadsim.simulate(good, replications=400, seed=5).replications.killed.mean()
    k_bad = iadsim.simulate(bad, replications=400, seed=5).replications.killed.mean()
    assert k_bad < 0.5 * k_good


def test_converted_measurement_covariance_matches_monte_carlo():
    # The linearised converted-measurement covariance (Bar-Shalom, Li & Kirubarajan 2001, 10.4)
    # equals the covariance of the converted noisy measurements when the noise is small
    # against the range (cross-range errors r*sigma_angle much smaller than r).
    from iadsim.engine.full import converted_measurement

    rng = np.random.default_rng(1)
    r0, az0, el0 = 15_000.0, np.radians(35.0), np.radians(8.0)
    sr, sa, se = 30.0, np.radians(0.3), np.radians(0.4)
    z = np.zeros(3)
    R = np.zeros((3, 3))
    converted_measurement(r0, az0, el0, sr, sa, se, z, R)
    n = 40_000
    pts = np.empty((n, 3))
    Rd = np.zeros((3, 3))
    for i, (dr, da, de) in enumerate(rng.standard_normal((n, 3))):
        converted_measurement(r0 + sr * dr, az0 + sa * da, el0 + se * de, sr, sa, se, pts[i], Rd)
    emp = np.cov(pts.T)
    # relative agreement of the covariance, measured in its own metric
    L = np.linalg.cholesky(R)
    W = np.linalg.solve(L, np.linalg.solve(L, emp).T)
    np.testing.assert_allclose(W, np.eye(3), atol=0.05)
    # the mean is the true point within Monte Carlo error
    assert np.all(np.abs(pts.mean(0) - z) <= 4 * np.sqrt(np.diag(R) / n))


def test_track_errors_scale_with_measurement_noise(small_dir):
    # Tracks smooth the measurements: the mean position error of confirmed tracks is below the
    # raw measurement error, and grows with the measurement noise.
    doctrine = {"fire": "hold"}
    errs = []
    for scale in (1.0, 4.0):
        ld = _crossing_full(small_dir, doctrine, noise=(30.0 * scale, 0.3 * scale, 0.4 * scale))
        w = compile_world(ld)
        r = simulate_chunk(w, 2, 0, 40)
        errs.append(np.nanmean(r.track_stats[:, 2]))
    # raw measurement error at the crossing's ranges (<= ~20 km) for the nominal noise:
    # sqrt(30^2 + (20e3 * 0.3 deg)^2 + (20e3 * 0.4 deg)^2) ~ 175 m
    assert 1.0 < errs[0] < 175.0
    assert errs[1] > 2.0 * errs[0]


def test_hungarian_finds_the_optimal_assignment():
    from itertools import permutations

    from iadsim.engine.full import hungarian

    rng = np.random.default_rng(4)
    for _ in range(50):
        n, m = int(rng.integers(1, 5)), int(rng.integers(5, 8))
        C = rng.random((n, m)) * 10
        out = np.full(n, -1, np.int64)
        w = m + 1
        hungarian(C, n, m, out, np.zeros(w), np.zeros(w), np.zeros(w, np.int64), np.zeros(w, np.int64),
                  np.zeros(w), np.zeros(w, np.bool_))
        best = min(sum(C[i, p[i]] for i in range(n)) for p in permutations(range(m), n))
        assert len(set(out)) == n
        assert C[np.arange(n), out].sum() == pytest.approx(best)


def test_hungarian_matches_scipy_on_gated_gnn_matrices():
    # The compiled loop cannot call scipy; its assignment must give the optimum that scipy's
    # linear_sum_assignment gives on the textbook GNN matrix [k, k + k]: gated costs, a huge cost
    # outside the gate, the gate itself on each row's own "no track" column.
    from scipy.optimize import linear_sum_assignment

    from iadsim.engine.full import _BIG, hungarian

    rng = np.random.default_rng(8)
    for _ in range(40):
        k, n = int(rng.integers(2, 30)), int(rng.integers(1, 30))
        d2 = rng.chisquare(3, (k, n)) * rng.uniform(0.3, 3.0)
        gate = 11.34
        C = np.full((k, n + k), _BIG)
        C[:, :n] = np.where(d2 <= gate, d2, _BIG)
        C[np.arange(k), n + np.arange(k)] = gate
        out = np.full(k, -1, np.int64)
        w = n + k + 1
        hungarian(C, k, n + k, out, np.zeros(w), np.zeros(w), np.zeros(w, np.int64), np.zeros(w, np.int64),
                  np.zeros(w), np.zeros(w, np.bool_))
        r, c = linear_sum_assignment(C)
        assert len(set(out)) == k
        assert C[np.arange(k), out].sum() == pytest.approx(C[r, c].sum(), rel=1e-12)


@pytest.mark.parametrize("field,value", [
    ("gate_probability", 0.0), ("gate_probability", 1.5), ("process_noise_m_s2", -1.0),
    ("confirm_m", 4), ("seeker_basket_m", 0.0), ("delete_after_s", -5.0), ("false_alarm_cells", 0.0),
    ("tracker_filter", "ukf"), ("association", "mht"), ("imm_turn_rate_deg_s", 0.0),
    ("imm_switch_probability", 1.0), ("fire_control_looks", -1),
])
def test_bad_tracker_settings_are_input_errors(small_dir, field, value):
    data = yaml.safe_load((small_dir / "scenario.yaml").read_text())
    data["simulation"].update({"fidelity": "full", field: value})
    (small_dir / "bad.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(iadsim.InputError, match=rf"simulation\.{field}"):
        iadsim.load_scenario(small_dir / "bad.yaml")


def test_full_fidelity_needs_the_noise_figures(small_dir):
    ld = _full(small_dir)
    ld.catalog = copy.deepcopy(ld.catalog)
    del ld.catalog["tor_m2"].figures["radar_range_sigma_m"]
    with pytest.raises(iadsim.InputError, match="radar_range_sigma_m"):
        compile_world(ld)
    # the fast fidelity does not read them
    ld.scenario.simulation.fidelity = "fast"
    world = compile_world(ld)
    assert not any(u.key == "radar_range_sigma_m" for u in world.figures)


def test_policies_agree_at_full_fidelity_where_the_choice_is_forced(small_dir):
    """One fire unit and one threat: every policy (compiled or the Python callback) fires the same."""
    ld = _crossing_full(small_dir, {"mode": "shoot-look-shoot", "max_engagements": 2})
    runs = {p: iadsim.simulate(ld, replications=12, seed=5, policy=p).replications
            for p in ("urgency", "greedy", "vlns")}
    for p in ("greedy", "vlns"):
        pd.testing.assert_frame_equal(runs["urgency"], runs[p])
    assert runs["urgency"].shots.sum() > 0
