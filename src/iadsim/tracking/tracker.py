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
   probabilities from the model likelihoods;
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
(``M = 1`` for the Kalman filter), the combined ``x [T, n]``, ``P [T, n, n]``, and ``status``,
``hits``, ``age``, ``misses``, ``score`` ``[T]``. Deletion compacts the arrays; births append.

Batching replications (the engine's later need): every numeric step is a pure function that
broadcasts over leading axes (:mod:`.kalman`, :mod:`.imm`, :mod:`.models`), so a batched
tracker stores ``[R, T_max, ...]`` arrays with a ``live [R, T_max]`` mask instead of compacting,
predicts and updates all replications with one call each, and loops over replications only for
the assignment (``linear_sum_assignment`` solves one problem per call; the gating and the
reduction kernels take one replication's arrays). This class is the single-scenario case.

References
----------
- Blackman, S. & Popoli, R. (1999). *Design and Analysis of Modern Tracking Systems*. Artech
  House. Track initiation (M-of-N), confirmation and deletion; track score (LLR).
- Sittler, R. W. (1964). An optimal data association problem in surveillance theory. *IEEE
  Trans. Mil. Electron.* 8(2), 125-139. doi:10.1109/TME.1964.4323129
- Bar-Shalom, Y., Li, X. R. & Kirubarajan, T. (2001). *Estimation with Applications to
  Tracking and Navigation*. Wiley. §5.2 (Kalman filter), §11.6.6 (IMM).
- See :mod:`.association`, :mod:`.jpda`, :mod:`.imm` for the association and IMM references.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
    (``TENTATIVE`` or ``CONFIRMED``), ``mu [T, M]`` (IMM mode probabilities).
    """

    t: float
    id: np.ndarray
    x: np.ndarray
    P: np.ndarray
    score: np.ndarray
    status: np.ndarray
    mu: np.ndarray

    @property
    def quality(self) -> np.ndarray:
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
        if not hasattr(model, "transition") or not hasattr(model, "noise") or not hasattr(model, "ndim"):
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
                raise ValueError(f"sensor_positions must be a finite [S, {d}] array [m], got shape {sp.shape}")
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
        self._x = np.empty((0, n))
        self._P = np.empty((0, n, n))
        self._status = np.empty(0, np.int8)
        self._hits = np.empty(0, np.int32)
        self._age = np.empty(0, np.int32)
        self._misses = np.empty(0, np.int32)
        self._score = np.empty(0)
        self._max_score = np.empty(0)
        self._sensor = np.empty(0, np.int32)
        self._hist: list[tuple] = []
        self._confirmed_ids: list[np.ndarray] = []

    @property
    def tracks(self) -> Tracks:
        """All live tracks, tentative included."""
        return Tracks(self.time if self.time is not None else math.nan, self._id, self._x, self._P,
                      self._score, self._status, self._mu)

    @property
    def confirmed(self) -> Tracks:
        """The live confirmed tracks."""
        c = self._status == CONFIRMED
        return Tracks(self.time if self.time is not None else math.nan, self._id[c], self._x[c],
                      self._P[c], self._score[c], self._status[c], self._mu[c])

    def history(self) -> TrackHistory:
        """Every (scan, track) state held so far (needs ``history=True``)."""
        n = self.n
        if not self._hist:
            return TrackHistory(np.empty(0), np.empty(0, np.int64), np.empty((0, n)),
                                np.empty((0, n, n)), np.empty(0, np.int8), np.empty(0, np.int64))
        t = np.concatenate([np.full(h[1].shape[0], h[0]) for h in self._hist])
        cid = np.unique(np.concatenate(self._confirmed_ids)) if self._confirmed_ids else np.empty(0, np.int64)
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
        z = np.asarray(z, dtype=float)
        if z.size == 0:
            z = z.reshape(0, d)
        if z.ndim != 2 or z.shape[1] != d:
            raise ValueError(f"measurements must have shape [k, {d}], got {z.shape}")
        k = z.shape[0]
        R = np.asarray(R, dtype=float)
        if R.shape == (d, d):
            R = np.broadcast_to(R, (k, d, d))
        elif R.shape != (k, d, d):
            raise ValueError(f"R must have shape [{d}, {d}] or [k, {d}, {d}] with k={k}, got {R.shape}")
        if sensor_ids is None:
            sid = np.zeros(k, np.int32)
        else:
            sid = np.asarray(sensor_ids)
            if sid.ndim == 0:
                sid = np.full(k, int(sid), np.int32)
            if sid.shape != (k,) or (k and sid.min() < 0):
                raise ValueError(f"sensor_ids must be {k} integers >= 0, got shape {sid.shape}")
        if not np.isfinite(z).all():
            raise ValueError("measurements must be finite")
        diag = np.diagonal(R, axis1=-2, axis2=-1)
        if not (diag > 0).all() or not np.isfinite(R).all():
            raise ValueError("R must be positive definite: finite, with variances > 0 on its diagonal")
        if self.measurement == "polar":
            if self.sensor_positions is None or (k and sid.max() >= self.sensor_positions.shape[0]):
                raise ValueError("sensor_ids must index sensor_positions for polar measurements")
            z, R = converted_measurement(z, R, self.sensor_positions[sid])
        return z, np.ascontiguousarray(R), sid

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
        d, M, gamma = self.ndim, self.M, self.gate
        dt = 0.0 if self.time is None else t - self.time
        self.time = t
        k = z.shape[0]
        T = self._id.shape[0]

        # 1. predict -------------------------------------------------------------------
        xm, Pm, mu = self._xm, self._Pm, self._mu
        c = mu
        if T and dt > 0.0:
            F, Q = self._fq(dt)
            if M > 1:
                xm, Pm, c = imm_mix(mu, self.Pi, xm, Pm)
            xm, Pm = kf_predict_models(xm, Pm, F, Q)
            if M > 1:
                x, P = imm_combine(c, xm, Pm)
            else:
                x, P = xm[:, 0], Pm[:, 0]
        else:
            xm, Pm = xm.copy(), Pm.copy()
            x, P = self._x, self._P
        mu = c.copy()
        score = self._score.copy()
        hit = np.zeros(T, bool)
        taken = np.zeros(k, bool)
        dscore = np.full(T, self._log_miss)

        # 2. gate ----------------------------------------------------------------------
        rows, cols, d2, ld = gate_pairs(x, P, z, R, gamma)
        conf_pair = self._status[rows] == CONFIRMED
        loghit = self._log_hit0 - 0.5 * (ld + d2)          # ln(P_D N(nu; 0, S) / lambda)

        # 3.-4. confirmed tracks ---------------------------------------------------------
        if self.association == "gnn":
            s1 = np.flatnonzero(conf_pair)
            a1 = s1[gnn_assign(T, k, rows[s1], cols[s1], d2[s1], gamma)] if s1.size else s1
            taken[cols[a1]] = True
            if self.cost_log is not None:
                self.cost_log.append((np.flatnonzero(self._status == CONFIRMED), np.arange(k),
                                      rows[s1], cols[s1], d2[s1], gamma))
        else:
            a1 = np.empty(0, np.int64)
            s1 = np.flatnonzero(conf_pair)
            if s1.size:
                self._jpda_update(rows[s1], cols[s1], loghit[s1], z, R, xm, Pm, c, mu, hit, dscore, T, k)
                taken[cols[s1]] = True
        # tentative tracks: GNN on what is left
        s2 = np.flatnonzero(~conf_pair & ~taken[cols])
        a2 = s2[gnn_assign(T, k, rows[s2], cols[s2], d2[s2], gamma)] if s2.size else s2
        if self.cost_log is not None:
            self.cost_log.append((np.flatnonzero(self._status == TENTATIVE), np.flatnonzero(~taken),
                                  rows[s2], cols[s2], d2[s2], gamma))
        a = np.concatenate([a1, a2]) if a1.size else a2
        if a.size:
            tr, ms = rows[a], cols[a]
            taken[ms] = True
            xu, Pu, ll = kf_update_models(xm[tr], Pm[tr], z[ms], R[ms])
            xm[tr] = xu
            Pm[tr] = Pu
            if M > 1:
                mu[tr] = imm_mode_probabilities(c[tr], ll)
            hit[tr] = True
            dscore[tr] = loghit[a]
            self._sensor[tr] = sid[ms]
        if M > 1:
            x, P = imm_combine(mu, xm, Pm)
        else:
            x, P = xm[:, 0], Pm[:, 0]

        # 5. track management ---------------------------------------------------------------
        age = self._age + 1
        hits = self._hits + hit
        misses = np.where(hit, 0, self._misses + 1).astype(np.int32)
        score += dscore
        max_score = np.maximum(self._max_score, score)
        status = self._status.copy()
        tent = status == TENTATIVE
        confirm = tent & (hits >= self.init_m)
        status[confirm] = CONFIRMED
        drop = tent & ~confirm & (hits + (self.init_n - age) < self.init_m)
        conf = status == CONFIRMED
        drop |= conf & (misses >= self.delete_after)
        if self.delete_score_drop is not None:
            drop |= conf & (max_score - score > self.delete_score_drop)
        # births from the measurements nobody used
        new = np.flatnonzero(~taken)
        ids = self._id
        sensor = self._sensor
        if new.size:
            nb = new.size
            n = self.n
            bx = np.zeros((nb, n))
            bx[:, :d] = z[new]
            bP = np.zeros((nb, n, n))
            bP[:, :d, :d] = R[new]
            iv = np.arange(d, n)
            bP[:, iv, iv] = self.init_velocity_std ** 2
            bid = np.arange(self._next_id, self._next_id + nb, dtype=np.int64)
            self._next_id += nb
            bstat = np.full(nb, CONFIRMED if self.init_m == 1 else TENTATIVE, np.int8)
            ids = np.concatenate([ids, bid])
            x = np.concatenate([x, bx])
            P = np.concatenate([P, bP])
            xm = np.concatenate([xm, np.repeat(bx[:, None], M, axis=1)])
            Pm = np.concatenate([Pm, np.repeat(bP[:, None], M, axis=1)])
            mu = np.concatenate([mu, np.broadcast_to(self.mu0, (nb, M))])
            status = np.concatenate([status, bstat])
            hits = np.concatenate([hits, np.ones(nb, np.int32)])
            age = np.concatenate([age, np.ones(nb, np.int32)])
            misses = np.concatenate([misses, np.zeros(nb, np.int32)])
            score = np.concatenate([score, np.zeros(nb)])
            max_score = np.concatenate([max_score, np.zeros(nb)])
            sensor = np.concatenate([sensor, sid[new].astype(np.int32)])
            drop = np.concatenate([drop, np.zeros(nb, bool)])
        if self._keep_history:
            self._hist.append((t, ids, x.copy(), P.copy(), status))
        if confirm.any():
            self._confirmed_ids.append(self._id[confirm])
        if new.size and self.init_m == 1:
            self._confirmed_ids.append(ids[T:])
        if drop.any():
            keep = ~drop
            ids, x, P, xm, Pm, mu = ids[keep], x[keep], P[keep], xm[keep], Pm[keep], mu[keep]
            status, hits, age, misses = status[keep], hits[keep], age[keep], misses[keep]
            score, max_score, sensor = score[keep], max_score[keep], sensor[keep]
        self._id, self._x, self._P, self._xm, self._Pm, self._mu = ids, x, P, xm, Pm, mu
        self._status, self._hits, self._age, self._misses = status, hits, age, misses
        self._score, self._max_score, self._sensor = score, max_score, sensor
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
            # IMMPDAF model likelihood (Houles & Bar-Shalom 1989):
            # Lambda_j = 1 - P_D P_G + sum_i P_D N(nu_ij; 0, S_ij) / lambda
            lrm = np.exp(self._log_hit0 + 0.5 * self.ndim * math.log(2.0 * math.pi) + ll)  # [p, M]
            lam = np.full((u.size, self.M), miss_w)
            np.add.at(lam, pos, lrm)
            mu[u] = imm_mode_probabilities(c[u], np.log(lam))
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
