"""Compile a scenario into a World: the arrays the engine steps.

Everything deterministic is computed here once, vectorised over [time, entity]:
threat truth paths (checked against the terrain), per-radar signal-to-clutter-plus-noise ratio
(reference-form radar equation, land clutter, MTI notch, multipath; docs/detection.md) within the
instrumented range and terrain line of sight from the minimum-visible-altitude rasters, and
per-fire-unit engagement feasibility, flyout time and kill probability at the predicted
intercept point. The compiled kernel then only draws chance outcomes and makes decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from iadsim.c2.threat import evaluate as threat_eval
from iadsim.catalog import Figure, System
from iadsim.coverage.los import min_visible_altitude, visible_at
from iadsim.catalog.envelope import is_gun, threat_gun_vulnerability
from iadsim.catalog.models import FIRE_CONTROL_FIGURES
from iadsim.coverage.specs import build_grid, effector_specs, radar_specs
from iadsim.engine.kernel import FLYOUT_PAR_LEN
from iadsim.engine.mixed import GunSide, gun_side, is_gun_missile
from iadsim.engine.trajectory import BELOW_GROUND_TOLERANCE_M, Path3D, first_below_ground, sample_path
from iadsim.errors import InputError, Problem
from iadsim.geo.grid import LocalGrid
from iadsim.geo.sector import ALL_ROUND, in_sector
from iadsim.geo.terrain import Terrain, load_terrain
from iadsim.scenario.loader import LoadedScenario
from iadsim.sensors import Looks, sensor_model_texts, sensor_type_named, threat_signatures
from iadsim.sensors.radar import FULL_RADAR_FIGURES, GROUND_VISIBLE_TOLERANCE_M, radar_sinr  # noqa: F401  (moved there)

DETECTION_MODEL = "swerling1"
FIRE_MODES = {"hold": 0, "tight": 1, "free": 2}

MODELS_USED = {
    "detection": "radar equation in reference-range form (SNR ∝ σ/R⁴; Skolnik 2001 eq. 2.1) "
                 "with a Swerling 1 single-scan detection model (Pd = Pfa^(1/(1+SNR))) on the "
                 "signal-to-clutter-plus-noise ratio; nothing is detected beyond each radar's instrumented "
                 "range; land clutter by the constant-gamma model (σ0 = γ sin ψ; Long 2001, Nathanson 1999, "
                 "Barton 1985) in the target's range cell (represented by the ground under the target, grazing "
                 "angle from the DEM slope, none where that ground is in terrain shadow), pulse- or beam-limited "
                 "cell (Richards 2005), weighted by a Gaussian elevation beam pointed at the target; MTI/Doppler "
                 "filtering with the catalog improvement factor and a notch below the minimum radial speed "
                 "(canceller response, Skolnik 2001 §3.2); two-ray multipath loss below the first lobe with "
                 "surface roughness (Blake 1986, Ament 1953). Leaves out: discrete clutter and clutter "
                 "statistics (mean clutter, Gaussian residue), clutter from other range cells and sidelobes, "
                 "blind speeds, lobing gains above the first lobe, diffraction, weather, jamming; radars "
                 "without clutter figures (e.g. MANPADS visual acquisition) and the clutter class 'none' are "
                 "free-space; the coverage maps show free-space detection within the instrumented range",
    "line_of_sight": "terrain-masked minimum-visible-altitude rasters with 4/3-earth refraction "
                     "(effective earth radius; Doerry 2013, Skolnik 2001 §8.2)",
    "tracking": "fast fidelity: tracks from truth, firm after a latency, dropped after missed scans",
    "threat_evaluation": "urgency = threat value x asset value x closeness of the predicted closest point "
                         "of approach to the asset / time to go, the most threatened asset counting "
                         "(Roux & van Vuuren 2007)",
    "c2": "greedy: most urgent track first (value / time-to-go), the feasible fire unit with the "
          "highest kill probability; shoot-look-shoot or salvo doctrine",
    "flyout": "point-mass missile (boost and sustain burns by the rocket equation, coast; drag with a "
              "constant Cd*A/m in the US Standard Atmosphere 1976; gravity) flown along the straight "
              "line of sight to the predicted intercept point of a constant-velocity target, found by "
              "iterating the flyout time (so receding targets' PIPs move out); the envelope is the "
              "slant-range x altitude limits cut where the missile arrives after its guidance time or "
              "below its minimum useful speed, or the target is faster than the system's maximum; "
              "flyout figures fitted to the public maximum range and mean speed; tabulated per unit. "
              "Long-range systems (public peak speed, no mean-speed fit): fitted to the public peak speed "
              "and maximum range; where a straight path would need implausibly low drag (S-300PMU2, "
              "S-400) the missile flies the faster of the straight line and a lofted path (climb at a "
              "loft elevation to a loft height, then straight to the PIP; the turn between the legs is "
              "instantaneous, loft height and elevation are estimates). "
              "Leaves out: proportional-navigation paths, Mach-dependent drag, induced drag of "
              "manoeuvres, seeker or command-link limits other than the guidance time; systems without "
              "flyout or gun figures fly at a constant mean speed. Gun fire units (gun figures, no flyout "
              "figures): each shot is a burst; the shell flies flat along the slant range with drag "
              "proportional to v^2 (v = v0 exp(-k x), time of flight (exp(k x) - 1) / (k v0); McCoy 1999 "
              "ch. 2), the PIP iterated on the shell's time of flight; envelope = the catalog's cut at "
              "the gun's effective slant range. Leaves out for guns: gravity drop and superelevation, "
              "Mach-dependent drag, air density with height, turret slew limits",
    "kill": "single-shot Pk = the catalog's reference Pk x an engagement factor (missile-to-target speed "
            "ratio at intercept, fraction of the maximum range, aspect from head-on to tail chase, "
            "target manoeuvre against the missile's load limit); a salvo's failures share a common "
            "cause (beta-factor model, Fleming 1975 / NUREG/CR-4780); zero if the target has left the "
            "envelope or line of sight at intercept. Leaves out: warhead and fuze detail, "
            "countermeasures, target-specific vulnerability. Gun fire units: the Pk of a burst of n "
            "rounds (n = rate of fire x burst length) at the PIP's slant range R is "
            "1 - (1 - p_h p_k|h)^n with p_h = 1 - exp(-A / (2 pi sigma^2)), sigma = R x (dispersion and "
            "aiming error in quadrature) (circular normal impacts centred on the target; Przemieniecki "
            "2000 ch. 4, Driels 2014 ch. 8, 12), A the threat's presented area and p_k|h its kill "
            "probability per hit (its own figures, else defaults by RCS class; Ball 2003); it falls "
            "with range. Leaves out for guns: rounds are independent (no aiming error common to a "
            "burst, which would make hits correlated), no fuze or proximity effect, no aspect or "
            "target manoeuvre, no cumulative damage across bursts",
    "random": "counter-based SplitMix64 streams keyed by each replication's SeedSequence child",
}


#: full fidelity: a measurement inside this chi-square gate of an existing track starts no new track
INITIATION_GATE_PROBABILITY = 0.99999


@dataclass
class FullWorld:
    """The extra arrays of full fidelity (noisy measurements, tracker, C2 on track estimates).

    Shapes: T steps, S radars, M threats, E fire units, A assets; grids [ny, nx] as the terrain."""

    meas_r: np.ndarray        # [T, S, M] float32 true range from each radar's antenna [m]
    meas_az: np.ndarray       # [T, S, M] float32 true azimuth, clockwise from grid north [rad]
    meas_el: np.ndarray       # [T, S, M] float32 true elevation above the antenna's horizontal [rad]
    sigma: np.ndarray         # [S, 3] 1-sigma noise of range [m], azimuth [rad], elevation [rad]
    min_el: np.ndarray        # [S] lowest elevation a radar covers [rad]
    elev: np.ndarray          # [ny, nx] float32 terrain [m MSL]
    mva: np.ndarray           # [S, ny, nx] float32 minimum visible altitude rasters [m MSL]
    values: np.ndarray        # [M] threat value (by type)
    vmax: float               # speed bound for new tracks' velocity prior [m/s]
    max_el: np.ndarray = field(default_factory=lambda: np.zeros(0))   # [S] highest elevation covered [rad]
    ref_pd: np.ndarray = field(default_factory=lambda: np.zeros(0))   # [S] detection probability at the
    #                                                                  reference range (JPDA's P_D) [1]

    def kernel_settings(self, world: "World") -> "Settings":
        """The full-fidelity kernel's run-wide scalars (time step, terrain grid, tracker settings)."""
        from scipy.stats import chi2

        from iadsim.engine.records import Settings

        sim = world.scenario.simulation
        gamma = float(chi2.ppf(sim.gate_probability, 3))
        delete_s = sim.delete_after_s if sim.delete_after_s is not None else sim.track_drop_s
        g = world.terrain.grid
        values = self.values
        return Settings(
            dt=float(world.dt), xmin=float(g.xmin), ymax=float(g.ymax), xmax=float(g.xmax), ymin=float(g.ymin),
            res=float(g.res), qn=float(sim.process_noise_m_s2 ** 2), gamma=gamma, basket=float(sim.seeker_basket_m),
            vmax=float(self.vmax),
            gamma_init=max(float(chi2.ppf(INITIATION_GATE_PROBABILITY, 3)), gamma),
            fa_cells=float(sim.false_alarm_cells if sim.false_alarms else 0.0),
            omega=float(np.radians(sim.imm_turn_rate_deg_s)), p_switch=float(sim.imm_switch_probability),
            fa_value=float(values.mean()) if values.size else 1.0,   # value of a track no threat explains
            p_gate=float(sim.gate_probability), cpa_scale=float(sim.cpa_scale_m),
            nsteps=int(world.nsteps), conf_m=int(sim.confirm_m), conf_n=int(sim.confirm_n),
            del_steps=max(int(np.ceil(delete_s / world.dt - 1e-9)), 1),
            use_imm=sim.tracker_filter == "imm", use_jpda=sim.association == "jpda",
            fc_looks=int(sim.fire_control_looks))

    def kernel_inputs(self, world: "World") -> "FullWorldArrays":
        """The run-wide arrays the full-fidelity kernel reads (its scalars: :meth:`kernel_settings`)."""
        from iadsim.engine.records import FullWorldArrays

        S = len(world.sensor_labels)
        fc_of = np.full(S, -1, dtype=np.int64)
        fc_of[np.asarray(world.effector_sensor, dtype=np.int64)] = np.arange(len(world.effector_sensor))
        return FullWorldArrays(
            **world.shared_kernel_fields(),
            values=self.values, pos=world.pos, meas_r=self.meas_r,
            meas_az=self.meas_az, meas_el=self.meas_el, sensor_xyz=world.sensor_xyz, sigma=self.sigma,
            min_el=self.min_el, sens_range=world.sensor_range_m, elev=self.elev, mva=self.mva,
            assets=world.asset_info, eff_xyz=world.effector_xyz, tab_tof=world.tab_tof, tab_spd=world.tab_spd,
            flpar=world.flyout_par, fc_of=fc_of, max_el=self.max_el, ref_pd=self.ref_pd,
            gun_vuln=world.gun_vuln)


