"""Full-fidelity options: false alarms, the fire-control hold, the IMM filter and JPDA association.

The compiled kernel's pieces are checked against textbook equations (and against the stand-alone
numpy implementations of :mod:`iadsim.tracking`, which are themselves tested against published
examples); the engine-level tests check the behaviour each option exists for."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

import iadsim
from iadsim.engine import compile_world, simulate_chunk
from iadsim.engine.full import (
    FA_MAX, false_alarm_count, imm_combine, imm_predict, pda_update, transition,
)
from iadsim.tracking.imm import imm_combine as np_imm_combine
from iadsim.tracking.imm import imm_mix, markov_matrix
from iadsim.tracking.models import ct_transition_matrix, cv_process_noise

from test_full_fidelity import _crossing_full, _full


def _spd(rng, n):
    A = rng.normal(size=(n, n))
    return A @ A.T + n * np.eye(n)


# --------------------------------------------------------------------------- motion models

@pytest.mark.parametrize("w", [0.0, 0.05, -0.03])
def test_transition_is_the_coordinated_turn_matrix(w):
    F = np.zeros((6, 6))
    transition(F, 2.5, w)
    np.testing.assert_allclose(F, ct_transition_matrix(2.5, w, 3), atol=1e-12)


def test_a_full_turn_comes_back_to_its_start():
    # A coordinated turn at rate w closes its circle after 2 pi / w seconds (Li & Jilkov 2003, sec. V):
    # the same position and velocity, whatever the speed.
    w = math.radians(3.0)
    F = np.zeros((6, 6))
    transition(F, 2 * math.pi / w, w)
    x = np.array([1000.0, -200.0, 500.0, 80.0, -30.0, 0.0])
    np.testing.assert_allclose(F @ x, x, atol=1e-6)
    # a half turn reverses the horizontal velocity and moves the position by the circle's diameter
    transition(F, math.pi / w, w)
    y = F @ x
    np.testing.assert_allclose(y[3:5], -x[3:5], atol=1e-9)
    assert np.hypot(*(y[:2] - x[:2])) == pytest.approx(2 * np.hypot(80.0, -30.0) / w)


def test_imm_prediction_matches_the_reference_equations():
    # mixing, model-matched prediction and combination (Blom & Bar-Shalom 1988; Bar-Shalom, Li &
    # Kirubarajan 2001, sec. 11.6.6), against iadsim.tracking.imm's numpy implementation
    rng = np.random.default_rng(2)
    nm, K, k = 3, 2, 1
    omegas = np.array([0.0, 0.05, -0.05])
    Pi = markov_matrix(nm, 0.1)
    Xm = rng.normal(size=(K, nm, 6)) * [100, 100, 50, 10, 10, 2]
    Pm = np.stack([np.stack([_spd(rng, 6) for _ in range(nm)]) for _ in range(K)])
    mu = np.array([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]])
    dts, q = 3.0, 4.0
    x0, P0, c = imm_mix(mu[k], Pi, Xm[k], Pm[k])
    want_x = np.empty((nm, 6))
    want_P = np.empty((nm, 6, 6))
    for j in range(nm):
        F = ct_transition_matrix(dts, omegas[j], 3)
        want_x[j] = F @ x0[j]
        want_P[j] = F @ P0[j] @ F.T + cv_process_noise(dts, q, 3)
    want_xc, want_Pc = np_imm_combine(c, want_x, want_P)

    X = np.zeros((K, 6))
    Pc = np.zeros((K, 6, 6))
    work = (np.zeros((6, 6)), np.zeros(6), np.zeros((6, 6)), np.zeros((nm, 6)), np.zeros((nm, 6, 6)),
            np.zeros(nm))
    imm_predict(Xm, Pm, mu, k, Pi, omegas, dts, q, X, Pc, *work)
    np.testing.assert_allclose(mu[k], c, rtol=1e-12)
    np.testing.assert_allclose(Xm[k], want_x, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(Pm[k], want_P, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(X[k], want_xc, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(Pc[k], want_Pc, rtol=1e-9, atol=1e-7)
    # the combination alone
    imm_combine(Xm, Pm, mu, k, X, Pc)
    xc, Pcc = np_imm_combine(mu[k], Xm[k], Pm[k])
    np.testing.assert_allclose(X[k], xc, rtol=1e-12)
    np.testing.assert_allclose(Pc[k], Pcc, rtol=1e-9, atol=1e-7)


# --------------------------------------------------------------------------- PDA / JPDA update

def _pda(x, P, zs, R, beta0, betas):
    X = x[None].copy()
    Pc = P[None].copy()
    zm = np.asarray(zs, float)
    Rm = np.broadcast_to(R, (len(zs), 3, 3)).copy()
    n = len(zs)
    pda_update(X, Pc, 0, beta0, n, np.arange(n), np.asarray(betas, float), zm, Rm,
               np.zeros((3, 3)), np.zeros((3, 3)), np.zeros((6, 3)), np.zeros((6, 6)),
               np.zeros((1, 6)), np.zeros((1, 6, 6)), np.zeros(6), np.zeros((6, 6)))
    return X[0], Pc[0]


def test_pda_update_with_one_certain_measurement_is_the_kalman_update():
    rng = np.random.default_rng(5)
    x = rng.normal(size=6) * 100
    P = _spd(rng, 6) * 10
    R = _spd(rng, 3)
    z = x[:3] + rng.normal(size=3) * 5
    H = np.hstack([np.eye(3), np.zeros((3, 3))])
    S = H @ P @ H.T + R
    W = P @ H.T @ np.linalg.inv(S)
    xu, Pu = _pda(x, P, [z], R, 0.0, [1.0])
    np.testing.assert_allclose(xu, x + W @ (z - x[:3]), rtol=1e-10)
    np.testing.assert_allclose(Pu, P - W @ S @ W.T, rtol=1e-8, atol=1e-8)


def test_pda_update_matches_bar_shalom_and_tse():
    # Bar-Shalom & Tse (1975), Automatica 11(5): with a common R,
    #   x = x- + W nu,  nu = sum_i beta_i nu_i,
    #   P = beta0 P- + (1 - beta0) Pc + W (sum_i beta_i nu_i nu_i' - nu nu') W',  Pc = P- - W S W'
    rng = np.random.default_rng(6)
    x = rng.normal(size=6) * 100
    P = _spd(rng, 6) * 20
    R = _spd(rng, 3) * 3
    zs = [x[:3] + rng.normal(size=3) * 8 for _ in range(3)]
    beta0, betas = 0.1, np.array([0.5, 0.3, 0.1])
    H = np.hstack([np.eye(3), np.zeros((3, 3))])
    S = H @ P @ H.T + R
    W = P @ H.T @ np.linalg.inv(S)
    nus = np.array([z - x[:3] for z in zs])
    nu = betas @ nus
    spread = sum(b * np.outer(v, v) for b, v in zip(betas, nus)) - np.outer(nu, nu)
    want_P = beta0 * P + (1 - beta0) * (P - W @ S @ W.T) + W @ spread @ W.T
    xu, Pu = _pda(x, P, zs, R, beta0, betas)
    np.testing.assert_allclose(xu, x + W @ nu, rtol=1e-10)
    np.testing.assert_allclose(Pu, want_P, rtol=1e-8, atol=1e-8)


# --------------------------------------------------------------------------- false alarms

@pytest.mark.parametrize("lam", [0.3, 2.5])
def test_false_alarm_counts_are_poisson(lam):
    keys = np.random.SeedSequence(9).generate_state(2, np.uint64)
    n = np.array([false_alarm_count(keys[0], keys[1], t, s, lam, FA_MAX)
                  for t in range(4000) for s in range(5)])
    N = len(n)
    assert n.mean() == pytest.approx(lam, abs=4 * math.sqrt(lam / N))
    assert np.mean(n == 0) == pytest.approx(math.exp(-lam), abs=4 * math.sqrt(math.exp(-lam) / N))
    # chi-square goodness of fit against Poisson(lam), cells 0..5 and 6+
    obs = np.array([np.sum(n == i) for i in range(6)] + [np.sum(n >= 6)])
    p = np.append(stats.poisson.pmf(np.arange(6), lam), stats.poisson.sf(5, lam))
    keep = p * N >= 5
    obs_k = np.append(obs[keep], obs[~keep].sum())
    exp_k = np.append(p[keep], p[~keep].sum()) * N
    mask = exp_k > 0
    assert stats.chisquare(obs_k[mask], exp_k[mask] * obs_k[mask].sum() / exp_k[mask].sum()).pvalue > 1e-3
    assert false_alarm_count(keys[0], keys[1], 0, 0, 1e3, FA_MAX) == FA_MAX


def _fa_crossing(small_dir, **sim):
    doctrine = {"mode": "shoot-look-shoot", "max_engagements": 2, "fire": "free"}
    # Tor-M2 radar_pfa (catalog) x cells: about 3 false alarms per scan
    ld = _crossing_full(small_dir, doctrine, false_alarms=True, **sim)
    pfa = ld.catalog["tor_m2"].nominal("radar_pfa")
    ld.scenario.simulation.false_alarm_cells = 3.0 / pfa
    return ld


def test_false_alarms_make_false_tracks_that_confirmation_and_the_fire_control_hold_filter(small_dir):
    loose = simulate_chunk(compile_world(_fa_crossing(small_dir, confirm_m=1, confirm_n=1,
                                                      fire_control_looks=0)), 4, 0, 16)
    strict = simulate_chunk(compile_world(_fa_crossing(small_dir, confirm_m=3, confirm_n=3,
                                                       fire_control_looks=0)), 4, 0, 16)
    held = simulate_chunk(compile_world(_fa_crossing(small_dir, confirm_m=1, confirm_n=1,
                                                     fire_control_looks=2)), 4, 0, 16)
    f_loose, f_strict = loose.track_stats[:, 3], strict.track_stats[:, 3]
    # 1-of-1: almost every false alarm outside a track's gate becomes a confirmed (false) track;
    # 3-of-3 needs three hits in a row, which scattered false alarms hardly ever give
    assert f_loose.mean() > 5
    assert f_strict.mean() < 0.05 * f_loose.mean()
    # weapons free on unconfirmed identity: missiles go to false tracks...
    assert loose.track_stats[:, 4].sum() > 0
    # ...unless the unit's own radar must hold the track on two scans in a row
    assert held.track_stats[:, 4].sum() == 0
    # the threat itself is still engaged
    assert (held.shots > 0).mean() > 0.9


def test_false_alarms_are_deterministic_and_need_a_sane_rate(small_dir):
    ld = _full(small_dir, false_alarms=True)
    a = iadsim.simulate(ld, replications=12, seed=2, chunk_size=12)
    b = iadsim.simulate(ld, replications=12, seed=2, chunk_size=5)
    pd.testing.assert_frame_equal(a.replications, b.replications)
    off = iadsim.simulate(_full(small_dir), replications=12, seed=2)
    assert (a.raw.track_stats[:, 0] >= off.raw.track_stats[:, 0]).all()
    data = yaml.safe_load((small_dir / "scenario.yaml").read_text())
    data["simulation"].update({"fidelity": "full", "false_alarms": True, "false_alarm_cells": 1e9})
    (small_dir / "loud.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(iadsim.InputError, match=r"simulation\.false_alarm_cells"):
        compile_world(iadsim.load_scenario(small_dir / "loud.yaml"))


# --------------------------------------------------------------------------- fire-control hold

def test_fire_control_hold_waits_for_consecutive_looks(small_dir):
    # One Tor-M2 alone, its radar both detects and holds; the drone appears 10 km north, inside the
    # envelope. A launch needs n consecutive hits of that radar, so it comes at least (n - 1) scan
    # periods after the first detection; with n = 16 the hold, not the 10 s reaction time, binds.
    doctrine = {"mode": "shoot-look-shoot", "max_engagements": 2}
    delays = {}
    for n in (1, 16):
        ld = _crossing_full(small_dir, doctrine, fire_control_looks=n)
        ld.scenario.threats[0].route[0].lat = 10.29
        period = ld.catalog["tor_m2"].nominal("radar_scan_period_s")
        r = simulate_chunk(compile_world(ld), 8, 0, 200)
        ok = r.eng_step[:, 0] >= 0
        assert ok.mean() > 0.9
        d = (r.eng_step[ok, 0] - r.det_step[ok, 0]) * ld.scenario.simulation.dt_s
        assert d.min() >= (n - 1) * period - 1e-9
        delays[n] = d.mean()
    assert delays[16] > delays[1] + 3 * period


# --------------------------------------------------------------------------- IMM and JPDA in the engine

def _orbit_full(small_dir, **sim):
    """An MQ-9 orbiting (a coordinated turn at v / r) over a Tor-M2 at full fidelity, weapons hold."""
    data = {
        "schema_version": 1, "name": "orbit",
        "terrain": {"dem": "dem.tif", "resolution_m": 400, "margin_km": 2},
        "simulation": {"duration_s": 900, "dt_s": 1.0, "fidelity": "full", "process_noise_m_s2": 0.5,
                       **sim},
        "assets": [{"name": "base", "lat": 10.05, "lon": 20.2}],
        "effectors": [{"name": "tor", "system": "tor_m2", "site": {"lat": 10.2, "lon": 20.2, "height_m": 400},
                       "doctrine": {"fire": "hold"}}],
        "threats": [{"name": "uav", "type": "mq_9_reaper", "altitude_m": 4000, "altitude_ref": "msl",
                     "speed_m_s": 90, "route": [{"lat": 10.2, "lon": 20.227}],
                     "orbit": {"lat": 10.2, "lon": 20.2, "radius_km": 3.0, "laps": 4}}],
    }
    (small_dir / "orbit.yaml").write_text(yaml.safe_dump(data))
    return iadsim.load_scenario(small_dir / "orbit.yaml")


def test_imm_tracks_a_turning_target_better_than_the_constant_velocity_filter(small_dir):
    # 90 m/s on a 3 km circle: a 1.7 deg/s turn (1.7 m/s^2 centripetal) that the nearly-constant-
    # velocity filter, tuned for 0.5 m/s^2, lags; the IMM's turn models follow it.
    rate = math.degrees(90.0 / 3000.0)
    err = {}
    for f in ("kf", "imm"):
        ld = _orbit_full(small_dir, tracker_filter=f, imm_turn_rate_deg_s=rate)
        r = simulate_chunk(compile_world(ld), 3, 0, 24)
        err[f] = np.nanmean(r.track_stats[:, 2])
    assert err["imm"] < 0.8 * err["kf"]


def test_jpda_engine_runs_is_deterministic_and_matches_gnn_on_a_lone_target(small_dir):
    doctrine = {"mode": "shoot-look-shoot", "max_engagements": 2, "kill_assessment_s": 3}
    runs = {}
    for assoc in ("gnn", "jpda"):
        for filt in ("kf", "imm"):
            ld = _crossing_full(small_dir, doctrine, association=assoc, tracker_filter=filt)
            runs[assoc, filt] = iadsim.simulate(ld, replications=300, seed=6, chunk_size=300).replications
    again = iadsim.simulate(_crossing_full(small_dir, doctrine, association="jpda", tracker_filter="imm"),
                            replications=300, seed=6, chunk_size=37).replications
    pd.testing.assert_frame_equal(runs["jpda", "imm"], again)
    # one target, no false alarms: every option kills with the same probability within sampling error
    base = runs["gnn", "kf"].killed.mean()
    for key, df in runs.items():
        assert df.killed.mean() == pytest.approx(base, abs=4 * math.sqrt(base * (1 - base) * 2 / 300) + 0.02), key


def test_jpda_and_imm_run_the_demo_raid(small_dir):
    ld = _full(small_dir, association="jpda", tracker_filter="imm", false_alarms=True)
    res = iadsim.simulate(ld, replications=8, seed=1)
    assert res.replications.shots.sum() > 0
    assert res.summary["fidelity"] == "full"
    # the run used the options it was given (the model line records them), not the defaults
    assert "IMM" in res.world.models["tracking"] and "JPDA" in res.world.models["tracking"]
    assert len(res.world.scenario.threats) > 1  # a raid: more than one threat group
