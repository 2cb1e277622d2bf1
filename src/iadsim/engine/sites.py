"""Attrition of the defence: threat weapons that put fire units and radars out (SEAD).

A weapon (released by a strike or SEAD mission, or a one-way attacker) aimed at a *site* — a fire
unit (its own radar and its launchers) or a stand-alone radar, by name — that arrives at the end of
its path alive (not intercepted) puts the site out with its kill probability ``p_kill_site``: the
scenario's figure (the analyst's), else the weapon's catalog ``p_kill_site``, else
:data:`DEFAULT_P_KILL_SITE` (an iadsim estimate). One draw per weapon, from the replication's own
counter-based stream ``STREAM_SITE`` keyed by the weapon's member index (iadsim.engine.rng).

A site that is out neither detects (its radar is silent, ``on[s]`` False) nor launches, for the rest
of the run or for the unit's ``repair_s``; its missiles in flight lose guidance and miss (as a unit
that fails: iadsim.engine.defstate). Later threats face the weaker defence.

*Anti-radiation missiles* (a catalog weapon with the figure ``arm_terminal_phase_s``) home on the
emissions of their target radar: the radar must radiate (``on[s]``, which emission control, a failure
or an earlier hit turns off) at every step of the missile's terminal phase, the last
``arm_terminal_phase_s`` seconds before it arrives; if it is silent at any of them the missile has
nothing to home on and misses (no draw). Before the terminal phase the missile flies its planned
path to the site (launched on the emitter's known position).

Scenarios without a weapon aimed at a site compile no :class:`SiteAttacks` and run exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from iadsim.engine.defstate import NEVER
from iadsim.engine.rng import STREAM_SITE, uniform

#: kill probability of a weapon that arrives at its site when neither the scenario nor the catalog
#: gives one: an iadsim estimate (a guided weapon that reaches a radar or launcher site unopposed is
#: taken to put it out more often than not; no public per-weapon site-kill figure was found)
DEFAULT_P_KILL_SITE = {"value": 0.7, "source": "iadsim estimate: a guided weapon reaching a site unopposed; no "
                                               "public per-weapon site-kill figure", "confidence": "estimate"}

EV_SITE_HIT = 14   # event type: site e put out by threat weapon m (iadsim.engine.kernel.EVENT_NAMES)


@dataclass
class SiteAttacks:
    """Per threat member [M]: the site it attacks (radar index; -1: none), its kill probability on
    that site [1] and its anti-radiation terminal phase [steps] (0: not an anti-radiation weapon);
    per site [S]: how long a hit puts it out [steps] (0: the rest of the run)."""

    site_of: np.ndarray
    p_kill: np.ndarray
    arm_steps: np.ndarray
    repair_steps: np.ndarray
    sources: dict   # weapon type -> (p_kill value, its source, confidence)

    def kernel_inputs(self) -> "SiteArrays":
        from iadsim.engine.records import SiteArrays

        return SiteArrays(site_of=self.site_of, site_p=self.p_kill, arm_steps=self.arm_steps,
                          site_repair=self.repair_steps)

    @staticmethod
    def empty_inputs(S: int) -> "SiteArrays":
        """The kernels' arrays when no weapon is aimed at a site (their loops do nothing)."""
        from iadsim.engine.records import SiteArrays

        return SiteArrays(site_of=np.zeros(0, np.int64), site_p=np.zeros(0), arm_steps=np.zeros(0, np.int64),
                          site_repair=np.zeros(S, np.int64))


def uses_site_attacks(scen) -> bool:
    """Whether any weapon or one-way attacker of the scenario is aimed at a site."""
    sites = {u.name for u in list(scen.effectors) + list(scen.sensors)}
    assets = {a.name for a in scen.assets}
    for t in scen.threats:
        w = t.mission.weapon if t.mission is not None else None
        if w is not None and w.target in sites and (t.mission.kind == "sead" or w.target not in assets):
            return True
        if t.target is not None and t.target in sites and t.target not in assets:
            return True
    return False


def site_kill_figure(scen_value, wsys, log, used_by: str) -> tuple[float, str, str]:
    """The kill probability on a site of one weapon type: (value, source, confidence)."""
    if scen_value is not None:
        return float(scen_value), "the scenario (analyst's figure)", "analyst"
    if "p_kill_site" in wsys.figures:
        fig = wsys.figure("p_kill_site")
        log.get(wsys, "p_kill_site", used_by)
        return float(fig.value), fig.source, fig.confidence
    d = DEFAULT_P_KILL_SITE
    return float(d["value"]), d["source"], d["confidence"]


