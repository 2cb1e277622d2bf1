"""The defence's state during a run: failures and repairs, alert states, emission control and C2 modes.

Scenario fields (``docs/defence-state.md``):

* ``mtbf_h`` / ``mttr_h`` on a fire unit or sensor: per replication the unit alternates between up
  and down, up times exponential with mean MTBF, down times exponential with mean MTTR (the
  alternating renewal process of reliability theory; its long-run fraction of time up is
  MTBF / (MTBF + MTTR): Barlow & Proschan 1975, "Statistical Theory of Reliability and Life
  Testing", ch. 7; Ross 2014, "Introduction to Probability Models", 11th ed., sec. 7.5). The
  state at the start is the unit's ``readiness`` draw (up with probability ``readiness``); a
  unit down at the start is repaired after an MTTR draw. No public MTBF/MTTR figures are in the
  catalog: these are the analyst's figures. Drawn from ``SeedSequence(seed, spawn_key=(i, 1, 2))``.
* ``alert`` (per fire unit, default ``c2.alert``): adds :data:`ALERT_DELAY_S` to the reaction time;
  an explicit ``reaction_time_s`` wins. ``c2.engagement_authority_s`` adds to every unit's.
* ``emcon`` on a radar: always, duty (random phase per replication from
  ``SeedSequence(seed, spawn_key=(i, 1, 3))``), cued, ambush. A silent radar detects nothing.
* ``c2``: integrated or autonomous, the command post and lost links (drawn from
  ``SeedSequence(seed, spawn_key=(i, 1, 4))``).

The compiled side reads the arrays of :class:`DefState`; :func:`radar_state` leaves the per-step
state in ``on[s]`` ("radar s radiates at this step"), which an anti-radiation weapon model can read.
When no field of this module is used, :func:`defence_state` returns an inactive DefState and the
kernels run exactly as before (same numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

#: a step that never comes
NEVER = 2**62

EMCON_MODES = {"always": 0, "duty": 1, "cued": 2, "ambush": 3}
EMCON_ALWAYS, EMCON_DUTY, EMCON_CUED, EMCON_AMBUSH = range(4)

#: reaction time added by the alert state [s], per catalog system where a public figure exists, else
#: the default row (an iadsim estimate). 'high' is the catalog's reaction time (acquisition to
#: launch, at readiness).
ALERT_DELAY_S: dict[str, dict[str, dict]] = {
    "default": {
        "high": {"value": 0.0, "source": "iadsim: the catalog reaction time is that of a unit at readiness",
                 "confidence": "estimate"},
        "medium": {"value": 60.0, "source": "iadsim estimate: crews at their posts, equipment on standby "
                                            "(one minute to bring it to readiness)", "confidence": "estimate"},
        "low": {"value": 300.0, "source": "iadsim estimate from the public 'ready for combat within 5 min' "
                                          "figures of Buk-M1 and S-400 (below), used for every system",
                "confidence": "estimate"},
    },
    "buk_m1_2": {
        "low": {"value": 300.0, "source": "https://www.zeit.de/news/2014-09/09/konflikte-hintergrund-das-"
                                          "raketensystem-buk-09163003 (dpa: Buk-M1 'ready for combat within "
                                          "5 min')", "confidence": "medium"},
    },
    "s_400_48n6": {
        "low": {"value": 300.0, "source": "http://french.peopledaily.com.cn/International/8469063.html "
                                          "(switch to combat-ready mode in 5 min)", "confidence": "medium"},
    },
}


def alert_delay(system: str, alert: str) -> dict:
    """The alert state's added reaction time of ``system`` (value [s], source, confidence)."""
    return ALERT_DELAY_S.get(system, {}).get(alert) or ALERT_DELAY_S["default"][alert]


