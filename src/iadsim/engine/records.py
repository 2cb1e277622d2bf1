"""The compiled kernels' inputs and outputs as typed records with named fields.

Each record is a :class:`typing.NamedTuple` of arrays and scalars; numba types it field by field
(a read-only array, as Ray's object store hands out, is its own type), the kernels read its fields
by name (``w.first_step``), and a record built with a missing or misspelt field is a ``TypeError``
on the Python side. Who builds each record:

=====================  ========================================================================
record                 built by
=====================  ========================================================================
``WorldArrays``        ``World.kernel_inputs()`` (fast kernel; iadsim.engine.world)
``FullWorldArrays``    ``FullWorld.kernel_inputs(world)`` (full-fidelity kernel)
``Settings``           ``FullWorld.kernel_settings(world)`` (full-fidelity kernel's scalars)
``TerrainGrid``        inside the full-fidelity kernel from ``Settings`` (line-of-sight lookups)
``ParamArrays``        ``Parameters.kernel_inputs(world)`` (per replication, leading axis R)
``Outputs``            ``iadsim.engine.simulate_chunk`` (filled in place by the kernels)
``EWArrays``           ``EW.kernel_inputs(M)`` via ``World.ew_inputs()`` (iadsim.engine.ew)
``DefStateArrays``     ``DefState.kernel_inputs(world)`` (iadsim.engine.defstate)
``ScootArrays``        ``iadsim.engine.scoot.kernel_inputs``
``ReactionArrays``     ``ReactArrays.kernel_inputs()`` / ``react.inactive_inputs`` via
                       ``World.react_inputs()`` (iadsim.engine.react)
``SiteArrays``         ``SiteAttacks.kernel_inputs()`` / ``SiteAttacks.empty_inputs(S)``
``GunArrays``          ``GunSide.kernel_inputs()`` (iadsim.engine.mixed; both kernels)
=====================  ========================================================================

Field names are the kernels' local names; ``tests/test_kernel_records.py`` checks that every field
is read by a kernel under its name.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class WorldArrays(NamedTuple):
    """The fast kernel's run-wide arrays (iadsim.engine.world.World; T steps, S radars, E fire units,
    M threat members)."""

    nsteps: int                     # steps of the run
    first_step: np.ndarray          # [M] first step each member flies
    end_step: np.ndarray            # [M] step each member reaches the end of its route
    parent: np.ndarray              # [M] carrier of a released weapon (-1: none)
    target: np.ndarray              # [M] asset each member attacks (-1: none)
    priority: np.ndarray            # [T, M] urgency score [1/s]
    scan: np.ndarray                # [T, S] bool: radar s looks at step t
    snr: np.ndarray                 # [T, S, M] signal-to-noise ratio [1]
    tof: np.ndarray                 # [T, M, E] flyout time to the intercept [steps]
    pip_ok: np.ndarray              # [T, M, E] bool: the PIP is feasible (World.pip_ok)
    pip_r: np.ndarray               # [T, M, E] slant range of the PIP from the site [m]
    pip_agl: np.ndarray             # [T, M, E] PIP height above the ground below it [m]
    pip_above: np.ndarray           # [T, M, E] PIP height above the fire unit's site [m]
    act_ok: np.ndarray              # [T, M, E] the target flying and in sight at intercept
    act_r: np.ndarray               # the same three coordinates of the target at intercept
    act_agl: np.ndarray
    act_above: np.ndarray
    pk_geo: np.ndarray              # [T, M, E] engagement factor of the single-shot Pk [1]
    reloads0: np.ndarray            # [E] missiles in reload stock at the start
    salvo: np.ndarray               # [E] missiles per engagement
    max_eng: np.ndarray             # [E] engagements of one threat at most
    assess_steps: np.ndarray        # [E] kill assessment time [steps]
    min_interval_steps: np.ndarray  # [E] launch interval [steps]
    fire_mode: np.ndarray           # [E] FIRE_HOLD / FIRE_TIGHT / FIRE_FREE
    latency_steps: int              # C2 track latency [steps]
    drop_steps: int                 # a track is dropped after this many steps without a detection


class FullWorldArrays(NamedTuple):
    """The full-fidelity kernel's run-wide arrays (iadsim.engine.world.FullWorld and World)."""

    first_step: np.ndarray
    end_step: np.ndarray
    parent: np.ndarray
    target: np.ndarray
    values: np.ndarray              # [M] threat value (by type)
    pos: np.ndarray                 # [T, M, 3] true threat positions [m]
    scan: np.ndarray
    snr: np.ndarray
    meas_r: np.ndarray              # [T, S, M] true slant range [m]
    meas_az: np.ndarray             # [T, S, M] true azimuth [rad]
    meas_el: np.ndarray             # [T, S, M] true elevation [rad]
    sensor_xyz: np.ndarray          # [S, 3] radar positions [m]
    sigma: np.ndarray               # [S, 3] measurement noise (range [m], azimuth, elevation [rad])
    min_el: np.ndarray              # [S] lowest elevation covered [rad]
    sens_range: np.ndarray          # [S] instrumented range [m]
    elev: np.ndarray                # [ny, nx] terrain [m MSL]
    mva: np.ndarray                 # [S, ny, nx] minimum visible altitude rasters [m MSL]
    assets: np.ndarray              # [A, ...] defended assets (World.asset_info)
    eff_xyz: np.ndarray             # [E, 3] fire unit positions [m]
    tab_tof: np.ndarray             # [E, NR, NH] flyout time-of-flight tables [s]
    tab_spd: np.ndarray             # [E, NR, NH] flyout speed tables [m/s]
    flpar: np.ndarray               # [E, FLYOUT_PAR_LEN] flyout and Pk-model parameters
    fc_of: np.ndarray               # [S] fire unit whose radar is s (-1: none)
    max_el: np.ndarray              # [S] highest elevation covered [rad]
    ref_pd: np.ndarray              # [S] detection probability at the reference range [1]
    reloads0: np.ndarray
    salvo: np.ndarray
    max_eng: np.ndarray
    assess_steps: np.ndarray
    min_interval_steps: np.ndarray
    fire_mode: np.ndarray
    gun_vuln: np.ndarray            # [M, 2] presented area and kill probability per hit of each member


