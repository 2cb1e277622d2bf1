"""The full-fidelity kernel: noisy radar measurements, a central tracker, and C2 on track estimates.

Per replication and time step (same order as the fast kernel of :mod:`iadsim.engine.kernel`):

1. intercepts due now: the missile was flown to the predicted intercept point (PIP) of the track's
   estimated state; it kills when the TRUE target is alive, inside the fire unit's envelope and in
   its radar's sight at that step, within the seeker basket of the PIP, and a Bernoulli draw with
   the single-shot Pk succeeds (the same draws as the fast kernel);
2. arrivals, 3. reloads (as the fast kernel);
4. detection with exactly the fast kernel's Swerling 1 draws (plus the radar's lower elevation
   limit); each detection gives a measurement of range, azimuth and elevation with Gaussian noise
   (Box-Muller on counter-based uniforms), converted to local Cartesian coordinates with the
   linearised converted-measurement covariance R = J diag(sr^2, saz^2, sel^2) J^T
   (Bar-Shalom, Li & Kirubarajan, "Estimation with Applications to Tracking and Navigation",
   Wiley 2001, sec. 10.4);
5. the central tracker, radar by radar (sequential): tracks predicted with the nearly-constant-
   velocity model (continuous white-noise acceleration, ibid. sec. 6.2.2), chi-square gate (3 degrees
   of freedom), global nearest neighbour by an optimal assignment of the gated Mahalanobis costs
   (Hungarian method, shortest augmenting paths; a measurement left unassigned costs the gate
   threshold: Blackman & Popoli, "Design and Analysis of Modern Tracking Systems", Artech House
   1999, sec. 6.5), Kalman update, unassigned measurements start tentative tracks (two-point
   velocity initiation at the second measurement), M-of-N confirmation on the track's looks (scans
   of a radar that covers its predicted position), deletion after a time without update, and
   deletion at kill assessment of its target or at its impact;
6. C2 on confirmed tracks: priority = the threat evaluation of :mod:`iadsim.c2.threat` (closest
   point of approach to each asset, time to go, values of the asset and of the type of the track's
   truth label, identification assumed correct) on the track's estimated state;
   feasibility from the track estimate (closed-form PIP with the unit's missile speed, envelope at
   the PIP with a bilinear terrain look-up, line of sight from the unit's radar to the estimated
   position, reaction time since confirmation); the same doctrine and policies as the fast kernel
   (:func:`iadsim.engine.kernel.c2_assign`).

C2 modes and lost links (:mod:`iadsim.engine.defstate`): every track belongs to one picture, the
central one (fed by the connected radars) or the own picture of a fire unit on its own (autonomous,
or cut from the command post), fed by that unit's radar only; a radar's measurements update and
start tracks of its picture, and a fire unit is offered the tracks of its picture only (so units on
their own, each with its own track of a threat, can engage it at once).

Outputs are those of the fast kernel, indexed by truth threat (the engagement records which truth
target the track followed at launch), plus per-replication track statistics.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from iadsim.c2.threat import urgency as threat_urgency
from iadsim.engine.kernel import (
    EV_DETECT, EV_LAUNCH, EV_LOST, EV_TRACK, FIRE_HOLD, FIRE_TIGHT, FP_DH, FP_DR, FP_EDGE, FP_GN, FP_GSIG,
    FP_GUN, FP_KFULL, FP_LOSS, FP_NM, FP_RATIO, FP_RMAX, FP_SEC_AZ, FP_SEC_ELMAX, FP_SEC_ELMIN, FP_SEC_HALF,
    FP_TMAX, FP_VMEAN, FP_VMIN, FP_VTMAX, MAX_EVENTS, arrivals, c2_assign,
    detects, end_intercept, fire_unit_state, launch, record_event, releases, reloads, reset_outputs,
    salvo_kills, stable_order,
)
from iadsim.engine.defstate import own_detect
from iadsim.engine.defstate import own_pictures, picture_of_radar, picture_of_unit
from iadsim.engine.kernel import _defence_state_step
from iadsim.engine.kernel import identifies
from iadsim.engine.kernel import jamming_js_scaled
from iadsim.engine.kernel import EV_REACT
from iadsim.engine.react import react_begin, react_launch, react_switch, react_track
from iadsim.engine.kernel import FP_FCR_ELMAX, FP_FCR_ELMIN, FP_FCR_R
from iadsim.engine.records import TerrainGrid
from iadsim.engine.sites import arm_watch, site_hits
from iadsim.engine.rng import uniform
from iadsim.engine.scoot import scoot_init, scoot_silence, scoot_step
from iadsim.physics.flyout import predicted_intercept_nb
from iadsim.physics.pk import pk_factor_nb
from iadsim.tracking.core import (  # noqa: F401  (the track core; re-exported for existing imports)
    LEAF_OPTIONS, _BIG, TRK_CONFIRMED, TRK_FREE, TRK_TENTATIVE, _add_cwna, _det3, _gauss, _imm_set, _imm_update, _inv3,
    _kf_update, _mahalanobis, _predict, _predict_F, _symmetrise, _two_point, associate_update, capture_drop,
    capture_scan, capture_tracks, confirm_tracks, hungarian, imm_combine, imm_predict, initiate_tracks, pda_update,
    confirm_slots, predict_slots, predict_tracks, scan_pairs, scan_work, track_table, tracker_config, transition,
)

# random streams of the measurement noise (four uniforms per detection: two Box-Muller pairs)
STREAM_NOISE_0 = 3
STREAM_NOISE_1 = 4
STREAM_NOISE_2 = 5
STREAM_NOISE_3 = 6

#: per-replication track statistics (columns of ``ChunkResult.track_stats``)
TRACK_STATS = ("tracks_created", "tracks_confirmed", "mean_position_error_m", "false_tracks_confirmed",
               "missiles_at_false_tracks", "measurements_lost_to_a_full_track_table")

# false alarms: random streams (count, range, azimuth, elevation) and the most drawn per radar scan
STREAM_FA_COUNT = 7
STREAM_FA_RANGE = 8
STREAM_FA_AZIMUTH = 9
STREAM_FA_ELEVATION = 10
FA_MAX = 64
#: JPDA's clutter density without false alarms [1/m^3] (one spurious measurement per 1,000 km^3)
CLUTTER_FLOOR = 1e-12
#: joint events above which a JPDA cluster uses the cheap approximation (Fitzgerald 1990)
JPDA_MAX_EVENTS = 1e5


@numba.njit(**LEAF_OPTIONS)
def bilinear(a, xmin, ymax, res, x, y):
    """Bilinear value of raster a [ny, nx] between cell centres at local x, y (clamped at the
    edges, like :meth:`Terrain.height_at` and :func:`iadsim.coverage.los.visible_at`)."""
    ny, nx = a.shape
    fx = (x - xmin) / res - 0.5
    fy = (ymax - y) / res - 0.5
    if not (math.isfinite(fx) and math.isfinite(fy)):
        return np.nan
    fx = min(max(fx, 0.0), nx - 1.000001)
    fy = min(max(fy, 0.0), ny - 1.000001)
    c0 = int(fx)
    r0 = int(fy)
    tx = fx - c0
    ty = fy - r0
    return ((1.0 - ty) * ((1.0 - tx) * a[r0, c0] + tx * a[r0, c0 + 1])
            + ty * ((1.0 - tx) * a[r0 + 1, c0] + tx * a[r0 + 1, c0 + 1]))


@numba.njit(**LEAF_OPTIONS)
def _visible(mva, grid, x, y, z):
    """Line of sight from the raster's antenna to (x, y, z MSL), as visible_at; grid: the terrain grid
    (iadsim.engine.records.TerrainGrid)."""
    if not (x >= grid.xmin and x < grid.xmax and y > grid.ymin and y <= grid.ymax):
        return False
    v = bilinear(mva, grid.xmin, grid.ymax, grid.res, x, y)
    return math.isfinite(v) and z >= v


@numba.njit(**LEAF_OPTIONS)
def _in_sector_nb(dx, dy, dz, az0, half, el_lo, el_hi):
    """iadsim.geo.sector.in_sector for one point."""
    ground = math.sqrt(dx * dx + dy * dy)
    el = math.atan2(dz, ground)
    if el < el_lo - 1e-12 or el > el_hi + 1e-12:
        return False
    if half >= math.pi or ground == 0.0:
        return True
    off = abs((math.atan2(dx, dy) - az0 + math.pi) % (2.0 * math.pi) - math.pi)
    return off <= half + 1e-12


@numba.njit(cache=True)
def _own_radars(fc_of, E):
    """[E] each fire unit's own radar index, from fc_of [S] (the fire unit of each radar, -1: none)."""
    out = np.full(E, -1, np.int64)
    for s in range(fc_of.shape[0]):
        if fc_of[s] >= 0:
            out[fc_of[s]] = s
    return out


