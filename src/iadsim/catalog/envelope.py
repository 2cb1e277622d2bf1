"""Fitted flyout envelopes and the kill-probability model's figures of catalog systems.

A missile system's catalog entry carries the flyout figures ``flyout_*`` (see :data:`FLYOUT_FIGURES`)
of :class:`iadsim.physics.flyout.Interceptor`. Two of them are fitted (:func:`fit_flyout`, a
reproducible ``scipy.optimize.least_squares`` solve) so that on a horizontal line at sea level the
missile reaches the public maximum range ``engagement_range_max_km`` exactly at its minimum useful
speed, and does so at the public (or estimated) mean speed ``missile_speed_m_s``:

- ``flyout_boost_fraction`` (propellant burnt in the boost, fraction of launch mass), and
- ``flyout_ballistic_m2_kg`` (drag coefficient x area / launch mass);

``flyout_max_time_s`` is 1.25 x the flyout time to the maximum range. The others (specific impulse,
burn times, the sustain share, the minimum useful speed) are estimates with their basis stated.
Long-range systems whose public speed is a peak speed are fitted to it instead
(:func:`fit_flyout_peak`), some on a lofted path (figures ``flyout_loft_*``, :func:`lofted_envelope_table`;
see the section "long-range systems" below).

Gun systems (gun figures and no flyout figures, :func:`is_gun`) are gun fire units in the engine:
:func:`gun_table` tabulates the shell's time of flight; see the gun section at the end. Other systems
without flyout figures keep a constant-speed projectile
(:func:`iadsim.physics.flyout.constant_speed_table`), as does :func:`system_table` for guns (the
envelope plots and coverage summary do not use the shell model yet).

:func:`envelope_problems` refuses contradictory entries: a minimum range above the maximum, or a
maximum altitude the fitted missile cannot reach.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from iadsim.catalog.models import Figure, System
from iadsim.physics.flyout import (
    EnvelopeTable, Interceptor, _rays, _tables_from_rays, constant_speed_table, envelope_table, flyout, vertical_reach_m,
)

#: flyout figures (key -> (Interceptor field, unit))
FLYOUT_FIGURES: dict[str, tuple[str, str]] = {
    "flyout_isp_s": ("isp_s", "s"),
    "flyout_boost_time_s": ("boost_time_s", "s"),
    "flyout_boost_fraction": ("boost_fraction", "1"),
    "flyout_sustain_time_s": ("sustain_time_s", "s"),
    "flyout_sustain_fraction": ("sustain_fraction", "1"),
    "flyout_ballistic_m2_kg": ("ballistic_m2_kg", "m2/kg"),
    "flyout_min_speed_m_s": ("min_speed_m_s", "m/s"),
    "flyout_max_time_s": ("max_time_s", "s"),
}

#: guidance time limit as a multiple of the flyout time to the maximum range
TIME_MARGIN = 1.25

#: the kill-probability model's figures and their defaults, used when a system does not give its own
#: (iadsim.physics.pk); every default is an estimate whose basis is its source
PK_DEFAULTS: dict[str, Figure] = {
    "pk_edge_factor": Figure(
        value=0.7, unit="1", low=0.5, high=0.9, confidence="estimate",
        source="iadsim estimate: single-shot Pk at the envelope's range edge relative to its value "
               "inside half the maximum range; command-guided missiles' miss distance grows with range "
               "(angular tracking error x range: Zarchan 2012, ch. 1) and homing missiles arrive with "
               "less energy; no public figure gives the size of the drop"),
    "pk_speed_ratio_full": Figure(
        value=2.0, unit="1", low=1.5, high=3.0, confidence="estimate",
        source="iadsim estimate: missile-to-target speed ratio at intercept from which the end game "
               "is not speed-limited; below it Pk falls linearly to 0 at a ratio of 1 (a missile no "
               "faster than its target cannot close); no public figure"),
    "pk_aspect_loss": Figure(
        value=0.3, unit="1", low=0.1, high=0.5, confidence="estimate",
        source="iadsim estimate: fraction of Pk lost in a tail chase (target flying away from the "
               "missile) relative to a head-on shot, half of it on a crossing shot; receding targets "
               "give lower closing speeds and larger fuzing errors; no public figure"),
    "pk_manoeuvre_ratio": Figure(
        value=3.0, unit="1", low=2.0, high=5.0, confidence="estimate",
        source="iadsim estimate: the missile needs several times the target's manoeuvre acceleration "
               "(the usual design rule of thumb of about 3:1); Pk is halved when the target pulls "
               "1/ratio of the missile's acceleration limit"),
    "missile_max_load_g": Figure(
        value=25.0, unit="g", low=15.0, high=40.0, confidence="estimate",
        source="iadsim estimate: lateral acceleration limit of a short- or medium-range SAM, 15-40 g "
               "for the class; no public figure for the catalog's systems"),
    "pk_common_cause_beta": Figure(
        value=0.2, unit="1", low=0.05, high=0.5, confidence="estimate",
        source="iadsim estimate: beta factor of the common-cause model of a salvo's failures "
               "(Fleming 1975; Mosleh et al. 1988, NUREG/CR-4780, whose generic beta factors for "
               "redundant equipment are about 0.05-0.2), raised because the missiles of a salvo share "
               "the fire-control radar, the guidance solution and the target's countermeasures"),
}


def figure_or_default(system: System, key: str) -> Figure:
    """The system's figure ``key``, or the model default of :data:`PK_DEFAULTS`."""
    if key in system.figures:
        return system.figures[key]
    return PK_DEFAULTS[key]


