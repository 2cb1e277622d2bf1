"""Compile a scenario into a World: the arrays the engine steps.

Everything deterministic is computed here once, vectorised over [time, entity]:
threat truth paths, per-radar detection probability (reference-form radar equation,
Swerling model, terrain line of sight from the minimum-visible-altitude rasters), and
per-fire-unit engagement feasibility, flyout time and kill probability at the predicted
intercept point. The compiled kernel then only draws chance outcomes and makes decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from iadsim.catalog import Figure, System
from iadsim.coverage.los import min_visible_altitude, visible_at
from iadsim.engine.trajectory import TERMINAL_DIVE_M, Path3D, orbit_points, sample_path
from iadsim.errors import InputError, Problem
from iadsim.geo.grid import LocalGrid
from iadsim.geo.terrain import Terrain, dem_lonlat_bounds, load_terrain
from iadsim.physics.kinematics import intercept_time_s
from iadsim.physics.radar import detection_probability_reference_form
from iadsim.scenario.loader import LoadedScenario
from iadsim.scenario.models import Position

DETECTION_MODEL = "swerling1"
FIRE_MODES = {"hold": 0, "tight": 1, "free": 2}

MODELS_USED = {
    "detection": "radar equation in reference-range form (SNR ∝ σ/R⁴; Skolnik 2001 eq. 2.1) "
                 "with a Swerling 1 single-scan detection model (Pd = Pfa^(1/(1+SNR)))",
    "line_of_sight": "terrain-masked minimum-visible-altitude rasters with 4/3-earth refraction "
                     "(effective earth radius; Doerry 2013, Skolnik 2001 §8.2)",
    "tracking": "fast fidelity: tracks from truth, firm after a latency, dropped after missed scans",
    "c2": "greedy: most urgent track first (value / time-to-go), the feasible fire unit with the "
          "highest kill probability; shoot-look-shoot or salvo doctrine",
    "flyout": "constant mean missile speed to the predicted intercept point of a constant-velocity "
              "target",
    "kill": "Bernoulli kill per missile with the catalog's single-shot Pk, zero if the target has "
            "left the envelope or line of sight at intercept",
    "random": "counter-based SplitMix64 streams keyed by each replication's SeedSequence child",
}


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
    sensor_range_m: np.ndarray      # [S] coverage rasters stop here (3 x the reference range) [m]
    mva: list[np.ndarray]           # S rasters of minimum visible altitude [m MSL]
    scan: np.ndarray                # [T, S] bool
    pd: np.ndarray                  # [T, S, M] float32
    # fire units
    effector_labels: list[str]
    effector_system: list[str]
    effector_xyz: np.ndarray        # [E, 3] site x, y, ground MSL [m]
    effector_sensor: np.ndarray     # [E] index of its own radar
    feasible: np.ndarray            # [T, E, M] bool
    tof: np.ndarray                 # [T, E, M] int64 flyout time [steps]
    pk: np.ndarray                  # [T, E, M] float32
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
    asset_xy: np.ndarray            # [A, 2]
    figures: list[FigureUse] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=lambda: dict(MODELS_USED))

    @property
    def scenario(self):
        return self.loaded.scenario

    def kernel_inputs(self) -> tuple:
        return (self.nsteps, self.first_step, self.end_step, self.target, self.priority,
                self.scan, self.pd, self.feasible, self.tof, self.pk,
                self.channels, self.ready, self.reloads, self.reload_steps, self.reaction_steps,
                self.salvo, self.max_eng, self.assess_steps, self.min_interval_steps, self.fire_mode,
                self.latency_steps, self.drop_steps)


class _FigureLog:
    def __init__(self) -> None:
        self.uses: dict[tuple[str, str], FigureUse] = {}

    def get(self, system: System, key: str, used_by: str) -> float:
        fig = system.figure(key)
        self.uses.setdefault((system.name, key), FigureUse(system.name, key, fig, used_by))
        return fig.value


def _site_alt(pos: Position, ground: float) -> float:
    return ground + pos.height_m if pos.height_ref == "agl" else pos.height_m


def _collect_points(ld: LoadedScenario) -> list[tuple[str, float, float]]:
    s = ld.scenario
    pts = [(f"assets[{i}]", a.lat, a.lon) for i, a in enumerate(s.assets)]
    pts += [(f"effectors[{i}].site", e.site.lat, e.site.lon) for i, e in enumerate(s.effectors)]
    pts += [(f"sensors[{i}].site", e.site.lat, e.site.lon) for i, e in enumerate(s.sensors)]
    for i, t in enumerate(s.threats):
        pts += [(f"threats[{i}].route[{j}]", w.lat, w.lon) for j, w in enumerate(t.route)]
        if t.orbit is not None:
            pts.append((f"threats[{i}].orbit", t.orbit.lat, t.orbit.lon))
    return pts


def build_grid(ld: LoadedScenario) -> LocalGrid:
    """The local analysis grid: all sites, routes and orbits plus the margin, inside the DEM."""
    s = ld.scenario
    pts = _collect_points(ld)
    west, south, east, north = dem_lonlat_bounds(ld.dem_path, source=ld.source)
    problems = [
        Problem(ld.source, f"{p}", f"({lat:.4f}, {lon:.4f}) lies outside the DEM "
                f"{ld.dem_path.name} (lat {south:.3f}..{north:.3f}, lon {west:.3f}..{east:.3f})")
        for p, lat, lon in pts
        if not (south < lat < north and west < lon < east)
    ]
    if problems:
        raise InputError(problems)
    anchor = [(lat, lon) for p, lat, lon in pts if not p.startswith("threats")] or \
             [(lat, lon) for _, lat, lon in pts]
    lat0 = float(np.mean([a[0] for a in anchor]))
    lon0 = float(np.mean([a[1] for a in anchor]))
    probe = LocalGrid(lat0, lon0, 0.0, 0.0, 1.0, 1, 1)
    x, y = probe.to_local([p[1] for p in pts], [p[2] for p in pts])
    x = list(x)
    y = list(y)
    for t in s.threats:
        if t.orbit is not None:
            ox, oy = probe.to_local(t.orbit.lat, t.orbit.lon)
            r = t.orbit.radius_km * 1000.0
            x += [float(ox) - r, float(ox) + r]
            y += [float(oy) - r, float(oy) + r]
    margin = s.terrain.margin_km * 1000.0
    # the DEM outline in local coordinates, shrunk by one cell, bounds the grid
    lons = np.concatenate([np.linspace(west, east, 64), np.full(64, east), np.linspace(west, east, 64),
                           np.full(64, west)])
    lats = np.concatenate([np.full(64, north), np.linspace(south, north, 64), np.full(64, south),
                           np.linspace(south, north, 64)])
    dx, dy = probe.to_local(lats, lons)
    res = s.terrain.resolution_m
    # the largest axis-aligned box inside the outline (conservative: inner extremes)
    bx0 = max(dx[192:].max(), dx[:64].min(), dx[128:192].min())
    bx1 = min(dx[64:128].min(), dx[:64].max(), dx[128:192].max())
    by0 = max(dy[128:192].max(), dy[64:128].min(), dy[192:].min())
    by1 = min(dy[:64].min(), dy[64:128].max(), dy[192:].max())
    bx0, bx1, by0, by1 = bx0 + res, bx1 - res, by0 + res, by1 - res
    xr = (max(min(x) - margin, bx0), min(max(x) + margin, bx1))
    yr = (max(min(y) - margin, by0), min(max(y) + margin, by1))
    grid = LocalGrid.around(lat0, lon0, xr, yr, res)
    # snapping may step outside; shrink by a cell where it does
    if grid.xmin < bx0 or grid.xmax > bx1 or grid.ymin < by0 or grid.ymax > by1:
        grid = LocalGrid.around(lat0, lon0, (xr[0] + res, xr[1] - res), (yr[0] + res, yr[1] - res), res)
    return grid


def _threat_path(ld, i, thr, sysm: System, grid: LocalGrid, log: _FigureLog, asset_xy) -> Path3D:
    cruise = thr.speed_m_s if thr.speed_m_s is not None else log.get(sysm, "cruise_speed_m_s", thr.name)
    alt_default = thr.altitude_m if thr.altitude_m is not None else log.get(sysm, "typical_altitude_m", thr.name)
    agl = thr.altitude_ref == "agl"
    lat = [w.lat for w in thr.route]
    lon = [w.lon for w in thr.route]
    x, y = grid.to_local(lat, lon)
    xy = [np.array([a, b]) for a, b in zip(np.atleast_1d(x), np.atleast_1d(y))]
    alt = [w.altitude_m if w.altitude_m is not None else alt_default for w in thr.route]
    flags = [agl] * len(xy)
    speed = [w.speed_m_s if w.speed_m_s is not None else cruise for w in thr.route[:-1]]
    if thr.orbit is not None:
        ox, oy = grid.to_local(thr.orbit.lat, thr.orbit.lon)
        pts = orbit_points(float(ox), float(oy), thr.orbit.radius_km * 1000.0, xy[-1], thr.orbit.laps)
        last_speed = thr.route[-1].speed_m_s or cruise
        for p in pts:
            xy.append(p)
            alt.append(alt[-1])
            flags.append(agl)
            speed.append(last_speed)
    if thr.target is not None:
        a = [a.name for a in ld.scenario.assets].index(thr.target)
        goal = asset_xy[a]
        last = xy[-1]
        d = float(np.hypot(*(goal - last)))
        if d > TERMINAL_DIVE_M:
            dive_start = goal + (last - goal) * (TERMINAL_DIVE_M / d)
            xy.append(dive_start)
            alt.append(alt[-1])
            flags.append(flags[-1])
            speed.append(speed[-1] if speed else cruise)
        xy.append(goal)
        alt.append(0.0)
        flags.append(True)  # impact at ground level
        speed.append(speed[-1] if speed else cruise)
    return Path3D(np.array(xy, dtype=float), np.array(alt, dtype=float), np.array(flags),
                  np.array(speed, dtype=float))


def compile_world(ld: LoadedScenario, progress=None) -> World:
    """Compile a loaded scenario into a World (terrain, paths, coverage, feasibility)."""
    s = ld.scenario
    cat = ld.catalog
    log = _FigureLog()
    step = progress or (lambda msg: None)

    step("terrain")
    grid = build_grid(ld)
    terrain = load_terrain(ld.dem_path, grid, source=ld.source)
    dt = s.simulation.dt_s
    nsteps = int(np.ceil(s.simulation.duration_s / dt))
    k_ref = s.terrain.refraction_k

    ax, ay = grid.to_local([a.lat for a in s.assets], [a.lon for a in s.assets])
    asset_xy = np.column_stack([np.atleast_1d(ax), np.atleast_1d(ay)]) if s.assets else np.zeros((0, 2))

    # --- threats
    step("threat paths")
    labels, group, types, targets, values, rcs = [], [], [], [], [], []
    P, V, F, Eend, routes = [], [], [], [], []
    for i, thr in enumerate(s.threats):
        sysm = cat[thr.type]
        path = _threat_path(ld, i, thr, sysm, grid, log, asset_xy)
        lon, lat = grid.to_lonlat(path.xy[:, 0], path.xy[:, 1])
        ground = terrain.height_at(path.xy[:, 0], path.xy[:, 1])
        routes.append(np.column_stack([lon, lat, np.where(path.agl, ground + path.alt, path.alt)]))
        val = log.get(sysm, "value", "threat evaluation")
        sig = log.get(sysm, "rcs_m2", "detection")
        tgt = -1 if thr.target is None else [a.name for a in s.assets].index(thr.target)
        for k in range(thr.count):
            t0 = thr.launch_time_s + k * thr.spacing_s
            pos, vel, first, end = sample_path(path, terrain, t0, dt, nsteps)
            P.append(pos)
            V.append(vel)
            F.append(first)
            Eend.append(end)
            labels.append(thr.name if thr.count == 1 else f"{thr.name}[{k}]")
            group.append(i)
            types.append(sysm.name)
            targets.append(tgt)
            values.append(val)
            rcs.append(sig)
    pos = np.stack(P, axis=1)
    vel = np.stack(V, axis=1)
    M = pos.shape[1]
    first_step = np.array(F, dtype=np.int64)
    end_step = np.array(Eend, dtype=np.int64)
    target = np.array(targets, dtype=np.int64)
    values = np.array(values)
    rcs = np.array(rcs)
    flying = np.isfinite(pos[..., 0])

    # --- radars: each fire unit's organic radar, then stand-alone sensors
    step("radar coverage")
    sensor_specs = [(e.name, cat[e.system], e.site, f"effectors[{i}]") for i, e in enumerate(s.effectors)]
    sensor_specs += [(x.name, cat[x.system], x.site, f"sensors[{i}]") for i, x in enumerate(s.sensors)]
    S = len(sensor_specs)
    sensor_xyz = np.zeros((S, 3))
    sensor_range = np.zeros(S)
    sensor_ref = np.zeros(S)
    mvas = []
    scan = np.zeros((nsteps, S), dtype=bool)
    pd = np.zeros((nsteps, S, M), dtype=np.float32)
    tgrid = np.arange(nsteps) * dt
    for si, (name, sysm, site, where) in enumerate(sensor_specs):
        x, y = grid.to_local(site.lat, site.lon)
        x, y = float(x), float(y)
        ground = float(terrain.height_at(x, y))
        mast = log.get(sysm, "radar_antenna_height_m", "line of sight")
        z = _site_alt(site, ground) + mast
        sensor_xyz[si] = (x, y, z)
        r_ref = log.get(sysm, "radar_detection_range_km", "detection") * 1000.0
        s_ref = log.get(sysm, "radar_reference_rcs_m2", "detection")
        pd_ref = log.get(sysm, "radar_reference_pd", "detection")
        pfa = log.get(sysm, "radar_pfa", "detection")
        period = log.get(sysm, "radar_scan_period_s", "detection")
        # a Swerling 1 target of the reference RCS at 2 x the reference range has Pd ~ 0.01 or less;
        # beyond 3 x nothing is detected: bound the raster there
        rmax = 3.0 * r_ref
        sensor_range[si] = rmax
        sensor_ref[si] = r_ref
        mva = min_visible_altitude(terrain, x, y, z, k=k_ref, max_range_m=rmax)
        mvas.append(mva)
        # scans: one look per period; a period shorter than dt gives a look every step
        phase = (si * 0.37 * period) % period
        scan[:, si] = np.floor((tgrid + dt - phase) / period) > np.floor((tgrid - phase) / period)
        rel = pos - np.array([x, y, z])
        rng = np.sqrt(np.nansum(rel**2, axis=-1))
        vis = visible_at(mva, terrain, pos[..., 0], pos[..., 1], pos[..., 2]) & flying & (rng <= rmax)
        p = np.zeros((nsteps, M))
        ok = vis & (rng > 0)
        if ok.any():
            p[ok] = detection_probability_reference_form(
                rng[ok], np.broadcast_to(rcs, rng.shape)[ok], r_ref, s_ref, pd_ref, pfa,
                model=DETECTION_MODEL)
        pd[:, si, :] = p

    # --- fire units
    step("engagement envelopes")
    E = len(s.effectors)
    feasible = np.zeros((nsteps, E, M), dtype=bool)
    tof = np.ones((nsteps, E, M), dtype=np.int64)
    pk = np.zeros((nsteps, E, M), dtype=np.float32)
    ints = {k: np.zeros(E, dtype=np.int64) for k in
            ("channels", "ready", "reloads", "reload_steps", "reaction_steps", "salvo", "max_eng",
             "assess_steps", "min_interval_steps", "fire_mode")}
    eff_xyz = np.zeros((E, 3))
    steps_of = lambda sec: int(np.ceil(sec / dt - 1e-9))  # noqa: E731
    for ei, eff in enumerate(s.effectors):
        sysm = cat[eff.system]
        x, y, _ = sensor_xyz[ei]
        ground = float(terrain.height_at(x, y))
        eff_xyz[ei] = (x, y, ground)
        rmin = log.get(sysm, "engagement_range_min_km", "engagement") * 1000.0
        rmax = log.get(sysm, "engagement_range_max_km", "engagement") * 1000.0
        hmin = log.get(sysm, "engagement_altitude_min_m", "engagement")
        hmax = log.get(sysm, "engagement_altitude_max_m", "engagement")
        vm = log.get(sysm, "missile_speed_m_s", "flyout")
        p1 = log.get(sysm, "pk_single_shot", "kill")
        ints["channels"][ei] = int(log.get(sysm, "channels_per_vehicle", "fire unit")) * eff.vehicles
        per_vehicle = int(log.get(sysm, "ready_missiles_per_vehicle", "fire unit"))
        ints["ready"][ei] = eff.missiles if eff.missiles is not None else per_vehicle * eff.vehicles
        ints["reloads"][ei] = eff.reloads
        ints["reload_steps"][ei] = max(steps_of(log.get(sysm, "reload_time_s", "fire unit")), 1)
        ints["reaction_steps"][ei] = steps_of(log.get(sysm, "reaction_time_s", "fire unit"))
        d = eff.doctrine
        ints["salvo"][ei] = d.salvo_size if d.mode == "salvo" else 1
        ints["max_eng"][ei] = d.max_engagements
        ints["assess_steps"][ei] = steps_of(d.kill_assessment_s)
        ints["min_interval_steps"][ei] = steps_of(d.min_launch_interval_s)
        ints["fire_mode"][ei] = FIRE_MODES[d.fire]

        def envelope(p3):
            gr = np.hypot(p3[..., 0] - x, p3[..., 1] - y)
            agl = p3[..., 2] - terrain.height_at(np.nan_to_num(p3[..., 0]), np.nan_to_num(p3[..., 1]))
            above_site = p3[..., 2] - ground
            with np.errstate(invalid="ignore"):
                return ((gr >= rmin) & (gr <= rmax) & (agl >= hmin) & (above_site <= hmax)
                        & np.isfinite(gr))

        with np.errstate(invalid="ignore"):
            t_int = intercept_time_s(pos - np.array([x, y, ground]), vel, vm)
        pip = pos + vel * t_int[..., None]
        inside = np.isfinite(pip[..., 0])
        ok_now = visible_at(mvas[ei], terrain, pos[..., 0], pos[..., 1], pos[..., 2]) & flying
        fz = inside & envelope(np.where(inside[..., None], pip, np.nan)) & ok_now
        n_tof = np.where(np.isfinite(t_int), np.ceil(t_int / dt - 1e-9), 1).astype(np.int64)
        n_tof = np.maximum(n_tof, 1)
        # where the target really is when the missile arrives
        hit_t = np.minimum(np.arange(nsteps)[:, None] + n_tof, nsteps - 1)
        actual = pos[hit_t, np.arange(M)[None, :]]
        reach = (np.arange(nsteps)[:, None] + n_tof) < nsteps
        good = (envelope(actual)
                & visible_at(mvas[ei], terrain, actual[..., 0], actual[..., 1], actual[..., 2])
                & reach)
        feasible[:, ei, :] = fz & reach
        tof[:, ei, :] = n_tof
        pk[:, ei, :] = np.where(good & fz, p1, 0.0)

    # --- threat evaluation: value over time-to-go to the asset (or to the nearest asset)
    step("threat evaluation")
    speed = np.linalg.norm(np.nan_to_num(vel), axis=-1)
    ttg = np.full((nsteps, M), np.inf)
    steps_idx = np.arange(nsteps)[:, None]
    has_t = target >= 0
    ttg[:, has_t] = (end_step[None, has_t] - steps_idx) * dt
    if len(asset_xy) and (~has_t).any():
        d = np.min(np.hypot(pos[:, ~has_t, 0, None] - asset_xy[None, None, :, 0],
                            pos[:, ~has_t, 1, None] - asset_xy[None, None, :, 1]), axis=-1)
        ttg[:, ~has_t] = d / np.maximum(speed[:, ~has_t], 1.0)
    priority = values[None, :] / np.maximum(np.nan_to_num(ttg, nan=np.inf), dt)

    lat_steps = steps_of(s.simulation.track_latency_s)
    drop_steps = max(steps_of(s.simulation.track_drop_s), 1)
    sensor_labels = [spec[0] for spec in sensor_specs]
    return World(
        loaded=ld, grid=grid, terrain=terrain, dt=dt, nsteps=nsteps,
        threat_labels=labels, threat_group=np.array(group), threat_type=types,
        pos=pos, vel=vel, first_step=first_step, end_step=end_step, target=target,
        priority=priority, route_lonlat=routes,
        sensor_labels=sensor_labels, sensor_system=[spec[1].name for spec in sensor_specs],
        sensor_ref_range_m=sensor_ref, sensor_xyz=sensor_xyz, sensor_range_m=sensor_range, mva=mvas,
        scan=scan, pd=pd,
        effector_labels=[e.name for e in s.effectors], effector_system=[cat[e.system].name for e in s.effectors],
        effector_xyz=eff_xyz, effector_sensor=np.arange(E), feasible=feasible, tof=tof, pk=pk,
        latency_steps=lat_steps, drop_steps=drop_steps, asset_xy=asset_xy,
        figures=list(log.uses.values()), **ints,
    )
