"""The compiled time-step loop: detection -> track -> C2 -> launch -> intercept, per replication.

Everything that does not depend on chance (threat motion, detection probabilities, engagement
feasibility, flyout times) is computed once per run as arrays by :mod:`iadsim.engine.world`;
this kernel only draws the random outcomes and runs the decision logic. It loops over
replications in parallel (``numba.prange``); each replication uses only its own counter-based
random stream (:mod:`iadsim.engine.rng`), so results do not depend on threads or chunking.
"""

from __future__ import annotations

import numba
import numpy as np

from iadsim.c2.wta import greedy_units as _greedy_marginal_return  # the one greedy (c2.wta)
from iadsim.engine.defstate import may_engage, on_own, own_candidates, own_detect, radar_state, unit_state
from iadsim.engine.defstate import own_free
from iadsim.engine.scoot import scoot_init, scoot_silence, scoot_step
from iadsim.engine.react import react_begin, react_launch, react_switch, react_track
from iadsim.engine.rng import STREAM_DECOY_ID, STREAM_DETECT, STREAM_KILL, uniform
from iadsim.engine.sites import EV_SITE_HIT, apply_hits, arm_watch, site_hits  # noqa: F401 (EV_SITE_HIT: the event)

# event types (timeline of a recorded replication)
EV_DETECT = 0   # first detection of a threat (by sensor e)
EV_TRACK = 1    # firm track
EV_LAUNCH = 2   # fire unit e launches at threat m (n missiles in field `n`)
EV_KILL = 3     # intercept kills m
EV_MISS = 4     # intercept misses m (or the target was already gone)
EV_LEAK = 5     # m reached the end of its route alive
EV_LOST = 6     # track dropped
EV_RADIATE = 7  # radar e starts radiating (defence state in use only: iadsim.engine.defstate)
EV_SILENT = 8   # radar e stops radiating
EV_FAIL = 9     # unit e fails
EV_REPAIR = 10  # unit e is repaired
EV_PACK = 11    # fire unit e packs up to relocate (iadsim.engine.scoot; added after the run, n: the site it leaves)
EV_SETUP = 12   # fire unit e is set up at its next site (n: that site)
EVENT_NAMES = ("detect", "track", "launch", "kill", "miss", "leak", "lost", "radiate", "silent", "fail", "repair",
               "pack", "setup", "react", "site_hit")
EV_REACT = 13   # threat m switches to its reaction or abort path (member n; iadsim.engine.react)
# EV_SITE_HIT (14): site e (fire unit or radar) put out by threat weapon m, recorded by iadsim.engine.sites
MAX_EVENTS = 8192

# C2 policies compiled into the kernel; any other registered policy runs in Python (objmode)
POLICY_URGENCY = 0   # most urgent track first, best unit for it (the default)
POLICY_GREEDY = 1    # greedy maximum marginal return over all (unit, track) pairs
POLICY_PYTHON = 2    # a policy of iadsim.c2 (exact MIP, VLNS, or one a user registered)

#: columns of the per-fire-unit flyout and Pk-model parameters ``World.flyout_par`` [E, FLYOUT_PAR_LEN]:
#: guidance time limit [s], minimum end speed [m/s], maximum target speed [m/s], mean missile speed
#: [m/s], nominal maximum range [m], missile load limit [g], Pk model's speed ratio, edge factor, aspect
#: loss and manoeuvre ratio [1], flyout table steps in ground range and height [m]; gun units
#: (iadsim.catalog.envelope.is_gun): 1 for a gun (0: missile), rounds per burst [1], per-round
#: angular miss sigma (dispersion and aiming error in quadrature) [mrad]; the launcher's sector:
#: centre azimuth, half width, lowest and highest elevation [rad] (iadsim.geo.sector); the fire-control
#: radar (iadsim.catalog.firecontrol): tracking range [m], lowest and highest elevation [rad]
(FP_TMAX, FP_VMIN, FP_VTMAX, FP_VMEAN, FP_RMAX, FP_NM, FP_KFULL, FP_EDGE, FP_LOSS, FP_RATIO, FP_DR, FP_DH,
 FP_GUN, FP_GN, FP_GSIG) = range(15)
FP_SEC_AZ, FP_SEC_HALF, FP_SEC_ELMIN, FP_SEC_ELMAX = range(15, 19)
FP_FCR_R, FP_FCR_ELMIN, FP_FCR_ELMAX = range(19, 22)
FLYOUT_PAR_LEN = 22

FIRE_HOLD = 0
FIRE_TIGHT = 1
FIRE_FREE = 2


@numba.njit(cache=True, inline="always")
def record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, step, kind, unit, threat, n):
    """Append one event to the recorded replication's log (the caller checks the capacity)."""
    ev_step[nev] = step
    ev_type[nev] = kind
    ev_e[nev] = unit
    ev_m[nev] = threat
    ev_n[nev] = n
    return nev + 1


