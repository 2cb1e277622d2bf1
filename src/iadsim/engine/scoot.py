"""Shoot-and-scoot: fire units that relocate to candidate sites after firing.

Scenario field ``effectors[].relocate`` (``docs/defence-state.md``): after ``after_launches``
engagements (salvos) at a site, once its missiles in flight have finished (it guides them), the fire
unit packs up, moves and sets up at its next site; for ``pack_s + move + setup_s`` (rounded up to
whole steps) it neither detects nor launches; then it detects with the new site's radar geometry
and line-of-sight raster and launches from there with the missiles (and reload stock, and a reload
under way) it carried. Sites come in sequence (``site``, ``sites[0]``, ... and round again) or at
random among the others, drawn from ``SeedSequence(seed, spawn_key=(i, 1, 10))`` for replication *i*.

How the engine does it: each candidate site is compiled as a *virtual copy* of the fire unit (its
own organic radar, line-of-sight raster, SNR and engagement geometry) in an auxiliary World on the
same grid and terrain (:func:`compile_scoot`). At run time the kernels get the expanded arrays
(:func:`expanded`): fire units ``[E real, V virtual]``, radars ``[E real units', V virtual, the
stand-alone radars]`` (so a fire unit's own radar keeps the unit's index, as the defence state
assumes). Only one copy of a group is live at a time (``sc_live``); they share one magazine, which
moves with the unit. The outputs are folded back onto the real unit (:func:`fold`): results, tables
and events name the unit, never a copy.

For an anti-radiation or SEAD weapon model: inside the kernels ``sc_live[e]`` says whether the copy
``e`` (unit index in the expanded arrays; real unit *g*'s site *k* is ``sc_units[g, k]``) stands set
up at step t; a weapon aimed at a site whose copy is not live misses a unit that has moved. After a
run, :func:`active_site` gives each relocating unit's site per step (-1 while it moves) from the
chunk's ``relocation_log`` and ``relocation_sites``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numba
import numpy as np

#: the replication's stream of random site orders: SeedSequence(seed, spawn_key=(i, 1, SPAWN_KEY))
SPAWN_KEY = 10
#: at most this many moves per unit and replication are simulated (then it stays where it is)
MAX_MOVES = 64

MODEL_TEXT = ("shoot-and-scoot: a fire unit with relocate sites moves after its set number of engagements at a "
              "site, once its missiles in flight have finished (it guides them): for pack + move + set-up time "
              "(the analyst's figures; move time given, or the straight-line distance at the march speed) it "
              "neither detects nor launches, then it detects and launches from the new site with that site's "
              "line-of-sight raster, carrying its missiles, reload stock and any reload under way; sites in "
              "sequence or drawn at random among the others. Leaves out: a road network (straight lines or a "
              "given time), detection or attack of the unit while it moves, hiding at a site, a unit moving "
              "before its magazine is empty on warning, failures or emission control drawn per site (a copy "
              f"shares the unit's), more than {MAX_MOVES} moves per run")


def uses_relocation(scen) -> bool:
    return any(getattr(e, "relocate", None) is not None for e in scen.effectors)


@dataclass
class Scoot:
    """A World's relocation groups. G relocating units, K sites at most, V virtual copies."""

    aux: object                # the World of the virtual copies (V fire units, their V radars)
    E: int                     # real fire units
    S: int                     # real radars
    master: np.ndarray         # [V] real fire unit of each virtual copy
    group_unit: np.ndarray     # [G] real fire unit of each group
    units: np.ndarray          # [G, K] expanded unit index of site k (k = 0: the unit's own site), -1 padded
    nsites: np.ndarray         # [G]
    after: np.ndarray          # [G] engagements before a move
    steps: np.ndarray          # [G, K, K] pack + move + set-up from site a to site b [steps]
    random: np.ndarray         # [G] bool: random order
    sites_lonlat: list         # [G] list of (lon, lat) per site
    _expanded: object = None   # cached expanded World

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_expanded"] = None   # rebuilt where it runs (a worker process), not pickled
        return state

    @property
    def group_of(self) -> np.ndarray:
        """[E + V] group of each expanded fire unit (-1: none)."""
        out = np.full(self.E + len(self.master), -1, np.int64)
        for g in range(self.units.shape[0]):
            for k in range(self.nsites[g]):
                out[self.units[g, k]] = g
        return out