def has_flyout(system: System) -> bool:
    return all(k in system.figures for k in FLYOUT_FIGURES)


def interceptor_of(system: System, value=lambda s, k: s.nominal(k)) -> Interceptor | None:
    """The system's :class:`Interceptor` from its flyout figures, or None if it has none."""
    if not has_flyout(system):
        return None
    return Interceptor(**{field: float(value(system, key)) for key, (field, _u) in FLYOUT_FIGURES.items()})


def _reach(ic: Interceptor, range_m: float, t_end: float, dt: float = 0.1) -> tuple[float, float]:
    """(time [s], speed [m/s]) on reaching range_m horizontally at sea level; beyond t_end or after
    the speed falls to 0, a continued estimate that keeps the fit's residuals smooth."""
    t_prev, s_prev, v_prev = 0.0, 0.0, 0.0
    for t, s, v in _rays(ic, np.zeros(1), 0.0, t_end, dt):
        if t == 0.0:
            continue
        if s[0] >= range_m:
            f = (range_m - s_prev) / max(s[0] - s_prev, 1e-12)
            return t_prev + f * (t - t_prev), v_prev + f * (v[0] - v_prev)
        if v[0] <= 0 and t > ic.boost_time_s:
            break
        t_prev, s_prev, v_prev = t, float(s[0]), float(v[0])
    short = range_m - s_prev
    return t_prev + short / max(v_prev, 50.0), v_prev - short / 10.0


def fit_flyout(range_max_m: float, mean_speed_m_s: float, *, isp_s: float, boost_time_s: float,
               sustain_time_s: float, sustain_share: float, min_speed_m_s: float) -> dict[str, float]:
    """Fit the boost propellant fraction and the ballistic parameter so that, flying horizontally at
    sea level, the missile reaches ``range_max_m`` [m] at ``min_speed_m_s`` [m/s] after
    ``range_max_m / mean_speed_m_s`` [s]. ``sustain_share``: the sustain phase's propellant as a
    fraction of the boost's [1]. Returns the catalog figure values (keys of :data:`FLYOUT_FIGURES`).

    A coarse grid picks the start, then ``scipy.optimize.least_squares`` (trust region reflective)
    solves the two equations; deterministic. Raises ValueError if no solution exists within
    boost fractions 0.05-0.85 and ballistic parameters 1e-6..1e-2 m^2/kg."""
    from scipy.optimize import least_squares

    t_goal = range_max_m / mean_speed_m_s
    t_max = TIME_MARGIN * t_goal

    def make(x) -> Interceptor:
        fb = float(x[0])
        return Interceptor(isp_s, boost_time_s, fb, sustain_time_s, fb * sustain_share,
                           10.0 ** float(x[1]), min_speed_m_s, t_max)

    def res(x):
        t, v = _reach(make(x), range_max_m, 3.0 * t_max)
        return [t / t_goal - 1.0, (v - min_speed_m_s) / min_speed_m_s]

    fb_top = 0.85 / (1 + sustain_share)
    grid = [(fb * fb_top / 0.85, lb) for fb in (0.2, 0.35, 0.5, 0.65, 0.8)
            for lb in (-5.5, -5.0, -4.5, -4.0, -3.5, -3.0)]
    start = min(grid, key=lambda x: float(np.sum(np.square(res(x)))))
    sol = least_squares(res, start, bounds=([0.05 * fb_top / 0.85, -6.0], [fb_top, -2.0]),
                        xtol=1e-12, ftol=1e-12, gtol=1e-12)
    if np.max(np.abs(sol.fun)) > 1e-4:
        raise ValueError(f"no flyout reaches {range_max_m / 1000:g} km at a mean {mean_speed_m_s:g} m/s "
                         f"ending at {min_speed_m_s:g} m/s (residuals {sol.fun})")
    ic = make(sol.x)
    return {"flyout_isp_s": isp_s, "flyout_boost_time_s": boost_time_s,
            "flyout_boost_fraction": ic.boost_fraction, "flyout_sustain_time_s": sustain_time_s,
            "flyout_sustain_fraction": ic.sustain_fraction, "flyout_ballistic_m2_kg": ic.ballistic_m2_kg,
            "flyout_min_speed_m_s": min_speed_m_s, "flyout_max_time_s": t_max}


