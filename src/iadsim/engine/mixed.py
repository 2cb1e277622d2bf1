"""Gun-missile fire units (Pantsir-S1, 2K22 Tunguska): one unit, one radar, two weapons.

A system with both a missile flyout (``flyout_*`` figures) and the gun figures the shell model needs
(:data:`iadsim.catalog.envelope.GUN_ENGINE_FIGURES`) is one fire unit that fires missiles from its
flyout envelope and bursts from its guns' envelope. The rule (a documented doctrine choice, after the
reference's remark on the Pantsir that targets closer in are left to the guns): a candidate target is
engaged with missiles wherever the missile can engage it (a positive kill probability inside the
missile envelope, missiles in the magazine); where it cannot (inside the missile's minimum range, out
of its envelope, or the missiles spent) and the intercept point lies inside the gun envelope, with
bursts left, it is engaged with one burst. Missiles and bursts have separate magazines; the unit's
fire channels are one pool for both.

This module precomputes the gun's side per run (like the fast world's missile arrays): for each step,
threat and gun-missile unit whether a burst fired now meets the target inside the gun envelope, in
sight and held by the fire-control radar, at intercept too (``ok``), the shells' flight time in steps
(``tof``) and the burst's kill probability at the intercept point (``pk``,
:func:`iadsim.physics.gun.burst_kill_probability_at_range`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iadsim.catalog import System
from iadsim.catalog.envelope import GUN_ENGINE_FIGURES, gun_bursts_carried, gun_figure, gun_rounds_per_burst, \
    gun_table, has_flyout
from iadsim.catalog.envelope import TABLE_NH, TABLE_NR
from iadsim.catalog.firecontrol import in_fire_control
from iadsim.coverage.los import visible_at
from iadsim.coverage.specs import envelope_coordinates
from iadsim.engine.kernel import FLYOUT_PAR_LEN, FP_DH, FP_DR, FP_GN, FP_GSIG, FP_GUN, FP_RMAX, FP_TMAX, FP_VMEAN, \
    FP_VMIN, FP_VTMAX
from iadsim.geo.sector import ALL_ROUND, in_sector
from iadsim.physics.flyout import predicted_intercepts
from iadsim.physics.gun import burst_kill_probability_at_range


def is_gun_missile(system: System) -> bool:
    """Whether an effector is a gun-missile fire unit: a missile flyout and the gun figures."""
    return system.kind == "effector" and has_flyout(system) and all(k in system.figures for k in GUN_ENGINE_FIGURES)


@dataclass
class GunSide:
    """The guns of the gun-missile units of a run (G of them; empty arrays when none)."""

    gun_of: np.ndarray     # [E] index g of each fire unit's guns, -1: a unit without a second weapon
    ok: np.ndarray         # [T, M, G] bool: a burst fired now can meet the target (see module docstring)
    tof: np.ndarray        # [T, M, G] int32 shell flight time to the intercept point [steps]
    pk: np.ndarray         # [T, M, G] float32 kill probability of one burst there (0 where not ok)
    bursts: np.ndarray     # [E] bursts in the unit's gun magazine (0: no guns)
    range_max_m: np.ndarray  # [G] the guns' maximum slant range (effective range) [m]
    #: full fidelity (intercepts on track estimates): the guns' shell tables [G, NR, NH] (time of
    #: flight [s], speed [m/s]) and their rows of flyout parameters [G, FLYOUT_PAR_LEN] (columns FP_*
    #: of iadsim.engine.kernel; FP_RMAX the guns' maximum slant range, FP_GUN, FP_GN, FP_GSIG the burst)
    tab_tof: np.ndarray | None = None
    tab_spd: np.ndarray | None = None
    par: np.ndarray | None = None

    def kernel_inputs(self) -> "GunArrays":
        """Both kernels' gun record: gun_of [E], the fast kernel's [T, M, G] arrays, the full-fidelity
        kernel's shell tables and parameter rows (zeros when the World has none), the burst magazines [E]."""
        from iadsim.engine.records import GunArrays

        G = self.ok.shape[2]
        tt = self.tab_tof if self.tab_tof is not None else np.zeros((G, TABLE_NR, TABLE_NH))
        ts = self.tab_spd if self.tab_spd is not None else np.zeros((G, TABLE_NR, TABLE_NH))
        par = self.par if self.par is not None else np.zeros((G, FLYOUT_PAR_LEN))
        return GunArrays(gun_of=self.gun_of, g_ok=self.ok, g_tof=self.tof, g_pk=self.pk, g_tab_tof=tt, g_tab_spd=ts,
                         g_par=par, g_mag0=self.bursts)

    @property
    def any(self) -> bool:
        return self.ok.shape[2] > 0

    @staticmethod
    def none(nsteps: int, M: int, E: int) -> "GunSide":
        return GunSide(np.full(E, -1, np.int64), np.zeros((nsteps, M, 0), bool), np.ones((nsteps, M, 0), np.int32),
                       np.zeros((nsteps, M, 0), np.float32), np.zeros(E, np.int64), np.zeros(0))


