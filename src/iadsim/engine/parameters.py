"""Per-replication values of catalog figures: nominal, or sampled from the range over which public
sources disagree (``simulation.uncertainty: sample``), or from the range calibrated against the
validation suite where a figure has one (``sample-calibrated``; :mod:`iadsim.analysis.calibration`).

A figure is a property of a system, so one draw per replication and (system, figure) is shared by
every unit of that system. A figure with a range [low, high] around its nominal value is drawn
from the triangular distribution with mode at the nominal value (a common choice for expert
ranges: Vose, "Risk Analysis", 3rd ed., Wiley 2008, sec. 9.1.4); figures without a range stay
fixed. Replication i draws from ``SeedSequence(seed, spawn_key=(i, 1))``, a stream separate from
the engine's, so its values do not depend on chunking or backend.

Sampled here (they enter the compiled kernel directly): engagement envelope limits (slant range,
altitude), the reference single-shot Pk (it scales the precomputed engagement factor of
:mod:`iadsim.physics.pk`), the salvo's common-cause beta factor, fire channels, ready missiles,
reload and reaction times, radar reference range, reference RCS, reference Pd and false-alarm
probability, threat RCS, and the jamming figures of radars and jammers (from their own stream
``SeedSequence(seed, spawn_key=(i, 1, 9))``; they scale each jammer's J/S per replication:
:func:`iadsim.engine.ew.jamming_scale`). Held at nominal because they set the precomputed geometry: speeds,
altitudes, antenna heights, scan periods, the flyout figures (``flyout_*``: the flyout tables and
predicted intercept points) and the Pk model's shape figures.

Which fire units and radars are available (scenario ``readiness``) is drawn per replication in
every uncertainty mode, from ``SeedSequence(seed, spawn_key=(i, 1, 1))`` (:func:`apply_readiness`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iadsim.catalog import Figure
from iadsim.catalog.firecontrol import fire_channels
from iadsim.engine.rng import pcg64_uniforms
from iadsim.physics.radar import snr_required

#: (figure key, what it changes) sampled per replication
SAMPLED_FIGURES: dict[str, str] = {
    "engagement_range_min_km": "envelope", "engagement_range_max_km": "envelope",
    "engagement_altitude_min_m": "envelope", "engagement_altitude_max_m": "envelope",
    "pk_single_shot": "kill", "pk_common_cause_beta": "kill",
    "channels_per_vehicle": "fire unit", "ready_missiles_per_vehicle": "fire unit",
    "reload_time_s": "fire unit", "reaction_time_s": "fire unit",
    "radar_detection_range_km": "detection", "radar_reference_rcs_m2": "detection",
    "radar_reference_pd": "detection", "radar_pfa": "detection", "rcs_m2": "detection",
    "radar_peak_power_kw": "jamming", "radar_antenna_gain_dbi": "jamming", "radar_bandwidth_mhz": "jamming",
    "radar_eccm_improvement_db": "jamming", "jammer_power_w": "jamming", "jammer_antenna_gain_dbi": "jamming",
    "jammer_bandwidth_mhz": "jamming", "jammer_polarisation_loss_db": "jamming",
}
#: the jamming figures among them: drawn from their own stream ``SeedSequence(seed, spawn_key=(i, 1, 9))``
#: (so a jamming scenario's other draws are those it had before these were sampled); they scale each
#: replication's jamming-to-signal ratios (:func:`iadsim.engine.ew.jamming_scale`)
JAMMING_FIGURES = frozenset(k for k, v in SAMPLED_FIGURES.items() if v == "jamming")
JAMMING_SPAWN = (1, 9)


@dataclass
class Parameters:
    """Per-replication parameters of R replications ([R, E] fire units, [R, S] radars, [R, S, M])."""

    pk: np.ndarray
    beta: np.ndarray
    range_min_m: np.ndarray
    range_max_m: np.ndarray
    altitude_min_m: np.ndarray
    altitude_max_m: np.ndarray
    channels: np.ndarray
    ready: np.ndarray
    reload_steps: np.ndarray
    reaction_steps: np.ndarray
    snr_scale: np.ndarray
    pfa: np.ndarray
    draws: dict[tuple[str, str], np.ndarray] | None = None  # (system, figure) -> [R] values drawn
    #: failures, emission control and C2 links of these replications (iadsim.engine.defstate)
    defstate: object | None = None
    #: [R, S, J] factor on each jammer's J/S at each radar from the drawn jamming figures (None: 1)
    js_scale: np.ndarray | None = None

    def jamming_input(self, world) -> np.ndarray:
        """The kernels' ``js_scale``, or ones [R, S, J] (the nominal figures)."""
        if self.js_scale is not None:
            return self.js_scale
        J = world.ew.jam_owner.shape[0] if getattr(world, "ew", None) is not None else 0
        return np.ones((self.pk.shape[0], len(world.sensor_labels), J), np.float64)

    def kernel_inputs(self, world) -> "ParamArrays":
        """The kernels' per-replication figures (leading axis R), with :meth:`jamming_input`."""
        from iadsim.engine.records import ParamArrays

        return ParamArrays(pk1=self.pk, beta=self.beta, rmin=self.range_min_m, rmax=self.range_max_m,
                           hmin=self.altitude_min_m, hmax=self.altitude_max_m, channels=self.channels,
                           ready0=self.ready, reload_steps=self.reload_steps, reaction_steps=self.reaction_steps,
                           snr_scale=self.snr_scale, pfa=self.pfa, js_scale=self.jamming_input(world))