@dataclass
class MissionArrays:
    """Per threat member [M]: its carrier (-1: none), role ('threat', 'carrier' or 'weapon'), mission
    kind, and the steps of its marks (-1: none): station entry and exit (ISR), weapon release (strike)."""

    parent: np.ndarray
    role: list[str]
    kind: list[str]
    station_start_step: np.ndarray
    station_end_step: np.ndarray
    release_step: np.ndarray

    @classmethod
    def none(cls, m: int) -> "MissionArrays":
        return cls(parent=np.full(m, -1, np.int64), role=["threat"] * m, kind=["transit"] * m,
                   station_start_step=np.full(m, -1, np.int64), station_end_step=np.full(m, -1, np.int64),
                   release_step=np.full(m, -1, np.int64))


@dataclass
class FigureUse:
    system: str
    key: str
    figure: Figure
    used_by: str


@dataclass
class World:
    """The compiled scenario. Shapes: T steps, M threat members, S radars, E fire units."""

    loaded: LoadedScenario
    grid: LocalGrid
    terrain: Terrain
    dt: float
    nsteps: int
    # threats
    threat_labels: list[str]
    threat_group: np.ndarray        # [M] index into scenario.threats
    threat_type: list[str]
    pos: np.ndarray                 # [T, M, 3] x, y, altitude MSL [m]; NaN when not flying
    vel: np.ndarray                 # [T, M, 3] [m/s]
    first_step: np.ndarray          # [M]
    end_step: np.ndarray            # [M]
    target: np.ndarray              # [M] asset index or -1
    priority: np.ndarray            # [T, M] urgency score [1/s]
    route_lonlat: list[np.ndarray]  # per scenario threat: [n, 3] lon, lat, alt MSL of its planned path
    # radars
    sensor_labels: list[str]
    sensor_xyz: np.ndarray          # [S, 3] antenna x, y, altitude MSL [m]
    sensor_system: list[str]        # [S] catalog name of each radar's system
    sensor_ref_range_m: np.ndarray  # [S] quoted detection range of the reference RCS [m]
    sensor_range_m: np.ndarray      # [S] instrumented range: nothing detected beyond, rasters stop here [m]
    mva: list[np.ndarray]           # S rasters of minimum visible altitude [m MSL]
    scan: np.ndarray                # [T, S] bool
    snr: np.ndarray                 # [T, S, M] float32 nominal signal-to-clutter-plus-noise ratio; 0: not in sight
    pfa: np.ndarray                 # [S] false-alarm probability
    # fire units
    effector_labels: list[str]
    effector_system: list[str]
    effector_xyz: np.ndarray        # [E, 3] site x, y, ground MSL [m]
    effector_sensor: np.ndarray     # [E] index of its own radar
    effector_gun: np.ndarray        # [E] bool: a gun fire unit (each shot a burst; iadsim.catalog.envelope.is_gun)
    gun_vuln: np.ndarray            # [M, 2] each threat's presented area [m2] and kill probability per
    #                                 gun hit [1] (read by gun units only)
    tof: np.ndarray                 # [T, M, E] int32 flyout time to the PIP [steps]
    pip_ok: np.ndarray              # [T, M, E] PIP exists and is inside the flyout envelope (converged,
    #                                 within the guidance time, end speed above the minimum, target
    #                                 not faster than the system's maximum), target in sight now,
    #                                 intercept within the run
    pip_r: np.ndarray               # [T, M, E] float32 slant range of the PIP from the site [m]
    pip_agl: np.ndarray             # [T, M, E] PIP height above the ground below it [m]
    pip_above: np.ndarray           # [T, M, E] PIP height above the fire unit's site [m]
    act_ok: np.ndarray              # [T, M, E] the target is flying and in sight at intercept time
    act_r: np.ndarray               # [T, M, E] the same three coordinates of the target at intercept
    act_agl: np.ndarray
    act_above: np.ndarray
    pk_geo: np.ndarray              # [T, M, E] float32 engagement factor of the single-shot Pk at the PIP
    #                                 (iadsim.physics.pk; 0 where the PIP is not feasible)
    flyout_par: np.ndarray          # [E, FLYOUT_PAR_LEN] flyout and Pk-model parameters (columns FP_*)
    tab_tof: np.ndarray             # [E, NR, NH] flyout tables: time of flight [s] over ground range x
    tab_spd: np.ndarray             # [E, NR, NH] height above the site, and end speed [m/s]
    range_min_m: np.ndarray         # [E] nominal engagement envelope and single-shot Pk
    range_max_m: np.ndarray
    altitude_min_m: np.ndarray
    altitude_max_m: np.ndarray
    pk: np.ndarray
    beta: np.ndarray                # [E] beta factor of a salvo's common-cause failure
    channels: np.ndarray
    ready: np.ndarray
    reloads: np.ndarray
    reload_steps: np.ndarray
    reaction_steps: np.ndarray
    salvo: np.ndarray
    max_eng: np.ndarray
    assess_steps: np.ndarray
    min_interval_steps: np.ndarray
    fire_mode: np.ndarray
    latency_steps: int
    drop_steps: int
    asset_info: np.ndarray          # [A, 4] x, y [m], radius [m], value
    threat_peak: dict               # per threat [M] at its most urgent step (the argmax of priority):
    #                                 step, asset (index), cpa_m, time_to_cpa_s
    figures: list[FigureUse] = field(default_factory=list)
    missions: MissionArrays | None = None
    models: dict[str, str] = field(default_factory=lambda: dict(MODELS_USED))
    full: FullWorld | None = None   # fidelity 'full' only
    ew: "EW | None" = None          # jammers and decoys (iadsim.engine.ew); None: neither
    scoot: "Scoot | None" = None    # relocating fire units' site copies (iadsim.engine.scoot); None: none
    react: "ReactArrays | None" = None   # reacting threats' branches (iadsim.engine.react); None: none
    #: the guns of gun-missile fire units (iadsim.engine.mixed); None: no such unit
    second_weapon: "GunSide | None" = None
    sites: "SiteAttacks | None" = None   # weapons aimed at fire units and radars (iadsim.engine.sites); None: none

    def ew_inputs(self) -> tuple:
        """The kernels' jamming and decoy arrays (empty when the scenario has neither)."""
        from iadsim.engine.ew import EW

        return (self.ew or EW()).kernel_inputs(self.pos.shape[1])

    def react_inputs(self) -> tuple:
        """The kernels' reaction arrays (nothing read when no threat reacts)."""
        from iadsim.engine.react import inactive_inputs

        if self.react is None:
            return inactive_inputs(self.pos.shape[1], len(self.sensor_labels))
        return self.react.kernel_inputs()

    @property
    def scenario(self):
        return self.loaded.scenario

    @property
    def asset_xy(self) -> np.ndarray:
        """[A, 2] local x, y of the defended assets [m]."""
        return self.asset_info[:, :2]

    @property
    def parent(self) -> np.ndarray:
        """[M] the carrier of each threat member that is a released weapon (-1: none)."""
        if self.missions is None:
            return np.full(self.pos.shape[1], -1, np.int64)
        return self.missions.parent

    @property
    def n_threats(self) -> int:
        return self.pos.shape[1]

    def kernel_inputs(self) -> "WorldArrays":
        """The run-wide arrays the fast kernel reads (per-replication parameters come separately)."""
        from iadsim.engine.records import WorldArrays

        return WorldArrays(
            **self.shared_kernel_fields(),
            nsteps=self.nsteps, priority=self.priority, tof=self.tof,
            pip_ok=self.pip_ok, pip_r=self.pip_r, pip_agl=self.pip_agl, pip_above=self.pip_above,
            act_ok=self.act_ok, act_r=self.act_r, act_agl=self.act_agl, act_above=self.act_above,
            pk_geo=self.pk_geo, latency_steps=self.latency_steps, drop_steps=self.drop_steps)

    def shared_kernel_fields(self) -> dict:
        """The run-wide arrays both kernels' world records hold under the same names (threats'
        steps and links, radar scans and SNR, fire units' magazines and doctrine)."""
        return dict(first_step=self.first_step, end_step=self.end_step, parent=self.parent, target=self.target,
                    scan=self.scan, snr=self.snr, reloads0=self.reloads, salvo=self.salvo, max_eng=self.max_eng,
                    assess_steps=self.assess_steps, min_interval_steps=self.min_interval_steps,
                    fire_mode=self.fire_mode)


