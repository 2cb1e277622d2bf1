"""Interactive charts for the report (plotly ``go.Figure``).

Every proportion is drawn with its 95% Wilson score interval and every mean with its Student t
interval, as computed by :mod:`iadsim.results` (``threat_table``, ``effector_table``,
``asset_table``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

__all__ = [
    "EVENT_STYLE",
    "asset_survival_figure",
    "detection_time_figure",
    "expenditure_figure",
    "threat_outcomes_figure",
    "timeline_figure",
]

FONT = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
        "'Noto Sans', sans-serif")
KILL = "#2166ac"
LEAK = "#d6604d"
UNIT_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
                "#666666", "#1f78b4", "#b15928")
#: marker of each timeline event: (symbol, colour, size, row offset, description)
EVENT_STYLE: dict[str, tuple[str, str, int, float, str]] = {
    "detect": ("circle-open", "#4393c3", 9, 0.22, "first detection by a radar"),
    "track": ("diamond-open", "#2166ac", 8, 0.22, "firm track"),
    "lost": ("square-open", "#878787", 8, 0.22, "track dropped"),
    "launch": ("triangle-up", "#1b9e77", 11, 0.0, "missile launch (colour: fire unit)"),
    "miss": ("circle-x-open", "#8c510a", 11, -0.2, "missiles missed"),
    "kill": ("x", "#b2182b", 13, -0.2, "threat killed"),
    "leak": ("star", "#ff7f00", 14, -0.2, "threat reached its target (or, without a target, survived the sortie)"),
}


_AXIS = dict(gridcolor="#ebf0f8", linecolor="#c8d4e3", zerolinecolor="#dfe6ee", ticks="",
             automargin=True)
# a light template in the spirit of plotly_white, spelled out: loading a named template costs
# a quarter of a second
_TEMPLATE = dict(layout=dict(paper_bgcolor="white", plot_bgcolor="white", xaxis=_AXIS, yaxis=_AXIS,
                             colorway=list(UNIT_COLOURS), hoverlabel=dict(align="left"),
                             title=dict(x=0.01)))


def _layout(fig: go.Figure, *, title: str, height: int = 380, **kw) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0.01, xanchor="left", font=dict(size=15)),
        template=_TEMPLATE, height=height, font=dict(family=FONT, size=12),
        margin=dict(l=60, r=20, t=60, b=50), hovermode="closest",
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        **kw,
    )
    return fig


def _err(p, lo, hi) -> dict:
    p, lo, hi = (np.asarray(v, dtype=float) for v in (p, lo, hi))
    return dict(type="data", symmetric=False, array=np.nan_to_num(hi - p).tolist(),
                arrayminus=np.nan_to_num(p - lo).tolist(), thickness=1.3, width=5, color="#333")


def _pct(v) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{100 * v:.1f}%"


def threat_outcomes_figure(results) -> go.Figure:
    """Per threat: probability of kill and of reaching its target (a threat with a target) or of
    surviving the sortie (a threat without one), with 95% CIs."""
    t = results.threat_table()
    names = t["threat"].astype(str).tolist()
    means = ["reached its target" if isinstance(x, str) else "survived the sortie" for x in t["target"]]
    fig = go.Figure()
    for col, label, colour in (("p_kill", "P(kill)", KILL), ("p_leak", "P(reached target / survived)", LEAK)):
        lo, hi = t[f"{col}_lo"], t[f"{col}_hi"]
        what = ["killed"] * len(names) if col == "p_kill" else means
        hover = [f"<b>{n}</b><br>P({m}) = {_pct(p)}<br>95% CI {_pct(a)} – {_pct(b)}<br>"
                 f"n = {k:,} replications" for n, m, p, a, b, k in zip(names, what, t[col], lo, hi, t["n"])]
        fig.add_trace(go.Bar(x=names, y=t[col].tolist(), name=label, marker_color=colour,
                             error_y=_err(t[col], lo, hi), hovertext=hover, hoverinfo="text"))
    _layout(fig, title="Outcome per threat (95% Wilson intervals)", barmode="group")
    fig.update_yaxes(title_text="probability", range=[0, 1.05], tickformat=".0%")
    return fig


def expenditure_figure(results) -> go.Figure:
    """Missiles expended per fire unit: mean with 95% CI, maximum, and the ready load."""
    e = results.effector_table()
    names = e["effector"].astype(str).tolist()
    hover = [f"<b>{n}</b> ({s})<br>mean {m:.2f} missiles<br>95% CI {a:.2f} – {b:.2f}<br>"
             f"max {mx} · ready {r}" for n, s, m, a, b, mx, r in
             zip(names, e["system"], e["mean_missiles"], e["lo"], e["hi"], e["max_missiles"],
                 e["ready"])]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=e["mean_missiles"].tolist(), name="mean per replication",
                         marker_color="#4d9221", hovertext=hover, hoverinfo="text",
                         error_y=_err(e["mean_missiles"], e["lo"], e["hi"])))
    fig.add_trace(go.Scatter(x=names, y=e["max_missiles"].tolist(), mode="markers",
                             name="most in one replication",
                             marker=dict(symbol="line-ew-open", size=22, color="#276419",
                                         line=dict(width=2.5)), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=names, y=e["ready"].tolist(), mode="markers",
                             name="ready missiles (before reloads)",
                             marker=dict(symbol="diamond-open", size=12, color="#b2182b",
                                         line=dict(width=2)), hoverinfo="skip"))
    _layout(fig, title="Missiles expended per fire unit")
    fig.update_yaxes(title_text="missiles", rangemode="tozero")
    return fig


def asset_survival_figure(results) -> go.Figure:
    """Per asset: probability that no threat reached it, with 95% CI."""
    a = results.asset_table()
    fig = go.Figure()
    if a.empty:
        return _layout(fig, title="Asset survival (no assets in the scenario)", height=200)
    names = a["asset"].astype(str).tolist()
    hover = [f"<b>{n}</b><br>P(survive) = {_pct(p)}<br>95% CI {_pct(lo)} – {_pct(hi)}<br>"
             f"{k} attacker(s), {m:.2f} reaching it on average"
             for n, p, lo, hi, k, m in zip(names, a["p_survive"], a["lo"], a["hi"], a["attackers"],
                                           a["mean_leakers"])]
    fig.add_trace(go.Bar(x=names, y=a["p_survive"].tolist(), name="P(no threat reached it)",
                         marker_color="#35978f", error_y=_err(a["p_survive"], a["lo"], a["hi"]),
                         hovertext=hover, hoverinfo="text", width=0.5))
    _layout(fig, title="Asset survival: no threat reached it (95% Wilson intervals)", height=340,
            showlegend=False)
    fig.update_yaxes(title_text="probability", range=[0, 1.05], tickformat=".0%")
    return fig


def _flight_spans(results) -> list[tuple[float, float]]:
    """(start, end) [s] of each threat's flight in the recorded replication."""
    w = results.world
    df = results.replications
    rec = df[df["replication"] == results.timeline_replication]
    by = {str(r.threat): r for r in rec.itertuples(index=False)}
    spans = []
    for i, name in enumerate(w.threat_labels):
        t0 = float(w.first_step[i]) * w.dt
        t1 = float(w.end_step[i]) * w.dt
        r = by.get(name)
        if r is not None:
            for v in (r.kill_time_s, r.leak_time_s):
                if v is not None and np.isfinite(v):
                    t1 = min(t1, float(v))
        spans.append((t0, t1))
    return spans