@dataclass
class DefState:
    """Per-chunk arrays of the defence state ([R] replications, [S] radars = [E] fire units' own radars
    then the stand-alone ones; unit index = radar index)."""

    active: bool
    toggles: np.ndarray        # [R, S, K] steps at which unit s changes state (up <-> down), NEVER-padded
    up0: np.ndarray            # [R, S] bool: up at the start (units with repairs; others 1)
    emcon_mode: np.ndarray     # [S] EMCON_* code
    duty_period: np.ndarray    # [S] duty cycle length [steps]
    duty_on: np.ndarray        # [S] radiating steps of each cycle
    duty_phase: np.ndarray     # [R, S] phase of the cycle at step 0 [steps]
    warmup: np.ndarray         # [S] steps from cue/trigger to the first look
    ambush_r: np.ndarray       # [S] ambush trigger slant range [m]
    cue: np.ndarray            # [S, S] bool: cue[s, c] radar c cues radar s
    link_down: np.ndarray      # [R, S] step from which unit s is cut from the command post (NEVER: never)
    autonomous: bool

    def kernel_inputs(self, world) -> "DefStateArrays":
        from iadsim.engine.records import DefStateArrays

        return DefStateArrays(ds_on=self.active, toggles=self.toggles, up0=self.up0, emcon_mode=self.emcon_mode,
                              duty_period=self.duty_period, duty_on=self.duty_on, duty_phase=self.duty_phase,
                              warmup=self.warmup, ambush_r=self.ambush_r, cue=self.cue, link_down=self.link_down,
                              autonomous=self.autonomous,
                              radar_xyz=np.ascontiguousarray(world.sensor_xyz, dtype=np.float64), pos=world.pos)


def _units(scen) -> list:
    return list(scen.effectors) + list(scen.sensors)


def uses_defence_state(scen) -> bool:
    """Whether any field that needs the compiled defence state is set (failures, emcon, C2 modes/links)."""
    c2 = getattr(scen, "c2", None)
    if c2 is not None and (c2.mode != "integrated" or c2.links or c2.command_post is not None and (
            c2.command_post.lost_at_s is not None and c2.command_post.loss_probability > 0.0)):
        return True
    if any(u.mtbf_h is not None or (u.emcon is not None and u.emcon.mode != "always") for u in _units(scen)):
        return True
    from iadsim.engine.sites import uses_site_attacks

    return uses_site_attacks(scen)   # sites put out by threat weapons (iadsim.engine.sites)


def reaction_delay_s(scen, world) -> np.ndarray:
    """[E] time added to each fire unit's reaction time [s]: its alert state (unless it sets
    reaction_time_s) and the engagement-authority delay."""
    c2 = getattr(scen, "c2", None)
    out = np.zeros(len(scen.effectors))
    for ei, eff in enumerate(scen.effectors):
        alert = eff.alert or (c2.alert if c2 is not None else "high")
        if eff.reaction_time_s is None:
            out[ei] += alert_delay(world.effector_system[ei], alert)["value"]
        if c2 is not None:
            out[ei] += c2.engagement_authority_s
    return out


def apply_reaction(world, p) -> None:
    """Add the alert and authority delays to the replications' reaction steps (in place)."""
    extra = reaction_delay_s(world.scenario, world)
    if not extra.any():
        return
    steps = np.ceil(extra / world.dt - 1e-9).astype(np.int64)
    p.reaction_steps[:, :] = p.reaction_steps + steps[None, :]


def updown_times(mtbf_s: float, mttr_s: float, up0: bool, horizon_s: float, rng: np.random.Generator) -> list[float]:
    """Times [s] in [0, horizon) at which a unit changes state, starting up (``up0``) or down:
    alternating exponential up times (mean ``mtbf_s``) and down times (mean ``mttr_s``)."""
    t = 0.0
    up = up0
    out: list[float] = []
    while True:
        t += rng.exponential(mtbf_s if up else mttr_s)
        if t >= horizon_s:
            return out
        out.append(t)
        up = not up