def nominal(world, count: int) -> Parameters:
    """Every replication at the catalog's nominal values."""
    S = len(world.sensor_labels)
    M = world.n_threats

    def rep(a, dtype=None):
        a = np.asarray(a, dtype=dtype)
        return np.broadcast_to(a, (count, *a.shape)).copy()  # writable, one row per replication

    return Parameters(
        pk=rep(world.pk, np.float64), beta=rep(world.beta, np.float64),
        range_min_m=rep(world.range_min_m, np.float64),
        range_max_m=rep(world.range_max_m, np.float64), altitude_min_m=rep(world.altitude_min_m, np.float64),
        altitude_max_m=rep(world.altitude_max_m, np.float64), channels=rep(world.channels, np.int64),
        ready=rep(world.ready, np.int64), reload_steps=rep(world.reload_steps, np.int64),
        reaction_steps=rep(world.reaction_steps, np.int64), snr_scale=np.ones((count, S, M)),
        pfa=rep(world.pfa, np.float64),
    )


def apply_readiness(world, p: Parameters, seed: int, first: int,
                    index: np.ndarray | None = None) -> np.ndarray | None:
    """Draw which fire units and radars are available in replications first .. first+len(p)-1
    (scenario ``readiness``, in place) and return [count, E + S'] availability (fire units, then
    stand-alone radars), or None when every readiness is 1.

    Each unit is available with probability ``readiness`` for the whole run, independently of the
    others, drawn once per replication from its own parameter stream's child
    ``SeedSequence(seed, spawn_key=(i, 1, 1))`` (separate from the figure draws, so the same
    replication has the same availability with nominal or sampled figures). An unavailable fire unit
    has no fire channel (it never launches) and its radar detects nothing; an unavailable radar
    detects nothing (its signal-to-noise scale and false-alarm probability are 0). ``index`` gives
    each row's replication index instead of first, first+1, ... (a sensitivity analysis reuses
    replications across design points)."""
    from iadsim.engine import defstate

    scen = world.scenario
    units = [e.readiness for e in scen.effectors] + [x.readiness for x in scen.sensors]
    count = p.channels.shape[0]
    index = np.arange(first, first + count) if index is None else np.asarray(index)
    defstate.apply_reaction(world, p)   # alert states and the engagement-authority delay
    if all(r >= 1.0 for r in units):
        p.defstate = defstate.defence_state(world, p, seed, index, None)
        return None
    readiness = np.array(units, dtype=float)
    up = np.empty((count, readiness.size), dtype=bool)
    u = pcg64_uniforms(seed, [(int(i), 1, 1) for i in index], readiness.size)
    if u is not None:
        up[:] = u < readiness
    for j in range(count if u is None else 0):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(int(index[j]), 1, 1))))
        up[j] = rng.random(readiness.size) < readiness
    p.defstate = defstate.defence_state(world, p, seed, index, up)
    repaired = defstate.repaired_units(scen)   # a unit with repairs is down at the start only
    E = len(scen.effectors)
    p.channels[:, :E] = np.where(up[:, :E] | repaired[None, :E], p.channels[:, :E], 0)
    radar_of = list(np.asarray(world.effector_sensor)[:E]) + list(range(E, E + len(scen.sensors)))
    for u, si in enumerate(radar_of):
        if repaired[u]:
            continue
        p.snr_scale[~up[:, u], si, :] = 0.0
        p.pfa[~up[:, u], si] = 0.0   # and makes no false alarms (full fidelity)
    return up


