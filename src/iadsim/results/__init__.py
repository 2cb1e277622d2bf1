"""Results of a run: per-replication tables (pandas, Parquet) and summary statistics."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from iadsim.engine import EVENT_NAMES, ChunkResult, World
from iadsim.results.io import write_text, write_with
from iadsim.results.stats import mean_interval, poisson_rate_interval, wilson_interval

__all__ = ["Results", "exchange_words", "mean_interval", "poisson_rate_interval", "wilson_interval"]


def _t(steps: np.ndarray, dt: float) -> np.ndarray:
    return np.where(steps >= 0, steps * dt, np.nan)


@dataclass
class Results:
    """Outcomes of a Monte Carlo run.

    ``replications``: one row per replication x threat; ``expenditure``: one row per
    replication x fire unit; ``timeline``: events of the recorded replication;
    ``summary``: statistics with 95% intervals (also ``threat_table()`` etc. as DataFrames).
    """

    world: World
    seed: int
    n: int
    raw: ChunkResult
    version: str
    timeline_replication: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    #: the radiating table of a run read back from its folder (summary.json's ``radiating``): the
    #: saved tables hold no per-replication radiating times
    saved_radiating: list[dict[str, Any]] | None = None

    # ---------- tables
    @property
    def replications(self) -> pd.DataFrame:
        if "_reps" not in self.__dict__:
            self.__dict__["_reps"] = self._build_replications()
        return self.__dict__["_reps"]

    def _build_replications(self) -> pd.DataFrame:
        w, r = self.world, self.raw
        R, M = r.det_step.shape
        dt = w.dt
        r = self._sorties
        kill = r.kill_step
        ks = np.clip(kill, 0, w.nsteps - 1)
        kpos = w.pos[ks, np.arange(M)[None, :]]  # [R, M, 3]
        lon, lat = w.grid.to_lonlat(kpos[..., 0], kpos[..., 1])
        killed = kill >= 0
        units = np.array(w.effector_labels + [None], dtype=object)
        assets = [a.name for a in w.scenario.assets] + [None]
        df = pd.DataFrame({
            "replication": np.repeat(np.arange(r.first, r.first + R), M),
            "threat": np.tile(np.array(w.threat_labels, dtype=object), R),
            "group": np.tile(np.array([w.scenario.threats[g].name for g in w.threat_group], dtype=object), R),
            "type": np.tile(np.array(w.threat_type, dtype=object), R),
            "target": np.tile(np.array(_target_names(w, assets), dtype=object), R),
            "detected_at_s": _t(r.det_step, dt).ravel(),
            "tracked_at_s": _t(np.where(r.firm_step < w.nsteps, r.firm_step, -1), dt).ravel(),
            "first_engaged_at_s": _t(r.eng_step, dt).ravel(),
            "shots": r.shots.ravel(),
            "killed": killed.ravel(),
            "killed_by": units[np.where(killed, r.killer, -1)].ravel(),
            "kill_time_s": _t(kill, dt).ravel(),
            "kill_lat": np.where(killed, lat, np.nan).ravel(),
            "kill_lon": np.where(killed, lon, np.nan).ravel(),
            "kill_alt_m": np.where(killed, kpos[..., 2], np.nan).ravel(),
            "kill_x_m": np.where(killed, kpos[..., 0], np.nan).ravel(),
            "kill_y_m": np.where(killed, kpos[..., 1], np.nan).ravel(),
            "leaked": (r.leak_step >= 0).ravel(),
            "leak_time_s": _t(r.leak_step, dt).ravel(),
        })
        # missions: role, carrier, what became of each member, and whether the sortie did its job
        for col, values in self._mission_columns().items():
            df[col] = values
        # seconds alive inside any fire unit's engagement envelope, and inside any radar's coverage
        ex = self.exposure
        df["exposure_envelope_s"] = ex["any_envelope"].ravel()
        df["exposure_coverage_s"] = ex["any_coverage"].ravel()
        if self._has_decoys:
            # decoys: which members are decoys, and when the defence identified each (NaN: never)
            df["decoy"] = np.tile(w.ew.decoy_p >= 0.0, R)
            df["identified_at_s"] = _t(r.ident_step, dt).ravel() if r.ident_step is not None else np.nan
        # figures drawn for each replication (uncertainty: sample), one column each
        for (system, key), values in sorted((r.draws or {}).items()):
            df[f"figure.{system}.{key}"] = np.repeat(values, M)
        if getattr(w, "react", None) is not None:
            # reacting threats: when each sortie switched to its reaction or abort path, and which
            # (iadsim.engine.react); one row per sortie: the branch rows are folded into it
            rstep = self.raw.react_step if self.raw.react_step is not None else np.full((R, M), -1)
            rto = self.raw.react_to if self.raw.react_to is not None else np.full((R, M), -1)
            labels = np.array(w.threat_labels + [None], dtype=object)
            df["reacted_at_s"] = _t(rstep, dt).ravel()
            df["reacted_to"] = labels[np.where(rto >= 0, rto, -1)].ravel()
            df = df[np.tile(w.react.root < 0, R)].reset_index(drop=True)
        return df

    @property
    def _sorties(self):
        """The raw outcomes with each reacting sortie's flown branch folded into its own column
        (:func:`iadsim.engine.react.fold_sorties`); the raw outcomes themselves without reactions."""
        from types import SimpleNamespace

        from iadsim.engine.react import fold_sorties

        f = fold_sorties(self.world, self.raw)
        if f is None:
            return self.raw
        return SimpleNamespace(**{**self.raw.__dict__, **f})

    def _mission_columns(self) -> dict[str, np.ndarray]:
        """Per replication x member: role, mission, carrier, outcome (in words), accomplished, time on
        station [s] (see :mod:`iadsim.missions`)."""
        from iadsim.engine.world import MissionArrays

        w, r = self.world, self._sorties
        R, M = r.kill_step.shape
        ms = w.missions if w.missions is not None else MissionArrays.none(M)
        kill, leak = r.kill_step, r.leak_step
        killed, arrived = kill >= 0, leak >= 0
        par = ms.parent
        role = np.array(ms.role, dtype=object)
        has_target = w.target >= 0
        # a weapon whose carrier was killed before its release was never released
        pk = np.where(par >= 0, kill[:, np.maximum(par, 0)], -1)
        unreleased = (par >= 0)[None, :] & (pk >= 0) & (pk <= w.first_step[None, :]) & ~killed & ~arrived
        outcome = np.full((R, M), "in flight at the end", dtype=object)
        sa = getattr(w, "sites", None)
        if sa is not None:   # a weapon or attacker aimed at a site (iadsim.engine.sites) has a target too
            has_target = has_target | (sa.site_of >= 0)
        outcome[arrived & has_target[None, :]] = "reached its target"
        outcome[arrived & ~has_target[None, :]] = "survived the sortie"
        outcome[killed] = "killed"
        outcome[unreleased] = "not released"
        end_t = np.where(killed, kill, w.nsteps)
        rx = getattr(w, "react", None)
        abandoned = np.zeros((R, M), bool)
        if rx is not None and self.raw.react_step is not None:
            # a sortie that turned away or aborted ends its mission at the switch (iadsim.engine.react)
            rstep, rto = self.raw.react_step, self.raw.react_to
            abandoned = (rto >= 0) & rx.abandons[np.maximum(rto, 0)]
            end_t = np.where(abandoned, np.minimum(end_t, rstep), end_t)
            ps = np.where(par >= 0, np.where(abandoned, rstep, -1)[:, np.maximum(par, 0)], -1)
            gone = (par >= 0)[None, :] & (ps >= 0) & (ps <= w.first_step[None, :]) & ~killed & ~arrived
            outcome[gone] = "not released"
        acc = np.full((R, M), np.nan)
        tos = np.full((R, M), np.nan)
        from iadsim.missions.registry import accomplished_by

        rule = [accomplished_by(k) for k in ms.kind]   # the registered kind's rule (None: transit, weapon)
        isr = np.array([r == "station" for r in rule], dtype=bool)
        if isr.any():
            s0, s1 = ms.station_start_step[isr], ms.station_end_step[isr]
            done = (end_t[:, isr] >= s1[None, :]) & (s1[None, :] < w.nsteps)
            acc[:, isr] = done
            tos[:, isr] = np.clip(np.minimum(end_t[:, isr], s1[None, :]) - s0[None, :], 0, None) * w.dt
        strike = np.array([r == "release" for r in rule], dtype=bool)
        if strike.any():
            rs = ms.release_step[strike]
            acc[:, strike] = (end_t[:, strike] >= rs[None, :]) & (rs[None, :] < w.nsteps)
        oneway = (role == "threat") & has_target
        acc[:, oneway] = arrived[:, oneway]
        # aborted: turned away or aborted before its mission was accomplished, and not killed
        aborted = abandoned & ~killed & ~(acc == 1)
        outcome[aborted] = "aborted"
        labels = np.array(w.threat_labels, dtype=object)
        carrier = np.where(par >= 0, labels[np.maximum(par, 0)], "")   # "": not a released weapon
        return {"role": np.tile(role, R), "mission": np.tile(np.array(ms.kind, dtype=object), R),
                "carrier": np.tile(carrier, R), "outcome": outcome.ravel(),
                "accomplished": acc.ravel(), "time_on_station_s": tos.ravel()}

    @property
    def exposure(self) -> dict[str, np.ndarray]:
        """Seconds each member of each replication spent alive inside each fire unit's engagement
        envelope ``[R, M, E]`` and each radar's coverage ``[R, M, S]``, and inside any of them
        ``[R, M]`` (:func:`iadsim.missions.measures.exposure_seconds`)."""
        if "_exposure" not in self.__dict__:
            from iadsim.missions.measures import exposure_seconds

            self.__dict__["_exposure"] = exposure_seconds(self.world, self.raw.kill_step, self.raw.leak_step,
                                                          self.raw.draws, (getattr(self.raw, "react_step", None),
                                                                           getattr(self.raw, "react_to", None)))
        return self.__dict__["_exposure"]

    def exposure_table(self) -> pd.DataFrame:
        """Per scenario threat (its carriers or flyers, not the weapons they release) and per fire
        unit envelope and radar coverage: the mean time per sortie spent alive inside it [s] with a
        95% interval (Student t) and the share of sorties that entered it at all."""
        w = self.world
        ex = self.exposure
        role = np.array(w.missions.role if w.missions is not None else ["threat"] * len(w.threat_labels))
        rows = []
        units = ([("fire unit envelope", name, w.effector_system[e], ex["envelope"][:, :, e])
                  for e, name in enumerate(w.effector_labels)]
                 + [("radar coverage", name, w.sensor_system[s], ex["coverage"][:, :, s])
                    for s, name in enumerate(w.sensor_labels)]
                 + [("fire unit envelope", "any", None, ex["any_envelope"]),
                    ("radar coverage", "any", None, ex["any_coverage"])])
        for gi, thr in enumerate(w.scenario.threats):
            cols = np.flatnonzero((w.threat_group == gi) & (role != "weapon") & (role != "branch"))
            if cols.size == 0:
                continue
            for kind, name, system, sec in units:
                x = sec[:, cols].ravel()
                m, lo, hi = mean_interval(x, support=(0.0, np.inf))   # seconds: never negative
                rows.append({"threat": thr.name, "inside": kind, "unit": name, "system": system,
                             "sorties": int(x.size), "mean_s": m, "lo_s": lo, "hi_s": hi,
                             "p_entered": float((x > 0).mean()) if x.size else float("nan")})
        return pd.DataFrame(rows, columns=["threat", "inside", "unit", "system", "sorties", "mean_s", "lo_s",
                                           "hi_s", "p_entered"])

    def exchange_ratio(self) -> dict[str, Any]:
        """Value of the threats destroyed over value of the interceptors fired (and the reverse), from
        the catalog's per-item costs, with 95% intervals (delta method); the cost figures used with
        their sources, and ``note`` naming any cost figure missing (:mod:`iadsim.results.exchange`)."""
        if "_exchange" not in self.__dict__:
            from iadsim.results.exchange import exchange

            fired = self.raw.expended   # a gun-missile unit's bursts cost no missile
            if getattr(self.raw, "bursts", None) is not None:
                fired = fired - self.raw.bursts
            self.__dict__["_exchange"] = exchange(self.world, self.raw.kill_step, fired)
        return self.__dict__["_exchange"]

    @property
    def models(self) -> dict[str, str]:
        """The models the run used and what each leaves out, with the mission measures'."""
        from iadsim.missions.measures import EXPOSURE_LIMITS
        from iadsim.results.exchange import EXCHANGE_LIMITS

        return {**self.world.models, "exposure": EXPOSURE_LIMITS, "exchange_ratio": EXCHANGE_LIMITS}

    def mission_table(self) -> pd.DataFrame:
        """Per scenario threat with a job (ISR, strike, one-way attack): sorties flown, P(mission
        accomplished) and P(loss) with 95% Wilson intervals, P(survived the sortie), mean time on
        station, loss rate per hour on station, and for strikes P(a weapon reached its target)."""
        from iadsim.missions import MISSION_KINDS
        from iadsim.missions.registry import accomplished_by

        df = self.replications
        rows = []
        for gi, thr in enumerate(self.world.scenario.threats):
            g = df[(df["group"] == thr.name) & (df["role"] != "weapon") & (df["role"] != "decoy")]
            kind = g["mission"].iloc[0] if len(g) else "transit"
            if kind == "transit" or g.empty:
                continue
            rule = accomplished_by(kind)   # station | release | arrival
            n = len(g)
            acc = int(g["accomplished"].fillna(0).astype(bool).sum())
            lost = int(g["killed"].sum())
            alo, ahi = wilson_interval(acc, n)
            llo, lhi = wilson_interval(lost, n)
            row = {"threat": thr.name, "mission": kind, "sorties": n, "accomplished_means": MISSION_KINDS.get(kind),
                   "p_accomplished": acc / n, "p_accomplished_lo": float(alo), "p_accomplished_hi": float(ahi),
                   "p_loss": lost / n, "p_loss_lo": float(llo), "p_loss_hi": float(lhi),
                   "p_survived": float((g["outcome"] == "survived the sortie").mean()),
                   "mean_time_on_station_s": float(g["time_on_station_s"].mean()) if rule == "station" else None,
                   "losses_per_station_hour": (lost / (g["time_on_station_s"].sum() / 3600.0)
                                               if rule == "station" and g["time_on_station_s"].sum() > 0 else None),
                   "p_weapon_reached_target": None}
            if getattr(self.world, "react", None) is not None:   # turned away or aborted, not accomplished
                row["aborted"] = int((g["outcome"] == "aborted").sum())
                row["p_aborted"] = row["aborted"] / n
            if rule == "station" and g["time_on_station_s"].sum() > 0:
                row["losses_per_station_hour_lo"], row["losses_per_station_hour_hi"] = poisson_rate_interval(
                    lost, g["time_on_station_s"].sum() / 3600.0)
            for what in ("envelope", "coverage"):
                m, lo, hi = mean_interval(g[f"exposure_{what}_s"].to_numpy(dtype=float), support=(0.0, np.inf))
                row[f"mean_exposure_{what}_s"], row[f"mean_exposure_{what}_s_lo"] = m, lo
                row[f"mean_exposure_{what}_s_hi"] = hi
            if rule == "release":
                wpn = df[(df["group"] == thr.name) & (df["role"] == "weapon")]
                hit = wpn.groupby(["replication", "carrier"])["outcome"].agg(lambda o: (o == "reached its target").any())
                k = int(hit.sum())
                row["p_weapon_reached_target"] = k / n
                lo, hi = wilson_interval(k, n)
                row["p_weapon_reached_target_lo"], row["p_weapon_reached_target_hi"] = float(lo), float(hi)
                row["weapons_released_per_sortie"] = float((wpn["outcome"] != "not released").sum() / n)
            row.update(self._site_destroyed(gi, thr, n))
            rows.append(row)
        return pd.DataFrame(rows)

    def drivers(self, top: int = 3) -> list[dict[str, Any]]:
        """Which sampled figures move each mission's outcome most: Spearman's rank correlation,
        over the replications, between each figure drawn (``uncertainty: sample``) and the sortie
        being accomplished. Empty when the run held every figure at its nominal value."""
        from scipy.stats import spearmanr

        df = self.replications
        figs = [c for c in df.columns if c.startswith("figure.")]
        out = []
        if not figs:
            return out
        for thr in self.world.scenario.threats:
            g = df[(df["group"] == thr.name) & (df["role"] != "weapon") & df["accomplished"].notna()]
            if g.empty or g["accomplished"].nunique() < 2:
                continue
            per = g.groupby("replication").agg({"accomplished": "mean", **{f: "first" for f in figs}})
            rows = []
            for f in figs:
                x = per[f].to_numpy(dtype=float)
                if np.ptp(x) == 0:
                    continue
                sr = spearmanr(x, per["accomplished"].to_numpy(dtype=float))
                rho, pval = float(sr.statistic), float(sr.pvalue)
                # only correlations this run can tell from noise (two-sided p < 0.01, several figures tested)
                if np.isfinite(rho) and pval < 0.01:
                    rows.append((abs(rho), rho, f.removeprefix("figure.")))
            rows.sort(reverse=True)
            out.append({"threat": thr.name, "outcome": "mission accomplished",
                        "figures": [{"figure": name, "spearman_rho": float(rho)} for _, rho, name in rows[:top]]})
        return out

    def answer(self) -> dict[str, Any]:
        """The scenario's question and the answer in words, option by option (the scenario as
        written first), from the mission measures; with the figures that move it most."""
        parts = self.answer_parts()
        return {"question": parts["question"], "options": parts["options"], "drivers": parts["drivers"],
                "sentences": parts["option_sentences"] + parts["finding_sentences"]}

    def answer_parts(self) -> dict[str, Any]:
        """:meth:`answer` with its sentences in two lists: ``option_sentences`` (the measures of each
        option, which ``options`` also holds as numbers) and ``finding_sentences`` (what moves the
        outcome; notes on the whole run). The console shows the first as a table."""
        s = self.world.scenario
        base = {"name": "as written", "description": s.description.strip(),
                "missions": _records(self.mission_table()), "missiles_per_kill": self.missiles_per_kill(),
                "exchange": self.exchange_ratio()}
        options = [base, *self.meta.get("options", [])]
        sentences = []
        for opt in options:
            for m in opt["missions"]:
                sentences.append(
                    f"{opt['name']}: {m['threat']} ({m['mission']}; accomplished = {m['accomplished_means']}) "
                    f"is accomplished in {_pct(m['p_accomplished'])} of sorties "
                    f"(95% CI {_pct(m['p_accomplished_lo'])}–{_pct(m['p_accomplished_hi'])}) and lost in "
                    f"{_pct(m['p_loss'])} ({_pct(m['p_loss_lo'])}–{_pct(m['p_loss_hi'])})"
                    + (f"; a weapon reaches its target in {_pct(m['p_weapon_reached_target'])}"
                       if m.get("p_weapon_reached_target") is not None else "")
                    + (f"; aborted (turned away or aborted, neither accomplished nor lost) in {_pct(m['p_aborted'])}"
                       if m.get("p_aborted") is not None and m["p_aborted"] == m["p_aborted"] else "")

                    + (f"; the target site {m['target_site']} is put out in {_pct(m['p_target_site_destroyed'])} "
                       f"({_pct(m['p_target_site_destroyed_lo'])}–{_pct(m['p_target_site_destroyed_hi'])})"
                       if m.get("p_target_site_destroyed") is not None else "") + ".")
                if m.get("mean_exposure_envelope_s") is not None:
                    sentences.append(
                        f"{opt['name']}: time within reach for {m['threat']}: {_dur(m['mean_exposure_envelope_s'])} "
                        "per sortie inside a fire unit's engagement envelope "
                        f"(95% CI {_dur(m['mean_exposure_envelope_s_lo'])}"
                        f"–{_dur(m['mean_exposure_envelope_s_hi'])}) and {_dur(m['mean_exposure_coverage_s'])} "
                        "inside a radar's coverage.")
            ex = opt.get("exchange")
            if ex is not None and (opt["missions"] or ex.get("ratio") is not None):
                sentences.append(f"{opt['name']}: {exchange_words(ex)}")
        option_sentences, sentences = sentences, []
        drivers = self.drivers()
        opt_drivers = [(o["name"], d) for o in options[1:] for d in o.get("drivers") or []]
        for label, d in [("as written", d) for d in drivers] + opt_drivers:
            if not d["figures"]:
                sentences.append(f"{label}: no disputed figure sampled moves {d['threat']}'s outcome detectably at "
                                 f"{self.n} replications (rank correlation, p < 0.01).")
            else:
                sentences.append(
                    f"{label}: what moves {d['threat']}'s outcome most over the disputed figures sampled: "
                    + "; ".join(f"{f['figure']} (rank correlation {f['spearman_rho']:+.2f})" for f in d["figures"])
                    + ".")
        if not (drivers or opt_drivers) and any(o["missions"] for o in options) and not any(
                c.startswith("figure.") for c in self.replications):
            sentences.append("Every catalog figure was held at its nominal value; run with simulation.uncertainty: "
                             "sample, or `iadsim sensitivity`, to see which assumptions move these numbers.")
        elif not (drivers or opt_drivers) and any(o["missions"] for o in options):
            sentences.append("No sortie's outcome varied over the disputed figures sampled in any option, so none "
                             "of them moves it here; the options above show what does.")
        return {"question": s.question, "options": options, "drivers": drivers,
                "option_sentences": option_sentences, "finding_sentences": sentences}

    @property
    def _has_decoys(self) -> bool:
        ew = getattr(self.world, "ew", None)
        return ew is not None and ew.has_decoys

    def _real(self, df: pd.DataFrame) -> pd.DataFrame:
        """The rows of real threats (decoys left out)."""
        return df[~df["decoy"]] if self._has_decoys else df

    def missiles_per_kill(self) -> float | None:
        """Missiles the defence fired (at threats and decoys) per threat it killed (decoys shot down
        are not kills; None when it killed nothing)."""
        kills = int(self._real(self.replications)["killed"].sum())
        return float(self.expenditure["missiles"].sum() / kills) if kills else None

    def missiles_per_kill_interval(self) -> tuple[float | None, float | None]:
        """95% interval of :meth:`missiles_per_kill` over the replications (delta method on the
        ratio of per-replication sums; None when nothing was killed)."""
        from iadsim.results.exchange import ratio_interval

        killed = self.raw.kill_step >= 0
        if self._has_decoys:  # a decoy shot down is not a kill
            killed = killed & ~(self.world.ew.decoy_p >= 0.0)[None, :]
        r, lo, hi = ratio_interval(self.raw.expended.sum(axis=1), killed.sum(axis=1))
        return (None, None) if not np.isfinite(r) else (lo, hi)

    @property
    def expenditure(self) -> pd.DataFrame:
        w, r = self.world, self.raw
        R, E = r.expended.shape
        return pd.DataFrame({
            "replication": np.repeat(np.arange(r.first, r.first + R), E),
            "effector": np.tile(np.array(w.effector_labels, dtype=object), R),
            "system": np.tile(np.array(w.effector_system, dtype=object), R),
            "missiles": r.expended.ravel(),
        })

    @property
    def timeline(self) -> pd.DataFrame:
        w = self.world
        ev = self.raw.events
        if ev is None or len(ev) == 0:
            return pd.DataFrame(columns=["time_s", "event", "unit", "threat", "missiles", "x_m", "y_m",
                                         "alt_m", "lat", "lon"])
        M = w.pos.shape[1]
        steps = np.clip(ev["step"], 0, w.nsteps - 1)
        thr = np.clip(ev["threat"], 0, M - 1)
        p = w.pos[steps, thr]
        lon, lat = w.grid.to_lonlat(p[:, 0], p[:, 1])
        names = np.array(EVENT_NAMES, dtype=object)[ev["type"]]
        unit = []
        for kind, u in zip(ev["type"], ev["unit"]):
            if u < 0:
                unit.append(None)
            elif kind == 0 or kind >= 7:   # detections and radar/unit states name the radar
                unit.append(w.sensor_labels[u])
            else:
                unit.append(w.effector_labels[u])
        return pd.DataFrame({
            "time_s": ev["step"] * w.dt, "event": names, "unit": unit,
            "threat": np.where(ev["threat"] >= 0, np.array(w.threat_labels, dtype=object)[thr], None),
            "missiles": ev["n"],
            "x_m": p[:, 0], "y_m": p[:, 1], "alt_m": p[:, 2], "lat": lat, "lon": lon,
        })

    # ---------- statistics
    def threat_table(self) -> pd.DataFrame:
        df = self.replications
        g = df.groupby("threat", sort=False)
        n = g.size().to_numpy()
        kills = g["killed"].sum().to_numpy()
        leaks = g["leaked"].sum().to_numpy()
        det = g["detected_at_s"].apply(lambda s: s.notna().sum()).to_numpy()
        klo, khi = wilson_interval(kills, n)
        llo, lhi = wilson_interval(leaks, n)
        out = pd.DataFrame({
            "threat": g.size().index,
            "type": g["type"].agg(lambda c: c.iloc[0]).to_numpy(),
            "target": g["target"].agg(lambda c: c.iloc[0]).to_numpy(),
            "n": n,
            "p_kill": kills / n, "p_kill_lo": klo, "p_kill_hi": khi,
            "p_leak": leaks / n, "p_leak_lo": llo, "p_leak_hi": lhi,
            "p_detected": det / n,
            "mean_detect_time_s": g["detected_at_s"].mean().to_numpy(),
            "mean_shots": g["shots"].mean().to_numpy(),
        })
        if self._has_decoys:
            # a decoy's p_kill is a decoy shot down, never a kill of a threat
            out["decoy"] = g["decoy"].agg(lambda c: bool(c.iloc[0])).to_numpy()
            out["p_identified"] = g["identified_at_s"].apply(lambda c: c.notna().mean()).to_numpy()
        return out

    def decoy_summary(self) -> dict[str, Any]:
        """Decoys: how many flew, P(a decoy is engaged) and P(shot down) with 95% Wilson intervals,
        P(identified), missiles fired at decoys and at threats per replication (means with 95% t
        intervals) and the share of all missiles that went to decoys. Empty without decoys."""
        if not self._has_decoys:
            return {}
        df = self.replications
        d = df[df["decoy"]]
        real = df[~df["decoy"]]
        n = len(d)
        engaged = int((d["shots"] > 0).sum())
        killed = int(d["killed"].sum())
        elo, ehi = wilson_interval(engaged, n)
        klo, khi = wilson_interval(killed, n)
        on_decoys = d.groupby("replication")["shots"].sum().reindex(range(self.raw.first, self.raw.first + self.n),
                                                                     fill_value=0).to_numpy(dtype=float)
        on_threats = real.groupby("replication")["shots"].sum().reindex(
            range(self.raw.first, self.raw.first + self.n), fill_value=0).to_numpy(dtype=float)
        m_d, lo_d, hi_d = mean_interval(on_decoys, support=(0.0, np.inf))
        m_t, lo_t, hi_t = mean_interval(on_threats, support=(0.0, np.inf))
        total = on_decoys.sum() + on_threats.sum()
        return {"decoys_per_replication": int(n // max(self.n, 1)),
                "p_decoy_engaged": engaged / n, "p_decoy_engaged_lo": float(elo), "p_decoy_engaged_hi": float(ehi),
                "p_decoy_shot_down": killed / n, "p_decoy_shot_down_lo": float(klo),
                "p_decoy_shot_down_hi": float(khi),
                "p_decoy_identified": float(d["identified_at_s"].notna().mean()),
                "mean_missiles_on_decoys": m_d, "mean_missiles_on_decoys_lo": lo_d, "mean_missiles_on_decoys_hi": hi_d,
                "mean_missiles_on_threats": m_t, "mean_missiles_on_threats_lo": lo_t,
                "mean_missiles_on_threats_hi": hi_t,
                "share_of_missiles_on_decoys": float(on_decoys.sum() / total) if total > 0 else None,
                "p_kill_real_threats": float(real["killed"].mean()) if len(real) else None}

    def threat_ranking(self) -> pd.DataFrame:
        """Threat evaluation (:mod:`iadsim.c2.threat`): each threat's peak urgency [1/s] over its
        flight and its rank (1 = most urgent), as the C2 ranks tracks, with the time of that peak
        [s], the asset it threatened most then, and its closest point of approach to that asset:
        distance [m] and time to it [s]."""
        w = self.world
        tp = w.threat_peak
        pr = w.priority[np.asarray(tp["step"], dtype=np.int64), np.arange(len(w.threat_labels))]
        peak = np.where(np.isfinite(pr), pr, 0.0)
        order = np.argsort(-peak, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(1, len(order) + 1)
        names = [a.name for a in w.scenario.assets]
        asset = [names[a] if a >= 0 else None for a in tp["asset"]]
        return pd.DataFrame({"threat": w.threat_labels, "type": w.threat_type, "peak_urgency_per_s": peak,
                             "urgency_rank": rank, "peak_time_s": np.asarray(tp["step"]) * w.dt,
                             "asset": asset, "cpa_m": tp["cpa_m"], "time_to_cpa_s": tp["time_to_cpa_s"]})

    def effector_table(self) -> pd.DataFrame:
        ex = self.expenditure
        rows = []
        w = self.world
        b = getattr(self.raw, "bursts", None)
        from iadsim.effectors import shot_names

        fires = shot_names(w)   # what one shot of each unit is, as its weapon type names it
        for i, name in enumerate(w.effector_labels):
            x = ex.loc[ex["effector"] == name, "missiles"].to_numpy()
            if b is not None:   # a gun-missile unit's expenditure counts its bursts too: missiles alone here
                x = x - b[:, i]
            m, lo, hi = mean_interval(x, support=(0.0, np.inf))   # shots: never negative
            rows.append({"effector": name, "system": w.effector_system[i],
                         # what one "missile" of the unit is: a missile, a burst of a gun unit, a laser dwell...
                         "fires": fires[i],
                         "ready": int(w.ready[i]), "mean_missiles": m, "lo": lo, "hi": hi, "max_missiles": int(x.max())})
        log = getattr(self.raw, "relocation_log", None)
        sc = getattr(w, "scoot", None)
        if log is not None and sc is not None:   # shoot-and-scoot (iadsim.engine.scoot)
            from iadsim.engine.scoot import relocations, time_at_sites

            moves = relocations(log)
            at = time_at_sites(log, self.raw.relocation_sites, sc.nsites, w.nsteps) * w.dt
            for row in rows:
                row["mean_relocations"] = 0.0
                row["sites"] = 1
                row["mean_time_at_sites_s"] = None
            for g, e in enumerate(sc.group_unit):
                rows[e]["mean_relocations"] = float(moves[:, g].mean()) if len(moves) else 0.0
                rows[e]["sites"] = int(sc.nsites[g])
                # where it stood: mean time set up at its own site, then at each relocate.sites[k]
                rows[e]["mean_time_at_sites_s"] = [float(x) for x in at[:, g, :sc.nsites[g]].mean(axis=0)]
        side = getattr(w, "second_weapon", None)
        if b is not None and side is not None:
            # gun-missile units (iadsim.engine.mixed): the bursts of their guns, beside their missiles
            for i, row in enumerate(rows):
                row["gun_bursts_ready"] = int(side.bursts[i])
                row["mean_bursts"] = float(b[:, i].mean()) if b.shape[0] else 0.0
                row["max_bursts"] = int(b[:, i].max()) if b.shape[0] else 0
        return pd.DataFrame(rows)

    def asset_table(self) -> pd.DataFrame:
        df = self.replications
        rows = []
        df = self._real(df)   # a decoy that reaches an asset does it no harm
        real = ~(self.world.ew.decoy_p >= 0.0) if self._has_decoys else np.ones(len(self.world.target), bool)
        for a in self.world.scenario.assets:
            hit = df[(df["target"] == a.name) & df["leaked"]].groupby("replication").size()
            n_hit = len(hit)
            attackers = int(((self.world.target == [x.name for x in self.world.scenario.assets].index(a.name))
                             & real).sum())
            lo, hi = wilson_interval(self.n - n_hit, self.n)
            rows.append({"asset": a.name, "attackers": attackers, "p_survive": (self.n - n_hit) / self.n,
                         "lo": float(lo), "hi": float(hi),
                         "mean_leakers": float(df[(df["target"] == a.name)].groupby("replication")["leaked"].sum().mean())
                         if attackers else 0.0})
        return pd.DataFrame(rows)

    @property
    def summary(self) -> dict[str, Any]:
        s = self.world.scenario
        return {
            "iadsim_version": self.version,
            "scenario": s.name,
            "title": s.title,
            "fidelity": s.simulation.fidelity,
            "uncertainty": s.simulation.uncertainty,
            "policy": s.simulation.policy,
            "replications": self.n,
            "seed": self.seed,
            "timeline_replication": self.timeline_replication,
            "confidence_level": 0.95,
            "interval_method": "Wilson score (proportions), Student t (means), delta method (ratios), "
                               "exact Poisson (loss rates)",
            "threats": _records(self.threat_table().merge(
                self.threat_ranking().drop(columns=["type"]), on="threat")),
            "effectors": _records(self.effector_table()),
            "assets": _records(self.asset_table()),
            "missions": _records(self.mission_table()),
            "answer": self.answer(),
            "missiles_per_kill": self.missiles_per_kill(),
            "missiles_per_kill_interval": list(self.missiles_per_kill_interval()),
            "exposure": _records(self.exposure_table()),
            "exchange": self.exchange_ratio(),
            "models": self.models,
            **({"tracking": self._tracking_summary()} if self.raw.track_stats is not None else {}),
            **({"decoys": self.decoy_summary()} if self._has_decoys else {}),
            **self._jamming_summary(),
            **({"radiating": self.radiating_table()} if self.has_radiating else {}),
            **({"sites": self.site_table(), "mean_sites_destroyed": float(self.sites_destroyed().mean())}
               if getattr(self.raw, "site_kill", None) is not None else {}),
            **self.meta,
        }

    def _jamming_summary(self) -> dict[str, Any]:
        """{"jamming": ...} of iadsim.engine.ew.jamming_summary, or {} without jammers."""
        ew = getattr(self.world, "ew", None)
        if ew is None or not ew.has_jamming:
            return {}
        from iadsim.engine.ew import jamming_summary

        return {"jamming": jamming_summary(self.world)}

    @property
    def has_radiating(self) -> bool:
        """Whether :meth:`radiating_table` has rows: the run had a defence state, simulated here or
        read back from a saved run's summary."""
        return getattr(self.raw, "radiating", None) is not None or self.saved_radiating is not None

    def radiating_table(self) -> list[dict[str, Any]]:
        """With a defence state (failures, emission control, C2 links): per radar, the mean time it
        radiated per replication [s] (until the replication's last threat was done) and that time's
        share of the run. A run read back from its folder gives the table its summary.json saved."""
        if getattr(self.raw, "radiating", None) is None and self.saved_radiating is not None:
            return [dict(r) for r in self.saved_radiating]
        rad = np.asarray(self.raw.radiating, dtype=float) * self.world.dt
        out = []
        for s, name in enumerate(self.world.sensor_labels):
            mean = float(rad[:, s].mean()) if len(rad) else 0.0
            out.append({"radar": name, "mean_radiating_s": mean,
                        "max_radiating_s": float(rad[:, s].max()) if len(rad) else 0.0,
                        "share_of_run": mean / (self.world.nsteps * self.world.dt)})
        return out

    def site_table(self) -> list[dict[str, Any]]:
        """With weapons aimed at sites (iadsim.engine.sites): per site (fire unit or radar) the
        probability it was put out in a replication, with a 95% Wilson interval, and the mean time
        of the first hit [s] over the replications where it was."""
        sk = np.asarray(self.raw.site_kill)
        n = sk.shape[0]
        out = []
        for s, name in enumerate(self.world.sensor_labels):
            hit = sk[:, s] >= 0
            k = int(hit.sum())
            lo, hi = wilson_interval(k, n) if n else (float("nan"), float("nan"))
            out.append({"site": name, "kind": "fire unit" if s < len(self.world.effector_labels) else "radar",
                        "p_destroyed": k / n if n else float("nan"), "p_destroyed_lo": float(lo),
                        "p_destroyed_hi": float(hi),
                        "mean_destroyed_at_s": float(sk[hit, s].mean() * self.world.dt) if k else None})
        return out

    def sites_destroyed(self) -> np.ndarray:
        """[R] sites (fire units and radars) put out in each replication (zeros without site attacks)."""
        sk = getattr(self.raw, "site_kill", None)
        if sk is None:
            return np.zeros(self.n, np.int64)
        return (np.asarray(sk) >= 0).sum(axis=1)

    def _site_destroyed(self, gi: int, thr, n: int) -> dict[str, Any]:
        """For a mission whose weapons are aimed at a site: P(the target site was put out by the end
        of the replication), with its 95% Wilson interval."""
        w = self.world
        sa = getattr(w, "sites", None)
        sk = getattr(self.raw, "site_kill", None)
        if sa is None or sk is None:
            return {}
        cols = np.flatnonzero((w.threat_group == gi) & (sa.site_of >= 0))
        if cols.size == 0:
            return {}
        site = int(sa.site_of[cols[0]])
        k = int((np.asarray(sk)[:, site] >= 0).sum())
        R = sk.shape[0]
        lo, hi = wilson_interval(k, R)
        return {"target_site": w.sensor_labels[site], "p_target_site_destroyed": k / R if R else float("nan"),
                "p_target_site_destroyed_lo": float(lo), "p_target_site_destroyed_hi": float(hi)}

    def _tracking_summary(self) -> dict[str, float]:
        """Full fidelity: tracks created and confirmed per replication, mean position error [m]."""
        from iadsim.engine.full import TRACK_STATS

        ts = np.asarray(self.raw.track_stats, dtype=float)
        return {(name if name.startswith("mean_") else f"mean_{name}"):
                float(np.nanmean(ts[:, i])) if len(ts) else None for i, name in enumerate(TRACK_STATS)}

    def __repr__(self) -> str:
        return f"Results({self.world.scenario.name!r}, replications={self.n}, seed={self.seed})"

    def _repr_html_(self) -> str:
        return self.threat_table().to_html(index=False, float_format=lambda v: f"{v:.3f}")

    # ---------- writing
    def write_parquet(self, path: str | Path) -> Path:
        table = pa.Table.from_pandas(self.replications, preserve_index=False)
        meta = {b"iadsim": json.dumps({"scenario": self.world.scenario.name, "seed": self.seed,
                                        "replications": self.n, "version": self.version,
                                        "fidelity": self.world.scenario.simulation.fidelity}).encode()}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
        return write_with(path, lambda tmp: pq.write_table(table, tmp))

    def write_summary(self, path: str | Path) -> Path:
        from iadsim.results.io import json_safe

        # a measure without data (no track confirmed, ...) is NaN: null in JSON, never NaN
        return write_text(path, json.dumps(json_safe(self.summary), indent=2, allow_nan=False,
                                           default=_json_default))


def _pct(v) -> str:
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{100 * v:.0f}%"


def _dur(v) -> str:
    """A duration [s] in words: seconds below two minutes, else minutes."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return f"{max(v, 0.0):.0f} s" if v < 120 else f"{v / 60:.1f} min"


def _usd(v) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    return f"${v / 1e6:.2f}M" if abs(v) >= 1e6 else f"${v / 1e3:.0f}k"


def exchange_words(ex: dict[str, Any]) -> str:
    """The exchange ratio in one sentence."""
    if ex.get("missing"):
        return f"exchange ratio: {ex['note']} in the catalog (add one with the scenario's catalog: section or --set)."
    if ex.get("ratio") is None:
        return "exchange ratio: no interceptor fired."
    s = (f"the defence destroys {_usd(ex['threats_destroyed_usd'])} of threats per replication for "
         f"{_usd(ex['interceptors_fired_usd'])} of interceptors fired: an exchange ratio of "
         f"{ex['ratio']:.2f} (95% CI {ex['ratio_lo']:.2f}–{ex['ratio_hi']:.2f})")
    if ex.get("reverse") is not None:
        s += (f"; each dollar of threat destroyed costs {ex['reverse']:.2f} dollars of interceptors "
              f"({ex['reverse_lo']:.2f}–{ex['reverse_hi']:.2f})")
    return s + "."


def _target_names(w, assets: list) -> list:
    """[M] what each threat member attacks: an asset's name, a site's (a fire unit or radar a weapon is
    aimed at: iadsim.engine.sites), or None."""
    names = [assets[t] for t in w.target]
    sa = getattr(w, "sites", None)
    if sa is not None:
        names = [w.sensor_labels[s] if s >= 0 else n for n, s in zip(names, sa.site_of)]
    return names


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and not np.isfinite(v) else _py(v)) for k, v in rec.items()})
    return out


def _py(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o)}")