def timeline_figure(results) -> go.Figure:
    """Events of the recorded replication: time [s] against threat; launches coloured by unit."""
    w = results.world
    ev = results.timeline
    labels = list(w.threat_labels)
    row = {n: len(labels) - 1 - i for i, n in enumerate(labels)}  # first threat on top
    fig = go.Figure()
    xs, ys = [], []
    for name, (t0, t1) in zip(labels, _flight_spans(results)):
        if np.isfinite(t0) and np.isfinite(t1) and t1 >= t0:
            xs += [t0, t1, None]
            ys += [row[name], row[name], None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="in flight",
                             line=dict(color="rgba(120,120,120,0.25)", width=8), hoverinfo="skip"))
    units = list(dict.fromkeys(ev.loc[ev["event"] == "launch", "unit"].dropna().astype(str)))
    # a fixed colour per fire unit, in scenario order
    order = [x for x in w.effector_labels if x in units] + \
            [x for x in units if x not in w.effector_labels]
    ucol = {u: UNIT_COLOURS[i % len(UNIT_COLOURS)] for i, u in enumerate(order)}

    def hover(d: pd.DataFrame) -> list[str]:
        out = []
        for r in d.itertuples(index=False):
            who = f" by {r.unit}" if isinstance(r.unit, str) else ""
            n = f"<br>{int(r.missiles)} missile(s)" if r.event in ("launch", "kill", "miss") and \
                r.missiles else ""
            where = ""
            if np.isfinite(r.alt_m):
                where = f"<br>{r.alt_m:,.0f} m MSL · {r.lat:.4f}, {r.lon:.4f}"
            out.append(f"<b>{_event_words(r.event, r.threat)}</b> {r.threat}{who}<br>t = {r.time_s:,.0f} s{n}{where}")
        return out

    no_target = {lab for lab, tg in zip(w.threat_labels, w.target) if tg < 0}

    def _event_words(event: str, threat) -> str:
        if event == "leak":
            return "survived the sortie" if str(threat) in no_target else "reached its target"
        return {"kill": "killed"}.get(event, event)

    for kind, (symbol, colour, size, dy, _desc) in EVENT_STYLE.items():
        d = ev[ev["event"] == kind]
        if d.empty:
            continue
        groups = [(None, d)]
        if kind == "launch":
            groups = [(u, d[d["unit"].astype(str) == u]) for u in ucol if (d["unit"] == u).any()]
        if kind == "leak":  # a threat without a target that came home did not "leak"
            home = d["threat"].astype(str).isin(no_target)
            groups = [(None, d[~home]), (None, d[home])]
        for unit, g in groups:
            if g.empty:
                continue
            y = [row.get(str(t), np.nan) + dy for t in g["threat"]]
            c = ucol[unit] if unit is not None else colour
            edge = c if ("open" in symbol or symbol == "x") else "white"
            name = f"launch · {unit}" if unit is not None else _event_words(kind, g["threat"].iloc[0])
            fig.add_trace(go.Scatter(
                x=g["time_s"].tolist(), y=y, mode="markers", name=name, legendgroup=kind,
                marker=dict(symbol=symbol, color=c, size=size, line=dict(width=1.5, color=edge)),
                hovertext=hover(g), hoverinfo="text"))
    n = len(labels)
    fig.update_yaxes(tickvals=list(range(n)), ticktext=labels[::-1], range=[-0.6, n - 0.4],
                     title_text="", showgrid=True, zeroline=False)
    fig.update_xaxes(title_text="time [s]", rangemode="tozero")
    _layout(fig, title=f"Engagement timeline of replication {results.timeline_replication}",
            height=int(min(max(200 + 42 * n, 320), 1400)))
    fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.01),
                      margin=dict(l=110, r=10, t=50, b=50))
    return fig