def _draw(rng: np.random.Generator, fig: Figure, calibrated: bool = False) -> float:
    """One value of ``fig``: triangular over its catalog range, or (``calibrated``) over its
    calibrated range where it has one (posterior 5-95 % range, mode at the posterior median)."""
    src = fig.calibrated if calibrated and fig.calibrated is not None else fig
    lo, hi, mode = float(src.low), float(src.high), float(src.value)
    if hi <= lo:
        return mode
    return float(rng.triangular(lo, mode, hi))


def _triangular_draws(seed: int, first: int, count: int, figs: list[Figure], calibrated: bool,
                      key: tuple[int, ...] = (1,)) -> np.ndarray:
    """[count, len(figs)]: the values :func:`_draw` gives, figure after figure, in replications
    first .. first+count-1, each from its own ``SeedSequence(seed, spawn_key=(i, 1))`` stream.

    The same numbers, computed in bulk: numpy's triangular draw (``random_triangular`` of numpy's
    ``distributions.c``) takes one ``next_double`` of the stream per figure with a range (a figure
    without one takes nothing) and inverts the triangular CDF; here each replication takes its
    uniforms in one ``Generator.random`` call (the same ``next_double``s, in the same order) and
    the inversion runs once on the whole [count, figures] array, in the same float64 operations.
    ``key``: the stream's spawn key after the replication index."""
    src = [f.calibrated if calibrated and f.calibrated is not None else f for f in figs]
    lo = np.array([float(f.low) for f in src], dtype=float)
    hi = np.array([float(f.high) for f in src], dtype=float)
    mode = np.array([float(f.value) for f in src], dtype=float)
    live = hi > lo
    out = np.broadcast_to(mode, (count, len(figs))).copy()
    if not live.any():
        return out
    if np.any(live & ((mode < lo) | (mode > hi))):
        # numpy refuses such a range: draw one by one so that its error is the one raised
        for j in range(count):
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(first + j, *key))))
            out[j] = [_draw(rng, f, calibrated) for f in figs]
        return out
    nl = int(live.sum())
    u = pcg64_uniforms(seed, [(first + j, *key) for j in range(count)], nl)
    if u is None:
        u = np.empty((count, nl), dtype=float)
        for j in range(count):
            u[j] = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(first + j, *key)))).random(nl)
    left, md, right = lo[live], mode[live], hi[live]
    base = right - left
    leftbase = md - left
    ratio = leftbase / base
    leftprod = leftbase * base
    rightprod = (right - md) * base
    with np.errstate(invalid="ignore"):
        out[:, live] = np.where(u <= ratio, left + np.sqrt(u * leftprod), right - np.sqrt((1.0 - u) * rightprod))
    return out


def sampled(world, seed: int, first: int, count: int,
            fixed: dict[tuple[str, str], np.ndarray] | None = None) -> Parameters:
    """Replications first .. first+count-1 with disputed figures drawn from their ranges.

    ``fixed`` maps (system, figure key) to [count] values to use instead of drawing (the
    sensitivity analysis sets figures this way). With ``simulation.uncertainty: sample-calibrated``
    a figure with a calibrated range (``catalog/calibrated.yaml``) is drawn from that range, the
    others from their catalog ranges."""
    p = nominal(world, count)
    calibrated = getattr(world.scenario.simulation, "uncertainty", "sample") == "sample-calibrated"
    figs = {(u.system, u.key): u.figure for u in world.figures
            if u.key in SAMPLED_FIGURES and u.key not in JAMMING_FIGURES}
    keys = sorted(figs)
    draws = _triangular_draws(seed, first, count, [figs[k] for k in keys], calibrated)
    draws = {k: draws[:, i].copy() for i, k in enumerate(keys)}
    jam = {(u.system, u.key): u.figure for u in world.figures if u.key in JAMMING_FIGURES}
    if jam:
        jkeys = sorted(jam)
        jd = _triangular_draws(seed, first, count, [jam[k] for k in jkeys], calibrated, JAMMING_SPAWN)
        draws.update({k: jd[:, i].copy() for i, k in enumerate(jkeys)})
    for k, v in (fixed or {}).items():
        if k not in draws:
            raise KeyError(f"{k[0]}.{k[1]} is not a figure this run uses")
        draws[k] = np.asarray(v, dtype=float).reshape(count)
    apply(world, p, draws)
    p.draws = draws
    return p


