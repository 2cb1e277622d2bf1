"""Pydantic models of a scenario file.

Units are in the field names (``altitude_m``, ``speed_m_s``, ``radius_km``);
angles are degrees at this edge and radians inside the engine.

Values are strict (pydantic strict mode): a number is never read from text (``'4'``), a boolean
is not a number (``lat: true``), a float is not an integer (``replications: 4.0``) and only
``true``/``false`` are booleans. Ranges are physically plausible, not just positive: a value
such as ``dt_s: 5e-324`` or ``refraction_k: 1e-300`` is refused, not run.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

SCHEMA_VERSION = 1
#: seeds are non-negative and below 2**63 (numpy's SeedSequence takes any size; the results
#: files store them as int64)
SEED_LIMIT = 2**63

Lat = Annotated[float, Field(ge=-90.0, le=90.0, description="latitude [deg], WGS84")]
Lon = Annotated[float, Field(ge=-180.0, le=180.0, description="longitude [deg], WGS84")]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False, strict=True)


class Position(_Model):
    """A point on the earth, with a height above ground (agl) or mean sea level (msl)."""

    lat: Lat
    lon: Lon
    height_m: float = Field(0.0, ge=-500.0, le=100_000.0, description="height [m]")
    height_ref: Literal["agl", "msl"] = Field("agl", description="height above ground or sea level")


class Terrain(_Model):
    dem: str | Annotated[list[str], Field(min_length=1, max_length=1024)] = Field(
        description="DEM file (GeoTIFF or SRTM .hgt), relative to the scenario file; "
        "'bundled:NAME' names a DEM shipped with iadsim. Several tiles make a mosaic: a list of "
        "files, a glob ('tiles/*.tif') or a folder (its .tif, .tiff and .hgt files); the tiles "
        "must share one CRS, resolution and pixel grid and leave no gap in the analysis area "
        "(a VRT is not read: list its tiles instead)"
    )
    resolution_m: float = Field(
        150.0, gt=10.0, le=5_000.0, description="cell size of the local analysis grid [m]"
    )

    @field_validator("dem", mode="before")
    @classmethod
    def _dem_text_or_list(cls, v):
        # one clear message instead of one per member of the union
        if isinstance(v, str):
            return v
        if isinstance(v, list):
            bad = [i for i, x in enumerate(v) if not isinstance(x, str)]
            if bad:
                raise ValueError(f"expected a list of strings (DEM tiles); item {bad[0]} is "
                                 f"{type(v[bad[0]]).__name__}")
            return v
        raise ValueError(f"expected a string (a DEM file, a glob or a folder) or a list of strings "
                         f"(DEM tiles), got {type(v).__name__}")
    margin_km: float = Field(
        15.0, ge=0.0, le=500.0, description="grid margin around all sites and routes [km]"
    )
    # k = 1 / (1 + a dN/dh) (Bean & Dutton 1966, Radio Meteorology, eq. 1.21; ITU-R P.834):
    # dN/dh = +100 N/km (strong sub-refraction) gives k = 0.61, -118 N/km (strong super-refraction)
    # k = 4; beyond -157 N/km the ray ducts and no effective earth radius describes it
    refraction_k: float = Field(
        4.0 / 3.0, ge=0.5, le=4.0,
        description="effective earth radius factor [1] (4/3 earth; 0.5 strong sub-refraction to 4 "
        "strong super-refraction, Bean & Dutton 1966; ducting is not modelled)",
    )
    line_of_sight: Literal["sweep", "rays", "planes"] = Field(
        "sweep",
        description="line-of-sight algorithm of the run and of its coverage maps: 'sweep' (one "
        "O(cells) pass, agrees with exact ray casting), 'rays' (exact ray casting to every cell, "
        "slow), 'planes' (GDAL's reference planes, reproduces gdal_viewshed); see "
        "docs/coverage-accuracy.md",
    )
    clutter: Literal["flatland", "farmland", "wooded_hills", "woods", "urban", "mountains", "none"] = Field(
        "farmland",
        description="land clutter class around the radars (constant-gamma model, sigma0 = gamma sin(grazing)): "
        "gamma at 10 GHz is flatland -20 dB, farmland -15 dB, wooded_hills -10 dB (Nathanson et al. 1999), "
        "woods -15 dB, urban 0 dB, mountains 0 dB (Long 2001), scaled by +5 dB per decade of frequency; "
        "it also sets the surface roughness of the multipath model. 'none' switches clutter, the MTI notch "
        "and multipath off (free-space detection). Default 'farmland'; see docs/detection.md",
    )


class Simulation(_Model):
    duration_s: float = Field(3600.0, gt=0.0, le=7 * 86400.0, description="simulated time [s]")
    dt_s: float = Field(1.0, ge=1e-3, le=60.0, description="time step [s] (1 ms to 60 s)")
    replications: int = Field(1000, ge=1, le=10_000_000)
    seed: int = Field(20261125, ge=0, lt=SEED_LIMIT)
    fidelity: Literal["fast", "full"] = Field(
        "fast",
        description="'fast': tracks from truth with a detection latency; 'full': noisy radar "
        "measurements, a central Kalman-filter tracker (gating, global nearest neighbour, M-of-N "
        "confirmation) and C2 on the track estimates",
    )
    track_latency_s: float = Field(
        4.0, ge=0.0, le=600.0, description="time from first detection to a firm track [s]"
    )
    track_drop_s: float = Field(
        20.0, gt=0.0, le=3600.0, description="a track not updated for this long is dropped [s]"
    )
    # --- tracker settings (fidelity 'full' only)
    process_noise_m_s2: float = Field(
        5.0, ge=1e-3, le=1000.0,
        description="full fidelity: RMS of the white-noise acceleration of the tracker's nearly-constant-"
        "velocity model; its power spectral density is q = value^2 x 1 s [m^2/s^3]",
    )
    gate_probability: float = Field(
        0.99, gt=0.0, lt=1.0,
        description="full fidelity: probability that a target's own measurement falls inside the "
        "association gate (chi-square, 3 degrees of freedom) [1]",
    )
    confirm_n: int = Field(
        3, ge=1, le=32, description="full fidelity: M-of-N confirmation, the window of N looks [1]"
    )
    confirm_m: int = Field(
        2, ge=1, le=32,
        description="full fidelity: M-of-N confirmation, M hits within the last N looks [1] (M <= N)",
    )
    delete_after_s: float | None = Field(
        None, gt=0.0, le=3600.0,
        description="full fidelity: a track not updated for this long is deleted [s]; default track_drop_s",
    )
    seeker_basket_m: float = Field(
        1000.0, ge=0.1, le=1_000_000.0,
        description="full fidelity: an interceptor flown to a track's predicted intercept point can "
        "still reach the target if it is within this distance of that point at intercept time [m]",
    )
    false_alarms: bool = Field(
        False,
        description="full fidelity: radar false alarms; each scan of a radar adds a Poisson number "
        "of spurious measurements, mean radar_pfa x false_alarm_cells, uniform in range, azimuth and "
        "elevation over its coverage (cells hidden by terrain give none)",
    )
    false_alarm_cells: float = Field(
        1.0e6, gt=0.0, le=1.0e9,
        description="full fidelity: resolution cells a radar tests per scan (range bins x beams); "
        "an iadsim estimate, e.g. 600 range bins x 240 azimuth beams x 7 elevation beams ~ 1e6 [1]",
    )
    tracker_filter: Literal["kf", "imm"] = Field(
        "kf",
        description="full fidelity: 'kf' Kalman filter with the nearly-constant-velocity model; 'imm' "
        "interacting multiple models: constant velocity and coordinated turns of +/- "
        "imm_turn_rate_deg_s (Blom & Bar-Shalom 1988)",
    )
    imm_turn_rate_deg_s: float = Field(
        3.0, ge=0.01, le=90.0,
        description="full fidelity, tracker_filter 'imm': turn rate of the coordinated-turn models "
        "[deg/s] (3 deg/s is a standard-rate turn)",
    )
    imm_switch_probability: float = Field(
        0.05, ge=0.0, lt=1.0,
        description="full fidelity, tracker_filter 'imm': probability of leaving a model between "
        "two updates [1]",
    )
    association: Literal["gnn", "jpda"] = Field(
        "gnn",
        description="full fidelity: 'gnn' global nearest neighbour (optimal assignment of gated "
        "Mahalanobis costs); 'jpda' joint probabilistic data association (exact over each cluster "
        "of shared gates, Fitzgerald's cheap JPDA beyond 100,000 joint events)",
    )
    fire_control_looks: int = Field(
        1, ge=0, le=32,
        description="full fidelity: a fire unit launches only while its own (fire-control) radar "
        "holds the track: it detected the track on each of its last N scans; 0 launches on the "
        "central track alone [1]",
    )
    cpa_scale_m: float = Field(
        2000.0, ge=1.0, le=1_000_000.0,
        description="threat evaluation: a threat whose predicted closest point of approach passes this "
        "far outside an asset's radius counts half as much as one headed into it [m]",
    )
    policy: str = Field(
        "urgency",
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="weapon-target assignment: 'urgency' (most urgent track first, best unit), "
        "'greedy' (maximum marginal return), 'exact' (MIP, HiGHS), 'vlns', or a policy registered "
        "with iadsim.c2.register_policy",
    )
    uncertainty: Literal["nominal", "sample", "sample-calibrated"] = Field(
        "nominal",
        description="'nominal': catalog figures at their nominal values; 'sample': each replication "
        "draws the disputed figures from their ranges (triangular, mode at nominal); 'sample-calibrated': "
        "as 'sample', but a figure with a range calibrated against the validation suite "
        "(catalog/calibrated.yaml) is drawn from that range (mode at the posterior median)",
    )

    @field_validator("confirm_m")
    @classmethod
    def _m_of_n(cls, m: int, info) -> int:
        n = info.data.get("confirm_n")
        if n is not None and m > n:
            raise ValueError(f"confirm_m ({m}) must not exceed confirm_n ({n})")
        return m


class Asset(_Model):
    """A defended asset; leakers aimed at it damage it."""

    name: Name
    lat: Lat
    lon: Lon
    value: float = Field(1.0, gt=0.0, le=1e6, description="relative value [1]")
    radius_m: float = Field(500.0, ge=1.0, le=50_000.0, description="footprint radius [m]")


class Doctrine(_Model):
    mode: Literal["shoot-look-shoot", "salvo"] = "shoot-look-shoot"
    salvo_size: int = Field(1, ge=1, le=16, description="missiles per engagement [1]")
    max_engagements: int = Field(
        3, ge=1, le=100, description="engagements of one threat by one fire unit [1]"
    )
    kill_assessment_s: float = Field(
        5.0, ge=0.0, le=600.0, description="delay after an intercept before the result is known [s]"
    )
    min_launch_interval_s: float = Field(
        2.0, ge=0.0, le=600.0, description="minimum time between launches of one fire unit [s]"
    )
    fire: Literal["free", "tight", "hold"] = Field(
        "free", description="hold: never fire; tight: fire only at threats aimed at an asset; free: any"
    )


class Sector(_Model):
    """Where a radar looks or a launcher can fire: an azimuth sector (centre and width, degrees
    clockwise from north) and elevation limits above the site's horizontal. Outside it the radar
    detects nothing and the launcher engages no predicted intercept point."""

    azimuth_deg: float = Field(ge=-360.0, le=360.0, description="centre of the sector [deg clockwise from north]")
    width_deg: float = Field(360.0, gt=0.0, le=360.0, description="full width of the sector (0, 360] [deg]")
    min_elevation_deg: float = Field(-90.0, ge=-90.0, le=90.0, description="lowest elevation covered [deg]")
    max_elevation_deg: float = Field(90.0, ge=-90.0, le=90.0, description="highest elevation covered [deg]")

    @model_validator(mode="after")
    def _ordered(self) -> "Sector":
        if self.min_elevation_deg > self.max_elevation_deg:
            raise ValueError(f"min_elevation_deg ({self.min_elevation_deg:g}) must not exceed max_elevation_deg "
                             f"({self.max_elevation_deg:g})")
        return self


Readiness = Annotated[float, Field(ge=0.0, le=1.0, description="probability that the unit is available for the "
                                                                 "whole run, drawn once per replication [1]")]

#: alert states, most to least ready (iadsim.engine.defstate.ALERT_DELAY_S gives the added reaction time)
AlertState = Literal["high", "medium", "low"]


class Emcon(_Model):
    """Emission control of a radar (a stand-alone radar or a fire unit's own): when it radiates. A
    silent radar detects nothing (and, for an anti-radiation weapon, cannot be found). Fields of
    other modes are kept but unused (so that an option can switch the mode)."""

    mode: Literal["always", "duty", "cued", "ambush"] = Field(
        "always", description="'always' radiates; 'duty' radiates duty_cycle of every period_s (a random phase per "
                              "replication); 'cued' radiates only while a cueing radar holds a track; 'ambush' "
                              "radiates once a threat is within ambush_range_km of it (true geometry) and stays on")
    duty_cycle: float = Field(1.0, gt=0.0, le=1.0, description="duty: fraction of each period radiating (0, 1] [1]")
    period_s: float = Field(60.0, gt=0.0, le=86400.0, description="duty: length of one on/off cycle [s]")
    cued_by: list[Name] = Field(default_factory=list,
                                description="cued: names of the radars (sensors, or fire units for their own "
                                            "radar) whose tracks cue it; default every other radar")
    ambush_range_km: float | None = Field(None, gt=0.0, le=1000.0,
                                          description="ambush: slant range from the radar at which it switches on [km]")
    warmup_s: float = Field(0.0, ge=0.0, le=3600.0,
                            description="cued, ambush: time from the cue (or trigger) to the first look [s]; "
                                        "the analyst's figure")

    @model_validator(mode="after")
    def _complete(self) -> "Emcon":
        if self.mode == "ambush" and self.ambush_range_km is None:
            raise ValueError("emcon mode 'ambush' needs ambush_range_km [km]")
        return self


def _mtbf_field():
    return Field(None, gt=0.0, le=1e6, description="mean time between failures [h]: up times are drawn exponential "
                                                   "with this mean per replication (the analyst's figure); needs mttr_h")


def _mttr_field():
    return Field(None, gt=0.0, le=1e5, description="mean time to repair [h]: down times are drawn exponential with "
                                                   "this mean (the analyst's figure); needs mtbf_h")


def _repair_field():
    return Field(None, gt=0.0, le=1e7, description="time a site hit by a threat weapon stays out [s] (the analyst's "
                                                   "figure); default: out for the rest of the run")


def _check_pair(unit):
    if (unit.mtbf_h is None) != (unit.mttr_h is None):
        raise ValueError("mtbf_h and mttr_h go together: give both (failures and repairs) or neither")
    return unit


class Relocate(_Model):
    """Shoot-and-scoot: after ``after_launches`` engagements the fire unit packs up, moves to the next
    candidate site and sets up there (docs/defence-state.md). Its own ``site`` is the first site; the
    unit cycles through ``site``, ``sites[0]``, ``sites[1]``, ... (``order: sequence``) or moves to a
    site drawn at random among the others (``order: random``). Times are the analyst's figures."""

    sites: list[Position] = Field(min_length=1, max_length=16,
                                  description="candidate sites to move to (each gets its own line-of-sight raster)")
    after_launches: int = Field(1, ge=1, le=10_000,
                                description="engagements (salvos) fired at a site before the unit moves [1]")
    pack_s: float = Field(ge=0.0, le=86400.0, description="time to pack up (march order) [s]")
    setup_s: float = Field(ge=0.0, le=86400.0, description="time to set up at the new site (until it can "
                                                            "detect and launch) [s]")
    move_s: float | None = Field(None, ge=0.0, le=86400.0,
                                 description="time to move between any two sites [s]; or give speed_kmh")
    speed_kmh: float | None = Field(None, gt=0.0, le=200.0,
                                    description="march speed [km/h]: move time = straight-line distance / speed")
    order: Literal["sequence", "random"] = Field(
        "sequence", description="'sequence': site, sites[0], sites[1], ... and round again; 'random': a site drawn "
                                "uniformly among the others at each move")

    @model_validator(mode="after")
    def _move(self) -> "Relocate":
        if (self.move_s is None) == (self.speed_kmh is None):
            raise ValueError("give the move time as move_s [s] or speed_kmh [km/h] (one of them)")
        return self


class Effector(_Model):
    """A fire unit: a catalog system at a site, with its organic radar."""

    name: Name
    system: str = Field(description="catalog name or alias, e.g. pantsir_s1")
    site: Position
    vehicles: int = Field(1, ge=1, le=64, description="launch vehicles in the fire unit [1]")
    doctrine: Doctrine = Field(default_factory=Doctrine)
    missiles: int | None = Field(
        None, ge=0, le=10_000, description="ready missiles (gun units: bursts); default from the catalog per vehicle"
    )
    reloads: int = Field(0, ge=0, le=10_000, description="missiles held for reloading [1]")
    enabled: bool = Field(True, description="false: the unit is left out of the run (a sweep can vary it)")
    sector: Sector | None = Field(None, description="sector of its radar and launchers; default all round")
    readiness: Readiness = 1.0
    reaction_time_s: float | None = Field(
        None, ge=0.0, le=3600.0,
        description="time from a firm track to the first launch [s], e.g. a unit at low alert; default (and "
                    "sampled range) from the catalog; a value set here is not sampled")
    alert: AlertState | None = Field(
        None, description="alert state: high (the catalog's reaction time), medium or low (longer; see "
                          "docs/defence-state.md); default c2.alert; reaction_time_s, if set, wins")
    mtbf_h: float | None = _mtbf_field()
    mttr_h: float | None = _mttr_field()
    emcon: Emcon | None = Field(None, description="emission control of its radar; default: always radiating")
    relocate: Relocate | None = Field(None, description="shoot-and-scoot: candidate sites it moves to after "
                                                         "firing; default: it stays at its site")
    repair_s: float | None = _repair_field()

    _pair = model_validator(mode="after")(_check_pair)


class Sensor(_Model):
    """A stand-alone sensor: a radar, a passive ESM receiver or an electro-optical sensor, by its
    catalog system's sensor_type (the effectors' organic radars need no entry here)."""

    name: Name
    system: str
    site: Position
    enabled: bool = Field(True, description="false: the radar is left out of the run (a sweep can vary it)")
    sector: Sector | None = Field(None, description="sector the radar covers; default all round")
    readiness: Readiness = 1.0
    mtbf_h: float | None = _mtbf_field()
    mttr_h: float | None = _mttr_field()
    emcon: Emcon | None = Field(None, description="emission control of its radar; default: always radiating")
    repair_s: float | None = _repair_field()
    light: Literal["day", "night"] | None = Field(
        None, description="electro-optical sensors: 'day' (the daylight channel) or 'night' (the infrared "
        "channel, eo_ir_detection_range_km); default day; other sensor types ignore it")

    _pair = model_validator(mode="after")(_check_pair)


class Waypoint(_Model):
    lat: Lat
    lon: Lon
    altitude_m: float | None = Field(
        None, ge=-500.0, le=100_000.0, description="altitude [m]; default: the route's altitude"
    )
    speed_m_s: float | None = Field(
        None, ge=1.0, le=10_000.0, description="speed to the next waypoint [m/s]"
    )


class Orbit(_Model):
    """A racetrack-free circular orbit, flown clockwise after the route (if any)."""

    lat: Lat
    lon: Lon
    radius_km: float = Field(ge=0.1, le=1000.0)
    laps: float = Field(1.0, gt=0.0, le=1000.0)


class Station(_Model):
    """Where an ISR mission stays: a circular orbit, or a racetrack of two straights joined by
    half-circles, centred on (lat, lon)."""

    lat: Lat
    lon: Lon
    pattern: Literal["orbit", "racetrack"] = "orbit"
    radius_km: float = Field(5.0, gt=0.0, le=200.0, description="orbit radius, or the racetrack's turn radius [km]")
    length_km: float = Field(20.0, ge=0.0, le=1000.0, description="racetrack: length of each straight [km]")
    heading_deg: float = Field(0.0, ge=0.0, lt=360.0, description="racetrack: direction of its long axis [deg from north]")


class ThreatWeapon(_Model):
    """Weapons a strike or SEAD mission releases at an asset or at a site (a fire unit or a radar)."""

    type: str = Field(description="catalog name or alias of the weapon, e.g. agm_114_hellfire")
    count: int = Field(1, ge=1, le=64, description="weapons released [1]")
    target: str = Field(description="name of the asset they are released at, or of a fire unit or sensor (a site: "
                                    "strike or sead)")
    interval_s: float = Field(4.0, ge=0.0, le=600.0, description="time between releases [s]")
    p_kill_site: float | None = Field(None, ge=0.0, le=1.0,
                                      description="probability that one weapon arriving at its site puts it out [1] "
                                                  "(the analyst's figure); default the weapon's catalog p_kill_site, "
                                                  "else an iadsim estimate (docs/defence-state.md)")


#: the measures an abort rule may watch (iadsim.engine.react): each sortie's own count or time so far
ABORT_MEASURES = ("launches", "wingmen_lost", "exposure_s")


class AbortRule(_Model):
    """Abort the sortie (fly straight back to the route's first point) when a measure of it passes
    a value: ``launches`` (missile launches at this sortie so far), ``wingmen_lost`` (other members
    of the same scenario threat killed so far), ``exposure_s`` (seconds spent so far inside any fire
    unit's nominal engagement envelope)."""

    measure: Literal["launches", "wingmen_lost", "exposure_s"] = Field(
        description="launches | wingmen_lost | exposure_s")
    above: float | None = Field(None, ge=0.0, le=1e9, description="abort when the measure is greater than this")
    below: float | None = Field(None, ge=0.0, le=1e9, description="abort when the measure is less than this")
    branch_every_s: float = Field(15.0, ge=1.0, le=3600.0,
                                  description="abort paths are planned every this many seconds of the sortie "
                                              "[s]; the abort starts at the first one after the rule fires")

    @model_validator(mode="after")
    def _one_bound(self) -> "AbortRule":
        if (self.above is None) == (self.below is None):
            raise ValueError("an abort rule needs exactly one of above or below")
        return self


class Reaction(_Model):
    """What the threat does when its warning receiver tells it it is engaged.

    ``on: launch``: a fire unit launches at it; ``on: track``: a fire unit's own radar detects it
    while the defence holds a firm track on it. After ``delay_s`` it takes the reaction path that
    starts at the first branch point (every ``branch_every_s`` along its path) at or after that time:
    ``turn-away`` (turn by ``turn_deg`` to the right, fly ``away_km``, then back to the route's first
    point), ``descend`` (the same path on, at ``descend_to_m`` above ground, descending at
    ``descent_rate_m_s``), ``abort`` (straight back to the route's first point). One reaction per
    sortie."""

    on: Literal["launch", "track"]
    action: Literal["turn-away", "descend", "abort"]
    delay_s: float = Field(2.0, ge=0.0, le=600.0, description="from the warning to the reaction [s]")
    turn_deg: float = Field(180.0, ge=-180.0, le=180.0, description="turn-away: turn to the right (negative: "
                                                                    "left) from the current heading [deg]")
    away_km: float = Field(20.0, gt=0.0, le=1000.0, description="turn-away: leg flown after the turn [km]")
    descend_to_m: float = Field(100.0, ge=0.0, le=30_000.0, description="descend: height above ground [m]")
    descent_rate_m_s: float = Field(20.0, gt=0.0, le=500.0, description="descend: rate of descent [m/s]")
    branch_every_s: float = Field(15.0, ge=1.0, le=3600.0,
                                  description="reaction paths are planned every this many seconds of the "
                                              "sortie [s] (more: closer to the trigger, more members to compile)")


class Mission(_Model):
    """What the threat is sent to do.

    isr: fly the route to the station, stay ``time_on_station_s`` on it, then egress (back along
    the route unless ``egress`` is given); accomplished when the whole time on station is flown.
    strike: fly the route until the target is within the weapon's release range, release, egress;
    accomplished when the weapons are released. sead: a strike at a site (a fire unit or a radar,
    e.g. with anti-radiation missiles); accomplished when the weapons are released. one-way:
    today's behaviour (fly to ``target``). A kind registered by a module (docs/missions.md) may
    carry fields of its own beside ``kind``; its ``params`` model validates them
    (``mission.params``)."""

    model_config = ConfigDict(extra="allow", validate_default=True, allow_inf_nan=False, strict=True,
                              json_schema_extra=lambda schema, cls: _mission_schema(schema))

    kind: str = Field(description="a registered mission kind: isr, strike, one-way, sead, or one a module "
                                  "registers (iadsim.missions.register)")
    station: Station | None = None
    time_on_station_s: float | None = Field(None, description="ISR: time to stay on station [s]")
    weapon: ThreatWeapon | None = None
    egress: list[Waypoint] | None = Field(None, description="waypoints after the station or release; "
                                                            "default: back along the route to its start")
    release: Waypoint | None = Field(None, description="strike: where to release (after the route); default: "
                                                       "where the target first comes within 90% of the weapon's range")
    abort_if: AbortRule | None = Field(None, description="abort the sortie when a measure of it passes a value "
                                                         "(launches, wingmen_lost, exposure_s)")

    @field_validator("kind")
    @classmethod
    def _registered(cls, v: str) -> str:
        from iadsim.missions.registry import MISSIONS, unknown_kind_message

        if v not in MISSIONS:
            raise ValueError(unknown_kind_message(v))
        return v

    @property
    def params(self):
        """The registered kind's own fields (an instance of its ``params`` model; None if it has none),
        validated from the mission's extra keys on each read: a pickled scenario (a worker's copy)
        holds only plain values, not a user module's classes."""
        from iadsim.missions.registry import validate_params

        return validate_params(self)

    @model_validator(mode="after")
    def _complete(self) -> "Mission":
        from iadsim.missions.registry import mission_for, validate_params

        k = mission_for(self.kind)
        k.check(self)   # the kind's own needs (an ISR mission's station and time on station)
        if k.releases and self.weapon is None:
            raise ValueError(f"a {self.kind} mission needs a weapon (type, count, target)")
        if not k.releases and (self.weapon is not None or self.release is not None):
            raise ValueError(f"a {self.kind} mission releases no weapon: mission.weapon and mission.release "
                             f"are for the kinds that release weapons ({_releasing_kinds()})")
        validate_params(self)   # the kind's own fields (errors at their paths)
        return self


def _mission_schema(schema: dict) -> None:
    """The registered kinds in the mission's JSON schema (iadsim.missions.registry)."""
    from iadsim.missions.registry import mission_schema

    mission_schema(schema)


def _releasing_kinds() -> str:
    """The registered kinds that release weapons (iadsim.missions.registry: ``releases``), listed."""
    from iadsim.missions.registry import MISSIONS

    return ", ".join(sorted(k for k, m in MISSIONS.items() if m.releases))


def _mission_kind(mission):
    """The registered kind of a validated scenario mission (iadsim.missions.registry)."""
    from iadsim.missions.registry import mission_for

    return mission_for(mission.kind)


class Jammer(_Model):
    """A noise jammer the threat carries (each member of a salvo carries one). It jams from
    wherever its carrier flies, while the carrier flies: killing the carrier stops it."""

    system: str = Field(description="catalog jammer, e.g. generic_escort_jammer")
    mode: Literal["self-screen", "escort", "stand-off"] = Field(
        "escort",
        description="how it is used, for the report: 'self-screen' (it screens the aircraft carrying it), "
        "'escort' (it flies with the package it screens), 'stand-off' (it orbits outside the defence); the "
        "jamming-to-signal ratio follows from where the carrier is relative to each radar and target")
    targets: list[Name] | Literal["all"] = Field(
        "all", description="names of the radars it jams (fire units' organic radars by the unit's name, "
        "stand-alone sensors by theirs), or 'all' (every radar with jamming figures)")


class Decoy(_Model):
    """The threat is a decoy: a false target with a radar signature that the defence treats as a
    threat until it identifies it; it consumes fire channels and missiles, and is never a kill of a
    real threat."""

    identify_p: float | None = Field(
        None, ge=0.0, le=1.0,
        description="probability that one radar look identifies it as a decoy, after which the defence "
        "stops engaging it [1]; 0: never; default the catalog's decoy_identify_p_per_look, else 0")
    rcs_m2: float | None = Field(
        None, le=10_000.0, json_schema_extra={"exclusiveMinimum": 0.0},
        description="the radar signature it presents [m2], > 0; default the catalog RCS of its type")

    @field_validator("rcs_m2")
    @classmethod
    def _has_signature(cls, v: float | None) -> float | None:
        if v is not None and not v > 0.0:
            raise ValueError("a decoy needs a radar signature: rcs_m2 must be > 0 [m2]")
        return v


class Threat(_Model):
    """A threat, or a salvo of ``count`` identical ones, flying a route and/or an orbit."""

    name: Name
    type: str = Field(description="catalog name or alias, e.g. mq_9_reaper")
    count: int = Field(1, ge=1, le=10_000)
    spacing_s: float = Field(0.0, ge=0.0, le=86400.0, description="time between salvo members [s]")
    launch_time_s: float = Field(0.0, ge=0.0, le=7 * 86400.0)
    altitude_m: float | None = Field(
        None, ge=-500.0, le=100_000.0, description="default altitude [m]; catalog typical altitude"
    )
    altitude_ref: Literal["agl", "msl"] = "msl"
    speed_m_s: float | None = Field(
        None, ge=1.0, le=10_000.0, description="default speed [m/s]; catalog cruise speed"
    )
    route: list[Waypoint] = Field(default_factory=list)
    orbit: Orbit | None = None
    target: str | None = Field(None, description="name of the asset it attacks, or of a fire unit or sensor (a site); "
                                                 "none for ISR")
    p_kill_site: float | None = Field(None, ge=0.0, le=1.0,
                                      description="one-way attack at a site: probability that it puts the site out "
                                                  "on arrival [1]; default its catalog p_kill_site, else an iadsim "
                                                  "estimate")
    clamp: Literal["none", "ground"] = Field(
        "none",
        description="'none' (default): an altitude below the terrain anywhere on the path is an input error; "
        "'ground': the path is raised to ground level wherever it would pass below the terrain (the "
        "report's model text says so)",
    )
    mission: Mission | None = Field(None, description="isr, strike or one-way; default: one-way if it has a "
                                                      "target, else it flies its route")
    jammer: Jammer | None = Field(None, description="a noise jammer it carries (escort, self-screening or "
                                                    "stand-off jamming of the defence's radars)")
    decoy: Decoy | None = Field(None, description="it is a decoy (true, or identify_p and rcs_m2): a false target "
                                                  "the defence engages until it identifies it")
    reaction: Reaction | None = Field(None, description="what it does when its warning receiver says it is "
                                                        "engaged: turn away, descend or abort")

    @field_validator("decoy", mode="before")
    @classmethod
    def _decoy_flag(cls, v):
        if v is True:
            return {}
        if v is False:
            return None
        return v

    @model_validator(mode="after")
    def _decoy_fits(self) -> "Threat":
        if self.decoy is not None and self.mission is not None and _mission_kind(self.mission).releases:
            raise ValueError(f"a decoy releases no weapons: give it a route and a target, not a "
                             f"{self.mission.kind} mission")
        return self

    @model_validator(mode="after")
    def _mission_fits(self) -> "Threat":
        m = self.mission
        if m is None:
            return self
        k = _mission_kind(m)
        if k.returns and self.target is not None:
            raise ValueError(f"a {m.kind} mission returns from its sortie: give the asset to the weapon "
                             "(mission.weapon.target), not threats[].target")
        if k.needs_target and self.target is None:
            raise ValueError(f"a {m.kind} mission needs a target asset")
        if k.returns and self.orbit is not None:
            raise ValueError("use mission.station (ISR) instead of orbit with a mission")
        if k.returns and len(self.route) < 1:
            raise ValueError("a mission needs a route of at least one waypoint (its base)")
        k.check_threat(self)
        return self

    @model_validator(mode="after")
    def _has_path(self) -> "Threat":
        if self.orbit is None and len(self.route) < 2 and not (self.mission and _mission_kind(self.mission).returns):
            raise ValueError("needs a route of at least 2 waypoints, or an orbit")
        if self.orbit is not None and len(self.route) == 0:
            raise ValueError("an orbit needs a route of at least one waypoint to enter it")
        return self


class FigureOverride(_Model):
    """A catalog figure's value (and range) for this scenario, with the reason."""

    value: float
    low: float | None = None
    high: float | None = None
    reason: str = Field("", max_length=500)


class Option(_Model):
    """A named alternative to the scenario as written (fields set by path, as `iadsim sweep
    --vary`), run beside it so that the report can answer the question option by option."""

    name: Name
    description: str = Field("", max_length=2000)
    set: dict[str, bool | int | float | str] = Field(
        default_factory=dict, description="scenario fields to set, by path: e.g. {'effectors[buk].enabled': false}")


class CommandPost(_Model):
    """The node that fuses the picture and assigns targets; lost, every fire unit is on its own."""

    name: Name
    lost_at_s: float | None = Field(None, ge=0.0, le=7 * 86400.0,
                                    description="time it is lost [s] (in a loss_probability share of the runs); "
                                                "default never")
    loss_probability: float = Field(1.0, ge=0.0, le=1.0,
                                    description="probability per run that it is lost at lost_at_s [1]")


class Link(_Model):
    """The link of a fire unit or radar to the command post, and when it is lost."""

    unit: Name = Field(description="name of a fire unit or sensor")
    down_at_s: float = Field(0.0, ge=0.0, le=7 * 86400.0, description="time the link goes down [s]")
    loss_probability: float = Field(1.0, ge=0.0, le=1.0,
                                    description="probability per run that it goes down (at down_at_s) [1]")


class C2(_Model):
    """Command and control of the defence: how fire units get their tracks and permission to fire."""

    mode: Literal["integrated", "autonomous"] = Field(
        "integrated", description="'integrated': one central picture, any radar cues any fire unit; 'autonomous': "
                                  "each fire unit engages only what its own radar tracks")
    engagement_authority_s: float = Field(
        0.0, ge=0.0, le=3600.0, description="identification / engagement-authority delay between a firm track and "
                                            "permission to fire, added to every unit's reaction time [s]")
    alert: AlertState = Field("high", description="alert state of every fire unit without its own 'alert'")
    command_post: CommandPost | None = None
    links: list[Link] = Field(default_factory=list,
                              description="links to the command post that are lost; a fire unit whose link is down "
                                          "engages only its own radar's tracks, a radar's detections no longer "
                                          "reach the picture")


class Scenario(_Model):
    """An iadsim scenario: terrain, defence, assets, threats and run settings."""

    schema_version: Literal[1] = SCHEMA_VERSION
    name: Name
    title: str = ""
    description: str = ""
    question: str = Field("", max_length=2000, description="the question the scenario answers; the report opens "
                                                           "with the answer")
    options: list[Option] = Field(default_factory=list, max_length=32,
                                  description="alternatives run beside the scenario as written (each with its "
                                              "own fields set); the report compares them")
    terrain: Terrain
    simulation: Simulation = Field(default_factory=Simulation)
    assets: list[Asset] = Field(default_factory=list)
    effectors: list[Effector] = Field(default_factory=list)
    sensors: list[Sensor] = Field(default_factory=list)
    threats: list[Threat] = Field(min_length=1)
    c2: C2 | None = Field(None, description="command and control: integrated or autonomous, engagement authority, "
                                            "alert state, command post and lost links; default integrated")
    catalog: dict[str, dict[str, float | FigureOverride]] = Field(
        default_factory=dict,
        description="overrides of catalog figures for this scenario: SYSTEM: {FIGURE: VALUE or "
        "{value, low, high, reason}}; listed in the report as overrides")
    plugins: list[str] = Field(
        default_factory=list, max_length=32,
        description="Python files (relative to the scenario file) that register sensor or effector types; "
                    "they are code, run only when the user allows it (iadsim run --allow-plugins; "
                    "load_scenario(..., allow_plugins=True)) or names them with --plugin")
    catalog_folders: list[str] = Field(
        default_factory=list, max_length=32,
        description="folders of extra catalog entries (*.yaml, relative to the scenario file), read over "
                    "the bundled catalog (an entry of the same name replaces the bundled one)")

    @model_serializer(mode="wrap")
    def _without_empty_plugins(self, handler):
        out = handler(self)
        if isinstance(out, dict):   # a scenario without plugins dumps (and hashes) as before
            for key in ("plugins", "catalog_folders"):
                if not out.get(key, True):
                    out.pop(key, None)
        return out

    @field_validator("assets", "effectors", "sensors", "threats", "options")
    @classmethod
    def _unique_names(cls, items: list) -> list:
        seen: set[str] = set()
        for item in items:
            if item.name in seen:
                raise ValueError(f"name {item.name!r} is used twice")
            seen.add(item.name)
        return items


def check_seed(seed: object, source: str = "seed", field: str = "simulation.seed") -> int:
    """A seed given outside the scenario file (``--seed``, ``simulate(seed=...)``) checked like the
    scenario's own: an integer, 0 <= seed < 2**63. Raises InputError otherwise."""
    from iadsim.errors import InputError

    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
        shown = repr(seed) if len(repr(seed)) <= 40 else repr(seed)[:37] + "..."
        raise InputError.single(source, field, f"seed must be an integer from 0 to 2**63 - 1 "
                                f"({SEED_LIMIT - 1}); got {shown}")
    return int(seed)