def _nice_step(span: float, target_bins: int, minimum: float) -> float:
    raw = max(span / max(target_bins, 1), minimum, 1e-9)
    mag = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return float(m * mag)
    return float(10 * mag)


def detection_time_figure(results, max_series: int = 12) -> go.Figure:
    """Distribution of the time of first detection [s], per threat (per threat group when more
    than ``max_series`` threats), as the fraction of replications in each time bin."""
    df = results.replications
    key = "threat" if df["threat"].nunique() <= max_series else "group"
    order = list(dict.fromkeys(df[key].astype(str)))
    t = df["detected_at_s"].to_numpy(dtype=float)
    fig = go.Figure()
    finite = t[np.isfinite(t)]
    if finite.size == 0:
        return _layout(fig, title="Time of first detection: no threat was detected", height=220)
    lo, hi = float(finite.min()), float(finite.max())
    step = _nice_step(hi - lo, 80, results.world.dt)
    start = np.floor(lo / step) * step
    edges = np.arange(start, hi + step * 1.0001, step)
    if edges.size < 2:
        edges = np.array([start, start + step])
    centres = 0.5 * (edges[:-1] + edges[1:])
    for i, name in enumerate(order):
        sel = df[key].astype(str).to_numpy() == name
        x = t[sel]
        n = x.size
        h, _ = np.histogram(x[np.isfinite(x)], bins=edges)
        frac = h / max(n, 1)
        nd = 1.0 - np.isfinite(x).sum() / max(n, 1)
        keep = h > 0
        label = name + (f" (never detected in {_pct(nd)})" if nd > 0 else "")
        hover = [f"<b>{name}</b><br>{a:,.0f}–{b:,.0f} s: {_pct(f)} of replications"
                 for a, b, f in zip(edges[:-1][keep], edges[1:][keep], frac[keep])]
        fig.add_trace(go.Bar(x=centres[keep].tolist(), y=frac[keep].tolist(), width=step * 0.95,
                             name=label, opacity=0.75, hovertext=hover, hoverinfo="text",
                             marker_color=UNIT_COLOURS[i % len(UNIT_COLOURS)]))
    _layout(fig, title=f"Time of first detection (bins of {step:g} s)", barmode="overlay",
            height=360)
    fig.update_xaxes(title_text="time since the start of the scenario [s]")
    fig.update_yaxes(title_text="fraction of replications", tickformat=".0%", rangemode="tozero")
    fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.01),
                      margin=dict(r=10))
    return fig


