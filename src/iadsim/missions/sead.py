"""SEAD (suppression of enemy air defences): a strike at a site, a fire unit or a stand-alone radar.

The sortie is planned as a strike (:mod:`.strike`): fly the route toward the site until it is within
90% of the weapon's range (or to ``mission.release``), release the weapons, egress. Accomplished
when the weapons are released. What a weapon does when it arrives at its site (an anti-radiation
missile needs the radar radiating through its terminal phase) is the engine's rule:
:mod:`iadsim.engine.sites`.

The helpers below check the names and ranges of weapons aimed at sites (the loader's input checks).
"""

from __future__ import annotations

from iadsim.missions.base import MissionContext, Sortie
from iadsim.missions.registry import MissionKind, register


def plan(thr, ctx: MissionContext) -> Sortie:
    from iadsim.missions import strike

    sortie = strike.plan(thr, ctx)
    sortie.kind = "sead"
    return sortie


def site_positions(scn) -> dict[str, tuple[float, float]]:
    """Name -> (lat, lon) of every site a weapon may target: the enabled fire units and sensors."""
    return {u.name: (u.site.lat, u.site.lon) for u in list(scn.effectors) + list(scn.sensors)
            if getattr(u, "enabled", True)}


def target_problem(name: str, kind: str, assets, sites) -> str | None:
    """The message for ``mission.weapon.target`` naming nothing it may attack (None: it is fine).
    A strike's weapon attacks an asset or a site; a SEAD weapon attacks a site."""
    import difflib

    if kind == "sead":
        if name in sites:
            return None
        pool = sorted(sites)
        what = ("an asset; a sead mission attacks a site" if name in assets else "unknown site")
        close = difflib.get_close_matches(name, pool, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return (f"{what} {name!r}{hint}; expected the name of a fire unit or sensor: "
                f"{', '.join(pool) or '(none defined)'}")
    if name in assets or name in sites:
        return None
    pool = sorted(assets) + sorted(sites)
    close = difflib.get_close_matches(name, pool, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"unknown asset or site {name!r}{hint}; expected one of: "
            f"{', '.join(pool) or '(no assets defined)'}")


def site_range_problems(i: int, thr, wsys, site_latlon: tuple[float, float], source: str) -> list:
    """A weapon released at a site beyond its range: a problem naming ``mission.release``."""
    from pyproj import Geod

    from iadsim.errors import Problem

    rel = thr.mission.release
    if rel is None:
        return []
    _, _, d_m = Geod(ellps="WGS84").inv(rel.lon, rel.lat, site_latlon[1], site_latlon[0])
    reach = wsys.figures["weapon_range_km"].value
    if d_m <= reach * 1000.0:
        return []
    return [Problem(source, f"threats[{i}].mission.release",
                    f"the target site {thr.mission.weapon.target!r} is {d_m / 1000:.1f} km from the release point, "
                    f"beyond the {reach:g} km range of {wsys.name}")]


@register
class Sead(MissionKind):
    """SEAD: a strike at a site (its weapons' target is a fire unit or a sensor)."""

    kind = "sead"
    accomplished = "the weapons released"
    accomplished_by = "release"
    returns = True
    releases = True
    model_text = ("sead: a strike (planned as one, with its limits) whose weapons attack a fire unit or a sensor; "
                  "what a weapon does when it arrives is the site-attack model's")

    def plan(self, thr, ctx: MissionContext) -> Sortie:
        return plan(thr, ctx)
