"""Kalman filter predict and update, gating statistics: pure numpy functions on SI arrays.

Every function broadcasts over leading axes: ``x [..., n]``, ``P [..., n, n]``,
``z [..., d]``, ``R [..., d, d]``. These are the textbook equations that the tests hold the
compiled track core (:mod:`iadsim.tracking.core`) to; the tracker itself runs the core.

With ``H=None`` the measurement is the position part of a positions-first state
(:mod:`iadsim.tracking.models`), ``H = [I 0]``: ``H P H^T`` is ``P[..., :d, :d]`` and
``P H^T`` is ``P[..., :, :d]``, which saves the products with ``H``.

References
----------
- Bar-Shalom, Y., Li, X. R. & Kirubarajan, T. (2001). *Estimation with Applications to
  Tracking and Navigation*. Wiley. (BLK.) §5.2.3 the Kalman filter algorithm: state and
  covariance prediction, measurement prediction, innovation covariance ``S = H P H' + R``,
  gain ``W = P H' S^-1``, update ``x + W nu`` and ``P - W S W'``; §5.2.3 also gives the
  Joseph form ``(I - W H) P (I - W H)' + W R W'`` used here because it keeps ``P`` symmetric
  positive semi-definite under rounding.
- Bar-Shalom, Y. & Fortmann, T. E. (1988). *Tracking and Data Association*. Academic Press.
  The validation region (gate) ``nu' S^-1 nu <= gamma`` with ``gamma`` the chi-square
  quantile of the gate probability ``P_G`` (``d`` degrees of freedom).
- Kalman, R. E. (1960). A new approach to linear filtering and prediction problems.
  *J. Basic Eng.* 82(1), 35-45. doi:10.1115/1.3662552
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "kf_predict",
    "innovation",
    "kf_update",
    "mahalanobis2",
    "gaussian_loglik",
    "gate_threshold",
    "symmetrise",
]


def _T(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def symmetrise(P: np.ndarray) -> np.ndarray:
    """``(P + P^T) / 2``: removes the rounding asymmetry of a covariance."""
    return 0.5 * (P + _T(P))


def kf_predict(x: ArrayLike, P: ArrayLike, F: ArrayLike, Q: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Kalman prediction (BLK §5.2.3): ``x' = F x``, ``P' = F P F^T + Q``.

    Parameters
    ----------
    x : state ``[..., n]`` [m, m/s].
    P : covariance ``[..., n, n]``.
    F : transition ``[..., n, n]``.
    Q : process noise ``[..., n, n]``.
    """
    x = np.asarray(x, dtype=float)
    F = np.asarray(F, dtype=float)
    xp = (F @ x[..., None])[..., 0]
    Pp = F @ np.asarray(P, dtype=float) @ _T(F) + np.asarray(Q, dtype=float)
    return xp, symmetrise(Pp)


def innovation(x: ArrayLike, P: ArrayLike, z: ArrayLike, R: ArrayLike,
               H: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Innovation ``nu = z - H x`` [m] and its covariance ``S = H P H^T + R`` [m^2] (BLK §5.2.3)."""
    x = np.asarray(x, dtype=float)
    P = np.asarray(P, dtype=float)
    z = np.asarray(z, dtype=float)
    R = np.asarray(R, dtype=float)
    if H is None:
        d = z.shape[-1]
        return z - x[..., :d], P[..., :d, :d] + R
    H = np.asarray(H, dtype=float)
    return z - (H @ x[..., None])[..., 0], H @ P @ _T(H) + R


def kf_update(x: ArrayLike, P: ArrayLike, z: ArrayLike, R: ArrayLike, H: ArrayLike | None = None,
              joseph: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Kalman update with a linear-Gaussian measurement (BLK §5.2.3).

    ``W = P H^T S^-1``, ``x+ = x + W nu``; ``P+`` in Joseph form
    ``(I - W H) P (I - W H)^T + W R W^T`` (``joseph=True``) or ``P - W S W^T``.

    Parameters
    ----------
    x : predicted state ``[..., n]``.
    P : predicted covariance ``[..., n, n]``.
    z : measurement ``[..., d]`` [m].
    R : measurement noise covariance ``[..., d, d]`` [m^2].
    H : measurement matrix ``[..., d, n]``; ``None`` for the position part of a
        positions-first state.

    Returns ``(x+, P+, nu, S)``.
    """
    x = np.asarray(x, dtype=float)
    P = np.asarray(P, dtype=float)
    z = np.asarray(z, dtype=float)
    R = np.asarray(R, dtype=float)
    n = x.shape[-1]
    d = z.shape[-1]
    if H is None:
        nu = z - x[..., :d]
        PHt = P[..., :, :d]
        S = P[..., :d, :d] + R
    else:
        H = np.asarray(H, dtype=float)
        nu = z - (H @ x[..., None])[..., 0]
        PHt = P @ _T(H)
        S = H @ PHt + R
    K = PHt @ np.linalg.inv(S)
    xu = x + (K @ nu[..., None])[..., 0]
    if joseph:
        if H is None:
            A = np.broadcast_to(np.eye(n), K.shape[:-2] + (n, n)).copy()
            A[..., :, :d] -= K
        else:
            A = np.eye(n) - K @ H
        Pu = A @ P @ _T(A) + K @ R @ _T(K)
    else:
        Pu = P - K @ S @ _T(K)
    return xu, symmetrise(Pu), nu, S


def mahalanobis2(nu: ArrayLike, S: ArrayLike) -> np.ndarray:
    """Squared Mahalanobis distance ``nu^T S^-1 nu`` [1] (the normalised innovation squared)."""
    nu = np.asarray(nu, dtype=float)
    sol = np.linalg.solve(np.asarray(S, dtype=float), nu[..., None])[..., 0]
    return np.sum(nu * sol, axis=-1)


def gaussian_loglik(nu: ArrayLike, S: ArrayLike) -> np.ndarray:
    """``ln N(nu; 0, S) = -(d ln 2 pi + ln |S| + nu^T S^-1 nu) / 2`` [ln 1/m^d]."""
    nu = np.asarray(nu, dtype=float)
    S = np.asarray(S, dtype=float)
    d = nu.shape[-1]
    _, logdet = np.linalg.slogdet(S)
    return -0.5 * (d * np.log(2.0 * np.pi) + logdet + mahalanobis2(nu, S))


def gate_threshold(probability: float, dim: int) -> float:
    """Chi-square gate ``gamma`` with ``P(nu^T S^-1 nu <= gamma) = probability`` (Bar-Shalom &
    Fortmann 1988, validation region).

    E.g. ``gate_threshold(0.99, 2) = 9.21``, ``gate_threshold(0.99, 3) = 11.34``.
    """
    if not 0.0 < probability < 1.0:
        raise ValueError(f"gate_probability must lie in the open interval (0, 1), got {probability!r}")
    if int(dim) < 1:
        raise ValueError(f"dim must be >= 1, got {dim!r}")
    from scipy.stats import chi2  # SciPy is imported where needed: it is slow to import

    return float(chi2.ppf(probability, int(dim)))