def system_expenditure_table(results) -> pd.DataFrame:
    """Missiles expended per system (all its fire units together) per replication: mean with its
    95% Student t interval, the most in one replication and the ready load."""
    from iadsim.results.stats import mean_interval

    ex = results.expenditure
    w = results.world
    rows = []
    if ex.empty:
        return pd.DataFrame(columns=["system", "fire_units", "ready", "mean_missiles", "lo", "hi", "max_missiles"])
    per = ex.groupby(["replication", "system"], sort=False)["missiles"].sum().unstack(fill_value=0)
    for system in dict.fromkeys(w.effector_system):
        x = per[system].to_numpy(dtype=float) if system in per else np.zeros(results.n)
        m, lo, hi = mean_interval(x, support=(0.0, np.inf))   # missiles: never negative
        units = [u for u, s in zip(w.effector_labels, w.effector_system) if s == system]
        ready = int(sum(int(w.ready[i]) for i, s in enumerate(w.effector_system) if s == system))
        rows.append({"system": system, "fire_units": len(units), "ready": ready, "mean_missiles": m,
                     "lo": lo, "hi": hi, "max_missiles": int(x.max()) if x.size else 0})
    return pd.DataFrame(rows)


def system_expenditure_figure(results) -> go.Figure:
    """Missiles expended per system (sum over its fire units): mean with 95% CI, and the ready load."""
    t = system_expenditure_table(results)
    names = t["system"].astype(str).tolist()
    hover = [f"<b>{n}</b> ({k} fire unit(s))<br>mean {m:.2f} missiles per replication<br>"
             f"95% CI {a:.2f} – {b:.2f}<br>max {mx} · ready {r}"
             for n, k, m, a, b, mx, r in zip(names, t["fire_units"], t["mean_missiles"], t["lo"], t["hi"],
                                             t["max_missiles"], t["ready"])]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=t["mean_missiles"].tolist(), name="mean per replication",
                         marker_color="#7570b3", hovertext=hover, hoverinfo="text",
                         error_y=_err(t["mean_missiles"], t["lo"], t["hi"])))
    fig.add_trace(go.Scatter(x=names, y=t["ready"].tolist(), mode="markers", name="ready missiles",
                             marker=dict(symbol="diamond-open", size=12, color="#b2182b", line=dict(width=2)),
                             hoverinfo="skip"))
    _layout(fig, title="Missiles expended per system (95% Student t intervals)", height=340)
    fig.update_yaxes(title_text="missiles per replication", rangemode="tozero")
    return fig


#: heights above ground [m] of the coverage-by-height chart
COVERAGE_CURVE_HEIGHTS_M = (10, 25, 50, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 8000)


def coverage_by_height_table(results, heights_m=COVERAGE_CURVE_HEIGHTS_M) -> pd.DataFrame:
    """Area [km²] of the map in line of sight of at least 1 and at least 2 radars, and of each radar,
    for a target at each height above ground."""
    from iadsim.report.maps import coverage_count

    w = results.world
    cell = (w.grid.res / 1e3) ** 2
    elev = w.terrain.elevation_m
    rows = []
    for h in heights_m:
        c = coverage_count(w.mva, elev, h)
        row = {"height_agl_m": float(h), "any_km2": float((c >= 1).sum() * cell),
               "two_or_more_km2": float((c >= 2).sum() * cell)}
        for name, mva in zip(w.sensor_labels, w.mva):
            row[name] = float(coverage_count([mva], elev, h).sum() * cell)
        rows.append(row)
    return pd.DataFrame(rows)