def defence_state(world, p, seed: int, index: np.ndarray, up_start: np.ndarray | None) -> DefState:
    """The chunk's defence state; ``index`` [R] replication indices, ``up_start`` [R, S] readiness draw
    (None: every unit up)."""
    scen = world.scenario
    units = _units(scen)
    S = len(units)
    R = len(index)
    dt = world.dt
    active = uses_defence_state(scen)
    up0 = np.ones((R, S), dtype=np.bool_) if up_start is None else np.asarray(up_start, dtype=np.bool_).copy()
    mode = np.zeros(S, np.int64)
    period = np.ones(S, np.int64)
    on = np.ones(S, np.int64)
    warm = np.zeros(S, np.int64)
    amb = np.zeros(S, np.float64)
    cue = np.zeros((S, S), np.bool_)
    phase = np.zeros((R, S), np.int64)
    link = np.full((R, S), NEVER, np.int64)
    names = {u.name: i for i, u in enumerate(units)}
    horizon = world.nsteps * dt
    toggles = [[[] for _ in range(S)] for _ in range(R)]
    if active:
        for j in range(R):
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(int(index[j]), 1, 2))))
            for u, unit in enumerate(units):
                if unit.mtbf_h is not None:
                    ts = updown_times(unit.mtbf_h * 3600.0, unit.mttr_h * 3600.0, bool(up0[j, u]), horizon, rng)
                    toggles[j][u] = [int(np.ceil(x / dt - 1e-9)) for x in ts]
        for u, unit in enumerate(units):
            em = unit.emcon
            if em is None:
                continue
            mode[u] = EMCON_MODES[em.mode]
            period[u] = max(int(np.ceil(em.period_s / dt - 1e-9)), 1)
            on[u] = min(max(int(np.ceil(em.duty_cycle * em.period_s / dt - 1e-9)), 1), period[u])
            warm[u] = int(np.ceil(em.warmup_s / dt - 1e-9))
            amb[u] = (em.ambush_range_km or 0.0) * 1000.0
            if em.mode == "cued":
                for c in (em.cued_by or [x.name for x in units if x.name != unit.name]):
                    if c in names:       # a disabled unit cues nothing
                        cue[u, names[c]] = True
        if (mode == EMCON_DUTY).any():
            for j in range(R):
                rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(int(index[j]), 1, 3))))
                phase[j] = rng.integers(0, period)
        c2 = scen.c2
        if c2 is not None and (c2.links or c2.command_post is not None):
            for j in range(R):
                rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(int(index[j]), 1, 4))))
                cp = c2.command_post
                if cp is not None:
                    u_cp = rng.random()
                    if cp.lost_at_s is not None and u_cp < cp.loss_probability:
                        link[j, :] = int(np.ceil(cp.lost_at_s / dt - 1e-9))
                for lk in c2.links:
                    u_l = rng.random()
                    if lk.unit in names and u_l < lk.loss_probability:
                        i = names[lk.unit]
                        link[j, i] = min(link[j, i], int(np.ceil(lk.down_at_s / dt - 1e-9)))
    K = max([1] + [len(x) for row in toggles for x in row])
    tog = np.full((R, S, K), NEVER, np.int64)
    for j in range(R):
        for u in range(S):
            tog[j, u, :len(toggles[j][u])] = toggles[j][u]
    return DefState(active=active, toggles=tog, up0=up0, emcon_mode=mode, duty_period=period, duty_on=on,
                    duty_phase=phase, warmup=warm, ambush_r=amb, cue=cue, link_down=link,
                    autonomous=bool(getattr(scen, "c2", None) is not None and scen.c2.mode == "autonomous"))


def inactive(world, count: int) -> DefState:
    """A DefState that changes nothing (the kernels skip it)."""
    S = len(world.sensor_labels)
    return DefState(False, np.full((count, S, 1), NEVER, np.int64), np.ones((count, S), np.bool_),
                    np.zeros(S, np.int64), np.ones(S, np.int64), np.ones(S, np.int64), np.zeros((count, S), np.int64),
                    np.zeros(S, np.int64), np.zeros(S), np.zeros((S, S), np.bool_),
                    np.full((count, S), NEVER, np.int64), False)


