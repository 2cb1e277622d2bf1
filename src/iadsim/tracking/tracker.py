"""The stand-alone multi-target tracker: :class:`Tracker`, a thin class over the compiled core.

:class:`Tracker` runs the same compiled core (:mod:`.core`) as the full-fidelity engine and
:class:`~.sequential.SequentialTracker`: one radar scan is predict, associate and update (global
nearest neighbour per cluster of gated pairs, or JPDA; Kalman filter or IMM), M-of-N
confirmation, initiation. What the class adds around the core:

- **continuous time**: a scan time ``t`` [s] becomes the core's integer step
  ``round(t / TIME_STEP)`` with ``TIME_STEP = 1e-6 s``; the core predicts over
  ``(step - step_before) * TIME_STEP`` seconds, so times are kept to a microsecond;
- **2-D or 3-D**: a 2-D tracker (``ndim = 2``) runs the core's 3-D state with the height axis
  pinned: every measurement gets height 0 m with variance ``ZVAR = 1 m^2``, and after each
  prediction every track's height block is reset to ``0 m, 0 m/s`` with variances ``ZVAR`` and no
  correlation with the horizontal axes. The height innovation is then 0 and its variance the same
  ``2 ZVAR`` for every track and every model, so gating, assignment costs, Kalman gains, IMM mode
  probabilities and (with the clutter density scaled by the height factor) JPDA weights are those
  of the 2-D filter, to rounding. Left out: the 3-sigma position margin of the core's two-point
  maximum-speed gate, ``3 sqrt(tr R + tr R0)``, counts the pinned heights' ``2 ZVAR`` too (at
  most 4.3 m more margin);
- **polar measurements**: (range, azimuth[, elevation]) converted to position with their
  linearised covariance (:func:`.models.converted_measurement`), as the engine converts its
  radars' measurements;
- **track scores** (Blackman & Popoli 1999; Sittler 1964): ``+ ln(P_D N(nu; 0, S) / lambda)``
  per hit (``nu``, ``S`` of the assigned measurement on the prediction, in ``ndim`` dimensions;
  JPDA: ``ln(1 - P_D P_G + sum_j P_D N(nu_j; 0, S_j) / lambda)`` over the gated measurements),
  ``+ ln(1 - P_D P_G)`` per miss, ``quality = 1 / (1 + exp(-score))``;
- **deletion**: a confirmed track is deleted after ``delete_after`` consecutive scans without a
  hit, or (optionally) when its score falls ``delete_score_drop`` below its maximum;
- **identities**: each track gets an id that is never reused (the core reuses its slots), a
  history of every (scan, track) state, and the radar that last updated it.

The core's model, which the class takes as it is (the numbers differ from textbook variants):

- one association stage for all tracks (confirmed tracks are not associated first); GNN solves
  the optimal assignment cluster by cluster, a measurement left unassigned costing the gate;
- a new track starts from one measurement (position from it, velocity 0 with standard deviation
  ``init_velocity_std``) and its second point sets the velocity (two-point initiation,
  Blackman & Popoli 1999 sec. 3.3), within a maximum-speed gate of ``init_velocity_std``;
- a measurement within ``init_gate`` (chi-square, by default the 0.99999 quantile as in the
  engine) of any track starts no track, even when another measurement won that track;
- M-of-N counts hits over a tentative track's scans (every scan is a look); a tentative track
  that has had N scans without M hits is deleted (not earlier, when M became out of reach);
- JPDA applies to tentative tracks too; IMM: constant velocity and coordinated turns at known
  rates, all with the one acceleration noise ``q``; its mode probabilities restart from
  ``imm_initial`` when the second point sets the velocity.

References
----------
- Blackman, S. & Popoli, R. (1999). *Design and Analysis of Modern Tracking Systems*. Artech
  House. Track initiation (M-of-N, two-point), confirmation and deletion; track score (LLR).
- Sittler, R. W. (1964). An optimal data association problem in surveillance theory. *IEEE
  Trans. Mil. Electron.* 8(2), 125-139.
- Bar-Shalom, Y., Li, X. R. & Kirubarajan, T. (2001). *Estimation with Applications to
  Tracking and Navigation*. Wiley. sec. 5.2 (Kalman filter), sec. 11.6.6 (IMM).
- See :mod:`.core` for the association, update and IMM references.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import ArrayLike

from iadsim.tracking import core
from iadsim.tracking.kalman import gate_threshold
from iadsim.tracking.models import ConstantVelocity, CoordinatedTurn, converted_measurement

__all__ = ["Tracker", "Tracks", "TrackHistory", "TENTATIVE", "CONFIRMED", "TIME_STEP", "ZVAR",
           "INIT_GATE_PROBABILITY"]

#: the core's step length [s]: scan times are kept to this resolution
TIME_STEP = 1e-6
#: probability of the default initiation gate (the engine's)
INIT_GATE_PROBABILITY = 0.99999
#: variance of the pinned height axis of a 2-D tracker [m^2]
ZVAR = 1.0

TENTATIVE = 0
CONFIRMED = 1


@dataclass(frozen=True)
class Tracks:
    """Tracks at one time ``t`` [s]: arrays over the track axis.

    ``id [T]``, state ``x [T, n]`` [m, m/s] (positions first), covariance ``P [T, n, n]``,
    ``score [T]`` (log-likelihood ratio [1]), ``quality [T]`` in (0, 1), ``status [T]``
    (``TENTATIVE`` or ``CONFIRMED``), ``mu [T, M]`` (IMM mode probabilities), ``sensor [T]``
    (the radar whose measurement last updated the track).
    """

    t: float
    id: np.ndarray
    x: np.ndarray
    P: np.ndarray
    score: np.ndarray
    status: np.ndarray
    mu: np.ndarray
    sensor: np.ndarray

    @property
    def quality(self) -> np.ndarray:
        """``1 / (1 + exp(-score))`` [1]: the probability that the track is a true target for
        equal prior odds (Blackman & Popoli 1999, track score to probability)."""
        return 1.0 / (1.0 + np.exp(-self.score))

    def __len__(self) -> int:
        return int(self.id.shape[0])


@dataclass(frozen=True)
class TrackHistory:
    """Every track state the tracker held, one row per (scan, track).

    ``t [N]`` [s], ``id [N]``, ``x [N, n]``, ``P [N, n, n]``, ``status [N]`` (status at that
    scan). ``confirmed_ids`` are the tracks that were ever confirmed.
    """

    t: np.ndarray
    id: np.ndarray
    x: np.ndarray
    P: np.ndarray
    status: np.ndarray
    confirmed_ids: np.ndarray

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def confirmed(self) -> "TrackHistory":
        """The rows of tracks that were ever confirmed, their tentative start included (as a
        track's history reads once it is confirmed, e.g. in Stone Soup)."""
        keep = np.isin(self.id, self.confirmed_ids)
        return TrackHistory(self.t[keep], self.id[keep], self.x[keep], self.P[keep],
                            self.status[keep], self.confirmed_ids)

    def tracks(self) -> dict[int, "TrackHistory"]:
        """Split by track id (rows in time order)."""
        order = np.lexsort((self.t, self.id))
        ids, start = np.unique(self.id[order], return_index=True)
        out = {}
        for i, (tid, a) in enumerate(zip(ids, start)):
            b = start[i + 1] if i + 1 < len(start) else len(order)
            sl = order[a:b]
            out[int(tid)] = TrackHistory(self.t[sl], self.id[sl], self.x[sl], self.P[sl],
                                         self.status[sl], self.confirmed_ids)
        return out


def _int_param(value, name: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def _prob_param(value, name: str, *, open_right: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a probability, got {value!r}") from None
    ok = 0.0 < v < 1.0 if open_right else 0.0 < v <= 1.0
    if not ok:
        iv = "(0, 1)" if open_right else "(0, 1]"
        raise ValueError(f"{name} must lie in {iv}, got {value!r}")
    return v


def _pos_param(value, name: str, unit: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number > 0 {unit}, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0 {unit}, got {value!r}")
    return v


def _check_covariance(R: np.ndarray) -> None:
    """ValueError unless every ``R [k, d, d]`` (d <= 3) is finite, symmetric, positive definite."""
    if R.shape[0] == 0:
        return
    if R.shape[0] == 1:  # a shared R: plain floats are cheaper than numpy calls
        r = R[0].tolist()
        d = len(r)
        if not all(math.isfinite(v) for row in r for v in row):
            raise ValueError("R must be finite")
        if any(abs(r[i][j] - r[j][i]) > 1e-9 * (abs(r[i][j]) + abs(r[j][i]))
               for i in range(d) for j in range(i)):
            raise ValueError("R must be symmetric")
        m = [r[0][0] > 0]
        if d >= 2:
            m.append(r[0][0] * r[1][1] - r[0][1] * r[1][0] > 0)
        if d >= 3:
            m.append(float(np.linalg.det(R[0])) > 0)
        if not all(m):
            raise ValueError("R must be positive definite (measurement noise variances > 0)")
        return
    if not np.isfinite(R).all():
        raise ValueError("R must be finite")
    if np.abs(R - np.swapaxes(R, -1, -2)).max() > 1e-9 * np.abs(R).max():
        raise ValueError("R must be symmetric")
    # Sylvester's criterion: all leading principal minors > 0
    ok = R[:, 0, 0] > 0
    if R.shape[1] >= 2:
        ok &= R[:, 0, 0] * R[:, 1, 1] - R[:, 0, 1] * R[:, 1, 0] > 0
    if R.shape[1] >= 3:
        ok &= np.linalg.det(R) > 0
    if not ok.all():
        raise ValueError("R must be positive definite (measurement noise variances > 0)")




@numba.njit(cache=True)
def _pin_height(tb, k, use_imm):
    """2-D: the height block of track k (and of its IMM models) reset to 0 m, 0 m/s, variances
    ZVAR and no correlation with the horizontal axes."""
    X = tb.X
    P = tb.P
    for a in (2, 5):
        X[k, a] = 0.0
        for b in range(6):
            P[k, a, b] = 0.0
            P[k, b, a] = 0.0
        P[k, a, a] = ZVAR
    if use_imm:
        for j in range(tb.Xm.shape[1]):
            for a in (2, 5):
                tb.Xm[k, j, a] = 0.0
                for b in range(6):
                    tb.Pm[k, j, a, b] = 0.0
                    tb.Pm[k, j, b, a] = 0.0
                tb.Pm[k, j, a, a] = ZVAR


@numba.njit(cache=True)
def _loglik(x, P, z, R, d):
    """(squared Mahalanobis distance, ln N(nu; 0, S)) of position z (covariance R) on the state
    x, P over the first d (2 or 3) axes."""
    s00 = P[0, 0] + R[0, 0]
    s01 = P[0, 1] + R[0, 1]
    s11 = P[1, 1] + R[1, 1]
    n0 = z[0] - x[0]
    n1 = z[1] - x[1]
    if d == 2:
        det = s00 * s11 - s01 * s01
        if not det > 0.0:
            return np.inf, -np.inf
        d2 = (s11 * n0 * n0 - 2.0 * s01 * n0 * n1 + s00 * n1 * n1) / det
        return d2, -0.5 * (d2 + math.log(det)) - math.log(2.0 * math.pi)
    s02 = P[0, 2] + R[0, 2]
    s12 = P[1, 2] + R[1, 2]
    s22 = P[2, 2] + R[2, 2]
    n2 = z[2] - x[2]
    c00 = s11 * s22 - s12 * s12
    c01 = s02 * s12 - s01 * s22
    c02 = s01 * s12 - s02 * s11
    det = s00 * c00 + s01 * c01 + s02 * c02
    if not det > 0.0:
        return np.inf, -np.inf
    c11 = s00 * s22 - s02 * s02
    c12 = s01 * s02 - s00 * s12
    c22 = s00 * s11 - s01 * s01
    d2 = (c00 * n0 * n0 + c11 * n1 * n1 + c22 * n2 * n2
          + 2.0 * (c01 * n0 * n1 + c02 * n0 * n2 + c12 * n1 * n2)) / det
    return d2, -0.5 * (d2 + math.log(det)) - 1.5 * math.log(2.0 * math.pi)


@numba.njit(cache=True)
def tracker_scan(cfg, tb, wk, pairs, t, zm, Rm, zlab, lamz, nz, pd, miss_w, confirmed, ndim, mu0,
                 log_pd_lam, log_miss, score, max_score, misses, delete_after, score_drop, Xp, Pp):
    """One scan of :class:`Tracker` at step t on the core: predict (2-D: height pinned), every
    tentative track looked at, associate and update, track scores and consecutive misses, M-of-N,
    the rows of the history (each predicted track's state after the update, its status after
    confirmation), initiation, deletion of confirmed tracks (``delete_after`` misses or a score
    drop above ``score_drop``). Returns (pairs, nk, nupd, nconf, nb, lost, slots, X, P, status): the
    tracks updated in wk.upd[:nupd], confirmed now in confirmed[:nconf], born in wk.born[:nb], and
    the history rows of the nk predicted tracks."""
    use_imm = cfg.use_imm
    nk = core.predict_tracks(cfg, tb, wk, t, 0)
    cols = wk.cols
    vin = np.empty(nk, np.bool_)
    for c in range(nk):
        k = cols[c]
        if ndim == 2:
            _pin_height(tb, k, use_imm)
        if tb.st[k] == core.TRK_TENTATIVE:
            tb.looked[k] = True
        vin[c] = tb.vinit[k]
        for a in range(6):
            Xp[k, a] = tb.X[k, a]
            for b in range(6):
                Pp[k, a, b] = tb.P[k, a, b]
    nupd, pairs = core.associate_update(cfg, tb, wk, pairs, t, nk, zm, Rm, zlab, lamz, nz, pd,
                                        miss_w)
    # track scores (log-likelihood ratio) and consecutive misses
    for c in range(nk):
        k = cols[c]
        if not tb.hitnow[k]:
            score[k] += log_miss
            misses[k] += 1
        elif use_imm and not vin[c] and tb.vinit[k]:
            # the second point set the velocity: the IMM restarts from its initial mode
            # probabilities
            for j in range(mu0.shape[0]):
                tb.mu[k, j] = mu0[j]
    if cfg.use_jpda:
        # ln(1 - P_D P_G + sum_j P_D N_j / lambda) over the gated pairs (the core's likelihood
        # ratios, which lamz makes the ndim-D ones)
        npair = 0
        for i in range(nz):
            npair += wk.rowdeg[i]
        lrsum = np.zeros(nk)
        for p in range(npair):
            lrsum[pairs.row[p]] += pairs.lr[p]
        for c in range(nk):
            k = cols[c]
            if tb.hitnow[k]:
                score[k] += math.log(miss_w + lrsum[c])
                misses[k] = 0
    else:
        for u in range(nupd):
            k = wk.upd[u]
            i = wk.upd_lab[u]
            d2, ll = _loglik(Xp[k], Pp[k], zm[i], Rm[i], ndim)
            score[k] += log_pd_lam + ll
            misses[k] = 0
    for c in range(nk):
        k = cols[c]
        if score[k] > max_score[k]:
            max_score[k] = score[k]
    nconf = core.confirm_tracks(cfg, tb, wk, t, nk, confirmed)
    hs = cols[:nk].copy()
    hX = np.empty((nk, 6))
    hP = np.empty((nk, 6, 6))
    hst = np.empty(nk, np.int8)
    for c in range(nk):
        k = cols[c]
        hX[c] = tb.X[k]
        hP[c] = tb.P[k]
        hst[c] = 1 if tb.st[k] == core.TRK_CONFIRMED else 0
    nb, lost = core.initiate_tracks(cfg, tb, wk, t, zm, Rm, zlab, nz, 0)
    for b in range(nb):
        k = wk.born[b]
        score[k] = 0.0
        max_score[k] = 0.0
        misses[k] = 0
        if use_imm:
            for j in range(mu0.shape[0]):
                tb.mu[k, j] = mu0[j]
    # deletion after initiation, as the engine frees a slot only at its next scan: a track born
    # now takes the same slot as there (slot order is the order of JPDA's sums)
    for c in range(nk):
        k = cols[c]
        if tb.st[k] == core.TRK_CONFIRMED and (misses[k] >= delete_after
                                               or max_score[k] - score[k] > score_drop):
            tb.st[k] = core.TRK_FREE
    return pairs, nk, nupd, nconf, nb, lost, hs, hX, hP, hst


def _core_models(model, filter, imm_models, turn_rate, d):
    """(q, turn rates [rad/s]) of the core's motion models: one constant-velocity model (KF), or
    the IMM's models, each constant velocity (rate 0) or a coordinated turn, all with one q."""
    if not isinstance(model, ConstantVelocity):
        raise ValueError("model must be a ConstantVelocity (the compiled core's Kalman filter "
                         f"model), got {model!r}")
    if filter == "kf":
        return float(model.q), np.zeros(1)
    if imm_models is None:
        w = _pos_param(turn_rate, "turn_rate", "[rad/s]")
        return float(model.q), np.array([0.0, w, -w])
    models = list(imm_models)
    if len(models) < 2:
        raise ValueError("imm_models must hold at least two models")
    if any(getattr(m, "ndim", None) != d for m in models):
        raise ValueError(f"imm_models must all have ndim={d}")
    if not all(isinstance(m, (ConstantVelocity, CoordinatedTurn)) for m in models):
        raise ValueError("imm_models must be ConstantVelocity or CoordinatedTurn models")
    if any(m.q != models[0].q for m in models):
        raise ValueError("imm_models must share one q (the compiled core's IMM has one "
                         "acceleration noise)")
    return float(models[0].q), np.array([getattr(m, "omega", 0.0) for m in models], dtype=float)


class Tracker:
    """Central multi-target tracker (GNN or JPDA association, Kalman filter or IMM) on the
    compiled track core (see the module's text for what it adds to the core, and the core's
    model).

    Parameters
    ----------
    model : :class:`~.models.ConstantVelocity` (default ``q = 1 m^2/s^3``, 3-D). Its ``ndim``
        (2 or 3) fixes the state ``[T, 2 ndim]`` and measurement dimension.
    gate_probability : probability ``P_G`` that the true measurement falls in the gate; the
        gate is its chi-square quantile with ``ndim`` degrees of freedom.
    gate : the chi-square gate [1] directly (overrides ``gate_probability``), > 0.
    init_gate : a measurement within this chi-square distance of a track starts no new track
        [1] (default: the chi-square quantile of ``INIT_GATE_PROBABILITY`` = 0.99999, as in the
        engine; raised to the gate if smaller). Narrower, a measurement of a tracked target just
        outside its gate starts a track that then competes with it for the next measurements.
    init_m, init_n : M-of-N confirmation (``1 <= init_m <= init_n <= 62``).
    delete_after : consecutive missed scans that delete a confirmed track (>= 1).
    association : ``"gnn"`` or ``"jpda"``.
    filter : ``"kf"`` or ``"imm"`` (``model`` + coordinated turns at +/- ``turn_rate``, or
        ``imm_models``).
    detection_probability : ``P_D`` in (0, 1], for the score and JPDA.
    clutter_density : false-alarm spatial density ``lambda`` [1/m^ndim], > 0, for the score
        and JPDA.
    init_velocity_std : standard deviation of the unknown initial velocity [m/s], > 0; also
        the largest speed of the two-point initiation gate.
    turn_rate : IMM coordinated-turn rate [rad/s], > 0 (default 0.05 rad/s, 2.9 deg/s).
    imm_models : explicit IMM model list (``ConstantVelocity`` / ``CoordinatedTurn``, same
        ``ndim`` and ``q``), instead of the default three.
    imm_switch_probability : per-scan model switching probability ``p`` of the default Markov
        matrix (``1 - p`` on the diagonal), or ``imm_transition`` ``[M, M]`` directly.
    imm_initial : initial mode probabilities ``[M]`` (default: uniform).
    delete_score_drop : also delete a confirmed track whose score falls this far below its
        maximum [1] (Blackman & Popoli's score-drop rule); ``None`` (default) disables.
    measurement : ``"position"`` (linear Cartesian ``[k, ndim]`` [m]) or ``"polar"`` (range
        [m], azimuth [rad] clockwise from north[, elevation [rad]]), converted to position
        with a linearised covariance (:func:`~.models.converted_measurement`).
    sensor_positions : ``[S, ndim]`` [m] radar positions, needed for ``"polar"``.
    history : keep every scan's track states for :meth:`history` (default True).
    keep_costs : keep each scan's GNN problem in ``cost_log`` as ``(track columns, measurement
        indices, rows, cols, d2, gate)`` (for benchmarks; GNN only).
    jpda_max_events : joint events above which a JPDA cluster uses the cheap approximation.
    capacity : initial track slots (the table grows when a scan could overflow it).
    """

    def __init__(self, model: ConstantVelocity | None = None, *, gate_probability: float = 0.99,
                 gate: float | None = None, init_m: int = 2, init_n: int = 3, delete_after: int = 3,
                 association: str = "gnn", filter: str = "kf", detection_probability: float = 0.9,
                 clutter_density: float = 1e-9, init_velocity_std: float = 300.0,
                 turn_rate: float = 0.05, imm_models: Sequence | None = None,
                 imm_switch_probability: float = 0.05, imm_transition: ArrayLike | None = None,
                 imm_initial: ArrayLike | None = None, delete_score_drop: float | None = None,
                 measurement: str = "position", sensor_positions: ArrayLike | None = None,
                 history: bool = True, keep_costs: bool = False, jpda_max_events: float = 1e5,
                 init_gate: float | None = None, capacity: int = 64):
        if model is None:
            model = ConstantVelocity(q=1.0, ndim=3)
        if getattr(model, "ndim", None) not in (2, 3):
            raise ValueError(f"model.ndim must be 2 or 3 for the tracker, got {model!r}")
        self.model = model
        self.ndim = d = int(model.ndim)
        self.n = 2 * d
        self.gate_probability = _prob_param(gate_probability, "gate_probability")
        if gate is None:
            self.gate = gate_threshold(self.gate_probability, d)
        else:
            self.gate = _pos_param(gate, "gate", "(chi-square threshold)")
        ig = (gate_threshold(INIT_GATE_PROBABILITY, d) if init_gate is None
              else _pos_param(init_gate, "init_gate", "(chi-square threshold)"))
        self.init_gate = max(ig, self.gate)
        self.init_m = _int_param(init_m, "init_m", 1)
        self.init_n = _int_param(init_n, "init_n", 1)
        if self.init_m > self.init_n:
            raise ValueError(f"init_m must be <= init_n, got init_m={init_m!r}, init_n={init_n!r}")
        if self.init_n > 62:
            raise ValueError(f"init_n must be <= 62, got {init_n!r}")
        self.delete_after = _int_param(delete_after, "delete_after", 1)
        if association not in ("gnn", "jpda"):
            raise ValueError(f"association must be 'gnn' or 'jpda', got {association!r}")
        self.association = association
        if filter not in ("kf", "imm"):
            raise ValueError(f"filter must be 'kf' or 'imm', got {filter!r}")
        self.filter = filter
        self.pd = _prob_param(detection_probability, "detection_probability", open_right=False)
        self.clutter_density = _pos_param(clutter_density, "clutter_density", f"[1/m^{d}]")
        self.init_velocity_std = _pos_param(init_velocity_std, "init_velocity_std", "[m/s]")
        if delete_score_drop is not None:
            delete_score_drop = _pos_param(delete_score_drop, "delete_score_drop", "[1]")
        self.delete_score_drop = delete_score_drop
        if measurement not in ("position", "polar"):
            raise ValueError(f"measurement must be 'position' or 'polar', got {measurement!r}")
        self.measurement = measurement
        if sensor_positions is not None:
            sp = np.asarray(sensor_positions, dtype=float)
            if sp.ndim != 2 or sp.shape[1] != d or not np.all(np.isfinite(sp)):
                raise ValueError(f"sensor_positions must be a finite [S, {d}] array [m], "
                                 f"got shape {sp.shape}")
            self.sensor_positions = sp
        elif measurement == "polar":
            raise ValueError("sensor_positions is required for measurement='polar'")
        else:
            self.sensor_positions = None
        self.jpda_max_events = _pos_param(jpda_max_events, "jpda_max_events", "")
        q, omegas = _core_models(model, filter, imm_models, turn_rate, d)
        M = omegas.shape[0]
        if imm_transition is not None:
            Pi = np.asarray(imm_transition, dtype=float)
            if Pi.shape != (M, M) or np.any(Pi < 0) or not np.allclose(Pi.sum(axis=1), 1.0):
                raise ValueError(f"imm_transition must be a [{M}, {M}] matrix of probabilities "
                                 "whose rows sum to 1")
        else:
            try:
                p = float(imm_switch_probability)
            except (TypeError, ValueError):
                p = math.nan
            if not 0.0 <= p < 1.0:
                raise ValueError("imm_switch_probability must lie in [0, 1), got "
                                 f"{imm_switch_probability!r}")
            Pi = (np.full((M, M), p / (M - 1)) if M > 1 else np.zeros((1, 1)))
            np.fill_diagonal(Pi, 1.0 - p)
        if imm_initial is not None:
            mu0 = np.asarray(imm_initial, dtype=float)
            if mu0.shape != (M,) or np.any(mu0 < 0) or not np.isclose(mu0.sum(), 1.0):
                raise ValueError(f"imm_initial must be {M} probabilities summing to 1")
        else:
            mu0 = np.full(M, 1.0 / M)
        self.mu0 = np.ascontiguousarray(mu0)
        self.M = M
        self.Pi = Pi
        self.models = ((model,) if filter == "kf" else tuple(imm_models) if imm_models is not None
                       else (model, CoordinatedTurn(float(omegas[1]), q, d),
                             CoordinatedTurn(float(omegas[2]), q, d)))
        self.cfg = core.TrackerConfig(TIME_STEP, q, float(self.gate), float(self.init_gate),
                                      float(self.init_velocity_std), self.init_m, self.init_n,
                                      filter == "imm", association == "jpda",
                                      float(self.jpda_max_events), np.ascontiguousarray(omegas),
                                      np.ascontiguousarray(Pi))
        self._miss_w = max(1.0 - self.pd * self.gate_probability, 1e-300)
        self._log_miss = math.log(self._miss_w)
        self._log_pd_lam = math.log(self.pd / self.clutter_density)
        # JPDA's likelihood ratios in 3-D: a 2-D tracker's pinned height multiplies every density
        # by N(0; 0, 2 ZVAR), which the clutter density takes too
        self._lam3 = self.clutter_density / (math.sqrt(4.0 * math.pi * ZVAR) if d == 2 else 1.0)
        self._score_drop = math.inf if delete_score_drop is None else float(delete_score_drop)
        self._keep_history = bool(history)
        self.cost_log: list | None = [] if keep_costs else None
        self._capacity0 = _int_param(capacity, "capacity", 1)
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget all tracks and the history."""
        self.time: float | None = None
        self._step: int | None = None
        self._next_id = 0
        self._K = 0
        self._NZ = 0
        self._grow(self._capacity0, 16)
        self._hist: list[tuple] = []
        self._confirmed_ids: list[np.ndarray] = []

    def _grow(self, K: int, NZ: int) -> None:
        """Track table of K slots and work arrays for NZ measurements, the live tracks kept."""
        M = self.M
        tb, wk, pairs, tb_arrays, wk_arrays = core.new_tables_fields(K, NZ, M, self.cfg.use_imm)
        core.seed_fields(tb, tb_arrays)
        core.seed_fields(wk, wk_arrays)
        fields = {"_id": np.full(K, -1, np.int64), "_score": np.zeros(K), "_max_score": np.zeros(K),
                  "_misses": np.zeros(K, np.int64), "_sensor": np.zeros(K, np.int32),
                  "_Xp": np.zeros((K, 6)), "_Pp": np.zeros((K, 6, 6))}
        if self._K:
            K0 = self._K
            for name in core._TRACK_TABLE_FIELDS:
                old = getattr(self.table, name)
                getattr(tb, name)[: old.shape[0]] = old
            for name, arr in fields.items():
                arr[:K0] = getattr(self, name)
        for name, arr in fields.items():
            setattr(self, name, arr)
        self.table, self._work, self._pairs = tb, wk, pairs
        self._confirmed = np.empty(K, np.int64)
        self._K, self._NZ = K, NZ

    def _out(self, X: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The core's 6-D states as the tracker's ``2 ndim``-D ones."""
        if self.ndim == 3:
            return X, P
        ax = [0, 1, 3, 4]
        return X[:, ax], P[:, ax][:, :, ax]

    def _view(self, conf_only: bool) -> Tracks:
        tb = self.table
        live = (tb.st == core.TRK_CONFIRMED) if conf_only else (tb.st != core.TRK_FREE)
        sl = np.flatnonzero(live)
        sl = sl[np.argsort(self._id[sl], kind="stable")]
        x, P = self._out(tb.X[sl], tb.P[sl])
        mu = tb.mu[sl] if self.cfg.use_imm else np.ones((sl.size, 1))
        return Tracks(self.time if self.time is not None else math.nan, self._id[sl], x, P,
                      self._score[sl], (tb.st[sl] == core.TRK_CONFIRMED).astype(np.int8), mu,
                      self._sensor[sl])

    @property
    def tracks(self) -> Tracks:
        """All live tracks, tentative included (in id order)."""
        return self._view(False)

    @property
    def confirmed(self) -> Tracks:
        """The live confirmed tracks (in id order)."""
        return self._view(True)

    def history(self) -> TrackHistory:
        """Every (scan, track) state held so far (needs ``history=True``)."""
        n = self.n
        if not self._hist:
            return TrackHistory(np.empty(0), np.empty(0, np.int64), np.empty((0, n)),
                                np.empty((0, n, n)), np.empty(0, np.int8), np.empty(0, np.int64))
        t = np.concatenate([np.full(h[1].shape[0], h[0]) for h in self._hist])
        cid = (np.unique(np.concatenate(self._confirmed_ids)) if self._confirmed_ids
               else np.empty(0, np.int64))
        return TrackHistory(t, np.concatenate([h[1] for h in self._hist]),
                            np.concatenate([h[2] for h in self._hist]),
                            np.concatenate([h[3] for h in self._hist]),
                            np.concatenate([h[4] for h in self._hist]), cid)

    # ------------------------------------------------------------------ helpers

    def _measurements(self, z, R, sensor_ids):
        d = self.ndim
        z = np.require(np.asarray(z, dtype=float), requirements=["C", "W"])
        if z.size == 0:
            z = z.reshape(0, d)
        if z.ndim != 2 or z.shape[1] != d:
            raise ValueError(f"measurements must have shape [k, {d}], got {z.shape}")
        k = z.shape[0]
        R = np.asarray(R, dtype=float)
        if R.shape == (d, d):
            _check_covariance(R[None])
            R = np.repeat(R[None], k, axis=0)
        elif R.shape == (k, d, d):
            _check_covariance(R)
        else:
            raise ValueError(f"R must have shape [{d}, {d}] or [k, {d}, {d}] with k={k}, got {R.shape}")
        if sensor_ids is None:
            sid = np.zeros(k, np.int32)
        else:
            sid = np.asarray(sensor_ids)
            if sid.ndim == 0:
                sid = np.full(k, sid, np.int32)
            if sid.shape != (k,) or not np.issubdtype(sid.dtype, np.integer) or (k and sid.min() < 0):
                raise ValueError(f"sensor_ids must be {k} integers >= 0, got {sensor_ids!r}")
            sid = sid.astype(np.int32, copy=False)
        if not np.isfinite(z).all():
            raise ValueError("measurements must be finite")
        if self.measurement == "polar":
            if self.sensor_positions is None or (k and sid.max() >= self.sensor_positions.shape[0]):
                raise ValueError("sensor_ids must index sensor_positions for polar measurements")
            z, R = converted_measurement(z, R, self.sensor_positions[sid])
        if d == 2:   # the pinned height: 0 m, variance ZVAR
            z3 = np.zeros((k, 3))
            z3[:, :2] = z
            R3 = np.zeros((k, 3, 3))
            R3[:, :2, :2] = R
            R3[:, 2, 2] = ZVAR
            z, R = z3, R3
        return np.ascontiguousarray(z), np.ascontiguousarray(R), sid

    # ------------------------------------------------------------------ the scan

    def step(self, t: float, measurements: ArrayLike, R: ArrayLike,
             sensor_ids: ArrayLike | None = None) -> Tracks:
        """Process one scan of detections (all radars) at time ``t`` [s].

        Parameters
        ----------
        t : scan time [s], not decreasing (kept to ``TIME_STEP``).
        measurements : ``[k, ndim]`` positions [m] (or polar, see ``measurement``).
        R : noise covariance ``[ndim, ndim]`` (shared) or ``[k, ndim, ndim]`` [m^2].
        sensor_ids : radar index of each measurement ``[k]`` (kept per track; selects
            ``sensor_positions`` for polar measurements).

        Returns the confirmed tracks after the scan (:class:`Tracks`).
        """
        t = float(t)
        if not (math.isfinite(t) and abs(t) < 9e12):
            raise ValueError(f"t must be finite and below 9e12 in size [s], got {t!r}")
        if self.time is not None and t < self.time:
            raise ValueError(f"t must not decrease: got {t} after {self.time} [s]")
        z, R, sid = self._measurements(measurements, R, sensor_ids)
        step = int(round(t / TIME_STEP))
        k = z.shape[0]
        tb = self.table
        free = int(np.count_nonzero(tb.st == core.TRK_FREE))
        if free < k or k > self._NZ:
            self._grow(max(self._K, 2 * (self._K - free + k)), max(self._NZ, k))
            tb = self.table
        self.time, self._step = t, step
        wk = self._work
        lab = np.full(k, -1, np.int64)
        lam = np.full(k, self._lam3)
        (self._pairs, nk, nupd, nconf, nb, _lost, hs, hX, hP, hst) = tracker_scan(
            self.cfg, tb, wk, self._pairs, step, z, R, lab, lam, k, self.pd, self._miss_w,
            self._confirmed, self.ndim, self.mu0, self._log_pd_lam, self._log_miss, self._score,
            self._max_score, self._misses, self.delete_after, self._score_drop, self._Xp, self._Pp)
        if self.cost_log is not None:
            npair = int(wk.rowdeg[:k].sum()) if k else 0
            p = self._pairs
            self.cost_log.append((np.arange(nk), np.arange(k), p.row[:npair].copy(),
                                  p.col[:npair].copy(), p.lr[:npair].copy(), self.gate))
        if nupd:
            self._sensor[wk.upd[:nupd]] = sid[wk.upd_lab[:nupd]]
        old_ids = self._id[hs]
        if nconf:
            self._confirmed_ids.append(self._id[self._confirmed[:nconf]])
        if nb:
            born = wk.born[:nb].copy()
            ids = np.arange(self._next_id, self._next_id + nb)
            self._next_id += nb
            self._id[born] = ids
            self._sensor[born] = sid[np.flatnonzero(wk.near[:k] > self.cfg.gamma_init)[:nb]]
            if self.init_m <= 1:
                self._confirmed_ids.append(ids)
        if self._keep_history:
            if nk:
                x, P = self._out(hX, hP)
                self._hist.append((t, old_ids, x, P, hst))
            if nb:
                x, P = self._out(tb.X[born], tb.P[born])
                st = (tb.st[born] == core.TRK_CONFIRMED).astype(np.int8)
                self._hist.append((t, ids, x, P, st))
        return self.confirmed

    def run(self, scans: Iterable[tuple]) -> TrackHistory:
        """Process ``(t, measurements, R[, sensor_ids])`` scans in order; returns :meth:`history`."""
        for scan in scans:
            self.step(*scan)
        return self.history()
