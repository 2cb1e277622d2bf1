"""A fire unit's fire-control radar: the radar (with its optical channel) that tracks a target and
guides the unit's weapons onto it, as opposed to the search radar whose track only cues it.

The figures are optional (:data:`iadsim.catalog.models.FIRE_CONTROL_FIGURES`); a system without them
keeps its organic radar as the fire control: no tracking-range limit beyond the engagement envelope, no
elevation limit and ``channels_per_vehicle`` fire channels. The engine (``iadsim.engine.world`` for the
fast kernel, ``iadsim.engine.full`` for full fidelity) and the coverage maps
(``iadsim.coverage.envelope.engageable``) apply the same test, :func:`in_fire_control`: the target's
slant range from the fire unit's site at most ``fcr_range_km`` and its elevation from the site between
``fcr_elevation_min_deg`` and ``fcr_elevation_max_deg`` (above the maximum lies the cone of silence
overhead), checked where the target is when the unit decides to fire and where it is at intercept
(command and semi-active guidance need the radar on the target until the end).
"""

from __future__ import annotations

import math

import numpy as np

from iadsim.catalog.models import System

#: no fire-control figures: (range [m], lowest and highest elevation [rad]) that limit nothing
NO_FIRE_CONTROL: tuple[float, float, float] = (math.inf, -math.pi / 2, math.pi / 2)


def fire_control_limits(system: System, value=lambda s, k: s.nominal(k)) -> tuple[float, float, float]:
    """(tracking range [m], lowest elevation [rad], highest elevation [rad]) of the system's
    fire-control radar; :data:`NO_FIRE_CONTROL`'s value for each figure it does not have."""
    f = system.figures
    r = float(value(system, "fcr_range_km")) * 1000.0 if "fcr_range_km" in f else NO_FIRE_CONTROL[0]
    lo = math.radians(float(value(system, "fcr_elevation_min_deg"))) if "fcr_elevation_min_deg" in f \
        else NO_FIRE_CONTROL[1]
    hi = math.radians(float(value(system, "fcr_elevation_max_deg"))) if "fcr_elevation_max_deg" in f \
        else NO_FIRE_CONTROL[2]
    return r, lo, hi


def fire_channels(system: System, channels_per_vehicle: float, value=lambda s, k: s.nominal(k)) -> int:
    """Fire channels per vehicle: ``channels_per_vehicle`` (rounded, at least 1), limited by the
    fire-control radar's ``fcr_channels`` (targets it guides at once) where the system has one."""
    n = max(int(np.rint(channels_per_vehicle)), 1)
    if "fcr_channels" in system.figures:
        n = min(n, max(int(np.rint(value(system, "fcr_channels"))), 1))
    return n


def in_fire_control(dx, dy, dz, limits: tuple[float, float, float]) -> np.ndarray:
    """Whether targets at offsets (dx, dy, dz) [m] from the fire unit's site (east, north, up) lie
    inside its fire-control radar's range and elevation limits [bool]; NaN offsets give False."""
    rng_m, el_lo, el_hi = limits
    dx, dy, dz = (np.asarray(a, dtype=float) for a in (dx, dy, dz))
    gr = np.hypot(dx, dy)
    with np.errstate(invalid="ignore"):
        el = np.arctan2(dz, gr)
        return (np.hypot(gr, dz) <= rng_m) & (el >= el_lo) & (el <= el_hi)


def fire_control_problems(system: System) -> list[tuple[str, str]]:
    """Contradictions of the fire-control figures with each other and with the envelope: (figure
    path, message)."""
    f = system.figures
    out: list[tuple[str, str]] = []
    if system.kind != "effector":
        return out
    from iadsim.catalog.envelope import GUN_ENGINE_FIGURES, gun_rounds_per_burst

    if all(k in f for k in GUN_ENGINE_FIGURES) and f["gun_rounds_carried"].value > 0:
        per_burst = gun_rounds_per_burst(system)
        if int(f["gun_rounds_carried"].value) < per_burst:
            out.append(("figures.gun_rounds_carried",
                        f"{f['gun_rounds_carried'].value:g} rounds carried is less than one burst ({per_burst} "
                        "rounds: gun_rate_of_fire_rds_min x gun_burst_length_s): the gun would have no burst to fire"))
    if "fcr_range_km" in f and "engagement_range_max_km" in f:
        if f["fcr_range_km"].value < f["engagement_range_max_km"].value:
            out.append(("figures.fcr_range_km",
                        f"fire-control radar range {f['fcr_range_km'].value:g} km is below the maximum engagement "
                        f"range {f['engagement_range_max_km'].value:g} km (engagement_range_max_km): the radar "
                        "that guides the missile must track the target out to it"))
    for key in ("fcr_elevation_min_deg", "fcr_elevation_max_deg"):
        if key in f:
            for name, v in (("value", f[key].value), ("low", f[key].low), ("high", f[key].high)):
                if not -90.0 <= v <= 90.0:
                    out.append((f"figures.{key}", f"{name} must be an elevation in -90 .. 90 deg, got {v!r}"))
                    break
    if "fcr_elevation_min_deg" in f and "fcr_elevation_max_deg" in f:
        if f["fcr_elevation_min_deg"].value >= f["fcr_elevation_max_deg"].value:
            out.append(("figures.fcr_elevation_max_deg",
                        f"highest elevation {f['fcr_elevation_max_deg'].value:g} deg is not above the lowest "
                        f"{f['fcr_elevation_min_deg'].value:g} deg (fcr_elevation_min_deg)"))
    return out