class _FigureLog:
    def __init__(self) -> None:
        self.uses: dict[tuple[str, str], FigureUse] = {}

    def get(self, system: System, key: str, used_by: str) -> float:
        fig = system.figure(key)
        self.uses.setdefault((system.name, key), FigureUse(system.name, key, fig, used_by))
        return fig.value


def _check_below_ground(ld, i: int, thr, sysm: System, sortie, grid: LocalGrid, terrain: Terrain) -> None:
    """An altitude below the terrain on a threat's planned path is an InputError naming the field that
    set it, unless the threat sets ``clamp: ground``."""
    if thr.clamp == "ground":
        return
    where = f"threats[{i}]"
    agl = thr.altitude_ref == "agl"
    alt_default = thr.altitude_m if thr.altitude_m is not None else sysm.figure("typical_altitude_m").value
    if thr.route:
        x, y = grid.to_local([w.lat for w in thr.route], [w.lon for w in thr.route])
        ground = np.atleast_1d(terrain.height_at(np.atleast_1d(x), np.atleast_1d(y)))
        problems = []
        for j, (w, g) in enumerate(zip(thr.route, ground)):
            a = w.altitude_m if w.altitude_m is not None else alt_default
            height = a if agl else a - g
            if height < -BELOW_GROUND_TOLERANCE_M:
                if w.altitude_m is not None:
                    field_, what = f"{where}.route[{j}].altitude_m", f"altitude {a:g} m"
                elif thr.altitude_m is not None:
                    field_, what = f"{where}.altitude_m", f"the threat's altitude {a:g} m (route[{j}] has none)"
                else:
                    field_ = f"{where}.route[{j}].altitude_m"
                    what = f"no altitude given, and the catalog's typical altitude of {sysm.name!r}, {a:g} m,"
                problems.append(Problem(ld.source, field_,
                                        f"{what} {thr.altitude_ref.upper()} is below the terrain at "
                                        f"route[{j}] ({w.lat:.4f}, {w.lon:.4f}), where the ground is at {g:.0f} m MSL; "
                                        "give an altitude at least the ground height (or altitude_ref: agl), "
                                        "or set clamp: ground to fly at ground level there"))
        if problems:
            raise InputError(problems)
    hit = first_below_ground(sortie.path, terrain)
    if hit is None:
        return
    from iadsim.missions.registry import is_carrier

    k, hx, hy, ha, hg = hit
    lon_h, lat_h = grid.to_lonlat(hx, hy)
    n_route = len(thr.route)
    marks = sortie.marks
    if k < n_route - 1:
        what = f"the leg from route[{k}] to route[{k + 1}]"
        if thr.route[k + 1].altitude_m is not None or (thr.route[k].altitude_m is None and thr.altitude_m is None):
            field_ = f"{where}.route[{k + 1}].altitude_m"
        elif thr.route[k].altitude_m is not None:
            field_ = f"{where}.route[{k}].altitude_m"
        else:
            field_ = f"{where}.altitude_m"
    elif "station_end" in marks and k < marks["station_end"]:
        field_, what = f"{where}.mission.station", "the transit to and the time on station"
    elif "release" in marks and k < marks["release"]:
        field_, what = f"{where}.mission.weapon", "the approach to the release point"
    elif is_carrier(sortie.kind):   # a kind that returns home (iadsim.missions.registry): its egress
        field_, what = f"{where}.mission.egress", "the egress"
    elif thr.orbit is not None and thr.target is None:
        field_, what = f"{where}.orbit", "the orbit"
    else:
        field_, what = f"{where}.target", f"the approach and terminal dive to asset {thr.target!r}"
    raise InputError([Problem(ld.source, field_,
                              f"{what} passes below the terrain at ({float(lat_h):.4f}, {float(lon_h):.4f}): "
                              f"altitude {ha:.0f} m MSL, ground {hg:.0f} m MSL; raise the altitudes there "
                              "(or use altitude_ref: agl), or set clamp: ground to fly at ground level "
                              "where the path meets the terrain")])


