"""The sortie a mission plans, and the geometry its modules share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from iadsim.engine.trajectory import Path3D

#: points per full turn of a station pattern
TURN_POINTS = 72


@dataclass
class WeaponRelease:
    """Weapons released at one point: each flies straight from there to the target."""

    weapon_type: str          # catalog name
    count: int
    interval_s: float         # between releases [s]
    target: int               # asset index (-1: the weapons attack a site)
    release_xy: np.ndarray    # [2] [m]
    release_alt_msl: float    # [m]
    target_xyz: np.ndarray    # [3] x, y, ground height MSL [m]
    speed_m_s: float          # weapon's mean speed [m/s]
    site: int = -1            # radar index of the site they attack (-1: an asset)


@dataclass
class Sortie:
    """A planned flight: the carrier's path, marks on it (node indices) and its weapon releases."""

    path: Path3D
    kind: str                                   # isr | strike | one-way | transit
    marks: dict[str, int] = field(default_factory=dict)   # 'station_start', 'station_end', 'release'
    release: WeaponRelease | None = None
    target: int = -1                            # asset the carrier itself attacks (one-way), else -1
    site: int = -1                              # site (radar index) the carrier itself attacks, else -1

    def node_times_s(self) -> np.ndarray:
        """Time [s] after launch at which the carrier passes each node of its path."""
        seg = np.diff(self.path.xy, axis=0)
        return np.concatenate([[0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]) / self.path.speed)])


@dataclass
class MissionContext:
    """What a mission module needs to plan a sortie (local grid units: metres)."""

    to_local: Callable                 # (lat, lon) -> (x, y)
    ground_at: Callable                # (x, y) -> ground height MSL [m]
    asset_names: list[str]
    asset_xy: np.ndarray               # [A, 2]
    figure: Callable                   # (system name, figure key, used_by) -> value
    system_of: Callable                # (name or alias) -> catalog System
    site_names: list[str] = field(default_factory=list)                  # radars: fire units, then sensors
    site_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # [S, 2] [m]

    def target_xy(self, name: str) -> tuple[np.ndarray, int, int]:
        """Where the named target is [m], its asset index and its site index (-1 for the other)."""
        if name in self.asset_names:
            a = self.asset_names.index(name)
            return np.asarray(self.asset_xy[a], dtype=float), a, -1
        if name not in self.site_names:
            from iadsim.errors import InputError, Problem

            raise InputError([Problem("<scenario>", "threats[].target / mission.weapon.target",
                                      f"{name!r} is neither an asset nor an enabled fire unit or sensor")])
        s = self.site_names.index(name)
        return np.asarray(self.site_xy[s], dtype=float), -1, s


class PathBuilder:
    """Accumulates points with altitude, height reference and the speed to the next point."""

    def __init__(self, clamp: bool = False) -> None:
        self.clamp = clamp
        self.xy: list[np.ndarray] = []
        self.alt: list[float] = []
        self.agl: list[bool] = []
        self.speed: list[float] = []   # speed of the segment ending at each point after the first

    def add(self, xy, alt: float, agl: bool, speed: float) -> None:
        p = np.asarray(xy, dtype=float)
        if self.xy and np.hypot(*(p - self.xy[-1])) < 1e-6:
            return   # a repeated point adds a zero-length segment
        if self.xy:
            self.speed.append(float(speed))
        self.xy.append(p)
        self.alt.append(float(alt))
        self.agl.append(bool(agl))

    def add_many(self, pts, alt: float, agl: bool, speed: float) -> None:
        for p in pts:
            self.add(p, alt, agl, speed)

    @property
    def last(self) -> int:
        return len(self.xy) - 1

    def build(self) -> Path3D:
        return Path3D(np.array(self.xy, dtype=float), np.array(self.alt, dtype=float), np.array(self.agl),
                      np.array(self.speed, dtype=float), clamp=self.clamp)


