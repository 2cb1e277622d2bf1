"""Azimuth and elevation sectors of radars and launchers (scenario ``sector``).

A sector is stored as (centre azimuth [rad, clockwise from grid north], half width [rad], lowest
and highest elevation [rad]); ``ALL_ROUND`` covers every direction. Azimuths are measured in the
local grid (its north is true north at the grid's centre; the difference is a fraction of a
degree over a scenario's extent)."""

from __future__ import annotations

import math

import numpy as np

ALL_ROUND = (0.0, math.pi, -math.pi / 2, math.pi / 2)


def sector_tuple(sector) -> tuple[float, float, float, float]:
    """The engine's form of a scenario ``Sector`` (None: all round)."""
    if sector is None:
        return ALL_ROUND
    return (math.radians(sector.azimuth_deg), math.radians(sector.width_deg) / 2.0,
            math.radians(sector.min_elevation_deg), math.radians(sector.max_elevation_deg))


def in_sector(dx, dy, dz, sector: tuple[float, float, float, float]) -> np.ndarray:
    """Whether points at offsets dx (east), dy (north), dz (up) [m] from the site lie in the sector
    [bool]; NaN offsets are outside. A point straight above or below the site is in every azimuth."""
    az0, half, el_lo, el_hi = sector
    dx, dy, dz = np.asarray(dx, float), np.asarray(dy, float), np.asarray(dz, float)
    ground = np.hypot(dx, dy)
    with np.errstate(invalid="ignore"):
        el = np.arctan2(dz, ground)
        ok = (el >= el_lo - 1e-12) & (el <= el_hi + 1e-12)
        if half < math.pi:
            off = np.abs((np.arctan2(dx, dy) - az0 + math.pi) % (2 * math.pi) - math.pi)
            ok &= (off <= half + 1e-12) | (ground == 0.0)
    return ok & np.isfinite(dx + dy + dz)
