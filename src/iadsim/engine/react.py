"""Threats that react: warning-receiver reactions and mission abort rules, in both kernels.

A reacting sortie's reaction and abort paths are compiled as *branch* members
(:mod:`iadsim.missions.reaction`): each starts at a branch point of the sortie's path, at the step
the sortie passes it, and is not flying unless the sortie switches to it. The triggers:

* ``on: launch`` — a fire unit launches at the sortie (at the launch step);
* ``on: track`` — a fire unit's own radar detects the sortie at a step at which the defence holds a
  firm (fast) or confirmed (full fidelity) track on it;
* an abort rule — at the start of a step, a measure of the sortie so far passes its value:
  ``launches`` (launches at it), ``wingmen_lost`` (other members of its scenario threat killed),
  ``exposure_s`` (seconds inside any fire unit's nominal engagement envelope).

The sortie switches at the first branch (of the trigger's kind) whose step is at or after the
trigger step plus the reaction delay (an abort rule: at or after the next step): the original
member stops flying without being killed or arriving, the branch flies from there with its
identity (detections, tracks, engagements), and missiles already flying at the original fly at the
branch (they keep the kill probability of their launch). One switch per sortie. No random draw is
made: a reaction follows from the replication's events, so the same seed gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

#: trigger codes (ReactArrays.trigger)
TRIG_NONE, TRIG_LAUNCH, TRIG_TRACK = 0, 1, 2
#: abort-rule measure codes (ReactArrays.measure; -1: no rule)
MEASURE_CODES = {"launches": 0, "wingmen_lost": 1, "exposure_s": 2}

#: what the model leaves out (the report prints it with the other models' limits)
REACTION_MODEL = (
    "threats with a reaction switch, once per sortie, to a reaction path (turn away, descend, abort) planned "
    "before the run at branch points every branch_every_s along their path, at the first branch point at or "
    "after the trigger plus a fixed reaction delay; the warning receiver is perfect (no false alarms, no "
    "missed warnings, no direction finding), triggers are a launch at the threat or a fire unit's own radar "
    "detecting it while the defence holds its track; missiles already flying at it fly at the reaction path "
    "with the kill probability of their launch; no evasive manoeuvre against the missile itself; abort "
    "rules watch launches at the sortie, wingmen lost or seconds inside a nominal engagement envelope; a "
    "sortie that turns away or aborts before accomplishing its mission counts as aborted (neither "
    "accomplished nor lost); a strike that descends releases its weapons from the planned release point")


@dataclass
class ReactArrays:
    """Per threat member [M] (kernel inputs): which sortie a branch belongs to (-1: not a branch),
    each root's reaction and abort branches (first member, count), whether a branch keeps the
    mission (descend), the trigger, delay [steps] and abort rule of each root, the scenario threat
    of each member and whether it is a released weapon; per radar [S] the fire unit it belongs to
    (-1: a stand-alone sensor); env_cum [T, M] int32 steps inside any nominal envelope up to each
    step (only with an exposure_s rule; else [0, 0])."""

    root: np.ndarray
    rx_first: np.ndarray
    rx_count: np.ndarray
    ab_first: np.ndarray
    ab_count: np.ndarray
    keeps: np.ndarray
    abandons: np.ndarray    # [M] bool: the branch abandons the mission (turn-away, abort)
    trigger: np.ndarray
    delay: np.ndarray
    measure: np.ndarray
    above: np.ndarray
    value: np.ndarray
    group: np.ndarray
    weapon: np.ndarray
    rad_unit: np.ndarray
    env_cum: np.ndarray
    dt: float

    @property
    def active(self) -> bool:
        return bool(np.any(self.root >= 0))

    def kernel_inputs(self) -> "ReactionArrays":
        from iadsim.engine.records import ReactionArrays

        return ReactionArrays(rx_on=self.active, rx_root=self.root, rx_first=self.rx_first, rx_count=self.rx_count,
                              ab_first=self.ab_first, ab_count=self.ab_count, rx_keeps=self.keeps,
                              rx_trig=self.trigger, rx_delay=self.delay, rx_measure=self.measure,
                              rx_above=self.above, rx_value=self.value, rx_group=self.group, rx_weapon=self.weapon,
                              rad_unit=self.rad_unit, env_cum=self.env_cum, rx_dt=float(self.dt))


def inactive_inputs(m: int, s: int) -> "ReactionArrays":
    """The kernels' reaction inputs of a world without reactions (nothing is read)."""
    from iadsim.engine.records import ReactionArrays

    z = np.full(m, -1, np.int64)
    return ReactionArrays(rx_on=False, rx_root=z, rx_first=z, rx_count=np.zeros(m, np.int64), ab_first=z,
                          ab_count=np.zeros(m, np.int64), rx_keeps=np.zeros(m, np.bool_),
                          rx_trig=np.zeros(m, np.int64), rx_delay=np.zeros(m, np.int64), rx_measure=z,
                          rx_above=np.zeros(m, np.bool_), rx_value=np.zeros(m), rx_group=np.zeros(m, np.int64),
                          rx_weapon=np.zeros(m, np.bool_), rad_unit=np.full(s, -1, np.int64),
                          env_cum=np.zeros((0, 0), np.int32), rx_dt=1.0)