def gun_side(systems: list[System], specs, vehicles: list[int], fcr: list[tuple], pos, vel, mvas, terrain, dt: float,
             gun_vuln: np.ndarray, log_get) -> GunSide:
    """The guns of the gun-missile units among ``systems`` (one per fire unit, with its
    EffectorSpec, vehicle count and fire-control limits), over threat paths ``pos`` / ``vel``
    [T, M, 3]; ``gun_vuln`` [M, 2] the threats' presented area and kill probability per hit."""
    T, M = pos.shape[:2]
    E = len(systems)
    mixed = [e for e in range(E) if is_gun_missile(systems[e])]
    if not mixed:
        return GunSide.none(T, M, E)
    G = len(mixed)
    gun_of = np.full(E, -1, np.int64)
    ok = np.zeros((T, M, G), bool)
    tof = np.ones((T, M, G), np.int32)
    pk = np.zeros((T, M, G), np.float32)
    bursts = np.zeros(E, np.int64)
    rmax_g = np.zeros(G)
    tabs = []
    par = np.zeros((G, FLYOUT_PAR_LEN))
    flying = np.isfinite(pos[..., 0])
    idx_t = np.arange(T)[:, None]
    idx_m = np.arange(M)[None, :]
    for g, e in enumerate(mixed):
        sysm, spec = systems[e], specs[e]
        gun_of[e] = g
        for key in GUN_ENGINE_FIGURES:
            log_get(sysm, key, "guns")
        bursts[e] = gun_bursts_carried(sysm) * vehicles[e]
        tab = gun_table(sysm)
        vm = sysm.nominal("gun_muzzle_velocity_m_s")
        rmax = min(spec.range_max_m, sysm.nominal("gun_effective_range_km") * 1000.0)
        rmax_g[g] = rmax
        n_rounds = gun_rounds_per_burst(sysm)
        sigma = float(np.hypot(sysm.nominal("gun_dispersion_mrad"), gun_figure(sysm, "gun_aim_error_mrad").value))
        tabs.append(tab)
        par[g] = gun_parameters(tab, vm, rmax, n_rounds, sigma)
        site = np.array([spec.x, spec.y, spec.ground])
        rel = (pos - site).reshape(-1, 3)
        tau = np.empty(rel.shape[0])
        spd = np.empty(rel.shape[0])
        conv = np.empty(rel.shape[0], dtype=bool)
        predicted_intercepts(np.ascontiguousarray(rel), np.ascontiguousarray(vel.reshape(-1, 3)), tab.tof_s,
                             tab.speed_m_s, float(tab.gr_m[1]), float(tab.h_m[1]), vm, tau, spd, conv)
        tau = tau.reshape(T, M)
        with np.errstate(invalid="ignore"):
            fly_ok = conv.reshape(T, M) & (tau <= tab.max_time_s)
        tau = np.where(fly_ok, tau, np.nan)
        pip = pos + vel * tau[..., None]
        mva = mvas[spec.radar]
        n_tof = np.maximum(np.where(np.isfinite(tau), np.ceil(tau / dt - 1e-9), 1), 1).astype(np.int64)
        reach = (idx_t + n_tof) < T
        now_ok = (np.isfinite(pip[..., 0]) & fly_ok & reach & flying
                  & visible_at(mva, terrain, pos[..., 0], pos[..., 1], pos[..., 2])
                  & in_fire_control(pos[..., 0] - spec.x, pos[..., 1] - spec.y, pos[..., 2] - spec.ground, fcr[e]))
        if spec.sector != ALL_ROUND:
            now_ok &= in_sector(pip[..., 0] - spec.x, pip[..., 1] - spec.y, pip[..., 2] - spec.ground, spec.sector)
        actual = pos[np.minimum(idx_t + n_tof, T - 1), idx_m]
        at_ok = (reach & np.isfinite(actual[..., 0])
                 & visible_at(mva, terrain, actual[..., 0], actual[..., 1], actual[..., 2])
                 & in_fire_control(actual[..., 0] - spec.x, actual[..., 1] - spec.y, actual[..., 2] - spec.ground,
                                   fcr[e]))
        lim = []
        for p3 in (pip, actual):
            gr, agl, above = envelope_coordinates(spec, terrain, p3[..., 0], p3[..., 1], p3[..., 2])
            with np.errstate(invalid="ignore"):   # in float32, as the world stores the missiles' coordinates
                r = np.nan_to_num(np.hypot(gr, above), nan=np.inf).astype(np.float32)
                agl = np.nan_to_num(agl, nan=-np.inf).astype(np.float32)
                above = np.nan_to_num(above, nan=np.inf).astype(np.float32)
                lim.append((r <= rmax) & (agl >= spec.altitude_min_m) & (above <= spec.altitude_max_m))
        ok[:, :, g] = now_ok & at_ok & lim[0] & lim[1]
        tof[:, :, g] = n_tof
        with np.errstate(invalid="ignore"):
            r_pip = np.where(ok[:, :, g], np.hypot(np.hypot(pip[..., 0] - spec.x, pip[..., 1] - spec.y),
                                                   pip[..., 2] - spec.ground), 1.0)
        p = burst_kill_probability_at_range(r_pip, gun_vuln[None, :, 0], n_rounds, sigma, 0.0, gun_vuln[None, :, 1])
        pk[:, :, g] = np.where(ok[:, :, g], np.nan_to_num(p), 0.0)
        ok[:, :, g] &= pk[:, :, g] > 0.0
    return GunSide(gun_of, ok, tof, pk, bursts, rmax_g, np.stack([t.tof_s for t in tabs]),
                   np.stack([t.speed_m_s for t in tabs]), par)


def gun_parameters(tab, vm: float, rmax: float, n_rounds: float, sigma_mrad: float) -> np.ndarray:
    """A gun's row of flyout parameters (columns FP_* of iadsim.engine.kernel), as a gun fire unit's:
    the shell table's time limit and spacing, the muzzle velocity, no limit on target speed, the
    maximum slant range ``rmax`` [m], and the burst (rounds, combined angular error [mrad])."""
    out = np.zeros(FLYOUT_PAR_LEN)
    out[FP_TMAX] = tab.max_time_s
    out[FP_VMIN] = tab.min_speed_m_s
    out[FP_VTMAX] = np.inf
    out[FP_VMEAN] = vm
    out[FP_RMAX] = rmax
    out[FP_DR] = float(tab.gr_m[1])
    out[FP_DH] = float(tab.h_m[1])
    out[FP_GUN] = 1.0
    out[FP_GN] = n_rounds
    out[FP_GSIG] = sigma_mrad
    return out
