"""The stand-off chart: P(loss) and P(mission accomplished) of an ISR sortie against the stand-off
distance of its station from the defended centre and its altitude (``iadsim sweep --preset
standoff``).

The defended centre is the mean position of the scenario's assets (of its fire units when it has
no asset). Each cell moves the ISR station away from that centre, toward the threat's base (its
first route point) unless a bearing is given, or along the bearing closest to that where the
farthest station still lies on the scenario's terrain, to the given
distance [km] (WGS84 geodesic, :class:`pyproj.Geod`), and sets the threat's altitude [m] (the
altitude it flies on station). Every cell runs the same replications with the same seed (common
random numbers), so differences between cells come from the geometry, not from sampling noise.

>>> res = standoff_sweep(load_scenario("capital.yaml"), standoff_km=[0, 30, 60],  # doctest: +SKIP
...                      altitude_m=[3000, 9000], replications=200, seed=1)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from iadsim.errors import InputError, Problem

#: the default grid: stand-off distance from the defended centre [km] x altitude [m]
DEFAULT_STANDOFF_KM = (0.0, 15.0, 30.0, 45.0, 60.0)
DEFAULT_ALTITUDE_M = (3000.0, 9000.0, 15000.0)
MAX_CELLS = 400

#: the limits of the chart, printed with it
STANDOFF_LIMITS = ("each cell moves only the ISR station (and the threat's default altitude): its route, base "
                   "and time on station are kept, so at short stand-off the transit to the station may cross "
                   "envelopes the station itself avoids; the stand-off is measured from the defended centre, not "
                   "from the nearest fire unit")


@dataclass
class StandoffResult:
    """One row per cell: stand-off [km], altitude [m], station position, P(loss) and P(accomplished)
    with 95% Wilson intervals, mean time inside an engagement envelope [s]."""

    table: pd.DataFrame
    threat: str
    centre_lat: float
    centre_lon: float
    bearing_deg: float
    replications: int
    seed: int
    bearing_rule: str = "given"
    meta: dict[str, Any] = field(default_factory=dict)


def defended_centre(ld) -> tuple[float, float]:
    """Mean lat, lon of the scenario's assets (of its fire units without assets)."""
    s = ld.scenario
    pts = [(a.lat, a.lon) for a in s.assets] or [(e.site.lat, e.site.lon) for e in s.effectors]
    if not pts:
        raise InputError.single(ld.source, "assets", "the stand-off sweep needs a defended asset or a fire unit "
                                                     "to measure the stand-off from")
    lat, lon = np.mean(np.array(pts, dtype=float), axis=0)
    return float(lat), float(lon)


def isr_threat(ld, name: str | None = None) -> int:
    """Index of the ISR threat the sweep moves: ``name``, else the scenario's only ISR threat."""
    s = ld.scenario
    isr = [i for i, t in enumerate(s.threats) if t.mission is not None and t.mission.kind == "isr"]
    if name is not None:
        names = [t.name for t in s.threats]
        if name not in names:
            raise InputError.single("command line", "--threat", f"no threat named {name!r}; threats: "
                                                                f"{', '.join(names) or 'none'}")
        i = names.index(name)
        if i not in isr:
            raise InputError.single("command line", "--threat", f"threat {name!r} has no ISR mission (mission.kind: "
                                                                "isr); the stand-off sweep moves an ISR station")
        return i
    if not isr:
        raise InputError.single(ld.source, "threats", "the stand-off sweep needs a threat with an ISR mission "
                                                      "(mission.kind: isr, with a station)")
    if len(isr) > 1:
        raise InputError.single("command line", "--threat", "the scenario has several ISR threats ("
                                + ", ".join(s.threats[i].name for i in isr) + "); name one with --threat")
    return isr[0]


def _geod():
    from pyproj import Geod

    return Geod(ellps="WGS84")