def _ic_key(ic: Interceptor) -> tuple:
    return tuple(getattr(ic, f) for f in Interceptor.__dataclass_fields__)


@lru_cache(maxsize=256)
def _reach_cached(key: tuple, range_cap_m: float) -> float:
    return vertical_reach_m(Interceptor(*key), range_cap_m)


@lru_cache(maxsize=256)
def _reaches_cached(key: tuple, range_cap_m: float, height_m: float) -> bool:
    ang = np.radians([30.0, 45.0, 60.0, 75.0, 90.0])
    slant = height_m / np.sin(ang)
    ang = ang[slant <= range_cap_m * (1 + 1e-9)]
    if ang.size == 0:
        return False
    r = flyout(Interceptor(*key), height_m / np.tan(ang), np.full(ang.size, height_m), dt_s=0.2)
    return bool(r.reachable.any())


def reaches_altitude(ic: Interceptor, range_cap_m: float, height_m: float) -> bool:
    """Whether the flyout reaches ``height_m`` above a sea-level launcher on a ray of elevation
    30-90 degrees no longer than the slant-range cap."""
    return _reaches_cached(_ic_key(ic), float(range_cap_m), float(height_m))


def altitude_reach_m(ic: Interceptor, range_cap_m: float) -> float:
    """The flyout's altitude limit above a sea-level launcher [m] within the slant-range cap."""
    return _reach_cached(_ic_key(ic), float(range_cap_m))


def envelope_problems(system: System) -> list[tuple[str, str]]:
    """Contradictions among an effector's envelope figures: (figure path, message)."""
    out = []
    f = system.figures
    if system.kind != "effector":
        return out
    from iadsim.catalog.firecontrol import fire_control_problems

    out += fire_control_problems(system)
    if "engagement_range_min_km" in f and "engagement_range_max_km" in f:
        if f["engagement_range_min_km"].value > f["engagement_range_max_km"].value:
            out.append(("figures.engagement_range_min_km",
                        f"minimum range {f['engagement_range_min_km'].value:g} km is above the maximum "
                        f"range {f['engagement_range_max_km'].value:g} km (engagement_range_max_km)"))
    present = [k for k in FLYOUT_FIGURES if k in f]
    if present and len(present) < len(FLYOUT_FIGURES):
        missing = [k for k in FLYOUT_FIGURES if k not in f]
        out.append((f"figures.{missing[0]}", f"missing; a flyout model needs all of {', '.join(FLYOUT_FIGURES)}"))
        return out
    loft = [k for k in LOFT_FIGURES if k in f]
    if loft and (len(loft) < len(LOFT_FIGURES) or not present):
        missing = [k for k in list(LOFT_FIGURES) + list(FLYOUT_FIGURES) if k not in f]
        out.append((f"figures.{missing[0]}", "missing; a lofted flyout needs all of "
                    f"{', '.join(list(FLYOUT_FIGURES) + list(LOFT_FIGURES))}"))
        return out
    if loft and not 0.0 < f["flyout_loft_elevation_deg"].value < 90.0:
        out.append(("figures.flyout_loft_elevation_deg",
                    f"{f['flyout_loft_elevation_deg'].value:g} deg is not an elevation between 0 and 90 degrees"))
        return out
    if not present or "engagement_altitude_max_m" not in f or "engagement_range_max_km" not in f:
        return out
    try:
        ic = interceptor_of(system)
    except ValueError as exc:
        return [("figures.flyout_boost_fraction", str(exc))]
    cap = f["engagement_range_max_km"].value * 1000.0
    hmax = f["engagement_altitude_max_m"].value
    if not reaches_altitude(ic, cap, hmax):
        reach = altitude_reach_m(ic, cap)
        out.append(("figures.engagement_altitude_max_m",
                    f"{hmax:g} m is above the flyout's reach ({reach:.0f} m with the flyout_* figures "
                    f"within the {f['engagement_range_max_km'].value:g} km maximum range): lower it or "
                    "change the flyout figures"))
    return out


#: envelope tables have this many nodes in ground range and in height
TABLE_NR = 161
TABLE_NH = 101


@lru_cache(maxsize=64)
def _table_cached(key: tuple | None, speed: float, r_top: float, h_top: float, site_alt: float,
                  loft: tuple | None = None) -> EnvelopeTable:
    if key is None:
        return constant_speed_table(speed, r_top, h_top, TABLE_NR, TABLE_NH)
    if loft is not None:
        return lofted_envelope_table(Interceptor(*key), loft[0], loft[1], r_top, h_top, site_alt,
                                     TABLE_NR, TABLE_NH)
    return envelope_table(Interceptor(*key), r_top, h_top, site_alt, TABLE_NR, TABLE_NH)