def _refuse_gun_missile(ld, ei: int, e) -> None:
    """A gun-missile unit (Pantsir-S1, Tunguska: iadsim.engine.mixed) cannot relocate yet: its guns'
    geometry and burst magazine are not carried to the copies."""
    from iadsim.engine.mixed import is_gun_missile
    from iadsim.errors import InputError, Problem

    if is_gun_missile(ld.catalog[e.system]):
        raise InputError([Problem(ld.source, f"effectors[{e.name}].relocate",
                                  f"{e.system} is a gun-missile unit (missiles and guns on one vehicle); relocation "
                                  "is supported for missile and gun units only: remove relocate")])


def compile_scoot(ld, world) -> Scoot:
    """The virtual copies of every relocating fire unit, compiled on the World's grid and terrain."""
    from iadsim.engine.world import compile_world

    s = ld.scenario
    E = len(s.effectors)
    virt, master, groups = [], [], []
    for ei, e in enumerate(s.effectors):
        if e.relocate is None:
            continue
        _refuse_gun_missile(ld, ei, e)
        idx = [ei]
        for j, site in enumerate(e.relocate.sites):
            idx.append(E + len(virt))
            virt.append(e.model_copy(update={"name": f"{e.name}@{j + 1}", "site": site, "relocate": None}))
            master.append(ei)
        groups.append((ei, e, idx))
    aux_ld = _aux_loaded(ld, s.model_copy(update={"effectors": virt, "sensors": []}))
    aux = compile_world(aux_ld, _base=(world.grid, world.terrain, list(s.effectors) + list(s.sensors)))
    G = len(groups)
    K = max(len(g[2]) for g in groups)
    units = np.full((G, K), -1, np.int64)
    steps = np.zeros((G, K, K), np.int64)
    xy_all = np.vstack([world.effector_xyz[:, :2], aux.effector_xyz[:, :2]])
    sites_lonlat = []
    for g, (ei, e, idx) in enumerate(groups):
        units[g, :len(idx)] = idx
        r = e.relocate
        xy = xy_all[idx]
        for a in range(len(idx)):
            for b in range(len(idx)):
                move = r.move_s if r.move_s is not None else float(np.hypot(*(xy[a] - xy[b]))) / (r.speed_kmh / 3.6)
                steps[g, a, b] = int(np.ceil((r.pack_s + move + r.setup_s) / world.dt - 1e-9))
        sites_lonlat.append([(e.site.lon, e.site.lat)] + [(p.lon, p.lat) for p in r.sites])
    return Scoot(aux=aux, E=E, S=len(world.sensor_labels), master=np.array(master, np.int64),
                 group_unit=np.array([g[0] for g in groups], np.int64), units=units,
                 nsites=np.array([len(g[2]) for g in groups], np.int64),
                 after=np.array([g[1].relocate.after_launches for g in groups], np.int64), steps=steps,
                 random=np.array([g[1].relocate.order == "random" for g in groups], bool),
                 sites_lonlat=sites_lonlat)


def _aux_loaded(ld, scen):
    import copy

    aux = copy.copy(ld)
    aux.scenario = scen
    return aux


def _ins_s(a, extra, E, axis):
    """Insert the virtual radars' rows ``extra`` after the first E radars along ``axis``."""
    a = np.asarray(a)
    head = np.take(a, np.arange(E), axis=axis)
    tail = np.take(a, np.arange(E, a.shape[axis]), axis=axis)
    return np.concatenate([head, np.asarray(extra, dtype=a.dtype), tail], axis=axis)


def _app(a, extra, axis=0):
    a = np.asarray(a)
    return np.concatenate([a, np.asarray(extra, dtype=a.dtype)], axis=axis)