def home_bearing(ld, ti: int, centre: tuple[float, float]) -> float:
    """Bearing [deg from north] from the defended centre to the threat's base (its first route
    point; to its station as written when the base is on the centre; north when both are)."""
    thr = ld.scenario.threats[ti]
    st = thr.mission.station
    g = _geod()
    for lat, lon in [(w.lat, w.lon) for w in thr.route] + [(st.lat, st.lon)]:
        az, _back, dist = g.inv(centre[1], centre[0], lon, lat)
        if dist > 1.0:
            return float(az % 360.0)
    return 0.0


def _station_sets(name: str, centre, bearing: float, d_km: float) -> dict[str, float]:
    lon, lat, _ = _geod().fwd(centre[1], centre[0], bearing, d_km * 1000.0)
    return {f"threats[{name}].mission.station.lat": round(float(lat), 7),
            f"threats[{name}].mission.station.lon": round(float(lon), 7)}


def _fits(ld, name: str, centre, bearing: float, d_km: float) -> bool:
    """Whether a station at ``d_km`` along ``bearing`` lies on the scenario's terrain with its
    pattern's far edge (radius, half a racetrack's length, 1 km more)."""
    from iadsim.scenario.variants import with_fields

    st = next(t for t in ld.scenario.threats if t.name == name).mission.station
    reach = st.radius_km + (st.length_km / 2.0 if st.pattern == "racetrack" else 0.0) + 1.0
    from iadsim.coverage.specs import build_grid

    try:
        build_grid(with_fields(ld, _station_sets(name, centre, bearing, d_km + reach)))
    except InputError:
        return False
    return True


def choose_bearing(ld, name: str, centre, home: float, farthest_km: float, step_deg: float = 15.0) -> float:
    """The bearing closest to the way home (``home``) along which the farthest station, with its
    pattern, stays on the scenario's terrain; the way home itself when nothing fits (the
    validation of the cells then says why)."""
    for k in range(int(180 / step_deg) + 1):
        for b in ((home + k * step_deg) % 360.0, (home - k * step_deg) % 360.0):
            if _fits(ld, name, centre, b, farthest_km):
                return float(b)
    return home


def _values(values: Sequence[float], what: str, lo: float, hi: float) -> list[float]:
    vals = [float(v) for v in values]
    bad = [v for v in vals if not (np.isfinite(v) and lo <= v <= hi)]
    if not vals or bad:
        raise InputError.single("command line", what, f"expected values in [{lo:g}, {hi:g}], got "
                                                      f"{', '.join(f'{v:g}' for v in (bad or vals)) or 'none'}")
    return sorted(set(vals))


def plan_cells(ld, standoff_km: Sequence[float] = DEFAULT_STANDOFF_KM,
               altitude_m: Sequence[float] = DEFAULT_ALTITUDE_M, threat: str | None = None,
               bearing_deg: float | None = None) -> dict[str, Any]:
    """The cells of the sweep, each validated as a scenario (every problem raised before anything
    runs): ``{"threat", "centre", "bearing_deg", "bearing_rule", "cells": [{standoff_km, altitude_m,
    station_lat, station_lon, ld}]}``.

    ``bearing_deg``: the direction [deg from north] from the defended centre in which the station
    moves away; default: the way home (to the threat's first route point), or the bearing closest
    to it along which the farthest station still lies on the scenario's terrain."""
    from iadsim.coverage.specs import build_grid
    from iadsim.scenario.variants import with_fields

    sk = _values(standoff_km, "--standoff-km", 0.0, 2000.0)
    alt = _values(altitude_m, "--altitude-m", -500.0, 100_000.0)
    if len(sk) * len(alt) > MAX_CELLS:
        raise InputError.single("command line", "--standoff-km", f"{len(sk)} x {len(alt)} cells; at most "
                                                                 f"{MAX_CELLS} are run by the preset")
    ti = isr_threat(ld, threat)
    name = ld.scenario.threats[ti].name
    centre = defended_centre(ld)
    if bearing_deg is not None:
        if not (np.isfinite(bearing_deg) and 0.0 <= bearing_deg <= 360.0):
            raise InputError.single("command line", "--bearing-deg", f"expected a bearing in [0, 360], got "
                                                                     f"{bearing_deg:g}")
        bearing, rule = float(bearing_deg) % 360.0, "given"
    else:
        home = home_bearing(ld, ti, centre)
        bearing = choose_bearing(ld, name, centre, home, max(sk))
        rule = ("toward the threat's base" if bearing == home else
                f"the closest to the way home ({home:.0f}°) with room on the terrain for {max(sk):g} km")
    cells = []
    problems: list[Problem] = []
    for d in sk:
        st = _station_sets(name, centre, bearing, d)
        lat, lon = st[f"threats[{name}].mission.station.lat"], st[f"threats[{name}].mission.station.lon"]
        for a in alt:
            sets = {**st, f"threats[{name}].altitude_m": a}
            try:
                cld = with_fields(ld, sets, where=f"standoff cell ({d:g} km, {a:g} m)")
                build_grid(cld)   # every point of the cell on the scenario's terrain
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            cells.append({"standoff_km": d, "altitude_m": a, "station_lat": float(lat), "station_lon": float(lon),
                          "ld": cld})
    if problems:
        raise InputError(problems[:10])
    return {"threat": name, "centre": centre, "bearing_deg": bearing, "bearing_rule": rule, "cells": cells}