@numba.njit(**LEAF_OPTIONS)
def _in_fire_control_nb(dx, dy, dz, flpar, e):
    """iadsim.catalog.firecontrol.in_fire_control for one offset (dx, dy, dz) [m] from fire unit e's
    site: within its fire-control radar's range and elevation limits (flyout_par columns FP_FCR_*)."""
    gr = math.sqrt(dx * dx + dy * dy)
    if math.sqrt(gr * gr + dz * dz) > flpar[e, FP_FCR_R]:
        return False
    el = math.atan2(dz, gr)
    return flpar[e, FP_FCR_ELMIN] <= el <= flpar[e, FP_FCR_ELMAX]


@numba.njit(**LEAF_OPTIONS)
def converted_measurement(r, az, el, sr, saz, sel, z, R):
    """Cartesian position z[3] (east, north, up relative to the antenna) of a measurement of
    range r, azimuth az (clockwise from north) and elevation el, and its linearised covariance
    R[3, 3] = J diag(sr^2, saz^2, sel^2) J^T, J the Jacobian at the measured values
    (Bar-Shalom, Li & Kirubarajan 2001, sec. 10.4)."""
    ca = math.cos(az)
    sa = math.sin(az)
    ce = math.cos(el)
    se = math.sin(el)
    z[0] = r * ce * sa
    z[1] = r * ce * ca
    z[2] = r * se
    # columns: d/dr, d/daz, d/del
    j00 = ce * sa
    j01 = r * ce * ca
    j02 = -r * se * sa
    j10 = ce * ca
    j11 = -r * ce * sa
    j12 = -r * se * ca
    j20 = se
    j21 = 0.0
    j22 = r * ce
    a = sr * sr
    b = saz * saz
    c = sel * sel
    R[0, 0] = j00 * j00 * a + j01 * j01 * b + j02 * j02 * c
    R[0, 1] = j00 * j10 * a + j01 * j11 * b + j02 * j12 * c
    R[0, 2] = j00 * j20 * a + j01 * j21 * b + j02 * j22 * c
    R[1, 1] = j10 * j10 * a + j11 * j11 * b + j12 * j12 * c
    R[1, 2] = j10 * j20 * a + j11 * j21 * b + j12 * j22 * c
    R[2, 2] = j20 * j20 * a + j21 * j21 * b + j22 * j22 * c
    R[1, 0] = R[0, 1]
    R[2, 0] = R[0, 2]
    R[2, 1] = R[1, 2]


@numba.njit(cache=True)
def _normal_pair(u1, u2):
    """Two independent standard normals from two uniforms in [0, 1) (Box & Muller 1958)."""
    rad = math.sqrt(-2.0 * math.log(1.0 - u1))
    return rad * math.cos(2.0 * math.pi * u2), rad * math.sin(2.0 * math.pi * u2)


@numba.njit(cache=True)
def false_alarm_count(k0, k1, t, s, lam, cap):
    """Number of false alarms of radar s's scan at step t: Poisson with mean lam (Knuth's product of
    uniforms, "The Art of Computer Programming" vol. 2, sec. 3.4.1), at most cap."""
    lim = math.exp(-lam)
    n = 0
    prod = 1.0
    while n < cap:
        prod *= uniform(k0, k1, STREAM_FA_COUNT, t, s, n)
        if prod <= lim:
            break
        n += 1
    return n