def coverage_by_height_figure(results) -> go.Figure:
    """Area in line of sight of the radars against the target's height above ground."""
    t = coverage_by_height_table(results)
    w = results.world
    total = w.grid.nx * w.grid.ny * (w.grid.res / 1e3) ** 2
    fig = go.Figure()
    x = t["height_agl_m"].tolist()
    for col, name, style in (("any_km2", "seen by ≥ 1 radar", dict(color="#08306b", width=3)),
                             ("two_or_more_km2", "seen by ≥ 2 radars", dict(color="#08306b", width=2, dash="dash"))):
        fig.add_trace(go.Scatter(x=x, y=t[col].tolist(), mode="lines+markers", name=name, line=style,
                                 hovertemplate="%{x:,.0f} m above ground: %{y:,.0f} km²<extra>" + name + "</extra>"))
    for i, name in enumerate(w.sensor_labels):
        fig.add_trace(go.Scatter(x=x, y=t[name].tolist(), mode="lines", name=name, opacity=0.8,
                                 line=dict(width=1.2, color=UNIT_COLOURS[i % len(UNIT_COLOURS)]),
                                 hovertemplate="%{x:,.0f} m: %{y:,.0f} km²<extra>" + name + "</extra>"))
    _layout(fig, title=f"Area in radar line of sight by target height (map: {total:,.0f} km²)", height=380)
    fig.update_xaxes(title_text="target height above ground [m]", type="log")
    fig.update_yaxes(title_text="area [km²]", rangemode="tozero")
    fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.01),
                      margin=dict(r=10))
    return fig


def tornado_figure(sens: dict) -> go.Figure:
    """A tornado chart from a sensitivity.json (``iadsim sensitivity``): the outcome with each
    figure at its low and at its high end, the others nominal."""
    t = pd.DataFrame(sens.get("tornado") or [])
    base = float(sens.get("baseline", 0.0))
    outcome = str(sens.get("outcome", "outcome"))
    fig = go.Figure()
    if t.empty:
        return _layout(fig, title=f"Tornado of {outcome}: no factors", height=200)
    t = t.head(15).iloc[::-1]
    for col, val, name, colour in (("outcome_at_low", "low_value", "figure at its low end", "#4c78a8"),
                                   ("outcome_at_high", "high_value", "figure at its high end", "#f58518")):
        hover = [f"<b>{f}</b><br>{name}: {v:.4g}<br>{outcome} = {o:.3f}" for f, v, o in
                 zip(t["factor"], t[val], t[col])]
        ci = (t[f"{col}_ci"].fillna(0.0).tolist() if f"{col}_ci" in t else [0.0] * len(t))
        fig.add_trace(go.Bar(y=t["factor"].tolist(), x=(t[col] - base).tolist(), base=base, orientation="h",
                             name=name, marker_color=colour, hovertext=hover, hoverinfo="text", opacity=0.85,
                             error_x=dict(type="data", array=ci, visible=True)))
    fig.add_vline(x=base, line_dash="dot", line_color="#333")
    _layout(fig, title=f"Tornado: {outcome} (nominal {base:.3f})", height=int(140 + 28 * len(t)),
            barmode="overlay")
    fig.update_xaxes(title_text=outcome)
    fig.update_layout(margin=dict(l=220))
    return fig


#: the sweep's mission measures and their labels (the single run's mission words)
SWEEP_MISSION_MEASURES = (("p_accomplished", "P(mission accomplished)"), ("p_loss", "P(loss)"),
                          ("p_survived", "P(survived the sortie)"),
                          ("p_weapon_reached_target", "P(a weapon reached its target)"))