def expanded(world):
    """The World the kernels run with: virtual copies' fire units appended, their radars inserted
    after the real fire units' radars (cached)."""
    sc = world.scoot
    if sc._expanded is not None:
        return sc._expanded
    ax = sc.aux
    E = sc.E
    S_ = lambda name, axis=0: _ins_s(getattr(world, name), getattr(ax, name), E, axis)  # noqa: E731
    A_ = lambda name, axis=0: _app(getattr(world, name), getattr(ax, name), axis)  # noqa: E731
    upd = dict(
        sensor_labels=world.sensor_labels[:E] + ax.sensor_labels + world.sensor_labels[E:],
        sensor_system=world.sensor_system[:E] + ax.sensor_system + world.sensor_system[E:],
        mva=world.mva[:E] + ax.mva + world.mva[E:],
        sensor_xyz=S_("sensor_xyz"), sensor_ref_range_m=S_("sensor_ref_range_m"),
        sensor_range_m=S_("sensor_range_m"), scan=S_("scan", 1), snr=S_("snr", 1), pfa=S_("pfa"),
        effector_labels=world.effector_labels + ax.effector_labels,
        effector_system=world.effector_system + ax.effector_system,
        effector_sensor=np.arange(E + len(sc.master)),
    )
    for name in ("effector_xyz", "effector_gun", "flyout_par", "tab_tof", "tab_spd", "range_min_m", "range_max_m",
                 "altitude_min_m", "altitude_max_m", "pk", "beta", "channels", "ready", "reloads", "reload_steps",
                 "reaction_steps", "salvo", "max_eng", "assess_steps", "min_interval_steps", "fire_mode"):
        upd[name] = A_(name)
    for name in ("tof", "pip_ok", "pip_r", "pip_agl", "pip_above", "act_ok", "act_r", "act_agl", "act_above",
                 "pk_geo"):
        upd[name] = A_(name, 2)
    if world.full is not None:
        f, fa = world.full, ax.full
        upd["full"] = dataclasses.replace(
            f, meas_r=_ins_s(f.meas_r, fa.meas_r, E, 1), meas_az=_ins_s(f.meas_az, fa.meas_az, E, 1),
            meas_el=_ins_s(f.meas_el, fa.meas_el, E, 1), sigma=_ins_s(f.sigma, fa.sigma, E, 0),
            min_el=_ins_s(f.min_el, fa.min_el, E, 0), mva=_ins_s(f.mva, fa.mva, E, 0),
            max_el=_ins_s(f.max_el, fa.max_el, E, 0), ref_pd=_ins_s(f.ref_pd, fa.ref_pd, E, 0))
    gs = getattr(world, "second_weapon", None)
    if gs is not None:   # gun-missile units (iadsim.engine.mixed) do not relocate: the copies carry no guns
        upd["second_weapon"] = dataclasses.replace(
            gs, gun_of=_app(gs.gun_of, np.full(len(sc.master), -1)), bursts=_app(gs.bursts, np.zeros(len(sc.master))))
    if world.ew is not None and world.ew.has_jamming:
        upd["ew"] = dataclasses.replace(world.ew, jam_js=_ins_s(world.ew.jam_js, ax.ew.jam_js, E, 1))
    xw = dataclasses.replace(world, **upd)
    xw.scoot = None
    sc._expanded = xw
    return xw


