"""Coverage products built on the minimum-visible-altitude rasters: detection coverage for a
target RCS and altitude, engagement coverage, and layered coverage of several systems.

Detection here is free-space (radar equation and terrain line of sight) and stops at each radar's
instrumented range, like the run; the run's land clutter, MTI notch and multipath depend on a
target's speed and heading and are not drawn on the maps (docs/detection.md).

All functions work on arrays of the terrain grid ([ny, nx], row 0 north) and return boolean
masks, counts or altitudes [m MSL]; NaN marks cells with no value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from iadsim.coverage.envelope import UnitEnvelope, engageable
from iadsim.coverage.los import visible_at
from iadsim.coverage.specs import RadarSpec
from iadsim.geo.terrain import Terrain
from iadsim.geo.sector import ALL_ROUND, in_sector
from iadsim.physics.radar import detection_range_m

DETECTION_MODEL = "swerling1"


def target_altitude(terrain: Terrain, altitude_m: float, agl: bool) -> np.ndarray:
    """Altitude [m MSL] of a target at ``altitude_m`` above ground (agl) or sea level, per cell."""
    if agl:
        return terrain.elevation_m.astype(np.float64) + altitude_m
    return np.full(terrain.grid.shape, float(altitude_m))


def _cell_xy(terrain: Terrain) -> tuple[np.ndarray, np.ndarray]:
    g = terrain.grid
    return g.x_centers()[None, :], g.y_centers()[:, None]


def line_of_sight(mva: np.ndarray, alt_msl: np.ndarray, terrain: Terrain | None = None) -> np.ndarray:
    """Cells where a target at ``alt_msl`` [m MSL] is in line of sight [bool] (and above ground)."""
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(mva) & (alt_msl >= mva)
    if terrain is not None:
        ok &= alt_msl >= terrain.elevation_m
    return ok


def radar_detection_range_m(radar: RadarSpec, rcs_m2: float, pd: float) -> float:
    """Slant range [m] out to which the radar detects ``rcs_m2`` with probability >= ``pd`` in free
    space: the radar-equation range, but never beyond the radar's instrumented range. 0 for a sensor
    that is not a radar (iadsim.sensors: an ESM hears emitters, an EO sees sizes; no RCS map applies)."""
    if radar.sensor_type != "radar":
        return 0.0
    r = float(detection_range_m(rcs_m2, pd, radar.ref_range_m, radar.ref_rcs_m2, radar.ref_pd,
                                radar.pfa, model=DETECTION_MODEL))
    return min(r, radar.range_bound_m)


def detection_mask(radar: RadarSpec, mva: np.ndarray, terrain: Terrain, alt_msl: np.ndarray,
                   rcs_m2: float, pd: float) -> np.ndarray:
    """Cells where a target of ``rcs_m2`` at ``alt_msl`` is detected with Pd >= ``pd`` [bool]:
    line of sight, slant range within the Pd range, and inside the elevation limits if known."""
    x, y = _cell_xy(terrain)
    dz = alt_msl - radar.z
    ground = np.hypot(x - radar.x, y - radar.y)
    slant = np.sqrt(ground**2 + dz**2)
    ok = line_of_sight(mva, alt_msl, terrain) & (slant <= radar_detection_range_m(radar, rcs_m2, pd))
    if radar.max_elevation_deg is not None:
        ok &= np.degrees(np.arctan2(dz, np.maximum(ground, 1e-9))) <= radar.max_elevation_deg
    return ok & in_sector(x - radar.x, y - radar.y, dz, radar.sector)


def engagement_mask(env: UnitEnvelope, mva: np.ndarray, terrain: Terrain, alt_msl: np.ndarray,
                    target_speed_m_s: float = 0.0, dt_s: float | None = None) -> np.ndarray:
    """Cells where the fire unit engages a target at ``alt_msl`` [m MSL] [bool], as a run decides
    (:func:`iadsim.coverage.envelope.engageable`: the engine's flyout table and predicted intercept
    point, guidance time, minimum missile speed, maximum target speed, slant-range and altitude
    limits at the intercept point, launcher sector) with line of sight from its radar.

    The target is level at the cell when the unit decides to fire, flying straight at the unit at
    ``target_speed_m_s`` [m/s] (default 0: hovering or slow, the intercept point is the cell);
    ``dt_s``: the run's time step, for the engine's check of where a moving target is when the
    missile arrives."""
    if not isinstance(env, UnitEnvelope):
        raise TypeError("engagement_mask takes the unit's UnitEnvelope (iadsim.coverage.envelope.unit_envelopes), "
                        f"not {type(env).__name__}: the map must use the run's flyout table and limits")
    x, y = _cell_xy(terrain)
    dx = np.broadcast_to(x - env.x, terrain.grid.shape)
    dy = np.broadcast_to(y - env.y, terrain.grid.shape)
    rel = np.stack([dx, dy, np.broadcast_to(alt_msl - env.ground, terrain.grid.shape)], axis=-1)
    vel = np.zeros_like(rel)
    if target_speed_m_s:
        gr = np.hypot(dx, dy)
        with np.errstate(invalid="ignore", divide="ignore"):
            vel[..., 0] = np.where(gr > 0, -target_speed_m_s * dx / gr, 0.0)
            vel[..., 1] = np.where(gr > 0, -target_speed_m_s * dy / gr, 0.0)
    seen = line_of_sight(mva, alt_msl, terrain)
    moving = bool(target_speed_m_s)
    return engageable(env, rel, vel, ground_at=terrain.height_at, dt_s=dt_s if moving else None,
                      visible=(lambda px, py, pz: visible_at(mva, terrain, px, py, pz)) if moving else None,
                      where=seen)


def layered_count(masks: Sequence[np.ndarray]) -> np.ndarray:
    """How many systems cover each cell [count, uint8]."""
    if not masks:
        raise ValueError("no masks to layer")
    return np.sum(np.stack(masks), axis=0).astype(np.uint8)


def lowest_detected_altitude(radars: Sequence[RadarSpec], mvas: Sequence[np.ndarray], terrain: Terrain,
                             rcs_m2: float, pd: float) -> np.ndarray:
    """Lowest altitude [m MSL] at which at least one radar detects ``rcs_m2`` with Pd >= ``pd``,
    per cell; NaN where none does at any altitude.

    For one radar, a target at altitude a is detected when a >= mva (line of sight) and its slant
    range sqrt(d^2 + (a - z)^2) <= R_pd, i.e. z - sqrt(R^2 - d^2) <= a <= z + sqrt(R^2 - d^2)
    (and below the elevation limit, if any). The lowest such a is max(mva, z - sqrt(R^2 - d^2))
    when that is not above the upper bound.
    """
    x, y = _cell_xy(terrain)
    best = np.full(terrain.grid.shape, np.inf)
    for r, mva in zip(radars, mvas):
        R = radar_detection_range_m(r, rcs_m2, pd)
        d = np.hypot(x - r.x, y - r.y)
        with np.errstate(invalid="ignore"):
            half = np.sqrt(np.maximum(R * R - d * d, 0.0))
            lo = np.maximum(np.maximum(mva, r.z - half), terrain.elevation_m)
            hi = r.z + half
            if r.max_elevation_deg is not None:
                hi = np.minimum(hi, r.z + d * np.tan(np.radians(r.max_elevation_deg)))
            ok = np.isfinite(mva) & (d <= R) & (lo <= hi)
            if r.sector != ALL_ROUND:
                # inside the azimuth sector, and the altitude band its elevation limits leave
                az0, half, el_lo, el_hi = r.sector
                ok &= in_sector(x - r.x, y - r.y, np.zeros_like(d), (az0, half, -np.pi / 2, np.pi / 2))
                lo = np.maximum(lo, r.z + d * np.tan(max(el_lo, -np.pi / 2 + 1e-9)))
                hi = np.minimum(hi, r.z + d * np.tan(min(el_hi, np.pi / 2 - 1e-9)))
                ok &= lo <= hi
        best = np.where(ok & (lo < best), lo, best)
    return np.where(np.isfinite(best), best, np.nan)