@numba.njit(cache=True)
def arrivals(t, alive, end_step, leak_step, record, nev, ev_step, ev_type, ev_e, ev_m, ev_n):
    """Threats alive at the end of their route leak now; returns (events, all threats done)."""
    done = True
    for m in range(alive.shape[0]):
        if alive[m] and end_step[m] == t:
            leak_step[m] = t
            alive[m] = False
            if record and nev < MAX_EVENTS:
                nev = record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, t, EV_LEAK, -1, m, 0)
        if alive[m] and t < end_step[m]:
            done = False
    return nev, done


@numba.njit(cache=True)
def releases(t, alive, parent, first_step):
    """Weapons due for release now (their first step) whose carrier is no longer flying are never
    released: they do not fly, cannot be engaged and cannot reach a target (see iadsim.missions)."""
    for m in range(alive.shape[0]):
        p = parent[m]
        if p >= 0 and first_step[m] == t and not alive[p]:
            alive[m] = False


@numba.njit(cache=True)
def reloads(t, reload_done, stock, ready0, missiles, reload_steps):
    """Finish due reloads and start one for every empty fire unit with missiles in stock."""
    for e in range(missiles.shape[0]):
        if reload_done[e] == t:
            n = stock[e] if stock[e] < ready0[e] else ready0[e]
            missiles[e] += n
            stock[e] -= n
            reload_done[e] = -1
        if missiles[e] == 0 and stock[e] > 0 and reload_done[e] < 0:
            reload_done[e] = t + reload_steps[e]


@numba.njit(cache=True)
def fire_unit_state(ready0, reloads0, channels):
    """One replication's fire-unit state at the start: ready missiles, reload stock, reload clock,
    last launch, busy channels, and the engagement slots (one per channel, plus one): unit, threat,
    intercept step (-1: free), missiles, first missile number, kill probability, aim point."""
    E = channels.shape[0]
    cap = 1
    for e in range(E):
        cap += channels[e]
    return (ready0.copy(), reloads0.copy(), np.full(E, -1, np.int64), np.full(E, -10**9, np.int64),
            np.zeros(E, np.int64), np.zeros(cap, np.int64), np.zeros(cap, np.int64),
            np.full(cap, -1, np.int64), np.zeros(cap, np.int64), np.zeros(cap, np.int64),
            np.zeros(cap, np.float64), np.zeros((cap, 3), np.float64))


@numba.njit(cache=True)
def reset_outputs(det_step, firm_step, eng_step, shots, kill_step, killer, leak_step, expended):
    """Start one replication's outputs: every step -1 ("never"), every count 0."""
    for m in range(det_step.shape[0]):
        det_step[m] = -1
        firm_step[m] = -1
        eng_step[m] = -1
        shots[m] = 0
        kill_step[m] = -1
        killer[m] = -1
        leak_step[m] = -1
    for e in range(expended.shape[0]):
        expended[e] = 0


@numba.njit(cache=True)
def detects(k0, k1, t, s, m, snr, pfa):
    """One look of radar s at threat m at step t: detected with the single-pulse Swerling 1
    probability Pd = Pfa^(1 / (1 + SNR)) of :func:`iadsim.physics.radar.pd_swerling1` (Swerling
    1960, case 1; Skolnik 2001, ch. 2), drawn from the detection stream. snr: linear SNR > 0 [1];
    pfa: false-alarm probability [1]."""
    return uniform(k0, k1, STREAM_DETECT, t, s, m) < pfa ** (1.0 / (1.0 + snr))


@numba.njit(cache=True)
def jamming_js(t, s, m, jam_js, jam_owner, alive):
    """The summed jamming-to-signal ratio J/S [1] on radar s's look at threat m at step t from the
    jammers still alive (iadsim.engine.ew: a jammer stops when its carrier is killed or lands)."""
    js = 0.0
    for j in range(jam_owner.shape[0]):
        if alive[jam_owner[j]]:
            js += jam_js[t, s, m, j]
    return js


@numba.njit(cache=True)
def jamming_js_scaled(t, s, m, jam_js, jam_owner, alive, js_scale):
    """:func:`jamming_js` with each jammer's J/S times the replication's factor js_scale[s, j] [1]
    (the drawn jamming figures: iadsim.engine.ew.jamming_scale; 1 at the nominal figures)."""
    js = 0.0
    for j in range(jam_owner.shape[0]):
        if alive[jam_owner[j]]:
            js += jam_js[t, s, m, j] * js_scale[s, j]
    return js


@numba.njit(cache=True)
def identifies(k0, k1, t, s, m, p):
    """One radar look (radar s, step t) that detected decoy m identifies it with probability p [1],
    drawn from the decoy-identification stream (iadsim.engine.ew)."""
    return p > 0.0 and uniform(k0, k1, STREAM_DECOY_ID, t, s, m) < p