def compile_world(ld: LoadedScenario, progress=None, _base=None) -> World:
    """Compile a loaded scenario into a World (terrain, paths, coverage, feasibility). ``_base``: the
    (grid, terrain) to compile on (the relocation sites' copies, iadsim.engine.scoot)."""
    s = ld.scenario
    cat = ld.catalog
    log = _FigureLog()
    step = progress or (lambda msg: None)
    from iadsim.engine.defstate import check_fidelity

    check_fidelity(ld)   # defence-state features a fidelity cannot run (none at present)

    step("terrain")
    grid = build_grid(ld) if _base is None else _base[0]
    terrain = load_terrain(ld.dem_path, grid, source=ld.source,
                           rasters=len(s.effectors) + len(s.sensors) + sum(
                               len(e.relocate.sites) for e in s.effectors if e.relocate is not None)
                           ) if _base is None else _base[1]  # one LOS raster per radar (and relocation site)
    dt = s.simulation.dt_s
    nsteps = int(np.ceil(s.simulation.duration_s / dt))
    k_ref = s.terrain.refraction_k

    ax, ay = grid.to_local([a.lat for a in s.assets], [a.lon for a in s.assets])
    asset_xy = np.column_stack([np.atleast_1d(ax), np.atleast_1d(ay)]) if s.assets else np.zeros((0, 2))
    asset_info = np.column_stack([asset_xy, [a.radius_m for a in s.assets], [a.value for a in s.assets]]) \
        if s.assets else np.zeros((0, 4))

    # --- threats: each entry's sortie (its mission plans the path), its salvo members, and the
    #     weapons a strike releases (new members, each with its carrier as parent)
    step("threat paths")
    from iadsim.missions import MissionContext, plan_sortie  # (missions plan paths; they import the engine's)
    from iadsim.missions.registry import is_carrier

    labels, group, types, targets, values, rcs = [], [], [], [], [], []
    P, V, F, Eend, routes = [], [], [], [], []
    parent, role, kinds, st_start, st_end, rel_step = [], [], [], [], [], []
    branch_info: dict[int, tuple] = {}   # branch member -> (root, kind, keeps mission, abandons it)
    asset_names = [a.name for a in s.assets]
    # the sites threats may attack: this scenario's radars (radar_specs' order), or, for the copies of
    # relocating units (iadsim.engine.scoot), the main scenario's, so that threats fly the same paths
    site_units = list(s.effectors) + list(s.sensors) if _base is None or len(_base) < 3 else _base[2]
    site_names = [u.name for u in site_units]
    sx, sy = grid.to_local([u.site.lat for u in site_units], [u.site.lon for u in site_units])
    site_xy = np.column_stack([np.atleast_1d(sx), np.atleast_1d(sy)]) if site_names else np.zeros((0, 2))
    ctx = MissionContext(to_local=grid.to_local, ground_at=lambda x, y: float(terrain.height_at(x, y)),
                         asset_names=asset_names, asset_xy=asset_xy,
                         figure=lambda sysm, key, used_by: log.get(sysm, key, used_by), system_of=lambda n: cat[n],
                         site_names=site_names, site_xy=site_xy)
    site_m, site_pk = [], []   # per member: the site it attacks (-1: none), the scenario's p_kill_site
    steps_at = lambda sec: min(int(np.ceil(sec / dt - 1e-9)), nsteps)  # noqa: E731

    def member(pos, vel, first, end, label, gi, typ, tgt, val, sig, par, rl, kind, marks):
        P.append(pos)
        V.append(vel)
        F.append(first)
        Eend.append(end)
        labels.append(label)
        group.append(gi)
        types.append(typ)
        targets.append(tgt)
        values.append(val)
        rcs.append(sig)
        parent.append(par)
        role.append(rl)
        kinds.append(kind)
        st_start.append(marks.get("station_start", -1))
        st_end.append(marks.get("station_end", -1))
        rel_step.append(marks.get("release", -1))

    for i, thr in enumerate(s.threats):
        sysm = cat[thr.type]
        sortie = plan_sortie(thr, ctx)
        path = sortie.path
        _check_below_ground(ld, i, thr, sysm, sortie, grid, terrain)
        lon, lat = grid.to_lonlat(path.xy[:, 0], path.xy[:, 1])
        ground = terrain.height_at(path.xy[:, 0], path.xy[:, 1])
        routes.append(np.column_stack([lon, lat, np.where(path.agl, ground + path.alt, path.alt)]))
        val = log.get(sysm, "value", "threat evaluation")
        sig = log.get(sysm, "rcs_m2", "detection")
        if thr.decoy is not None and thr.decoy.rcs_m2 is not None:   # the signature a decoy presents
            sig = float(thr.decoy.rcs_m2)
        node_t = sortie.node_times_s()
        rl = "carrier" if is_carrier(sortie.kind) else "threat"   # a kind that returns from its sortie
        if thr.decoy is not None:
            rl = "decoy"
        for k in range(thr.count):
            t0 = thr.launch_time_s + k * thr.spacing_s
            pos, vel, first, end = sample_path(path, terrain, t0, dt, nsteps)
            label = thr.name if thr.count == 1 else f"{thr.name}[{k}]"
            marks = {name: steps_at(t0 + node_t[node]) for name, node in sortie.marks.items()}
            carrier = len(P)
            member(pos, vel, first, end, label, i, sysm.name, sortie.target, val, sig, -1, rl, sortie.kind, marks)
            site_m.append(sortie.site)
            site_pk.append(thr.p_kill_site)
            rel = sortie.release
            if rel is not None:
                wsys = cat[rel.weapon_type]
                wval = log.get(wsys, "value", "threat evaluation")
                wsig = log.get(wsys, "rcs_m2", "detection")
                # a guided weapon flies over the terrain between its release point and the target
                wpath = Path3D(np.array([rel.release_xy, rel.target_xyz[:2]]),
                               np.array([rel.release_alt_msl, rel.target_xyz[2]]), np.array([False, False]),
                               np.array([rel.speed_m_s]), clamp=True)
                t_rel = t0 + node_t[sortie.marks["release"]]
                for j in range(rel.count):
                    wpos, wvel, wfirst, wend = sample_path(wpath, terrain, t_rel + j * rel.interval_s, dt, nsteps)
                    member(wpos, wvel, wfirst, wend, f"{label}.{wsys.name}[{j}]", i, wsys.name, rel.target,
                           wval, wsig, carrier, "weapon", "weapon", {})
                    site_m.append(rel.site)
                    site_pk.append(thr.mission.weapon.p_kill_site)
            if thr.reaction is not None or (thr.mission is not None and thr.mission.abort_if is not None):
                # reaction and abort paths from branch points along the sortie (iadsim.engine.react)
                from iadsim.engine.react_world import add_branches

                def branch(bpos, bvel, bfirst, bend, blabel, _root, keeps):
                    member(bpos, bvel, bfirst, bend, blabel, i, sysm.name, sortie.target if keeps else -1, val,
                           sig, -1, "branch", sortie.kind, {})
                    site_m.append(sortie.site if keeps else -1)
                    site_pk.append(thr.p_kill_site)
                    return len(P) - 1

                add_branches(ld, i, thr, sortie, terrain, t0, dt, nsteps, carrier, label, first, end, branch,
                             branch_info)
    pos = np.stack(P, axis=1)
    vel = np.stack(V, axis=1)
    M = pos.shape[1]
    missions = MissionArrays(parent=np.array(parent, dtype=np.int64), role=role, kind=kinds,
                             station_start_step=np.array(st_start, dtype=np.int64),
                             station_end_step=np.array(st_end, dtype=np.int64),
                             release_step=np.array(rel_step, dtype=np.int64))
    first_step = np.array(F, dtype=np.int64)
    end_step = np.array(Eend, dtype=np.int64)
    target = np.array(targets, dtype=np.int64)
    values = np.array(values)
    rcs = np.array(rcs)
    flying = np.isfinite(pos[..., 0])

    # --- radars: each fire unit's organic radar, then stand-alone sensors
    step("radar coverage")
    radars = radar_specs(ld, grid, terrain, figure=log.get)
    S = len(radars)
    sensor_xyz = np.array([(r.x, r.y, r.z) for r in radars]).reshape(S, 3)
    sensor_range = np.array([r.range_bound_m for r in radars])
    sensor_ref = np.array([r.ref_range_m for r in radars])
    mvas = []
    scan = np.zeros((nsteps, S), dtype=bool)
    snr = np.zeros((nsteps, S, M), dtype=np.float32)
    pfa = np.array([r.pfa for r in radars], dtype=np.float64)
    tgrid = np.arange(nsteps) * dt
    slope = terrain_slope(terrain)
    emitters = threat_signatures(ld, radars, group, missions.parent, types, log)
    for si, r in enumerate(radars):
        # nothing is detected beyond the instrumented range: the raster stops there
        mva = min_visible_altitude(terrain, r.x, r.y, r.z, k=k_ref, max_range_m=r.range_bound_m,
                                   method=s.terrain.line_of_sight)
        mvas.append(mva)
        # scans: one look per period; a period shorter than dt gives a look every step
        period = r.scan_period_s
        phase = (si * 0.37 * period) % period
        scan[:, si] = np.floor((tgrid + dt - phase) / period) > np.floor((tgrid - phase) / period)
        rel = pos - np.array([r.x, r.y, r.z])
        rng = np.sqrt(np.nansum(rel**2, axis=-1))
        vis = visible_at(mva, terrain, pos[..., 0], pos[..., 1], pos[..., 2]) & flying & (rng <= r.range_bound_m)
        if r.max_elevation_deg is not None:
            ground_rng = np.hypot(rel[..., 0], rel[..., 1])
            with np.errstate(invalid="ignore"):
                vis &= np.degrees(np.arctan2(rel[..., 2], np.maximum(ground_rng, 1e-9))) <= r.max_elevation_deg
        if r.sector != ALL_ROUND:   # nothing is detected outside the radar's sector
            vis &= in_sector(rel[..., 0], rel[..., 1], rel[..., 2], r.sector)
        q = np.zeros((nsteps, M))
        ok = vis & (rng > 0)
        if ok.any():   # the sensor type's detection model (iadsim.sensors): its equivalent SNR
            each = lambda a: np.broadcast_to(a, rng.shape)[ok]  # noqa: E731
            q[ok] = sensor_type_named(r.sensor_type).snr(r, Looks(
                pos=pos[ok], vel=vel[ok], rcs_m2=each(rcs), emitter_erp_w=each(emitters.erp_w),
                size_m=each(emitters.size_m), terrain=terrain, mva=mva, clutter=s.terrain.clutter, slope=slope))
        snr[:, si, :] = q

    # --- electronic warfare: noise jammers carried by threats, decoys (iadsim.engine.ew)
    from iadsim.engine.ew import compile_ew

    ew = compile_ew(ld, radars, mvas, terrain, pos, rcs, np.array(group), missions.parent, k_ref, log)
    from iadsim.engine.sites import compile_sites

    sites = compile_sites(s, cat, site_m, types, site_pk, dt, S, log)

    # --- fire units: the predicted intercept point (PIP) from each unit's flyout table, the target's
    #     position at intercept, and the engagement factor of the kill probability
    step("engagement envelopes")
    E = len(s.effectors)
    geo = {k: np.zeros((nsteps, M, E), dtype=np.float32) for k in
           ("pip_r", "pip_agl", "pip_above", "act_r", "act_agl", "act_above")}
    pip_ok = np.zeros((nsteps, M, E), dtype=bool)
    act_ok = np.zeros((nsteps, M, E), dtype=bool)
    pk_geo = np.zeros((nsteps, M, E), dtype=np.float32)
    tof = np.ones((nsteps, M, E), dtype=np.int32)
    ints = {k: np.zeros(E, dtype=np.int64) for k in
            ("channels", "ready", "reloads", "reload_steps", "reaction_steps", "salvo", "max_eng",
             "assess_steps", "min_interval_steps", "fire_mode")}
    env = {k: np.zeros(E) for k in ("range_min_m", "range_max_m", "altitude_min_m", "altitude_max_m", "pk",
                                    "beta")}
    effs = effector_specs(ld, radars, figure=log.get)
    eff_xyz = np.array([(f.x, f.y, f.ground) for f in effs]).reshape(E, 3)
    steps_of = lambda sec: int(np.ceil(sec / dt - 1e-9))  # noqa: E731
    tables = []
    fl = np.zeros((E, FLYOUT_PAR_LEN))
    speed_t = np.linalg.norm(np.nan_to_num(vel), axis=-1)            # [T, M] target speed [m/s]
    accel_g = np.array([float(log.get(cat[t], "manoeuvre_g", "kill")) if "manoeuvre_g" in cat[t].figures
                        else 0.0 for t in types])                   # [M] target manoeuvre [g]
    guns = np.array([is_gun(cat[eff.system]) for eff in s.effectors], dtype=bool)
    gun_vuln = np.zeros((M, 2))
    mixed = any(is_gun_missile(cat[eff.system]) for eff in s.effectors)
    fcrs = []
    if guns.any() or mixed:
        # each threat's vulnerability to gun rounds: presented area and kill probability per hit
        for mi, t in enumerate(types):
            figs = threat_gun_vulnerability(cat[t])
            for j, key in enumerate(("gun_presented_area_m2", "gun_kill_given_hit")):
                log.uses.setdefault((cat[t].name, key), FigureUse(cat[t].name, key, figs[j], "kill"))
                gun_vuln[mi, j] = figs[j].value
    # each fire unit's weapon type (iadsim.effectors) compiles its engagement tables
    from iadsim.effectors import EngagementContext, effector_for

    ectx = EngagementContext(ld=ld, terrain=terrain, mvas=mvas, pos=pos, vel=vel, flying=flying, speed_t=speed_t,
                             accel_g=accel_g, gun_vuln=gun_vuln, dt=dt, nsteps=nsteps, log=log)
    for ei, (eff, spec) in enumerate(zip(s.effectors, effs)):
        u = effector_for(cat[eff.system]).compile(ectx, eff, spec)
        fcrs.append(u.fcr)
        tables.append(u.table)
        fl[ei] = u.par
        for k, v in u.env.items():
            env[k][ei] = v
        for k, v in u.ints.items():
            ints[k][ei] = v
        for k, v in u.geo.items():
            geo[k][:, :, ei] = v
        pip_ok[:, :, ei] = u.pip_ok
        act_ok[:, :, ei] = u.act_ok
        tof[:, :, ei] = u.tof
        pk_geo[:, :, ei] = u.pk_geo

    # --- the guns of gun-missile units, their second weapon (iadsim.engine.mixed)
    gside = gun_side([cat[eff.system] for eff in s.effectors], effs, [eff.vehicles for eff in s.effectors], fcrs,
                     pos, vel, mvas, terrain, dt, gun_vuln, log.get) if mixed else None

    # --- threat evaluation: urgency from the closest point of approach to each asset, the time to
    #     it and the values of threat and asset (iadsim.c2.threat)
    step("threat evaluation")
    te = threat_eval(pos, vel, values, asset_info, s.simulation.cpa_scale_m, dt)
    priority = te["urgency"]
    peak = np.argmax(priority, axis=0) if M else np.zeros(0, np.int64)
    cols = np.arange(M)
    threat_peak = {"step": peak, "asset": te["asset"][peak, cols],
                   "cpa_m": te["cpa_m"][peak, cols], "time_to_cpa_s": te["time_to_cpa_s"][peak, cols]}
    del te

    full = None
    if s.simulation.fidelity == "full":
        step("measurement geometry")
        full = _full_world(ld, radars, mvas, terrain, pos, vel, values, log)
        if s.simulation.false_alarms:
            # with sampled uncertainty a replication may draw up to the figure's high value
            pfa_top = (np.array([cat[r.system].figure("radar_pfa").high if r.sensor_type == "radar" else r.pfa
                                 for r in radars])
                       if s.simulation.uncertainty in ("sample", "sample-calibrated") else pfa)
            rate = pfa_top * s.simulation.false_alarm_cells
            worst = int(np.argmax(rate))
            if rate[worst] > MAX_FALSE_ALARMS_PER_SCAN:
                raise InputError([Problem(ld.source, "simulation.false_alarm_cells",
                                          f"radar {radars[worst].name!r} would make {rate[worst]:.3g} false "
                                          f"alarms per scan (radar_pfa {pfa_top[worst]:.3g} x "
                                          f"{s.simulation.false_alarm_cells:.3g} cells); at most "
                                          f"{MAX_FALSE_ALARMS_PER_SCAN:g} are supported: lower "
                                          "false_alarm_cells")])

    lat_steps = steps_of(s.simulation.track_latency_s)
    drop_steps = max(steps_of(s.simulation.track_drop_s), 1)
    sensor_labels = [r.name for r in radars]
    world = World(
        loaded=ld, grid=grid, terrain=terrain, dt=dt, nsteps=nsteps,
        threat_labels=labels, threat_group=np.array(group), threat_type=types,
        pos=pos, vel=vel, first_step=first_step, end_step=end_step, target=target,
        priority=priority, route_lonlat=routes,
        sensor_labels=sensor_labels, sensor_system=[r.system for r in radars],
        sensor_ref_range_m=sensor_ref, sensor_xyz=sensor_xyz, sensor_range_m=sensor_range, mva=mvas,
        scan=scan, snr=snr, pfa=pfa,
        effector_labels=[e.name for e in s.effectors], effector_system=[cat[e.system].name for e in s.effectors],
        effector_xyz=eff_xyz, effector_sensor=np.array([f.radar for f in effs], dtype=np.int64).reshape(E), tof=tof,
        effector_gun=guns, gun_vuln=gun_vuln, pip_ok=pip_ok, act_ok=act_ok,
        pk_geo=pk_geo, flyout_par=fl,
        tab_tof=np.stack([t.tof_s for t in tables]) if tables else np.zeros((0, 2, 2)),
        tab_spd=np.stack([t.speed_m_s for t in tables]) if tables else np.zeros((0, 2, 2)),
        **geo, **env,
        latency_steps=lat_steps, drop_steps=drop_steps, asset_info=asset_info,
        threat_peak=threat_peak, missions=missions,
        figures=list(log.uses.values()),
        models=_fire_control_model(ld, _terrain_model(_radar_models(_models(s.simulation.policy, s.simulation.fidelity, s.simulation,
                                                    s.terrain.line_of_sight), s, ew), ld)), **ints,
        full=full, ew=ew, second_weapon=gside, sites=sites,
    )
    from iadsim.engine.scoot import compile_scoot, uses_relocation

    if _base is None and uses_relocation(s):
        step("relocation sites")
        world.scoot = compile_scoot(ld, world)

    if branch_info:   # threats that react (iadsim.engine.react)
        from iadsim.engine.react import REACTION_MODEL
        from iadsim.engine.react_world import react_arrays

        world.react = react_arrays(world, branch_info)
        world.models["reactions"] = REACTION_MODEL
    from iadsim.engine.sites import model_text as _sites_text

    world.models.update(_sites_text(world))   # what the attrition model leaves out (only when in use)
    from iadsim.effectors.base import effector_models

    world.models.update(effector_models(ld))   # weapon types that state their own assumptions
    world.models.update(sensor_model_texts(radars, emitters))   # each non-radar sensor type's model (only when in use)
    from iadsim.missions.registry import mission_model_texts

    world.models.update(mission_model_texts(s))   # mission kinds that state their own assumptions (when in use)
    from iadsim.plugins import plugins_model_text

    if plugins_model_text(getattr(ld, "plugins", None)):   # code from outside iadsim (only when in use)
        world.models["plugins"] = plugins_model_text(ld.plugins)
    return world