class TerrainGrid(NamedTuple):
    """The terrain grid's bounds (local x, y [m]) and cell size [m] for line-of-sight lookups; built
    inside the full-fidelity kernel from its Settings (five floats, cheap to pass on)."""

    xmin: float
    ymax: float
    xmax: float
    ymin: float
    res: float


class Settings(NamedTuple):
    """The full-fidelity kernel's run-wide scalars (scenario.simulation and the terrain grid)."""

    dt: float                       # time step [s]
    xmin: float                     # terrain grid bounds [m] (local x, y) and cell size [m]: the kernel
    ymax: float                     # passes them on as a TerrainGrid to its line-of-sight lookups
    xmax: float
    ymin: float
    res: float
    qn: float                       # process noise spectral density (process_noise_m_s2 ** 2)
    gamma: float                    # association gate (chi-square, 3 degrees of freedom)
    basket: float                   # seeker basket [m]
    vmax: float                     # speed bound of new tracks' velocity prior [m/s]
    gamma_init: float               # track initiation gate
    fa_cells: float                 # false-alarm cells per scan (0: no false alarms)
    omega: float                    # IMM turn rate [rad/s]
    p_switch: float                 # IMM switch probability [1]
    fa_value: float                 # value of a track no threat explains
    p_gate: float                   # gate probability [1]
    cpa_scale: float                # closest-approach scale [m]
    nsteps: int                     # steps of the run
    conf_m: int                     # M-of-N track confirmation
    conf_n: int
    del_steps: int                  # a track is deleted after this many steps without an update
    use_imm: bool                   # IMM filter (else one constant-velocity Kalman filter)
    use_jpda: bool                  # JPDA association (else nearest neighbour)
    fc_looks: int                   # fire-control looks before a launch


class ParamArrays(NamedTuple):
    """Per-replication figures (iadsim.engine.parameters.Parameters; leading axis R)."""

    pk1: np.ndarray                 # [R, E] single-shot kill probability [1]
    beta: np.ndarray                # [R, E] salvo common-cause factor [1]
    rmin: np.ndarray                # [R, E] minimum range [m]
    rmax: np.ndarray                # [R, E] maximum range [m]
    hmin: np.ndarray                # [R, E] minimum altitude [m]
    hmax: np.ndarray                # [R, E] maximum altitude [m]
    channels: np.ndarray            # [R, E] engagement channels
    ready0: np.ndarray              # [R, E] missiles ready at the start
    reload_steps: np.ndarray        # [R, E] reload time [steps]
    reaction_steps: np.ndarray      # [R, E] reaction time [steps]
    snr_scale: np.ndarray           # [R, S, M] factor on the SNR [1]
    pfa: np.ndarray                 # [R, S] false-alarm probability [1]
    js_scale: np.ndarray            # [R, S, J] factor on each jammer's J/S (1: nominal figures)


class Outputs(NamedTuple):
    """What the kernels write (filled in place; [R, ...] per replication, events of one replication)."""

    det_step: np.ndarray            # [R, M] first detection (-1: never)
    firm_step: np.ndarray           # [R, M] firm track
    eng_step: np.ndarray            # [R, M] first engagement
    shots: np.ndarray               # [R, M] missiles fired at it
    kill_step: np.ndarray           # [R, M]
    killer: np.ndarray              # [R, M] fire unit (-1: none)
    leak_step: np.ndarray           # [R, M]
    expended: np.ndarray            # [R, E] missiles fired
    stats: np.ndarray               # [R, len(TRACK_STATS)] full fidelity's track statistics ([R, 0]: fast)
    ev_step: np.ndarray             # [MAX_EVENTS] the recorded replication's events
    ev_type: np.ndarray
    ev_e: np.ndarray
    ev_m: np.ndarray
    ev_n: np.ndarray
    ident_step: np.ndarray          # [R, M] decoy identified (-1: never)
    radiating: np.ndarray           # [R, S] steps each radar radiated
    react_step: np.ndarray          # [R, M] switch to a reaction branch (-1: never)
    react_to: np.ndarray            # [R, M] the branch member switched to
    bursts: np.ndarray              # [R, E] gun bursts fired
    site_kill: np.ndarray           # [R, S] site first put out (-1: never)


