"""The effector interface: one class per weapon type, registered by name, each compiling a fire unit's
engagement into the tables the kernels read.

A fire unit is a catalog ``kind: effector`` system at a site. Its weapon type is the first registered
:class:`Effector` whose :meth:`Effector.applies` accepts the system (the registry is searched from the
most recently registered type back, so a new type registered by a user module is tried before the
bundled ones). :meth:`Effector.compile` turns the unit into a :class:`UnitEngagement`: per step, threat
member and this unit, the time to effect in steps (``tof``), whether the predicted intercept point
(PIP) is feasible now (``pip_ok``), the envelope coordinates of the PIP and of the target when the
effect arrives, whether the target is still in sight then (``act_ok``), the engagement factor of the
kill probability (``pk_geo``), and the unit's row of flyout parameters, its time-to-effect table,
envelope, reference Pk, magazine, fire channels, reload and doctrine. Those are exactly the arrays
``iadsim.engine.world.World`` hands the kernels, so a new weapon type needs no kernel change as long
as its effect is one kill draw at an intercept time (see docs/effectors.md).

The shared pipeline (:meth:`Effector.compile`) is the fast world's missile and gun compile; a weapon
type overrides the hooks where it differs: :meth:`Effector.start` (mean speed and reference Pk, and
the figures it logs first), :meth:`Effector.range_max_m`, :meth:`Effector.magazine_per_vehicle`,
:meth:`Effector.table`, :meth:`Effector.parameters` and :meth:`Effector.kill_factor`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from iadsim.catalog import System
from iadsim.catalog.envelope import figure_or_default
from iadsim.catalog.firecontrol import fire_channels, fire_control_limits, in_fire_control
from iadsim.catalog.models import FIRE_CONTROL_FIGURES
from iadsim.coverage.los import visible_at
from iadsim.coverage.specs import EffectorSpec, envelope_coordinates
from iadsim.engine.kernel import FLYOUT_PAR_LEN, FP_FCR_R, FP_SEC_AZ, FP_TMAX, FP_VMIN, FP_VTMAX
from iadsim.engine.world import FIRE_MODES, FigureUse
from iadsim.geo.sector import ALL_ROUND, in_sector
from iadsim.physics.flyout import EnvelopeTable, predicted_intercepts


#: the integer per-unit fields of UnitEngagement.ints (World fields of the same names)
INT_FIELDS = ("channels", "ready", "reloads", "reload_steps", "reaction_steps", "salvo", "max_eng",
              "assess_steps", "min_interval_steps", "fire_mode")
#: the float per-unit fields of UnitEngagement.env (World fields of the same names)
ENV_FIELDS = ("range_min_m", "range_max_m", "altitude_min_m", "altitude_max_m", "pk", "beta")
#: the envelope coordinates of the PIP and of the target at intercept (World fields of the same names)
GEO_FIELDS = ("pip_r", "pip_agl", "pip_above", "act_r", "act_agl", "act_above")


@dataclass
class EngagementContext:
    """What every fire unit's compile shares: the loaded scenario, terrain, line-of-sight rasters
    of the radars, the threat members' truth paths [T, M, 3], their speeds [T, M], manoeuvre [M, g]
    and gun vulnerability [M, 2], the step, and the figure log (``log.get(system, key, used_by)``
    returns the figure's value and records its use for the report)."""

    ld: Any
    terrain: Any
    mvas: list
    pos: np.ndarray
    vel: np.ndarray
    flying: np.ndarray
    speed_t: np.ndarray
    accel_g: np.ndarray
    gun_vuln: np.ndarray
    dt: float
    nsteps: int
    log: Any

    def steps_of(self, sec: float) -> int:
        return int(np.ceil(sec / self.dt - 1e-9))

    def use(self, system: System, key: str, fig, used_by: str) -> None:
        """Record a figure that is not the system's own (a model default) as used."""
        self.log.uses.setdefault((system.name, key), FigureUse(system.name, key, fig, used_by))


@dataclass
class UnitEngagement:
    """One fire unit's compiled engagement: [T, M] arrays for this unit and its per-unit values."""

    tof: np.ndarray          # [T, M] int time to effect [steps] (at least 1)
    pip_ok: np.ndarray       # [T, M] bool PIP feasible now (envelope of the weapon, in sight, in sector...)
    act_ok: np.ndarray       # [T, M] bool target flying and in sight when the effect arrives
    geo: dict                # GEO_FIELDS -> [T, M] envelope coordinates (slant range, AGL, above site)
    pk_geo: np.ndarray       # [T, M] engagement factor of the single-shot Pk (0 where not pip_ok)
    par: np.ndarray          # [FLYOUT_PAR_LEN] row of World.flyout_par
    table: EnvelopeTable     # time to effect [s] and speed [m/s] over ground range x height
    env: dict                # ENV_FIELDS -> float
    ints: dict               # INT_FIELDS -> int
    fcr: tuple               # fire-control radar limits (iadsim.catalog.firecontrol)


#: weapon type name -> Effector subclass, in registration order
REGISTRY: dict[str, type["Effector"]] = {}


def register(cls: type["Effector"]) -> type["Effector"]:
    """Class decorator: register an effector type under its ``weapon_type`` (a later registration of
    the same name replaces the earlier one)."""
    if not getattr(cls, "weapon_type", None):
        raise ValueError(f"{cls.__name__} has no weapon_type")
    REGISTRY.pop(cls.weapon_type, None)
    REGISTRY[cls.weapon_type] = cls
    return cls


def effector_for(system: System) -> "Effector":
    """The effector type of a catalog effector: the most recently registered type that applies."""
    import iadsim.effectors  # noqa: F401  (registers the bundled types)

    for cls in reversed(list(REGISTRY.values())):
        if cls.applies(system):
            return cls()
    raise KeyError(f"no registered effector type applies to {system.name!r}")


def shot_names(world) -> list[str]:
    """Per fire unit of a compiled world: the plural name of its shots as its weapon type says
    ("missiles", "bursts", "laser dwells"...). A world without its scenario (a test's stand-in) names
    a gun unit's shots "bursts" and the others' "missiles"."""
    ld = getattr(world, "loaded", None)
    cat = getattr(ld, "catalog", None)
    out = []
    for i, sysname in enumerate(world.effector_system):
        try:
            out.append(effector_for(cat[sysname]).shots())
        except (KeyError, TypeError):
            gun = getattr(world, "effector_gun", None)
            out.append("bursts" if gun is not None and gun[i] else "missiles")
    return out


def shots_label(world) -> str:
    """What the per-threat ``shots`` count of a compiled world adds up: the shot names of the weapon
    types its fire units fire, joined with " + " ("missiles", "missiles + bursts"...); "shots" for a
    world without its scenario or fire units."""
    ld = getattr(world, "loaded", None)
    try:
        names = [cls.shots() for cls in weapon_types_in_use(ld)] if ld is not None else []
    except (KeyError, TypeError, AttributeError):
        names = []
    return " + ".join(dict.fromkeys(names)) or "shots"


def weapon_type(system: System) -> str:
    """The registered weapon type name of a catalog effector (e.g. 'missile', 'gun')."""
    return effector_for(system).weapon_type


class Effector(ABC):
    """One weapon type. Subclasses set ``weapon_type`` and ``model_text`` and implement the hooks."""

    weapon_type: ClassVar[str] = ""
    #: what the weapon model does and leaves out (the run's assumption texts, iadsim.engine.world)
    model_text: ClassVar[str] = ""
    #: what outputs call its shots, plural ("missiles", "bursts", "laser dwells": the expenditure
    #: tables' "fires" column); default: "<weapon_type> shots"
    shot_name: ClassVar[str] = ""
    #: its part of the run's 'flyout' assumption text: how a shot reaches its target (time to effect,
    #: envelope) and what that leaves out; the run's text joins the parts of the types in use
    flyout_text: ClassVar[str] = ""
    #: its part of the run's 'kill' assumption text: the kill probability of one shot and what it leaves out
    kill_text: ClassVar[str] = ""
    #: the same at full fidelity, where they differ ("": as at fast fidelity)
    full_flyout_text: ClassVar[str] = ""
    full_kill_text: ClassVar[str] = ""

    @classmethod
    def second_weapons(cls, system: System) -> tuple[str, ...]:
        """The other registered weapon types a fire unit of this type also fires (a gun-missile
        unit's guns: ``("gun",)``); their texts join the run's 'flyout' and 'kill' texts."""
        return ()

    @classmethod
    def shots(cls) -> str:
        """The plural name of this weapon type's shots (:attr:`shot_name`, or "<weapon_type> shots")."""
        return cls.shot_name or f"{cls.weapon_type} shots"

    @classmethod
    @abstractmethod
    def applies(cls, system: System) -> bool:
        """Whether this weapon type models the catalog effector ``system``."""

    # --- hooks -----------------------------------------------------------------------------------
    @abstractmethod
    def start(self, ctx: EngagementContext, sysm: System) -> tuple[float, float]:
        """Log the weapon's own figures; return its mean speed [m/s] (the PIP iteration's first guess)
        and its reference single-shot Pk [1] (multiplied by pk_geo in the kernels)."""

    def range_max_m(self, sysm: System, spec: EffectorSpec) -> float:
        """The unit's maximum slant range [m] (default: the catalog envelope)."""
        return spec.range_max_m

    @abstractmethod
    def magazine_per_vehicle(self, ctx: EngagementContext, sysm: System) -> int:
        """Shots (missiles, bursts...) one vehicle has ready."""

    @abstractmethod
    def table(self, ctx: EngagementContext, sysm: System, spec: EffectorSpec) -> EnvelopeTable:
        """Time to effect [s] and speed [m/s] over ground range x height above the site."""

    @abstractmethod
    def parameters(self, ctx: EngagementContext, sysm: System, tab: EnvelopeTable, vm: float, rmax: float,
                   unit: str) -> np.ndarray:
        """The unit's row of World.flyout_par (columns FP_* of iadsim.engine.kernel; sector and
        fire-control columns are filled by the shared pipeline)."""

    @abstractmethod
    def kill_factor(self, ctx: EngagementContext, sysm: System, spec: EffectorSpec, par: np.ndarray, pip: np.ndarray,
                    spd: np.ndarray, pip_r: np.ndarray, pip_ok: np.ndarray, rmax: float) -> np.ndarray:
        """[T, M] engagement factor of the single-shot Pk at the PIP (NaN allowed where not pip_ok)."""

    # --- the shared pipeline ---------------------------------------------------------------------
    def compile(self, ctx: EngagementContext, eff, spec: EffectorSpec) -> UnitEngagement:
        """Compile fire unit ``eff`` (a scenario effector) at ``spec`` into its engagement tables."""
        sysm = ctx.ld.catalog[eff.system]
        log = ctx.log
        T, M = ctx.pos.shape[:2]
        pos, vel, terrain, dt = ctx.pos, ctx.vel, ctx.terrain, ctx.dt
        env: dict[str, float] = {}
        ints: dict[str, int] = {}
        vm, env["pk"] = self.start(ctx, sysm)
        for k in ("range_min_m", "range_max_m", "altitude_min_m", "altitude_max_m"):
            env[k] = getattr(spec, k)
        env["range_max_m"] = self.range_max_m(sysm, spec)
        ch = np.array([int(log.get(sysm, "channels_per_vehicle", "fire unit")) * eff.vehicles], dtype=np.int64)
        fcr = fire_control(sysm, log, ch, 0, eff.vehicles)
        ints["channels"] = int(ch[0])
        per_vehicle = self.magazine_per_vehicle(ctx, sysm)
        ints["ready"] = eff.missiles if eff.missiles is not None else per_vehicle * eff.vehicles
        ints["reloads"] = eff.reloads
        ints["reload_steps"] = max(ctx.steps_of(log.get(sysm, "reload_time_s", "fire unit")), 1)
        ints["reaction_steps"] = ctx.steps_of(eff.reaction_time_s if eff.reaction_time_s is not None
                                              else log.get(sysm, "reaction_time_s", "fire unit"))
        d = eff.doctrine
        ints["salvo"] = d.salvo_size if d.mode == "salvo" else 1
        ints["max_eng"] = d.max_engagements
        ints["assess_steps"] = ctx.steps_of(d.kill_assessment_s)
        ints["min_interval_steps"] = ctx.steps_of(d.min_launch_interval_s)
        ints["fire_mode"] = FIRE_MODES[d.fire]

        tab = self.table(ctx, sysm, spec)
        fl = self.parameters(ctx, sysm, tab, vm, env["range_max_m"], eff.name)
        env["beta"] = model_figure(ctx, sysm, "pk_common_cause_beta")

        rel = (pos - np.array([spec.x, spec.y, spec.ground])).reshape(-1, 3)
        tau = np.empty(rel.shape[0])
        spd = np.empty(rel.shape[0])
        conv = np.empty(rel.shape[0], dtype=bool)
        predicted_intercepts(np.ascontiguousarray(rel), np.ascontiguousarray(vel.reshape(-1, 3)),
                             tab.tof_s, tab.speed_m_s, float(tab.gr_m[1]), float(tab.h_m[1]), vm, tau, spd, conv)
        tau = tau.reshape(T, M)
        spd = spd.reshape(T, M)
        conv = conv.reshape(T, M)
        # the flyout envelope: converged PIP, within the guidance time, fast enough, target not too fast
        with np.errstate(invalid="ignore"):
            fly_ok = (conv & (tau <= fl[FP_TMAX]) & (spd >= fl[FP_VMIN])
                      & (ctx.speed_t <= fl[FP_VTMAX]))
        tau = np.where(fly_ok, tau, np.nan)
        pip = pos + vel * tau[..., None]
        mva = ctx.mvas[spec.radar]
        idx_t = np.arange(T)[:, None]
        idx_m = np.arange(M)[None, :]
        n_tof = np.maximum(np.where(np.isfinite(tau), np.ceil(tau / dt - 1e-9), 1), 1).astype(np.int64)
        reach = (idx_t + n_tof) < T
        seen_now = visible_at(mva, terrain, pos[..., 0], pos[..., 1], pos[..., 2]) & ctx.flying
        pip_ok = np.isfinite(pip[..., 0]) & seen_now & reach & fly_ok
        if spec.sector != ALL_ROUND:   # the launcher engages no PIP outside its sector
            pip_ok &= in_sector(pip[..., 0] - spec.x, pip[..., 1] - spec.y, pip[..., 2] - spec.ground,
                                spec.sector)
        fl[FP_SEC_AZ:FP_SEC_AZ + 4] = spec.sector
        fl[FP_FCR_R:FP_FCR_R + 3] = fcr
        if np.isfinite(fcr[0]) or fcr[1] > -np.pi / 2 or fcr[2] < np.pi / 2:
            # the fire-control radar must hold the target now (iadsim.catalog.firecontrol)
            pip_ok &= in_fire_control(pos[..., 0] - spec.x, pos[..., 1] - spec.y, pos[..., 2] - spec.ground, fcr)
        # where the target really is when the effect arrives
        actual = pos[np.minimum(idx_t + n_tof, T - 1), idx_m]
        act_ok = reach & np.isfinite(actual[..., 0]) & visible_at(
            mva, terrain, actual[..., 0], actual[..., 1], actual[..., 2])
        if np.isfinite(fcr[0]) or fcr[1] > -np.pi / 2 or fcr[2] < np.pi / 2:
            # ... and until intercept: it guides the missile onto the target
            act_ok &= in_fire_control(actual[..., 0] - spec.x, actual[..., 1] - spec.y,
                                      actual[..., 2] - spec.ground, fcr)
        geo = {}
        for prefix, p3 in (("pip", pip), ("act", actual)):
            gr, agl, above = envelope_coordinates(spec, terrain, p3[..., 0], p3[..., 1], p3[..., 2])
            geo[f"{prefix}_r"] = np.nan_to_num(np.hypot(gr, above), nan=np.inf).astype(np.float32)
            geo[f"{prefix}_agl"] = np.nan_to_num(agl, nan=-np.inf).astype(np.float32)
            geo[f"{prefix}_above"] = np.nan_to_num(above, nan=np.inf).astype(np.float32)
        fac = self.kill_factor(ctx, sysm, spec, fl, pip, spd, geo["pip_r"], pip_ok, env["range_max_m"])
        pk_geo = np.where(pip_ok, np.nan_to_num(fac), 0.0).astype(np.float32)
        return UnitEngagement(tof=n_tof, pip_ok=pip_ok, act_ok=act_ok, geo=geo, pk_geo=pk_geo, par=fl, table=tab,
                              env=env, ints=ints, fcr=fcr)


def fire_control(sysm: System, log, channels: np.ndarray, ei: int, vehicles: int) -> tuple:
    """Fire unit ei's fire-control radar limits (iadsim.catalog.firecontrol.fire_control_limits), its
    figures logged; its fcr_channels limit the unit's fire channels (``channels[ei]``, in place)."""
    for key in FIRE_CONTROL_FIGURES:
        if key in sysm.figures:
            log.get(sysm, key, "fire control")
    if "fcr_channels" in sysm.figures:
        channels[ei] = fire_channels(sysm, channels[ei] // max(vehicles, 1)) * vehicles
    return fire_control_limits(sysm)


def model_figure(ctx: EngagementContext, sysm: System, key: str) -> float:
    """A figure of the Pk model: the system's own, else the model default (both logged)."""
    fig = figure_or_default(sysm, key)
    ctx.use(sysm, key, fig, "kill")
    return float(fig.value)


def base_parameters(ctx: EngagementContext, sysm: System, tab: EnvelopeTable, vm: float) -> np.ndarray:
    """The columns every weapon type fills: the table's time limit and minimum speed, the maximum
    target speed (catalog target_speed_max_m_s, else none), the mean speed, the nominal maximum range,
    the table's steps."""
    from iadsim.engine.kernel import FP_DH, FP_DR, FP_RMAX, FP_VMEAN

    out = np.zeros(FLYOUT_PAR_LEN)
    out[FP_TMAX] = tab.max_time_s
    out[FP_VMIN] = tab.min_speed_m_s
    out[FP_VTMAX] = (ctx.log.get(sysm, "target_speed_max_m_s", "flyout") if "target_speed_max_m_s" in sysm.figures
                     else np.inf)
    out[FP_VMEAN] = vm
    out[FP_RMAX] = sysm.nominal("engagement_range_max_km") * 1000.0
    out[FP_DR] = float(tab.gr_m[1])
    out[FP_DH] = float(tab.h_m[1])
    return out


def weapon_types_in_use(ld) -> list[type["Effector"]]:
    """The weapon types a scenario's fire units fire (each unit's type and its second weapons), in
    registration order (missile, gun, then the types user modules add)."""
    found: dict[str, type[Effector]] = {}
    for e in ld.scenario.effectors:
        sysm = ld.catalog[e.system]
        eff = effector_for(sysm)
        found.setdefault(eff.weapon_type, type(eff))
        for name in eff.second_weapons(sysm):
            if name in REGISTRY:
                found.setdefault(name, REGISTRY[name])
    order = list(REGISTRY)
    return sorted(found.values(), key=lambda c: order.index(c.weapon_type) if c.weapon_type in order else len(order))


#: the run's 'flyout' and 'kill' texts of a scenario without fire units
NO_FIRE_UNITS = "no fire units in the scenario: nothing is fired at the threats"


def weapon_model_text(types, key: str, fidelity: str = "fast") -> str:
    """The run's ``key`` ('flyout' or 'kill') assumption text: the parts the weapon types ``types``
    state (``Effector.flyout_text``, ``kill_text``; at full fidelity ``full_flyout_text``,
    ``full_kill_text`` where given), joined; a type that states none says so."""
    parts = []
    for cls in types:
        text = (getattr(cls, f"full_{key}_text", "") if fidelity == "full" else "") or getattr(cls, f"{key}_text", "")
        if not text:
            text = (f"{cls.weapon_type} fire units ({cls.shots()}): the weapon type states no {key} text of its own"
                    + (f"; its assumptions: effector_{cls.weapon_type}" if cls.model_text else
                       "; iadsim knows nothing of what its model leaves out"))
        if parts and not parts[-1].endswith("."):
            parts[-1] += "."
        parts.append(text)
    return " ".join(parts) if parts else NO_FIRE_UNITS


def effector_models(ld) -> dict[str, str]:
    """The run's 'flyout' and 'kill' assumption texts, from the weapon types its fire units fire
    (:func:`weapon_model_text`), and the texts of the weapon types that state a general one of
    their own (``Effector.model_text``), keyed ``effector_<weapon type>``."""
    types = weapon_types_in_use(ld)
    fidelity = ld.scenario.simulation.fidelity
    out = {key: weapon_model_text(types, key, fidelity) for key in ("flyout", "kill")}
    for e in ld.scenario.effectors:
        eff = effector_for(ld.catalog[e.system])
        if eff.model_text:
            out[f"effector_{eff.weapon_type}"] = eff.model_text
    return out


class _NominalLog:
    """A figure log that reads nominal values and keeps what a model default records (unused)."""

    def __init__(self) -> None:
        self.uses: dict = {}

    def get(self, system: System, key: str, used_by: str) -> float:
        return system.nominal(key)


def _nominal_context(ld) -> EngagementContext:
    empty = np.zeros((0, 0, 3))
    return EngagementContext(ld=ld, terrain=None, mvas=[], pos=empty, vel=empty, flying=np.zeros((0, 0), bool),
                             speed_t=np.zeros((0, 0)), accel_g=np.zeros(0), gun_vuln=np.zeros((0, 2)), dt=1.0,
                             nsteps=0, log=_NominalLog())


def nominal_magazine(sysm: System) -> int:
    """Shots one vehicle of a catalog effector has ready at nominal figures, as its weapon type counts
    them (missiles, bursts...; the scenario check of a salvo against the magazine)."""
    return int(effector_for(sysm).magazine_per_vehicle(_nominal_context(None), sysm))


def nominal_engagement(ld, sysm: System, spec: EffectorSpec) -> tuple[EnvelopeTable, float, float]:
    """A fire unit's time-to-effect table, mean speed (the PIP iteration's first guess) [m/s] and
    maximum slant range [m] at the catalog's nominal figures, as its weapon type compiles them, without
    the threat arrays (for coverage maps: iadsim.coverage.envelope.unit_envelopes)."""
    eff = effector_for(sysm)
    ctx = _nominal_context(ld)
    vm, _ = eff.start(ctx, sysm)
    return eff.table(ctx, sysm, spec), float(vm), float(eff.range_max_m(sysm, spec))
