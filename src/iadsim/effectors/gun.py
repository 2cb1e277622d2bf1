"""Gun fire units (catalog gun figures, no missile flyout: Gepard, ZSU-23-4 Shilka): each shot is a
burst; the shell's time of flight over the slant range sets the intercept, the gun's effective range
the envelope and the burst kill probability the Pk (iadsim.physics.gun, iadsim.catalog.envelope).
The guns of gun-missile units (Pantsir-S1, Tunguska) are their second weapon: iadsim.engine.mixed."""

from __future__ import annotations

import numpy as np

from iadsim.catalog import System
from iadsim.catalog.envelope import GUN_ENGINE_FIGURES, gun_bursts_carried, gun_figure, gun_rounds_per_burst, \
    gun_table, is_gun
from iadsim.effectors.base import Effector, base_parameters, register
from iadsim.engine.kernel import FP_GN, FP_GSIG, FP_GUN, FP_RMAX
from iadsim.physics.gun import burst_kill_probability_at_range


@register
class Gun(Effector):
    weapon_type = "gun"
    shot_name = "bursts"
    # the run's 'flyout' and 'kill' texts for gun units (also a gun-missile unit's guns); the same at
    # full fidelity, where the burst's intercept and kill probability are computed on the track's estimate
    flyout_text = ('Gun fire units (gun figures, no flyout figures): each shot is a burst; the shell flies flat '
                   'along the slant range with drag proportional to v^2 (v = v0 exp(-k x), time of flight (exp(k '
                   "x) - 1) / (k v0); McCoy 1999 ch. 2), the PIP iterated on the shell's time of flight; "
                   "envelope = the catalog's cut at the gun's effective slant range. Leaves out for guns: "
                   'gravity drop and superelevation, Mach-dependent drag, air density with height, turret slew '
                   'limits')
    kill_text = ("Gun fire units: the Pk of a burst of n rounds (n = rate of fire x burst length) at the PIP's "
                 'slant range R is 1 - (1 - p_h p_k|h)^n with p_h = 1 - exp(-A / (2 pi sigma^2)), sigma = R x '
                 '(dispersion and aiming error in quadrature) (circular normal impacts centred on the target; '
                 "Przemieniecki 2000 ch. 4, Driels 2014 ch. 8, 12), A the threat's presented area and p_k|h "
                 'its kill probability per hit (its own figures, else defaults by RCS class; Ball 2003); it '
                 'falls with range. Leaves out for guns: rounds are independent (no aiming error common to a '
                 'burst, which would make hits correlated), no fuze or proximity effect, no aspect or target '
                 'manoeuvre, no cumulative damage across bursts')

    @classmethod
    def applies(cls, system: System) -> bool:
        return is_gun(system)

    def start(self, ctx, sysm):
        # the "missile" is a burst, its Pk the burst kill probability (pk1 = 1)
        for key in GUN_ENGINE_FIGURES:
            ctx.log.get(sysm, key, "flyout" if key != "gun_rounds_carried" else "fire unit")
        for key in ("gun_burst_length_s", "gun_aim_error_mrad"):
            ctx.use(sysm, key, gun_figure(sysm, key), "kill")
        return sysm.nominal("gun_muzzle_velocity_m_s"), 1.0

    def range_max_m(self, sysm, spec):
        return min(spec.range_max_m, sysm.nominal("gun_effective_range_km") * 1000.0)

    def magazine_per_vehicle(self, ctx, sysm):
        return gun_bursts_carried(sysm)

    def table(self, ctx, sysm, spec):
        return gun_table(sysm)

    def parameters(self, ctx, sysm, tab, vm, rmax, unit):
        out = base_parameters(ctx, sysm, tab, vm)
        out[FP_RMAX] = rmax
        out[FP_GUN] = 1.0
        out[FP_GN] = gun_rounds_per_burst(sysm)
        out[FP_GSIG] = float(np.hypot(sysm.nominal("gun_dispersion_mrad"), gun_figure(sysm, "gun_aim_error_mrad").value))
        return out

    def kill_factor(self, ctx, sysm, spec, par, pip, spd, pip_r, pip_ok, rmax):
        # the kill probability of a burst at the PIP's slant range (iadsim.physics.gun)
        gv = ctx.gun_vuln
        r_pip = np.where(pip_ok, pip_r, 1.0)
        return burst_kill_probability_at_range(np.where(np.isfinite(r_pip), r_pip, 1.0), gv[None, :, 0],
                                               par[FP_GN], par[FP_GSIG], 0.0, gv[None, :, 1])
