"""Electronic warfare in the World: noise jammers carried by threats, and decoys.

Jamming: for every jammer (a threat member carrying one), radar it aims at, step and target, the
jamming-to-signal ratio J/S of :func:`iadsim.physics.jamming.jamming_to_signal`, from where the
radar, the target and the jammer are (the radar receives the jammer through its main lobe when
the jammer is near the target it looks at, through its sidelobes otherwise). The kernels add the
J/S of the jammers still alive: ``SINR = SINR0 / (1 + SINR0_nominal x sum J/S)`` (noise jamming
adds to the receiver noise; a replication's sampled radar and RCS figures scale S, so they scale
J/S inversely), so a jammer shot down stops jamming at its kill.

Decoys: each decoy member's probability to be identified per radar look; the kernels stop
engaging a decoy once identified (:mod:`iadsim.engine.kernel`).

Nothing here runs when a scenario has neither jammers nor decoys: the kernels then receive
empty arrays and give the same numbers as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from iadsim.coverage.los import visible_at
from iadsim.physics.horizon import radar_horizon_m
from iadsim.physics.jamming import (
    bandwidth_factor, burn_through_range_self_screen_m, jamming_to_signal, relative_receive_gain,
)
from iadsim.physics.radar import snr_required

#: Pd at which the report quotes a detection range with and without jamming [1]
REPORT_PD = 0.5


@dataclass
class EW:
    """The jamming and decoy arrays of a World (empty when the scenario has none)."""

    jam_js: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 1, 0), np.float32))  # [T, S, M, J] J/S [1]
    jam_owner: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))   # [J] threat member carrying it
    decoy_p: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))   # [M] identify p per look; -1 none
    jammers: list[dict] = field(default_factory=list)      # per jammer: member, system, mode, radars
    radars_not_jammed: list[str] = field(default_factory=list)   # radars without jamming figures
    summary: dict | None = None     # jamming_summary's result, once computed

    @property
    def has_jamming(self) -> bool:
        return self.jam_owner.shape[0] > 0

    @property
    def has_decoys(self) -> bool:
        return bool(np.any(self.decoy_p >= 0.0))

    def kernel_inputs(self, n_threats: int) -> "EWArrays":
        from iadsim.engine.records import EWArrays

        decoy = self.decoy_p if self.decoy_p.shape[0] == n_threats else np.full(n_threats, -1.0)
        return EWArrays(jam_js=self.jam_js, jam_owner=self.jam_owner, decoy_p=decoy)


def radar_jamming_figures(sysm, log) -> dict | None:
    """A radar's jamming figures (linear SI), or None when its catalog entry has none."""
    if "radar_peak_power_kw" not in sysm.figures:
        return None
    g = lambda key: log.get(sysm, key, "jamming")  # noqa: E731
    return {"erp_w": g("radar_peak_power_kw") * 1e3 * 10.0 ** (g("radar_antenna_gain_dbi") / 10.0),
            "bandwidth_hz": g("radar_bandwidth_mhz") * 1e6,
            "sidelobe_db": g("radar_sidelobe_level_db"),
            "eccm": 10.0 ** (g("radar_eccm_improvement_db") / 10.0),
            "az_beamwidth_rad": np.radians(g("radar_azimuth_beamwidth_deg"))}


def jammer_figures(sysm, log) -> dict:
    """A jammer's figures (linear SI)."""
    g = lambda key: log.get(sysm, key, "jamming")  # noqa: E731
    return {"erp_w": g("jammer_power_w") * 10.0 ** (g("jammer_antenna_gain_dbi") / 10.0),
            "bandwidth_hz": g("jammer_bandwidth_mhz") * 1e6,
            "polarisation": 10.0 ** (-g("jammer_polarisation_loss_db") / 10.0)}


def _jammer_seen(r, mva, terrain, pj: np.ndarray, k_ref: float) -> np.ndarray:
    """[T] the jammer at pj [T, 3] is in the radar's line of sight: the terrain raster within the
    radar's instrumented range, the smooth 4/3-earth horizon beyond it (no terrain there)."""
    flying = np.isfinite(pj[:, 0])
    d = pj - np.array([r.x, r.y, r.z])
    rng = np.sqrt(np.nansum(d * d, axis=-1))
    near = rng <= r.range_bound_m
    seen = np.zeros(pj.shape[0], dtype=bool)
    if (near & flying).any():
        seen[near & flying] = visible_at(mva, terrain, pj[near & flying, 0], pj[near & flying, 1],
                                         pj[near & flying, 2])
    far = ~near & flying
    if far.any():
        h1 = max(r.z - r.ground, 0.0)
        h2 = np.maximum(pj[far, 2] - r.ground, 0.0)
        seen[far] = np.hypot(d[far, 0], d[far, 1]) <= radar_horizon_m(h1, h2, k=k_ref)
    return seen & flying