def system_table(system: System, site_alt_m: float = 0.0, value=lambda s, k: s.nominal(k)) -> EnvelopeTable:
    """The envelope table of a system at a launcher altitude [m MSL] (rounded to 50 m): its flyout,
    or a constant-speed projectile at ``missile_speed_m_s`` for systems without flyout figures; a
    system with loft figures flies the faster of its direct and lofted paths
    (:func:`lofted_envelope_table`). The table covers 1.1 x the maximum range and altitude."""
    ic = interceptor_of(system, value)
    r_top = 1.1 * value(system, "engagement_range_max_km") * 1000.0
    h_top = 1.1 * max(value(system, "engagement_altitude_max_m"), 100.0)
    site = 50.0 * math.floor(site_alt_m / 50.0 + 0.5)
    loft = loft_of(system, value)
    if loft is None:
        return _table_cached(None if ic is None else _ic_key(ic), float(value(system, "missile_speed_m_s")),
                             r_top, h_top, site)
    return _table_cached(_ic_key(ic), float(value(system, "missile_speed_m_s")), r_top, h_top, site, loft)


def envelope_summary(system: System, site_alt_m: float = 0.0) -> dict[str, float]:
    """What the model's envelope gives for a system against a slow (non-limiting) target, launcher at
    ``site_alt_m`` [m MSL]: maximum slant range at low level (100 m above the site) [m], highest
    height above the site reached [m], the largest slant range at any height [m], the highest
    missile speed in the table [m/s], the minimum
    range [m] (the catalog's, or where the missile first reaches its minimum speed, if larger),
    and the fastest target engaged [m/s] (inf: no limit)."""
    tab = system_table(system, site_alt_m)
    r_cap = system.nominal("engagement_range_max_km") * 1000.0
    h_cap = system.nominal("engagement_altitude_max_m")
    G, H = np.meshgrid(tab.gr_m, tab.h_m, indexing="ij")
    slant = np.hypot(G, H)
    ok = tab.feasible & (slant <= r_cap) & (H <= h_cap)
    low = np.argmin(np.abs(tab.h_m - 100.0))
    row = ok[:, low]
    max_range_low = float(slant[row, low].max()) if row.any() else 0.0
    any_h = ok.any(axis=0)
    top = float(tab.h_m[any_h].max()) if any_h.any() else 0.0
    # minimum useful range: where the missile is first fast enough on the low line
    fast = tab.feasible[:, low]
    r_speed = float(slant[np.argmax(fast), low]) if fast.any() else np.inf
    r_min = max(system.nominal("engagement_range_min_km") * 1000.0, r_speed)
    vt = system.nominal("target_speed_max_m_s") if "target_speed_max_m_s" in system.figures else np.inf
    max_range_any = float(slant[ok].max()) if ok.any() else 0.0
    peak = float(tab.speed_m_s[tab.feasible].max()) if tab.feasible.any() else 0.0
    return {"max_range_low_m": max_range_low, "max_height_m": top, "min_range_m": r_min,
            "min_altitude_m": system.nominal("engagement_altitude_min_m"), "max_target_speed_m_s": vt,
            "flyout": float(has_flyout(system)), "max_range_any_m": max_range_any,
            "peak_speed_m_s": peak}


# --- guns ---------------------------------------------------------------------------------------
#
# An effector is a *gun fire unit* when its catalog entry has the gun figures the shell model needs
# (GUN_ENGINE_FIGURES, iadsim.physics.gun) and no missile flyout figures (FLYOUT_FIGURES). Gun-missile
# systems with a flyout (2K22 Tunguska, Pantsir-S1) stay missile units. A gun unit's "missile" is a
# burst: its magazine is gun_rounds_carried // rounds per burst bursts, rounds per burst = rate of
# fire x burst length; the time of flight to the PIP is the shell's (flat fire, v = v0 exp(-k x));
# the envelope is the catalog's, cut at the gun's effective slant range; the per-engagement Pk is
# the burst kill probability at the PIP's range (iadsim.physics.gun.burst_kill_probability_at_range).

#: figures an effector must have to be a gun fire unit
GUN_ENGINE_FIGURES = ("gun_muzzle_velocity_m_s", "gun_drag_coefficient_per_m", "gun_dispersion_mrad",
                      "gun_rate_of_fire_rds_min", "gun_rounds_carried", "gun_effective_range_km")

#: gun fire-control figures and their defaults, used when a gun system does not give its own
GUN_DEFAULTS: dict[str, Figure] = {
    "gun_burst_length_s": Figure(
        value=1.0, unit="s", low=0.5, high=2.0, confidence="estimate",
        source="iadsim estimate: length of one burst of a radar-directed anti-aircraft cannon; short "
               "bursts of about 0.5-2 s are the usual firing doctrine against air targets (the "
               "catalog's Gepard entry assumes 20-40 rounds per burst, about 1-2 s from both guns); "
               "no public figure for the catalog's systems"),
    "gun_aim_error_mrad": Figure(
        value=1.0, unit="mrad", low=0.5, high=3.0, confidence="estimate",
        source="iadsim estimate: 1-sigma fire-control (aiming) error of a radar-directed gun per axis, "
               "of the order of a tracking radar's angular accuracy (about 1 mrad; Driels 2014, ch. 8 "
               "gives delivery errors of guns in mils); added to the dispersion as independent per "
               "round (no error common to the burst)"),
}

