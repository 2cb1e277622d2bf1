"""Earth curvature, standard refraction and the radar horizon.

Refraction is modelled with the effective-earth-radius method: rays are drawn
straight over an earth of radius ``k * R``; ``k = 4/3`` is the standard
atmosphere for radio waves (Skolnik 2001, ch. 8; Bean & Dutton 1966).

Conventions relating ``k`` to the coefficients used by other tools
(GDAL ``gdal_viewshed -cc``, documentation of the ``-cc`` option and
``ViewshedExecutor::calcHeightAdjFactor`` in ``alg/viewshed``):

- curvature coefficient ``cc = 1 / k`` (GDAL lowers terrain by
  ``cc * d**2 / (2 a)``); ``cc = 0.75`` is the 4/3 earth, ``cc = 1`` no
  refraction, ``cc = 0`` a flat earth (``k = inf``);
- refraction coefficient ``r = 1 - cc = 1 - 1/k`` (GDAL's default for visible
  light is ``r = 1/7``, i.e. ``cc = 6/7 ~= 0.85714``, ``k = 7/6``).

Note GDAL divides by twice the CRS ellipsoid's semi-major axis ``a``
(6 378 137 m for WGS 84), this module by twice the mean radius
:data:`EARTH_RADIUS_M`; the two drops differ by 0.11 %.

References
----------
- Skolnik, M. I. (2001). *Introduction to Radar Systems*, 3rd ed. McGraw-Hill.
  ISBN 0-07-290980-3. Ch. 8: 4/3 earth, radar horizon ``d ~= 4.12 (sqrt(h_r) + sqrt(h_t))``
  [km, heights in m].
- Bean, B. R. & Dutton, E. J. (1966). *Radio Meteorology*. NBS Monograph 92.
- Moritz, H. (2000). Geodetic Reference System 1980. J. Geodesy 74, 128-133.
  doi:10.1007/s001900050278 (mean radius ``R1 = (2a + b)/3 = 6 371 008.7714 m``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "EARTH_RADIUS_M",
    "K_FOUR_THIRDS",
    "effective_earth_radius_m",
    "radar_horizon_m",
    "curvature_drop_m",
    "curvature_coefficient_to_k",
    "k_to_curvature_coefficient",
]

EARTH_RADIUS_M: float = 6_371_000.0
"""Mean earth radius [m]: GRS 80 mean radius R1 = 6 371 008.77 m (Moritz 2000), rounded to 1 km."""

K_FOUR_THIRDS: float = 4.0 / 3.0
"""Effective-earth-radius factor of the standard atmosphere [1] (Skolnik 2001, ch. 8)."""


def _out(x: np.ndarray):
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def _check_k(k: ArrayLike) -> np.ndarray:
    a = np.asarray(k, dtype=float)
    if np.any(a <= 0):
        raise ValueError(
            f"k (effective-earth-radius factor) must be > 0 (inf for a flat earth), got {k!r}"
        )
    return a


def _non_negative(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if np.any(a < 0):
        raise ValueError(f"{name} must be >= 0, got {x!r}")
    return a


def effective_earth_radius_m(k: ArrayLike = K_FOUR_THIRDS):
    """Effective earth radius ``k * R`` (Skolnik 2001, ch. 8, 4/3-earth model).

    Parameters
    ----------
    k : effective-earth-radius factor [1], > 0; ``inf`` gives a flat earth

    Returns
    -------
    effective radius [m].
    """
    return _out(_check_k(k) * EARTH_RADIUS_M)


def radar_horizon_m(antenna_height_m: ArrayLike, target_height_m: ArrayLike = 0.0,
                    k: ArrayLike = K_FOUR_THIRDS):
    """Distance to the radar horizon over a smooth spherical earth.

    ``d = sqrt(2 k R h1) + sqrt(2 k R h2)`` (Skolnik 2001, ch. 8; with ``k = 4/3``
    and ``R = 6371 km`` this is Skolnik's ``d ~= 4.12 (sqrt(h1) + sqrt(h2))`` km,
    heights in m). The terms ``h**2`` under the square roots are neglected
    (heights << radius); ``k = 1`` gives the geometric horizon ``sqrt(2 R h)``.

    Parameters
    ----------
    antenna_height_m : antenna height above the smooth earth [m], >= 0
    target_height_m : target height above the smooth earth [m], >= 0
    k : effective-earth-radius factor [1], > 0 (``inf``: flat earth, infinite horizon)

    Returns
    -------
    horizon distance [m] (along the surface, equal to the slant range to first order).
    """
    h1 = _non_negative(antenna_height_m, "antenna_height_m")
    h2 = _non_negative(target_height_m, "target_height_m")
    two_ka = 2.0 * _check_k(k) * EARTH_RADIUS_M
    with np.errstate(under="ignore"):
        return _out(np.sqrt(two_ka * h1) + np.sqrt(two_ka * h2))


def curvature_drop_m(distance_m: ArrayLike, k: ArrayLike = K_FOUR_THIRDS):
    """Apparent drop of the earth's surface below the observer's tangent plane.

    ``drop = d**2 / (2 k R)``: the parabolic (small-angle) approximation of the
    sphere below its tangent plane, with refraction folded in by the effective
    radius ``k R`` (Skolnik 2001, ch. 8). This is the correction GDAL's viewshed
    subtracts from terrain heights with curvature coefficient ``cc = 1/k``
    (see the module docstring). ``k = inf`` (``cc = 0``) gives 0: flat earth.

    Parameters
    ----------
    distance_m : horizontal distance from the observer [m], >= 0
    k : effective-earth-radius factor [1], > 0; ``inf`` for a flat earth

    Returns
    -------
    drop [m], >= 0.
    """
    d = _non_negative(distance_m, "distance_m")
    with np.errstate(under="ignore"):
        return _out(d * d / (2.0 * _check_k(k) * EARTH_RADIUS_M))


def curvature_coefficient_to_k(cc: ArrayLike):
    """Effective-earth-radius factor from GDAL's curvature coefficient: ``k = 1 / cc``.

    GDAL ``gdal_viewshed -cc`` lowers terrain by ``cc * d**2 / (2 a)``; matching
    ``d**2 / (2 k a)`` gives ``cc = 1 / k`` (GDAL documentation calls ``1/cc`` the
    "sphere diameter factor"; ``cc = 1 - refraction coefficient``). So
    ``cc = 0.75`` is the 4/3 earth, ``cc = 6/7`` GDAL's visible-light default,
    ``cc = 1`` no refraction, ``cc = 0`` a flat earth (``k = inf``).

    Parameters
    ----------
    cc : curvature coefficient [1], >= 0

    Returns
    -------
    k [1], in (0, inf].
    """
    c = _non_negative(cc, "cc (curvature coefficient)")
    with np.errstate(divide="ignore"):
        return _out(1.0 / c)


def k_to_curvature_coefficient(k: ArrayLike):
    """GDAL curvature coefficient from the effective-earth-radius factor: ``cc = 1 / k``.

    Inverse of :func:`curvature_coefficient_to_k` (GDAL ``gdal_viewshed -cc``
    documentation); ``k = inf`` gives ``cc = 0``.

    Parameters
    ----------
    k : effective-earth-radius factor [1], > 0

    Returns
    -------
    curvature coefficient [1], >= 0.
    """
    return _out(1.0 / _check_k(k))