def terrain_slope(terrain: Terrain) -> tuple[np.ndarray, np.ndarray]:
    """Terrain gradient (dz/dx, dz/dy) [m/m] per cell (central differences; y grows northward)."""
    e = terrain.elevation_m.astype(np.float64)
    res = float(terrain.grid.res)
    dz_drow, dz_dx = np.gradient(e, res)
    return dz_dx, -dz_drow  # rows run north to south




#: false alarms of a radar without a quoted elevation limit fall below this elevation [deg]
#: (an iadsim estimate: search radars of the catalog's systems cover up to 60-85 degrees)
FALSE_ALARM_MAX_ELEVATION_DEG = 60.0
#: at most this many false alarms are expected per radar scan (the kernel draws at most 64)
MAX_FALSE_ALARMS_PER_SCAN = 16.0

def _full_world(ld, radars, mvas, terrain, pos, vel, values, log) -> FullWorld:
    """True radar coordinates of every threat from every radar, and the rasters the tracker and C2
    look up at estimated positions."""
    cat = ld.catalog
    problems = []
    for r in radars:
        sysm = cat[r.system]
        for key in sensor_type_named(r.sensor_type).full_figures(sysm):
            if key not in sysm.figures:
                problems.append(Problem(ld.source, f"{r.where}.system",
                                        f"catalog entry {sysm.name!r} has no figure {key!r}, which "
                                        "simulation.fidelity 'full' needs"))
    if problems:
        raise InputError(problems)
    S = len(radars)
    T, M = pos.shape[:2]
    meas = [np.zeros((T, S, M), dtype=np.float32) for _ in range(3)]
    sigma = np.zeros((S, 3))
    min_el = np.zeros(S)
    max_el = np.zeros(S)
    ref_pd = np.zeros(S)
    for si, r in enumerate(radars):
        sysm = cat[r.system]
        max_el[si] = np.radians(r.max_elevation_deg if r.max_elevation_deg is not None
                                else FALSE_ALARM_MAX_ELEVATION_DEG)
        ref_pd[si] = r.ref_pd
        mm = sensor_type_named(r.sensor_type).measurement(r, sysm, log.get)   # the type's measurement model
        sigma[si, 0] = r.range_bound_m / np.sqrt(12.0) if mm.range_sigma_m is None else mm.range_sigma_m
        sigma[si, 1] = mm.azimuth_sigma_rad
        sigma[si, 2] = mm.elevation_sigma_rad
        min_el[si] = mm.min_elevation_rad
        rel = np.nan_to_num(pos - np.array([r.x, r.y, r.z]))
        ground = np.hypot(rel[..., 0], rel[..., 1])
        # a bearing-only sensor measures no range: the tracker gets the bearing at a range guess of
        # half its range bound, with the sigma of a range uniform over it
        meas[0][:, si, :] = (np.sqrt(ground ** 2 + rel[..., 2] ** 2) if mm.range_sigma_m is not None
                             else 0.5 * r.range_bound_m)
        meas[1][:, si, :] = np.arctan2(rel[..., 0], rel[..., 1])
        meas[2][:, si, :] = np.arctan2(rel[..., 2], ground)
    speed = np.linalg.norm(np.nan_to_num(vel), axis=-1)
    return FullWorld(
        meas_r=meas[0], meas_az=meas[1], meas_el=meas[2], sigma=sigma, min_el=min_el,
        elev=np.ascontiguousarray(terrain.elevation_m, dtype=np.float32),
        mva=np.ascontiguousarray(np.stack(mvas), dtype=np.float32),
        values=np.asarray(values, dtype=np.float64),
        vmax=float(max(speed.max() * 1.5, 50.0)), max_el=max_el, ref_pd=ref_pd,
    )


