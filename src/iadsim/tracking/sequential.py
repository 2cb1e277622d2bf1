"""The engine's tracker as a Python class: :class:`SequentialTracker` wires the compiled track core
(:mod:`iadsim.tracking.core`) scan by scan, exactly as the full-fidelity kernel
(:mod:`iadsim.engine.full`) does.

The scans of several radars are processed one after another (sequential fusion). Per scan: every
live track is predicted to the scan's step (nearly constant velocity, or the IMM of constant
velocity and two coordinated turns); the tentative tracks the radar covers get a *look*; the
measurements are gated (chi-square, 3 degrees of freedom) and associated by global nearest
neighbour (optimal assignment, a measurement left unassigned costs the gate) or JPDA; a tentative
track's second point gives its velocity (two-point initiation); M-of-N confirmation counts hits
over looks; measurements in no track's initiation gate start tentative tracks; a track is deleted
when it has had no update for more than ``delete_after_steps`` steps (Blackman & Popoli, "Design
and Analysis of Modern Tracking Systems", Artech House 1999, ch. 3 and 6).

>>> import numpy as np
>>> from iadsim.tracking.sequential import SequentialTracker
>>> trk = SequentialTracker(dt=1.0, q=1.0, gate=11.34, init_gate=25.9, max_speed=400.0,
...                         confirm_m=2, confirm_n=3, delete_after_steps=3)
>>> R = np.diag([30.0**2] * 3)                                  # [m^2]
>>> for t in range(4):                                          # one target at 200 m/s east
...     out = trk.step(t, [[200.0 * t, 5000.0, 1000.0]], R)
>>> len(out["slot"]), bool(out["confirmed"][0]), out["x"].shape
(1, True, (1, 6))

Tracks sit in fixed slots (a slot is a track's id while it lives; a freed slot is reused by the
next new track, as in the engine).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from iadsim.tracking import core

__all__ = ["SequentialTracker"]


class SequentialTracker:
    """The full-fidelity engine's tracker over :mod:`iadsim.tracking.core`.

    Parameters
    ----------
    dt : step length [s]; scans are at whole steps ``t``.
    q : power spectral density of the white-noise acceleration per axis [m^2/s^3].
    gate : association gate, chi-square with 3 degrees of freedom [1].
    init_gate : a measurement within this chi-square distance of a track starts no new track [1].
    max_speed : largest target speed [m/s] (velocity prior of a new track, two-point gate).
    confirm_m, confirm_n : M-of-N confirmation on the looks.
    delete_after_steps : a track without update for more steps than this is deleted.
    filter : ``"kf"`` or ``"imm"`` (turn rate ``turn_rate`` [rad/s], ``switch_probability``).
    association : ``"gnn"`` or ``"jpda"``.
    capacity : track slots; max_measurements : measurements of one scan at most.
    jpda_max_events : joint events above which a JPDA cluster uses the cheap approximation.
    """

    def __init__(self, *, dt: float, q: float, gate: float, init_gate: float, max_speed: float,
                 confirm_m: int, confirm_n: int, delete_after_steps: int, filter: str = "kf",
                 association: str = "gnn", turn_rate: float = 0.05, switch_probability: float = 0.05,
                 capacity: int = 256, max_measurements: int = 128, jpda_max_events: float = 1e5):
        if filter not in ("kf", "imm"):
            raise ValueError(f"filter must be 'kf' or 'imm', got {filter!r}")
        if association not in ("gnn", "jpda"):
            raise ValueError(f"association must be 'gnn' or 'jpda', got {association!r}")
        for name, v in (("dt", dt), ("q", q), ("gate", gate), ("max_speed", max_speed)):
            if not (math.isfinite(float(v)) and float(v) > 0.0):
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        if not 1 <= int(confirm_m) <= int(confirm_n) <= 62:
            raise ValueError(f"need 1 <= confirm_m <= confirm_n <= 62, got {confirm_m}, {confirm_n}")
        self.use_imm = filter == "imm"
        self._args = (float(dt), float(q), float(gate), max(float(init_gate), float(gate)), float(max_speed),
                      int(confirm_m), int(confirm_n), self.use_imm, association == "jpda",
                      float(jpda_max_events), float(turn_rate), float(switch_probability))
        self.delete_after_steps = int(delete_after_steps)
        self.capacity = int(capacity)
        self.max_measurements = int(max_measurements)
        self.reset()

    def reset(self) -> None:
        """Forget all tracks."""
        self.cfg, tb, self._work, self._pairs, arrays = core.new_tracker_fields(
            *self._args, self.capacity, self.max_measurements)
        self.table = core.seed_fields(tb, arrays)
        self._confirmed = np.empty(self.capacity, np.int64)
        self._no_looks = np.empty(0, np.int64)
        self.time: int | None = None
        self.lost_measurements = 0

    def advance(self, t: int) -> None:
        """Move to step t: delete the tracks without update for more than ``delete_after_steps``."""
        if self.time is not None and t < self.time:
            raise ValueError(f"t must not decrease: got {t} after {self.time}")
        if self.time != t:
            tb = self.table
            live = tb.st != core.TRK_FREE
            tb.st[live & (t - tb.last_upd > self.delete_after_steps)] = core.TRK_FREE
        self.time = t

    def drop(self, slots: ArrayLike) -> None:
        """Delete the tracks in ``slots`` (e.g. at kill assessment of their target)."""
        self.table.st[np.asarray(slots, dtype=np.int64)] = core.TRK_FREE

    def step(self, t: int, z: ArrayLike, R: ArrayLike, labels: ArrayLike | None = None,
             looked=None, pd: float = 1.0, miss_weight: float | None = None,
             clutter_density: ArrayLike | None = None, picture: int = 0) -> dict:
        """One radar's scan at step ``t``: measurements ``z [k, 3]`` [m] (east, north, up), noise
        ``R [3, 3]`` or ``[k, 3, 3]`` [m^2], optional truth ``labels [k]`` (-1: false alarm).
        ``looked``: which tentative tracks the radar covers, a callable on the predicted states
        ``X [n, 6]`` returning ``[n]`` booleans, or the slots; None: all of them. JPDA uses ``pd``,
        ``miss_weight`` (1 - Pd Pg) and ``clutter_density [k]`` [1/m^3]. ``picture``: the track
        picture the scan feeds (the engine's C2 pictures: 0 the central one); only its tracks are
        predicted, gated and updated, and the tracks it starts belong to it. Returns :attr:`tracks`."""
        t = int(t)
        self.advance(t)
        z = np.ascontiguousarray(np.asarray(z, dtype=np.float64).reshape(-1, 3))
        k = z.shape[0]
        if k > self.max_measurements:
            raise ValueError(f"a scan holds at most {self.max_measurements} measurements, got {k}")
        R = np.asarray(R, dtype=np.float64)
        R = np.ascontiguousarray(np.broadcast_to(R, (k, 3, 3)) if R.shape == (3, 3) else R)
        if R.shape != (k, 3, 3) or not (np.isfinite(z).all() and np.isfinite(R).all()):
            raise ValueError(f"need finite z [k, 3] and R [3, 3] or [k, 3, 3], got {z.shape}, {R.shape}")
        lab = (np.full(k, -1, np.int64) if labels is None
               else np.ascontiguousarray(np.asarray(labels, dtype=np.int64)))
        lam = (np.full(k, 1.0, np.float64) if clutter_density is None
               else np.ascontiguousarray(np.asarray(clutter_density, dtype=np.float64)))
        mw = 1.0 - pd if miss_weight is None else float(miss_weight)
        cfg, tb, wk = self.cfg, self.table, self._work
        if callable(looked):
            # the tentative tracks as predicted to t (a prediction to the same step is a no-op)
            core.predict_tracks(cfg, tb, wk, t, int(picture))
            tent = np.flatnonzero((tb.st == core.TRK_TENTATIVE) & (tb.pic == int(picture)))
            looks = np.ascontiguousarray(tent[np.asarray(looked(tb.X[tent]), dtype=bool)])
        else:
            looks = self._no_looks if looked is None else np.ascontiguousarray(looked, dtype=np.int64)
        self._pairs, _nc, _nb, lost = core.scan_step(cfg, tb, wk, self._pairs, t, z, R, lab, lam, k,
                                                     float(pd), mw, looks, looked is None,
                                                     self._confirmed, int(picture))
        self.lost_measurements += lost
        return self.tracks

    @property
    def tracks(self) -> dict:
        """The live tracks: ``slot``, ``x [n, 6]`` [m, m/s], ``P [n, 6, 6]``, ``confirmed``,
        ``confirmed_at`` (step), ``label`` (truth label of the last measurement that weighed most),
        ``hits``, ``born`` (step of the first measurement: with ``slot``, a track's identity),
        ``picture``."""
        tb = self.table
        sl = np.flatnonzero(tb.st != core.TRK_FREE)
        return {"slot": sl, "x": tb.X[sl].copy(), "P": tb.P[sl].copy(),
                "confirmed": tb.st[sl] == core.TRK_CONFIRMED, "confirmed_at": tb.conf_at[sl].copy(),
                "label": tb.lab[sl].copy(), "hits": tb.nhit[sl].copy(), "born": tb.t0[sl].copy(),
                "picture": tb.pic[sl].copy()}