def compile_ew(ld, radars, mvas, terrain, pos: np.ndarray, rcs: np.ndarray, group: np.ndarray,
               parent: np.ndarray, k_ref: float, log) -> EW:
    """The jamming and decoy arrays of a scenario (an empty :class:`EW` when it has neither)."""
    s = ld.scenario
    cat = ld.catalog
    T, M = pos.shape[:2]
    has_jam = any(t.jammer is not None for t in s.threats)
    has_decoy = any(t.decoy is not None for t in s.threats)
    out = EW()
    if has_decoy:
        decoy_p = np.full(M, -1.0)
        for mi in range(M):
            thr = s.threats[int(group[mi])]
            if thr.decoy is None or parent[mi] >= 0:
                continue
            p = thr.decoy.identify_p
            if p is None:
                sysm = cat[thr.type]
                p = (log.get(sysm, "decoy_identify_p_per_look", "decoys")
                     if "decoy_identify_p_per_look" in sysm.figures else 0.0)
            decoy_p[mi] = float(p)
        out.decoy_p = decoy_p
    if not has_jam:
        return out
    owners = [mi for mi in range(M) if s.threats[int(group[mi])].jammer is not None and parent[mi] < 0]
    S = len(radars)
    J = len(owners)
    rfig = [radar_jamming_figures(cat[r.system], log) for r in radars]
    out.radars_not_jammed = [r.name for r, f in zip(radars, rfig) if f is None and r.sensor_type == "radar"]
    js = np.zeros((T, S, M, J), dtype=np.float32)
    rcs = np.asarray(rcs, dtype=float)
    for j, mj in enumerate(owners):
        thr = s.threats[int(group[mj])]
        jf = jammer_figures(cat[thr.jammer.system], log)
        aimed = [si for si, r in enumerate(radars) if rfig[si] is not None
                 and (thr.jammer.targets == "all" or r.name in thr.jammer.targets)]
        out.jammers.append({"member": int(mj), "system": cat[thr.jammer.system].name, "mode": thr.jammer.mode,
                            "radars": [radars[si].name for si in aimed]})
        pj = pos[:, mj, :]
        for si in aimed:
            r, rf = radars[si], rfig[si]
            seen = _jammer_seen(r, mvas[si], terrain, pj, k_ref)
            if not seen.any():
                continue
            c = np.array([r.x, r.y, r.z])
            dj = pj - c
            rj = np.sqrt(np.sum(dj * dj, axis=-1))                      # [T]
            dt_ = pos - c                                               # [T, M, 3]
            rt = np.sqrt(np.sum(dt_ * dt_, axis=-1))                    # [T, M]
            ok = seen[:, None] & np.isfinite(rt) & (rt > 0) & (rj[:, None] > 0)
            if not ok.any():
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                cosang = np.sum(dt_ * dj[:, None, :], axis=-1) / (rt * rj[:, None])
            ang = np.arccos(np.clip(np.nan_to_num(cosang), -1.0, 1.0))
            gain = relative_receive_gain(ang, rf["az_beamwidth_rad"], rf["sidelobe_db"])
            band = bandwidth_factor(rf["bandwidth_hz"], jf["bandwidth_hz"])
            rt_ok = np.where(ok, rt, 1.0)
            rj_ok = np.broadcast_to(np.where(rj > 0, rj, 1.0)[:, None], rt.shape)
            val = jamming_to_signal(jf["erp_w"], rf["erp_w"], np.broadcast_to(rcs[None, :], rt.shape), rt_ok,
                                    np.where(np.isfinite(rj_ok), rj_ok, 1.0), gain, band, jf["polarisation"],
                                    rf["eccm"])
            js[:, si, :, j] = np.where(ok, val, 0.0).astype(np.float32)
    out.jam_js = js
    out.jam_owner = np.array(owners, dtype=np.int64)
    return out