def repaired_units(scen) -> np.ndarray:
    """[fire units + sensors] bool: units with failures and repairs (their readiness draw only sets the
    state at the start)."""
    return np.array([u.mtbf_h is not None for u in _units(scen)], dtype=bool)


# ---------------------------------------------------------------- compiled side


@numba.njit(cache=True)
def unit_state(t, toggles, ptr, up, last_fail):
    """Advance every unit's up/down state to step t (toggles [S, K] of this replication). A unit going
    down records the step in last_fail. Returns True if any unit changed state."""
    changed = False
    for u in range(up.shape[0]):
        while ptr[u] < toggles.shape[1] and toggles[u, ptr[u]] <= t:
            ptr[u] += 1
            up[u] = not up[u]
            if not up[u]:
                last_fail[u] = t
            changed = True
    return changed


@numba.njit(cache=True)
def holds_track(t, c, own_first, own_last, drop_steps, M):
    """Whether radar c holds a track (a detection within the drop time) of some threat at step t."""
    for m in range(M):
        if own_first[c, m] >= 0 and t - own_last[c, m] <= drop_steps:
            return True
    return False


@numba.njit(cache=True)
def radar_state(t, up, mode, duty_period, duty_on, duty_phase, warmup, ambush_r, cue, link_down, xyz, pos,
                alive, first_step, end_step, own_first, own_last, drop_steps, busy, trig_since, on):
    """Which radars radiate at step t: on[s] (the state an anti-radiation weapon would read).

    A radar radiates when its unit is up and its emission control lets it: always; duty (the first
    duty_on steps of each cycle of duty_period, shifted by the replication's phase); cued (while a
    cueing radar, linked to the command post, holds a track, after the warm-up); ambush (from warm-up
    steps after a live threat first comes within ambush_r of it, true geometry, then on for good).
    A fire unit's own radar stays on while its missiles fly (it guides them)."""
    S = up.shape[0]
    M = alive.shape[0]
    E = busy.shape[0]
    for s in range(S):
        if not up[s]:
            on[s] = False
            trig_since[s] = -1
            continue
        md = mode[s]
        if md == 0:
            on[s] = True
            continue
        if md == 1:
            on[s] = (t + duty_phase[s]) % duty_period[s] < duty_on[s]
        else:
            trig = False
            if md == 3 and trig_since[s] >= 0:
                trig = True        # an ambush, once sprung, stays on
            elif md == 2:
                for c in range(S):
                    if cue[s, c] and t < link_down[c] and holds_track(t, c, own_first, own_last, drop_steps, M):
                        trig = True
                        break
            else:
                r2 = ambush_r[s] * ambush_r[s]
                for m in range(M):
                    if alive[m] and first_step[m] <= t < end_step[m]:
                        dx = pos[t, m, 0] - xyz[s, 0]
                        dy = pos[t, m, 1] - xyz[s, 1]
                        dz = pos[t, m, 2] - xyz[s, 2]
                        if dx * dx + dy * dy + dz * dz <= r2:
                            trig = True
                            break
            if trig:
                if trig_since[s] < 0:
                    trig_since[s] = t
            else:
                trig_since[s] = -1
            on[s] = trig and t >= trig_since[s] + warmup[s]
        if s < E and busy[s] > 0:
            on[s] = True


@numba.njit(cache=True)
def own_detect(t, s, m, own_first, own_last, drop_steps, link_down):
    """Radar s detected threat m at step t: its own track is updated (a new one started if it had
    none); returns whether the detection reaches the central picture (the link is up)."""
    if own_first[s, m] < 0 or t - own_last[s, m] > drop_steps:
        own_first[s, m] = t
    own_last[s, m] = t
    return t < link_down[s]


