"""The engine: compile a scenario to a World, then step replications in compiled code."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iadsim.engine.kernel import (
    EVENT_NAMES, MAX_EVENTS, POLICY_PYTHON, run_chunk, run_chunk_serial, use_policy,
)
from iadsim.engine.parameters import Parameters, apply_readiness, nominal, sampled
from iadsim.engine.rng import replication_keys
from iadsim.engine.world import MODELS_USED, World, compile_world

__all__ = ["ChunkResult", "EVENT_NAMES", "MODELS_USED", "Parameters", "World", "chunk_parameters",
           "compile_world", "simulate_chunk"]


@dataclass
class ChunkResult:
    """Raw outcomes of replications first .. first+count-1 (steps; -1 = never)."""

    first: int
    count: int
    det_step: np.ndarray     # [R, M]
    firm_step: np.ndarray    # [R, M]
    eng_step: np.ndarray     # [R, M]
    shots: np.ndarray        # [R, M]
    kill_step: np.ndarray    # [R, M]
    killer: np.ndarray       # [R, M] fire unit index or -1
    leak_step: np.ndarray    # [R, M]
    expended: np.ndarray     # [R, E]
    events: np.ndarray | None = None  # structured array of the recorded replication, if in chunk
    draws: dict[tuple[str, str], np.ndarray] | None = None  # sampled figures (system, key) -> [R]
    #: full fidelity only: [R, 3] tracks created, tracks confirmed, mean position error of confirmed
    #: tracks after their updates [m] (columns named by iadsim.engine.full.TRACK_STATS)
    track_stats: np.ndarray | None = None
    #: [R, M] step at which each decoy was identified (-1: never, or not a decoy); None: no decoys
    ident_step: np.ndarray | None = None
    #: with a defence state (failures, emission control, C2 links; iadsim.engine.defstate): [R, S] steps
    #: each radar radiated (until the replication's last threat was done); None otherwise
    radiating: np.ndarray | None = None
    #: with relocating fire units (iadsim.engine.scoot): [R, G, L, 2] per move of each relocating unit
    #: the step it began to pack and the step it was set up at its next site (-1: never), and
    #: [R, G, L + 1] the sites it stood at in turn (0: its own site, k: relocate.sites[k - 1]);
    #: iadsim.engine.scoot.active_site gives its site per step. None otherwise
    relocation_log: np.ndarray | None = None
    relocation_sites: np.ndarray | None = None
    #: with reacting threats (iadsim.engine.react): [R, M] step at which each sortie switched to a
    #: reaction or abort path (-1: never) and the branch member it switched to; None otherwise
    react_step: np.ndarray | None = None
    react_to: np.ndarray | None = None
    #: with gun-missile fire units (iadsim.engine.mixed; both fidelities): [R, E] bursts each unit fired
    #: (its missiles stay in ``expended``); None otherwise
    bursts: np.ndarray | None = None
    #: with threat weapons aimed at sites (iadsim.engine.sites): [R, S] step at which each site (fire
    #: unit or radar) was first put out (-1: never); None otherwise
    site_kill: np.ndarray | None = None


EVENT_DTYPE = np.dtype([("step", "i8"), ("type", "i8"), ("unit", "i8"), ("threat", "i8"), ("n", "i8")])


def chunk_parameters(world: World, seed: int, first: int, count: int) -> Parameters:
    """The figures replications first .. first+count-1 run with (the scenario's uncertainty mode)."""
    if world.scenario.simulation.uncertainty in ("sample", "sample-calibrated"):
        p = sampled(world, seed, first, count)
    else:
        p = nominal(world, count)
    apply_readiness(world, p, seed, first)   # which units are available (scenario readiness)
    return p


def simulate_chunk(world: World, seed: int, first: int, count: int, record_rep: int = -1,
                   params: Parameters | None = None, keys: np.ndarray | None = None,
                   policy: str | None = None, track_capture: np.ndarray | None = None) -> ChunkResult:
    """Run ``count`` replications starting at global index ``first``; pure function of its inputs.

    ``params`` overrides the per-replication figures (default: :func:`chunk_parameters`);
    ``keys`` [count, 2] overrides the replications' random keys (e.g. to reuse the same random
    numbers across the design points of a sensitivity analysis); ``policy`` overrides the
    scenario's weapon-target assignment policy. ``track_capture`` (full fidelity, a debugging aid): a
    float buffer [N, :data:`iadsim.tracking.core.CAPTURE_COLS`] that receives what the tracker of
    replication ``record_rep`` was fed, scan by scan (:func:`iadsim.tracking.core.capture_scan`)."""
    from iadsim.engine import scoot
    from iadsim.engine.defstate import inactive
    from iadsim.engine.mixed import GunSide
    from iadsim.engine.records import Outputs
    from iadsim.engine.sites import SiteAttacks

    M = world.pos.shape[1]
    E = len(world.effector_labels)
    if keys is None:
        keys = replication_keys(seed, first, count)
    if params is None:
        params = chunk_parameters(world, seed, first, count)
    local = record_rep - first if first <= record_rep < first + count else -1
    code = use_policy(policy or world.scenario.simulation.policy)
    sc = scoot.kernel_inputs(world, seed, first, count)
    world_in, params_in = world, params
    if world.scoot is not None:   # relocating fire units: the kernels run with each site's copy
        world_in, params_in = scoot.expanded(world), scoot.expand_parameters(world, params)
    ds = params_in.defstate if params_in.defstate is not None else inactive(world_in, count)
    rx = world.react_inputs()
    if world_in is not world:   # relocating units' copies: each radar's fire unit in the expanded world
        from iadsim.engine.react_world import radar_units

        rx = rx._replace(rad_unit=radar_units(world_in))
    sites = getattr(world, "sites", None)
    S = len(world_in.sensor_labels)
    site_in = sites.kernel_inputs() if sites is not None else SiteAttacks.empty_inputs(S)
    if sites is not None and world.scoot is not None:   # weapons fly to the site a relocating unit stood at
        site_in = scoot.site_inputs(world, site_in)
    side = getattr(world_in, "second_weapon", None)
    side = side if side is not None else GunSide.none(0, M, len(world_in.effector_labels))
    E_in = len(world_in.effector_labels)
    n_stats = 0
    if world.full is not None:
        from iadsim.engine.full import TRACK_STATS

        n_stats = len(TRACK_STATS)
    step = lambda: np.zeros((count, M), np.int64)   # noqa: E731
    out = Outputs(det_step=step(), firm_step=step(), eng_step=step(), shots=step(), kill_step=step(),
                  killer=step(), leak_step=step(), expended=np.zeros((count, E_in), np.int64),
                  stats=np.zeros((count, n_stats), np.float64),
                  ev_step=np.zeros(MAX_EVENTS, np.int64), ev_type=np.zeros(MAX_EVENTS, np.int64),
                  ev_e=np.zeros(MAX_EVENTS, np.int64), ev_m=np.zeros(MAX_EVENTS, np.int64),
                  ev_n=np.zeros(MAX_EVENTS, np.int64), ident_step=np.full((count, M), -1, np.int64),
                  radiating=np.zeros((count, S), np.int64), react_step=np.full((count, M), -1, np.int64),
                  react_to=np.full((count, M), -1, np.int64), bursts=np.zeros((count, E_in), np.int64),
                  site_kill=np.full((count, S if sites is not None else 0), -1, np.int64))
    if world.full is not None:
        from iadsim.engine.full import run_chunk_full, run_chunk_full_serial

        kernel = run_chunk_full_serial if code == POLICY_PYTHON else run_chunk_full
        n = kernel(keys, local, code, world_in.full.kernel_settings(world_in), world_in.full.kernel_inputs(world_in),
                   params_in.kernel_inputs(world_in), out, world_in.ew_inputs(), ds.kernel_inputs(world_in), sc, rx,
                   site_in, side.kernel_inputs(),
                   *(() if track_capture is None else (track_capture,)))
    else:
        kernel = run_chunk_serial if code == POLICY_PYTHON else run_chunk
        n = kernel(keys, local, code, world_in.kernel_inputs(), params_in.kernel_inputs(world_in), out,
                   world_in.ew_inputs(), ds.kernel_inputs(world_in), sc, rx, side.kernel_inputs(), site_in)
    events = None
    if local >= 0:
        events = np.zeros(n, EVENT_DTYPE)
        for name, arr in zip(EVENT_DTYPE.names, (out.ev_step, out.ev_type, out.ev_e, out.ev_m, out.ev_n)):
            events[name] = arr[:n]
    expended, radiating, site_kill = out.expended, out.radiating, out.site_kill
    outcomes = {k: getattr(out, k) for k in
                ("det_step", "firm_step", "eng_step", "shots", "kill_step", "killer", "leak_step")}
    if world.scoot is not None:   # the copies' outcomes count for their fire unit
        expended, radiating = scoot.fold(world, outcomes, expended, radiating, events)
        if events is not None:
            events = scoot.with_events(world, events, sc.sc_log[local], sc.sc_seq[local])
    return ChunkResult(first, count, expended=expended, events=events, draws=params.draws,
                       track_stats=out.stats if world.full is not None else None,
                       ident_step=out.ident_step if world.ew is not None and world.ew.has_decoys else None,
                       radiating=radiating if ds.active else None,
                       relocation_log=sc.sc_log if world.scoot is not None else None,
                       relocation_sites=sc.sc_seq if world.scoot is not None else None,
                       react_step=out.react_step if rx.rx_on else None, react_to=out.react_to if rx.rx_on else None,
                       bursts=out.bursts[:, :E] if getattr(world, "second_weapon", None) is not None
                       else None,   # relocation copies (after the E units) carry no guns
                       site_kill=(None if sites is None else site_kill if world.scoot is None
                                  else scoot.fold_sites(world, site_kill)), **outcomes)


def compiled_cache_warm(fidelity: str = "fast") -> bool:
    """Whether the compiled kernel of ``fidelity`` is in numba's on-disk cache for this source (so a
    run starts at once); False means the first call compiles it (~30-60 s, once)."""
    try:
        if fidelity == "full":
            from iadsim.engine.full import run_chunk_full as disp
        else:
            from iadsim.engine.kernel import run_chunk as disp
        return bool(disp._cache._cache_file._load_index())
    except Exception:  # noqa: BLE001 - numba internals: when unsure, say nothing
        return True