def _sweep_missions(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per cell x scenario threat with a mission (``threat`` its name): summary.parquet
    repeats a threat's mission measures on each of its sorties' rows. Empty for a sweep folder
    written before the mission measures."""
    if "p_accomplished" not in summary or "group" not in summary:
        return summary.iloc[0:0]
    d = summary[summary["p_accomplished"].notna()]
    if "role" in d:
        d = d[d["role"] != "weapon"]
    return d.drop_duplicates(["cell", "group"]).drop(columns=["threat"]).rename(columns={"group": "threat"})


def _sweep_lines(d: pd.DataFrame, x: str, keys: list[str], second: str | None, col: str, label: str,
                 max_lines: int) -> go.Figure:
    fig = go.Figure()
    for i, (k, g) in enumerate(d.groupby(keys, sort=False)):
        if i >= max_lines:
            break
        k = k if isinstance(k, tuple) else (k,)
        name = str(k[0]) + (f", {second} = {k[1]}" if len(k) > 1 else "")
        g = g.sort_values(x)
        fig.add_trace(go.Scatter(
            x=g[x].tolist(), y=g[col].tolist(), mode="lines+markers", name=name,
            error_y=_err(g[col], g[f"{col}_lo"], g[f"{col}_hi"]) if f"{col}_lo" in g else None,
            line=dict(color=UNIT_COLOURS[i % len(UNIT_COLOURS)]),
            hovertemplate=f"{name}<br>{x} = %{{x}}<br>{label} = %{{y:.3f}}<extra></extra>"))
    _layout(fig, title=f"Sweep: {label} against {x} (95% Wilson intervals)", height=380)
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=label, range=[0, 1.05], tickformat=".0%")
    fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.01),
                      margin=dict(r=10))
    return fig


def _sweep_heatmap(g: pd.DataFrame, x: str, y: str, col: str, label: str, threat: str) -> go.Figure:
    grid = g.pivot_table(index=y, columns=x, values=col, aggfunc="mean").sort_index()
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=[str(c) for c in grid.columns], y=[str(r) for r in grid.index],
        zmin=0, zmax=1, colorscale="Viridis", colorbar=dict(title=label, tickformat=".0%"),
        hovertemplate=f"{x} = %{{x}}<br>{y} = %{{y}}<br>{label} = %{{z:.3f}}<extra>{threat}</extra>"))
    _layout(fig, title=f"Sweep: {label} of {threat} over {x} and {y}", height=380)
    fig.update_xaxes(title_text=x, type="category")
    fig.update_yaxes(title_text=y, type="category")
    return fig


def sweep_figures(summary: pd.DataFrame, params: list[str], max_lines: int = 12) -> list[go.Figure]:
    """Charts of a parameter sweep (``iadsim sweep``: its summary.parquet, one row per cell x threat
    with the varied parameters as columns) against the first varied parameter, one line per threat
    (and per value of the second parameter), with 95% Wilson intervals: for scenario threats with a
    mission, P(mission accomplished), P(loss), P(survived the sortie) and, for strikes, P(a weapon
    reached its target); P(kill) of every threat; P(reached its target) of threats with a target
    (one-way attacks, released weapons). With two varied parameters, heat maps of P(mission
    accomplished), or P(kill) for a threat without a mission."""
    params = [p for p in params if p in summary.columns]
    if not params or summary.empty:
        return []
    x = params[0]
    second = params[1] if len(params) >= 2 else None
    keys = ["threat", *params[1:2]]
    figs = []
    missions = _sweep_missions(summary)
    for col, label in SWEEP_MISSION_MEASURES:
        d = missions[missions[col].notna()] if col in missions else missions.iloc[0:0]
        if not d.empty:
            figs.append(_sweep_lines(d, x, keys, second, col, label, max_lines))
    for col, label in (("p_kill", "P(kill)"), ("p_leak", "P(reached its target)")):
        if col not in summary:
            continue
        d = summary if col == "p_kill" else summary[summary["target"].notna()]
        if not d.empty:
            figs.append(_sweep_lines(d, x, keys, second, col, label, max_lines))
    if second is not None:
        # two varied parameters: a heat map per threat over both (first few threats)
        with_mission = set(missions["threat"])
        shown = 0
        for threat, g in missions.groupby("threat", sort=False):
            if shown >= 4:
                break
            figs.append(_sweep_heatmap(g, x, second, "p_accomplished", "P(mission accomplished)", threat))
            shown += 1
        for threat, g in summary.groupby("threat", sort=False):
            if shown >= 4:
                break
            if threat in with_mission or ("group" in g and g["group"].iloc[0] in with_mission):
                continue
            figs.append(_sweep_heatmap(g, x, second, "p_kill", "P(kill)", threat))
            shown += 1
    return figs


def jamming_range_figure(results) -> go.Figure | None:
    """Per radar and threat: the range at which the radar reaches Pd = 0.5 per look without jamming
    and with every jammer alive (nominal figures; iadsim.engine.ew.jamming_summary). None without
    jammers."""
    jam = results.summary.get("jamming") or {}
    rows = [r for r in jam.get("detection_ranges", []) if r["detect_range_clear_km"] is not None]
    if not rows:
        return None
    names = [f"{r['threat']} · {r['radar']}" for r in rows]
    fig = go.Figure()
    for key, label, colour in (("detect_range_clear_km", "no jamming", "#4d9221"),
                               ("detect_range_jammed_km", "jammed (every jammer alive)", "#b2182b")):
        y = [r[key] if r[key] is not None else 0.0 for r in rows]
        hover = [f"<b>{n}</b><br>{label}: " + (f"{r[key]:.1f} km" if r[key] is not None else "never Pd 0.5")
                 for n, r in zip(names, rows)]
        fig.add_trace(go.Bar(x=names, y=y, name=label, marker_color=colour, hovertext=hover, hoverinfo="text"))
    _layout(fig, title=f"Detection range (Pd {jam.get('report_pd', 0.5):g} per look) with and without jamming",
            barmode="group")
    fig.update_yaxes(title_text="range [km]", rangemode="tozero")
    return fig