#: default gun vulnerability of a threat by its RCS class: (upper RCS bound [m2], presented area
#: [m2], kill probability given one hit [1]); a threat's own figures gun_presented_area_m2 and
#: gun_kill_given_hit take precedence. Estimates: the presented area is the projected area of the
#: size class the RCS stands for (small drones and stealthy cruise missiles, larger drones and
#: cruise missiles, fighters and helicopters, large aircraft); the kill probability given a hit of a
#: 20-35 mm HE round falls with size and redundancy (Ball 2003, "The Fundamentals of Aircraft Combat
#: Survivability Analysis and Design", 2nd ed., AIAA, ch. 5: vulnerable area = presented area x
#: P(kill | hit)); no public figure for the catalog's threats.
GUN_VULNERABILITY_CLASSES: tuple[tuple[float, float, float], ...] = (
    (0.1, 1.0, 0.5),
    (1.0, 2.0, 0.3),
    (10.0, 6.0, 0.1),
    (math.inf, 20.0, 0.05),
)


def is_gun(system: System) -> bool:
    """Whether an effector is a gun fire unit (gun figures present, no missile flyout figures)."""
    return (system.kind == "effector" and all(k in system.figures for k in GUN_ENGINE_FIGURES)
            and not has_flyout(system))


def gun_figure(system: System, key: str) -> Figure:
    """The gun system's figure ``key``, or the default of :data:`GUN_DEFAULTS`."""
    return system.figures[key] if key in system.figures else GUN_DEFAULTS[key]


def gun_rounds_per_burst(system: System) -> int:
    """Rounds per burst [1]: rate of fire [rds/min] / 60 x burst length [s], rounded, at least 1."""
    rof = system.nominal("gun_rate_of_fire_rds_min")
    return max(int(round(rof / 60.0 * gun_figure(system, "gun_burst_length_s").value)), 1)


def gun_bursts_carried(system: System) -> int:
    """Bursts one vehicle carries: gun_rounds_carried // rounds per burst."""
    return int(system.nominal("gun_rounds_carried")) // gun_rounds_per_burst(system)


def threat_gun_vulnerability(system: System) -> tuple[Figure, Figure]:
    """(presented area [m2], kill probability given a hit [1]) of a threat against gun rounds: its
    own figures ``gun_presented_area_m2`` / ``gun_kill_given_hit``, else the default of its RCS class
    (:data:`GUN_VULNERABILITY_CLASSES`), marked an estimate with its basis."""
    rcs = system.nominal("rcs_m2")
    top, area, pkh = next(c for c in GUN_VULNERABILITY_CLASSES if rcs <= c[0])
    basis = (f"iadsim estimate: default of the RCS class rcs_m2 <= {top:g} m2 "
             "(iadsim.catalog.envelope.GUN_VULNERABILITY_CLASSES; Ball 2003, ch. 5)")
    out = []
    for key, val, lo, hi, unit in (("gun_presented_area_m2", area, area / 2, area * 2, "m2"),
                                   ("gun_kill_given_hit", pkh, pkh / 2, min(pkh * 2, 1.0), "1")):
        out.append(system.figures[key] if key in system.figures else
                   Figure(value=val, unit=unit, low=lo, high=hi, confidence="estimate", source=basis))
    return out[0], out[1]


def gun_table(system: System) -> EnvelopeTable:
    """The envelope table of a gun: shell time of flight [s] and speed [m/s] over ground range x
    height above the site (flat fire along the slant range, v = v0 exp(-k x), McCoy 1999 ch. 2;
    iadsim.physics.gun), covering 1.1 x the effective range; the time limit is the time of flight
    to the effective slant range, so the PIP lies within it; no minimum speed."""
    v0 = system.nominal("gun_muzzle_velocity_m_s")
    k = system.nominal("gun_drag_coefficient_per_m")
    r_eff = system.nominal("gun_effective_range_km") * 1000.0
    h_top = 1.1 * max(min(system.nominal("engagement_altitude_max_m"), r_eff), 100.0)
    return _gun_table_cached(float(v0), float(k), float(r_eff), float(h_top))


