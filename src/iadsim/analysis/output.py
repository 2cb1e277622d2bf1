"""Writing a sensitivity analysis: JSON, Parquet, a tornado plot (interactive HTML and PNG)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from iadsim.analysis.sensitivity import SensitivityResult
from iadsim.results.io import prepare_out_dir, write_text, write_with


def _ci(t, col: str) -> list[float]:
    """95% half-widths of a tornado column (0 where unknown, e.g. one replication per point)."""
    if col not in t:
        return [0.0] * len(t)
    return [float(v) if np.isfinite(v) else 0.0 for v in t[col]]


def tornado_figure(res: SensitivityResult, top: int = 15):
    """A plotly tornado chart: outcome at each factor's low and high end, others nominal."""
    import plotly.graph_objects as go

    t = res.tornado.head(top).iloc[::-1]
    fig = go.Figure()
    fig.add_bar(y=t.factor, x=t.outcome_at_low - res.baseline, base=res.baseline, orientation="h",
                name="figure at its low end", marker_color="#4c78a8",
                error_x=dict(type="data", array=_ci(t, "outcome_at_low_ci"), visible=True),
                hovertemplate="%{y}<br>low end: %{customdata:.4g}<br>outcome %{x:.3f}<extra></extra>",
                customdata=t.low_value)
    fig.add_bar(y=t.factor, x=t.outcome_at_high - res.baseline, base=res.baseline, orientation="h",
                name="figure at its high end", marker_color="#f58518",
                error_x=dict(type="data", array=_ci(t, "outcome_at_high_ci"), visible=True),
                hovertemplate="%{y}<br>high end: %{customdata:.4g}<br>outcome %{x:.3f}<extra></extra>",
                customdata=t.high_value)
    fig.add_vline(x=res.baseline, line_dash="dot", annotation_text=f"nominal {res.baseline:.3f}")
    fig.update_layout(barmode="overlay", title=f"Tornado: {res.outcome} ({res.reps} replications per point)",
                      xaxis_title=res.outcome, height=120 + 28 * len(t), margin=dict(l=260),
                      legend=dict(orientation="h", y=-0.15))
    return fig


def tornado_png(res: SensitivityResult, top: int = 15) -> bytes:
    from matplotlib.figure import Figure

    t = res.tornado.head(top).iloc[::-1]
    fig = Figure(figsize=(8, 1 + 0.35 * len(t)), dpi=120)
    ax = fig.add_subplot()
    y = np.arange(len(t))
    ax.barh(y, t.outcome_at_low - res.baseline, left=res.baseline, color="#4c78a8", label="low end",
            xerr=_ci(t, "outcome_at_low_ci"), error_kw=dict(lw=0.8, capsize=2))
    ax.barh(y, t.outcome_at_high - res.baseline, left=res.baseline, color="#f58518", label="high end", alpha=0.8,
            xerr=_ci(t, "outcome_at_high_ci"), error_kw=dict(lw=0.8, capsize=2))
    ax.axvline(res.baseline, color="k", ls=":", lw=1)
    ax.set_yticks(y, t.factor, fontsize=8)
    ax.set_xlabel(res.outcome)
    ax.set_title(f"{res.meta.get('scenario', '')}: tornado of {res.outcome}", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def to_dict(res: SensitivityResult) -> dict:
    return {"method": res.method, "outcome": res.outcome, "baseline": res.baseline, "n_points": res.n_points,
            "reps_per_point": res.reps, "seed": res.seed, "common_random_numbers": True, **res.meta,
            "indices": json.loads(res.indices.to_json(orient="records")),
            "tornado": json.loads(res.tornado.to_json(orient="records"))}


def write_sensitivity(res: SensitivityResult, out: str | Path, force: bool = False) -> dict[str, Path]:
    """Write sensitivity.json, sensitivity_indices.parquet, tornado.parquet, tornado.html, tornado.png."""
    import plotly.io as pio

    out = prepare_out_dir(out, kind="sensitivity", force=force)
    files = {
        "sensitivity.json": write_text(out / "sensitivity.json", json.dumps(to_dict(res), indent=2)),
        "sensitivity_indices.parquet": write_with(out / "sensitivity_indices.parquet",
                                                  lambda p: res.indices.to_parquet(p, index=False)),
        "tornado.parquet": write_with(out / "tornado.parquet", lambda p: res.tornado.to_parquet(p, index=False)),
        "tornado.html": write_text(out / "tornado.html", pio.to_html(tornado_figure(res), include_plotlyjs=True,
                                                                     full_html=True)),
        "tornado.png": write_with(out / "tornado.png", lambda p: p.write_bytes(tornado_png(res))),
    }
    return files
