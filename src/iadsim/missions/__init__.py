"""Threat missions: how a threat's flight is planned from its scenario entry.

One module per kind, each with a :class:`~iadsim.missions.registry.MissionKind` registered by its
kind (:mod:`.registry`; a kind registered by a user module is used like these, docs/missions.md):

* :mod:`.oneway` — fly the route (and an orbit), or dive onto a target asset (one-way attack);
* :mod:`.isr` — reach a station, stay on it for a time, egress (back to base by default);
* :mod:`.strike` — fly toward the target until it is within the weapon's release range, release
  the weapons (new objects in flight the defence may engage), egress;
* :mod:`.sead` — a strike at a site (a fire unit or a radar), e.g. with anti-radiation missiles.

A :class:`Sortie` is the carrier's path with marks (station entry and exit, release) and the
weapons it releases. Paths are planned before the run, so the marks become steps on the engine
clock; whether a weapon is released at all is decided in the run: a carrier killed before its release
point releases nothing. A threat with a ``reaction`` or an abort rule may leave its path in the run
for a reaction path also planned before it (:mod:`.reaction`, :mod:`iadsim.engine.react`).
"""

from __future__ import annotations

from iadsim.missions.base import MissionContext, Sortie, WeaponRelease, plan_sortie
from iadsim.missions.registry import MISSION_KINDS, MISSIONS, MissionKind, mission_for, register

from iadsim.missions import isr, oneway, sead, strike  # noqa: E402,F401  (register the bundled kinds)

__all__ = ["MISSIONS", "MISSION_KINDS", "MissionContext", "MissionKind", "Sortie", "WeaponRelease", "mission_for",
           "plan_sortie", "register"]