@numba.njit(cache=True)
def react_begin(rx_on, root, alive, react_step, react_to, parent):
    """One replication's start: branches do not fly; per-member state (pending branch, launches at
    it, the parent each weapon is released by). Outputs react_step / react_to to -1 (never)."""
    M = alive.shape[0]
    for m in range(M):
        react_step[m] = -1
        react_to[m] = -1
    if not rx_on:   # (a copy: the run-wide parent may be read-only, e.g. from Ray's object store)
        return np.zeros(0, np.int64), np.zeros(0, np.int64), parent.copy()
    for m in range(M):
        if root[m] >= 0:
            alive[m] = False
    return np.full(M, -1, np.int64), np.zeros(M, np.int64), parent.copy()


@numba.njit(cache=True)
def _schedule(t, m, first, count, first_step, pend, react_step, earliest):
    """Pend the switch of root m to its first branch (first .. first + count - 1) at or after step
    ``earliest`` (none: nothing happens)."""
    if pend[m] >= 0 or react_step[m] >= 0:
        return
    for b in range(first, first + count):
        if first_step[b] >= earliest:
            pend[m] = b
            return


@numba.njit(cache=True)
def react_launch(t, m, trigger, delay, rx_first, rx_count, first_step, pend, n_launch, react_step):
    """A fire unit launched at member m at step t: counted, and its reaction pended (on: launch)."""
    if m < 0:
        return
    n_launch[m] += 1
    if trigger[m] == 1:
        e = t + delay[m]
        _schedule(t, m, rx_first[m], rx_count[m], first_step, pend, react_step, e if e > t else t + 1)


@numba.njit(cache=True)
def react_track(t, s, m, firm_step, trigger, delay, rx_first, rx_count, rad_unit, first_step, pend, react_step):
    """Radar s detected member m at step t: its reaction is pended (on: track) if s is a fire unit's
    own radar and the defence holds a firm track on m."""
    if trigger[m] == 2 and rad_unit[s] >= 0 and firm_step[m] >= 0 and t >= firm_step[m]:
        e = t + delay[m]
        _schedule(t, m, rx_first[m], rx_count[m], first_step, pend, react_step, e if e > t else t + 1)