@numba.njit(cache=True)
def stable_order(a, n, idx):
    """The order np.argsort(a[:n], kind="mergesort") gives (ascending, ties in index order, NaN
    last), written into idx[:n] without allocating: an insertion sort, for the few tracks of one
    decision step; above 32 entries numpy's own (allocated) result."""
    if n > 32:
        return np.argsort(a[:n], kind="mergesort")
    for j in range(n):
        v = a[j]
        i = j
        while i > 0:
            w = a[idx[i - 1]]
            if v < w or (w != w and v == v):   # v before w: smaller, or w NaN and v not
                idx[i] = idx[i - 1]
                i -= 1
            else:
                break
        idx[i] = j
    return idx


@numba.njit(cache=True)
def salvo_kills(k0, k1, first_id, n, pk, beta):
    """Whether the salvo of the n missiles numbered first_id .. first_id + n - 1, each of single-shot
    kill probability pk, kills, with a common-cause failure of beta factor beta (the beta-factor
    model of :func:`iadsim.physics.pk.salvo_kill_probability`: Fleming 1975, NUREG/CR-4780): one
    draw decides the common-cause failure (probability c = beta (1 - pk)), then one draw per missile
    with the independent kill probability 1 - q_i, q_i = ((1 - pk) - c) / (1 - c). All from the kill
    stream, keyed by the salvo's first missile number, so they depend only on the replication."""
    q = 1.0 - pk
    c = beta * q
    if c > 0.0 and uniform(k0, k1, STREAM_KILL, first_id, 1, 0) < c:
        return False
    p_i = 1.0 - ((q - c) / (1.0 - c) if c < 1.0 else 1.0)
    hit = False
    for j in range(n):
        if uniform(k0, k1, STREAM_KILL, first_id + j, 0, 0) < p_i:
            hit = True
    return hit


@numba.njit(cache=True)
def end_intercept(i, t, hit, f_e, f_m, f_n, f_step, alive, kill_step, killer, busy,
                  record, nev, ev_step, ev_type, ev_e, ev_m, ev_n):
    """Close engagement slot i at its intercept step t: a kill (hit) or a miss of threat f_m[i]
    (-1: a false track, nothing to record), the fire unit's channel freed. Returns the event count."""
    m = f_m[i]
    e = f_e[i]
    if hit:
        alive[m] = False
        kill_step[m] = t
        killer[m] = e
    if record and nev < MAX_EVENTS and m >= 0:
        nev = record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, t, EV_KILL if hit else EV_MISS, e, m, f_n[i])
    busy[e] -= 1
    f_step[i] = -1
    return nev


@numba.njit(cache=True)
def launch(t, e, m, n, pk, hit_step, f_e, f_m, f_step, f_n, f_id, f_pk, launch_id, busy, missiles,
           expended, last_launch):
    """Fire unit e launches n missiles at threat m (-1: a false track) now, due at hit_step with
    single-shot kill probability pk: a free engagement slot is filled and the unit's channel,
    magazine and launch clock are charged. Returns (slot, the next missile number)."""
    slot = -1
    for i in range(f_step.shape[0]):
        if f_step[i] < 0:
            slot = i
            break
    f_e[slot] = e
    f_m[slot] = m
    f_step[slot] = hit_step
    f_n[slot] = n
    f_id[slot] = launch_id
    f_pk[slot] = pk
    busy[e] += 1
    missiles[e] -= n
    expended[e] += n
    last_launch[e] = t
    return slot, launch_id + n


@numba.njit(cache=True)
def _defence_state_step(t, toggles, ptr, up, last_fail, emcon_mode, duty_period, duty_on, duty_phase, warmup,
                        ambush_r, cue, link_down, radar_xyz, pos, alive, first_step, end_step, own_first, own_last,
                        drop_steps, busy, trig_since, on, was_on, radiating,
                        record, nev, ev_step, ev_type, ev_e, ev_m, ev_n, hit_until):
    """Units up or down and radars radiating at step t (iadsim.engine.defstate); counts each radar's
    radiating steps and records the changes in the recorded replication. Returns the event count."""
    S = up.shape[0]
    if t == 0:
        for s in range(S):
            was_on[s] = False
    before = up.copy()
    unit_state(t, toggles, ptr, up, last_fail)
    radar_state(t, up, emcon_mode, duty_period, duty_on, duty_phase, warmup, ambush_r, cue, link_down, radar_xyz,
                pos, alive, first_step, end_step, own_first, own_last, drop_steps, busy, trig_since, on)
    apply_hits(t, hit_until, on)   # a site put out by a threat weapon (iadsim.engine.sites)
    for s in range(S):
        if on[s]:
            radiating[s] += 1
        if record and nev < MAX_EVENTS - 1:
            if before[s] != up[s]:
                nev = record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, t, EV_REPAIR if up[s] else EV_FAIL,
                                   s, -1, 0)
            if on[s] != was_on[s]:
                nev = record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, t, EV_RADIATE if on[s] else EV_SILENT,
                                   s, -1, 0)
        was_on[s] = on[s]
    return nev


_PY_POLICY = {"fn": None}