def _fire_control_model(ld, m: dict[str, str]) -> dict[str, str]:
    """The fire-control assumption text, where a fire unit's system has fire-control figures
    (iadsim.catalog.firecontrol), and the gun-missile units' text (iadsim.engine.mixed); otherwise
    the organic radar guides and nothing is added."""
    cat = ld.catalog
    mixed = sorted({cat[e.system].name for e in ld.scenario.effectors if is_gun_missile(cat[e.system])})
    if mixed:
        m = dict(m)
        m["gun_missile_units"] = (
            f"gun-missile fire units ({', '.join(mixed)}): one unit, one radar, two weapons; missiles wherever the "
            "missile can engage, one gun burst where it cannot (inside its minimum range, outside its envelope, or "
            "missiles spent) and the intercept point is inside the guns' envelope (targets closer in are left to "
            "the guns); separate magazines of missiles and bursts, one pool of fire channels; the gun model of "
            "the gun fire units. Leaves out: guns and missiles at one target at once, a doctrine preferring the "
            "guns where the missile could also engage, the guns' minimum range. Full fidelity: the same rule on "
            "track estimates (the shells' intercept with the estimated state from the guns' shell table, the "
            "unit's altitude limits as sampled for its missile); a burst at a false track spends a burst")
    with_fc = sorted({cat[e.system].name for e in ld.scenario.effectors
                      if any(k in cat[e.system].figures for k in FIRE_CONTROL_FIGURES)})
    if not with_fc:
        return m
    m = dict(m)
    m["fire_control"] = (
        f"fire-control radar ({', '.join(with_fc)}): the search picture's track cues a launch, which needs the "
        "target inside the fire unit's own fire-control radar's tracking range and elevation limits (no launch "
        "in the cone of silence above the highest elevation), in the unit's line of sight, both when it fires "
        "and at intercept, and a free fire-control channel (fcr_channels per vehicle binds with "
        "channels_per_vehicle); full fidelity also needs the unit's own radar to hold the track "
        "(simulation.fire_control_looks). Leaves out: the tracking radar's own detection and lock-on time, its "
        "beam-switching and antenna slew, multipath at low elevation, the optical channel's weather and "
        "daylight limits, separate range limits of radar and optical channels; the fire-control figures are "
        "used at their nominal values (not sampled). Systems without fire-control figures: the organic radar "
        "guides (no range or elevation limit beyond the envelope)")
    return m