@lru_cache(maxsize=64)
def _gun_table_cached(v0: float, k: float, r_eff: float, h_top: float) -> EnvelopeTable:
    from iadsim.physics.gun import shell_time_of_flight_s, shell_velocity_m_s

    gr = np.linspace(0.0, 1.1 * r_eff, TABLE_NR)
    hh = np.linspace(0.0, h_top, TABLE_NH)
    R = np.hypot(gr[:, None], hh[None, :])
    tof = np.asarray(shell_time_of_flight_s(R, v0, k), dtype=float)
    spd = np.asarray(shell_velocity_m_s(R, v0, k), dtype=float)
    t_max = float(shell_time_of_flight_s(r_eff, v0, k)) * (1 + 1e-9)
    return EnvelopeTable(gr, hh, tof, spd, t_max, 0.0)


# --- long-range systems: peak-speed fit and lofted flyout ------------------------------------------
#
# The mean-speed fit above cannot fit the long-range systems: their public speed figure is a peak
# (burn-out) speed ("Mach 5", "2,000 m/s"), which no missile keeps over 70-250 km, and no boost-coast
# or boost-sustain missile flies 200 km on a horizontal line at sea level (at the public peak speed
# the drag would need an implausibly small ballistic parameter). For them :func:`fit_flyout_peak`
# fits the boost fraction and ballistic parameter so that the missile's highest speed is the public
# peak speed and, on its path to a target at the public maximum slant range, it arrives at its
# minimum useful speed. Where no such missile flies the public range on a horizontal line at sea
# level, the path is *lofted*: the missile climbs at a loft elevation to a loft height above the
# launcher, then flies a straight line to the intercept point (figures ``flyout_loft_altitude_m``
# and ``flyout_loft_elevation_deg``), the first-order description of the high, energy-saving
# trajectory of long-range surface-to-air missiles in thin air (Fleeman 2006, ch. 6 "flight
# performance": range grows as the density along the path falls; Zarchan 2012, ch. 1). The engine
# takes, at each intercept point, the faster of the direct and the lofted path that is feasible
# (:func:`lofted_envelope_table`). Left out: the turn between the two legs (instantaneous), the
# induced drag of the lift that holds the path, and the Mach dependence of the drag coefficient.

#: optional figures of a lofted flyout (key -> unit)
LOFT_FIGURES: dict[str, str] = {"flyout_loft_altitude_m": "m", "flyout_loft_elevation_deg": "deg"}


def loft_of(system: System, value=lambda s, k: s.nominal(k)) -> tuple[float, float] | None:
    """(loft height above the launcher [m], loft elevation [deg]) of a system with a lofted flyout,
    else None."""
    if not has_flyout(system) or not all(k in system.figures for k in LOFT_FIGURES):
        return None
    return float(value(system, "flyout_loft_altitude_m")), float(value(system, "flyout_loft_elevation_deg"))


def _loft_rays(ic: Interceptor, h_loft_m: float, sin_c: float, sin2: np.ndarray, site_alt_m: float,
               t_end: float, dt: float):
    """Integrate the speed along lofted paths: a climb at elevation sine ``sin_c`` up to ``h_loft_m``
    above the site, then straight legs of elevation sines ``sin2`` [N]; yields (t, s, v) after each
    step, arrays [N] (s: path length [m]); the integration of :func:`iadsim.physics.flyout._integrate`
    (same phases, drag and gravity terms)."""
    from iadsim.physics.flyout import G0, _integrate, isa_density

    n = sin2.shape[0]
    s1 = h_loft_m / sin_c if h_loft_m > 0 else 0.0
    beta = ic.ballistic_m2_kg

    def acc(s_, v_, thrust, mu_):
        up = s_ < s1
        sg = np.where(up, sin_c, sin2)
        h = np.where(up, s_ * sin_c, h_loft_m + (s_ - s1) * sin2)
        # a descending leg run on below the site (past every point it serves) reads the site's density
        h = np.maximum(h, 0.0)
        return (thrust / mu_ - G0 * sg
                - 0.5 * isa_density(site_alt_m + h) * v_ * v_ * beta / mu_)

    yield from _integrate(ic, n, acc, t_end, dt, v_floor=-1.0)   # stopped: stays <= 0


def _path_reach(ic: Interceptor, length_m: float, h_loft_m: float, elev_deg: float, t_end: float,
                dt: float = 0.1) -> tuple[float, float, float]:
    """(time [s], speed [m/s], highest speed on the way [m/s]) on reaching path length ``length_m``
    of a lofted path that levels off at the loft height (a horizontal line at sea level when
    ``h_loft_m`` is 0); beyond ``t_end`` or once the coasting missile is below half its minimum
    useful speed, a continued estimate keeps the fit's residuals smooth (as :func:`_reach`)."""
    t_prev, s_prev, v_prev, vmax = 0.0, 0.0, 0.0, 0.0
    for t, s, v in _loft_rays(ic, h_loft_m, math.sin(math.radians(elev_deg)), np.zeros(1), 0.0, t_end, dt):
        if t == 0.0:
            continue
        vmax = max(vmax, float(v[0]))
        if s[0] >= length_m:
            f = (length_m - s_prev) / max(s[0] - s_prev, 1e-12)
            return t_prev + f * (t - t_prev), v_prev + f * (v[0] - v_prev), vmax
        if v[0] <= 0.5 * ic.min_speed_m_s and t > ic.boost_time_s + ic.sustain_time_s:
            break       # coasting far below the minimum speed: the point is out of reach
        t_prev, s_prev, v_prev = t, float(s[0]), float(v[0])
    short = length_m - s_prev
    return t_prev + short / max(v_prev, 50.0), v_prev - short / 10.0, vmax