def _python_policy(values, P, assign):  # pragma: no cover - called from compiled code
    """Solve one decision step with the registered Python policy set by :func:`use_policy`."""
    from iadsim.c2.wta import WTAProblem

    fn = _PY_POLICY["fn"]
    prob = WTAProblem(values=np.asarray(values).copy(), pk=np.asarray(P).copy(),
                      capacity=np.ones(P.shape[0], dtype=np.int64))
    # no clock: the policy runs on its own iteration/node budget (time_limit_s=None is its
    # default), so the decision is the same on any machine
    x = np.asarray(fn(prob, time_limit_s=None, seed=0).x)
    for e in range(P.shape[0]):
        hits = np.flatnonzero(x[e] > 0)
        assign[e] = int(hits[0]) if hits.size else -1


def use_policy(name: str) -> int:
    """The kernel's policy code for a policy name, installing a Python policy for the callback."""
    if name == "urgency":
        return POLICY_URGENCY
    if name == "greedy":
        return POLICY_GREEDY
    import iadsim.c2.wta_exact  # noqa: F401  (registers "exact")
    import iadsim.c2.wta_vlns  # noqa: F401  (registers "vlns")
    from iadsim.c2.wta import get_policy

    _PY_POLICY["fn"] = get_policy(name)
    return POLICY_PYTHON


@numba.njit(cache=True)
def c2_assign(policy, P, tofq, vals, nc, assign, used):
    """The weapon-target assignment of one decision step, shared by both fidelities.

    P[e, q]: kill probability unit e would achieve on candidate q (candidates in decreasing
    urgency, 0 where it cannot engage); tofq[e, q] flyout steps; vals[q] the candidates' priority.
    Fills assign[e] with a candidate index or -1."""
    E = P.shape[0]
    for e in range(E):
        assign[e] = -1
    if policy == POLICY_URGENCY:
        # most urgent candidate first, given the unit with the greatest kill probability
        # (on a tie, the earliest intercept); one engagement per candidate per step
        for e in range(E):
            used[e] = False
        for q in range(nc):
            best = -1
            for e in range(E):
                if used[e] or P[e, q] <= 0.0:
                    continue
                if best < 0 or P[e, q] > P[best, q] + 1e-12 or (
                        abs(P[e, q] - P[best, q]) <= 1e-12 and tofq[e, q] < tofq[best, q]):
                    best = e
            if best >= 0:
                assign[best] = q
                used[best] = True
    elif policy == POLICY_GREEDY:
        _greedy_marginal_return(vals[:nc], P[:, :nc], assign)
    else:
        with numba.objmode():
            _python_policy(vals[:nc], P[:, :nc], assign)


@numba.njit(cache=True)
def assign_on_own(policy, P, tofq, vals, nc, assign, used, t, ds_on, autonomous, link_down, P1, assign1):
    """The assignment of one decision step when fire units may be on their own (autonomous mode, or a
    lost link): the connected units share one assignment (:func:`c2_assign`, deconflicted), and each
    unit on its own solves the same policy alone on its own row (so two of them can engage the same
    threat). Without units on their own, exactly :func:`c2_assign`. P1, assign1: work arrays shaped
    as P and assign."""
    E = P.shape[0]
    n_own = 0
    if ds_on:
        for e in range(E):
            if on_own(t, e, autonomous, link_down):
                n_own += 1
    if n_own == 0:
        c2_assign(policy, P, tofq, vals, nc, assign, used)
        return
    for e in range(E):
        for q in range(nc):
            P1[e, q] = P[e, q]
            if on_own(t, e, autonomous, link_down):
                P[e, q] = 0.0
    c2_assign(policy, P, tofq, vals, nc, assign, used)   # the connected units
    for e in range(E):
        for q in range(nc):
            P[e, q] = P1[e, q]
    for e in range(E):
        if not on_own(t, e, autonomous, link_down):
            continue
        for f in range(E):
            for q in range(nc):
                P1[f, q] = P[f, q] if f == e else 0.0
        c2_assign(policy, P1, tofq, vals, nc, assign1, used)
        assign[e] = assign1[e]