@numba.njit(cache=True)
def own_track_firm(t, s, m, own_first, own_last, latency_steps, drop_steps):
    """Whether radar s holds a firm track of m at step t (detected within the drop time, firm after the
    latency)."""
    return own_first[s, m] >= 0 and t - own_last[s, m] <= drop_steps and t >= own_first[s, m] + latency_steps


@numba.njit(cache=True)
def on_own(t, e, autonomous, link_down):
    """Whether fire unit e engages only its own radar's tracks at step t (autonomous mode, or its link
    to the command post is down)."""
    return autonomous or t >= link_down[e]


@numba.njit(cache=True)
def may_engage(t, e, m, tracked, autonomous, link_down, own_first, own_last, latency_steps, drop_steps,
               reaction_steps, up, on):
    """The defence state's conditions on fire unit e engaging m at t: the unit is up and its radar
    radiates; on its own, its radar holds a firm track for at least the reaction time, else the
    central picture holds one (the central reaction check is the kernel's)."""
    if not up[e] or not on[e]:
        return False
    if on_own(t, e, autonomous, link_down):
        return (own_track_firm(t, e, m, own_first, own_last, latency_steps, drop_steps)
                and t >= own_first[e, m] + latency_steps + reaction_steps[e])
    return tracked[m]


@numba.njit(cache=True)
def own_candidates(t, nt, order, pr, tracked, alive, priority, E, autonomous, link_down, own_first, own_last,
                   latency_steps, drop_steps):
    """Add to the candidate list the threats a fire unit on its own tracks but the picture does not.
    Returns the new count."""
    M = tracked.shape[0]
    for m in range(M):
        if tracked[m] or not alive[m]:
            continue
        for e in range(E):
            if on_own(t, e, autonomous, link_down) and own_track_firm(t, e, m, own_first, own_last,
                                                                      latency_steps, drop_steps):
                order[nt] = m
                pr[nt] = -priority[t, m]
                nt += 1
                break
    return nt


@numba.njit(cache=True)
def own_free(t, m, E, autonomous, link_down, own_until):
    """Whether some fire unit on its own at step t is free to engage m (its own engagement of m, if
    any, assessed): an autonomous unit decides alone, whatever the others engage."""
    for e in range(E):
        if on_own(t, e, autonomous, link_down) and t >= own_until[e, m]:
            return True
    return False


@numba.njit(cache=True)
def picture_of_unit(t, e, ds_on, autonomous, link_down):
    """Full fidelity: the picture fire unit e engages from at step t: 0 the central picture, 1 + e its
    own (autonomous mode, or its link to the command post lost)."""
    if ds_on and on_own(t, e, autonomous, link_down):
        return 1 + e
    return 0


@numba.njit(cache=True)
def picture_of_radar(t, s, E, ds_on, autonomous, link_down):
    """Full fidelity: the picture radar s feeds at step t: 0 the central picture, 1 + s the own picture
    of fire unit s (its radar; autonomous or cut off), -1 none (a stand-alone radar cut from the
    command post)."""
    if not ds_on:
        return 0
    if s < E:
        return picture_of_unit(t, s, ds_on, autonomous, link_down)
    return 0 if t < link_down[s] else -1


@numba.njit(cache=True)
def own_pictures(E, ds_on, autonomous, link_down):
    """Full fidelity: how many fire units of this replication ever engage from a picture of their own."""
    n = 0
    if ds_on:
        for e in range(E):
            if autonomous or link_down[e] < NEVER:
                n += 1
    return n


# ---------------------------------------------------------------- checks and the report's model text


def fidelity_problems(scen, source: str) -> list:
    """Input problems of the defence state that a fidelity cannot run: none at present. C2 modes, lost
    links and a lost command post run in both fidelities (full fidelity gives a fire unit on its own
    a picture fused from its own radar only), as do failures and repairs, emission control, alert
    states and the authority delay. Kept as the one place where such a refusal goes."""
    return []


def check_fidelity(ld) -> None:
    """Raise InputError for :func:`fidelity_problems` (a scenario changed after loading, e.g. by an
    option or a sweep, is checked again when its World is compiled)."""
    from iadsim.errors import InputError

    problems = fidelity_problems(ld.scenario, ld.source)
    if problems:
        raise InputError(problems)