def _terrain_model(m: dict[str, str], ld) -> dict[str, str]:
    """A DEM built of several tiles says so, and what the mosaic leaves out (a single DEM adds nothing)."""
    tiles = getattr(ld, "dem_tiles", None) or []
    if len(tiles) > 1:
        m["terrain"] = (f"mosaic of {len(tiles)} DEM tiles merged by iadsim on their common pixel grid (no "
                        "reprojection or resampling of tiles; where tiles overlap the first listed wins; "
                        "voids are not filled: a hole in the analysis area is refused)")
    return m


def _radar_models(m: dict[str, str], s, ew=None) -> dict[str, str]:
    """The detection text names the scenario's clutter class; clamped threat paths are stated."""
    if ew is not None and ew.has_jamming:
        from iadsim.engine.ew import JAMMING_MODEL

        m["detection"] = m["detection"].replace("weather, jamming;", "weather;")
        m["jamming"] = JAMMING_MODEL + (("; radars without jamming figures, not jammed: "
                                         + ", ".join(ew.radars_not_jammed)) if ew.radars_not_jammed else "")
    if ew is not None and ew.has_decoys:
        from iadsim.engine.ew import DECOY_MODEL

        m["decoys"] = DECOY_MODEL
    from iadsim.physics.clutter import CLUTTER_CLASSES as _CC

    cls = s.terrain.clutter
    m["detection"] += (f"; clutter class {cls!r} (γ = {_CC[cls]['gamma_db']:g} dB at 10 GHz)" if cls != "none"
                       else "; clutter class 'none': clutter, MTI notch and multipath switched off")
    units = list(s.effectors) + list(s.sensors)
    if any(u.sector is not None for u in units):
        m["sectors"] = ("radars detect nothing outside their azimuth sector and elevation limits, and launchers "
                        "engage no predicted intercept point outside theirs (one sector per fire unit for its radar "
                        "and launchers; azimuth from grid north). Leaves out: rotating or re-pointed sectors during "
                        "the run, sidelobe detection outside the sector, launcher slew time; full fidelity's false "
                        "alarms still fall over the radar's whole coverage")
    if any(u.readiness < 1.0 for u in units):
        m["readiness"] = ("each fire unit and radar is available for the whole run with its readiness "
                          "probability, independently, drawn once per replication; an unavailable unit neither "
                          "detects nor fires (a unit with mtbf_h/mttr_h: its state at the start). Leaves out: "
                          "common-cause outages")
    else:
        m["readiness"] = "every fire unit and radar is available for the whole run (readiness 1)"
    from iadsim.engine.defstate import model_text

    m.update(model_text(s))   # failures, alert states, emission control, C2 modes
    from iadsim.engine.scoot import MODEL_TEXT as _SCOOT, uses_relocation

    if uses_relocation(s):
        m["relocation"] = _SCOOT
    clamped = [t.name for t in s.threats if t.clamp == "ground"]
    if clamped:
        m["threat_paths"] = ("paths of " + ", ".join(repr(n) for n in clamped) + " are raised to ground level "
                             "wherever their altitudes would put them below the terrain (clamp: ground)")
    return m


