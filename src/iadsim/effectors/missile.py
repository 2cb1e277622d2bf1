"""Surface-to-air missiles: the fitted point-mass flyout (or a constant-speed projectile for systems
without flyout figures) and the single-shot Pk engagement factor (iadsim.physics.flyout,
iadsim.physics.pk)."""

from __future__ import annotations

import numpy as np

from iadsim.catalog import System
from iadsim.catalog.envelope import FLYOUT_FIGURES, LOFT_FIGURES, has_flyout, is_gun, system_table
from iadsim.effectors.base import Effector, base_parameters, model_figure, register
from iadsim.engine.kernel import FP_EDGE, FP_KFULL, FP_LOSS, FP_NM, FP_RATIO
from iadsim.engine.mixed import is_gun_missile
from iadsim.engine.world import FULL_MODELS
from iadsim.physics.pk import pk_factor


@register
class Missile(Effector):
    """Any catalog effector that is not a gun fire unit (nor another registered type)."""

    weapon_type = "missile"
    shot_name = "missiles"
    # the run's 'flyout' and 'kill' texts for missile units (full fidelity: iadsim.engine.world.FULL_MODELS)
    flyout_text = ('point-mass missile (boost and sustain burns by the rocket equation, coast; drag with a '
                   'constant Cd*A/m in the US Standard Atmosphere 1976; gravity) flown along the straight line '
                   'of sight to the predicted intercept point of a constant-velocity target, found by iterating '
                   "the flyout time (so receding targets' PIPs move out); the envelope is the slant-range x "
                   'altitude limits cut where the missile arrives after its guidance time or below its minimum '
                   "useful speed, or the target is faster than the system's maximum; flyout figures fitted to "
                   'the public maximum range and mean speed; tabulated per unit. Long-range systems (public peak '
                   'speed, no mean-speed fit): fitted to the public peak speed and maximum range; where a '
                   'straight path would need implausibly low drag (S-300PMU2, S-400) the missile flies the '
                   'faster of the straight line and a lofted path (climb at a loft elevation to a loft height, '
                   'then straight to the PIP; the turn between the legs is instantaneous, loft height and '
                   'elevation are estimates). Leaves out: proportional-navigation paths, Mach-dependent drag, '
                   'induced drag of manoeuvres, seeker or command-link limits other than the guidance time; '
                   'systems without flyout or gun figures fly at a constant mean speed.')
    kill_text = ("single-shot Pk = the catalog's reference Pk x an engagement factor (missile-to-target speed "
                 'ratio at intercept, fraction of the maximum range, aspect from head-on to tail chase, target '
                 "manoeuvre against the missile's load limit); a salvo's failures share a common cause "
                 '(beta-factor model, Fleming 1975 / NUREG/CR-4780); zero if the target has left the envelope '
                 'or line of sight at intercept. Leaves out: warhead and fuze detail, countermeasures, '
                 'target-specific vulnerability.')
    full_flyout_text = FULL_MODELS["flyout"]
    full_kill_text = FULL_MODELS["kill"]

    @classmethod
    def second_weapons(cls, system: System) -> tuple[str, ...]:
        return ("gun",) if is_gun_missile(system) else ()   # a gun-missile unit's guns (iadsim.engine.mixed)

    @classmethod
    def applies(cls, system: System) -> bool:
        return system.kind == "effector" and not is_gun(system)

    def start(self, ctx, sysm):
        vm = ctx.log.get(sysm, "missile_speed_m_s", "flyout")
        return vm, ctx.log.get(sysm, "pk_single_shot", "kill")

    def magazine_per_vehicle(self, ctx, sysm):
        return int(ctx.log.get(sysm, "ready_missiles_per_vehicle", "fire unit"))

    def table(self, ctx, sysm, spec):
        # fitted flyout, or a constant-speed projectile for systems without one
        if has_flyout(sysm):
            for key in FLYOUT_FIGURES:
                ctx.log.get(sysm, key, "flyout")
            for key in LOFT_FIGURES:
                if key in sysm.figures:
                    ctx.log.get(sysm, key, "flyout")
        return system_table(sysm, spec.ground)

    def parameters(self, ctx, sysm, tab, vm, rmax, unit):
        out = base_parameters(ctx, sysm, tab, vm)
        out[FP_NM] = model_figure(ctx, sysm, "missile_max_load_g")
        out[FP_KFULL] = model_figure(ctx, sysm, "pk_speed_ratio_full")
        out[FP_EDGE] = model_figure(ctx, sysm, "pk_edge_factor")
        out[FP_LOSS] = model_figure(ctx, sysm, "pk_aspect_loss")
        out[FP_RATIO] = model_figure(ctx, sysm, "pk_manoeuvre_ratio")
        return out

    def kill_factor(self, ctx, sysm, spec, par, pip, spd, pip_r, pip_ok, rmax):
        # the engagement factor of the single-shot Pk at the PIP (iadsim.physics.pk)
        speed_t, vel = ctx.speed_t, ctx.vel
        los = pip - np.array([spec.x, spec.y, spec.ground])
        with np.errstate(invalid="ignore", divide="ignore"):
            u = los / np.linalg.norm(los, axis=-1, keepdims=True)
            cos_aspect = np.where(speed_t > 0, -np.sum(u * np.nan_to_num(vel), axis=-1)
                                  / np.where(speed_t > 0, speed_t, 1.0), 1.0)
            return pk_factor(spd, speed_t, pip_r / np.float64(rmax), cos_aspect, ctx.accel_g[None, :], par[FP_NM],
                             par[FP_KFULL], par[FP_EDGE], par[FP_LOSS], par[FP_RATIO])