@numba.njit(cache=True)
def _run_one(k0, k1, rep, policy, record, w, p, o, ew, ds, sc, react, gun, site):
    """Replication rep (random key k0, k1) of the records of :mod:`iadsim.engine.records` (w: WorldArrays,
    p: ParamArrays, o: Outputs, ew: EWArrays, ds: DefStateArrays, sc: ScootArrays, react: ReactionArrays,
    gun: GunArrays, site: SiteArrays); returns the count of events recorded (record: this replication's)."""
    nsteps = w.nsteps
    first_step = w.first_step
    end_step = w.end_step
    parent = w.parent
    target = w.target
    priority = w.priority
    scan = w.scan
    snr = w.snr
    tof = w.tof
    pip_ok = w.pip_ok
    pip_r = w.pip_r
    pip_agl = w.pip_agl
    pip_above = w.pip_above
    act_ok = w.act_ok
    act_r = w.act_r
    act_agl = w.act_agl
    act_above = w.act_above
    pk_geo = w.pk_geo
    reloads0 = w.reloads0
    salvo = w.salvo
    max_eng = w.max_eng
    assess_steps = w.assess_steps
    min_interval_steps = w.min_interval_steps
    fire_mode = w.fire_mode
    latency_steps = w.latency_steps
    drop_steps = w.drop_steps
    # this replication's figures and outputs
    pk1 = p.pk1[rep]
    beta = p.beta[rep]
    rmin = p.rmin[rep]
    rmax = p.rmax[rep]
    hmin = p.hmin[rep]
    hmax = p.hmax[rep]
    channels = p.channels[rep]
    ready0 = p.ready0[rep]
    reload_steps = p.reload_steps[rep]
    reaction_steps = p.reaction_steps[rep]
    snr_scale = p.snr_scale[rep]
    pfa = p.pfa[rep]
    js_scale = p.js_scale[rep]
    det_step = o.det_step[rep]
    firm_step = o.firm_step[rep]
    eng_step = o.eng_step[rep]
    shots = o.shots[rep]
    kill_step = o.kill_step[rep]
    killer = o.killer[rep]
    leak_step = o.leak_step[rep]
    expended = o.expended[rep]
    ev_step = o.ev_step
    ev_type = o.ev_type
    ev_e = o.ev_e
    ev_m = o.ev_m
    ev_n = o.ev_n
    ident_step = o.ident_step[rep]
    radiating = o.radiating[rep]
    react_step = o.react_step[rep]
    react_to = o.react_to[rep]
    bursts = o.bursts[rep]
    site_kill = o.site_kill[rep]
    jam_js = ew.jam_js
    jam_owner = ew.jam_owner
    decoy_p = ew.decoy_p
    ds_on = ds.ds_on
    toggles = ds.toggles[rep]
    up0 = ds.up0[rep]
    emcon_mode = ds.emcon_mode
    duty_period = ds.duty_period
    duty_on = ds.duty_on
    duty_phase = ds.duty_phase[rep]
    warmup = ds.warmup
    ambush_r = ds.ambush_r
    cue = ds.cue
    link_down = ds.link_down[rep]
    autonomous = ds.autonomous
    radar_xyz = ds.radar_xyz
    pos = ds.pos
    sc_on = sc.sc_on
    sc_group = sc.sc_group
    sc_units = sc.sc_units
    sc_after = sc.sc_after
    sc_steps = sc.sc_steps
    sc_seq = sc.sc_seq[rep]
    sc_log = sc.sc_log[rep]
    rx_on = react.rx_on
    rx_root = react.rx_root
    rx_first = react.rx_first
    rx_count = react.rx_count
    ab_first = react.ab_first
    ab_count = react.ab_count
    rx_keeps = react.rx_keeps
    rx_trig = react.rx_trig
    rx_delay = react.rx_delay
    rx_measure = react.rx_measure
    rx_above = react.rx_above
    rx_value = react.rx_value
    rx_group = react.rx_group
    rx_weapon = react.rx_weapon
    rad_unit = react.rad_unit
    env_cum = react.env_cum
    rx_dt = react.rx_dt
    gun_of = gun.gun_of
    g_ok = gun.g_ok
    g_tof = gun.g_tof
    g_pk = gun.g_pk
    g_mag0 = gun.g_mag0
    site_of = site.site_of
    site_p = site.site_p
    arm_steps = site.arm_steps
    site_repair = site.site_repair
    M = first_step.shape[0]
    E = channels.shape[0]
    S = scan.shape[1]
    last_det = np.full(M, -10**9, np.int64)
    alive = np.ones(M, np.bool_)
    engaged_until = np.zeros(M, np.int64)
    n_eng = np.zeros((E, M), np.int64)
    (missiles, stock, reload_done, last_launch, busy,
     f_e, f_m, f_step, f_n, f_id, f_pk, f_pip) = fire_unit_state(ready0, reloads0, channels)
    cap = f_step.shape[0]
    launch_id = 0
    nev = 0
    cand = np.empty(M, np.int64)
    vals = np.empty(M, np.float64)
    P = np.zeros((E, M), np.float64)
    tofq = np.zeros((E, M), np.int64)
    assign = np.full(E, -1, np.int64)
    used = np.zeros(E, np.bool_)
    tracked = np.zeros(M, np.bool_)
    reset_outputs(det_step, firm_step, eng_step, shots, kill_step, killer, leak_step, expended)
    for m in range(M):
        ident_step[m] = -1
    jammed = jam_owner.shape[0] > 0
    # defence state (iadsim.engine.defstate): units up, radars radiating (on), each radar's own tracks
    up = up0.copy()
    on = np.ones(S, np.bool_)
    was_on = np.zeros(S, np.bool_)
    ptr = np.zeros(S, np.int64)
    last_fail = np.full(S, -1, np.int64)
    trig_since = np.full(S, -1, np.int64)
    own_first = np.full((S if ds_on else 0, M), -1, np.int64)
    own_last = np.full((S if ds_on else 0, M), -10**9, np.int64)
    f_t0 = np.zeros(cap, np.int64)
    order = np.empty(2 * M if ds_on else M, np.int64)
    pr = np.empty(2 * M if ds_on else M, np.float64)
    sidx = np.empty(order.shape[0], np.int64)   # stable_order's buffer
    own_until = np.zeros((E if ds_on else 0, M), np.int64)   # a unit on its own: its engagements of m
    P1 = np.zeros((E if ds_on else 0, M), np.float64)
    assign1 = np.full(E, -1, np.int64)
    # relocating fire units (iadsim.engine.scoot): which site copies stand set up (sc_live)
    sc_live = np.ones(S, np.bool_)
    G = sc_units.shape[0]
    sc_p = np.zeros(G, np.int64)
    sc_n = np.zeros(G, np.int64)
    sc_up = np.full(G, -1, np.int64)
    if sc_on:
        scoot_init(sc_units, sc_seq, sc_live, missiles, stock)
    # reacting threats (iadsim.engine.react): branches wait, pending switches, launches at each member
    pend, n_launch, par = react_begin(rx_on, rx_root, alive, react_step, react_to, parent)
    sw_from = np.empty(M if rx_on else 0, np.int64)
    sw_to = np.empty(M if rx_on else 0, np.int64)
    # gun-missile units' second weapon (iadsim.engine.mixed): burst magazine, whether (e, q) fires a burst
    gmag = g_mag0.copy()
    for e in range(E):
        bursts[e] = 0
    wgun = np.zeros((E, M), np.bool_)
    # sites put out by threat weapons (iadsim.engine.sites): out until hit_until (-1: never hit)
    has_sites = site_of.shape[0] > 0
    hit_until = np.full(S, -1, np.int64)
    arm_lost = np.zeros(site_of.shape[0], np.bool_)
    for s in range(site_kill.shape[0]):
        site_kill[s] = -1

    for t in range(nsteps):
        # 1. intercepts due now
        for i in range(cap):
            if f_step[i] == t:
                m = f_m[i]
                hit = alive[m] and t < end_step[m] and salvo_kills(k0, k1, f_id[i], f_n[i], f_pk[i], beta[f_e[i]])
                if ds_on and last_fail[f_e[i]] > f_t0[i]:
                    hit = False   # the fire unit failed while its missiles flew: they lost guidance
                nev = end_intercept(i, t, hit, f_e, f_m, f_n, f_step, alive, kill_step, killer, busy,
                                    record, nev, ev_step, ev_type, ev_e, ev_m, ev_n)
        # 1b. reacting threats take their reaction or abort path (iadsim.engine.react)
        if rx_on:
            nsw = react_switch(t, alive, first_step, end_step, kill_step, rx_root, ab_first, ab_count, rx_keeps,
                               rx_measure, rx_above, rx_value, rx_group, rx_weapon, env_cum, rx_dt, pend, n_launch,
                               par, react_step, react_to, det_step, firm_step, eng_step, f_m, f_step, sw_from, sw_to)
            for j in range(nsw):
                nev = _inherit(t, sw_from[j], sw_to[j], last_det, engaged_until, n_eng, tracked, ident_step, ds_on,
                               own_first, own_last, record, nev, ev_step, ev_type, ev_e, ev_m, ev_n)
        # 2. weapons released by carriers still flying; arrivals: a threat alive at the end of its
        #    path has reached it (its target, or home)
        releases(t, alive, par, first_step)
        nev, done = arrivals(t, alive, end_step, leak_step, record, nev, ev_step, ev_type, ev_e, ev_m, ev_n)
        if has_sites:   # weapons arriving at their site put it out (iadsim.engine.sites)
            nev = site_hits(t, k0, k1, leak_step, site_of, site_p, arm_steps, arm_lost, site_repair, hit_until,
                            last_fail, site_kill, record, nev, ev_step, ev_type, ev_e, ev_m, ev_n)
        if done:
            break
        # 3. reloads
        if sc_on:
            scoot_step(t, sc_units, sc_seq, sc_steps, sc_after, sc_p, sc_n, sc_up, sc_live, busy, missiles, stock,
                       reload_done, sc_log, n_eng, last_launch)
        reloads(t, reload_done, stock, ready0, missiles, reload_steps)
        # 4. detection on the radars that scan now
        if ds_on:
            nev = _defence_state_step(t, toggles, ptr, up, last_fail, emcon_mode, duty_period, duty_on, duty_phase,
                                      warmup, ambush_r, cue, link_down, radar_xyz, pos, alive, first_step, end_step,
                                      own_first, own_last, drop_steps, busy, trig_since, on, was_on, radiating,
                                      record, nev, ev_step, ev_type, ev_e, ev_m, ev_n, hit_until)
            if sc_on:
                scoot_silence(on, sc_live, radiating)
            if has_sites:   # anti-radiation missiles in their terminal phase need their radar on
                arm_watch(t, on, alive, first_step, end_step, site_of, arm_steps, arm_lost)
        for s in range(S):
            if not scan[t, s]:
                continue
            if sc_on and not sc_live[s]:
                continue   # a fire unit packing, moving or setting up detects nothing
            if ds_on and not on[s]:
                continue   # a failed or silent radar detects nothing
            for m in range(M):
                if not alive[m] or t < first_step[m] or t >= end_step[m]:
                    continue
                q = snr[t, s, m] * snr_scale[s, m]   # a scale of 0: the radar is not available
                if q <= 0.0:
                    continue
                if jammed:   # noise jamming: 1/SINR = 1/SINR0 + J/S (iadsim.engine.ew)
                    q = q / (1.0 + snr[t, s, m] * jamming_js_scaled(t, s, m, jam_js, jam_owner, alive, js_scale))
                if detects(k0, k1, t, s, m, q, pfa[s]) and (
                        not ds_on or own_detect(t, s, m, own_first, own_last, drop_steps, link_down)):
                    if det_step[m] < 0:
                        det_step[m] = t
                        firm_step[m] = t + latency_steps
                        if record and nev < MAX_EVENTS:
                            nev = record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, t, EV_DETECT, s, m, 0)
                    last_det[m] = t
                    if ident_step[m] < 0 and decoy_p[m] > 0.0 and identifies(k0, k1, t, s, m, decoy_p[m]):
                        ident_step[m] = t
                    if rx_on:
                        react_track(t, s, m, firm_step, rx_trig, rx_delay, rx_first, rx_count, rad_unit, first_step,
                                    pend, react_step)
        # 5. tracks (truth-based, with latency and drop-out)
        nt = 0
        for m in range(M):
            was = tracked[m]
            now = (alive[m] and firm_step[m] >= 0 and t >= firm_step[m]
                   and t - last_det[m] <= drop_steps and t >= first_step[m] and t < end_step[m])
            tracked[m] = now
            if record and nev < MAX_EVENTS and now != was and alive[m]:
                nev = record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, t, EV_TRACK if now else EV_LOST, -1, m, 0)
            if now:
                order[nt] = m
                pr[nt] = -priority[t, m]
                nt += 1
        if ds_on:
            nt = own_candidates(t, nt, order, pr, tracked, alive, priority, E, autonomous, link_down, own_first,
                                own_last, latency_steps, drop_steps)
        if nt == 0:
            continue
        # 6. C2. Candidate targets: tracks not being engaged, most urgent first. Weapons: fire units
        #    with a free channel, missiles, and the launch interval elapsed. P[e, q]: the kill
        #    probability unit e would achieve on candidate q (0 where it cannot engage it).
        idx = stable_order(pr, nt, sidx)
        nc = 0
        for q in range(nt):
            m = order[idx[q]]
            if (t >= engaged_until[m] or (ds_on and own_free(t, m, E, autonomous, link_down, own_until))) and (
                    ident_step[m] < 0):   # an identified decoy is not engaged
                cand[nc] = m
                nc += 1
        if nc == 0:
            continue
        any_p = False
        for e in range(E):
            g = gun_of[e]
            ok_e = (fire_mode[e] != FIRE_HOLD and busy[e] < channels[e]
                    and (missiles[e] >= salvo[e] or (g >= 0 and gmag[e] > 0))
                    and t - last_launch[e] >= min_interval_steps[e])
            if sc_on and not sc_live[e]:
                ok_e = False   # not set up at this site (iadsim.engine.scoot)
            for q in range(nc):
                P[e, q] = 0.0
                if not ok_e:
                    continue
                m = cand[q]
                if fire_mode[e] == FIRE_TIGHT and target[m] < 0:
                    continue
                if ((t < firm_step[m] + reaction_steps[e] and not (ds_on and on_own(t, e, autonomous, link_down)))
                        or n_eng[e, m] >= max_eng[e]):
                    continue   # (a unit on its own waits for its own firm track: may_engage)
                if ds_on and not may_engage(t, e, m, tracked, autonomous, link_down, own_first, own_last,
                                            latency_steps, drop_steps, reaction_steps, up, on):
                    continue
                if ds_on and t < (own_until[e, m] if on_own(t, e, autonomous, link_down) else engaged_until[m]):
                    continue   # engaged already (a unit on its own knows only its own engagements)
                # the PIP inside the flyout envelope (pip_ok) and the slant-range x altitude limits
                if (missiles[e] >= salvo[e] and pip_ok[t, m, e] and rmin[e] <= pip_r[t, m, e] <= rmax[e]
                        and pip_agl[t, m, e] >= hmin[e] and pip_above[t, m, e] <= hmax[e]):
                    # the kill chance is zero if the target has left the envelope or sight at intercept
                    if (act_ok[t, m, e] and rmin[e] <= act_r[t, m, e] <= rmax[e]
                            and act_agl[t, m, e] >= hmin[e] and act_above[t, m, e] <= hmax[e]):
                        P[e, q] = pk1[e] * pk_geo[t, m, e]
                if g >= 0:
                    # a gun-missile unit: one burst where the missile cannot engage (iadsim.engine.mixed)
                    wgun[e, q] = False
                    if P[e, q] <= 0.0 and gmag[e] > 0 and g_ok[t, m, g]:
                        P[e, q] = g_pk[t, m, g]
                        wgun[e, q] = True
                if P[e, q] > 0.0:
                    any_p = True
        if not any_p:
            continue
        for q in range(nc):
            vals[q] = priority[t, cand[q]]
            for e in range(E):
                if gun_of[e] >= 0 and wgun[e, q]:
                    tofq[e, q] = g_tof[t, cand[q], gun_of[e]]
                else:
                    tofq[e, q] = tof[t, cand[q], e]
        if ds_on:
            assign_on_own(policy, P, tofq, vals, nc, assign, used, t, ds_on, autonomous, link_down, P1, assign1)
        else:
            c2_assign(policy, P, tofq, vals, nc, assign, used)
        for e in range(E):
            q = assign[e]
            if q < 0 or q >= nc or P[e, q] <= 0.0:
                continue
            m = cand[q]
            n = salvo[e]
            hit_step = t + tof[t, m, e]
            burst = gun_of[e] >= 0 and wgun[e, q]
            if burst:
                n = 1
                hit_step = t + g_tof[t, m, gun_of[e]]
            _slot, launch_id = launch(t, e, m, n, P[e, q], hit_step, f_e, f_m, f_step, f_n, f_id, f_pk,
                                      launch_id, busy, missiles, expended, last_launch)
            if burst:   # the burst came from the gun magazine, not the missiles (expended counts both)
                missiles[e] += n
                gmag[e] -= 1
                bursts[e] += 1
            f_t0[_slot] = t
            if sc_on and sc_group[e] >= 0:
                sc_n[sc_group[e]] += 1
            shots[m] += n
            n_eng[e, m] += 1
            if ds_on and on_own(t, e, autonomous, link_down):
                own_until[e, m] = max(own_until[e, m], hit_step + assess_steps[e])
            elif hit_step + assess_steps[e] > engaged_until[m]:
                engaged_until[m] = hit_step + assess_steps[e]
            if eng_step[m] < 0:
                eng_step[m] = t
            if record and nev < MAX_EVENTS:
                nev = record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, t, EV_LAUNCH, e, m, n)
            if rx_on:
                react_launch(t, m, rx_trig, rx_delay, rx_first, rx_count, first_step, pend, n_launch, react_step)
    return nev


