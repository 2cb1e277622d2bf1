"""Motion and measurement models for the tracker: pure, vectorised numpy functions on SI arrays.

State layout, for ``ndim`` spatial axes (1, 2 or 3): positions first, then velocities::

    x = [x, y, z, vx, vy, vz]    [m, m, m, m/s, m/s, m/s]     (ndim = 3, n = 6)
    x = [x, y, vx, vy]           [m, m, m/s, m/s]             (ndim = 2, n = 4)

Axes are local Cartesian east, north, up [m] (as in :mod:`iadsim.physics.kinematics`). With
positions first, the position measurement matrix is ``H = [I 0]``, so ``H P H^T`` is the
leading ``ndim x ndim`` block of ``P``: the tracker uses that and never multiplies by ``H``.

Every function broadcasts over leading axes (a time step ``dt`` [s] of any shape gives
matrices of shape ``dt.shape + (n, n)``), so a leading replication axis costs nothing extra.

References
----------
- Bar-Shalom, Y., Li, X. R. & Kirubarajan, T. (2001). *Estimation with Applications to
  Tracking and Navigation*. Wiley. ISBN 0-471-41655-X. (BLK below.) §6.2.2: the continuous
  white-noise acceleration (nearly-constant-velocity) model; ch. 11: the coordinated turn.
- Li, X. R. & Jilkov, V. P. (2003). Survey of maneuvering target tracking. Part I: dynamic
  models. *IEEE Trans. Aerosp. Electron. Syst.* 39(4), 1333-1364. doi:10.1109/TAES.2003.1261132
- Lerro, D. & Bar-Shalom, Y. (1993). Tracking with debiased consistent converted measurements
  versus EKF. *IEEE Trans. Aerosp. Electron. Syst.* 29(3), 1015-1022.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ConstantVelocity",
    "CoordinatedTurn",
    "cv_transition_matrix",
    "cv_process_noise",
    "ct_transition_matrix",
    "position_measurement_matrix",
    "polar_to_cartesian",
    "converted_measurement",
]


def _ndim(ndim: int) -> int:
    if ndim not in (1, 2, 3) or isinstance(ndim, bool):
        raise ValueError(f"ndim must be 1, 2 or 3, got {ndim!r}")
    return int(ndim)


def cv_transition_matrix(dt: ArrayLike, ndim: int = 3) -> np.ndarray:
    """Constant-velocity transition matrix ``F = [[I, dt I], [0, I]]`` (BLK §6.2.2).

    Parameters
    ----------
    dt : time step [s], any shape.
    ndim : number of spatial axes (1, 2 or 3).

    Returns ``F`` of shape ``dt.shape + (2 ndim, 2 ndim)`` [1, s].
    """
    d = _ndim(ndim)
    dt = np.asarray(dt, dtype=float)
    F = np.zeros(dt.shape + (2 * d, 2 * d))
    i = np.arange(2 * d)
    F[..., i, i] = 1.0
    for a in range(d):
        F[..., a, d + a] = dt
    return F


def cv_process_noise(dt: ArrayLike, q: ArrayLike, ndim: int = 3) -> np.ndarray:
    """Process noise of the continuous white-noise acceleration model (BLK §6.2.2)::

        Q = q [[dt^3/3 I, dt^2/2 I], [dt^2/2 I, dt I]]

    ``q`` is the power spectral density of the acceleration noise per axis [m^2/s^3]; the
    velocity changes by about ``sqrt(q dt)`` [m/s] over ``dt``. This is also the ``Q`` of Stone
    Soup's ``ConstantVelocity(noise_diff_coeff=q)``.

    Parameters
    ----------
    dt : time step [s], any shape.
    q : acceleration noise spectral density [m^2/s^3], >= 0, broadcast with ``dt``.
    ndim : number of spatial axes (1, 2 or 3).
    """
    d = _ndim(ndim)
    dt = np.asarray(dt, dtype=float)
    q = np.asarray(q, dtype=float)
    if np.any(q < 0):
        raise ValueError(f"q (acceleration noise spectral density) must be >= 0, got {q!r}")
    dt, q = np.broadcast_arrays(dt, q)
    Q = np.zeros(dt.shape + (2 * d, 2 * d))
    for a in range(d):
        Q[..., a, a] = q * dt**3 / 3.0
        Q[..., a, d + a] = Q[..., d + a, a] = q * dt**2 / 2.0
        Q[..., d + a, d + a] = q * dt
    return Q


def ct_transition_matrix(dt: ArrayLike, omega: ArrayLike, ndim: int = 3) -> np.ndarray:
    """Coordinated-turn transition matrix, known turn rate ``omega`` (Li & Jilkov 2003 §V).

    The turn is in the horizontal (x, y) plane, counter-clockwise for ``omega > 0``; the
    vertical axis (ndim = 3) moves at constant velocity. With ``s = sin(w dt)``,
    ``c = cos(w dt)``::

        x'  = x + s/w vx - (1 - c)/w vy        vx' = c vx - s vy
        y'  = y + (1 - c)/w vx + s/w vy        vy' = s vx + c vy

    and ``omega -> 0`` gives the constant-velocity matrix.

    Parameters
    ----------
    dt : time step [s].
    omega : turn rate [rad/s], broadcast with ``dt``.
    ndim : 2 or 3.
    """
    d = _ndim(ndim)
    if d < 2:
        raise ValueError("ndim must be 2 or 3 for a coordinated turn")
    dt = np.asarray(dt, dtype=float)
    w = np.asarray(omega, dtype=float)
    dt, w = np.broadcast_arrays(dt, w)
    F = cv_transition_matrix(dt, d)
    wt = w * dt
    s, c = np.sin(wt), np.cos(wt)
    small = np.abs(w) < 1e-12
    w_safe = np.where(small, 1.0, w)
    s_w = np.where(small, dt, s / w_safe)
    c_w = np.where(small, 0.5 * w * dt * dt, (1.0 - c) / w_safe)
    F[..., 0, d + 0] = s_w
    F[..., 0, d + 1] = -c_w
    F[..., 1, d + 0] = c_w
    F[..., 1, d + 1] = s_w
    F[..., d + 0, d + 0] = c
    F[..., d + 0, d + 1] = -s
    F[..., d + 1, d + 0] = s
    F[..., d + 1, d + 1] = c
    return F


def position_measurement_matrix(ndim: int = 3) -> np.ndarray:
    """``H = [I 0]`` of shape ``(ndim, 2 ndim)``: the position part of the state [1]."""
    d = _ndim(ndim)
    return np.hstack([np.eye(d), np.zeros((d, d))])


@dataclass(frozen=True)
class ConstantVelocity:
    """Nearly-constant-velocity motion (continuous white-noise acceleration, BLK §6.2.2).

    Parameters
    ----------
    q : acceleration noise power spectral density per axis [m^2/s^3], >= 0.
    ndim : spatial axes, 2 or 3 for the tracker (1 for the textbook examples).
    """

    q: float
    ndim: int = 3

    def __post_init__(self):
        _ndim(self.ndim)
        if not np.isfinite(self.q) or self.q < 0:
            raise ValueError(f"q (acceleration noise spectral density) must be a finite "
                             f"number >= 0 [m^2/s^3], got {self.q!r}")

    @property
    def n(self) -> int:
        """State dimension (2 ndim)."""
        return 2 * self.ndim

    def transition(self, dt: ArrayLike) -> np.ndarray:
        """``F(dt)`` [1, s]."""
        return cv_transition_matrix(dt, self.ndim)

    def noise(self, dt: ArrayLike) -> np.ndarray:
        """``Q(dt)`` [m^2, m^2/s, m^2/s^2]."""
        return cv_process_noise(dt, self.q, self.ndim)


@dataclass(frozen=True)
class CoordinatedTurn:
    """Coordinated turn at a known rate (Li & Jilkov 2003 §V; BLK ch. 11).

    The process noise is that of the constant-velocity model with the same ``q``, a common
    approximation of the exact discretised turn noise for small ``omega dt``.

    Parameters
    ----------
    omega : turn rate [rad/s], counter-clockwise positive.
    q : acceleration noise power spectral density per axis [m^2/s^3], >= 0.
    ndim : 2 or 3.
    """

    omega: float
    q: float
    ndim: int = 3

    def __post_init__(self):
        if _ndim(self.ndim) < 2:
            raise ValueError("ndim must be 2 or 3 for a coordinated turn")
        if not np.isfinite(self.q) or self.q < 0:
            raise ValueError(f"q (acceleration noise spectral density) must be a finite "
                             f"number >= 0 [m^2/s^3], got {self.q!r}")
        if not np.isfinite(self.omega):
            raise ValueError(f"omega (turn rate) must be finite [rad/s], got {self.omega!r}")

    @property
    def n(self) -> int:
        return 2 * self.ndim

    def transition(self, dt: ArrayLike) -> np.ndarray:
        return ct_transition_matrix(dt, self.omega, self.ndim)

    def noise(self, dt: ArrayLike) -> np.ndarray:
        return cv_process_noise(dt, self.q, self.ndim)


# --------------------------------------------------------------------------- radar polar


def polar_to_cartesian(polar: ArrayLike, sensor_position: ArrayLike = 0.0) -> np.ndarray:
    """Radar (range, azimuth[, elevation]) to east, north[, up] [m].

    Azimuth is clockwise from north, elevation above the horizontal [rad]::

        x = r cos(el) sin(az),  y = r cos(el) cos(az),  z = r sin(el)

    Parameters
    ----------
    polar : ``[..., 2]`` (range [m], azimuth [rad]) or ``[..., 3]`` (range [m], azimuth [rad],
        elevation [rad]).
    sensor_position : the radar's position ``[..., d]`` [m], broadcast.
    """
    p = np.asarray(polar, dtype=float)
    r, az = p[..., 0], p[..., 1]
    if p.shape[-1] == 2:
        xyz = np.stack([r * np.sin(az), r * np.cos(az)], axis=-1)
    elif p.shape[-1] == 3:
        el = p[..., 2]
        ce = np.cos(el)
        xyz = np.stack([r * ce * np.sin(az), r * ce * np.cos(az), r * np.sin(el)], axis=-1)
    else:
        raise ValueError(f"polar measurements must have 2 or 3 components, got shape {p.shape}")
    return xyz + np.asarray(sensor_position, dtype=float)


def converted_measurement(polar: ArrayLike, R_polar: ArrayLike,
                          sensor_position: ArrayLike = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Converted-measurement position and covariance from a radar polar measurement.

    The measurement is converted to Cartesian (:func:`polar_to_cartesian`) and its covariance
    linearised at the measured point, ``R_c = J R_polar J^T`` with ``J`` the Jacobian of the
    conversion (the "conventional" converted measurement of Lerro & Bar-Shalom 1993, without
    their debiasing). The result feeds the linear position update of the Kalman filter. The
    linearisation is consistent while ``r sigma_az^2 / sigma_r < 0.4`` (Lerro & Bar-Shalom
    1993); beyond that (long range with coarse angles) the conversion bias matters.

    Parameters
    ----------
    polar : ``[..., 2]`` (range [m], azimuth [rad]) or ``[..., 3]`` (+ elevation [rad]).
    R_polar : covariance of the polar measurement ``[..., d, d]`` [m^2, m rad, rad^2], e.g.
        ``diag(sigma_r^2, sigma_az^2, sigma_el^2)``.
    sensor_position : the radar's position [m].

    Returns ``(z, R)``: position ``[..., d]`` [m] and covariance ``[..., d, d]`` [m^2].
    """
    p = np.asarray(polar, dtype=float)
    Rp = np.asarray(R_polar, dtype=float)
    d = p.shape[-1]
    if Rp.shape[-2:] != (d, d):
        raise ValueError(f"R_polar must have shape [..., {d}, {d}], got {Rp.shape}")
    if np.any(np.diagonal(Rp, axis1=-2, axis2=-1) < 0):
        raise ValueError("R_polar must have non-negative variances on its diagonal")
    r, az = p[..., 0], p[..., 1]
    sa, ca = np.sin(az), np.cos(az)
    J = np.zeros(p.shape + (d,))
    if d == 2:
        J[..., 0, 0], J[..., 0, 1] = sa, r * ca
        J[..., 1, 0], J[..., 1, 1] = ca, -r * sa
    elif d == 3:
        el = p[..., 2]
        se, ce = np.sin(el), np.cos(el)
        J[..., 0, 0], J[..., 0, 1], J[..., 0, 2] = ce * sa, r * ce * ca, -r * se * sa
        J[..., 1, 0], J[..., 1, 1], J[..., 1, 2] = ce * ca, -r * ce * sa, -r * se * ca
        J[..., 2, 0], J[..., 2, 2] = se, r * ce
    else:
        raise ValueError(f"polar measurements must have 2 or 3 components, got shape {p.shape}")
    R = J @ Rp @ np.swapaxes(J, -1, -2)
    R = 0.5 * (R + np.swapaxes(R, -1, -2))
    return polar_to_cartesian(p, sensor_position), R
