"""One replication as something to play back: threat tracks, missile flyouts and events in
geographic coordinates, shared by the KML (Google Earth) and CZML (Cesium) exports.

Missiles are drawn as the engine models them: a straight flyout from the fire unit's site to
the intercept point, at constant speed over the flyout time. A launch at step ``s`` by fire unit
``e`` at threat ``m`` arrives at step ``s + World.tof[s, m, e]``, where the timeline has the
matching ``kill`` or ``miss``; the intercept point is the threat's position at that step (its
last position in flight if it was already gone).

Times are seconds from the start of the scenario; the exports show them from
:data:`SCENARIO_EPOCH`, a fixed, notional date (scenarios have no calendar time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

__all__ = ["SCENARIO_EPOCH", "Flyout", "Playback", "Track", "iso_time", "replication_playback"]

#: scenario time 0, as shown by Google Earth's time slider and Cesium's clock (notional)
SCENARIO_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
#: height of a launcher above its site's ground [m] (where flyouts start)
LAUNCHER_HEIGHT_M = 5.0


def iso_time(t_s: float, epoch: datetime = SCENARIO_EPOCH) -> str:
    """``t_s`` seconds after ``epoch`` as an ISO 8601 UTC time (``2000-01-01T00:01:05Z``)."""
    t = epoch + timedelta(seconds=float(t_s))
    frac = t.microsecond
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        base += f".{frac:06d}".rstrip("0")
    return base + "Z"


@dataclass
class Track:
    """A threat's flight in one replication: samples until it was killed, leaked or its route ended."""

    label: str
    type: str
    group: str
    t: np.ndarray          # [n] s
    lon: np.ndarray        # [n] deg
    lat: np.ndarray        # [n] deg
    alt: np.ndarray        # [n] m MSL
    fate: str              # "killed", "leaked" or "ended"
    killed_by: str | None = None

    @property
    def t0(self) -> float:
        return float(self.t[0])

    @property
    def t1(self) -> float:
        return float(self.t[-1])


@dataclass
class Flyout:
    """A salvo of ``missiles`` from one fire unit at one threat, launch to intercept."""

    unit: str
    system: str
    threat: str
    missiles: int
    t_launch: float
    t_end: float
    outcome: str           # "kill", "miss" or "open" (no intercept recorded)
    start: tuple[float, float, float]  # lon, lat, alt MSL
    end: tuple[float, float, float]

    def position(self, t: float) -> tuple[float, float, float]:
        """Where the salvo is at time ``t`` (linear in lon, lat, alt: over tens of km this is
        within metres of the straight line)."""
        f = 0.0 if self.t_end <= self.t_launch else min(max((t - self.t_launch) / (self.t_end - self.t_launch), 0), 1)
        return tuple(a + f * (b - a) for a, b in zip(self.start, self.end))  # type: ignore[return-value]


@dataclass
class Playback:
    replication: int
    duration_s: float
    tracks: list[Track] = field(default_factory=list)
    flyouts: list[Flyout] = field(default_factory=list)
    events: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def t_end(self) -> float:
        ends = [tr.t1 for tr in self.tracks] + [f.t_end for f in self.flyouts]
        return float(max(ends)) if ends else self.duration_s


def _last_finite(pos: np.ndarray, step: int, m: int) -> np.ndarray:
    """The threat's position at ``step``, or its last position in flight before it."""
    for s in range(min(step, pos.shape[0] - 1), -1, -1):
        p = pos[s, m]
        if np.isfinite(p[0]):
            return p
    return np.full(3, np.nan)


def replication_playback(results, max_samples: int = 600) -> Playback:
    """The recorded replication of ``results`` (``results.timeline_replication``) for playback.

    ``max_samples`` bounds the samples per threat track (a stride of whole time steps; the
    first and last positions are always kept).
    """
    w = results.world
    dt = w.dt
    rep = int(results.timeline_replication)
    ev = results.timeline.copy()
    df = results.replications
    rec = df[df["replication"] == rep].set_index("threat")
    eff_index = {n: i for i, n in enumerate(w.effector_labels)}
    thr_index = {n: i for i, n in enumerate(w.threat_labels)}
    groups = [t.name for t in w.scenario.threats]

    tracks: list[Track] = []
    for m, label in enumerate(w.threat_labels):
        s0 = int(w.first_step[m])
        s1 = int(min(w.end_step[m], w.nsteps - 1))
        fate, killer = "ended", None
        if label in rec.index:
            r = rec.loc[label]
            if bool(r["killed"]) and np.isfinite(r["kill_time_s"]):
                s1 = min(s1, int(round(r["kill_time_s"] / dt)))
                fate, killer = "killed", r["killed_by"]
            elif bool(r["leaked"]) and np.isfinite(r["leak_time_s"]):
                s1 = min(s1, int(round(r["leak_time_s"] / dt)))
                fate = "leaked"
        if s1 < s0:
            continue
        steps = np.arange(s0, s1 + 1)
        p = w.pos[steps, m]
        ok = np.isfinite(p[:, 0])
        steps, p = steps[ok], p[ok]
        if len(steps) == 0:
            continue
        stride = max(1, int(np.ceil(len(steps) / max_samples)))
        keep = np.unique(np.r_[np.arange(0, len(steps), stride), len(steps) - 1])
        steps, p = steps[keep], p[keep]
        lon, lat = w.grid.to_lonlat(p[:, 0], p[:, 1])
        tracks.append(Track(label=label, type=w.threat_type[m], group=groups[int(w.threat_group[m])],
                            t=steps * dt, lon=np.atleast_1d(lon), lat=np.atleast_1d(lat),
                            alt=p[:, 2].copy(), fate=fate,
                            killed_by=killer if isinstance(killer, str) else None))

    # salvos: pair each launch with the kill/miss of the same unit and threat at launch + flyout time
    flyouts: list[Flyout] = []
    if len(ev):
        ends = {}
        for r in ev[ev["event"].isin(["kill", "miss"])].itertuples(index=False):
            ends.setdefault((int(round(r.time_s / dt)), r.unit, r.threat), []).append(r.event)
        ex, ey, ez = (np.asarray(w.effector_xyz, dtype=float).reshape(-1, 3).T
                      if len(w.effector_labels) else (np.zeros(0),) * 3)
        elon, elat = w.grid.to_lonlat(ex, ey)
        elon, elat = np.atleast_1d(elon), np.atleast_1d(elat)
        for r in ev[ev["event"] == "launch"].itertuples(index=False):
            if r.unit not in eff_index or r.threat not in thr_index:
                continue
            e, m = eff_index[r.unit], thr_index[r.threat]
            s = int(round(r.time_s / dt))
            hit = s + int(w.tof[min(s, w.nsteps - 1), m, e])  # tof: [T, M, E]
            outs = ends.get((hit, r.unit, r.threat))
            outcome = outs.pop(0) if outs else "open"
            p = _last_finite(w.pos, hit, m)
            if not np.isfinite(p[0]):
                continue
            lon, lat = w.grid.to_lonlat(p[0], p[1])
            flyouts.append(Flyout(
                unit=r.unit, system=w.effector_system[e], threat=r.threat, missiles=int(r.missiles),
                t_launch=s * dt, t_end=hit * dt, outcome=outcome,
                start=(float(elon[e]), float(elat[e]), float(ez[e]) + LAUNCHER_HEIGHT_M),
                end=(float(lon), float(lat), float(p[2]))))
    return Playback(replication=rep, duration_s=w.nsteps * dt, tracks=tracks, flyouts=flyouts, events=ev)