@numba.njit(cache=True)
def _confirmed(k, t, lab, firm_step, record, nev, ev_step, ev_type, ev_e, ev_m, ev_n):
    """Track k was confirmed at step t: the threat it follows (if any) has a firm track from now."""
    m = lab[k]
    if m >= 0:
        if firm_step[m] < 0:
            firm_step[m] = t
        if record and nev < MAX_EVENTS:
            nev = record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, t, EV_TRACK, -1, m, 0)
    return nev


@numba.njit(cache=True)
def gun_burst_pk_nb(range_m, area_m2, n_rounds, sigma_mrad, p_kill_given_hit):
    """Compiled twin of :func:`iadsim.physics.gun.burst_kill_probability_at_range` with the angular
    errors already combined: sigma = R sigma_mrad 1e-3 [m], p_h = 1 - exp(-A / (2 pi sigma^2)),
    P = 1 - (1 - p_h p_k|h)^n (Przemieniecki 2000, ch. 4)."""
    sig = max(range_m, 1e-9) * sigma_mrad * 1e-3
    ph = -math.expm1(-area_m2 / (2.0 * math.pi * sig * sig))
    q = min(ph * p_kill_given_hit, 1.0 - 1e-16)
    return -math.expm1(n_rounds * math.log1p(-q))


@numba.njit(**LEAF_OPTIONS)
def _intercept_on_track(t, nsteps, dt, px, py, pz, vx, vy, vz, tab_tof, tab_spd, par, i, sec, e, r_lo, r_hi,
                        h_lo, h_hi, eff_xyz, elev, xmin, ymax, res, gun_vuln, mk):
    """Fire unit e's intercept of a track at offset (px, py, pz) [m] from its site, velocity (vx, vy,
    vz) [m/s], with the weapon of flyout table ``tab_tof[i]`` / ``tab_spd[i]`` and parameters
    ``par[i]`` (columns FP_*; the unit's missile: flpar and e; a gun-missile unit's guns: their own
    rows): the predicted intercept point from the flyout table (iadsim.physics.flyout), the flyout
    envelope (guidance time, end speed, target speed), the slant-range [r_lo, r_hi] x altitude
    [h_lo, h_hi] limits and the unit's sector (``sec[e]``) at the PIP, and the kill factor there (a
    gun's burst kill probability against the track's threat mk, iadsim.physics.gun; a missile's
    engagement factor, iadsim.physics.pk). Returns (factor, time of flight [steps], PIP x, y, z);
    factor 0 where the weapon cannot engage."""
    vt = math.sqrt(vx * vx + vy * vy + vz * vz)
    if vt > par[i, FP_VTMAX]:
        return 0.0, 1, 0.0, 0.0, 0.0
    # no intercept point within the range limit is reachable in the guidance time
    # (|PIP| >= |p| - vt tau, tau <= time limit): skip the flyout iteration
    if math.sqrt(px * px + py * py + pz * pz) - vt * par[i, FP_TMAX] > r_hi:
        return 0.0, 1, 0.0, 0.0, 0.0
    tau, vend, conv = predicted_intercept_nb(px, py, pz, vx, vy, vz, tab_tof[i], tab_spd[i],
                                             par[i, FP_DR], par[i, FP_DH], par[i, FP_VMEAN])
    if not conv or tau > par[i, FP_TMAX] or vend < par[i, FP_VMIN]:
        return 0.0, 1, 0.0, 0.0, 0.0
    ntof = int(math.ceil(tau / dt - 1e-9))
    if ntof < 1:
        ntof = 1
    if t + ntof >= nsteps:
        return 0.0, 1, 0.0, 0.0, 0.0
    gx = px + vx * tau + eff_xyz[e, 0]
    gy = py + vy * tau + eff_xyz[e, 1]
    gz = pz + vz * tau + eff_xyz[e, 2]
    agl = gz - bilinear(elev, xmin, ymax, res, gx, gy)
    above = gz - eff_xyz[e, 2]
    sr = math.sqrt((gx - eff_xyz[e, 0]) ** 2 + (gy - eff_xyz[e, 1]) ** 2 + above ** 2)
    if not (r_lo <= sr <= r_hi and agl >= h_lo and above <= h_hi):
        return 0.0, 1, 0.0, 0.0, 0.0
    if not _in_sector_nb(gx - eff_xyz[e, 0], gy - eff_xyz[e, 1], above, sec[e, FP_SEC_AZ],
                         sec[e, FP_SEC_HALF], sec[e, FP_SEC_ELMIN], sec[e, FP_SEC_ELMAX]):
        return 0.0, 1, 0.0, 0.0, 0.0
    cos_aspect = 1.0
    if vt > 0.0 and sr > 0.0:
        cos_aspect = -((gx - eff_xyz[e, 0]) * vx + (gy - eff_xyz[e, 1]) * vy + above * vz) / (sr * vt)
    if par[i, FP_GUN] > 0.0:
        # gun: kill probability of a burst at the PIP's slant range against the track's threat
        # (iadsim.physics.gun; a track of no threat: the first threat's)
        mt = mk if mk >= 0 else 0
        fac = gun_burst_pk_nb(sr, gun_vuln[mt, 0], par[i, FP_GN], par[i, FP_GSIG],
                              gun_vuln[mt, 1]) if gun_vuln.shape[0] > 0 else 0.0
    else:
        fac = pk_factor_nb(vend, vt, sr / par[i, FP_RMAX], cos_aspect, 0.0, par[i, FP_NM],
                           par[i, FP_KFULL], par[i, FP_EDGE], par[i, FP_LOSS],
                           par[i, FP_RATIO])
    return fac, ntof, gx, gy, gz


