"""Anti-aircraft gun physics: shell flight with drag, dispersion, hit and kill probability.

Pure, vectorised functions on SI floats and numpy arrays; every function accepts scalars or
arrays and broadcasts its arguments. The engine's gun fire units (systems with these figures and no
missile flyout: iadsim.catalog.envelope.is_gun) tabulate the shell's time of flight
(:func:`shell_time_of_flight_s`, iadsim.catalog.envelope.gun_table) and take the Pk of a burst from
:func:`burst_kill_probability_at_range` at the predicted intercept point.

References
----------
- McCoy, R. L. (1999). *Modern Exterior Ballistics*. Schiffer, ch. 2 (flat-fire point-mass
  trajectory with drag proportional to v^2: dv/dx = -k v, so v = v0 exp(-k x)).
- Przemieniecki, J. S. (2000). *Mathematical Methods in Defense Analyses*, 3rd ed. AIAA,
  ch. 4 (circular normal hit probability; independent shots; cumulative kill probability).
- Driels, M. R. (2014). *Weaponeering: An Introduction to Conventional Weapon Systems and
  their Effects*, 2nd ed. AIAA, ch. 8 and 12 (CEP = 1.1774 sigma; delivery accuracy in mils,
  gun dispersion proportional to range).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "drag_constant_per_m",
    "shell_velocity_m_s",
    "shell_time_of_flight_s",
    "dispersion_sigma_m",
    "hit_probability",
    "burst_kill_probability",
    "burst_kill_probability_at_range",
    "CEP_PER_SIGMA",
]

#: circular error probable of a circular normal distribution in units of its sigma:
#: sqrt(2 ln 2) = 1.1774 (Driels 2014, ch. 8; Przemieniecki 2000, ch. 4)
CEP_PER_SIGMA = float(np.sqrt(2.0 * np.log(2.0)))


from iadsim.physics._checks import _non_negative, _out, _positive  # noqa: E402


def _unit(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if np.any(~((a >= 0) & (a <= 1))):
        raise ValueError(f"{name} must lie in [0, 1], got {x!r}")
    return a


def drag_constant_per_m(air_density_kg_m3, drag_coefficient, reference_area_m2, mass_kg):
    """Velocity decay constant of a projectile with drag proportional to v^2.

    ``k = rho C_D S / (2 m)`` (McCoy 1999, ch. 2: m dv/dt = -rho S C_D v^2 / 2 gives
    dv/dx = -k v along a flat trajectory).

    Parameters
    ----------
    air_density_kg_m3 : [kg/m3]; drag_coefficient : C_D [1]; reference_area_m2 : [m2];
    mass_kg : projectile mass [kg]

    Returns
    -------
    k [1/m].
    """
    rho = _positive(air_density_kg_m3, "air_density_kg_m3")
    cd = _non_negative(drag_coefficient, "drag_coefficient")
    s = _positive(reference_area_m2, "reference_area_m2")
    m = _positive(mass_kg, "mass_kg")
    return _out(rho * cd * s / (2.0 * m))


def shell_velocity_m_s(range_m, muzzle_velocity_m_s, k_per_m):
    """Shell speed after a flat path of length x: ``v = v0 exp(-k x)`` (McCoy 1999, ch. 2).

    Parameters
    ----------
    range_m : path length [m], >= 0; muzzle_velocity_m_s : v0 [m/s], > 0;
    k_per_m : drag constant [1/m], >= 0

    Returns
    -------
    speed [m/s].
    """
    x = _non_negative(range_m, "range_m")
    v0 = _positive(muzzle_velocity_m_s, "muzzle_velocity_m_s")
    k = _non_negative(k_per_m, "k_per_m")
    return _out(v0 * np.exp(-k * x))


def shell_time_of_flight_s(range_m, muzzle_velocity_m_s, k_per_m):
    """Time of flight to range x with velocity decay v = v0 exp(-k x).

    ``t = integral_0^x dx' / v(x') = (exp(k x) - 1) / (k v0)``, and ``x / v0`` for k = 0
    (McCoy 1999, ch. 2; gravity drop neglected: flat fire).

    Parameters
    ----------
    range_m : [m], >= 0; muzzle_velocity_m_s : [m/s], > 0; k_per_m : [1/m], >= 0

    Returns
    -------
    time of flight [s].
    """
    x = _non_negative(range_m, "range_m")
    v0 = _positive(muzzle_velocity_m_s, "muzzle_velocity_m_s")
    k = _non_negative(k_per_m, "k_per_m")
    kx = k * x
    # expm1(kx) / k -> x as k -> 0
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(k > 0, np.expm1(kx) / np.where(k > 0, k, 1.0), x) / v0
    return _out(t)


def dispersion_sigma_m(range_m, dispersion_mrad, aim_error_mrad=0.0):
    """1-sigma miss distance per axis at range R of angular errors (dispersion and aiming).

    ``sigma = R sqrt(sigma_d^2 + sigma_a^2) 1e-3`` with the angular errors in mrad
    (Driels 2014, ch. 8: delivery errors in mils grow linearly with range).

    Parameters
    ----------
    range_m : [m], >= 0; dispersion_mrad : round-to-round dispersion [mrad], > 0;
    aim_error_mrad : aiming (fire-control) error [mrad], >= 0

    Returns
    -------
    sigma [m].
    """
    r = _non_negative(range_m, "range_m")
    d = _positive(dispersion_mrad, "dispersion_mrad")
    a = _non_negative(aim_error_mrad, "aim_error_mrad")
    return _out(r * np.sqrt(d * d + a * a) * 1e-3)


def hit_probability(presented_area_m2, sigma_m, offset_m=0.0):
    """Probability that one round hits a target of presented area A.

    The target is a disc of equal area (radius r = sqrt(A / pi)) at ``offset_m`` from the mean
    point of impact, the impacts circular normal with ``sigma_m`` per axis:
    ``P = 1 - Q1(offset / sigma, r / sigma)`` (Marcum Q), which for zero offset is
    ``P = 1 - exp(-r^2 / (2 sigma^2)) = 1 - exp(-A / (2 pi sigma^2))``
    (Przemieniecki 2000, ch. 4; Driels 2014, ch. 8).

    Parameters
    ----------
    presented_area_m2 : [m2], >= 0; sigma_m : [m], > 0; offset_m : [m], >= 0

    Returns
    -------
    probability [1].
    """
    a = _non_negative(presented_area_m2, "presented_area_m2")
    s = _positive(sigma_m, "sigma_m")
    b = _non_negative(offset_m, "offset_m")
    r2 = a / np.pi
    if np.all(b == 0):
        return _out(-np.expm1(-r2 / (2.0 * s * s)))
    from scipy.stats import ncx2

    # |miss|^2 / sigma^2 is noncentral chi-square with 2 dof and noncentrality (b / sigma)^2
    return _out(ncx2.cdf(r2 / (s * s), 2, (b / s) ** 2))


def burst_kill_probability(p_hit, n_rounds, p_kill_given_hit=1.0):
    """Kill probability of a burst of n independent rounds.

    ``P_K = 1 - (1 - p_h p_k|h)^n`` (Przemieniecki 2000, ch. 4: independent shots; Driels 2014,
    ch. 12). Rounds are independent given the aim: an aiming error common to the burst
    (correlated misses) is not included here.

    Parameters
    ----------
    p_hit : single-round hit probability [1]; n_rounds : rounds in the burst [1], >= 0;
    p_kill_given_hit : kill probability of one hit [1]

    Returns
    -------
    probability [1].
    """
    ph = _unit(p_hit, "p_hit")
    n = _non_negative(n_rounds, "n_rounds")
    pk = _unit(p_kill_given_hit, "p_kill_given_hit")
    return _out(-np.expm1(n * np.log1p(-np.minimum(ph * pk, 1.0 - 1e-16))))


def burst_kill_probability_at_range(range_m, presented_area_m2, n_rounds, dispersion_mrad,
                                    aim_error_mrad=0.0, p_kill_given_hit=1.0):
    """Kill probability of a burst fired at a target at range R.

    Combines :func:`dispersion_sigma_m` (sigma grows with R), :func:`hit_probability` with no
    offset and :func:`burst_kill_probability`. Falls with range.

    Parameters
    ----------
    range_m : [m]; presented_area_m2 : [m2]; n_rounds : [1]; dispersion_mrad, aim_error_mrad :
    [mrad]; p_kill_given_hit : [1]

    Returns
    -------
    probability [1].
    """
    r = np.maximum(_non_negative(range_m, "range_m"), 1e-9)
    sigma = dispersion_sigma_m(r, dispersion_mrad, aim_error_mrad)
    return burst_kill_probability(hit_probability(presented_area_m2, sigma), n_rounds, p_kill_given_hit)
