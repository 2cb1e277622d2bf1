"""Constant-velocity intercept geometry and range helpers.

Vectors are local Cartesian (east, north, up) [m] relative to the launcher or
sensor, with the components in the last axis: shape ``(..., 3)`` (or ``(..., 2)``
for plane problems where stated). All functions broadcast over the leading axes.

References
----------
- Zarchan, P. (2012). *Tactical and Strategic Missile Guidance*, 6th ed. AIAA
  Progress in Astronautics and Aeronautics. (Collision triangle / predicted
  intercept point.)
- Isaacs, R. (1965). *Differential Games*. Wiley. (Constant-velocity pursuit and
  intercept geometry.)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "intercept_time_s",
    "predicted_intercept_point_m",
    "slant_range_m",
    "ground_range_m",
]


def _out(x: np.ndarray):
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def _vectors(rel_pos_m: ArrayLike, target_vel_m_s: ArrayLike):
    p = np.asarray(rel_pos_m, dtype=float)
    v = np.asarray(target_vel_m_s, dtype=float)
    if p.ndim == 0 or p.shape[-1] not in (2, 3):
        raise ValueError(f"rel_pos_m must have shape (..., 2) or (..., 3), got {p.shape}")
    if v.ndim == 0 or v.shape[-1] != p.shape[-1]:
        raise ValueError(
            f"target_vel_m_s must have shape (..., {p.shape[-1]}) like rel_pos_m, got {v.shape}"
        )
    return p, v


def intercept_time_s(rel_pos_m: ArrayLike, target_vel_m_s: ArrayLike,
                     missile_speed_m_s: ArrayLike):
    """Earliest time at which a straight-flying missile meets a constant-velocity target.

    The missile leaves the origin at ``t = 0`` on a straight line at constant mean
    speed ``s``; the target is at ``p`` moving with velocity ``v``. Intercept is
    the smallest ``t >= 0`` with ``|p + v t| = s t`` (the collision triangle,
    Zarchan 2012; Isaacs 1965), i.e. the smallest non-negative root of

    ``(v.v - s**2) t**2 + 2 (p.v) t + p.p = 0``.

    Writing ``a = v.v - s**2``, ``b = p.v``, ``c = p.p``, ``D = b**2 - a c``, the
    root is evaluated without cancellation as ``t = c / (sqrt(D) - b)`` when
    ``b <= 0`` (closing) and ``t = (b + sqrt(D)) / (-a)`` when ``b > 0``
    (opening). The first form is also the exact solution ``t = -c / (2 b)`` of the
    linear case ``|v| == s`` (``a = 0``), so no special branch is needed there.
    A target at the origin (``p = 0``) gives ``t = 0``.

    Parameters
    ----------
    rel_pos_m : target position relative to the launch point [m], shape (..., 3) or (..., 2)
    target_vel_m_s : target velocity [m/s], same last dimension, broadcast with rel_pos_m
    missile_speed_m_s : missile mean speed over the flight [m/s], > 0, broadcast over (...)

    Returns
    -------
    time to intercept [s], shape = broadcast of (...); ``nan`` where no intercept
    exists (a target receding at least as fast as the missile, or a faster target
    whose path never comes within reach) and where an input is ``nan``.
    """
    p, v = _vectors(rel_pos_m, target_vel_m_s)
    s = np.asarray(missile_speed_m_s, dtype=float)
    if np.any(s <= 0):
        raise ValueError(f"missile_speed_m_s must be > 0, got {missile_speed_m_s!r}")
    with np.errstate(under="ignore"):
        a = np.einsum("...i,...i->...", v, v) - s * s
        b = np.einsum("...i,...i->...", p, v)
        c = np.einsum("...i,...i->...", p, p)
    a, b, c = np.broadcast_arrays(a, b, c)
    with np.errstate(invalid="ignore", divide="ignore", under="ignore"):
        disc = b * b - a * c
        root = np.sqrt(np.where(disc >= 0, disc, np.nan))
        closing = c / (root - b)  # b <= 0: both terms >= 0, no cancellation
        opening = (b + root) / (-a)  # b > 0: needs a < 0 (missile faster)
        t = np.where(b <= 0, closing, opening)
    ok = np.isfinite(t) & (t >= 0) & (disc >= 0)
    t = np.where(ok, t, np.nan)
    t = np.where(c == 0, 0.0, t)
    return _out(t)


def predicted_intercept_point_m(rel_pos_m: ArrayLike, target_vel_m_s: ArrayLike,
                                missile_speed_m_s: ArrayLike):
    """Predicted intercept point of a straight-flying missile on a constant-velocity target.

    ``t = intercept_time_s(p, v, s)`` and ``point = p + v t`` (Zarchan 2012,
    collision triangle).

    Parameters
    ----------
    rel_pos_m : target position relative to the launch point [m], shape (..., 3) or (..., 2)
    target_vel_m_s : target velocity [m/s], same last dimension
    missile_speed_m_s : missile mean speed [m/s], > 0, broadcast over (...)

    Returns
    -------
    (t, point): time to intercept [s], shape (...), and intercept point relative
    to the launch point [m], shape (..., 3) or (..., 2); ``nan`` where none.
    """
    p, v = _vectors(rel_pos_m, target_vel_m_s)
    t = np.asarray(intercept_time_s(p, v, missile_speed_m_s))
    with np.errstate(under="ignore"):
        point = p + v * t[..., None]
    return _out(t), point


def slant_range_m(rel_pos_m: ArrayLike):
    """Straight-line (slant) range ``|p|`` (Euclidean norm).

    Parameters
    ----------
    rel_pos_m : position relative to the sensor or launcher [m], shape (..., 3) (east, north, up)

    Returns
    -------
    slant range [m], shape (...).
    """
    p = np.asarray(rel_pos_m, dtype=float)
    if p.ndim == 0 or p.shape[-1] not in (2, 3):
        raise ValueError(f"rel_pos_m must have shape (..., 3) or (..., 2), got {p.shape}")
    with np.errstate(under="ignore"):
        return _out(np.sqrt(np.einsum("...i,...i->...", p, p)))


def ground_range_m(rel_pos_m: ArrayLike):
    """Horizontal (ground) range ``sqrt(east**2 + north**2)`` in the local tangent plane.

    Flat local frame: no earth-curvature correction (see :mod:`iadsim.physics.horizon`).

    Parameters
    ----------
    rel_pos_m : position relative to the sensor or launcher [m], shape (..., 3) (east, north, up)

    Returns
    -------
    ground range [m], shape (...).
    """
    p = np.asarray(rel_pos_m, dtype=float)
    if p.ndim == 0 or p.shape[-1] != 3:
        raise ValueError(f"rel_pos_m must have shape (..., 3), got {p.shape}")
    with np.errstate(under="ignore"):
        return _out(np.hypot(p[..., 0], p[..., 1]))