def expand_parameters(world, p):
    """The replications' parameters with the virtual copies' columns (each its unit's: the same
    system, its readiness and sampled figures) and the defence state's rows for their radars."""
    sc = world.scoot
    E, m = sc.E, sc.master
    upd = {}
    for name in ("pk", "beta", "range_min_m", "range_max_m", "altitude_min_m", "altitude_max_m", "channels", "ready",
                 "reload_steps", "reaction_steps"):
        a = getattr(p, name)
        upd[name] = np.ascontiguousarray(np.concatenate([a, a[:, m]], axis=1))
    upd["snr_scale"] = np.ascontiguousarray(_ins_s(p.snr_scale, p.snr_scale[:, m], E, 1))
    upd["pfa"] = np.ascontiguousarray(_ins_s(p.pfa, p.pfa[:, m], E, 1))
    if getattr(p, "js_scale", None) is not None:   # drawn jamming figures [R, S, J]: each copy its unit's
        upd["js_scale"] = np.ascontiguousarray(_ins_s(p.js_scale, p.js_scale[:, m], E, 1))
    ds = p.defstate
    if ds is not None:
        cue = _ins_s(ds.cue, ds.cue[m], E, 0)
        cue = _ins_s(cue, cue[:, m], E, 1)
        upd["defstate"] = dataclasses.replace(
            ds, toggles=_ins_s(ds.toggles, ds.toggles[:, m], E, 1), up0=_ins_s(ds.up0, ds.up0[:, m], E, 1),
            emcon_mode=_ins_s(ds.emcon_mode, ds.emcon_mode[m], E, 0),
            duty_period=_ins_s(ds.duty_period, ds.duty_period[m], E, 0),
            duty_on=_ins_s(ds.duty_on, ds.duty_on[m], E, 0),
            duty_phase=_ins_s(ds.duty_phase, ds.duty_phase[:, m], E, 1),
            warmup=_ins_s(ds.warmup, ds.warmup[m], E, 0), ambush_r=_ins_s(ds.ambush_r, ds.ambush_r[m], E, 0),
            cue=np.ascontiguousarray(cue), link_down=_ins_s(ds.link_down, ds.link_down[:, m], E, 1))
    return dataclasses.replace(p, **upd)


def site_orders(world, seed: int, first: int, count: int) -> np.ndarray:
    """[R, G, MAX_MOVES + 1] the sites each relocating unit stands at in turn (site indices: 0 its own
    site, k its relocate.sites[k - 1]); random orders from SeedSequence(seed, spawn_key=(i, 1, 10))."""
    sc = world.scoot
    G = len(sc.group_unit)
    out = np.zeros((count, G, MAX_MOVES + 1), np.int64)
    for g in range(G):
        out[:, g, :] = np.arange(MAX_MOVES + 1) % sc.nsites[g]
    if sc.random.any():
        for j in range(count):
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(first + j, 1, SPAWN_KEY))))
            for g in range(G):
                if not sc.random[g]:
                    continue
                k = 0
                for n in range(1, MAX_MOVES + 1):
                    k = (k + 1 + int(rng.integers(0, sc.nsites[g] - 1))) % sc.nsites[g]   # any other site
                    out[j, g, n] = k
    return out


def kernel_inputs(world, seed: int, first: int, count: int) -> "ScootArrays":
    """The kernels' relocation record (sc_on, group of each unit, sites, engagements before a move,
    move steps, site orders [R, ...], relocation log [R, G, MAX_MOVES, 2] filled by the kernel)."""
    from iadsim.engine.records import ScootArrays

    sc = world.scoot if world is not None else None
    if sc is None:
        return ScootArrays(sc_on=False, sc_group=np.full(1, -1, np.int64), sc_units=np.zeros((0, 1), np.int64),
                           sc_after=np.zeros(0, np.int64), sc_steps=np.zeros((0, 1, 1), np.int64),
                           sc_seq=np.zeros((count, 0, 1), np.int64), sc_log=np.zeros((count, 0, 1, 2), np.int64))
    G = len(sc.group_unit)
    return ScootArrays(sc_on=True, sc_group=sc.group_of, sc_units=sc.units, sc_after=sc.after, sc_steps=sc.steps,
                       sc_seq=site_orders(world, seed, first, count),
                       sc_log=np.full((count, G, MAX_MOVES, 2), -1, np.int64))


def fold(world, out: dict, expended: np.ndarray, radiating: np.ndarray, events) -> tuple:
    """Results of the expanded run on the real units: missiles, kills, radiating steps and events of a
    virtual copy count for its unit; the stand-alone radars get their own indices back."""
    sc = world.scoot
    E, V = sc.E, len(sc.master)
    ex = expended[:, :E].copy()
    for v, e in enumerate(sc.master):
        ex[:, e] += expended[:, E + v]
    k = out["killer"]
    virt = k >= E
    k[virt] = sc.master[k[virt] - E]
    rad = np.concatenate([radiating[:, :E], radiating[:, E + V:]], axis=1)
    for v, e in enumerate(sc.master):
        rad[:, e] += radiating[:, E + v]
    if events is not None:
        u = events["unit"]
        v_ = (u >= E) & (u < E + V)
        s_ = u >= E + V
        u[v_] = sc.master[u[v_] - E]
        u[s_] -= V
    return ex, rad