@numba.njit(cache=True)
def _run_one_full(k0, k1, rep, policy, record, cfg, w, p, o, ew, ds, sc, react, site, gun, capture=None):
    """Replication rep (random key k0, k1) at full fidelity, of the records of :mod:`iadsim.engine.records`
    (cfg: Settings, w: FullWorldArrays, the others as the fast kernel's ``_run_one``); returns the count
    of events recorded (record: this replication's)."""
    dt = cfg.dt
    xmin = cfg.xmin
    ymax = cfg.ymax
    res = cfg.res
    grid = TerrainGrid(cfg.xmin, cfg.ymax, cfg.xmax, cfg.ymin, cfg.res)   # for _visible
    qn = cfg.qn
    gamma = cfg.gamma
    basket = cfg.basket
    vmax = cfg.vmax
    gamma_init = cfg.gamma_init
    fa_cells = cfg.fa_cells
    omega = cfg.omega
    p_switch = cfg.p_switch
    fa_value = cfg.fa_value
    p_gate = cfg.p_gate
    cpa_scale = cfg.cpa_scale
    nsteps = cfg.nsteps
    conf_m = cfg.conf_m
    conf_n = cfg.conf_n
    del_steps = cfg.del_steps
    use_imm = cfg.use_imm
    use_jpda = cfg.use_jpda
    fc_looks = cfg.fc_looks
    first_step = w.first_step
    end_step = w.end_step
    parent = w.parent
    target = w.target
    values = w.values
    pos = w.pos
    scan = w.scan
    snr = w.snr
    meas_r = w.meas_r
    meas_az = w.meas_az
    meas_el = w.meas_el
    sensor_xyz = w.sensor_xyz
    sigma = w.sigma
    min_el = w.min_el
    sens_range = w.sens_range
    elev = w.elev
    mva = w.mva
    assets = w.assets
    eff_xyz = w.eff_xyz
    tab_tof = w.tab_tof
    tab_spd = w.tab_spd
    flpar = w.flpar
    fc_of = w.fc_of
    max_el = w.max_el
    ref_pd = w.ref_pd
    reloads0 = w.reloads0
    salvo = w.salvo
    max_eng = w.max_eng
    assess_steps = w.assess_steps
    min_interval_steps = w.min_interval_steps
    fire_mode = w.fire_mode
    gun_vuln = w.gun_vuln
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
    stats = o.stats[rep]
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
    ds_pos = ds.pos
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
    site_of = site.site_of
    site_p = site.site_p
    arm_steps = site.arm_steps
    site_repair = site.site_repair
    gun_of = gun.gun_of
    g_tab_tof = gun.g_tab_tof
    g_tab_spd = gun.g_tab_spd
    g_par = gun.g_par
    g_mag0 = gun.g_mag0
    M = first_step.shape[0]
    E = channels.shape[0]
    S = scan.shape[1]
    FA = FA_MAX if fa_cells > 0.0 else 0
    NZ = M + FA                      # measurements of one scan at most
    K = 4 * M + 8 + 2 * FA * S       # track capacity (false alarms start short-lived tentative tracks)
    # C2 pictures (iadsim.engine.defstate): 0 the central one, 1 + e fire unit e's own (autonomous or
    # cut off), fed by its radar only; each track belongs to one picture
    K += own_pictures(E, ds_on, autonomous, link_down) * (4 * M + 8 + 2 * FA)
    upic = np.zeros(E, np.int64)

    alive = np.ones(M, np.bool_)
    known_dead = np.full(M, 2**62, np.int64)   # step at which a kill of m has been assessed
    (missiles, stock, reload_done, last_launch, busy,
     f_e, f_m, f_step, f_n, f_id, f_pk, f_pip) = fire_unit_state(ready0, reloads0, channels)
    cap = f_step.shape[0]
    # defence state (iadsim.engine.defstate; failures and emission control): units up, radars radiating
    ds_up = up0.copy()
    ds_on_now = np.ones(scan.shape[1], np.bool_)
    ds_was = np.zeros(scan.shape[1], np.bool_)
    ds_ptr = np.zeros(scan.shape[1], np.int64)
    ds_fail = np.full(scan.shape[1], -1, np.int64)
    ds_trig = np.full(scan.shape[1], -1, np.int64)
    own_first = np.full((scan.shape[1] if ds_on else 0, first_step.shape[0]), -1, np.int64)
    own_last = np.full((scan.shape[1] if ds_on else 0, first_step.shape[0]), -10**9, np.int64)
    f_t0 = np.zeros(cap, np.int64)
    # gun-missile units' second weapon (iadsim.engine.mixed): burst magazine, whether a slot is a burst
    gmag = g_mag0.copy()
    for e in range(E):
        bursts[e] = 0
    f_gun = np.zeros(cap, np.bool_)
    # relocating fire units (iadsim.engine.scoot): which site copies stand set up (sc_live)
    sc_live = np.ones(scan.shape[1], np.bool_)
    sc_p = np.zeros(sc_units.shape[0], np.int64)
    sc_n = np.zeros(sc_units.shape[0], np.int64)
    sc_up = np.full(sc_units.shape[0], -1, np.int64)
    if sc_on:
        scoot_init(sc_units, sc_seq, sc_live, missiles, stock)
    launch_id = 0
    nev = 0
    # sites put out by threat weapons (iadsim.engine.sites): out until hit_until (-1: never hit)
    has_sites = site_of.shape[0] > 0
    hit_until = np.full(scan.shape[1], -1, np.int64)
    arm_lost = np.zeros(site_of.shape[0], np.bool_)
    for s in range(site_kill.shape[0]):
        site_kill[s] = -1
    # tracks (iadsim.tracking.core: X, Pc the estimate; with the IMM, the combination of the models)
    tcfg = tracker_config(dt, qn, gamma, gamma_init, vmax, conf_m, conf_n, use_imm, use_jpda, JPDA_MAX_EVENTS,
                         omega, p_switch)
    NMOD = tcfg.omegas.shape[0]
    tb = track_table(K, NMOD, use_imm)
    wk = scan_work(K, NZ, NMOD)
    pairs = scan_pairs(NZ)
    X = tb.X
    st = tb.st
    tpred = tb.tpred
    last_upd = tb.last_upd
    lab = tb.lab     # the threat whose measurements the track follows; -1: none
    conf_at = tb.conf_at
    looked = tb.looked
    hitnow = tb.hitnow
    tpic = tb.pic    # the picture a track belongs to
    tP = tb.P
    thist = tb.hist
    tnlook = tb.nlook
    # the scan's work lists (a structure's field read inside a loop counts a reference each time)
    wcols = wk.cols
    wupd = wk.upd
    wborn = wk.born
    eng_until = np.zeros(K, np.int64)
    n_eng = np.zeros((E, K), np.int64)
    fc_run = np.zeros((E, K), np.int64)   # consecutive scans of a unit's own radar that hit the track
    radar_of = _own_radars(fc_of, E)      # each fire unit's own radar (fc_of's inverse)
    n_created = 0
    n_confirmed = 0
    n_false_confirmed = 0
    n_false_shots = 0
    n_overflow = 0
    err_sum = 0.0
    err_n = 0
    # measurements of one scan
    zm = np.zeros((NZ, 3), np.float64)
    Rm = np.zeros((NZ, 3, 3), np.float64)
    zlab = np.zeros(NZ, np.int64)
    lamz = np.zeros(NZ, np.float64)
    zr = np.zeros(3, np.float64)
    newconf = np.empty(K, np.int64)
    # C2
    order = np.empty(K, np.int64)
    pr = np.empty(K, np.float64)
    cand = np.empty(K, np.int64)
    vals = np.empty(K, np.float64)
    P = np.zeros((E, K), np.float64)
    tofq = np.zeros((E, K), np.int64)
    pipq = np.zeros((E, K, 3), np.float64)
    wgun = np.zeros((E, K), np.bool_)   # (e, q) fires a burst (a gun-missile unit's guns)
    assign = np.full(E, -1, np.int64)
    used = np.zeros(E, np.bool_)
    sidx = np.empty(K, np.int64)
    reset_outputs(det_step, firm_step, eng_step, shots, kill_step, killer, leak_step, expended)
    for m in range(ident_step.shape[0]):
        ident_step[m] = -1
    jammed = jam_owner.shape[0] > 0
    # reacting threats (iadsim.engine.react): branches wait, pending switches, launches at each member
    pend, n_launch, par = react_begin(rx_on, rx_root, alive, react_step, react_to, parent)
    sw_from = np.empty(M if rx_on else 0, np.int64)
    sw_to = np.empty(M if rx_on else 0, np.int64)

    for t in range(nsteps):
        # 1. intercepts due now: the TRUE target must be alive, in the envelope and in sight, and
        #    within the seeker basket of the PIP the missile was flown to (a missile fired at a
        #    false track finds nothing)
        for i in range(cap):
            if f_step[i] == t:
                m = f_m[i]
                e = f_e[i]
                hit = False
                if m >= 0 and alive[m] and t < end_step[m]:
                    x = pos[t, m, 0]
                    y = pos[t, m, 1]
                    z = pos[t, m, 2]
                    if math.isfinite(x):
                        agl = z - bilinear(elev, xmin, ymax, res, x, y)
                        above = z - eff_xyz[e, 2]
                        sr = math.sqrt((x - eff_xyz[e, 0]) ** 2 + (y - eff_xyz[e, 1]) ** 2 + above ** 2)
                        dp = math.sqrt((x - f_pip[i, 0]) ** 2 + (y - f_pip[i, 1]) ** 2
                                       + (z - f_pip[i, 2]) ** 2)
                        r_lo = rmin[e]
                        r_hi = rmax[e]
                        if f_gun[i]:   # a gun-missile unit's burst: the guns' slant-range limit
                            r_lo = 0.0
                            r_hi = g_par[gun_of[e], FP_RMAX]
                        hit = (r_lo <= sr <= r_hi and agl >= hmin[e] and above <= hmax[e]
                               and dp <= basket and _visible(mva[radar_of[e]], grid, x, y, z)
                               and _in_fire_control_nb(x - eff_xyz[e, 0], y - eff_xyz[e, 1], above, flpar, e)
                               and salvo_kills(k0, k1, f_id[i], f_n[i], f_pk[i], beta[e]))
                if ds_on and ds_fail[e] > f_t0[i]:
                    hit = False   # the fire unit failed while its missiles flew: they lost guidance
                if hit and t + assess_steps[e] < known_dead[m]:
                    known_dead[m] = t + assess_steps[e]
                nev = end_intercept(i, t, hit, f_e, f_m, f_n, f_step, alive, kill_step, killer, busy,
                                    record, nev, ev_step, ev_type, ev_e, ev_m, ev_n)
        # 2. arrivals: a threat alive at the end of its route has leaked
        if rx_on:   # reacting threats take their reaction or abort path (iadsim.engine.react)
            nsw = react_switch(t, alive, first_step, end_step, kill_step, rx_root, ab_first, ab_count, rx_keeps,
                               rx_measure, rx_above, rx_value, rx_group, rx_weapon, env_cum, rx_dt, pend, n_launch,
                               par, react_step, react_to, det_step, firm_step, eng_step, f_m, f_step, sw_from, sw_to)
            for j in range(nsw):
                nev = _inherit_full(t, sw_from[j], sw_to[j], lab, known_dead, ident_step, ds_on, own_first,
                                    own_last, record, nev, ev_step, ev_type, ev_e, ev_m, ev_n)
        releases(t, alive, par, first_step)   # weapons of carriers still flying
        nev, done = arrivals(t, alive, end_step, leak_step, record, nev, ev_step, ev_type, ev_e, ev_m, ev_n)
        if has_sites:   # weapons arriving at their site put it out (iadsim.engine.sites)
            nev = site_hits(t, k0, k1, leak_step, site_of, site_p, arm_steps, arm_lost, site_repair, hit_until,
                            ds_fail, site_kill, record, nev, ev_step, ev_type, ev_e, ev_m, ev_n)
        if done:
            break
        # 3. reloads
        if sc_on:
            scoot_step(t, sc_units, sc_seq, sc_steps, sc_after, sc_p, sc_n, sc_up, sc_live, busy, missiles, stock,
                       reload_done, sc_log, n_eng, last_launch)
        reloads(t, reload_done, stock, ready0, missiles, reload_steps)
        # 4a. track deletion: no update for too long, the target's kill assessed, or its impact seen
        for k in range(K):
            if st[k] == TRK_FREE:
                continue
            m = lab[k]
            if t - last_upd[k] > del_steps or (m >= 0 and (t >= known_dead[m] or t >= end_step[m])):
                if record and nev < MAX_EVENTS and st[k] == TRK_CONFIRMED and m >= 0 and alive[m]:
                    nev = record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, t, EV_LOST, -1, m, 0)
                st[k] = TRK_FREE
                if capture is not None and record:
                    capture_drop(capture, t, k)
        # 4b. detection and tracking, radar by radar
        if ds_on:
            nev = _defence_state_step(t, toggles, ds_ptr, ds_up, ds_fail, emcon_mode, duty_period, duty_on, duty_phase,
                                      warmup, ambush_r, cue, link_down, radar_xyz, ds_pos, alive, first_step,
                                      end_step, own_first, own_last, del_steps, busy, ds_trig, ds_on_now, ds_was,
                                      radiating, record, nev, ev_step, ev_type, ev_e, ev_m, ev_n, hit_until)
            if sc_on:
                scoot_silence(ds_on_now, sc_live, radiating)
            if has_sites:   # anti-radiation missiles in their terminal phase need their radar on
                arm_watch(t, ds_on_now, alive, first_step, end_step, site_of, arm_steps, arm_lost)
        for s in range(S):
            if not scan[t, s]:
                continue
            if ds_on and not ds_on_now[s]:
                continue   # a failed or silent radar detects nothing (and makes no false alarms)
            ps = picture_of_radar(t, s, E, ds_on, autonomous, link_down)
            if ps < 0:
                continue   # a stand-alone radar cut from the command post feeds no picture
            if sc_on and not sc_live[s]:
                continue   # a fire unit packing, moving or setting up detects nothing
            e_s = fc_of[s]
            nz = 0
            for m in range(M):
                if not alive[m] or t < first_step[m] or t >= end_step[m]:
                    continue
                q = snr[t, s, m] * snr_scale[s, m]   # a scale of 0: the radar is not available
                if q <= 0.0:
                    continue
                # noise jamming: 1/SINR = 1/SINR0 + J/S, and measurement errors grow as 1/sqrt(SINR)
                # (iadsim.engine.ew, iadsim.physics.jamming.measurement_sigma_factor)
                widen = 1.0
                if jammed:
                    loss = 1.0 + snr[t, s, m] * jamming_js_scaled(t, s, m, jam_js, jam_owner, alive, js_scale)
                    q = q / loss
                    widen = math.sqrt(loss)
                # the fast kernel's detection draw, plus the radar's lower elevation limit
                if detects(k0, k1, t, s, m, q, pfa[s]) and meas_el[t, s, m] >= min_el[s]:
                    if ds_on:
                        own_detect(t, s, m, own_first, own_last, del_steps, link_down)   # cues
                    if det_step[m] < 0:
                        det_step[m] = t
                        if record and nev < MAX_EVENTS:
                            nev = record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, t, EV_DETECT, s, m, 0)
                    if ident_step[m] < 0 and decoy_p[m] > 0.0 and identifies(k0, k1, t, s, m, decoy_p[m]):
                        ident_step[m] = t
                    if rx_on:
                        react_track(t, s, m, firm_step, rx_trig, rx_delay, rx_first, rx_count, rad_unit, first_step,
                                    pend, react_step)
                    n1, n2 = _normal_pair(uniform(k0, k1, STREAM_NOISE_0, t, s, m),
                                          uniform(k0, k1, STREAM_NOISE_1, t, s, m))
                    n3, _n4 = _normal_pair(uniform(k0, k1, STREAM_NOISE_2, t, s, m),
                                           uniform(k0, k1, STREAM_NOISE_3, t, s, m))
                    sr = sigma[s, 0] * widen
                    sa = sigma[s, 1] * widen
                    se = sigma[s, 2] * widen
                    r = meas_r[t, s, m] + sr * n1
                    if r < 1.0:
                        r = 1.0
                    converted_measurement(r, meas_az[t, s, m] + sa * n2, meas_el[t, s, m] + se * n3,
                                          sr, sa, se, zr, Rm[nz])
                    for i in range(3):
                        zm[nz, i] = zr[i] + sensor_xyz[s, i]
                    zlab[nz] = m
                    nz += 1
            # false alarms: a Poisson number (mean Pfa x cells, at most FA_MAX), uniform in range,
            # azimuth and elevation; one in a cell the terrain hides from the radar is discarded
            lam_fa = pfa[s] * fa_cells
            if FA > 0:
                nfa = false_alarm_count(k0, k1, t, s, lam_fa, FA)
                el_lo = min_el[s]
                el_hi = max(max_el[s], el_lo)
                for j in range(nfa):
                    r = max(sens_range[s] * uniform(k0, k1, STREAM_FA_RANGE, t, s, j), 1.0)
                    az = 2.0 * math.pi * uniform(k0, k1, STREAM_FA_AZIMUTH, t, s, j)
                    el = el_lo + (el_hi - el_lo) * uniform(k0, k1, STREAM_FA_ELEVATION, t, s, j)
                    converted_measurement(r, az, el, sigma[s, 0], sigma[s, 1], sigma[s, 2], zr, Rm[nz])
                    if not _visible(mva[s], grid, zr[0] + sensor_xyz[s, 0], zr[1] + sensor_xyz[s, 1],
                                    zr[2] + sensor_xyz[s, 2]):
                        continue
                    for i in range(3):
                        zm[nz, i] = zr[i] + sensor_xyz[s, i]
                    zlab[nz] = -1
                    nz += 1
            # JPDA's clutter density at each measurement [1/m^3]: false alarms uniform in range,
            # azimuth and elevation have the density lam / (R 2 pi d_el r^2 cos el) at (r, el)
            pd_s = ref_pd[s]
            miss_w = 1.0 - pd_s * p_gate
            if use_jpda:
                d_el = max(max(max_el[s], min_el[s]) - min_el[s], 1e-3)
                for i in range(nz):
                    dens = 0.0
                    if FA > 0:
                        rx = zm[i, 0] - sensor_xyz[s, 0]
                        ry = zm[i, 1] - sensor_xyz[s, 1]
                        rz = zm[i, 2] - sensor_xyz[s, 2]
                        rr = max(math.sqrt(rx * rx + ry * ry + rz * rz), 1.0)
                        ce = max(math.sqrt(rx * rx + ry * ry) / rr, 1e-3)
                        dens = lam_fa / (sens_range[s] * 2.0 * math.pi * d_el * rr * rr * ce)
                    lamz[i] = max(dens, CLUTTER_FLOOR)
            # the tracker of picture ps (iadsim.tracking.core): predict its tracks to now; the
            # tentative ones this radar covers get a look
            # a scan with no measurement for a picture without tracks changes nothing: skip the
            # tracker's calls (most scans of a short raid; each call reads the table's fields)
            if nz == 0 and not (capture is not None and record):
                idle = True
                for k in range(K):
                    if st[k] != TRK_FREE and tpic[k] == ps:
                        idle = False
                        break
                if idle:
                    continue
            if use_imm:
                nk = predict_tracks(tcfg, tb, wk, t, ps)
            else:   # the same, on the arrays read once above
                nk = predict_slots(X, tP, st, tpic, tpred, wcols, looked, hitnow, dt, qn, t, ps)
            for c in range(nk):
                k = wcols[c]
                if st[k] == TRK_TENTATIVE:
                    dx = X[k, 0] - sensor_xyz[s, 0]
                    dy = X[k, 1] - sensor_xyz[s, 1]
                    dz = X[k, 2] - sensor_xyz[s, 2]
                    if (dx * dx + dy * dy + dz * dz <= sens_range[s] * sens_range[s]
                            and _visible(mva[s], grid, X[k, 0], X[k, 1], X[k, 2])):
                        looked[k] = True
            if capture is not None and record:
                capture_scan(capture, t, s, nz, pd_s, miss_w, zm, Rm, zlab, lamz, looked, wcols, nk, ps)
            # gate, associate, update; the position error of the confirmed tracks that follow a threat
            nupd, pairs = associate_update(tcfg, tb, wk, pairs, t, nk, zm, Rm, zlab, lamz, nz, pd_s, miss_w)
            for u in range(nupd):
                k = wupd[u]
                m = lab[k]
                if st[k] == TRK_CONFIRMED and m >= 0:
                    err_sum += math.sqrt((X[k, 0] - pos[t, m, 0]) ** 2 + (X[k, 1] - pos[t, m, 1]) ** 2
                                         + (X[k, 2] - pos[t, m, 2]) ** 2)
                    err_n += 1
            # M-of-N on the tentative tracks' looks; the unit's own radar holds a track while it
            # hits it scan after scan
            if e_s >= 0:
                for c in range(nk):
                    k = wcols[c]
                    fc_run[e_s, k] = fc_run[e_s, k] + 1 if hitnow[k] else 0
            nconf = confirm_slots(st, looked, hitnow, thist, tnlook, conf_at, wcols, nk, conf_m, conf_n, t, newconf)
            for c in range(nconf):
                nev = _confirmed(newconf[c], t, lab, firm_step, record, nev, ev_step, ev_type, ev_e, ev_m, ev_n)
                n_confirmed += 1
                n_false_confirmed += lab[newconf[c]] < 0
            # measurements in no track's initiation gate start tentative tracks of picture ps
            nborn, lost = initiate_tracks(tcfg, tb, wk, t, zm, Rm, zlab, nz, ps)
            n_overflow += lost
            for j in range(nborn):
                k = wborn[j]
                eng_until[k] = 0
                for e in range(E):
                    n_eng[e, k] = 0
                    fc_run[e, k] = 0
                if e_s >= 0:
                    fc_run[e_s, k] = 1
                n_created += 1
                if st[k] == TRK_CONFIRMED:
                    nev = _confirmed(k, t, lab, firm_step, record, nev, ev_step, ev_type, ev_e, ev_m, ev_n)
                    n_confirmed += 1
                    n_false_confirmed += lab[k] < 0
            if capture is not None and record:
                capture_tracks(capture, tb)
        # 5. C2 on the confirmed tracks, most urgent first (threat evaluation on the estimated state:
        #    iadsim.c2.threat)
        nt = 0
        for k in range(K):
            if st[k] != TRK_CONFIRMED or t < eng_until[k]:
                continue
            if lab[k] >= 0 and ident_step[lab[k]] >= 0:   # the track of an identified decoy is not engaged
                continue
            dts = (t - tpred[k]) * dt
            v = values[lab[k]] if lab[k] >= 0 else fa_value
            u, _a, _d, _tc = threat_urgency(X[k, 0] + dts * X[k, 3], X[k, 1] + dts * X[k, 4], X[k, 3], X[k, 4],
                                            v, assets, cpa_scale, dt)
            order[nt] = k
            pr[nt] = -u
            nt += 1
        if nt == 0:
            continue
        idx = stable_order(pr, nt, sidx)
        nc = 0
        for q in range(nt):
            cand[nc] = order[idx[q]]
            vals[nc] = -pr[idx[q]]
            nc += 1
        any_p = False
        for e in range(E):
            upic[e] = picture_of_unit(t, e, ds_on, autonomous, link_down)
            ok_e = (fire_mode[e] != FIRE_HOLD and busy[e] < channels[e]
                    and (missiles[e] >= salvo[e] or (gun_of[e] >= 0 and gmag[e] > 0))
                    and t - last_launch[e] >= min_interval_steps[e])
            if ds_on and not (ds_up[e] and ds_on_now[e]):
                ok_e = False   # a failed unit, or one whose radar is silent, does not launch
            if sc_on and not sc_live[e]:
                ok_e = False   # not set up at this site (iadsim.engine.scoot)
            for q in range(nc):
                P[e, q] = 0.0
                tofq[e, q] = 1
                if not ok_e:
                    continue
                k = cand[q]
                if tpic[k] != upic[e]:
                    continue   # a unit engages the tracks of its own picture only
                # weapons tight: only tracks identified as a threat to a defended asset
                if fire_mode[e] == FIRE_TIGHT and (lab[k] < 0 or target[lab[k]] < 0):
                    continue
                if t < conf_at[k] + reaction_steps[e] or n_eng[e, k] >= max_eng[e]:
                    continue
                # the unit's fire-control radar must hold the track
                if fc_looks > 0 and fc_run[e, k] < fc_looks:
                    continue
                dts = (t - tpred[k]) * dt
                px = X[k, 0] + dts * X[k, 3] - eff_xyz[e, 0]
                py = X[k, 1] + dts * X[k, 4] - eff_xyz[e, 1]
                pz = X[k, 2] + dts * X[k, 5] - eff_xyz[e, 2]
                # the unit's radar must see the estimated position
                if not _visible(mva[radar_of[e]], grid, px + eff_xyz[e, 0], py + eff_xyz[e, 1], pz + eff_xyz[e, 2]):
                    continue
                # ... and its fire-control radar must reach it (range, elevation: iadsim.catalog.firecontrol)
                if not _in_fire_control_nb(px, py, pz, flpar, e):
                    continue
                # predicted intercept point from the unit's flyout table (iadsim.physics.flyout), the
                # flyout envelope (guidance time, end speed, target speed), then the slant-range x
                # altitude limits at the PIP and the kill probability there (iadsim.physics.pk)
                vx = X[k, 3]
                vy = X[k, 4]
                vz = X[k, 5]
                fac = 0.0
                ntof = 1
                gx = 0.0
                gy = 0.0
                gz = 0.0
                if missiles[e] >= salvo[e]:
                    fac, ntof, gx, gy, gz = _intercept_on_track(t, nsteps, dt, px, py, pz, vx, vy, vz, tab_tof, tab_spd,
                                                                flpar, e, flpar, e, rmin[e], rmax[e], hmin[e], hmax[e],
                                                                eff_xyz, elev, xmin, ymax, res, gun_vuln, lab[k])
                burst = False
                g = gun_of[e]
                if fac <= 0.0 and g >= 0 and gmag[e] > 0:
                    # a gun-missile unit: one burst where its missile cannot engage, at the intercept of
                    # the shells with the track's estimate (iadsim.engine.mixed; no minimum range)
                    fac, ntof, gx, gy, gz = _intercept_on_track(t, nsteps, dt, px, py, pz, vx, vy, vz, g_tab_tof,
                                                                g_tab_spd, g_par, g, flpar, e, 0.0, g_par[g, FP_RMAX],
                                                                hmin[e], hmax[e], eff_xyz, elev, xmin, ymax, res,
                                                                gun_vuln, lab[k])
                    burst = fac > 0.0
                wgun[e, q] = burst
                if fac <= 0.0:
                    continue
                P[e, q] = fac if burst else pk1[e] * fac
                tofq[e, q] = ntof
                pipq[e, q, 0] = gx
                pipq[e, q, 1] = gy
                pipq[e, q, 2] = gz
                any_p = True
        if not any_p:
            continue
        c2_assign(policy, P, tofq, vals, nc, assign, used)
        for e in range(E):
            q = assign[e]
            if q < 0 or q >= nc or P[e, q] <= 0.0:
                continue
            k = cand[q]
            m = lab[k]
            n = salvo[e]
            hit_step = t + tofq[e, q]
            burst = wgun[e, q]
            if burst:
                n = 1
            slot, launch_id = launch(t, e, m, n, P[e, q], hit_step, f_e, f_m, f_step, f_n, f_id, f_pk,
                                     launch_id, busy, missiles, expended, last_launch)
            f_gun[slot] = burst
            if burst:   # the burst came from the gun magazine, not the missiles (expended counts both)
                missiles[e] += n
                gmag[e] -= 1
                bursts[e] += 1
            f_t0[slot] = t
            if sc_on and sc_group[e] >= 0:
                sc_n[sc_group[e]] += 1
            for a in range(3):
                f_pip[slot, a] = pipq[e, q, a]
            n_eng[e, k] += 1
            if hit_step + assess_steps[e] > eng_until[k]:
                eng_until[k] = hit_step + assess_steps[e]
            if m < 0:
                n_false_shots += n
                continue
            shots[m] += n
            if eng_step[m] < 0:
                eng_step[m] = t
            if record and nev < MAX_EVENTS:
                nev = record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, t, EV_LAUNCH, e, m, n)
            if rx_on:
                react_launch(t, m, rx_trig, rx_delay, rx_first, rx_count, first_step, pend, n_launch, react_step)
    stats[0] = n_created
    stats[1] = n_confirmed
    stats[2] = err_sum / err_n if err_n > 0 else np.nan
    stats[3] = n_false_confirmed
    stats[4] = n_false_shots
    stats[5] = n_overflow
    return nev