def loft_path_length_m(range_m: float, h_loft_m: float, elev_deg: float) -> float:
    """Path length [m] of a lofted path (climb at ``elev_deg`` to ``h_loft_m``, then level) to a
    target at slant range ``range_m`` [m] at the loft height; ``range_m`` on a sea-level line when
    ``h_loft_m`` is 0."""
    if h_loft_m <= 0:
        return range_m
    g = math.radians(elev_deg)
    ground = math.sqrt(max(range_m * range_m - h_loft_m * h_loft_m, 0.0))
    return h_loft_m / math.sin(g) + (ground - h_loft_m / math.tan(g))


def fit_flyout_peak(range_max_m: float, peak_speed_m_s: float, *, isp_s: float, boost_time_s: float,
                    sustain_time_s: float, sustain_share: float, min_speed_m_s: float,
                    loft_alt_m: float = 0.0, loft_elev_deg: float = 45.0,
                    ballistic_min_m2_kg: float = 1e-7) -> dict[str, float]:
    """Fit the boost propellant fraction and the ballistic parameter so that the missile's highest
    speed is ``peak_speed_m_s`` [m/s] and it reaches a target at slant range ``range_max_m`` [m] at
    ``min_speed_m_s`` [m/s]: on a horizontal line at sea level, or (``loft_alt_m`` > 0) on the lofted
    path that climbs at ``loft_elev_deg`` [deg] to ``loft_alt_m`` [m] and levels off there.
    ``flyout_max_time_s`` is :data:`TIME_MARGIN` x the flyout time to that point. Deterministic
    (coarse grid, then ``scipy.optimize.least_squares``); raises ValueError if no solution exists
    within boost fractions 0.05-0.85 and ballistic parameters ``ballistic_min_m2_kg``..1e-2 m^2/kg
    (a floor refuses the implausibly low drag a long flight through dense air would need). Returns the catalog
    figure values (keys of :data:`FLYOUT_FIGURES`, plus :data:`LOFT_FIGURES` when lofted)."""
    from scipy.optimize import least_squares

    length = loft_path_length_m(range_max_m, loft_alt_m, loft_elev_deg)
    t_cap = 2.0 * length / max(min_speed_m_s, 1.0)

    def make(x) -> Interceptor:
        fb = float(x[0])
        return Interceptor(isp_s, boost_time_s, fb, sustain_time_s, fb * sustain_share,
                           10.0 ** float(x[1]), min_speed_m_s, t_cap)

    def res(x):
        _t, v, vmax = _path_reach(make(x), length, loft_alt_m, loft_elev_deg, t_cap)
        return [vmax / peak_speed_m_s - 1.0, (v - min_speed_m_s) / min_speed_m_s]

    fb_top = 0.85 / (1 + sustain_share)
    lb_min = max(math.log10(ballistic_min_m2_kg), -7.0)
    # quick refusal: at the least drag allowed, the missile that peaks at the public speed must reach
    # the point (more drag at the same peak speed only loses more speed on the way)
    from scipy.optimize import brentq

    def peak_gap(fb):
        ic = make((fb, lb_min))
        vmax = 0.0
        for _t, _s, v in _loft_rays(ic, loft_alt_m, math.sin(math.radians(loft_elev_deg)), np.zeros(1), 0.0,
                                    boost_time_s + sustain_time_s + 1.0, 0.1):
            vmax = max(vmax, float(v[0]))
        return vmax - peak_speed_m_s

    lo_fb = 0.05 * fb_top / 0.85
    if peak_gap(lo_fb) < 0 < peak_gap(fb_top):
        fb0 = brentq(peak_gap, lo_fb, fb_top, xtol=1e-6)
        _t0, v0, _vm0 = _path_reach(make((fb0, lb_min)), length, loft_alt_m, loft_elev_deg, t_cap)
        if v0 < min_speed_m_s:
            where = (f"on a path lofted to {loft_alt_m / 1000:g} km" if loft_alt_m > 0
                     else "on a horizontal line at sea level")
            raise ValueError(f"no flyout peaking at {peak_speed_m_s:g} m/s reaches {range_max_m / 1000:g} km "
                             f"{where} at {min_speed_m_s:g} m/s with Cd A / m0 >= {ballistic_min_m2_kg:g} m2/kg "
                             f"(it arrives at {v0:.0f} m/s)")
    grid = [(fb * fb_top / 0.85, lb) for fb in (0.2, 0.35, 0.5, 0.65, 0.8)
            for lb in (-6.5, -6.0, -5.5, -5.0, -4.5, -4.0, -3.5)]
    grid = [(fb, max(lb, lb_min)) for fb, lb in grid]
    start = min(grid, key=lambda x: float(np.sum(np.square(res(x)))))
    sol = least_squares(res, start, bounds=([0.05 * fb_top / 0.85, lb_min], [fb_top, -2.0]),
                        xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=60)
    if np.max(np.abs(sol.fun)) > 1e-4:
        where = (f"on a path lofted to {loft_alt_m / 1000:g} km" if loft_alt_m > 0
                 else "on a horizontal line at sea level")
        raise ValueError(f"no flyout peaking at {peak_speed_m_s:g} m/s reaches {range_max_m / 1000:g} km "
                         f"{where} at {min_speed_m_s:g} m/s (residuals {sol.fun})")
    ic = make(sol.x)
    t_reach, _v, _vm = _path_reach(ic, length, loft_alt_m, loft_elev_deg, t_cap)
    out = {"flyout_isp_s": isp_s, "flyout_boost_time_s": boost_time_s,
           "flyout_boost_fraction": ic.boost_fraction, "flyout_sustain_time_s": sustain_time_s,
           "flyout_sustain_fraction": ic.sustain_fraction, "flyout_ballistic_m2_kg": ic.ballistic_m2_kg,
           "flyout_min_speed_m_s": min_speed_m_s, "flyout_max_time_s": TIME_MARGIN * t_reach}
    if loft_alt_m > 0:
        out.update(flyout_loft_altitude_m=loft_alt_m, flyout_loft_elevation_deg=loft_elev_deg)
    return out