def active_site(log: np.ndarray, sites: np.ndarray, nsteps: int) -> np.ndarray:
    """[R, G, T] the site each relocating unit stands at per step (index into ``[site, *relocate.sites]``;
    -1 while it packs, moves or sets up), from a chunk's ``relocation_log`` [R, G, L, 2] (step the unit
    began to pack, step it was set up at the next site; -1: never) and ``relocation_sites`` [R, G, L + 1]."""
    R, G, L, _ = log.shape
    out = np.empty((R, G, nsteps), np.int64)
    for r in range(R):
        for g in range(G):
            out[r, g, :] = sites[r, g, 0]
            for n in range(L):
                pack, up = log[r, g, n]
                if pack < 0:
                    break
                out[r, g, pack:] = -1
                if up >= 0:
                    out[r, g, up:] = sites[r, g, n + 1]
    return out


def time_at_sites(log: np.ndarray, sites: np.ndarray, nsites: np.ndarray, nsteps: int) -> np.ndarray:
    """[R, G, K] steps each relocating unit stood set up at each of its sites (0: its own site, k:
    relocate.sites[k - 1]) up to the end of the run, from a chunk's ``relocation_log`` and
    ``relocation_sites`` (the time packing, moving and setting up counts for no site)."""
    R, G, L, _ = log.shape
    K = int(nsites.max()) if len(nsites) else 0
    out = np.zeros((R, G, K), np.int64)
    rows = np.arange(R)
    for g in range(G):
        start = np.zeros(R, np.int64)          # when the unit stood at its n-th site (-1: never got there)
        for n in range(L + 1):
            pack = log[:, g, n, 0] if n < L else np.full(R, -1, np.int64)
            end = np.where(pack >= 0, pack, nsteps)
            there = start >= 0
            np.add.at(out[:, g, :], (rows[there], sites[there, g, n]), (end - start)[there])
            up = log[:, g, n, 1] if n < L else np.full(R, -1, np.int64)
            start = np.where(there & (pack >= 0) & (up >= 0), up, -1)
            if not (start >= 0).any():
                break
    return out


def with_events(world, events: np.ndarray, log_r: np.ndarray, sites_r: np.ndarray) -> np.ndarray:
    """The recorded replication's events with its relocations added: 'pack' (the unit begins to pack;
    missiles: the site it leaves) and 'setup' (set up at its next site; missiles: that site), in
    step order (stable: at a step, after the kernel's own events)."""
    from iadsim.engine.kernel import EV_PACK, EV_SETUP

    sc = world.scoot
    rows = []
    for g, e in enumerate(sc.group_unit):
        for n in range(log_r.shape[1]):
            pack, up = int(log_r[g, n, 0]), int(log_r[g, n, 1])
            if pack < 0:
                break
            rows.append((pack, EV_PACK, int(e), -1, int(sites_r[g, n])))
            if up >= 0:
                rows.append((up, EV_SETUP, int(e), -1, int(sites_r[g, n + 1])))
    if not rows:
        return events
    add = np.array(rows, dtype=events.dtype)
    out = np.concatenate([events, add])
    return out[np.argsort(out["step"], kind="mergesort")]


def relocations(log: np.ndarray) -> np.ndarray:
    """[R, G] moves begun per replication and relocating unit."""
    return (log[..., 0] >= 0).sum(axis=2)


# ---------------------------------------------------------------- compiled side


@numba.njit(cache=True)
def scoot_init(sc_units, sc_seq, sc_live, missiles, stock):
    """At the start only each group's first site is live, and it holds the unit's magazine."""
    for g in range(sc_units.shape[0]):
        a0 = sc_units[g, sc_seq[g, 0]]
        for k in range(sc_units.shape[1]):
            u = sc_units[g, k]
            if u < 0 or u == a0:
                continue
            sc_live[u] = False
            missiles[u] = 0
            stock[u] = 0


