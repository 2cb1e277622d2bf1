"""The central multi-target tracker: arrays of tracks, wired from the pure functions.

One :class:`Tracker` fuses the detections of all radars, scan by scan (:meth:`Tracker.step`).
Each scan:

1. **predict** every track to the scan time with its motion model(s) (Kalman filter, or IMM
   mixing + model-matched prediction);
2. **gate** all track-measurement pairs with the chi-square gate on the combined prediction
   (:func:`.association.gate_pairs`);
3. **associate** confirmed tracks first, by GNN (:func:`.association.gnn_assign`) or JPDA
   (:func:`.jpda.jpda_weights`), then tentative tracks by GNN on the measurements the
   confirmed tracks did not use (JPDA: that fall in no confirmed track's gate);
4. **update**: Kalman update with the assigned measurement (GNN), or the moment-matched
   mixture of the per-measurement updates (JPDA, :func:`.jpda.mixture_update`); IMM mode
   probabilities from the model likelihoods (GNN), or, with JPDA, the association-weighted
   mixture of the per-measurement mode posteriors (for one track this is the IMMPDAF of
   Houles & Bar-Shalom 1989);
5. **track management** (Blackman & Popoli 1999): every measurement left over starts a
   *tentative* track (position from the measurement, velocity 0 with standard deviation
   ``init_velocity_std``); a tentative track is *confirmed* once it has ``init_m`` hits
   within its first ``init_n`` scans (the initiating detection counts) and deleted as soon as
   it can no longer reach ``init_m``; a confirmed track is deleted after ``delete_after``
   consecutive scans without a hit (or, optionally, when its score falls ``delete_score_drop``
   below its maximum). The track *score* is the log-likelihood ratio of Blackman & Popoli
   (1999; Sittler 1964): ``+ ln(P_D N(nu; 0, S) / lambda)`` per hit, ``+ ln(1 - P_D P_G)``
   per miss, ``lambda`` the clutter density; ``quality = 1 / (1 + exp(-score))``.

Tracks live in arrays (no Python object per track): ``id [T]``, per-model states
``xm [T, M, n]`` and covariances ``Pm [T, M, n, n]``, mode probabilities ``mu [T, M]``
(``M = 1`` for the Kalman filter; the combined ``x [T, n]``, ``P [T, n, n]`` are derived from
them), and ``status``, ``hits``, ``age``, ``misses``, ``score``, ``sensor`` ``[T]``. One
compiled pass (:func:`_manage_kernel`) updates the counters, applies M-of-N and deletion,
appends the births and compacts the arrays. The per-scan Kalman prediction and update run in
compiled kernels (:func:`.kalman.kf_predict_models`, :func:`.kalman.kf_update_models`) with the
equations of the numpy functions :func:`.kalman.kf_predict`, :func:`.kalman.kf_update`, which
the tests hold them to: on stacks of 4x4 or 6x6 matrices numpy's per-call overhead, not the
arithmetic, would dominate.

Batching replications (the engine's later need): every numeric function broadcasts over
leading axes (:mod:`.kalman`, :mod:`.imm`, :mod:`.models`) and the compiled kernels take a
flat track axis, so a batched tracker keeps ``[R, T_max, ...]`` arrays with a
``live [R, T_max]`` mask instead of compacting, predicts and updates all replications in one
call on the ``[R * T_max, ...]`` view, and loops over replications only for gating and
assignment (``linear_sum_assignment`` solves one problem per call). This class is the
single-scenario case.

References
----------
- Blackman, S. & Popoli, R. (1999). *Design and Analysis of Modern Tracking Systems*. Artech
  House. Track initiation (M-of-N), confirmation and deletion; track score (LLR).
- Houles, A. & Bar-Shalom, Y. (1989). Multisensor tracking of a maneuvering target in clutter.
  *IEEE Trans. Aerosp. Electron. Syst.* 25(2), 176-189 (the IMMPDAF).
- Sittler, R. W. (1964). An optimal data association problem in surveillance theory. *IEEE
  Trans. Mil. Electron.* 8(2), 125-139.
- Bar-Shalom, Y., Li, X. R. & Kirubarajan, T. (2001). *Estimation with Applications to
  Tracking and Navigation*. Wiley. §5.2 (Kalman filter), §11.6.6 (IMM).
- See :mod:`.association`, :mod:`.jpda`, :mod:`.imm` for the association and IMM references.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import ArrayLike

from iadsim.tracking.association import gate_pairs, gnn_assign
from iadsim.tracking.imm import imm_combine, imm_mix, imm_mode_probabilities, markov_matrix
from iadsim.tracking.jpda import jpda_weights, mixture_update
from iadsim.tracking.kalman import gate_threshold, kf_predict_models, kf_update_models
from iadsim.tracking.models import ConstantVelocity, CoordinatedTurn, converted_measurement

__all__ = ["Tracker", "Tracks", "TrackHistory", "TENTATIVE", "CONFIRMED"]

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
def _manage_kernel(ids, xm, Pm, mu, status, hits, age, misses, score, max_score, sensor,
                   hit, dscore, taken, z, R, sid, next_id, init_m, init_n, delete_after,
                   score_drop, vel_var, mu0, birth_status):  # pragma: no cover - numba
    """Counters, M-of-N confirmation, deletion, births and compaction in one pass.

    Returns the new track arrays (kept tracks in order, then births), the status of the old
    tracks after confirmation (before deletion), which old tracks were confirmed now, and the
    number kept.
    """
    T, M, n = xm.shape
    k, d = z.shape
    st_pre = np.empty(T, np.int8)
    newconf = np.zeros(T, np.bool_)
    keep = np.zeros(T, np.bool_)
    nh = np.empty(T, np.int32)
    na = np.empty(T, np.int32)
    nm = np.empty(T, np.int32)
    ns = np.empty(T)
    nx = np.empty(T)
    nkeep = 0
    for t in range(T):
        a = age[t] + 1
        h = hits[t] + (1 if hit[t] else 0)
        m = 0 if hit[t] else misses[t] + 1
        sc = score[t] + dscore[t]
        mx = max(max_score[t], sc)
        st = status[t]
        drop = False
        if st == 0:  # TENTATIVE
            if h >= init_m:
                st = 1
                newconf[t] = True
            elif h + (init_n - a) < init_m:
                drop = True
        if st == 1 and (m >= delete_after or mx - sc > score_drop):
            drop = True
        st_pre[t] = st
        nh[t], na[t], nm[t], ns[t], nx[t] = h, a, m, sc, mx
        if not drop:
            keep[t] = True
            nkeep += 1
    nb = 0
    for j in range(k):
        if not taken[j]:
            nb += 1
    N = nkeep + nb
    ids_o = np.empty(N, np.int64)
    xm_o = np.zeros((N, M, n))
    Pm_o = np.zeros((N, M, n, n))
    mu_o = np.empty((N, M))
    st_o = np.empty(N, np.int8)
    h_o = np.empty(N, np.int32)
    a_o = np.empty(N, np.int32)
    m_o = np.empty(N, np.int32)
    s_o = np.empty(N)
    x_o = np.empty(N)
    sen_o = np.empty(N, np.int32)
    i = 0
    for t in range(T):
        if keep[t]:
            ids_o[i] = ids[t]
            xm_o[i] = xm[t]
            Pm_o[i] = Pm[t]
            mu_o[i] = mu[t]
            st_o[i], h_o[i], a_o[i] = st_pre[t], nh[t], na[t]
            m_o[i], s_o[i], x_o[i] = nm[t], ns[t], nx[t]
            sen_o[i] = sensor[t]
            i += 1
    for j in range(k):
        if taken[j]:
            continue
        ids_o[i] = next_id
        next_id += 1
        for m in range(M):
            for a in range(d):
                xm_o[i, m, a] = z[j, a]
                for b in range(d):
                    Pm_o[i, m, a, b] = R[j, a, b]
                Pm_o[i, m, d + a, d + a] = vel_var
            mu_o[i, m] = mu0[m]
        st_o[i] = birth_status
        h_o[i], a_o[i], m_o[i], s_o[i], x_o[i] = 1, 1, 0, 0.0, 0.0
        sen_o[i] = sid[j]
        i += 1
    return (ids_o, xm_o, Pm_o, mu_o, st_o, h_o, a_o, m_o, s_o, x_o, sen_o, st_pre, newconf, nkeep)


class Tracker:
    """Central multi-target tracker (GNN or JPDA association, Kalman filter or IMM).

    Parameters
    ----------
    model : motion model; :class:`~.models.ConstantVelocity` (default ``q = 1 m^2/s^3``,
        3-D). Its ``ndim`` (2 or 3) fixes the state ``[T, 2 ndim]`` and measurement dimension.
    gate_probability : probability ``P_G`` that the true measurement falls in the gate; the
        gate is its chi-square quantile with ``ndim`` degrees of freedom.
    gate : the chi-square gate [1] directly (overrides ``gate_probability``), > 0.
    init_m, init_n : M-of-N confirmation (``1 <= init_m <= init_n``).
    delete_after : consecutive missed scans that delete a confirmed track (>= 1).
    association : ``"gnn"`` or ``"jpda"`` (confirmed tracks; tentative tracks use GNN).
    filter : ``"kf"`` or ``"imm"`` (``model`` + coordinated turns at +/- ``turn_rate``, or
        ``imm_models``).
    detection_probability : ``P_D`` in (0, 1], for the score and JPDA.
    clutter_density : false-alarm spatial density ``lambda`` [1/m^ndim], > 0, for the score
        and JPDA.
    init_velocity_std : standard deviation of the unknown initial velocity [m/s], > 0.
    turn_rate : IMM coordinated-turn rate [rad/s], > 0 (default 0.05 rad/s, 2.9 deg/s).
    imm_models : explicit IMM model list (same ``ndim``), instead of the default three.
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
    keep_costs : keep each GNN problem in ``cost_log`` as ``(track indices, measurement
        indices, rows, cols, d2, gate)`` (for benchmarks).
    jpda_max_events : joint events above which a JPDA cluster uses the cheap approximation.
    """

    def __init__(self, model: ConstantVelocity | None = None, *, gate_probability: float = 0.99,
                 gate: float | None = None, init_m: int = 2, init_n: int = 3, delete_after: int = 3,
                 association: str = "gnn", filter: str = "kf", detection_probability: float = 0.9,
                 clutter_density: float = 1e-9, init_velocity_std: float = 300.0,
                 turn_rate: float = 0.05, imm_models: Sequence | None = None,
                 imm_switch_probability: float = 0.05, imm_transition: ArrayLike | None = None,
                 imm_initial: ArrayLike | None = None, delete_score_drop: float | None = None,
                 measurement: str = "position", sensor_positions: ArrayLike | None = None,
                 history: bool = True, keep_costs: bool = False, jpda_max_events: float = 1e5):
        if model is None:
            model = ConstantVelocity(q=1.0, ndim=3)
        if not all(hasattr(model, a) for a in ("transition", "noise", "ndim")):
            raise ValueError(f"model must be a motion model such as ConstantVelocity, got {model!r}")
        if model.ndim not in (2, 3):
            raise ValueError(f"model.ndim must be 2 or 3 for the tracker, got {model.ndim!r}")
        self.model = model
        self.ndim = d = int(model.ndim)
        self.n = 2 * d
        self.gate_probability = _prob_param(gate_probability, "gate_probability")
        if gate is None:
            self.gate = gate_threshold(self.gate_probability, d)
        else:
            self.gate = _pos_param(gate, "gate", "(chi-square threshold)")
        self.init_m = _int_param(init_m, "init_m", 1)
        self.init_n = _int_param(init_n, "init_n", 1)
        if self.init_m > self.init_n:
            raise ValueError(f"init_m must be <= init_n, got init_m={init_m!r}, init_n={init_n!r}")
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
        # motion models
        if filter == "kf":
            models = [model]
        elif imm_models is not None:
            models = list(imm_models)
            if len(models) < 2:
                raise ValueError("imm_models must hold at least two models")
            if any(getattr(m, "ndim", None) != d for m in models):
                raise ValueError(f"imm_models must all have ndim={d}")
        else:
            w = _pos_param(turn_rate, "turn_rate", "[rad/s]")
            models = [model, CoordinatedTurn(w, model.q, d), CoordinatedTurn(-w, model.q, d)]
        self.models = tuple(models)
        M = len(models)
        if imm_transition is not None:
            Pi = np.asarray(imm_transition, dtype=float)
            if Pi.shape != (M, M) or np.any(Pi < 0) or not np.allclose(Pi.sum(axis=1), 1.0):
                raise ValueError(f"imm_transition must be a [{M}, {M}] matrix of probabilities "
                                 "whose rows sum to 1")
        else:
            try:
                Pi = markov_matrix(M, float(imm_switch_probability))
            except (TypeError, ValueError):
                raise ValueError("imm_switch_probability must lie in [0, 1), got "
                                 f"{imm_switch_probability!r}") from None
        self.Pi = Pi
        if imm_initial is not None:
            mu0 = np.asarray(imm_initial, dtype=float)
            if mu0.shape != (M,) or np.any(mu0 < 0) or not np.isclose(mu0.sum(), 1.0):
                raise ValueError(f"imm_initial must be {M} probabilities summing to 1")
        else:
            mu0 = np.full(M, 1.0 / M)
        self.mu0 = mu0
        self.M = M
        self._log_miss = math.log(max(1.0 - self.pd * self.gate_probability, 1e-300))
        self._log_hit0 = math.log(self.pd / self.clutter_density) - 0.5 * d * math.log(2.0 * math.pi)
        self._score_drop = math.inf if delete_score_drop is None else float(delete_score_drop)
        self._birth_status = CONFIRMED if self.init_m == 1 else TENTATIVE
        self._keep_history = bool(history)
        self.cost_log: list | None = [] if keep_costs else None
        self._fq_cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget all tracks and the history."""
        n, M = self.n, self.M
        self.time: float | None = None
        self._next_id = 0
        self._id = np.empty(0, np.int64)
        self._xm = np.empty((0, M, n))
        self._Pm = np.empty((0, M, n, n))
        self._mu = np.empty((0, M))
        self._xP: tuple[np.ndarray, np.ndarray] | None = None
        self._status = np.empty(0, np.int8)
        self._hits = np.empty(0, np.int32)
        self._age = np.empty(0, np.int32)
        self._misses = np.empty(0, np.int32)
        self._score = np.empty(0)
        self._max_score = np.empty(0)
        self._sensor = np.empty(0, np.int32)
        self._hist: list[tuple] = []
        self._confirmed_ids: list[np.ndarray] = []

    def _combined(self, xm, Pm, mu):
        if self.M == 1:
            return xm[:, 0], Pm[:, 0]
        return imm_combine(mu, xm, Pm)

    def _state(self) -> tuple[np.ndarray, np.ndarray]:
        if self._xP is None:
            self._xP = self._combined(self._xm, self._Pm, self._mu)
        return self._xP

    @property
    def tracks(self) -> Tracks:
        """All live tracks, tentative included."""
        x, P = self._state()
        return Tracks(self.time if self.time is not None else math.nan, self._id, x, P,
                      self._score, self._status, self._mu, self._sensor)

    @property
    def confirmed(self) -> Tracks:
        """The live confirmed tracks."""
        c = self._status == CONFIRMED
        x, P = self._state()
        return Tracks(self.time if self.time is not None else math.nan, self._id[c], x[c],
                      P[c], self._score[c], self._status[c], self._mu[c], self._sensor[c])

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

    def _fq(self, dt: float) -> tuple[np.ndarray, np.ndarray]:
        fq = self._fq_cache.get(dt)
        if fq is None:
            if len(self._fq_cache) > 256:
                self._fq_cache.clear()
            F = np.stack([m.transition(dt) for m in self.models])
            Q = np.stack([m.noise(dt) for m in self.models])
            fq = self._fq_cache[dt] = (F, Q)
        return fq

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
            R = np.require(R, float, ["C", "W"])
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
            z, R = np.ascontiguousarray(z), np.ascontiguousarray(R)
        return z, R, sid

    # ------------------------------------------------------------------ the scan

    def step(self, t: float, measurements: ArrayLike, R: ArrayLike,
             sensor_ids: ArrayLike | None = None) -> Tracks:
        """Process one scan of detections (all radars) at time ``t`` [s].

        Parameters
        ----------
        t : scan time [s], not decreasing.
        measurements : ``[k, ndim]`` positions [m] (or polar, see ``measurement``).
        R : noise covariance ``[ndim, ndim]`` (shared) or ``[k, ndim, ndim]`` [m^2].
        sensor_ids : radar index of each measurement ``[k]`` (kept per track; selects
            ``sensor_positions`` for polar measurements).

        Returns the confirmed tracks after the scan (:class:`Tracks`).
        """
        t = float(t)
        if not math.isfinite(t):
            raise ValueError(f"t must be finite [s], got {t!r}")
        if self.time is not None and t < self.time:
            raise ValueError(f"t must not decrease: got {t} after {self.time} [s]")
        z, R, sid = self._measurements(measurements, R, sensor_ids)
        M, gamma = self.M, self.gate
        dt = 0.0 if self.time is None else t - self.time
        self.time = t
        k = z.shape[0]
        T = self._id.shape[0]
        status = self._status

        # 1. predict (IMM: mix first) --------------------------------------------------
        if T and dt > 0.0:
            F, Q = self._fq(dt)
            if M > 1:
                xm, Pm, c = imm_mix(self._mu, self.Pi, self._xm, self._Pm)
                xm, Pm = kf_predict_models(np.ascontiguousarray(xm), np.ascontiguousarray(Pm), F, Q)
                x, P = imm_combine(c, xm, Pm)
            else:
                xm, Pm = kf_predict_models(self._xm, self._Pm, F, Q)
                c = self._mu
                x, P = xm[:, 0], Pm[:, 0]
        else:
            xm, Pm, c = self._xm.copy(), self._Pm.copy(), self._mu
            x, P = self._combined(xm, Pm, c)
        mu = c.copy() if M > 1 else c
        hit = np.zeros(T, np.bool_)
        taken = np.zeros(k, np.bool_)
        dscore = np.full(T, self._log_miss)

        # 2. gate on the (combined) prediction -----------------------------------------
        rows, cols, d2, ld = gate_pairs(x, P, z, R, gamma)
        conf_pair = status[rows] == CONFIRMED
        loghit = self._log_hit0 - 0.5 * (ld + d2)          # ln(P_D N(nu; 0, S) / lambda)

        # 3.-4. associate and update: confirmed tracks first, then tentative ones ------
        s1 = np.flatnonzero(conf_pair)
        if self.association == "gnn":
            a1 = s1[gnn_assign(T, k, rows[s1], cols[s1], d2[s1], gamma)] if s1.size else s1
            taken[cols[a1]] = True
            if self.cost_log is not None:
                self.cost_log.append((np.flatnonzero(status == CONFIRMED), np.arange(k),
                                      rows[s1], cols[s1], d2[s1], gamma))
        else:
            a1 = s1[:0]
            if s1.size:
                self._jpda_update(rows[s1], cols[s1], loghit[s1], z, R, xm, Pm, c, mu, hit,
                                  dscore, T, k)
                taken[cols[s1]] = True
        s2 = np.flatnonzero(~(conf_pair | taken[cols]))
        a2 = s2[gnn_assign(T, k, rows[s2], cols[s2], d2[s2], gamma)] if s2.size else s2
        if self.cost_log is not None:
            self.cost_log.append((np.flatnonzero(status == TENTATIVE), np.flatnonzero(~taken),
                                  rows[s2], cols[s2], d2[s2], gamma))
        asg = np.concatenate([a1, a2]) if a1.size else a2
        if asg.size:
            tr, ms = rows[asg], cols[asg]
            taken[ms] = True
            xu, Pu, ll = kf_update_models(xm[tr], Pm[tr], z[ms], R[ms])
            xm[tr] = xu
            Pm[tr] = Pu
            if M > 1:
                mu[tr] = imm_mode_probabilities(c[tr], ll)
            hit[tr] = True
            dscore[tr] = loghit[asg]
            sensor = self._sensor.copy()
            sensor[tr] = sid[ms]
        else:
            sensor = self._sensor

        # 5. track management: M-of-N, deletion, births, compaction (one compiled pass) --
        old_id = self._id
        (ids, xm2, Pm2, mu2, st2, hits2, age2, mis2, sc2, mx2, sen2, st_pre, newconf,
         nkeep) = _manage_kernel(old_id, xm, Pm, mu, status, self._hits, self._age, self._misses,
                                 self._score, self._max_score, sensor, hit, dscore, taken, z, R,
                                 sid, self._next_id, self.init_m, self.init_n, self.delete_after,
                                 self._score_drop, self.init_velocity_std ** 2, self.mu0,
                                 self._birth_status)
        nb = ids.shape[0] - nkeep
        self._next_id += nb
        if self._keep_history:
            if M > 1:
                x, P = imm_combine(mu, xm, Pm)
            if T:
                self._hist.append((t, old_id, x, P, st_pre))
            if nb:
                self._hist.append((t, ids[nkeep:], xm2[nkeep:, 0], Pm2[nkeep:, 0], st2[nkeep:]))
        if T and newconf.any():
            self._confirmed_ids.append(old_id[newconf])
        if nb and self._birth_status == CONFIRMED:
            self._confirmed_ids.append(ids[nkeep:])
        self._id, self._xm, self._Pm, self._mu = ids, xm2, Pm2, mu2
        self._status, self._hits, self._age, self._misses = st2, hits2, age2, mis2
        self._score, self._max_score, self._sensor = sc2, mx2, sen2
        self._xP = None
        return self.confirmed

    def _jpda_update(self, r, cidx, loghit, z, R, xm, Pm, c, mu, hit, dscore, T, k):
        """JPDA (mixture) update of the confirmed tracks with gated pairs; writes in place."""
        lr = np.exp(loghit)
        miss_w = math.exp(self._log_miss)
        beta, beta0 = jpda_weights(T, k, r, cidx, lr, miss_w, self.jpda_max_events)
        xu, Pu, ll = kf_update_models(xm[r], Pm[r], z[cidx], R[cidx])
        u = np.unique(r)
        pos = np.searchsorted(u, r)
        xn, Pn = mixture_update(xm[u], Pm[u], beta0[u], pos, beta, xu, Pu)
        if self.M > 1:
            # Mode probabilities: the association-weighted mixture of the per-hypothesis mode
            # posteriors, mu_m = c_m (beta_0 + sum_j beta_j N_mj / sum_i c_i N_ij). With PDA's
            # beta this is exactly the IMMPDAF of Houles & Bar-Shalom (1989); with JPDA's beta a
            # measurement claimed by a neighbour no longer pulls this track's modes.
            cm = c[r]                                        # [p, M]
            top = ll.max(axis=1, keepdims=True)
            w = cm * np.exp(ll - top)
            ratio = w / w.sum(axis=1, keepdims=True)         # c_m N_mj / sum_i c_i N_ij
            acc = c[u] * beta0[u][:, None]
            np.add.at(acc, pos, beta[:, None] * ratio)
            mu[u] = acc / acc.sum(axis=1, keepdims=True)
        xm[u] = xn
        Pm[u] = Pn
        hit[u] = True
        s = np.full(u.size, miss_w)
        np.add.at(s, pos, lr)
        dscore[u] = np.log(s)

    def run(self, scans: Iterable[tuple]) -> TrackHistory:
        """Process ``(t, measurements, R[, sensor_ids])`` scans in order; returns :meth:`history`."""
        for scan in scans:
            self.step(*scan)
        return self.history()
