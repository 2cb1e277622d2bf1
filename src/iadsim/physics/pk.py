"""Kill probability per shot as a function of the engagement, and correlated salvos.

Single shot (``model="iadsim-factors"``)
----------------------------------------
``Pk = pk_ref x f_speed x f_range x f_aspect x f_manoeuvre``, each factor in [0, 1] and 1 at the
reference engagement (a slow, non-manoeuvring target met head-on inside half the maximum range):

- ``f_speed = clip((v_m / v_t - 1) / (k_full - 1), 0, 1)``: the missile-to-target speed ratio at
  intercept; a missile no faster than its target cannot close (factor 0), from the ratio
  ``k_full`` the end game is not speed-limited;
- ``f_range = 1`` up to half the maximum range, then linear to ``edge`` at the maximum range
  (command guidance's miss distance grows as angular error x range: Zarchan 2012, ch. 1);
- ``f_aspect = 1 - loss (1 - cos(theta)) / 2`` with ``theta`` the angle between the missile's
  velocity and the reversed target velocity (0: head-on, 180 deg: tail chase);
- ``f_manoeuvre = 1 / (1 + (ratio n_t / n_m)^2)``: the target's manoeuvre acceleration ``n_t``
  against the missile's limit ``n_m`` (halved when the missile has only ``ratio`` times the
  target's acceleration).

The form is an iadsim modelling choice; its parameters are catalog figures (all estimates) whose
sources say what they rest on. It leaves out warhead/fuze detail, countermeasures and
target-specific vulnerability.

Correlated salvo (beta-factor common-cause model)
-------------------------------------------------
Each shot fails with probability ``q = 1 - pk``. A fraction ``beta`` of that failure probability is
a common cause that fails every missile of the salvo at once (shared fire-control error, the
target's countermeasures): ``c = beta q``; the independent part of each shot's failure is
``q_i = (q - c) / (1 - c)``, so that a single shot still fails with probability q, and a salvo
of n fails with probability ``c + (1 - c) q_i^n`` (Fleming, K. N. 1975, "A reliability model for
common mode failures in redundant safety systems", General Atomic GA-A13284; Mosleh et al. 1988,
NUREG/CR-4780 vol. 1, sec. 3.3.1, the beta-factor model). ``beta = 0`` gives independent shots.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import ArrayLike

__all__ = ["pk_factor", "pk_factor_nb", "salvo_kill_probability", "common_cause_split"]


def _clip01(x):
    return np.minimum(np.maximum(x, 0.0), 1.0)


def _factor(v_m, v_t, range_frac, cos_aspect, n_t, n_m, k_full, edge, loss, ratio):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        speed_ratio = np.where(v_t > 0, v_m / np.where(v_t > 0, v_t, 1.0), np.inf)
    f_speed = _clip01((speed_ratio - 1.0) / (k_full - 1.0))
    f_range = 1.0 - (1.0 - edge) * _clip01((range_frac - 0.5) / 0.5)
    c = np.minimum(np.maximum(cos_aspect, -1.0), 1.0)
    f_aspect = 1.0 - loss * (1.0 - c) / 2.0
    f_man = 1.0 / (1.0 + (ratio * n_t / n_m) ** 2)
    return f_speed * f_range * _clip01(f_aspect) * f_man


def pk_factor(missile_speed_m_s: ArrayLike, target_speed_m_s: ArrayLike, range_fraction: ArrayLike,
              cos_aspect: ArrayLike = 1.0, target_accel_g: ArrayLike = 0.0, missile_accel_g: float = 25.0,
              speed_ratio_full: float = 2.0, edge_factor: float = 0.7, aspect_loss: float = 0.3,
              manoeuvre_ratio: float = 3.0):
    """Engagement factor of the single-shot kill probability [1], in [0, 1] (module docstring).

    Parameters
    ----------
    missile_speed_m_s : missile speed at intercept [m/s]
    target_speed_m_s : target speed [m/s]
    range_fraction : slant range of the intercept / the envelope's maximum range [1]
    cos_aspect : cosine of the angle between the missile velocity and the reversed target
        velocity [1] (1: head-on, 0: crossing, -1: tail chase)
    target_accel_g, missile_accel_g : manoeuvre accelerations of target and missile [g]
    speed_ratio_full, edge_factor, aspect_loss, manoeuvre_ratio : the model's figures [1]

    Returns
    -------
    factor [1]; multiply by the reference single-shot Pk."""
    args = [np.asarray(a, dtype=float) for a in (missile_speed_m_s, target_speed_m_s, range_fraction,
                                                   cos_aspect, target_accel_g)]
    out = _factor(*args, float(missile_accel_g), float(speed_ratio_full), float(edge_factor),
                  float(aspect_loss), float(manoeuvre_ratio))
    out = np.asarray(out)
    return out[()] if out.ndim == 0 else out


@numba.njit(cache=True)
def pk_factor_nb(v_m, v_t, range_frac, cos_aspect, n_t, n_m, k_full, edge, loss, ratio):
    """Scalar compiled twin of :func:`pk_factor` (same arguments, positional) [1]."""
    if v_t > 0.0:
        sr = v_m / v_t
    else:
        sr = math.inf
    f_speed = min(max((sr - 1.0) / (k_full - 1.0), 0.0), 1.0)
    f_range = 1.0 - (1.0 - edge) * min(max((range_frac - 0.5) / 0.5, 0.0), 1.0)
    c = min(max(cos_aspect, -1.0), 1.0)
    f_aspect = 1.0 - loss * (1.0 - c) / 2.0
    f_aspect = min(max(f_aspect, 0.0), 1.0)
    f_man = 1.0 / (1.0 + (ratio * n_t / n_m) ** 2)
    return f_speed * f_range * f_aspect * f_man


def common_cause_split(pk: ArrayLike, beta: ArrayLike):
    """(c, p_i): the probability of the salvo's common-cause failure and each shot's independent
    kill probability in the beta-factor model (Fleming 1975; NUREG/CR-4780): c = beta (1 - pk),
    p_i = 1 - ((1 - pk) - c) / (1 - c) [1]."""
    pk = np.asarray(pk, dtype=float)
    beta = np.asarray(beta, dtype=float)
    q = 1.0 - pk
    c = beta * q
    with np.errstate(divide="ignore", invalid="ignore"):
        qi = np.where(c < 1.0, (q - c) / np.where(c < 1.0, 1.0 - c, 1.0), 1.0)
    return c, 1.0 - qi


def salvo_kill_probability(pk: ArrayLike, n: ArrayLike, beta: ArrayLike = 0.0):
    """Kill probability of a salvo of n shots of single-shot kill probability pk whose failures share
    a common cause with beta factor beta [1]: ``1 - (c + (1 - c) q_i^n)`` (module docstring).

    beta = 0 gives ``1 - (1 - pk)^n`` (independent shots); beta = 1 gives pk whatever n."""
    pk = np.asarray(pk, dtype=float)
    n = np.asarray(n, dtype=float)
    beta = np.asarray(beta, dtype=float)
    if np.any((pk < 0) | (pk > 1)) or np.any((beta < 0) | (beta > 1)) or np.any(n < 0):
        raise ValueError("pk and beta must lie in [0, 1] and n >= 0")
    c, pi = common_cause_split(pk, beta)
    p = 1.0 - (c + (1.0 - c) * (1.0 - pi) ** n)
    p = np.where(n == 0, 0.0, p)
    p = np.asarray(np.clip(p, 0.0, 1.0))
    return p[()] if p.ndim == 0 else p
