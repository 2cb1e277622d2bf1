"""Reaction and abort paths: where a threat goes when its warning receiver says it is engaged, or
when its mission's abort rule fires.

The paths are planned before the run, like every threat path: every ``branch_every_s`` seconds
along the sortie's path a *branch* starts at the point the threat passes then and flies the
reaction from there (:func:`branch_paths`). The engine compiles each branch as a threat member of
its own (geometry, line of sight, envelopes); in a replication the sortie switches to the first
branch at or after the trigger plus the reaction delay (:mod:`iadsim.engine.react`), and the
results fold the branch it flew back into its sortie.
"""

from __future__ import annotations

import numpy as np

from iadsim.engine.trajectory import Path3D
from iadsim.missions.base import PathBuilder

#: at most this many branch points per sortie path (the scenario's branch_every_s is checked against it)
MAX_BRANCHES_PER_PATH = 400

#: actions whose path abandons the mission (the sortie counts as aborted unless already accomplished)
ABANDONING = ("turn-away", "abort")


def branch_times(path: Path3D, every_s: float) -> np.ndarray:
    """Times [s] after launch of the branch points: every ``every_s`` strictly inside the flight."""
    seg = np.diff(path.xy, axis=0)
    total = float(np.sum(np.hypot(seg[:, 0], seg[:, 1]) / path.speed))
    n = int(np.floor((total - 1e-9) / every_s))
    return every_s * np.arange(1, max(n, 0) + 1)


def point_at(path: Path3D, t: float) -> tuple[np.ndarray, float, bool, float, int]:
    """Where the path is ``t`` [s] after launch: xy [m], altitude [m] (as the path states it),
    whether that altitude is above ground, the segment's speed [m/s] and heading [rad from north],
    and the index of the segment's end node."""
    seg = np.diff(path.xy, axis=0)
    seg_t = np.hypot(seg[:, 0], seg[:, 1]) / path.speed
    nodes = np.concatenate([[0.0], np.cumsum(seg_t)])
    i = int(np.clip(np.searchsorted(nodes, t, side="right") - 1, 0, len(seg_t) - 1))
    f = (t - nodes[i]) / seg_t[i] if seg_t[i] > 0 else 0.0
    xy = path.xy[i] + f * seg[i]
    alt = float(path.alt[i] + f * (path.alt[i + 1] - path.alt[i]))
    return xy, alt, bool(path.agl[i]), float(path.speed[i]), i + 1


def reaction_path(path: Path3D, t: float, action: str, reaction, ground_at) -> Path3D:
    """The path of ``action`` (turn-away, descend, abort) taken ``t`` [s] after launch; ``reaction``
    carries the action's settings (turn_deg, away_km, descend_to_m, descent_rate_m_s); ``ground_at``
    (x, y) -> ground height MSL [m]. Reaction paths are raised to ground level where they would pass
    below the terrain."""
    xy, alt, agl, speed, nxt = point_at(path, t)
    b = PathBuilder(clamp=True)
    b.add(xy, alt, agl, speed)
    home = path.xy[0]
    if action == "abort":
        b.add(home, alt, agl, speed)
    elif action == "turn-away":
        d = path.xy[nxt] - path.xy[nxt - 1]
        h = np.arctan2(d[0], d[1]) + np.radians(reaction.turn_deg)
        b.add(xy + reaction.away_km * 1000.0 * np.array([np.sin(h), np.cos(h)]), alt, agl, speed)
        b.add(home, alt, agl, speed)
    else:   # descend: the same path on, at descend_to_m above ground once down there
        now_agl = alt if agl else alt - float(ground_at(*xy))
        drop = max(now_agl - reaction.descend_to_m, 0.0)
        run = speed * drop / reaction.descent_rate_m_s
        pts = np.vstack([xy, path.xy[nxt:]])
        seg = np.hypot(*np.diff(pts, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        if 0.0 < run < cum[-1]:   # the point where it is down
            j = int(np.searchsorted(cum, run, side="right")) - 1
            f = (run - cum[j]) / seg[j] if seg[j] > 0 else 0.0
            b.add(pts[j] + f * (pts[j + 1] - pts[j]), reaction.descend_to_m, True, float(path.speed[nxt - 1 + j]))
        for k in range(nxt, len(path.xy)):
            if cum[k - nxt + 1] > run:
                b.add(path.xy[k], reaction.descend_to_m, True, float(path.speed[k - 1]))
        if len(b.xy) < 2:   # the path ends before it is down: descend along its last leg
            b.add(path.xy[-1], reaction.descend_to_m, True, float(path.speed[-1]))
    if len(b.xy) < 2:      # already home: stay a moment so the path has a segment
        b.add(xy + np.array([1.0, 0.0]), alt, agl, speed)
    return b.build()