def loft_table(ic: Interceptor, h_loft_m: float, elev_deg: float, range_top_m: float, height_top_m: float,
               site_alt_m: float = 0.0, nr: int = 161, nh: int = 101, n_rays: int = 181,
               dt_s: float = 0.1) -> EnvelopeTable:
    """Tabulate the lofted flyout on an [nr x nh] grid (as :func:`iadsim.physics.flyout.envelope_table`):
    the climb leg is common; ``n_rays`` second legs from the top of the climb, elevations -90..90
    degrees, are integrated once and each node interpolated between its two neighbouring legs,
    linearly in elevation and in path length. Nodes not beyond the top of the climb are unreached."""
    from iadsim.physics.flyout import UNREACHED_S

    gr = np.linspace(0.0, range_top_m, nr)
    hh = np.linspace(0.0, height_top_m, nh)
    G, H = np.meshgrid(gr, hh, indexing="ij")
    g = math.radians(elev_deg)
    x1 = h_loft_m / math.tan(g)
    s1 = h_loft_m / math.sin(g)
    ahead = G > x1 + 1e-6
    L = s1 + np.hypot(G - x1, H - h_loft_m)
    gam = np.arctan2(H - h_loft_m, np.where(ahead, G - x1, 1.0))
    angles = np.linspace(-np.pi / 2, np.pi / 2, n_rays)
    x = (gam + np.pi / 2) / np.pi * (n_rays - 1)
    tof, spd = _tables_from_rays(_loft_rays(ic, h_loft_m, math.sin(g), np.sin(angles), site_alt_m,
                                            1.5 * ic.max_time_s, dt_s), L, x, unreached=~ahead)
    return EnvelopeTable(gr, hh, tof, spd, ic.max_time_s, ic.min_speed_m_s)


def lofted_envelope_table(ic: Interceptor, h_loft_m: float, elev_deg: float, range_top_m: float,
                          height_top_m: float, site_alt_m: float = 0.0, nr: int = 161,
                          nh: int = 101) -> EnvelopeTable:
    """The envelope table of a missile that may fly direct or lofted: at each node the faster of
    the feasible paths (:func:`iadsim.physics.flyout.envelope_table`, :func:`loft_table`); the direct
    path where neither is feasible."""
    # steep rays of a long guidance time fall back after their apex and run away in speed past the
    # point where the table stops reading them (their first speed <= 0): silence that overflow
    with np.errstate(over="ignore", invalid="ignore"):
        d = envelope_table(ic, range_top_m, height_top_m, site_alt_m, nr, nh)
        lo = loft_table(ic, h_loft_m, elev_deg, range_top_m, height_top_m, site_alt_m, nr, nh)
    fd, fl = d.feasible, lo.feasible
    use = fl & (~fd | (lo.tof_s < d.tof_s))
    return EnvelopeTable(d.gr_m, d.h_m, np.where(use, lo.tof_s, d.tof_s), np.where(use, lo.speed_m_s, d.speed_m_s),
                         ic.max_time_s, ic.min_speed_m_s)