def cut_at_length(pts: np.ndarray, length: float) -> np.ndarray:
    """The polyline ``pts`` [n, 2] cut after ``length`` [m] (the last point interpolated)."""
    seg = np.hypot(*np.diff(pts, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    if length >= cum[-1]:
        return pts
    i = int(np.searchsorted(cum, length, side="right")) - 1
    f = (length - cum[i]) / seg[i] if seg[i] > 0 else 0.0
    return np.vstack([pts[: i + 1], pts[i] + f * (pts[i + 1] - pts[i])])


def orbit_pattern(cx: float, cy: float, radius: float, start_xy: np.ndarray, length: float) -> np.ndarray:
    """A clockwise circular orbit entered at the point nearest ``start_xy``, flown for ``length`` [m]."""
    laps = length / (2 * np.pi * radius)
    a0 = np.arctan2(start_xy[1] - cy, start_xy[0] - cx)
    n = max(int(np.ceil(TURN_POINTS * laps)) + 1, 2)
    ang = a0 - np.linspace(0.0, 2 * np.pi * np.ceil(laps + 1e-9), n * 2)
    pts = np.column_stack([cx + radius * np.cos(ang), cy + radius * np.sin(ang)])
    return cut_at_length(pts, length)


def racetrack_lap(radius: float, straight: float, heading_deg: float) -> np.ndarray:
    """One clockwise racetrack lap [k, 2] around the origin: two straights of ``straight`` [m]
    along ``heading_deg`` (from north) joined by half-circles of ``radius`` [m]."""
    half = straight / 2.0
    k = TURN_POINTS // 2
    top = np.linspace(np.pi, 0.0, k + 1)[1:-1]          # over the far end, turning right
    bottom = np.linspace(0.0, -np.pi, k + 1)[1:-1]     # over the near end, turning right
    local = np.vstack([[[-radius, -half], [-radius, half]],
                       np.column_stack([radius * np.cos(top), half + radius * np.sin(top)]),
                       [[radius, half], [radius, -half]],
                       np.column_stack([radius * np.cos(bottom), -half + radius * np.sin(bottom)])])
    h = np.radians(heading_deg)
    u = np.array([np.sin(h), np.cos(h)])    # along the axis
    v = np.array([np.cos(h), -np.sin(h)])   # to its right
    return local[:, :1] * v + local[:, 1:] * u


def racetrack_pattern(cx: float, cy: float, radius: float, straight: float, heading_deg: float,
                      start_xy: np.ndarray, length: float) -> np.ndarray:
    """A clockwise racetrack centred on (cx, cy), entered at its point nearest ``start_xy`` and
    flown for ``length`` [m]."""
    lap = racetrack_lap(radius, straight, heading_deg) + np.array([cx, cy])
    i0 = int(np.argmin(np.hypot(*(lap - np.asarray(start_xy)).T)))
    lap = np.roll(lap, -i0, axis=0)
    per = float(np.sum(np.hypot(*np.diff(np.vstack([lap, lap[:1]]), axis=0).T)))
    reps = int(np.ceil(length / max(per, 1e-9))) + 1
    pts = np.vstack([lap] * reps + [lap[:1]])
    return cut_at_length(pts, length)


def plan_sortie(thr, ctx: MissionContext) -> Sortie:
    """The sortie of a scenario threat entry (its registered mission kind plans it)."""
    from iadsim.missions.registry import mission_for

    # a threat without a mission flies the one-way plan (a 'transit' sortie when it has no target)
    return mission_for(thr.mission.kind if thr.mission is not None else "one-way").plan(thr, ctx)


def route_points(thr, ctx: MissionContext, cruise: float, alt_default: float):
    """The route's local points, altitudes and segment speeds."""
    xy, alt, speed = [], [], []
    for w in thr.route:
        x, y = ctx.to_local(w.lat, w.lon)
        xy.append(np.array([float(x), float(y)]))
        alt.append(w.altitude_m if w.altitude_m is not None else alt_default)
        speed.append(w.speed_m_s if w.speed_m_s is not None else cruise)
    return xy, alt, speed


@dataclass
class Flight:
    """What every mission starts from: the threat's cruise speed [m/s], default altitude [m], height
    reference, its route (local points, altitudes, segment speeds) and an empty path builder."""

    cruise: float
    alt_default: float
    agl: bool
    xy: list
    alt: list
    speed: list
    builder: PathBuilder

    def fly_route(self) -> PathBuilder:
        """Add the whole route to the builder (each leg at its waypoint's speed)."""
        for j, p in enumerate(self.xy):
            self.builder.add(p, self.alt[j], self.agl, self.speed[j - 1] if j else self.cruise)
        return self.builder


def flight(thr, ctx: MissionContext) -> Flight:
    """The starting point shared by every mission module (catalog defaults logged as used)."""
    sysm = ctx.system_of(thr.type)
    cruise = thr.speed_m_s if thr.speed_m_s is not None else ctx.figure(sysm, "cruise_speed_m_s", thr.name)
    alt_default = thr.altitude_m if thr.altitude_m is not None else ctx.figure(sysm, "typical_altitude_m", thr.name)
    xy, alt, speed = route_points(thr, ctx, cruise, alt_default)
    return Flight(cruise, alt_default, thr.altitude_ref == "agl", xy, alt, speed,
                  PathBuilder(clamp=thr.clamp == "ground"))