def standoff_sweep(ld, standoff_km: Sequence[float] = DEFAULT_STANDOFF_KM,
                   altitude_m: Sequence[float] = DEFAULT_ALTITUDE_M, threat: str | None = None,
                   replications: int | None = None, seed: int | None = None,
                   progress: Callable[[int, int], None] | None = None, plan: dict | None = None,
                   **simulate_kw) -> StandoffResult:
    """Run every cell (same replications, same seed) and tabulate the ISR sortie's measures."""
    from iadsim.api import simulate

    plan = plan if plan is not None else plan_cells(ld, standoff_km, altitude_m, threat)
    n = replications if replications is not None else ld.scenario.simulation.replications
    seed = seed if seed is not None else ld.scenario.simulation.seed
    rows = []
    for k, c in enumerate(plan["cells"]):
        if progress:
            progress(k, len(plan["cells"]))
        res = simulate(c["ld"], replications=n, seed=seed, options=False, **simulate_kw)
        mt = res.mission_table()
        m = mt[mt["threat"] == plan["threat"]].iloc[0]
        rows.append({"standoff_km": c["standoff_km"], "altitude_m": c["altitude_m"],
                     "station_lat": c["station_lat"], "station_lon": c["station_lon"], "sorties": int(m["sorties"]),
                     **{k2: float(m[k2]) for k2 in ("p_loss", "p_loss_lo", "p_loss_hi", "p_accomplished",
                                                    "p_accomplished_lo", "p_accomplished_hi",
                                                    "mean_exposure_envelope_s", "mean_exposure_coverage_s")}})
    if progress:
        progress(len(plan["cells"]), len(plan["cells"]))
    table = pd.DataFrame(rows).sort_values(["altitude_m", "standoff_km"], kind="stable").reset_index(drop=True)
    return StandoffResult(table=table, threat=plan["threat"], centre_lat=plan["centre"][0],
                          centre_lon=plan["centre"][1], bearing_deg=plan["bearing_deg"], replications=n, seed=seed,
                          bearing_rule=plan.get("bearing_rule", "given"))