def jamming_scale(world, draws: dict, count: int) -> np.ndarray:
    """[count, S, J] factor on each jammer's J/S at each radar for replications whose jamming figures
    were drawn (``draws``: (system, figure key) -> [count] values; a figure not drawn stays nominal).

    J/S is proportional to (Pj Gj) b gamma / ((Pt Gt) E) (:func:`iadsim.physics.jamming.jamming_to_signal`,
    Adamy 2001 ch. 9), b = min(1, Br / Bj): the factor is that ratio at the drawn figures over the
    ratio at the nominal ones. The radar's receive pattern (beamwidth, sidelobe level) sets where the
    jammer enters and stays at its nominal figures."""
    ew = world.ew
    S = len(world.sensor_labels)
    J = ew.jam_owner.shape[0] if ew is not None else 0
    out = np.ones((count, S, J), np.float64)
    if J == 0:
        return out
    nom = {(u.system, u.key): float(u.figure.value) for u in world.figures}

    def drawn(system: str, key: str) -> np.ndarray:
        v = draws.get((system, key))
        return np.full(count, nom[(system, key)]) if v is None else np.asarray(v, dtype=float)

    def nominal(system: str, key: str) -> np.ndarray:
        return np.full(count, nom[(system, key)])

    def ratio(fn) -> np.ndarray:
        """fn(figures) at the drawn figures over fn at the nominal ones."""
        return fn(drawn) / fn(nominal)

    for j, info in enumerate(ew.jammers):
        jsys = info["system"]
        if (jsys, "jammer_power_w") not in nom:
            continue

        def jam_side(g, jsys=jsys):
            return (g(jsys, "jammer_power_w") * 10.0 ** (g(jsys, "jammer_antenna_gain_dbi") / 10.0)
                    * 10.0 ** (-g(jsys, "jammer_polarisation_loss_db") / 10.0))

        jam_erp = ratio(jam_side)
        for si in range(S):
            rsys = world.sensor_system[si]
            if (rsys, "radar_peak_power_kw") not in nom:
                continue   # a radar without jamming figures is not jammed

            def radar_side(g, rsys=rsys, jsys=jsys):
                erp = g(rsys, "radar_peak_power_kw") * 10.0 ** (g(rsys, "radar_antenna_gain_dbi") / 10.0)
                eccm = 10.0 ** (g(rsys, "radar_eccm_improvement_db") / 10.0)
                band = bandwidth_factor(g(rsys, "radar_bandwidth_mhz"), g(jsys, "jammer_bandwidth_mhz"))
                return band / (erp * eccm)

            out[:, si, j] = jam_erp * ratio(radar_side)
    return out


def jammed_snr(snr: np.ndarray, js: np.ndarray) -> np.ndarray:
    """[T, S, M] nominal SINR with every jammer alive: ``SINR0 / (1 + SINR0 sum_j J/S)``."""
    tot = js.sum(axis=-1, dtype=np.float64)
    s0 = snr.astype(np.float64)
    return s0 / (1.0 + s0 * tot)


def jamming_summary(world) -> dict:
    """What the report and summary.json say about jamming: per radar and threat the range at which
    Pd reaches REPORT_PD without and with every jammer alive (nominal figures), the peak J/S, and
    the self-screening burn-through range of each jammer's carrier against each radar it jams."""
    ew = world.ew
    if ew is None or not ew.has_jamming:
        return {}
    if ew.summary is None:
        ew.summary = _jamming_summary(world)
    return ew.summary