@numba.njit(cache=True)
def scoot_step(t, sc_units, sc_seq, sc_steps, sc_after, sc_p, sc_n, sc_up, sc_live, busy, missiles, stock,
               reload_done, sc_log, n_eng, last_launch):
    """Relocations at step t: a unit that has made its engagements at its site and has no missile in
    flight packs (its copy goes dark: sc_live False); one whose pack + move + set-up time is over comes
    up at its next site with the magazine, stock and reload clock it carried, and its count of
    engagements per target (the doctrine's maximum holds for the unit) and last launch."""
    L = sc_log.shape[1]
    for g in range(sc_units.shape[0]):
        p = sc_p[g]
        k = sc_seq[g, p]
        a = sc_units[g, k]
        if sc_up[g] < 0 and p < L and sc_n[g] >= sc_after[g] and busy[a] == 0:
            sc_live[a] = False
            sc_up[g] = t + sc_steps[g, k, sc_seq[g, p + 1]]
            sc_log[g, p, 0] = t
        if sc_up[g] >= 0 and t >= sc_up[g]:
            b = sc_units[g, sc_seq[g, p + 1]]
            if b != a:
                missiles[b] += missiles[a]
                missiles[a] = 0
                stock[b] += stock[a]
                stock[a] = 0
                reload_done[b] = reload_done[a]
                reload_done[a] = -1
                for m in range(n_eng.shape[1]):
                    n_eng[b, m] += n_eng[a, m]
                    n_eng[a, m] = 0
                last_launch[b] = last_launch[a]
            sc_live[b] = True
            sc_log[g, p, 1] = t
            sc_p[g] = p + 1
            sc_n[g] = 0
            sc_up[g] = -1


@numba.njit(cache=True)
def scoot_silence(on, sc_live, radiating):
    """A copy that is not set up does not radiate (undo the defence state's count for it)."""
    for s in range(sc_live.shape[0]):
        if on[s] and not sc_live[s]:
            on[s] = False
            radiating[s] -= 1


def candidate_sites(world) -> list[dict]:
    """The relocation sites of a World, for maps and exports: per relocating unit and candidate site
    (relocate.sites[k - 1]) its name ('unit@k'), unit, site number k, lon, lat [deg] and local x, y [m]."""
    sc = getattr(world, "scoot", None)
    if sc is None:
        return []
    out = []
    for g, e in enumerate(sc.group_unit):
        for k in range(1, int(sc.nsites[g])):
            u = int(sc.units[g, k]) - sc.E
            lon, lat = sc.sites_lonlat[g][k]
            out.append({"name": sc.aux.effector_labels[u], "unit": world.effector_labels[e], "site": k,
                        "lon": float(lon), "lat": float(lat), "x": float(sc.aux.effector_xyz[u, 0]),
                        "y": float(sc.aux.effector_xyz[u, 1])})
    return out


def site_inputs(world, site_in: "SiteArrays") -> "SiteArrays":
    """The site attacks (iadsim.engine.sites) in the expanded World: a weapon aimed at a relocating
    unit flies to the site the unit stood at when the run began (its own site, the unit's index);
    a copy standing elsewhere is another radar, so a unit that has moved away is not there when the
    weapon arrives (and an anti-radiation missile finds the old site silent). Copies take their
    unit's repair time; stand-alone radars move up by the number of copies."""
    sc = world.scoot
    site_of, repair = site_in.site_of, site_in.site_repair
    site_of = np.where(site_of >= sc.E, site_of + len(sc.master), site_of)
    return site_in._replace(site_of=site_of,
                            site_repair=np.ascontiguousarray(_ins_s(repair, repair[sc.master], sc.E, 0)))


def fold_sites(world, site_kill: np.ndarray) -> np.ndarray:
    """[R, S] the step each real site was first put out, from the expanded World's [R, S + V]."""
    sc = world.scoot
    keep = np.r_[np.arange(sc.E), np.arange(sc.E + len(sc.master), site_kill.shape[1])]
    return np.ascontiguousarray(site_kill[:, keep])