@numba.njit(cache=True)
def _inherit_full(t, m, b, lab, known_dead, ident_step, ds_on, own_first, own_last,
                  record, nev, ev_step, ev_type, ev_e, ev_m, ev_n):
    """Branch b takes over member m at step t (iadsim.engine.react): the tracks that followed m follow
    b, with m's kill assessment and identification; the switch is recorded."""
    for k in range(lab.shape[0]):
        if lab[k] == m:
            lab[k] = b
    known_dead[b] = known_dead[m]
    ident_step[b] = ident_step[m]
    if ds_on:
        for s in range(own_first.shape[0]):
            own_first[s, b] = own_first[s, m]
            own_last[s, b] = own_last[s, m]
    if record and nev < MAX_EVENTS:
        nev = record_event(ev_step, ev_type, ev_e, ev_m, ev_n, nev, t, EV_REACT, -1, m, 0)
    return nev


def _run_chunk_full(keys, record_local, policy, cfg, w, p, o, ew, ds, sc, react, site, gun, capture=None):
    """Run replications keys[r] at full fidelity: the fast kernel's ``_run_chunk`` with the Settings cfg
    and the FullWorldArrays w (:mod:`iadsim.engine.records`); o.stats [R, len(TRACK_STATS)] gets the
    track statistics, o.bursts [R, E] the bursts each gun-missile unit fired. ``capture``: None, or a
    buffer that receives what the recorded replication's tracker was fed (:func:`iadsim.tracking.core.capture_scan`)."""
    R = keys.shape[0]
    nev = np.zeros(R, np.int64)
    for r in numba.prange(R):
        rec = r == record_local
        nev[r] = _run_one_full(keys[r, 0], keys[r, 1], r, policy, rec, cfg, w, p, o, ew, ds, sc, react, site, gun, capture)
    total = 0
    for r in range(R):
        if r == record_local:
            total = nev[r]
    return total


run_chunk_full = numba.njit(cache=True, parallel=True)(_run_chunk_full)
#: the same kernel without threads, for policies that call back into Python
run_chunk_full_serial = numba.njit(cache=True)(_run_chunk_full)
