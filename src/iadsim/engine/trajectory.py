"""Threat truth motion: routes and orbits sampled at the engine's time step.

Every threat flies a polyline of 3-D points at piecewise-constant speed; an orbit is
appended as a polygon of 72 points per lap (clockwise), entered straight from the last
route point. Heights given above ground follow the terrain at every sample. A threat aimed
at an asset ends at the asset's ground point after a terminal dive from 2 km out.

Nothing is moved silently: a path that passes below the terrain is an input error
(:func:`first_below_ground` finds where), unless the threat asks for ``clamp: ground``
(``Path3D.clamp``), in which case it is raised to ground level there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iadsim.geo.terrain import Terrain

ORBIT_POINTS_PER_LAP = 72
TERMINAL_DIVE_M = 2000.0


@dataclass
class Path3D:
    """A polyline: xy [n, 2] [m], altitude [n] [m], ``agl`` flags per point, speed per segment [m/s]."""

    xy: np.ndarray
    alt: np.ndarray
    agl: np.ndarray
    speed: np.ndarray  # [n-1]
    clamp: bool = False  # raise the path to ground level where it would pass below the terrain


def _altitude(path: Path3D, terrain: Terrain, i: np.ndarray, f: np.ndarray, xy: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Unclamped altitude [m MSL] and ground [m MSL] at fraction ``f`` of segments ``i``."""
    alt_raw = path.alt[i] + f * (path.alt[i + 1] - path.alt[i])
    ground = terrain.height_at(xy[:, 0], xy[:, 1])
    return np.where(path.agl[i], ground + alt_raw, alt_raw), ground


#: a path more than this far below the interpolated terrain counts as below ground [m]
BELOW_GROUND_TOLERANCE_M = 0.01


def first_below_ground(path: Path3D, terrain: Terrain, step_m: float | None = None
                       ) -> tuple[int, float, float, float, float] | None:
    """Where a path first passes below the terrain: (segment index, x [m], y [m], altitude
    [m MSL], ground [m MSL]), or None. Each segment is checked at both ends and every ``step_m``
    [m] (default half a terrain cell) along it."""
    step = step_m or terrain.grid.res / 2.0
    seg = np.diff(path.xy, axis=0)
    length = np.hypot(seg[:, 0], seg[:, 1])
    n = np.maximum(np.ceil(length / step).astype(np.int64), 1)
    i = np.repeat(np.arange(len(seg)), n + 1)
    start = np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)
    f = (np.arange(i.size) - start) / n[i]          # 0, 1/n, ..., 1 along each segment
    xy = path.xy[i] + f[:, None] * seg[i]
    alt, ground = _altitude(path, terrain, i, f, xy)
    bad = np.flatnonzero(alt < ground - BELOW_GROUND_TOLERANCE_M)
    if bad.size == 0:
        return None
    k = int(bad[0])
    return int(i[k]), float(xy[k, 0]), float(xy[k, 1]), float(alt[k]), float(ground[k])


def orbit_points(cx: float, cy: float, radius: float, start_xy: np.ndarray, laps: float) -> np.ndarray:
    """Points [k, 2] [m] of a clockwise circular orbit starting at the point nearest ``start_xy``."""
    a0 = np.arctan2(start_xy[1] - cy, start_xy[0] - cx)
    n = max(int(np.ceil(ORBIT_POINTS_PER_LAP * laps)), 2)
    ang = a0 - np.linspace(0.0, 2 * np.pi * laps, n + 1)
    return np.column_stack([cx + radius * np.cos(ang), cy + radius * np.sin(ang)])


def sample_path(path: Path3D, terrain: Terrain, t0: float, dt: float, nsteps: int
                ) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Sample a path launched at ``t0`` [s] on the engine clock t = k*dt.

    Returns positions [nsteps, 3] (x, y, altitude MSL) [m], velocities [nsteps, 3] [m/s],
    the first step at which it flies, and the step at which it reaches its end (nsteps if later).
    Positions before launch and after the end are NaN.
    """
    seg = np.diff(path.xy, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    seg_time = seg_len / path.speed
    t_nodes = t0 + np.concatenate([[0.0], np.cumsum(seg_time)])
    t_end = t_nodes[-1]
    times = np.arange(nsteps) * dt
    pos = np.full((nsteps, 3), np.nan)
    vel = np.full((nsteps, 3), np.nan)
    first = int(np.ceil(t0 / dt - 1e-9))
    end = int(np.ceil(t_end / dt - 1e-9))
    live = (times >= t0 - 1e-9) & (times < t_end)
    if not live.any():
        return pos, vel, min(first, nsteps), min(end, nsteps)
    tl = times[live]
    i = np.clip(np.searchsorted(t_nodes, tl, side="right") - 1, 0, len(seg_len) - 1)
    f = np.where(seg_time[i] > 0, (tl - t_nodes[i]) / np.where(seg_time[i] > 0, seg_time[i], 1), 0.0)
    xy = path.xy[i] + f[:, None] * seg[i]
    alt, ground = _altitude(path, terrain, i, f, xy)
    if path.clamp:  # the threat asked for it (clamp: ground); otherwise compile_world rejected the path
        alt = np.maximum(alt, ground)
    pos[live, 0:2] = xy
    pos[live, 2] = alt
    # velocity: horizontal from the segment, vertical from finite differences of altitude
    vxy = seg[i] / np.where(seg_time[i] > 0, seg_time[i], 1.0)[:, None]
    vel[live, 0:2] = vxy
    vz = np.gradient(alt, dt) if alt.size > 1 else np.zeros_like(alt)
    vel[live, 2] = vz
    return pos, vel, min(first, nsteps), min(end, nsteps)
