"""Compiling reacting threats: their branch members and the kernels' reaction arrays
(:mod:`iadsim.engine.react`, :mod:`iadsim.missions.reaction`)."""

from __future__ import annotations

import numpy as np

from iadsim.engine.react import MEASURE_CODES, TRIG_LAUNCH, TRIG_TRACK, ReactArrays
from iadsim.engine.trajectory import sample_path
from iadsim.errors import InputError, Problem
from iadsim.missions.reaction import ABANDONING, MAX_BRANCHES_PER_PATH, branch_times, reaction_path

#: kinds of branch: the warning receiver's reaction, the abort rule's abort
KIND_REACTION, KIND_ABORT = 0, 1


def add_branches(ld, i: int, thr, sortie, terrain, t0: float, dt: float, nsteps: int, carrier: int,
                 label: str, first: int, end: int, member, branch_info: dict) -> None:
    """Add the branch members of sortie member ``carrier`` (scenario threat ``i``, launched at
    ``t0`` [s], flying steps first .. end): its reaction branches, then its abort branches, each as
    a member (``member``: compile_world's), recorded in ``branch_info``."""
    where = f"threats[{i}]"
    sets = []
    if thr.reaction is not None:
        sets.append((KIND_REACTION, thr.reaction.action, thr.reaction, f"{where}.reaction.branch_every_s"))
    ab = thr.mission.abort_if if thr.mission is not None else None
    if ab is not None:
        sets.append((KIND_ABORT, "abort", ab, f"{where}.mission.abort_if.branch_every_s"))
    from iadsim.missions.base import MissionContext  # noqa: F401  (the mission modules plan the paths)

    ground_at = lambda x, y: float(terrain.height_at(x, y))  # noqa: E731
    for kind, action, spec, field in sets:
        times = branch_times(sortie.path, spec.branch_every_s)
        if times.size > MAX_BRANCHES_PER_PATH:
            raise InputError([Problem(ld.source, field,
                                      f"{times.size} branch points along {thr.name!r}'s path; at most "
                                      f"{MAX_BRANCHES_PER_PATH}: raise branch_every_s")])
        for tb in times:
            step = int(np.ceil((t0 + tb) / dt - 1e-9))
            if step <= first or step >= min(end, nsteps):
                continue
            bpath = reaction_path(sortie.path, float(tb), action, spec, ground_at)
            pos, vel, bfirst, bend = sample_path(bpath, terrain, t0 + float(tb), dt, nsteps)
            if bfirst >= nsteps:
                continue
            keeps = action not in ABANDONING
            idx = member(pos, vel, bfirst, bend, f"{label}~{action}@{tb:g}s", carrier, keeps)
            branch_info[idx] = (carrier, kind, keeps, not keeps)


def react_arrays(world, branch_info: dict) -> ReactArrays:
    """The kernels' reaction arrays of a compiled world with branch members."""
    s = world.scenario
    M = world.pos.shape[1]
    T = world.nsteps
    root = np.full(M, -1, np.int64)
    keeps = np.zeros(M, np.bool_)
    abandons = np.zeros(M, np.bool_)
    rx_first = np.full(M, -1, np.int64)
    rx_count = np.zeros(M, np.int64)
    ab_first = np.full(M, -1, np.int64)
    ab_count = np.zeros(M, np.int64)
    for b in sorted(branch_info):
        r, kind, kp, abn = branch_info[b]
        root[b] = r
        keeps[b] = kp
        abandons[b] = abn
        first, count = (rx_first, rx_count) if kind == KIND_REACTION else (ab_first, ab_count)
        if count[r] == 0:
            first[r] = b
        count[r] += 1
    trigger = np.zeros(M, np.int64)
    delay = np.zeros(M, np.int64)
    measure = np.full(M, -1, np.int64)
    above = np.zeros(M, np.bool_)
    value = np.zeros(M)
    roles = world.missions.role if world.missions is not None else ["threat"] * M
    weapon = np.array([r == "weapon" for r in roles], dtype=np.bool_)
    for m in range(M):
        if root[m] >= 0 or weapon[m]:
            continue
        thr = s.threats[int(world.threat_group[m])]
        if thr.reaction is not None:
            trigger[m] = TRIG_LAUNCH if thr.reaction.on == "launch" else TRIG_TRACK
            delay[m] = int(np.ceil(thr.reaction.delay_s / world.dt - 1e-9))
        ab = thr.mission.abort_if if thr.mission is not None else None
        if ab is not None:
            measure[m] = MEASURE_CODES[ab.measure]
            above[m] = ab.above is not None
            value[m] = ab.above if ab.above is not None else ab.below
    rad_unit = radar_units(world)
    env_cum = np.zeros((0, 0), np.int32)
    if np.any(measure == MEASURE_CODES["exposure_s"]):
        from iadsim.missions.measures import envelope_mask

        inside = np.zeros((T, M), bool)
        for e in range(len(world.effector_labels)):
            inside |= envelope_mask(world, e)
        env_cum = np.zeros((T + 1, M), np.int32)
        np.cumsum(inside, axis=0, dtype=np.int32, out=env_cum[1:])
    return ReactArrays(root=root, rx_first=rx_first, rx_count=rx_count, ab_first=ab_first, ab_count=ab_count,
                       keeps=keeps, abandons=abandons, trigger=trigger, delay=delay, measure=measure, above=above,
                       value=value, group=np.asarray(world.threat_group, dtype=np.int64), weapon=weapon,
                       rad_unit=rad_unit, env_cum=env_cum, dt=float(world.dt))


def radar_units(world) -> np.ndarray:
    """[S] the fire unit whose organic radar each radar is (-1: a stand-alone radar)."""
    rad_unit = np.full(len(world.sensor_labels), -1, np.int64)
    rad_unit[np.asarray(world.effector_sensor, dtype=np.int64)] = np.arange(len(world.effector_labels))
    return rad_unit