def model_text(scen, world=None) -> dict[str, str]:
    """The report's assumption lines of the defence state (only for the features a scenario uses)."""
    m: dict[str, str] = {}
    units = _units(scen)
    c2 = getattr(scen, "c2", None)
    if any(u.mtbf_h is not None for u in units):
        names = ", ".join(f"{u.name} (MTBF {u.mtbf_h:g} h, MTTR {u.mttr_h:g} h)" for u in units if u.mtbf_h is not None)
        m["failures"] = ("failures and repairs: " + names + "; up and down times exponential (alternating renewal "
                         "process, long-run availability MTBF/(MTBF+MTTR): Barlow & Proschan 1975 ch. 7), the "
                         "analyst's figures (no public MTBF/MTTR in the catalog); the state at the start is the "
                         "readiness draw, a unit down at the start is repaired after an MTTR draw. A failed unit "
                         "neither detects nor launches; its missiles in flight lose guidance and miss (all "
                         "missiles are treated as command or semi-active guided). Leaves out: partial "
                         "degradation, common-cause failures, spares and crews, wear with use")
    alerts = {e.alert or (c2.alert if c2 is not None else "high") for e in scen.effectors
              if e.reaction_time_s is None}
    auth = c2.engagement_authority_s if c2 is not None else 0.0
    if alerts - {"high"} or auth > 0:
        txt = ("alert states add to the catalog reaction time: high +0 s, medium +60 s (estimate), low +300 s "
               "(public 'ready for combat within 5 min' of Buk-M1 and S-400, used for every system as an "
               "estimate); a unit's reaction_time_s wins over its alert state")
        if auth > 0:
            txt += f"; an engagement-authority delay of {auth:g} s between a firm track and permission to fire"
        m["alert"] = txt + ". Leaves out: alert changes during the run, crew fatigue"
    if any(u.emcon is not None and u.emcon.mode != "always" for u in units):
        m["emcon"] = ("emission control: a silent radar detects nothing; duty cycle with a random phase per "
                      "replication; cued radars radiate while a cueing radar (linked to the command post) holds a "
                      "track, after their warm-up; ambush radars switch on, after their warm-up, once a live "
                      "threat's true position is within the ambush range, and stay on; a fire unit's radar stays "
                      "on while its missiles fly and a unit launches only while its own radar radiates. Leaves "
                      "out: passive detection, the threat's own warning of a radiating radar, radiation by "
                      "sidelobes, scan-to-scan warm-up beyond the warm-up time")
    if c2 is not None and (c2.mode == "autonomous" or c2.links or c2.command_post is not None):
        full = scen.simulation.fidelity == "full"
        txt = (f"C2 mode {c2.mode}: " + ("each fire unit engages only what its own radar tracks (firm after the "
                                         "track latency)" if c2.mode == "autonomous" else
                                         "one central picture, any radar cues any fire unit"))
        if c2.links or c2.command_post is not None:
            txt += ("; a lost link cuts the unit from the command post from that step: its radar no longer feeds "
                    "the picture and it engages only its own tracks; a lost command post cuts every link (a "
                    "stand-alone radar cut off feeds no one)")
        txt += ("; a unit on its own decides alone: it knows only its own engagements, so two units on their own "
                "can engage the same threat (the connected units share one deconflicted assignment)")
        if full:
            txt += ("; full fidelity: a unit on its own engages from a picture of its own, a tracker fed by its "
                    "radar's measurements only (the same filter, gating, association and M-of-N confirmation "
                    "as the central picture), started empty when the unit leaves the network")
        m["c2_mode"] = txt + (". Leaves out: the hand-over of the central tracks to a unit cut off, links "
                              "restored during the run, voice or degraded-bandwidth links, track identification "
                              "errors, engagement coordination by other means than the network")
    return m