def compile_sites(scen, cat, site_of: list[int], member_type: list[str], member_pk: list, dt: float,
                  S: int, log) -> SiteAttacks | None:
    """The run's site attacks (None: no member attacks a site). ``member_pk``: each member's scenario
    p_kill_site (None: the catalog's or the default)."""
    site = np.asarray(site_of, dtype=np.int64)
    if not (site >= 0).any():
        return None
    M = site.size
    pk = np.zeros(M)
    arm = np.zeros(M, np.int64)
    sources = {}
    for m in np.flatnonzero(site >= 0):
        wsys = cat[member_type[m]]
        v, src, conf = site_kill_figure(member_pk[m], wsys, log, "site attack")
        pk[m] = v
        sources[wsys.name] = (v, src, conf)
        if "arm_terminal_phase_s" in wsys.figures:
            arm[m] = max(int(np.ceil(log.get(wsys, "arm_terminal_phase_s", "anti-radiation homing") / dt - 1e-9)), 1)
    units = list(scen.effectors) + list(scen.sensors)
    rep = np.array([int(np.ceil(u.repair_s / dt - 1e-9)) if u.repair_s is not None else 0 for u in units],
                   dtype=np.int64)
    rep = np.maximum(rep, np.where(rep > 0, 1, 0))
    return SiteAttacks(site_of=site, p_kill=pk, arm_steps=arm, repair_steps=rep[:S], sources=sources)


def model_text(world) -> dict[str, str]:
    """The report's assumption line for site attacks (only when the scenario has them)."""
    sa = getattr(world, "sites", None)
    if sa is None:
        return {}
    figs = "; ".join(f"{w}: p_kill_site {v:g} ({conf}; {src})" for w, (v, src, conf) in sa.sources.items())
    arm = bool((sa.arm_steps > 0).any())
    txt = ("attrition (SEAD): a weapon aimed at a site (fire unit or radar) that arrives alive puts it out with its "
           f"p_kill_site, one draw per weapon ({figs}); a site that is out neither detects nor launches, for the rest "
           "of the run or for its repair_s, and its missiles in flight lose guidance and miss")
    if arm:
        txt += ("; an anti-radiation missile needs its radar radiating at every step of its terminal phase (the last "
                "arm_terminal_phase_s seconds, an estimate), else it misses (emission control, a failure or an earlier "
                "hit defeat it)")
    return {"attrition": txt + ". Leaves out: partial damage (a hit is all or nothing), damage assessment by the "
                               "attacker (it does not re-attack or retarget), decoy emitters and radar blinking "
                               "tactics beyond emission control, collateral damage to nearby units, the weapon's "
                               "miss distance and warhead, weapons tight holding fire at weapons aimed at sites "
                               "(they are not aimed at an asset)"}


# ---------------------------------------------------------------- compiled side


@numba.njit(cache=True)
def site_hits(t, k0, k1, leak_step, site_of, p_kill, arm_steps, arm_lost, repair_steps, hit_until, last_fail,
              site_kill, record, nev, ev_step, ev_type, ev_e, ev_m, ev_n):
    """Weapons that arrived at their site at step t (leak_step == t) put it out with their kill
    probability; an anti-radiation missile that lost its radar (arm_lost) misses. A hit site is out
    until hit_until[s] (NEVER: for the rest of the run); last_fail[s] = t makes its missiles in flight
    miss (iadsim.engine.kernel, step 1); site_kill[s] keeps the first hit's step. Records each hit in
    the recorded replication; returns the event count."""
    for m in range(site_of.shape[0]):
        s = site_of[m]
        if s < 0 or leak_step[m] != t:
            continue
        if arm_steps[m] > 0 and arm_lost[m]:
            continue
        if uniform(k0, k1, STREAM_SITE, m, 0, 0) < p_kill[m]:
            until = t + repair_steps[s] if repair_steps[s] > 0 else NEVER
            if until > hit_until[s]:
                hit_until[s] = until
            last_fail[s] = t
            if site_kill[s] < 0:
                site_kill[s] = t
            if record and nev < ev_step.shape[0]:
                ev_step[nev] = t
                ev_type[nev] = EV_SITE_HIT
                ev_e[nev] = s
                ev_m[nev] = m
                ev_n[nev] = 0
                nev += 1
    return nev


@numba.njit(cache=True)
def arm_watch(t, on, alive, first_step, end_step, site_of, arm_steps, arm_lost):
    """Anti-radiation missiles in their terminal phase at step t (the last arm_steps steps before
    they arrive) lose their target if its radar is silent now (on[s] False)."""
    for m in range(site_of.shape[0]):
        n = arm_steps[m]
        if n <= 0 or not alive[m] or t < first_step[m] or t >= end_step[m] or t < end_step[m] - n:
            continue
        if not on[site_of[m]]:
            arm_lost[m] = True


@numba.njit(cache=True)
def apply_hits(t, hit_until, on):
    """A site that is out radiates nothing at step t (it neither detects nor launches)."""
    for s in range(hit_until.shape[0]):
        if t < hit_until[s]:
            on[s] = False