@numba.njit(cache=True)
def react_switch(t, alive, first_step, end_step, kill_step, root, ab_first, ab_count, keeps, measure, above, value,
                 group, weapon, env_cum, dt, pend, n_launch, par, react_step, react_to, det_step, firm_step,
                 eng_step, f_m, f_step, sw_from, sw_to):
    """Step t's switches: pended sorties still flying take their branch now (the branch inherits the
    detection, track and engagement steps, missiles flying at the sortie fly at the branch, and a
    descending strike's weapons are released by the branch); then each abort rule is checked and
    pends an abort. Fills sw_from / sw_to with this step's switches; returns their count."""
    M = alive.shape[0]
    n = 0
    for m in range(M):
        b = pend[m]
        if b < 0 or first_step[b] != t:
            continue
        pend[m] = -1
        if not alive[m] or t >= end_step[m]:
            continue   # killed or arrived before the switch
        alive[m] = False
        alive[b] = True
        react_step[m] = t
        react_to[m] = b
        det_step[b] = det_step[m]
        firm_step[b] = firm_step[m]
        eng_step[b] = eng_step[m]
        n_launch[b] = n_launch[m]
        for i in range(f_m.shape[0]):
            if f_step[i] > t and f_m[i] == m:
                f_m[i] = b
        if keeps[b]:
            for w in range(M):
                if par[w] == m and first_step[w] > t:
                    par[w] = b
        sw_from[n] = m
        sw_to[n] = b
        n += 1
    for m in range(M):
        if measure[m] < 0 or not alive[m] or t < first_step[m] or t >= end_step[m] or react_step[m] >= 0 \
                or pend[m] >= 0:
            continue
        if measure[m] == 0:
            v = float(n_launch[m])
        elif measure[m] == 1:
            v = 0.0
            for j in range(M):
                if j != m and group[j] == group[m] and not weapon[j] and kill_step[j] >= 0 and root[j] != m:
                    v += 1.0
        else:
            v = env_cum[t, m] * dt
        if (above[m] and v > value[m]) or (not above[m] and v < value[m]):
            _schedule(t, m, ab_first[m], ab_count[m], first_step, pend, react_step, t + 1)
    return n


def fold_sorties(world, raw) -> dict[str, np.ndarray] | None:
    """The kernel's per-member outcomes with each sortie's flown branch folded into the sortie's own
    column (one sortie = one column): killed, arrived, shots, detection, track and engagement steps
    of the branch it switched to; branch columns are left "never". A threat with a target (one-way
    attack) that turned away or aborted does not count as arriving (``leak_step`` -1): it went home,
    not to its target. None without reactions."""
    rx = getattr(world, "react", None)
    if rx is None or getattr(raw, "react_to", None) is None:
        return None
    keys = ("det_step", "firm_step", "eng_step", "shots", "kill_step", "killer", "leak_step")
    out = {k: np.array(getattr(raw, k), copy=True) for k in keys}
    rows, roots = np.nonzero(raw.react_to >= 0)
    b = raw.react_to[rows, roots]
    for k in ("kill_step", "killer", "leak_step"):
        out[k][rows, roots] = getattr(raw, k)[rows, b]
    # a threat with a target that turned away or aborted went home: it did not reach its target
    home = rx.abandons[b] & (np.asarray(world.target)[roots] >= 0)
    out["leak_step"][rows, roots] = np.where(home, -1, out["leak_step"][rows, roots])
    out["shots"][rows, roots] += raw.shots[rows, b]
    for k in ("det_step", "firm_step", "eng_step"):
        mine = out[k][rows, roots]
        out[k][rows, roots] = np.where(mine >= 0, mine, getattr(raw, k)[rows, b])
    br = rx.root >= 0
    for k in keys:
        out[k][:, br] = 0 if k == "shots" else -1
    return out


def fold_exposure(world, arr: np.ndarray) -> np.ndarray:
    """Add each branch's column of a per-member measure ``arr`` [R, M, ...] to its sortie's (a branch
    not flown adds 0) and zero the branch columns."""
    rx = getattr(world, "react", None)
    if rx is None:
        return arr
    out = np.array(arr, copy=True)
    for b in np.flatnonzero(rx.root >= 0):
        out[:, rx.root[b]] += out[:, b]
        out[:, b] = 0
    return out
