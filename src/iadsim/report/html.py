"""The offline HTML report: one self-contained file (plotly.js inline, maps as image data URIs).

Nothing is fetched when the file is opened: no CDN, no web fonts, no external CSS. plotly.js is
inlined LZMA-compressed (base64) and unpacked in the page by a small decoder
(``templates/lzma_decode.js``), basE91-encoded: 4.8 MB of JavaScript take 1.4 MB of the file. Every chart carries a
static image of itself (matplotlib, :mod:`iadsim.report.static`), shown when scripts do not run
(or plotly.js could not be unpacked) and hidden once plotly draws the chart; the tables are plain
HTML. So the whole report reads without JavaScript.
"""

from __future__ import annotations

import base64
import functools
import io
import lzma
import re
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from iadsim.report import maps, plots
from iadsim.results.io import ensure_dir, write_text

__all__ = ["render_report", "write_report"]

_URL = re.compile(r"https?://[^\s<>\"']+")
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                  "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
MAX_EVENT_ROWS = 2000


# ---------------------------------------------------------------- formatting helpers

def _pct(v: Any, digits: int = 1) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    return "–" if not np.isfinite(f) else f"{100 * f:.{digits}f}%"


def _ci(p, lo, hi) -> str:
    return f"{_pct(p)} ({_pct(lo)} – {_pct(hi)})"


def _num(v: Any, fmt: str = ",.2f") -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    return "–" if not np.isfinite(f) else format(f, fmt)