C2_POLICIES = {
    "urgency": "most urgent track first (threat evaluation: closest point of approach to each asset, time to "
               "go, threat and asset values), given the feasible fire unit with the "
               "highest kill probability (ties: earliest intercept)",
    "greedy": "weapon-target assignment at each decision step by greedy maximum marginal return "
              "(den Broeder et al. 1959) over all free fire units and unengaged tracks",
    "exact": "weapon-target assignment at each decision step solved to optimality (outer approximation, "
             "HiGHS MIP)",
    "vlns": "weapon-target assignment at each decision step by very-large-neighbourhood search "
            "(Ahuja et al. 2007)",
}


FULL_MODELS = {
    "tracking": "full fidelity: radar measurements of range, azimuth and elevation with Gaussian noise, "
                "converted to Cartesian with the linearised converted-measurement covariance "
                "(Bar-Shalom, Li & Kirubarajan 2001, sec. 10.4); a central tracker with a nearly-"
                "constant-velocity Kalman filter (continuous white-noise acceleration, ibid. sec. 6.2.2), "
                "chi-square gating, global nearest neighbour by optimal assignment (Hungarian method), "
                "two-point initiation, M-of-N confirmation and deletion after a time without update",
    "flyout": "the fast fidelity's flyout tables (point-mass boost/sustain/coast missile with drag and "
              "gravity along the line of sight) to the predicted intercept point of the track's "
              "estimated constant-velocity state, iterated on the flyout time; the flyout envelope "
              "(guidance time, minimum end speed, maximum target speed) and slant-range x altitude "
              "limits are checked at that point; the missile reaches the target if it is within the "
              "seeker basket of that point at intercept time",
    "kill": "single-shot Pk = the catalog's reference Pk x the engagement factor (speed ratio, range "
            "fraction, aspect; target manoeuvre not estimated from tracks) at the estimated PIP; a "
            "salvo's failures share a common cause (beta-factor model, Fleming 1975 / NUREG/CR-4780); "
            "a kill needs the true target alive, inside the envelope and in sight at intercept, and "
            "within the seeker basket of the PIP",
}


_LOS_METHODS = {"sweep": "one O(cells) horizon sweep per radar (agrees with exact ray casting)",
                "rays": "exact ray casting to every cell",
                "planes": "GDAL's reference-plane algorithm (Wang, Robinson & White 2000)"}


def _models(policy: str, fidelity: str = "fast", sim=None, los: str = "sweep") -> dict[str, str]:
    m = dict(MODELS_USED)
    m["line_of_sight"] += f"; {_LOS_METHODS[los]}"
    if fidelity == "full":
        m.update(FULL_MODELS)
        if sim is not None:
            m["tracking"] = _tracking_model(sim)
    c2 = C2_POLICIES.get(policy, f"weapon-target assignment by the user-registered policy {policy!r}")
    m["c2"] = f"{policy}: {c2}; shoot-look-shoot or salvo doctrine, fire discipline, kill assessment delay"
    if fidelity == "full":
        m["c2"] += ("; on confirmed tracks: threat evaluation on the track's estimated state and the value of "
                    "its (correctly identified) type, feasibility from the track estimate")
        if sim is not None and sim.fire_control_looks > 0:
            m["c2"] += (f"; a launch needs the unit's own fire-control radar to hold the track (hits on its "
                        f"last {sim.fire_control_looks} scan(s))")
    return m


def _tracking_model(sim) -> str:
    text = ("full fidelity: radar measurements of range, azimuth and elevation with Gaussian noise, "
            "converted to Cartesian with the linearised converted-measurement covariance "
            "(Bar-Shalom, Li & Kirubarajan 2001, sec. 10.4)")
    if sim.false_alarms:
        text += (f", plus Poisson false alarms (radar_pfa x {sim.false_alarm_cells:.3g} cells per scan, "
                 "uniform in range, azimuth and elevation)")
    if sim.tracker_filter == "imm":
        text += ("; a central tracker with an IMM filter (Blom & Bar-Shalom 1988): nearly constant velocity "
                 f"and coordinated turns of +/-{sim.imm_turn_rate_deg_s:g} deg/s, switching probability "
                 f"{sim.imm_switch_probability:g}")
    else:
        text += ("; a central tracker with a nearly-constant-velocity Kalman filter (continuous white-noise "
                 "acceleration, ibid. sec. 6.2.2)")
    if sim.association == "jpda":
        text += ("; chi-square gating and joint probabilistic data association (Fortmann, Bar-Shalom & "
                 "Scheffe 1983; exact per cluster, cheap JPDA for large clusters)")
    else:
        text += ("; chi-square gating and global nearest neighbour by optimal assignment (Hungarian method, "
                 "solved per cluster of gated pairs: the same assignment as over the whole scan)")
    text += (f"; two-point initiation, {sim.confirm_m}-of-{sim.confirm_n} confirmation and deletion after a "
             "time without update")
    return text
