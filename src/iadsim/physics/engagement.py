"""Engagement envelope and fire-doctrine arithmetic (shoot-look-shoot, salvos).

Shots are independent with single-shot kill probability ``pk``, the classical
assumption of Przemieniecki (2000) and Washburn & Kress (2009).

References
----------
- Przemieniecki, J. S. (2000). *Mathematical Methods in Defense Analyses*, 3rd ed.
  AIAA Education Series. (Chapters on multiple independent
  shots, salvo and shoot-look-shoot fire.)
- Washburn, A. & Kress, M. (2009). *Combat Modeling*. Springer, International
  Series in Operations Research & Management Science vol. 134. (Chs. 2-3,
  shooting without and with feedback.)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "in_envelope",
    "cumulative_pk",
    "expected_shots_shoot_look_shoot",
    "expected_shots_salvo",
    "kill_probability_salvo",
]


def _out(x: np.ndarray):
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def _probability(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if np.any((a < 0) | (a > 1)):
        raise ValueError(f"{name} must lie in [0, 1], got {x!r}")
    return a


def _count(x: ArrayLike, name: str, minimum: int = 0) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if np.any(a < minimum) or np.any(a != np.floor(a)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return a


def _one_minus_q_pow(pk: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``1 - (1 - pk) ** n`` without cancellation for small ``pk`` [1]."""
    pk, n = np.broadcast_arrays(pk, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = -np.expm1(n * np.log1p(-pk))
    # pk == 1: log1p(-1) = -inf; (1 - 1)**n is 1 for n == 0, 0 otherwise
    val = np.where(pk == 1, np.where(n == 0, 0.0, 1.0), val)
    return val


def in_envelope(ground_range_m, altitude_m, range_min_m, range_max_m,
                altitude_min_m, altitude_max_m):
    """Whether targets lie inside a launcher's range/altitude engagement envelope.

    A rectangular (ground range x altitude) envelope with inclusive bounds, the
    usual first-order description of a surface-to-air missile's engagement zone
    (Przemieniecki 2000). ``nan`` inputs give ``False``.

    Parameters
    ----------
    ground_range_m : horizontal range from the launcher to the target [m]
    altitude_m : target height above the launcher site (not above sea level or
        the local terrain) [m]
    range_min_m, range_max_m : inclusive ground-range limits [m], min <= max
    altitude_min_m, altitude_max_m : inclusive altitude limits above the launcher
        site [m], min <= max

    Returns
    -------
    bool array (numpy bool for scalar inputs), broadcast over the arguments.
    """
    r = np.asarray(ground_range_m, dtype=float)
    h = np.asarray(altitude_m, dtype=float)
    rmin = np.asarray(range_min_m, dtype=float)
    rmax = np.asarray(range_max_m, dtype=float)
    hmin = np.asarray(altitude_min_m, dtype=float)
    hmax = np.asarray(altitude_max_m, dtype=float)
    if np.any(rmin > rmax):
        raise ValueError(
            f"range_min_m must be <= range_max_m, got {range_min_m!r} > {range_max_m!r}"
        )
    if np.any(hmin > hmax):
        raise ValueError(
            f"altitude_min_m must be <= altitude_max_m, got {altitude_min_m!r} > {altitude_max_m!r}"
        )
    return _out((r >= rmin) & (r <= rmax) & (h >= hmin) & (h <= hmax))


def cumulative_pk(pk: ArrayLike, n_shots: ArrayLike):
    """Probability that at least one of ``n`` independent shots kills.

    ``P = 1 - (1 - pk) ** n`` (Przemieniecki 2000, multiple independent shots;
    Washburn & Kress 2009, chs. 2-3).

    Parameters
    ----------
    pk : single-shot kill probability [1], in [0, 1]
    n_shots : number of shots [1], integer >= 0

    Returns
    -------
    kill probability [1], in [0, 1].
    """
    p = _probability(pk, "pk")
    n = _count(n_shots, "n_shots")
    return _out(_one_minus_q_pow(p, n))


def expected_shots_shoot_look_shoot(pk: ArrayLike, max_shots: ArrayLike):
    """Expected missiles fired under shoot-look-shoot with at most ``n`` shots.

    One missile at a time, each followed by a perfect kill assessment, until the
    target is killed or ``n`` missiles are spent. Shot ``k + 1`` is fired iff the
    first ``k`` all missed, so (Przemieniecki 2000; Washburn & Kress 2009, chs. 2-3)

    ``E[N] = sum_{k=0}^{n-1} (1 - pk)**k = (1 - (1 - pk)**n) / pk``,  ``= n`` for ``pk = 0``.

    Parameters
    ----------
    pk : single-shot kill probability [1], in [0, 1]
    max_shots : most missiles that may be fired at the target [1], integer >= 0

    Returns
    -------
    expected number of missiles fired [1], in [min(1, n), n].
    """
    p = _probability(pk, "pk")
    n = _count(max_shots, "max_shots")
    p, n = np.broadcast_arrays(p, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = _one_minus_q_pow(p, n) / p
    return _out(np.where(p == 0, n, e))


def kill_probability_salvo(pk: ArrayLike, salvo_size: ArrayLike, max_salvos: ArrayLike):
    """Kill probability of up to ``S`` salvos of ``m`` independent missiles each.

    ``P = 1 - (1 - pk) ** (m S)`` (Przemieniecki 2000, salvo fire; Washburn & Kress
    2009, chs. 2-3): the target survives only if every missile misses.

    Parameters
    ----------
    pk : single-shot kill probability [1], in [0, 1]
    salvo_size : missiles per salvo ``m`` [1], integer >= 1
    max_salvos : most salvos ``S`` [1], integer >= 0

    Returns
    -------
    kill probability [1], in [0, 1].
    """
    p = _probability(pk, "pk")
    m = _count(salvo_size, "salvo_size", minimum=1)
    s = _count(max_salvos, "max_salvos")
    return _out(_one_minus_q_pow(p, m * s))


def expected_shots_salvo(pk: ArrayLike, salvo_size: ArrayLike, max_salvos: ArrayLike):
    """Expected missiles fired in salvos of ``m``, looking after each salvo.

    Salvo ``k + 1`` is fired iff the ``k m`` missiles before it all missed
    (Przemieniecki 2000; Washburn & Kress 2009, chs. 2-3):

    ``E[N] = m sum_{k=0}^{S-1} (1 - pk)**(m k) = m (1 - (1 - P_s)**S) / P_s``,

    with ``P_s = 1 - (1 - pk)**m`` the kill probability of one salvo; ``= m S`` for
    ``pk = 0``. ``m = 1`` is shoot-look-shoot.

    Parameters
    ----------
    pk : single-shot kill probability [1], in [0, 1]
    salvo_size : missiles per salvo ``m`` [1], integer >= 1
    max_salvos : most salvos ``S`` [1], integer >= 0

    Returns
    -------
    expected number of missiles fired [1], in [min(m, m S), m S].
    """
    p = _probability(pk, "pk")
    m = _count(salvo_size, "salvo_size", minimum=1)
    s = _count(max_salvos, "max_salvos")
    p, m, s = np.broadcast_arrays(p, m, s)
    p_salvo = _one_minus_q_pow(p, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = m * _one_minus_q_pow(p_salvo, s) / p_salvo
    return _out(np.where(p_salvo == 0, m * s, e))
