"""Static PNGs of the report's plotly charts, for papers (``iadsim report DIR --png``).

plotly's own static export (kaleido) needs a Chrome it drives through choreographer; it is not a
dependency of iadsim and, with Debian's Chromium, kaleido 1.5 fails to start the browser. So the
same figures are drawn again with matplotlib (Agg, no display, no browser) from the plotly figure
objects themselves: bars (grouped, overlaid, horizontal, with error bars), markers and lines,
axis titles, ranges, log axes, percent ticks, category and tick labels, and the legend. Only what
the report's charts use is translated; hover text and interactivity are left out.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["figure_png"]

_SYMBOLS = {"circle": "o", "circle-open": "o", "diamond": "D", "diamond-open": "D", "square": "s",
            "square-open": "s", "triangle-up": "^", "x": "x", "star": "*", "circle-x-open": "o",
            "line-ew-open": "_", "cross": "+"}


def _arr(v) -> np.ndarray | None:
    if v is None:
        return None
    return np.asarray(list(v), dtype=object)


def _num(a) -> np.ndarray:
    return np.array([np.nan if x is None else float(x) for x in a], dtype=float)


def _axis_style(ax, axis, lay) -> None:
    setter = ax.set_xlabel if axis == "x" else ax.set_ylabel
    title = lay.title.text if lay.title is not None else None
    if title:
        setter(title, fontsize=9)
    if lay.type == "log":
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    if lay.range is not None:
        (ax.set_xlim if axis == "x" else ax.set_ylim)(*lay.range)
    fmt = lay.tickformat or ""
    a = ax.xaxis if axis == "x" else ax.yaxis
    if "%" in fmt:
        from matplotlib.ticker import PercentFormatter

        a.set_major_formatter(PercentFormatter(1.0, decimals=0))
    if lay.tickvals is not None and lay.ticktext is not None:
        (ax.set_xticks if axis == "x" else ax.set_yticks)(list(lay.tickvals), list(lay.ticktext))


def figure_png(fig, width_in: float = 8.0, dpi: int = 150) -> bytes:
    """A PNG of a plotly figure made of Bar and Scatter traces, drawn with matplotlib."""
    lay = fig.layout
    height_px = lay.height or 380
    out = Figure(figsize=(width_in, max(height_px / 96.0, 2.4)), dpi=dpi)
    ax = out.add_subplot()
    bars = [t for t in fig.data if t.type == "bar"]
    horizontal = any(t.orientation == "h" for t in bars)
    cats: list = []
    for t in fig.data:
        vals = t.y if horizontal else t.x
        if vals is not None and len(vals) and isinstance(list(vals)[0], str):
            cats += [v for v in vals if v not in cats]
    pos = {c: i for i, c in enumerate(cats)}
    grouped = (lay.barmode or "group") == "group"
    nb = max(len(bars), 1)
    width = 0.8 / nb if grouped else 0.8
    bi = 0
    for t in fig.data:
        name = t.name or None
        show = t.showlegend is not False
        if t.type == "bar":
            cval = _arr(t.y if horizontal else t.x)
            vval = _num(t.x if horizontal else t.y)
            if cats:
                c = np.array([pos[v] for v in cval], dtype=float)
                if grouped:
                    c = c + (bi - (nb - 1) / 2) * width
            else:
                c = _num(cval)
            w = width if cats else (float(t.width) if t.width is not None else 0.8)
            colour = t.marker.color if isinstance(t.marker.color, str) else None
            base = float(t.base) if t.base is not None and not isinstance(t.base, (list, tuple)) else 0.0
            err = None
            if t.error_y is not None and t.error_y.array is not None:
                err = np.vstack([_num(t.error_y.arrayminus if t.error_y.arrayminus is not None else t.error_y.array),
                                 _num(t.error_y.array)])
            kw = dict(color=colour, alpha=t.opacity if t.opacity is not None else 1.0,
                      label=name if show else None)
            if horizontal:
                ax.barh(c, vval, height=w, left=base, **kw)
            else:
                ax.bar(c, vval, width=w, bottom=base, yerr=err, capsize=3, ecolor="#333", **kw)
            bi += 1
        elif t.type == "heatmap" and t.z is not None:
            z = np.array([[np.nan if v is None else float(v) for v in row] for row in t.z], dtype=float)
            xl = [str(v) for v in t.x] if t.x is not None else [str(i) for i in range(z.shape[1])]
            yl = [str(v) for v in t.y] if t.y is not None else [str(i) for i in range(z.shape[0])]
            im = ax.imshow(z, origin="lower", aspect="auto", cmap="viridis",
                           vmin=t.zmin if t.zmin is not None else None,
                           vmax=t.zmax if t.zmax is not None else None)
            ax.set_xticks(range(len(xl)), xl, fontsize=8)
            ax.set_yticks(range(len(yl)), yl, fontsize=8)
            cb = out.colorbar(im, ax=ax)
            cbt = t.colorbar.title.text if t.colorbar is not None and t.colorbar.title is not None else None
            if cbt:
                cb.set_label(cbt, fontsize=8)
            if t.colorbar is not None and "%" in (t.colorbar.tickformat or ""):
                from matplotlib.ticker import PercentFormatter

                cb.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        elif t.type == "scatter":
            x, y = _arr(t.x), _arr(t.y)
            if x is None or y is None:
                continue
            xs = np.array([pos.get(v, np.nan) if cats and not horizontal else
                           (np.nan if v is None else float(v)) for v in x], dtype=float)
            ys = np.array([pos.get(v, np.nan) if cats and horizontal else
                           (np.nan if v is None else float(v)) for v in y], dtype=float)
            mode = t.mode or "lines+markers"
            colour = None
            if t.line is not None and isinstance(t.line.color, str):
                colour = t.line.color
            if t.marker is not None and isinstance(t.marker.color, str):
                colour = t.marker.color
            kw = dict(label=name if show else None)
            if t.opacity is not None:
                kw["alpha"] = t.opacity
            if "lines" in mode:
                lw = (t.line.width if t.line is not None and t.line.width else 1.5)
                ls = "--" if t.line is not None and t.line.dash in ("dash", "dot") else "-"
                ax.plot(xs, ys, color=_mpl_colour(colour), lw=min(lw, 6), ls=ls,
                        marker="o" if "markers" in mode else None, ms=4, **kw)
            elif "markers" in mode:
                sym = t.marker.symbol if t.marker is not None and isinstance(t.marker.symbol, str) else "circle"
                size = float(t.marker.size) if t.marker is not None and isinstance(t.marker.size, (int, float)) else 8
                marker = _SYMBOLS.get(sym, "o")
                if marker in ("x", "+", "_"):  # unfilled markers take one colour
                    ax.scatter(xs, ys, marker=marker, s=(size * 0.8) ** 2, c=_mpl_colour(colour) or "#333",
                               linewidths=1.6, zorder=3, **kw)
                else:
                    ax.scatter(xs, ys, marker=marker, s=(size * 0.8) ** 2,
                               facecolors="none" if "open" in sym else _mpl_colour(colour),
                               edgecolors=_mpl_colour(colour), linewidths=1.3, zorder=3, **kw)
            if t.error_y is not None and t.error_y.array is not None:
                err = np.vstack([_num(t.error_y.arrayminus if t.error_y.arrayminus is not None else t.error_y.array),
                                 _num(t.error_y.array)])
                ax.errorbar(xs, ys, yerr=err, fmt="none", ecolor=_mpl_colour(colour) or "#333", capsize=3)
    if cats:
        if horizontal:
            ax.set_yticks(range(len(cats)), cats, fontsize=8)
        else:
            ax.set_xticks(range(len(cats)), cats, fontsize=8, rotation=30 if len(cats) > 6 else 0,
                          ha="right" if len(cats) > 6 else "center")
    _axis_style(ax, "x", lay.xaxis)
    _axis_style(ax, "y", lay.yaxis)
    for shape in lay.shapes or ():
        if shape.type == "line" and shape.x0 == shape.x1 and shape.x0 is not None:
            ax.axvline(float(shape.x0), color="#333", ls=":", lw=1)
    title = lay.title.text if lay.title is not None else None
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    ax.grid(True, color="#ebf0f8", lw=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles, labels = ax.get_legend_handles_labels()
    if handles and lay.showlegend is not False:
        ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.01, 0.5))
    out.tight_layout()
    buf = io.BytesIO()
    FigureCanvasAgg(out).print_png(buf)
    return buf.getvalue()


def _mpl_colour(c):
    """plotly colour strings (#rrggbb, rgba(r,g,b,a)) for matplotlib."""
    if not isinstance(c, str):
        return c
    if c.startswith("rgba(") or c.startswith("rgb("):
        parts = [float(p) for p in c[c.index("(") + 1:-1].split(",")]
        rgb = [v / 255 for v in parts[:3]]
        return (*rgb, parts[3] if len(parts) > 3 else 1.0)
    return c