def standoff_figures(res: StandoffResult) -> list:
    """Two plotly charts: P(loss) and P(accomplished) against stand-off [km], one line per altitude,
    with 95% Wilson intervals as error bars."""
    import plotly.graph_objects as go

    from iadsim.report.plots import UNIT_COLOURS, _err, _layout

    figs = []
    t = res.table
    for col, label in (("p_loss", "P(loss)"), ("p_accomplished", "P(mission accomplished)")):
        fig = go.Figure()
        for i, (alt, g) in enumerate(t.groupby("altitude_m", sort=True)):
            g = g.sort_values("standoff_km")
            name = f"{alt:g} m"
            fig.add_trace(go.Scatter(
                x=g["standoff_km"].tolist(), y=g[col].tolist(), mode="lines+markers", name=name,
                error_y=_err(g[col], g[f"{col}_lo"], g[f"{col}_hi"]),
                line=dict(color=UNIT_COLOURS[i % len(UNIT_COLOURS)]),
                hovertemplate=f"altitude {name}<br>stand-off %{{x}} km<br>{label} = %{{y:.3f}}<extra></extra>"))
        _layout(fig, title=f"{res.threat}: {label} against stand-off ({res.replications} sorties a point, 95% CI)",
                height=400)
        fig.update_xaxes(title_text="stand-off distance of the station from the defended centre [km]")
        fig.update_yaxes(title_text=label, range=[0, 1.05], tickformat=".0%")
        fig.update_layout(legend=dict(title=dict(text="altitude"), orientation="v", yanchor="top", y=1.0,
                                      xanchor="left", x=1.01), margin=dict(r=10))
        figs.append(fig)
    return figs


def write_standoff(res: StandoffResult, out: str | Path, scenario_name: str, png: bool = True) -> list[Path]:
    """Write standoff.csv, standoff.parquet, standoff.json, standoff.html (interactive charts) and,
    with ``png``, a static PNG of each chart (matplotlib, no browser). Every file atomically."""

    from iadsim import __version__
    from iadsim.report.static import figure_png
    from iadsim.results.io import json_safe, write_text, write_with

    out = Path(out)
    figs = standoff_figures(res)
    written = [write_text(out / "standoff.csv", res.table.to_csv(index=False)),
               write_with(out / "standoff.parquet", lambda tmp: res.table.to_parquet(tmp, index=False))]
    meta = {"iadsim_version": __version__, "preset": "standoff", "scenario": scenario_name, "threat": res.threat,
            "defended_centre": {"lat": res.centre_lat, "lon": res.centre_lon}, "bearing_deg": res.bearing_deg,
            "bearing_rule": res.bearing_rule, "replications": res.replications, "seed": res.seed,
            "seeds": "common random numbers (same seed in every cell)",
            "interval_method": "Wilson score (proportions), Student t (means)", "limits": STANDOFF_LIMITS,
            "cells": res.table.to_dict(orient="records")}
    written.append(write_text(out / "standoff.json", json.dumps(json_safe(meta), indent=2, allow_nan=False)))
    # the report's chart helpers: plotly.js inlined compressed, and a static image for each chart
    # that shows when JavaScript does not run
    from iadsim.report.html import _fig_html, plotly_loader

    body = "\n".join(str(_fig_html(f, f"standoff-{i}")) for i, f in enumerate(figs))
    html = (f"<!doctype html><html><head><meta charset='utf-8'><title>{_esc(scenario_name)}: stand-off"
            "</title><style>.chart-static{display:block;max-width:100%}html.plotly-ok .chart-static{display:none}"
            "html:not(.plotly-ok) .plotly-graph-div{display:none!important}</style>"
            f"{plotly_loader()}</head><body style='font-family:sans-serif;max-width:1000px;margin:auto'>"
            f"<h1>{_esc(scenario_name)}: stand-off of {_esc(res.threat)}</h1>"
            f"<p>Stand-off measured from the defended centre ({res.centre_lat:.4f}, {res.centre_lon:.4f}) along "
            f"bearing {res.bearing_deg:.0f}° ({_esc(res.bearing_rule)}); {res.replications} replications per point, "
            f"seed {res.seed}, the same in every cell (common random numbers).</p>{body}"
            f"<p><small>Leaves out: {_esc(STANDOFF_LIMITS)}.</small></p></body></html>")
    written.append(write_text(out / "standoff.html", html))
    if png:
        for name, f in zip(("standoff_p_loss.png", "standoff_p_accomplished.png"), figs):
            data = figure_png(f)
            written.append(write_with(out / name, lambda tmp, d=data: Path(tmp).write_bytes(d)))
    return written


def _esc(s: str) -> str:
    import html

    return html.escape(str(s))