class EWArrays(NamedTuple):
    """Jammers and decoys (iadsim.engine.ew; empty arrays when the scenario has neither)."""

    jam_js: np.ndarray              # [T, S, M, J] J/S of each jammer at radar s looking at m [1]
    jam_owner: np.ndarray           # [J] the member carrying each jammer
    decoy_p: np.ndarray             # [M] identification probability per look (-1: not a decoy)


class DefStateArrays(NamedTuple):
    """Failures, emission control and C2 links (iadsim.engine.defstate.DefState)."""

    ds_on: bool                     # whether the defence state is in use
    toggles: np.ndarray             # [R, S, K] steps at which unit s changes state (up <-> down)
    up0: np.ndarray                 # [R, S] up at the start
    emcon_mode: np.ndarray          # [S] EMCON_* code
    duty_period: np.ndarray         # [S] [steps]
    duty_on: np.ndarray             # [S] [steps]
    duty_phase: np.ndarray          # [R, S] [steps]
    warmup: np.ndarray              # [S] [steps]
    ambush_r: np.ndarray            # [S] ambush trigger slant range [m]
    cue: np.ndarray                 # [S, S] bool
    link_down: np.ndarray           # [R, S] step the unit is cut from the command post
    autonomous: bool
    radar_xyz: np.ndarray           # [S, 3] radar positions [m]
    pos: np.ndarray                 # [T, M, 3] threat positions [m]


class ScootArrays(NamedTuple):
    """Relocating fire units (iadsim.engine.scoot; G relocating units, L moves at most)."""

    sc_on: bool
    sc_group: np.ndarray            # [E + V] relocating unit of each expanded fire unit (-1: none)
    sc_units: np.ndarray            # [G, K] expanded unit standing at site k of each relocating unit
    sc_after: np.ndarray            # [G] engagements before a move
    sc_steps: np.ndarray            # [G, K, K] pack + move + set-up from site a to site b [steps]
    sc_seq: np.ndarray              # [R, G, L + 1] sites in turn
    sc_log: np.ndarray              # [R, G, L, 2] filled by the kernel: packing and set-up steps


class ReactionArrays(NamedTuple):
    """Reacting threats' branches (iadsim.engine.react.ReactArrays, whose docstring gives each array;
    nothing read when no threat reacts)."""

    rx_on: bool
    rx_root: np.ndarray
    rx_first: np.ndarray
    rx_count: np.ndarray
    ab_first: np.ndarray
    ab_count: np.ndarray
    rx_keeps: np.ndarray
    rx_trig: np.ndarray
    rx_delay: np.ndarray
    rx_measure: np.ndarray
    rx_above: np.ndarray
    rx_value: np.ndarray
    rx_group: np.ndarray
    rx_weapon: np.ndarray
    rad_unit: np.ndarray            # [S] fire unit of each radar (-1: none)
    env_cum: np.ndarray
    rx_dt: float


class SiteArrays(NamedTuple):
    """Threat weapons aimed at sites (iadsim.engine.sites; empty arrays when none)."""

    site_of: np.ndarray             # [M] site each member attacks (-1: none)
    site_p: np.ndarray              # [M] its kill probability on the site [1]
    arm_steps: np.ndarray           # [M] anti-radiation terminal phase [steps]
    site_repair: np.ndarray         # [S] how long a hit puts the site out [steps] (0: the rest of the run)


class GunArrays(NamedTuple):
    """The guns of gun-missile fire units (iadsim.engine.mixed.GunSide; G guns, both kernels)."""

    gun_of: np.ndarray              # [E] gun index of each unit (-1: none)
    g_ok: np.ndarray                # [T, M, G] bool (fast kernel)
    g_tof: np.ndarray               # [T, M, G] shell flight time [steps] (fast kernel)
    g_pk: np.ndarray                # [T, M, G] kill probability of a burst [1] (fast kernel)
    g_tab_tof: np.ndarray           # [G, NR, NH] shell time-of-flight tables [s] (full fidelity)
    g_tab_spd: np.ndarray           # [G, NR, NH] shell speed tables [m/s] (full fidelity)
    g_par: np.ndarray               # [G, FLYOUT_PAR_LEN] the guns' parameter rows (full fidelity)
    g_mag0: np.ndarray              # [E] bursts in each unit's magazine


#: every record type the kernels take
RECORDS = (WorldArrays, FullWorldArrays, Settings, TerrainGrid, ParamArrays, Outputs, EWArrays, DefStateArrays,
           ScootArrays, ReactionArrays, SiteArrays, GunArrays)
