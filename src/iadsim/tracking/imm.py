"""Interacting multiple model (IMM) estimator: mixing, mode probabilities, combination.

Pure numpy functions over leading axes: mode probabilities ``mu [..., M]``, per-model states
``x [..., M, n]`` and covariances ``P [..., M, n, n]``. One IMM cycle (Blom & Bar-Shalom 1988;
BLK §11.6.6) is:

1. mixing (:func:`imm_mix`): predicted mode probabilities ``c_j = sum_i Pi_ij mu_i``, mixing
   weights ``mu_{i|j} = Pi_ij mu_i / c_j``, mixed initial conditions
   ``x0_j = sum_i mu_{i|j} x_i`` and ``P0_j = sum_i mu_{i|j} (P_i + (x_i - x0_j)(x_i - x0_j)')``;
2. model-matched Kalman prediction and update of each ``x0_j, P0_j`` (:mod:`.kalman`);
3. mode probability update (:func:`imm_mode_probabilities`): ``mu_j = c_j Lambda_j / sum``
   with ``Lambda_j`` the likelihood of the measurement under model ``j``;
4. combination for output (:func:`imm_combine`): ``x = sum_j mu_j x_j``,
   ``P = sum_j mu_j (P_j + (x_j - x)(x_j - x)')``.

``Pi[i, j]`` is the probability of switching from model ``i`` to model ``j`` in one step
(rows sum to 1).

References
----------
- Blom, H. A. P. & Bar-Shalom, Y. (1988). The interacting multiple model algorithm for
  systems with Markovian switching coefficients. *IEEE Trans. Autom. Control* 33(8), 780-783.
  doi:10.1109/9.1299
- Bar-Shalom, Y., Li, X. R. & Kirubarajan, T. (2001). *Estimation with Applications to
  Tracking and Navigation*. Wiley. §11.6.6 (the IMM estimator).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["imm_mix", "imm_mode_probabilities", "imm_combine", "markov_matrix"]


def markov_matrix(n_models: int, switch_probability: float) -> np.ndarray:
    """``Pi`` with ``1 - p`` on the diagonal and ``p / (M - 1)`` elsewhere [1]."""
    if not 0.0 <= switch_probability < 1.0:
        raise ValueError(f"imm_switch_probability must lie in [0, 1), got {switch_probability!r}")
    M = int(n_models)
    if M == 1:
        return np.ones((1, 1))
    Pi = np.full((M, M), switch_probability / (M - 1))
    np.fill_diagonal(Pi, 1.0 - switch_probability)
    return Pi


def imm_mix(mu: ArrayLike, Pi: ArrayLike, x: ArrayLike, P: ArrayLike
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IMM interaction (mixing) step (Blom & Bar-Shalom 1988; BLK §11.6.6).

    Parameters
    ----------
    mu : mode probabilities ``[..., M]`` [1].
    Pi : Markov switching matrix ``[M, M]``, ``Pi[i, j] = P(j at k | i at k-1)`` [1].
    x : per-model states ``[..., M, n]``.
    P : per-model covariances ``[..., M, n, n]``.

    Returns ``(x0, P0, c)``: mixed states and covariances and the predicted mode
    probabilities ``c [..., M]``.
    """
    mu = np.asarray(mu, dtype=float)
    Pi = np.asarray(Pi, dtype=float)
    x = np.asarray(x, dtype=float)
    P = np.asarray(P, dtype=float)
    c = mu @ Pi                                            # [..., M]
    w = Pi * mu[..., :, None] / np.maximum(c, 1e-300)[..., None, :]   # mu_{i|j} [..., i, j]
    x0 = np.einsum("...ij,...in->...jn", w, x)
    dx = x[..., :, None, :] - x0[..., None, :, :]          # [..., i, j, n]
    P0 = np.einsum("...ij,...inm->...jnm", w, P) + np.einsum("...ij,...ijn,...ijm->...jnm", w, dx, dx)
    return x0, 0.5 * (P0 + np.swapaxes(P0, -1, -2)), c


def imm_mode_probabilities(c: ArrayLike, loglik: ArrayLike) -> np.ndarray:
    """Mode probability update ``mu_j = c_j Lambda_j / sum_i c_i Lambda_i`` (BLK §11.6.6).

    ``loglik [..., M]`` holds ``ln Lambda_j`` (log-likelihoods avoid underflow far in a gate).
    """
    c = np.asarray(c, dtype=float)
    ll = np.asarray(loglik, dtype=float)
    a = ll - ll.max(axis=-1, keepdims=True)
    w = c * np.exp(a)
    return w / w.sum(axis=-1, keepdims=True)


def imm_combine(mu: ArrayLike, x: ArrayLike, P: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Combined estimate and covariance of the IMM (moment matching; BLK §11.6.6)."""
    mu = np.asarray(mu, dtype=float)
    x = np.asarray(x, dtype=float)
    P = np.asarray(P, dtype=float)
    xc = np.einsum("...j,...jn->...n", mu, x)
    dx = x - xc[..., None, :]
    Pc = np.einsum("...j,...jnm->...nm", mu, P + dx[..., :, None] * dx[..., None, :])
    return xc, 0.5 * (Pc + np.swapaxes(Pc, -1, -2))