def _jamming_summary(world) -> dict:
    ew = world.ew
    snr = world.snr
    sj = jammed_snr(snr, ew.jam_js)
    S = snr.shape[1]
    rows = []
    for si in range(S):
        thr = float(snr_required(REPORT_PD, float(world.pfa[si])))
        c = world.sensor_xyz[si]
        rng = np.sqrt(np.nansum((world.pos - c) ** 2, axis=-1))   # [T, M]
        for mi, label in enumerate(world.threat_labels):
            clear = snr[:, si, mi] >= thr
            jam = sj[:, si, mi] >= thr
            js_m = np.where(snr[:, si, mi] > 0, ew.jam_js[:, si, mi, :].sum(axis=-1), 0.0)   # while in sight
            if not clear.any() and not (js_m > 0).any():
                continue
            rows.append({
                "radar": world.sensor_labels[si], "threat": label,
                "detect_range_clear_km": float(rng[clear, mi].max() / 1000.0) if clear.any() else None,
                "detect_range_jammed_km": float(rng[jam, mi].max() / 1000.0) if jam.any() else None,
                "peak_js_db": float(10.0 * np.log10(js_m.max())) if (js_m > 0).any() else None,
            })
    jammers = []
    for j, info in enumerate(ew.jammers):
        mj = info["member"]
        cat = world.loaded.catalog
        jf = jammer_figures(cat[info["system"]], _Silent())
        bt = {}
        for name in info["radars"]:
            si = world.sensor_labels.index(name)
            rf = radar_jamming_figures(cat[world.sensor_system[si]], _Silent())
            sigma = _member_rcs(world, mj)
            bt[name] = float(burn_through_range_self_screen_m(
                rf["erp_w"], jf["erp_w"], sigma, bandwidth_factor(rf["bandwidth_hz"], jf["bandwidth_hz"]),
                jf["polarisation"], rf["eccm"], snr_required(REPORT_PD, float(world.pfa[si]))) / 1000.0)
        jammers.append({"carrier": world.threat_labels[mj], "system": info["system"], "mode": info["mode"],
                        "radars": info["radars"], "self_screen_burn_through_km": bt})
    return {"report_pd": REPORT_PD, "jammers": jammers, "radars_not_jammed": ew.radars_not_jammed,
            "detection_ranges": rows}


class _Silent:
    """A figure reader that logs nothing (for summaries of figures the World already logged)."""

    @staticmethod
    def get(sysm, key, used_by):
        return sysm.figure(key).value


def _member_rcs(world, mi: int) -> float:
    thr = world.scenario.threats[int(world.threat_group[mi])]
    if thr.decoy is not None and thr.decoy.rcs_m2 is not None:
        return float(thr.decoy.rcs_m2)
    return float(world.loaded.catalog[world.threat_type[mi]].nominal("rcs_m2"))


JAMMING_MODEL = (
    "noise jamming: each jammer carried by a threat adds its noise to the receivers of the radars it aims at, "
    "J/S = (Pj Gj / Pt Gt) (4 pi Rt^4 / (sigma Rj^2)) (Gr'/Gr) min(1, Br/Bj) gamma / E (Adamy 2001 ch. 9, "
    "Schleher 1999): main-lobe gain when the jammer is near the target the radar looks at (Gaussian "
    "beam), the sidelobe level otherwise, the barrage bandwidth ratio, a polarisation loss and the radar's "
    "ECCM improvement factor E; detection on S / (N + C + J), i.e. 1/SINR = 1/SINR0 + J/S; a jammer jams "
    "while its carrier flies and is in the radar's line of sight (terrain within the instrumented range, the "
    "smooth 4/3-earth horizon beyond) and stops when its carrier is killed; full fidelity: the range and "
    "angle measurement errors grow as 1/sqrt(SINR) (Skolnik 2001 ch. 6). Leaves out: deception jamming "
    "(false targets, range or velocity gate pull-off), home-on-jam missiles, angle on the jam strobe, the "
    "jammer's antenna pattern and its power shared among the radars it jams, frequency agility other than "
    "through the ECCM factor, jamming of fire-control or missile links. With simulation.uncertainty "
    "'sample' the radar's peak power, antenna gain, bandwidth and ECCM factor and the jammer's power, gain, "
    "bandwidth and polarisation loss are drawn per replication over their catalog ranges (triangular, mode "
    "at nominal) and scale J/S; the receive pattern (beamwidth, sidelobe level) stays at nominal")

DECOY_MODEL = (
    "decoys: false targets with the radar signature of the aircraft they imitate, detected and tracked like "
    "threats; each radar look that detects one identifies it as a decoy with its identify_p (0: never), and "
    "the defence then stops engaging it (missiles already in flight fly on); decoys take fire channels and "
    "missiles, a decoy shot down is counted apart (missiles on decoys, P(decoy engaged)) and never as a kill "
    "of a threat; mission measures, P(kill) of real threats and asset damage leave decoys out. Leaves out: "
    "identification by other means than radar looks (IFF, electro-optics, kinematics over a track), decoys "
    "that jam (give a decoy a jammer for that), a defence that learns decoy tactics")