def _mean(v: Any) -> str:
    """A mean count: two decimals, three when it is small but not zero (0.001, not 0.00)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    if not np.isfinite(f):
        return "–"
    return f"{f:,.3f}" if 0 < abs(f) < 0.01 else f"{f:,.2f}"


def _g(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–" if v is None else str(v)
    if not np.isfinite(f):
        return "–"
    return f"{f:,.0f}" if f == round(f) and abs(f) < 1e15 else f"{f:.6g}"


def _text(v: Any) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return str(v)


def linkify(text: str | None, max_chars: int = 60) -> Markup:
    """Escape ``text`` and turn the http(s) URLs in it into links (long ones shown shortened)."""
    if not text:
        return Markup("")
    out, pos = [], 0
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:)]")
        end = m.start() + len(url)
        shown = url.split("://", 1)[1]
        if len(shown) > max_chars:
            shown = shown[: max_chars - 1] + "…"
        out.append(escape(text[pos:m.start()]))
        out.append(Markup('<a href="{0}" title="{0}" rel="noopener noreferrer">{1}</a>').format(
            url, shown))
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def _png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _jpeg_uri(png: bytes, quality: int = 82) -> str:
    """An opaque PNG re-encoded as JPEG (hillshaded terrain: about a fifth of the PNG's bytes)."""
    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(out, format="JPEG", quality=quality, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _static_chart_uri(fig) -> str:
    """The chart drawn by matplotlib as a small palette PNG: the chart's fallback without scripts."""
    from PIL import Image

    from iadsim.report.static import figure_png

    img = Image.open(io.BytesIO(figure_png(fig, width_in=8.0, dpi=84))).convert("RGB")
    img = img.quantize(colors=48, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return _png_uri(out.getvalue())


def _json(obj) -> str:
    """JSON for an inline script (plotly's encoder: numpy arrays, dates; no "</" to end the script)."""
    from plotly.io.json import to_json_plotly

    return to_json_plotly(obj).replace("</", "<\\/")


def _fig_parts(fig) -> tuple[dict, dict, dict | None]:
    d = fig.to_plotly_json()
    layout = dict(d.get("layout") or {})
    template = layout.pop("template", None)
    return d.get("data") or [], layout, template


def _fig_html(fig, div_id: str, shared_template: dict | None = None) -> Markup:
    """The plotly chart and its static image (shown instead when plotly.js does not run).

    The chart's template is left out when it is ``shared_template``, which the page defines once
    (``iadsimTemplate``) instead of once per chart."""
    title = fig.layout.title.text if fig.layout.title is not None and fig.layout.title.text else div_id
    img = Markup('<img class="chart-static" src="{}" alt="{} (static image of the chart)">').format(
        _static_chart_uri(fig), re.sub(r"<[^>]+>", " ", str(title)))
    data, layout, template = _fig_parts(fig)
    if template is not None and template != shared_template:
        layout["template"] = template
    lay = _json(layout)
    if template is not None and template == shared_template:
        lay = f"Object.assign({{template: window.iadsimTemplate}}, {lay})"
    height = int(fig.layout.height or 380)
    div = Markup('<div id="{0}" class="plotly-graph-div" style="height:{1}px; width:100%;"></div>').format(
        div_id, height)
    script = Markup("<script>if (window.Plotly) Plotly.newPlot({}, {}, {}, {});</script>").format(
        Markup(_json(div_id)), Markup(_json(data)), Markup(lay), Markup(_json(_PLOTLY_CONFIG)))
    return img + div + script


#: the basE91 alphabet of the report: printable ASCII but '"', '\\' and '<' (safe in a script string)
B91 = "".join(chr(c) for c in range(33, 127) if chr(c) not in '"\\<')


def base91_encode(data: bytes) -> str:
    """basE91 (Joachim Henke's scheme, alphabet :data:`B91`): 23% larger than the bytes, not 33%."""
    out: list[str] = []
    b = n = 0
    for byte in data:
        b |= byte << n
        n += 8
        if n > 13:
            v = b & 8191
            if v > 88:
                b >>= 13
                n -= 13
            else:
                v = b & 16383
                b >>= 14
                n -= 14
            out.append(B91[v % 91] + B91[v // 91])
    if n:
        out.append(B91[b % 91])
        if n > 7 or b > 90:
            out.append(B91[b // 91])
    return "".join(out)


def base91_decode(text: str) -> bytes:
    """The inverse of :func:`base91_encode` (what the page does in JavaScript)."""
    dec = {c: i for i, c in enumerate(B91)}
    out = bytearray()
    v, b, n = -1, 0, 0
    for ch in text:
        d = dec[ch]
        if v < 0:
            v = d
            continue
        v += d * 91
        b |= v << n
        n += 13 if (v & 8191) > 88 else 14
        while True:
            out.append(b & 255)
            b >>= 8
            n -= 8
            if n <= 7:
                break
        v = -1
    if v > -1:
        out.append((b | v << n) & 255)
    return bytes(out)


@functools.lru_cache(maxsize=1)
def plotly_payload() -> tuple[str, int, int]:
    """plotly.js LZMA-compressed ("lzma alone" format) and basE91-encoded; its size in bytes and
    the compressed size."""
    import plotly.offline

    js = plotly.offline.get_plotlyjs().encode("utf-8")
    packed = lzma.compress(js, format=lzma.FORMAT_ALONE, preset=9)
    return base91_encode(packed), len(js), len(packed)


def _lzma_js() -> str:
    return (Path(__file__).parent / "templates" / "lzma_decode.js").read_text(encoding="utf-8")


def plotly_loader(template_json: str | None = None) -> Markup:
    """The ``<script>`` that unpacks the inlined plotly.js offline (see the module docstring) and
    marks the page ``plotly-ok``, so that static chart images give way to the live charts; on
    failure the page keeps its images. ``template_json``: a plotly template shared by the charts."""
    b91, size, packed = plotly_payload()
    tmpl = f"window.iadsimTemplate = {template_json};" if template_json is not None else ""
    return Markup(f"""<script>{_lzma_js()}
(function () {{
  /* plotly.js {size:,} bytes, LZMA-compressed and basE91-encoded: unpacked here, offline */
  try {{
    var a = iadsimBase91Decode("{b91}", {packed});
    var s = document.createElement("script");
    s.text = new TextDecoder().decode(iadsimLzmaDecode(a, {size}));
    document.head.appendChild(s);
    if (window.Plotly) document.documentElement.classList.add("plotly-ok");
    {tmpl}
  }} catch (e) {{
    console.warn("iadsim: plotly.js could not be unpacked, the charts are shown as images: " + e);
  }}
}})();
</script>""")


# ---------------------------------------------------------------- content

def key_findings(results) -> list[Markup]:
    """A short list of auto-generated findings (HTML-safe)."""
    w = results.world
    s = w.scenario
    df = results.replications
    out: list[Markup] = []
    n = results.n

    from iadsim.results import wilson_interval

    for thr in s.threats:
        g = df[df["group"] == thr.name]
        if g.empty:
            continue
        typ = str(g["type"].iloc[0])
        target = thr.target
        per_rep = g.groupby("replication")
        if thr.count == 1:
            k = int(g["killed"].sum())
            lo, hi = wilson_interval(k, len(g))
            text = Markup("<b>{}</b> ({}): killed in {} of replications (95% CI {} – {})").format(
                thr.name, typ, _pct(k / len(g)), _pct(lo), _pct(hi))
            if target:
                lk = int(g["leaked"].sum())
                llo, lhi = wilson_interval(lk, len(g))
                text += Markup("; reached {} in {} (95% CI {} – {})").format(
                    target, _pct(lk / len(g)), _pct(llo), _pct(lhi))
        else:
            all_k = int(per_rep["killed"].all().sum())
            lo, hi = wilson_interval(all_k, n)
            pk = g.groupby("threat")["killed"].mean()
            text = Markup("<b>{}</b> ({} × {}{}): all {} killed in {} of replications "
                          "(95% CI {} – {}); per member P(kill) {} – {}").format(
                thr.name, thr.count, typ, f" → {target}" if target else "", thr.count,
                _pct(all_k / n), _pct(lo), _pct(hi), _pct(pk.min()), _pct(pk.max()))
            if target:
                any_l = int(per_rep["leaked"].any().sum())
                llo, lhi = wilson_interval(any_l, n)
                text += Markup("; at least one reached {} in {} (95% CI {} – {})").format(
                    target, _pct(any_l / n), _pct(llo), _pct(lhi))
        out.append(text + Markup("."))

    for a in results.asset_table().itertuples(index=False):
        if a.attackers == 0:
            out.append(Markup("<b>{}</b> was not targeted.").format(a.asset))
            continue
        out.append(Markup("<b>{}</b> survived (no threat reached it) in {} of replications "
                          "(95% CI {} – {}); {} attacker(s).").format(
            a.asset, _pct(a.p_survive), _pct(a.lo), _pct(a.hi), a.attackers))

    e = results.effector_table()
    if not e.empty and float(e["mean_missiles"].max()) > 0:
        top = e.loc[e["mean_missiles"].idxmax()]
        out.append(Markup("<b>{}</b> ({}) fired the most: {} {} per replication on average "
                          "(95% CI {} – {}), at most {}, with {} ready.").format(
            top["effector"], top["system"], _num(top["mean_missiles"]), top["fires"], _num(top["lo"]),
            _num(top["hi"]), int(top["max_missiles"]), int(top["ready"])))
        ex = results.expenditure
        ready = dict(zip(e["effector"], e["ready"]))
        full = ex[ex["missiles"] >= ex["effector"].map(ready)].groupby("effector").size()
        for unit, k in full.items():
            out.append(Markup("<b>{}</b> fired its whole ready load ({}) in {} of replications.")
                       .format(unit, int(ready[unit]), _pct(k / n)))
        idle = e.loc[e["max_missiles"] == 0, "effector"].tolist()
        if idle:
            out.append(Markup("Never fired: {}.").format(", ".join(idle)))
    elif not e.empty:
        out.append(Markup("No fire unit fired a shot in any replication."))
    if not e.empty and "mean_relocations" in e.columns:   # shoot-and-scoot (iadsim.engine.scoot)
        for r in e[e["sites"] > 1].itertuples(index=False):
            out.append(Markup("<b>{}</b> relocated {} times per replication on average between its {} sites "
                              "(mean time set up at each: {} s).").format(
                r.effector, _num(r.mean_relocations), r.sites,
                ", ".join(f"{x:.0f}" for x in r.mean_time_at_sites_s)))

    t = results.threat_table()
    und = t[t["p_detected"] < 1.0].sort_values("p_detected", kind="stable")
    if len(und):
        parts = [Markup("<b>{}</b> ({})").format(r.threat, _pct(1.0 - r.p_detected))
                 for r in und.head(8).itertuples(index=False)]
        more = Markup(" and {} more").format(len(und) - 8) if len(und) > 8 else Markup("")
        out.append(Markup("Went undetected in some replications: ") + Markup(", ").join(parts)
                   + more + Markup("."))

    figs = w.figures
    n_est = sum(1 for f in figs if f.figure.confidence == "estimate")
    if figs:
        out.append(Markup("{} of the {} catalog figures used are estimates rather than public "
                          "figures (marked in the provenance table).").format(n_est, len(figs)))
    return out


def threat_ranking_to_end(results):
    """Threat evaluation up to each threat's end: the ranking of :meth:`Results.threat_ranking`, but
    each threat's peak urgency is taken over its flight only up to the median, over the
    replications, of the time it ended (killed, reached its target, its sortie over, or the end of
    the run), not over its whole planned route.

    Columns: threat, type, end_s (that median end [s]), ended (what ended it most often: "killed",
    "reached its target", "survived the sortie", "in flight at the end"), peak_urgency_per_s,
    peak_time_s, urgency_rank (1 = most urgent), asset, cpa_m, time_to_cpa_s (at that peak), and
    route_peak_urgency_per_s / route_rank (the peak over the whole planned route, for comparison)."""
    import pandas as pd

    from iadsim.c2.threat import evaluate

    w = results.world
    raw = results.raw
    M = len(w.threat_labels)
    T = w.priority.shape[0]
    kill = np.asarray(raw.kill_step)
    leak = np.asarray(raw.leak_step)
    last = np.minimum(np.asarray(w.end_step, dtype=np.int64), T - 1)
    end = np.where(kill >= 0, kill, np.where(leak >= 0, leak, last[None, :]))
    end_step = np.floor(np.median(end, axis=0)).astype(np.int64) if end.size else last
    end_step = np.clip(end_step, 0, T - 1)
    first = np.clip(np.asarray(w.first_step, dtype=np.int64), 0, T - 1)
    peak = np.zeros(M)
    step = np.zeros(M, dtype=np.int64)
    for m in range(M):
        lo, hi = int(first[m]), int(max(end_step[m], first[m]))
        seg = np.nan_to_num(np.asarray(w.priority[lo:hi + 1, m], dtype=float), nan=0.0)
        if seg.size:
            k = int(np.argmax(seg))
            peak[m], step[m] = float(seg[k]), lo + k
    order = np.argsort(-peak, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(1, M + 1)
    cols = np.arange(M)
    te = evaluate(np.asarray(w.pos)[step, cols][None], np.asarray(w.vel)[step, cols][None], np.ones(M),
                  w.asset_info, float(w.scenario.simulation.cpa_scale_m), float(w.dt)) if M else None
    names = [a.name for a in w.scenario.assets]
    asset = [names[a] if a >= 0 and peak[i] > 0 else None for i, a in enumerate(te["asset"][0])] if M else []
    df = results.replications
    ended = []
    for m, label in enumerate(w.threat_labels):
        o = df.loc[df["threat"] == label, "outcome"] if "outcome" in df.columns else pd.Series(dtype=object)
        ended.append(str(o.mode().iloc[0]) if len(o) else "–")
    route = results.threat_ranking().set_index("threat")
    return pd.DataFrame({
        "threat": w.threat_labels, "type": w.threat_type, "end_s": end_step * w.dt, "ended": ended,
        "peak_urgency_per_s": peak, "peak_time_s": step * w.dt, "urgency_rank": rank, "asset": asset,
        "cpa_m": np.where(peak > 0, te["cpa_m"][0], np.nan) if M else [],
        "time_to_cpa_s": np.where(peak > 0, te["time_to_cpa_s"][0], np.nan) if M else [],
        "route_peak_urgency_per_s": route.loc[w.threat_labels, "peak_urgency_per_s"].to_numpy(),
        "route_rank": route.loc[w.threat_labels, "urgency_rank"].to_numpy(),
    })


def _threat_rows(results, ranking=None) -> list[dict]:
    rows = []
    ranking = ranking if ranking is not None else threat_ranking_to_end(results)
    ranks = ranking.set_index("threat")["urgency_rank"]
    for r in results.threat_table().itertuples(index=False):
        rows.append({
            "rank": int(ranks.get(r.threat, 0)),
            "threat": r.threat, "type": r.type, "target": _text(r.target), "n": f"{r.n:,}",
            "p_kill": _ci(r.p_kill, r.p_kill_lo, r.p_kill_hi),
            "p_leak": _ci(r.p_leak, r.p_leak_lo, r.p_leak_hi),
            "leak_means": "reached its target" if isinstance(r.target, str) else "survived the sortie",
            "p_detected": _pct(r.p_detected), "detect_s": _num(r.mean_detect_time_s, ",.0f"),
            "shots": _mean(r.mean_shots),
        })
    return rows


def _shots_label(results) -> str:
    """What the threat table's shots add up (iadsim.effectors.shots_label: "missiles + bursts"...)."""
    from iadsim.effectors import shots_label

    return shots_label(results.world)


def _threat_eval_rows(results, ranking=None) -> list[dict]:
    """The threat-evaluation ranking up to each threat's end (:func:`threat_ranking_to_end`): peak
    urgency and the closest point of approach behind it."""
    te = (ranking if ranking is not None else threat_ranking_to_end(results)).sort_values("urgency_rank",
                                                                                         kind="stable")
    return [{"rank": int(r.urgency_rank), "threat": r.threat, "type": r.type,
             "urgency": _num(r.peak_urgency_per_s, ".3g"), "time": _num(r.peak_time_s, ",.0f"),
             "end": _num(r.end_s, ",.0f"), "ended": r.ended,
             "route_urgency": _num(r.route_peak_urgency_per_s, ".3g"), "route_rank": int(r.route_rank),
             "asset": _text(r.asset), "cpa": _num(r.cpa_m, ",.0f"), "tcpa": _num(r.time_to_cpa_s, ",.0f")}
            for r in te.itertuples(index=False)]


def _asset_rows(results) -> list[dict]:
    return [{"asset": a.asset, "attackers": a.attackers, "p_survive": _ci(a.p_survive, a.lo, a.hi),
             "leakers": _mean(a.mean_leakers)}
            for a in results.asset_table().itertuples(index=False)]


def _effector_rows(results) -> list[dict]:
    return [{"effector": e.effector, "system": e.system, "fires": e.fires, "ready": e.ready,
             "mean": f"{_mean(e.mean_missiles)} ({_mean(max(e.lo, 0.0))} – {_mean(e.hi)})",
             "max": e.max_missiles}
            for e in results.effector_table().itertuples(index=False)]


def _event_rows(results) -> tuple[list[dict], int]:
    ev = results.timeline
    total = len(ev)
    rows = []
    w = results.world
    no_target = {lab for lab, tg in zip(w.threat_labels, w.target) if tg < 0}
    for r in ev.head(MAX_EVENT_ROWS).itertuples(index=False):
        event = r.event
        if event == "leak":
            event = "survived the sortie" if str(r.threat) in no_target else "reached its target"
        rows.append({"time": _num(r.time_s, ",.0f"), "event": event, "unit": _text(r.unit),
                     "threat": r.threat,
                     "missiles": int(r.missiles) if r.event in ("launch", "kill", "miss") else "",
                     "alt": _num(r.alt_m, ",.0f"), "lat": _num(r.lat, ".4f"),
                     "lon": _num(r.lon, ".4f")})
    return rows, total


def _figure_groups(results) -> list[tuple[str, list[dict]]]:
    """Catalog figures used, grouped by system (sorted), each row ready for the table."""
    groups: dict[str, list[dict]] = {}
    for fu in sorted(results.world.figures, key=lambda f: (f.system, f.key)):
        f = fu.figure
        rng = "–" if f.low == f.high else f"{_g(f.low)} – {_g(f.high)}"
        groups.setdefault(fu.system, []).append({
            "system": fu.system, "key": fu.key, "value": _g(f.value), "unit": f.unit, "range": rng,
            "confidence": f.confidence, "estimate": f.confidence == "estimate",
            "kind": f.source_kind or "", "stated": f.stated_confidence,
            "override": f.source.startswith("scenario override"),
            "unit_shown": "" if f.unit == "1" else f.unit,
            "source": linkify(f.source), "note": linkify(f.note), "used_by": fu.used_by})
    return list(groups.items())


def _limits(results) -> list[str]:
    s = results.world.scenario
    fid = s.simulation.fidelity
    out = []
    if fid == "fast":
        out.append("Fidelity “fast”: tracks are taken from the true threat positions after a "
                   "fixed latency — no tracker, no false alarms, no mis-association, no jamming. "
                   "Detection and tracking are therefore optimistic for the defence.")
    else:
        out.append(f"Fidelity “{fid}”: see the models section for what each model assumes.")
    unc = getattr(s.simulation, "uncertainty", "nominal")
    out.append(f"Uncertainty mode “{unc}”: the intervals shown reflect Monte Carlo sampling of "
               "chance events only" + (", with every catalog figure fixed at its nominal value; "
                                       "the low–high ranges in the provenance table are not "
                                       "propagated." if unc == "nominal" else "."))
    out.append("Catalog figures marked “estimate” are not public figures but analysts' estimates; "
               "conclusions that hinge on them are illustrative.")
    out.append("Coverage maps show terrain-masked line of sight (4/3-earth refraction) only; "
               "whether a radar detects a target also depends on its radar cross section, range "
               "and scan.")
    out.append("iadsim is built for analysis and education on public information only; it "
               "drives no hardware and is not a targeting or fire-control tool.")
    return out


def _meta(results) -> list[tuple[str, str]]:
    w = results.world
    s = w.scenario
    g = w.grid
    sim = s.simulation
    return [
        ("scenario", s.name),
        ("iadsim version", str(results.version)),
        ("fidelity", str(sim.fidelity)),
        ("uncertainty", str(getattr(sim, "uncertainty", "–"))),
        ("replications", f"{results.n:,}"),
        ("seed", str(results.seed)),
        ("time step · duration", f"{_g(w.dt)} s · {_g(w.nsteps * w.dt)} s"),
        ("terrain", f"{Path(str(w.terrain.source)).name} · {g.nx} × {g.ny} cells of {_g(g.res)} m"),
        ("grid centre", f"{g.lat0:.4f}, {g.lon0:.4f} (azimuthal equidistant)"),
        *_tracking_meta(results),
        *_radiating_meta(results),
        *_sites_meta(results),
    ]


def _sites_meta(results) -> list[tuple[str, str]]:
    """With threat weapons aimed at sites (SEAD): each site's probability of being put out."""
    if getattr(results.raw, "site_kill", None) is None:
        return []
    return [("sites put out (SEAD)", " · ".join(
        f"{r['site']} {100 * r['p_destroyed']:.0f}% [{100 * r['p_destroyed_lo']:.0f}, {100 * r['p_destroyed_hi']:.0f}]"
        for r in results.site_table()))]


def _radiating_meta(results) -> list[tuple[str, str]]:
    """With a defence state (failures, emission control, C2 links): each radar's mean radiating time."""
    if not results.has_radiating:
        return []
    return [("radiating per replication", " · ".join(
        f"{r['radar']} {_g(round(r['mean_radiating_s'], 1))} s ({100 * r['share_of_run']:.0f}%)"
        for r in results.radiating_table()))]


def _tracking_meta(results) -> list[tuple[str, str]]:
    """Full fidelity: the tracker's settings and its statistics per replication."""
    sim = results.world.scenario.simulation
    if sim.fidelity != "full" or results.raw.track_stats is None:
        return []
    tr = results.summary.get("tracking") or {}
    fa = f"on ({_g(sim.false_alarm_cells)} cells per scan)" if sim.false_alarms else "off"
    rows = [("tracker", f"{sim.tracker_filter.upper()} · {sim.association.upper()} · "
                        f"{sim.confirm_m}-of-{sim.confirm_n} confirmation · fire-control hold "
                        f"{sim.fire_control_looks} scan(s) · false alarms {fa}")]
    if tr:
        def v(key, fmt="{:.1f}"):
            x = tr.get(key)
            return "–" if x is None or x != x else fmt.format(x)
        rows.append(("tracks per replication",
                     f"created {v('mean_tracks_created')} · confirmed {v('mean_tracks_confirmed')} · "
                     f"false confirmed {v('mean_false_tracks_confirmed')} · missiles at false tracks "
                     f"{v('mean_missiles_at_false_tracks')} · position error "
                     f"{v('mean_position_error_m', '{:.0f}')} m"))
    return rows


def _env() -> Environment:
    env = Environment(loader=PackageLoader("iadsim.report", "templates"),
                      autoescape=select_autoescape(["html", "j2", "html.j2"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    return env


def _system_rows(results) -> list[dict]:
    return [{"system": r.system, "units": r.fire_units, "ready": r.ready,
             "mean": f"{_mean(r.mean_missiles)} ({_mean(max(r.lo, 0.0))} – {_mean(r.hi)})",
             "max": r.max_missiles}
            for r in plots.system_expenditure_table(results).itertuples(index=False)]


def _sweep_table(sweep: pd.DataFrame | None, rows: int = 200) -> tuple[list[str], list[list[str]]]:
    """The sweep summary as the report lists it: a probability with its 95% interval in one cell
    ("0.42 (0.38 – 0.46)") instead of three columns; the first ``rows`` rows."""
    import pandas as pd

    if sweep is None:
        return [], []
    cols = [c for c in sweep.columns
            if not ((c.endswith("_lo") or c.endswith("_hi")) and c[:-3] in sweep.columns)]
    out = []
    for _, r in sweep.head(rows).iterrows():
        row = []
        for c in cols:
            v = r[c]
            if isinstance(v, str):
                row.append(v)
            elif f"{c}_lo" in sweep.columns and f"{c}_hi" in sweep.columns and pd.notna(v):
                row.append(f"{_g(v)} ({_g(r[c + '_lo'])} – {_g(r[c + '_hi'])})")
            else:
                row.append(_g(v))
        out.append(row)
    return cols, out


def _read_analysis(run_folder: Path | None) -> dict[str, Any]:
    """Sensitivity and sweep results stored with a run (formats: docs/run-folder.md)."""
    import json

    import pandas as pd

    out: dict[str, Any] = {"sensitivity": None, "sweep": None, "sweep_meta": {}}
    if run_folder is None:
        return out
    for p in (run_folder / "sensitivity" / "sensitivity.json", run_folder / "sensitivity.json"):
        if p.is_file():
            try:
                out["sensitivity"] = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                pass
            break
    # a parameter sweep (`iadsim sweep --out RUN/sweep`, or its default RUN-sweep beside the run)
    for d in (run_folder / "sweep", run_folder.parent / f"{run_folder.name}-sweep"):
        if (d / "sweep.json").is_file() and (d / "summary.parquet").is_file():
            try:
                meta = json.loads((d / "sweep.json").read_text(encoding="utf-8"))
                out["sweep"] = pd.read_parquet(d / "summary.parquet")
                out["sweep_meta"] = {"params": [v["path"] for v in meta.get("variations", [])],
                                     "folder": str(d), "replications": meta.get("replications"),
                                     "seed_policy": meta.get("seed_policy"), "cells": len(meta.get("cells", []))}
            except (OSError, ValueError, KeyError, ImportError):
                out["sweep"] = None
            break
    return out


def report_figures(results, analysis: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report's plotly charts by name (the names are the ``--png`` file names)."""
    w = results.world
    figs: dict[str, Any] = {
        "outcomes": plots.threat_outcomes_figure(results),
        "detection": plots.detection_time_figure(results),
    }
    if w.scenario.assets:
        figs["assets"] = plots.asset_survival_figure(results)
    if w.effector_labels:
        figs["expenditure"] = plots.expenditure_figure(results)
        figs["expenditure_by_system"] = plots.system_expenditure_figure(results)
    figs["timeline"] = plots.timeline_figure(results)
    jam = plots.jamming_range_figure(results)
    if jam is not None:
        figs["jamming_ranges"] = jam
    if len(w.mva):
        figs["coverage_by_height"] = plots.coverage_by_height_figure(results)
    analysis = analysis or {}
    if analysis.get("sensitivity"):
        figs["tornado"] = plots.tornado_figure(analysis["sensitivity"])
    if analysis.get("sweep") is not None:
        for i, f in enumerate(plots.sweep_figures(analysis["sweep"], analysis["sweep_meta"].get("params", []))):
            figs[f"sweep_{i + 1}"] = f
    return figs


def _sensitivity_rows(sens: dict) -> tuple[list[str], list[list[str]]]:
    recs = sens.get("indices") or []
    if not recs:
        return [], []
    cols = ["factor", *[c for c in recs[0] if c != "factor"]]
    rows = [[r.get("factor", "")] + [_num(r.get(c), ".3f") for c in cols[1:]] for r in recs[:30]]
    return cols, rows


def _aborted_text(p) -> str:
    """With reacting threats: the share of sorties that aborted (neither accomplished nor lost)."""
    if p is None or p != p:
        return ""
    return f"; aborted {100 * p:.0f}%"


def _answer(results) -> dict:
    """The scenario's question, the answer in sentences and a row per option x mission."""
    try:
        a = results.answer()
    except Exception:  # noqa: BLE001 - a report of an older run folder without mission columns
        return {"question": results.world.scenario.question, "sentences": [], "rows": []}

    def pct(v, lo=None, hi=None):
        if v is None:
            return "–"
        out = f"{100 * v:.0f}%"
        return out + (f" [{100 * lo:.0f}–{100 * hi:.0f}%]" if lo is not None and hi is not None else "")

    rows = []
    for opt in a["options"]:
        for m in opt["missions"]:
            tos = m.get("mean_time_on_station_s")
            rows.append({"option": opt["name"], "threat": m["threat"], "mission": m["mission"],
                         "means": m["accomplished_means"],
                         "acc": pct(m["p_accomplished"], m["p_accomplished_lo"], m["p_accomplished_hi"])
                         + _aborted_text(m.get("p_aborted")),
                         "loss": pct(m["p_loss"], m["p_loss_lo"], m["p_loss_hi"]),
                         "weapon": pct(m.get("p_weapon_reached_target")),
                         "tos": "–" if tos is None else f"{tos / 60:.0f} min",
                         "exposure": _dur_ci(m.get("mean_exposure_envelope_s"), m.get("mean_exposure_envelope_s_lo"),
                                             m.get("mean_exposure_envelope_s_hi")),
                         "coverage": _dur_ci(m.get("mean_exposure_coverage_s"), m.get("mean_exposure_coverage_s_lo"),
                                             m.get("mean_exposure_coverage_s_hi")),
                         "loss_rate": _rate_ci(m.get("losses_per_station_hour"), m.get("losses_per_station_hour_lo"),
                                               m.get("losses_per_station_hour_hi"))})
    exchange = []
    for opt in a["options"]:
        ex = opt.get("exchange")
        if not ex:
            continue
        exchange.append({"option": opt["name"],
                         "ratio": _ratio_ci(ex.get("ratio"), ex.get("ratio_lo"), ex.get("ratio_hi")),
                         "reverse": _ratio_ci(ex.get("reverse"), ex.get("reverse_lo"), ex.get("reverse_hi")),
                         "destroyed": _usd(ex.get("threats_destroyed_usd")),
                         "fired": _usd(ex.get("interceptors_fired_usd")), "note": ex.get("note") or ""})
    costs = [{"system": c["system"], "role": c["role"], "value": _usd(c["value_usd"]),
              "range": f"{_usd(c['low_usd'])}–{_usd(c['high_usd'])}", "confidence": c["confidence"],
              "source": c["source"]} for c in (a["options"][0].get("exchange") or {}).get("costs", [])]
    exposure = []
    try:
        for r in results.exposure_table().itertuples():
            if r.unit != "any":
                exposure.append({"threat": r.threat, "inside": r.inside, "unit": r.unit,
                                 "mean": _dur_ci(r.mean_s, r.lo_s, r.hi_s), "entered": f"{100 * r.p_entered:.0f}%"})
    except Exception:  # noqa: BLE001 - a report of an older run folder without the world's geometry
        exposure = []
    return {"question": a["question"], "sentences": a["sentences"], "rows": rows, "exchange": exchange,
            "costs": costs, "exposure": exposure}


def _dur_ci(v, lo=None, hi=None) -> str:
    """A mean duration [s] with its interval, in minutes."""
    if v is None or not np.isfinite(v):
        return "–"
    out = f"{v / 60:.1f} min"
    if lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi):
        out += f" [{max(lo, 0) / 60:.1f}–{hi / 60:.1f}]"
    return out


def _rate_ci(v, lo=None, hi=None) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    return f"{v:.2f}" + (f" [{lo:.2f}–{hi:.2f}]" if lo is not None and hi is not None else "")


def _ratio_ci(v, lo=None, hi=None) -> str:
    if v is None:
        return "–"
    return f"{v:.2f}" + (f" [{lo:.2f}–{hi:.2f}]" if lo is not None and hi is not None else "")


def _usd(v) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    return f"${v / 1e6:.2f}M" if abs(v) >= 1e6 else f"${v / 1e3:.0f}k"


def render_report(results, *, title: str | None = None, run_folder: str | Path | None = None,
                  map_heights_agl_m=maps.LAYER_HEIGHTS_AGL_M, default_map_height_agl_m: float = maps.MAP_HEIGHT_AGL_M,
                  coverage_heights_agl_m=maps.COVERAGE_HEIGHTS_AGL_M, _figures: dict | None = None,
                  _layers: dict | None = None) -> str:
    """The report as an HTML string (see :func:`write_report`).

    ``run_folder``: where the run's files are; sensitivity and sweep results stored there are shown.
    """
    w = results.world
    s = w.scenario
    events, n_events = _event_rows(results)
    ranking = threat_ranking_to_end(results)
    has_assets = len(s.assets) > 0
    analysis = _read_analysis(Path(run_folder) if run_folder is not None else None)
    figs = _figures if _figures is not None else report_figures(results, analysis)
    shared_template = _fig_parts(next(iter(figs.values())))[2] if figs else None
    html_figs = {name: _fig_html(f, f"fig-{name.replace('_', '-')}", shared_template)
                 for name, f in figs.items()}
    layers = _layers if _layers is not None else maps.layered_map_pngs(results, map_heights_agl_m)
    heights = [h for h, _ in layers["coverage"]]
    default = min(range(len(heights)), key=lambda i: abs(heights[i] - default_map_height_agl_m)) if heights else -1
    threats_at = layers.get("threats_at") or {}
    envelopes = dict(layers.get("envelopes") or [])
    map_layers = [{"id": f"cov-{i}", "label": f"{_g(h)} m", "uri": _png_uri(png), "checked": i == default,
                   "height": _g(h), "threats": ", ".join(threats_at.get(h, [])),
                   "verb": "flies" if len(threats_at.get(h, [])) == 1 else "fly",
                   "env_uri": _png_uri(envelopes[h]) if h in envelopes else None}
                  for i, (h, png) in enumerate(layers["coverage"])]
    bl, bt, bw, bh = layers.get("box", (0.0, 0.0, 1.0, 1.0))
    map_box = f"left:{100 * bl:.3f}%;top:{100 * bt:.3f}%;width:{100 * bw:.3f}%;height:{100 * bh:.3f}%"
    sens = analysis.get("sensitivity")
    sens_cols, sens_rows = _sensitivity_rows(sens) if sens else ([], [])
    sweep = analysis.get("sweep")
    sweep_figs = [html_figs[k] for k in html_figs if k.startswith("sweep_")]
    ctx = dict(
        title=title or s.title or s.name,
        scenario=s,
        fidelity=s.simulation.fidelity,
        version=results.version,
        replications=results.n,
        seed=results.seed,
        meta=_meta(results),
        findings=key_findings(results),
        answer=_answer(results),
        plotly_loader=plotly_loader(_json(shared_template) if shared_template is not None else None),
        map_base_uri=_jpeg_uri(layers["base"], 62),
        map_layers=map_layers,
        map_symbols_uri=_png_uri(layers["symbols"]),
        map_kills_uri=_png_uri(layers["kills"]) if layers["kills"] else None,
        map_width=layers["width"], map_height_px=layers["height"], map_box=map_box,
        has_envelopes=bool(envelopes),
        map_default_height=map_layers[default]["height"] if map_layers else "",
        multiples_uri=_jpeg_uri(maps.coverage_multiples_png(results, coverage_heights_agl_m, dpi=72), 70),
        coverage_heights=", ".join(_g(h) for h in coverage_heights_agl_m),
        n_kills=int(results.replications["killed"].sum()),
        fig_outcomes=html_figs["outcomes"],
        fig_detection=html_figs["detection"],
        fig_assets=html_figs.get("assets") if has_assets else None,
        fig_expenditure=html_figs.get("expenditure"),
        fig_system_expenditure=html_figs.get("expenditure_by_system"),
        fig_timeline=html_figs["timeline"],
        fig_coverage_height=html_figs.get("coverage_by_height"),
        fig_tornado=html_figs.get("tornado"),
        threat_rows=_threat_rows(results, ranking),
        shots_label=_shots_label(results),
        threat_eval_rows=_threat_eval_rows(results, ranking),
        asset_rows=_asset_rows(results) if has_assets else [],
        effector_rows=_effector_rows(results),
        system_rows=_system_rows(results) if w.effector_labels else [],
        events=events,
        n_events=n_events,
        timeline_replication=results.timeline_replication,
        models=list(getattr(results, "models", w.models).items()),
        figure_groups=_figure_groups(results),
        n_figures=len(w.figures),
        n_estimates=sum(1 for f in w.figures if f.figure.confidence == "estimate"),
        limits=_limits(results),
        sensors=list(w.sensor_labels),
        sensitivity=sens,
        sens_cols=sens_cols,
        sens_rows=sens_rows,
        sweep_figs=sweep_figs,
        sweep_meta=analysis.get("sweep_meta") or {},
        sweep_cols=_sweep_table(sweep)[0],
        sweep_rows=_sweep_table(sweep)[1],
        n_sweep=len(sweep) if sweep is not None else 0,
        fig_jamming=html_figs.get("jamming_ranges"),
        **_ew_context(results),
    )
    return _env().get_template("report.html.j2").render(**ctx)


def _ew_context(results) -> dict:
    """The report's jamming and decoy tables (empty when the scenario has neither)."""
    summ = results.summary
    jam = summ.get("jamming") or {}
    dec = summ.get("decoys") or {}

    def km(v):
        return "–" if v is None else f"{v:.1f}"

    rows = [{"radar": r["radar"], "threat": r["threat"], "clear": km(r["detect_range_clear_km"]),
             "jammed": km(r["detect_range_jammed_km"]),
             "js": "–" if r["peak_js_db"] is None else f"{r['peak_js_db']:.1f}"}
            for r in jam.get("detection_ranges", [])]
    pct = lambda v: "–" if v is None else f"{100 * v:.0f}%"  # noqa: E731
    drows = []
    if dec:
        drows = [("decoys per replication", str(dec["decoys_per_replication"])),
                 ("P(a decoy is engaged) (95% CI)", f"{pct(dec['p_decoy_engaged'])} ({pct(dec['p_decoy_engaged_lo'])}"
                                                    f"–{pct(dec['p_decoy_engaged_hi'])})"),
                 ("P(a decoy is shot down)", pct(dec["p_decoy_shot_down"])),
                 ("P(a decoy is identified)", pct(dec["p_decoy_identified"])),
                 ("missiles on decoys per replication (95% CI)",
                  f"{dec['mean_missiles_on_decoys']:.2f} ({dec['mean_missiles_on_decoys_lo']:.2f}–"
                  f"{dec['mean_missiles_on_decoys_hi']:.2f})"),
                 ("missiles on threats per replication", f"{dec['mean_missiles_on_threats']:.2f}"),
                 ("share of missiles on decoys", pct(dec["share_of_missiles_on_decoys"])),
                 ("P(kill) of a real threat", pct(dec["p_kill_real_threats"]))]
    return {"jam_rows": rows, "jam_pd": jam.get("report_pd", 0.5), "decoy_rows": drows}


def write_report(results, path: str | Path, *, title: str | None = None, png: bool = False,
                 run_folder: str | Path | None = None) -> Path:
    """Write the self-contained offline HTML report of ``results`` to ``path`` (atomically).

    ``path`` may be a folder, in which case the file is ``report.html`` inside it. Sensitivity and
    sweep results in ``run_folder`` (default: the report's folder) are shown. ``png``: also write
    a PNG of every chart and of the map into ``figures/`` beside the report (see
    :mod:`iadsim.report.static`). Returns the path written.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "report.html"
    ensure_dir(path.parent)
    folder = Path(run_folder) if run_folder is not None else path.parent
    figs = report_figures(results, _read_analysis(folder))
    layers = maps.layered_map_pngs(results)
    out = write_text(path, render_report(results, title=title, run_folder=folder, _figures=figs,
                                         _layers=layers))
    if png:
        write_report_pngs(results, path.parent / "figures", figs, layers)
    return out


def write_report_pngs(results, folder: str | Path, figs: dict | None = None, layers: dict | None = None
                      ) -> dict[str, Path]:
    """PNGs of the report's charts (matplotlib) and maps, for papers; name -> path."""
    from iadsim.report.static import figure_png
    from iadsim.results.io import write_with

    folder = ensure_dir(folder)
    figs = figs if figs is not None else report_figures(results)
    layers = layers if layers is not None else maps.layered_map_pngs(results)
    done: dict[str, Path] = {}
    for name, fig in figs.items():
        data = figure_png(fig)
        done[name] = write_with(folder / f"{name}.png", lambda p, d=data: p.write_bytes(d))
    map_png = maps.coverage_map_png(results)
    done["map"] = write_with(folder / "map.png", lambda p: p.write_bytes(map_png))
    mult = maps.coverage_multiples_png(results)
    done["coverage_multiples"] = write_with(folder / "coverage_multiples.png", lambda p: p.write_bytes(mult))
    return done