def apply(world, p: Parameters, draws: dict[tuple[str, str], np.ndarray]) -> None:
    """Write drawn figure values into the parameter arrays (in place)."""
    dt = world.dt
    scen = world.scenario
    for ei, sysname in enumerate(world.effector_system):
        eff = scen.effectors[ei]

        def val(key: str):
            return draws.get((sysname, key))

        for key, attr, scale in (("engagement_range_min_km", "range_min_m", 1000.0),
                                 ("engagement_range_max_km", "range_max_m", 1000.0),
                                 ("engagement_altitude_min_m", "altitude_min_m", 1.0),
                                 ("engagement_altitude_max_m", "altitude_max_m", 1.0),
                                 ("pk_single_shot", "pk", 1.0),
                                 ("pk_common_cause_beta", "beta", 1.0)):
            v = val(key)
            if v is not None:
                getattr(p, attr)[:, ei] = v * scale
        gun = getattr(world, "effector_gun", None)
        if gun is not None and gun[ei]:
            # a gun's slant range stops at its effective range whatever the engagement range drawn
            p.range_max_m[:, ei] = np.minimum(p.range_max_m[:, ei], world.range_max_m[ei])
        v = val("channels_per_vehicle")
        if v is not None:
            p.channels[:, ei] = np.maximum(np.rint(v), 1).astype(np.int64) * eff.vehicles
            sysm = world.loaded.catalog[sysname]
            if "fcr_channels" in sysm.figures:   # the fire-control radar's channels bind (catalog.firecontrol)
                p.channels[:, ei] = np.minimum(p.channels[:, ei],
                                               fire_channels(sysm, 1e9) * eff.vehicles)
        v = val("ready_missiles_per_vehicle")
        if v is not None and eff.missiles is None:
            p.ready[:, ei] = np.maximum(np.rint(v), 0).astype(np.int64) * eff.vehicles
        v = val("reload_time_s")
        if v is not None:
            p.reload_steps[:, ei] = np.maximum(np.ceil(v / dt - 1e-9), 1).astype(np.int64)
        v = val("reaction_time_s")
        if v is not None and getattr(eff, "reaction_time_s", None) is None:   # the scenario's value is fixed
            p.reaction_steps[:, ei] = np.maximum(np.ceil(v / dt - 1e-9), 0).astype(np.int64)
    # detection: SNR scales as (R_ref^4 / sigma_ref) * ref_snr(Pd_ref, Pfa) and with target RCS
    for si, sysname in enumerate(world.sensor_system):
        nom = {u.key: u.figure.value for u in world.figures if u.system == sysname}
        R = draws.get((sysname, "radar_detection_range_km"))
        s_ref = draws.get((sysname, "radar_reference_rcs_m2"))
        pd_ref = draws.get((sysname, "radar_reference_pd"))
        pfa = draws.get((sysname, "radar_pfa"))
        f = np.ones(p.snr_scale.shape[0])
        if R is not None:
            f *= (R / nom["radar_detection_range_km"]) ** 4
        if s_ref is not None:
            f *= nom["radar_reference_rcs_m2"] / s_ref
        if pd_ref is not None or pfa is not None:
            pd_r = pd_ref if pd_ref is not None else np.full_like(f, nom["radar_reference_pd"])
            pfa_r = pfa if pfa is not None else np.full_like(f, nom["radar_pfa"])
            f *= snr_required(pd_r, pfa_r) / snr_required(nom["radar_reference_pd"], nom["radar_pfa"])
            p.pfa[:, si] = pfa_r
        p.snr_scale[:, si, :] *= f[:, None]
    from iadsim.sensors import sensor_type_of

    cols = [si for si, n in enumerate(world.sensor_system) if sensor_type_of(world.loaded.catalog[n]).name == "radar"]
    for mi, sysname in enumerate(world.threat_type):
        sig = draws.get((sysname, "rcs_m2"))
        if sig is not None:
            nom = next(u.figure.value for u in world.figures if u.system == sysname and u.key == "rcs_m2")
            if len(cols) == len(world.sensor_system):
                p.snr_scale[:, :, mi] *= (sig / nom)[:, None]
            else:   # the RCS scales radar looks only (passive and optical sensors do not see it)
                p.snr_scale[:, cols, mi] *= (sig / nom)[:, None]
    if any(k in JAMMING_FIGURES for _s, k in draws):
        from iadsim.engine.ew import jamming_scale

        p.js_scale = jamming_scale(world, draws, p.pk.shape[0])
