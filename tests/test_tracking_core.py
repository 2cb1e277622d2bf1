"""The compiled track core (iadsim.tracking.core): the gating pre-filter drops only pairs that the
gate drops, and the cluster-by-cluster assignment is the optimal global nearest neighbour
assignment (the textbook cost matrix, Blackman & Popoli 1999 sec. 6.5, solved by scipy)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

from iadsim.tracking import core

GAMMA = float(chi2.ppf(0.99, 3))
GAMMA_INIT = float(chi2.ppf(0.99999, 3))


def _scene(seed, nk=60, clutter=15):
    """Tracks in tight groups (contested measurements), a measurement of most tracks, clutter."""
    rng = np.random.default_rng(seed)
    cfg = core.tracker_config(1.0, 1.0, GAMMA, GAMMA_INIT, 400.0, 2, 3, False, False, 1e5, 0.0, 0.0)
    K = nk + 8
    NZ = nk + clutter
    tb = core.track_table(K, 1, False)
    wk = core.scan_work(K, NZ, 1)
    centres = rng.uniform(0, 50_000, (nk // 4 + 1, 3))
    for k in range(nk):
        tb.st[k] = core.TRK_CONFIRMED
        tb.vinit[k] = True
        tb.X[k, :3] = centres[k // 4] + rng.normal(0, 60.0, 3)
        tb.X[k, 3:] = rng.normal(0, 100.0, 3)
        A = rng.normal(size=(6, 6))
        tb.P[k] = A @ A.T + np.diag([900.0, 900.0, 900.0, 100.0, 100.0, 100.0])
        # some tracks far less certain than the others (the pre-filter's "wide" ones)
        if k % 17 == 0:
            tb.P[k, :3, :3] *= 400.0
        tb.tpred[k] = 5
    seen = rng.random(nk) < 0.85
    z = np.concatenate([tb.X[:nk, :3][seen] + rng.normal(0, 40.0, (int(seen.sum()), 3)),
                        rng.uniform(0, 50_000, (clutter, 3))])
    z = np.ascontiguousarray(z[rng.permutation(len(z))])
    R = np.ascontiguousarray(np.broadcast_to(np.diag([30.0**2, 25.0**2, 35.0**2]), (len(z), 3, 3)))
    return cfg, tb, wk, z, R


def _brute_force(tb, nk, z, R):
    """d2 of every pair that passes the trace test, inf otherwise [nz, nk]."""
    nz = len(z)
    D = np.full((nz, nk), np.inf)
    for i in range(nz):
        for k in range(nk):
            nu = z[i] - tb.X[k, :3]
            S = tb.P[k, :3, :3] + R[i]
            if nu @ nu > GAMMA_INIT * np.trace(S):
                continue
            D[i, k] = nu @ np.linalg.solve(S, nu)
    return D


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_prefilter_and_cluster_assignment_match_the_global_optimum(seed):
    cfg, tb, wk, z, R = _scene(seed)
    nk_all = int((tb.st != core.TRK_FREE).sum())
    D = _brute_force(tb, nk_all, z, R)
    nk = core.predict_tracks(cfg, tb, wk, 5, 0)
    assert nk == nk_all and np.array_equal(wk.cols[:nk], np.arange(nk))
    pairs = core.scan_pairs(len(z))
    lab = np.full(len(z), -1, np.int64)
    nupd, pairs = core.associate_update(cfg, tb, wk, pairs, 5, nk, z, R, lab, np.ones(len(z)), len(z),
                                        0.9, 0.1)
    nz = len(z)
    # the pre-filter lost nothing: the nearest track distance of every measurement is the brute force's
    near = np.where(np.isfinite(D).any(axis=1), D.min(axis=1), core._BIG)
    np.testing.assert_allclose(wk.near[:nz], near, rtol=1e-9)
    # contested measurements exist (the test exercises the solver, not only the trivial path)
    gated = D <= GAMMA
    assert (gated.sum(axis=1) > 1).any() and (gated.sum(axis=0) > 1).any()
    # the textbook matrix [nz, nk + nz]: gated costs, the gate for "no track"
    C = np.full((nz, nk + nz), 1e12)
    C[:, :nk] = np.where(gated, D, 1e12)
    C[np.arange(nz), nk + np.arange(nz)] = GAMMA
    rows, cols = linear_sum_assignment(C)
    want = np.where(cols < nk, cols, nk + rows)
    got = wk.row_to_col[:nz]
    assert C[np.arange(nz), got].sum() == pytest.approx(C[rows, cols].sum(), rel=1e-12)
    np.testing.assert_array_equal(got, want)
    # every assigned track was updated, once
    assert nupd == int((got < nk).sum()) and len(set(wk.upd[:nupd])) == nupd


def test_a_lone_measurement_on_a_track_updates_it_and_one_far_away_starts_a_track():
    cfg, tb, wk, _z, _R = _scene(7, nk=4, clutter=0)
    z = np.ascontiguousarray(np.array([tb.X[2, :3], tb.X[2, :3] + 40_000.0]))
    R = np.ascontiguousarray(np.broadcast_to(np.eye(3) * 900.0, (2, 3, 3)))
    nk = core.predict_tracks(cfg, tb, wk, 5, 0)
    pairs = core.scan_pairs(2)
    x_before = tb.X[2].copy()
    nupd, _ = core.associate_update(cfg, tb, wk, pairs, 5, nk, z, R, np.array([2, -1]), np.ones(2), 2, 0.9, 0.1)
    assert nupd == 1 and wk.upd[0] == 2 and tb.hitnow[2]
    np.testing.assert_allclose(tb.X[2, :3], x_before[:3], atol=1e-9)   # a zero innovation moves nothing
    nb, lost = core.initiate_tracks(cfg, tb, wk, 5, z, R, np.array([2, -1]), 2, 0)
    assert (nb, lost) == (1, 0) and tb.st[wk.born[0]] == core.TRK_TENTATIVE
    np.testing.assert_array_equal(tb.X[wk.born[0], :3], z[1])


def test_a_scan_feeds_its_own_picture_only():
    # the engine's C2 pictures: a measurement on a track of another picture neither updates it nor is
    # kept from starting a track of the scan's own picture
    cfg, tb, wk, _z, _R = _scene(7, nk=4, clutter=0)
    tb.pic[2] = 1
    tb.X[2, :3] += 30_000.0   # away from the other tracks of its group, at rest
    tb.X[2, 3:] = 0.0
    z = np.ascontiguousarray(np.array([tb.X[2, :3]]))
    R = np.ascontiguousarray(np.broadcast_to(np.eye(3) * 900.0, (1, 3, 3)))
    tb.tpred[2] = 3
    x2, p2 = tb.X[2].copy(), tb.P[2].copy()
    nk = core.predict_tracks(cfg, tb, wk, 5, 0)
    assert nk == 3 and 2 not in wk.cols[:nk]
    nupd, _ = core.associate_update(cfg, tb, wk, core.scan_pairs(1), 5, nk, z, R, np.array([2]), np.ones(1), 1,
                                    0.9, 0.1)
    assert nupd == 0 and not tb.hitnow[2]
    np.testing.assert_array_equal(tb.X[2], x2)    # not predicted, not updated
    np.testing.assert_array_equal(tb.P[2], p2)
    assert tb.tpred[2] == 3
    nb, _lost = core.initiate_tracks(cfg, tb, wk, 5, z, R, np.array([2]), 1, 0)
    assert nb == 1 and tb.pic[wk.born[0]] == 0
    # the same measurement in a scan of picture 1 updates the track
    nk = core.predict_tracks(cfg, tb, wk, 5, 1)
    assert nk == 1 and wk.cols[0] == 2
    nupd, _ = core.associate_update(cfg, tb, wk, core.scan_pairs(1), 5, nk, z, R, np.array([2]), np.ones(1), 1,
                                    0.9, 0.1)
    assert nupd == 1 and wk.upd[0] == 2 and tb.tpred[2] == 5


def test_the_tracker_imports_light():
    # a fresh process that only tracks loads no data-frame, plotting or engine module (the
    # warm-cache time of the tracking benchmark counts what a tracker's first call loads)
    import os
    import subprocess
    import sys
    from pathlib import Path

    import iadsim

    code = ("import sys, iadsim.tracking, iadsim.tracking.sequential; "
            "print(sorted(m for m in ('pandas', 'scipy.stats', 'plotly', 'iadsim.engine', 'pyarrow', 'pydantic') "
            "if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=str(Path(iadsim.__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]", out.stdout
