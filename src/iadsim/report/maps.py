"""Static maps for the report (matplotlib, Agg; no pyplot state).

The scenario map shows the terrain as a hillshade on the local grid (axes in km, x east,
y north), how many radars see a target flying at a given height above ground, the outer edge of
that coverage, the assets, fire units and radars, each threat's planned route and where threats
were killed across the replications.

Coverage here is geometric line of sight only: radar ``s`` sees cell ``c`` at height ``h`` above
ground when ``terrain[c] + h >= mva[s][c]``, ``mva`` being the radar's minimum-visible-altitude
raster [m MSL] (terrain masking with 4/3-earth refraction, NaN beyond the radar's reach). It is
not a detection probability: radar cross section, range and scan are left out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LightSource
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

__all__ = [
    "COVERAGE_HEIGHTS_AGL_M",
    "MAP_HEIGHT_AGL_M",
    "coverage_count",
    "coverage_map_png",
    "coverage_multiples_png",
    "hillshade",
]

#: default heights above ground [m] of the coverage small multiples
COVERAGE_HEIGHTS_AGL_M: tuple[float, ...] = (50.0, 500.0, 3000.0)
#: default height above ground [m] of the coverage layer on the main map
MAP_HEIGHT_AGL_M = 300.0

_ROUTE_COLOURS = ("#d62728", "#e377c2", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#bcbd22",
                  "#1f77b4")
_EDGE = "#08306b"
_UNIT = "#b2182b"
_ASSET = "#ffd92f"
_KILL = "#3b0000"
_HALO = [patheffects.withStroke(linewidth=2.6, foreground="white", alpha=0.9)]


# ---------------------------------------------------------------- pure functions

def coverage_count(mva_list: Sequence[np.ndarray], elevation: np.ndarray, h: float) -> np.ndarray:
    """Number of radars in line of sight of a target ``h`` [m] above ground, per cell.

    ``mva_list``: one minimum-visible-altitude raster [m MSL] per radar, each shaped like
    ``elevation`` [m MSL]; NaN (beyond a radar's reach) counts as not covered, and so does a
    NaN elevation. A cell is covered by radar ``s`` when ``elevation + h >= mva[s]``.
    Returns an int16 array shaped like ``elevation``.
    """
    elev = np.asarray(elevation, dtype=np.float64)
    target = elev + float(h)
    out = np.zeros(elev.shape, dtype=np.int16)
    for mva in mva_list:
        m = np.asarray(mva, dtype=np.float64)
        if m.shape != elev.shape:
            raise ValueError(f"mva raster shape {m.shape} differs from the terrain's {elev.shape}")
        # comparisons with NaN are False: NaN mva or NaN terrain -> not covered
        with np.errstate(invalid="ignore"):
            out += (target >= m).astype(np.int16)
    return out


def hillshade(elevation: np.ndarray, res_m: float, *, azimuth_deg: float = 315.0,
              altitude_deg: float = 40.0, vert_exag: float = 1.0) -> np.ndarray:
    """Hillshade in [0, 1] of a north-up elevation raster [m] with square cells of ``res_m`` [m]."""
    z = np.asarray(elevation, dtype=np.float64)
    if not np.isfinite(z).all():
        z = np.where(np.isfinite(z), z, np.nanmean(z) if np.isfinite(z).any() else 0.0)
    ls = LightSource(azdeg=azimuth_deg, altdeg=altitude_deg)
    return ls.hillshade(z, vert_exag=vert_exag, dx=res_m, dy=res_m)


# ---------------------------------------------------------------- drawing helpers

def _extent_km(grid) -> tuple[float, float, float, float]:
    return (grid.xmin / 1e3, grid.xmax / 1e3, grid.ymin / 1e3, grid.ymax / 1e3)


def _terrain_rgb(terrain) -> np.ndarray:
    """A light hypsometric tint shaded by the hillshade: an RGB [ny, nx, 3] image."""
    z = np.asarray(terrain.elevation_m, dtype=np.float64)
    hs = hillshade(z, terrain.grid.res)
    finite = z[np.isfinite(z)]
    lo, hi = (np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0))
    if hi <= lo:
        hi = lo + 1.0
    tint = mcolors.LinearSegmentedColormap.from_list(
        "iadsim_terrain", ["#dfe8d2", "#ece4cf", "#e2d3bb", "#f3f1ee"])
    rgb = tint(np.clip((np.nan_to_num(z, nan=lo) - lo) / (hi - lo), 0, 1))[..., :3]
    shade = 0.45 + 0.55 * hs[..., None]
    return np.clip(rgb * shade, 0, 1)


def _count_cmap(n: int):
    n = max(int(n), 1)
    base = mcolors.LinearSegmentedColormap.from_list(
        "iadsim_cover", ["#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"])
    cols = base(np.linspace(0.0, 1.0, n)) if n > 1 else base([0.45])
    return cols[:, :3]


def _composite(terrain_rgb: np.ndarray, count: np.ndarray, n_radars: int,
               alpha: float) -> np.ndarray:
    """Terrain RGB with the coverage count blended over it (count 0 leaves the terrain)."""
    cols = _count_cmap(n_radars)
    out = terrain_rgb.copy()
    k = np.clip(count, 0, len(cols)).astype(np.int64)
    hit = k >= 1
    if hit.any():
        out[hit] = (1.0 - alpha) * terrain_rgb[hit] + alpha * cols[k[hit] - 1]
    return out


def _colorbar(fig, cax, n_radars: int, alpha: float, label: str, fontsize: float) -> None:
    cols = (1.0 - alpha) * 0.85 + alpha * _count_cmap(n_radars)  # as seen over light terrain
    cmap = mcolors.ListedColormap(cols)
    norm = mcolors.BoundaryNorm(np.arange(0.5, n_radars + 1.0), n_radars)
    step = max(1, int(np.ceil(n_radars / 12)))
    cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax,
                      ticks=np.arange(1, n_radars + 1, step))
    cb.set_label(label, fontsize=fontsize)
    cb.ax.tick_params(labelsize=fontsize - 1)


def _draw_coverage(ax, grid, terrain_rgb, count: np.ndarray, n_radars: int, alpha: float,
                   edge: bool = True) -> None:
    ax.imshow(_composite(terrain_rgb, count, n_radars, alpha), extent=_extent_km(grid),
              origin="upper", interpolation="bilinear", zorder=1)
    if edge and (count >= 1).any() and (count < 1).any():
        xc = grid.x_centers() / 1e3
        yc = grid.y_centers() / 1e3
        ax.contour(xc, yc, (count >= 1).astype(np.float32), levels=[0.5], colors=_EDGE,
                   linewidths=1.0, zorder=3)


def _sensor_only(world) -> list[int]:
    """Indices of the stand-alone radars (not co-located organic radars of fire units)."""
    n_eff = len(world.effector_labels)
    return list(range(n_eff, len(world.sensor_labels)))


def _draw_sites(ax, world, *, size: float = 1.0, labels: list | None = None) -> None:
    """Assets, fire units (triangles, ringed when they carry a radar) and stand-alone radars."""
    ex = np.asarray(world.effector_xyz, dtype=float).reshape(-1, 3)
    sx = np.asarray(world.sensor_xyz, dtype=float).reshape(-1, 3)
    ax.scatter(sx[:, 0] / 1e3, sx[:, 1] / 1e3, s=150 * size, facecolors="none",
               edgecolors="#08306b", linewidths=1.2 * size, zorder=6)
    if len(ex):
        ax.scatter(ex[:, 0] / 1e3, ex[:, 1] / 1e3, marker="^", s=70 * size, c="#b2182b",
                   edgecolors="white", linewidths=0.8, zorder=7)
    so = _sensor_only(world)
    if so:
        ax.scatter(sx[so, 0] / 1e3, sx[so, 1] / 1e3, marker="s", s=30 * size, c="#08306b",
                   edgecolors="white", linewidths=0.6, zorder=7)
    axy = np.asarray(world.asset_xy, dtype=float).reshape(-1, 2)
    if len(axy):
        ax.scatter(axy[:, 0] / 1e3, axy[:, 1] / 1e3, marker="*", s=260 * size, c="#ffd92f",
                   edgecolors="black", linewidths=0.9, zorder=8)
    from iadsim.engine.scoot import candidate_sites

    cand = candidate_sites(world)   # shoot-and-scoot: where relocating fire units may move (hollow triangles)
    if cand:
        ax.scatter([c["x"] / 1e3 for c in cand], [c["y"] / 1e3 for c in cand], marker="^", s=70 * size,
                   facecolors="none", edgecolors="#b2182b", linewidths=1.2, zorder=7)
    if labels is not None:
        for c in cand:
            labels.append((c["x"] / 1e3, c["y"] / 1e3, c["name"], "#67000d", 7.0, "normal"))
        for i, name in enumerate(world.effector_labels):
            labels.append((ex[i, 0] / 1e3, ex[i, 1] / 1e3, name, "#67000d", 8.0, "normal"))
        for i in so:
            labels.append((sx[i, 0] / 1e3, sx[i, 1] / 1e3, world.sensor_labels[i], "#08306b", 8.0,
                           "normal"))
        for a, (x, y) in zip(world.scenario.assets, axy):
            labels.append((x / 1e3, y / 1e3, a.name, "black", 9.0, "bold"))


def _route_xy_km(world, i: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(world.route_lonlat[i], dtype=float)
    x, y = world.grid.to_local(r[:, 1], r[:, 0])
    return np.atleast_1d(x) / 1e3, np.atleast_1d(y) / 1e3


def _draw_routes(ax, world, labels: list) -> list:
    handles = []
    threats = world.scenario.threats
    for i, route in enumerate(world.route_lonlat):
        if len(route) == 0:
            continue
        col = _ROUTE_COLOURS[i % len(_ROUTE_COLOURS)]
        x, y = _route_xy_km(world, i)
        ax.plot(x, y, color="white", lw=3.2, alpha=0.8, zorder=4, solid_capstyle="round")
        ax.plot(x, y, color=col, lw=1.7, zorder=5, solid_capstyle="round")
        # a direction arrow on the last leg, and a start marker
        if len(x) >= 2:
            k = len(x) - 1
            j = k - 1
            while j > 0 and np.hypot(x[k] - x[j], y[k] - y[j]) < 1e-3:
                j -= 1
            ax.annotate("", xy=(x[k], y[k]), xytext=(x[j] + 0.35 * (x[k] - x[j]),
                                                     y[j] + 0.35 * (y[k] - y[j])),
                        arrowprops=dict(arrowstyle="-|>", color=col, lw=1.7, mutation_scale=14),
                        zorder=5)
        ax.plot(x[:1], y[:1], marker="o", ms=5, color=col, mec="white", mew=0.8, zorder=5)
        thr = threats[i] if i < len(threats) else None
        name = thr.name if thr is not None else f"threat {i}"
        if thr is not None and getattr(thr, "count", 1) > 1:
            name = f"{name} ×{thr.count}"
        labels.append((x[0], y[0], name, col, 9.0, "bold"))
        handles.append(Line2D([], [], color=col, lw=1.8, label=f"route: {name}"))
    return handles


def _kill_xy_km(results, max_points: int) -> tuple[np.ndarray, np.ndarray, int]:
    df = results.replications
    lat = df["kill_lat"].to_numpy(dtype=float)
    lon = df["kill_lon"].to_numpy(dtype=float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    lat, lon = lat[ok], lon[ok]
    n = lat.size
    if n > max_points:
        idx = np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))
        lat, lon = lat[idx], lon[idx]
    if lat.size == 0:
        return np.zeros(0), np.zeros(0), n
    x, y = results.world.grid.to_local(lat, lon)
    return np.atleast_1d(x) / 1e3, np.atleast_1d(y) / 1e3, n


def _place_labels(ax, items: list, renderer, obstacles: Sequence = ()) -> list[tuple]:
    """Greedy label placement: try offsets around each point, keep the least overlapping.

    Near offsets first; then farther ones drawn with a leader line to the point, so labels of
    co-located sites (two fire units 100 m apart) do not cover each other. ``obstacles``: artists
    (north arrow, scale bar) that labels should not cover. Returns ``(text, x0, y0, x1, y1)`` of
    each label as drawn, in display pixels.
    """
    near = [(7, 5, "left", "bottom"), (7, -5, "left", "top"), (-7, 5, "right", "bottom"),
            (-7, -5, "right", "top"), (0, 10, "center", "bottom"), (0, -10, "center", "top"),
            (12, 0, "left", "center"), (-12, 0, "right", "center")]
    far = [(dx * f, dy * f, ha, va) for f in (2.6, 4.2) for dx, dy, ha, va in near]
    offsets = [(o, False) for o in near] + [(o, True) for o in far]
    placed = [a.get_window_extent(renderer).expanded(1.05, 1.1) for a in obstacles]
    axbox = ax.get_window_extent(renderer)
    boxes: list[tuple] = []
    for x, y, text, colour, size, weight in items:
        best, best_cost = None, None
        for (dx, dy, ha, va), leader in offsets:
            arrow = dict(arrowstyle="-", color=colour, lw=0.7, shrinkA=0, shrinkB=2) if leader else None
            t = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha,
                            va=va, fontsize=size, color=colour, fontweight=weight,
                            path_effects=_HALO, zorder=9, annotation_clip=False, arrowprops=arrow)
            t.update_positions(renderer)
            bb = Text.get_window_extent(t, renderer)  # the text alone, not its leader line
            cost = 0.0
            for p in placed:
                w = min(bb.x1, p.x1) - max(bb.x0, p.x0)
                h = min(bb.y1, p.y1) - max(bb.y0, p.y0)
                if w > 0 and h > 0:
                    cost += w * h
            outside = (max(axbox.x0 - bb.x0, 0) + max(bb.x1 - axbox.x1, 0)
                       + max(axbox.y0 - bb.y0, 0) + max(bb.y1 - axbox.y1, 0))
            cost += outside * 50.0 + (1.0 if leader else 0.0)
            if best_cost is None or cost < best_cost:
                if best is not None:
                    best.remove()
                best, best_cost = t, cost
            else:
                t.remove()
            if cost <= 1.0:
                break
        if best is not None:
            best.update_positions(renderer)
            bb = Text.get_window_extent(best, renderer)
            boxes.append((text, bb.x0, bb.y0, bb.x1, bb.y1))
            placed.append(bb.expanded(1.04, 1.15))
    return boxes


def _nice_length_km(span_km: float) -> float:
    target = span_km / 5.0
    for v in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if v >= target:
            return float(v)
    return float(round(target, -3))


def _north_and_scale(ax, grid) -> list:
    """Draw a north arrow and a scale bar; return their artists (obstacles for labels)."""
    x0, x1, y0, y1 = _extent_km(grid)
    w, h = x1 - x0, y1 - y0
    # north arrow (y is grid north: true north at the projection centre)
    north = ax.annotate("N", xy=(x1 - 0.05 * w, y1 - 0.04 * h),
                        xytext=(x1 - 0.05 * w, y1 - 0.12 * h), ha="center", va="center",
                        fontsize=11, fontweight="bold",
                        arrowprops=dict(arrowstyle="-|>", color="black", lw=1.6, mutation_scale=16),
                        path_effects=_HALO, zorder=10)
    # scale bar
    L = _nice_length_km(w)
    bx, by = x0 + 0.04 * w, y0 + 0.04 * h
    ax.plot([bx, bx + L], [by, by], color="white", lw=6, solid_capstyle="butt", zorder=10)
    (bar,) = ax.plot([bx, bx + L], [by, by], color="black", lw=3, solid_capstyle="butt", zorder=10)
    text = ax.text(bx + L / 2, by + 0.012 * h, f"{L:g} km", ha="center", va="bottom", fontsize=9,
                   path_effects=_HALO, zorder=10)
    return [north, bar, text]


def _png_bytes(fig: Figure, quantize: bool, keep: Sequence[str] = ()) -> bytes:
    """Render ``fig`` with Agg and encode it as PNG once (optionally as a 256-colour palette).

    The palette keeps the colours in ``keep`` exactly (routes, markers, text) and gives the
    rest to an adaptive palette of the image, so thin coloured lines stay true.
    """
    from PIL import Image  # a matplotlib dependency

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    img = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw",
                           "RGBA", 0, 1).convert("RGB")
    out = io.BytesIO()
    if quantize:
        fixed = []
        for c in dict.fromkeys(["#ffffff", "#000000", *keep]):
            fixed.append(tuple(int(round(255 * v)) for v in mcolors.to_rgb(c)))
        adaptive = img.quantize(colors=256 - len(fixed), method=Image.Quantize.MEDIANCUT,
                                dither=Image.Dither.NONE)
        pal = adaptive.getpalette()[: 3 * (256 - len(fixed))]
        full = [v for c in fixed for v in c] + pal
        full += [0] * (768 - len(full))
        pimg = Image.new("P", (1, 1))
        pimg.putpalette(full)
        img = img.quantize(palette=pimg, dither=Image.Dither.NONE)
    img.save(out, format="PNG", compress_level=9)
    return out.getvalue()


# ---------------------------------------------------------------- public maps

def coverage_map_png(results, altitude_agl_m: float = MAP_HEIGHT_AGL_M, *, width_in: float = 9.5,
                     dpi: float = 110, max_kills: int = 2000, show_kills: bool = True,
                     show_routes: bool = True, quantize: bool = True,
                     title: str | None = None) -> bytes:
    """The scenario map as PNG bytes.

    Hillshaded terrain in the local grid [km], the number of radars in line of sight of a
    target ``altitude_agl_m`` [m] above ground (see :func:`coverage_count`) with the outer
    coverage edge, assets (stars), fire units (triangles; a ring marks a radar), stand-alone
    radars (squares), planned threat routes and kill positions (at most ``max_kills``, evenly
    subsampled). ``quantize`` reduces the image to a 256-colour palette (a much smaller file).
    """
    w = results.world
    grid, terrain = w.grid, w.terrain
    count = coverage_count(w.mva, terrain.elevation_m, altitude_agl_m)
    n_rad = len(w.mva)
    alpha = 0.5

    # fixed layout (inches): the map keeps the grid's aspect, a colour bar on its right and the
    # legend below it, so neither hides the map
    n_handles = 3 + len(w.route_lonlat) * bool(show_routes) + 2 + bool(_sensor_only(w)) + (getattr(w, "scoot", None) is not None)
    ncol = 4
    legend_h = 0.2 + 0.2 * int(np.ceil(n_handles / ncol))
    left, right, top, cbw, gap = 0.65, 0.75, 0.4, 0.16, 0.12
    bottom = 0.55 + legend_h
    aw = width_in - left - right - (cbw + gap if n_rad else 0.0)
    ah = aw * grid.ny / grid.nx
    fh = ah + bottom + top
    fig = Figure(figsize=(width_in, fh), dpi=dpi)
    ax = fig.add_axes((left / width_in, bottom / fh, aw / width_in, ah / fh))
    _draw_coverage(ax, grid, _terrain_rgb(terrain), count, n_rad, alpha)

    labels: list = []
    handles: list = []
    keep = [_EDGE, _UNIT, _ASSET, _KILL, "#67000d"]
    if show_kills:
        kx, ky, nk = _kill_xy_km(results, max_kills)
        if kx.size:
            ax.scatter(kx, ky, marker="x", s=9, c=_KILL, linewidths=0.6, alpha=0.55, zorder=6)
            shown = f"{kx.size:,} of {nk:,}" if kx.size < nk else f"{nk:,}"
            handles.append(Line2D([], [], ls="none", marker="x", ms=5, color=_KILL,
                                  label=f"kill positions ({shown})"))
    if show_routes:
        handles = _draw_routes(ax, w, labels) + handles
        keep += [_ROUTE_COLOURS[i % len(_ROUTE_COLOURS)] for i in range(len(w.route_lonlat))]
    _draw_sites(ax, w, labels=labels)
    handles += [
        Line2D([], [], ls="none", marker="*", ms=13, mfc=_ASSET, mec="black", label="asset"),
        Line2D([], [], ls="none", marker="^", ms=8, mfc=_UNIT, mec="white", label="fire unit"),
        Line2D([], [], ls="none", marker="o", ms=11, mfc="none", mec=_EDGE, label="radar"),
    ]
    if _sensor_only(w):
        handles.append(Line2D([], [], ls="none", marker="s", ms=6, mfc=_EDGE, mec="white",
                              label="stand-alone radar"))
    if getattr(w, "scoot", None) is not None:
        handles.append(Line2D([], [], ls="none", marker="^", ms=8, mfc="none", mec=_UNIT,
                              label="relocation site"))
    if n_rad:
        handles.append(Line2D([], [], color=_EDGE, lw=1.0,
                              label=f"coverage edge at {altitude_agl_m:g} m AGL"))

    x0, x1, y0, y1 = _extent_km(grid)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("auto")
    ax.set_xlabel("east [km]", fontsize=9, labelpad=2)
    ax.set_ylabel("north [km]", fontsize=9, labelpad=2)
    ax.tick_params(labelsize=8)
    ax.set_title(title or f"Radar line of sight at {altitude_agl_m:g} m above ground, "
                          f"planned routes and kill positions", fontsize=11)
    obstacles = _north_and_scale(ax, grid)
    fig.legend(handles=handles, loc="upper left", ncol=ncol, fontsize=8, frameon=False,
               bbox_to_anchor=(left / width_in, (legend_h + 0.05) / fh), borderaxespad=0.0,
               handlelength=1.6, columnspacing=1.6)
    if n_rad:
        ch = min(ah * 0.6, 4.0)
        cax = fig.add_axes(((left + aw + gap) / width_in, (bottom + (ah - ch) / 2) / fh,
                            cbw / width_in, ch / fh))
        _colorbar(fig, cax, n_rad, alpha, "radars in line of sight", 9)

    _place_labels(ax, labels, FigureCanvasAgg(fig).get_renderer(), obstacles)
    return _png_bytes(fig, quantize, keep)


def coverage_multiples_png(results, heights_agl_m: Sequence[float] = COVERAGE_HEIGHTS_AGL_M, *,
                           panel_in: float = 3.3, dpi: float = 100,
                           quantize: bool = True) -> bytes:
    """A row of small maps: radars in line of sight at each height above ground [m]."""
    w = results.world
    grid, terrain = w.grid, w.terrain
    heights = [float(h) for h in heights_agl_m] or [MAP_HEIGHT_AGL_M]
    n_rad = len(w.mva)
    alpha = 0.55
    rgb = _terrain_rgb(terrain)
    n = len(heights)
    left, right, bottom, top, gap, cbw = 0.5, 0.75, 0.45, 0.55, 0.15, 0.13
    ah = panel_in * grid.ny / grid.nx
    fw = left + n * panel_in + (n - 1) * gap + (0.15 + cbw if n_rad else 0.0) + right
    fh = ah + bottom + top
    fig = Figure(figsize=(fw, fh), dpi=dpi)
    x0, x1, y0, y1 = _extent_km(grid)
    for i, h in enumerate(heights):
        ax = fig.add_axes(((left + i * (panel_in + gap)) / fw, bottom / fh, panel_in / fw, ah / fh))
        count = coverage_count(w.mva, terrain.elevation_m, h)
        _draw_coverage(ax, grid, rgb, count, n_rad, alpha)
        _draw_sites(ax, w, size=0.5)
        frac = float((count >= 1).mean()) if count.size else 0.0
        ax.set_title(f"{h:g} m above ground\n{frac:.0%} of the map seen by ≥1 radar", fontsize=9)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("east [km]", fontsize=8, labelpad=1)
        if i == 0:
            ax.set_ylabel("north [km]", fontsize=8, labelpad=1)
        else:
            ax.tick_params(labelleft=False)
    if n_rad:
        ch = ah * 0.8
        cax = fig.add_axes(((left + n * panel_in + (n - 1) * gap + 0.15) / fw,
                            (bottom + (ah - ch) / 2) / fh, cbw / fw, ch / fh))
        _colorbar(fig, cax, n_rad, alpha, "radars in line of sight", 8)
    return _png_bytes(fig, quantize, [_EDGE, _UNIT, _ASSET])


# ---------------------------------------------------------------- the layered map of the report

#: heights above ground [m] of the switchable coverage layers of the report's map
LAYER_HEIGHTS_AGL_M: tuple[float, ...] = (50.0, 150.0, 300.0, 1000.0, 3000.0)


def _rgba_png(fig: Figure, colours: int = 128) -> bytes:
    """Render ``fig`` (transparent background) to a palette PNG that keeps the alpha channel."""
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    img = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    img = img.quantize(colors=colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _grid_png(rgba: np.ndarray) -> bytes:
    """An RGBA [ny, nx, 4] float image (one pixel per grid cell) as a small PNG: exact colours in a
    palette with transparency when there are at most 256 (always, for coverage and envelopes)."""
    from PIL import Image

    u8 = np.ascontiguousarray(np.clip(np.round(rgba * 255), 0, 255).astype(np.uint8))
    packed = u8.view(np.uint32).reshape(u8.shape[:2])
    colours, index = np.unique(packed, return_inverse=True)
    out = io.BytesIO()
    if len(colours) <= 256:
        img = Image.fromarray(index.reshape(packed.shape).astype(np.uint8), "P")
        img.putpalette(colours.view(np.uint8).tobytes(), rawmode="RGBA")
        img.save(out, format="PNG", optimize=True)
    else:
        Image.fromarray(u8, "RGBA").save(out, format="PNG", optimize=True)
    return out.getvalue()


def _outline(mask: np.ndarray) -> np.ndarray:
    """The cells of ``mask`` with a 4-neighbour outside it (the grid's edge counts as outside)."""
    m = np.pad(mask, 1, constant_values=False)
    inner = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    return mask & ~inner


def threat_heights_agl(world, step: int = 5) -> dict[float, list[str]]:
    """Height above ground [m] each scenario threat typically flies at -> the threats' names.

    The median over the threat's flight (every ``step``-th time step, all its members) of its
    altitude minus the ground below it, rounded to 10 m (at least 10 m)."""
    out: dict[float, list[str]] = {}
    grid, terrain = world.grid, world.terrain
    group = np.asarray(world.threat_group)
    for g, thr in enumerate(world.scenario.threats):
        members = np.flatnonzero(group == g)
        if members.size == 0:
            continue
        p = np.asarray(world.pos[::step, members, :], dtype=float).reshape(-1, 3)
        p = p[np.isfinite(p).all(axis=1)]
        p = p[grid.contains(p[:, 0], p[:, 1])] if len(p) else p
        if len(p) == 0:
            continue
        agl = p[:, 2] - terrain.height_at(p[:, 0], p[:, 1])
        h = float(max(10.0, round(float(np.median(agl)) / 10.0) * 10.0))
        out.setdefault(h, []).append(thr.name)
    return out


def engagement_envelope(world, e: int, height_agl_m: float) -> np.ndarray:
    """[ny, nx] bool: where fire unit ``e`` engages a hovering target ``height_agl_m`` above the ground.

    The run's envelope (:func:`iadsim.coverage.envelope.engageable` on the world's own flyout table
    and limits: time of flight and end speed from the table, slant range ``range_min_m``..
    ``range_max_m``, height above ground at least ``altitude_min_m``, above the site at most
    ``altitude_max_m``, the launcher's sector) and terrain-masked line of sight from the unit's own
    radar (its minimum-visible-altitude raster)."""
    from iadsim.coverage.envelope import engageable, unit_envelope_of_world

    grid = world.grid
    z_ground = np.asarray(world.terrain.elevation_m, dtype=float)
    env = unit_envelope_of_world(world, e)
    z = z_ground + float(height_agl_m)
    rel = np.stack(np.broadcast_arrays(grid.x_centers()[None, :] - env.x, grid.y_centers()[:, None] - env.y,
                                       z - env.ground), axis=-1)
    ok = engageable(env, rel, ground_at=world.terrain.height_at)
    mva = world.mva[int(world.effector_sensor[e])]
    with np.errstate(invalid="ignore"):
        ok &= np.isfinite(mva) & (z >= mva)
    return ok


def _coverage_rgba(world, h: float, alpha: float) -> np.ndarray:
    n_rad = len(world.mva)
    cols = _count_cmap(n_rad)
    count = coverage_count(world.mva, world.terrain.elevation_m, h)
    k = np.clip(count, 0, len(cols)).astype(np.int64)
    rgba = np.zeros(count.shape + (4,))
    hit = k >= 1
    rgba[hit, :3] = cols[k[hit] - 1]
    rgba[hit, 3] = alpha
    if hit.any() and (~hit).any():
        edge = _outline(hit)
        rgba[edge, :3] = mcolors.to_rgb(_EDGE)
        rgba[edge, 3] = 1.0
    return rgba


def _envelope_rgba(world, h: float) -> np.ndarray:
    ny, nx = world.grid.shape
    rgba = np.zeros((ny, nx, 4))
    unit = mcolors.to_rgb(_UNIT)
    masks = [engagement_envelope(world, e, h) for e in range(len(world.effector_labels))]
    if not masks:
        return rgba
    for m in masks:
        edge = _outline(m)
        rgba[edge, :3] = unit
        rgba[edge, 3] = 1.0
    return rgba


def layered_map_pngs(results, heights_agl_m: Sequence[float] = LAYER_HEIGHTS_AGL_M, *,
                     width_in: float = 9.5, dpi: float = 110, max_kills: int = 2000,
                     threat_heights: bool = True) -> dict:
    """The report's map as stacked layers.

    Returns ``{"base": png, "coverage": [(height, png), ...], "envelopes": [(height, png), ...],
    "threats_at": {height: [threat names]}, "symbols": png, "kills": png or None, "n_kills": int,
    "width": px, "height": px, "box": (left, top, width, height), "label_boxes": [...]}``.

    ``base`` (opaque terrain with axes, legend and colour bar), ``symbols`` (routes, sites and their
    labels) and ``kills`` (where threats were killed across the replications) are the same size in
    pixels. Each coverage layer (radars in line of sight at one height above ground, the coverage
    edge darker) and each envelope layer (where each fire unit can engage a target at that height:
    outline per unit) has one pixel per grid cell; ``box`` is where the map's axes lie in
    the base image, as fractions of its width and height (left, top, width, height), so the grid
    layers are stretched onto it. ``threat_heights``: add the heights the scenario's threats fly at
    (:func:`threat_heights_agl`) to ``heights_agl_m``. ``label_boxes``: ``(text, x0, y0, x1, y1)``
    of every label in image pixels (y down).
    """
    w = results.world
    grid, terrain = w.grid, w.terrain
    n_rad = len(w.mva)
    alpha = 0.5
    heights = [float(h) for h in heights_agl_m]
    n_handles = 3 + len(w.route_lonlat) + 4 + bool(_sensor_only(w)) + (getattr(w, "scoot", None) is not None)
    ncol = 4
    legend_h = 0.2 + 0.2 * int(np.ceil(n_handles / ncol))
    left, right, top, cbw, gap = 0.65, 0.75, 0.4, 0.16, 0.12
    bottom = 0.55 + legend_h
    aw = width_in - left - right - (cbw + gap if n_rad else 0.0)
    ah = aw * grid.ny / grid.nx
    fh = ah + bottom + top
    fig = Figure(figsize=(width_in, fh), dpi=dpi)
    ax = fig.add_axes((left / width_in, bottom / fh, aw / width_in, ah / fh))
    ext = _extent_km(grid)
    terrain_img = ax.imshow(_terrain_rgb(terrain), extent=ext, origin="upper", interpolation="bilinear",
                            zorder=1)
    threats_at = threat_heights_agl(w) if threat_heights else {}
    heights = sorted(set(heights) | set(threats_at))
    labels: list = []
    s0 = set(ax.get_children())
    route_handles = _draw_routes(ax, w, labels)
    _draw_sites(ax, w, labels=labels)
    symbols = [a for a in ax.get_children() if a not in s0]
    kx, ky, nk = _kill_xy_km(results, max_kills)
    kills = None
    if kx.size:
        kills = ax.scatter(kx, ky, marker="x", s=9, c=_KILL, linewidths=0.6, alpha=0.6, zorder=6)
    x0, x1, y0, y1 = ext
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("auto")
    ax.set_xlabel("east [km]", fontsize=9, labelpad=2)
    ax.set_ylabel("north [km]", fontsize=9, labelpad=2)
    ax.tick_params(labelsize=8)
    ax.set_title("Terrain, radars in line of sight, planned routes and kill positions", fontsize=11)
    s2 = set(ax.get_children())
    obstacles = _north_and_scale(ax, grid)
    s3 = set(ax.get_children())
    scale = [a for a in s3 if a not in s2]  # north arrow and scale bar: drawn with the base
    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = _place_labels(ax, labels, renderer, obstacles)
    symbols += [a for a in ax.get_children() if a not in s3]  # the labels
    handles = route_handles + [
        Line2D([], [], ls="none", marker="*", ms=13, mfc=_ASSET, mec="black", label="asset"),
        Line2D([], [], ls="none", marker="^", ms=8, mfc=_UNIT, mec="white", label="fire unit"),
        Line2D([], [], ls="none", marker="o", ms=11, mfc="none", mec=_EDGE, label="radar"),
        Line2D([], [], ls="none", marker="x", ms=5, color=_KILL,
               label=f"kill positions ({min(nk, max_kills):,} of {nk:,})" if nk > max_kills
               else f"kill positions ({nk:,})"),
        Line2D([], [], color=_EDGE, lw=1.0, label="coverage edge"),
    ]
    if len(w.effector_labels):
        handles.append(Line2D([], [], color=_UNIT, lw=1.0, label="engagement envelope"))
    if _sensor_only(w):
        handles.append(Line2D([], [], ls="none", marker="s", ms=6, mfc=_EDGE, mec="white",
                              label="stand-alone radar"))
    if getattr(w, "scoot", None) is not None:
        handles.append(Line2D([], [], ls="none", marker="^", ms=8, mfc="none", mec=_UNIT,
                              label="relocation site"))
    legend = fig.legend(handles=handles, loc="upper left", ncol=ncol, fontsize=8, frameon=False,
                        bbox_to_anchor=(left / width_in, (legend_h + 0.05) / fh), borderaxespad=0.0,
                        handlelength=1.6, columnspacing=1.6)
    cax = None
    if n_rad:
        ch = min(ah * 0.6, 4.0)
        cax = fig.add_axes(((left + aw + gap) / width_in, (bottom + (ah - ch) / 2) / fh, cbw / width_in,
                            ch / fh))
        _colorbar(fig, cax, n_rad, alpha, "radars in line of sight", 9)

    decor = [ax.title, ax.xaxis, ax.yaxis, *ax.spines.values(), legend, *scale]
    groups = {"terrain": [terrain_img], "symbols": symbols, "kills": [kills] if kills is not None else []}

    def show(only: list, base: bool) -> None:
        for arts in [groups["terrain"], groups["symbols"], groups["kills"]]:
            for a in arts:
                a.set_visible(False)
        for a in only:
            a.set_visible(True)
        for a in decor:
            a.set_visible(base)
        if cax is not None:
            cax.set_visible(base)
        ax.patch.set_visible(base)
        fig.patch.set_alpha(1.0 if base else 0.0)

    show(groups["terrain"], True)
    base_png = _png_bytes(fig, True, [_EDGE, _UNIT, _ASSET, _KILL, "#67000d",
                                      *[_ROUTE_COLOURS[i % len(_ROUTE_COLOURS)] for i in range(len(w.route_lonlat))]])
    cov_pngs = [(h, _grid_png(_coverage_rgba(w, h, alpha))) for h in heights]
    env_pngs = [(h, _grid_png(_envelope_rgba(w, h))) for h in heights] if len(w.effector_labels) else []
    show(groups["symbols"], False)
    sym_png = _rgba_png(fig, 255)
    kill_png = None
    if kills is not None:
        show(groups["kills"], False)
        kill_png = _rgba_png(fig, 32)
    wpx, hpx = FigureCanvasAgg(fig).get_width_height()
    bb = ax.get_window_extent(renderer)
    box = (bb.x0 / wpx, (hpx - bb.y1) / hpx, bb.width / wpx, bb.height / hpx)
    label_boxes = [(t, x0, hpx - y1, x1, hpx - y0) for t, x0, y0, x1, y1 in boxes]
    return {"base": base_png, "coverage": cov_pngs, "envelopes": env_pngs, "threats_at": threats_at,
            "symbols": sym_png, "kills": kill_png, "n_kills": nk, "width": wpx, "height": hpx,
            "box": box, "label_boxes": label_boxes}