@numba.njit(cache=True)
def _inherit(t, m, b, last_det, engaged_until, n_eng, tracked, ident_step, ds_on, own_first, own_last,
             record, nev, ev_step, ev_type, ev_e, ev_m, ev_n):
    """Branch b takes over member m's track state at step t (iadsim.engine.react); the switch is recorded."""
    last_det[b] = last_det[m]
    engaged_until[b] = engaged_until[m]
    tracked[b] = tracked[m]
    ident_step[b] = ident_step[m]
    for e in range(n_eng.shape[0]):
        n_eng[e, b] = n_eng[e, m]
    if ds_on:
        for s in range(own_first.shape[0]):
            own_first[s, b] = own_first[s, m]
            own_last[s, b] = own_last[s, m]
    if record and nev < MAX_EVENTS:
        nev = record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, t, EV_REACT, -1, m, 0)
    return nev


def _run_chunk(keys, record_local, policy, w, p, o, ew, ds, sc, react, gun, site):
    """Run replications keys[r] (r in 0..R-1) with the records of :mod:`iadsim.engine.records`: the
    run-wide arrays w (WorldArrays), the replications' figures p (ParamArrays, leading axis R; pk1 x
    pk_geo is the single-shot Pk of an engagement, beta the salvo's common-cause factor, js_scale the
    factor on the jammers' J/S), the outputs o (Outputs, [R, M] / [R, E] arrays filled in place),
    jamming and decoys ew, the defence state ds (DefStateArrays: o.radiating [R, S] gets each radar's
    radiating steps), relocating fire units sc (ScootArrays: sc.sc_log [R, G, L, 2] gets each move's
    first packing step and the step it is set up at its next site), reacting threats react (ReactionArrays), the guns of
    gun-missile units gun (GunArrays; o.bursts [R, E]: the bursts each unit fired) and the site attacks site
    (SiteArrays; o.site_kill [R, S]: the step each site was first put out, -1: never). Events are recorded for
    the replication ``record_local`` (-1: none); returns their count."""
    R = keys.shape[0]
    nev = np.zeros(R, np.int64)
    for r in numba.prange(R):
        rec = r == record_local
        nev[r] = _run_one(keys[r, 0], keys[r, 1], r, policy, rec, w, p, o, ew, ds, sc, react, gun, site)
    total = 0
    for r in range(R):
        if r == record_local:
            total = nev[r]
    return total


run_chunk = numba.njit(cache=True, parallel=True)(_run_chunk)
#: the same kernel without threads, for policies that call back into Python
run_chunk_serial = numba.njit(cache=True)(_run_chunk)
