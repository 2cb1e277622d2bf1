"""`iadsim coverage`: coverage products of a scenario's radars and fire units, written as
GeoTIFF (the DEM's CRS), PNG over hillshade, KMZ ground overlays and GeoJSON polygons.

Engagement products are the run's decision (:func:`iadsim.coverage.envelope.engageable`) for a level
target flying straight at each fire unit at ``CoverageRequest.target_speed_m_s`` (default 0: hovering);
``coverage.json`` states the target under ``engagement_target``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from iadsim.coverage.los import min_visible_altitude
from iadsim.coverage.products import (
    detection_mask, engagement_mask, layered_count, lowest_detected_altitude, radar_detection_range_m,
    target_altitude,
)
from iadsim.coverage.envelope import ENGAGEMENT_LEAVES_OUT, ENGAGEMENT_TARGET, unit_envelopes
from iadsim.coverage.specs import build_grid, effector_specs, radar_specs
from iadsim.export.georaster import mask_polygons, write_geotiff_crs
from iadsim.export.kml import Overlay, write_kmz
from iadsim.geo.terrain import load_terrain, open_dem
from iadsim.results.io import prepare_out_dir, write_text, write_with
from iadsim.scenario.loader import LoadedScenario


@dataclass
class CoverageRequest:
    altitudes_m: Sequence[float] = (100.0, 500.0, 3000.0)
    agl: bool = False
    rcs_m2: Sequence[float] = (0.1, 1.0)
    pd: float = 0.5
    method: str | None = None  # line of sight: sweep, rays (exact, slow), planes (GDAL's); None: the scenario's
    extent: str = "scenario"   # grid: 'scenario' (sites, routes, margin: as a run) or 'reach' (every system's reach)
    #: engagement products: speed [m/s] of the level target flying straight at each fire unit (0: hovering)
    target_speed_m_s: float = 0.0

    def check(self) -> None:
        if not self.altitudes_m:
            raise ValueError("--alt needs at least one altitude")
        if any(not np.isfinite(a) or a < 0 for a in self.altitudes_m):
            raise ValueError(f"--alt: altitudes must be >= 0 m, got {list(self.altitudes_m)}")
        if not self.rcs_m2 or any(not np.isfinite(r) or r <= 0 for r in self.rcs_m2):
            raise ValueError(f"--rcs: radar cross sections must be > 0 m2, got {list(self.rcs_m2)}")
        if self.method is not None and self.method not in ("sweep", "rays", "planes"):
            raise ValueError(f"--method must be sweep, rays or planes, got {self.method!r}")
        if not 0 < self.pd < 1:
            raise ValueError(f"--pd must be in (0, 1), got {self.pd}")
        if not np.isfinite(self.target_speed_m_s) or self.target_speed_m_s < 0:
            raise ValueError(f"--target-speed must be a speed >= 0 m/s, got {self.target_speed_m_s}")
        if self.extent not in ("scenario", "reach"):
            raise ValueError(f"--extent must be scenario or reach, got {self.extent!r}")


@dataclass
class CoverageResult:
    files: dict[str, Path] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def clipped_fraction(grid, x: float, y: float, r: float, n: int = 720) -> float:
    """Fraction of the disc of radius ``r`` [m] around (x, y) that lies outside the grid (sampled on
    rings) [1]."""
    if r <= 0:
        return 0.0
    rad = np.sqrt((np.arange(16) + 0.5) / 16) * r           # equal-area rings
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    px = x + rad[:, None] * np.cos(ang)[None, :]
    py = y + rad[:, None] * np.sin(ang)[None, :]
    inside = (px >= grid.xmin) & (px <= grid.xmax) & (py >= grid.ymin) & (py <= grid.ymax)
    return float(1.0 - inside.mean())


def _alt_label(a: float, agl: bool) -> str:
    return f"{a:g}m{'AGL' if agl else 'MSL'}"


def _png(grid, terrain, values: np.ndarray, kind: str, title: str, sites, vmax: float) -> bytes:
    import io

    from matplotlib import colormaps
    from matplotlib.figure import Figure

    from iadsim.report.maps import hillshade

    ext = (grid.xmin / 1e3, grid.xmax / 1e3, grid.ymin / 1e3, grid.ymax / 1e3)
    fig = Figure(figsize=(8, 8 * grid.ny / grid.nx + 0.6), dpi=110)
    ax = fig.add_subplot()
    ax.imshow(hillshade(terrain.elevation_m, grid.res), cmap="gray", extent=ext, vmin=0, vmax=1)
    if kind == "count":
        cmap = colormaps["viridis"].resampled(max(int(vmax), 1))
        shown = np.where(values >= 1, values, np.nan)
        im = ax.imshow(shown, cmap=cmap, vmin=0.5, vmax=max(vmax, 1) + 0.5, alpha=0.55, extent=ext,
                       interpolation="nearest")
        cb = fig.colorbar(im, ax=ax, shrink=0.7, ticks=range(1, int(max(vmax, 1)) + 1))
        cb.set_label("systems covering the cell")
    else:
        im = ax.imshow(values, cmap=colormaps["magma_r"], vmin=0, vmax=vmax, alpha=0.6, extent=ext)
        cb = fig.colorbar(im, ax=ax, shrink=0.7)
        cb.set_label("height above ground [m]")
    for name, kind_, x, y in sites:
        ax.plot(x / 1e3, y / 1e3, "^" if kind_ == "fire unit" else "*", color="crimson" if kind_ != "asset" else "gold",
                mec="black", ms=8)
        ax.annotate(name, (x / 1e3, y / 1e3), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.set_xlabel("east [km]")
    ax.set_ylabel("north [km]")
    ax.set_title(title, fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def write_coverage(ld: LoadedScenario, out: str | Path, req: CoverageRequest | None = None,
                   progress: Callable[[str, int, int], None] | None = None,
                   force: bool = False) -> CoverageResult:
    """Compute and write every coverage product of a scenario (see the module docstring).

    ``out`` must be new, empty or an iadsim coverage folder, unless ``force``."""
    from iadsim.results.io import check_out_folder

    check_out_folder(out, "coverage", force=force)  # before the work
    req = req or CoverageRequest()
    req.check()
    note = progress or (lambda stage, done, total: None)
    grid = build_grid(ld, extent=req.extent)
    # held at once: one float32 line-of-sight raster per radar, one target-altitude raster per
    # altitude, and a boolean detection mask (1/4 of a float32 raster) per radar x RCS x altitude
    n_radars = len(ld.scenario.effectors) + len(ld.scenario.sensors)
    n_masks = n_radars * len(req.rcs_m2) * len(req.altitudes_m)
    terrain = load_terrain(ld.dem_path, grid, source=ld.source,
                           rasters=n_radars + len(req.altitudes_m) + (n_masks + 3) // 4)
    with open_dem(ld.dem_path, source=ld.source) as ds:
        dem_crs = ds.crs.to_wkt()
    radars = radar_specs(ld, grid, terrain)
    effs = effector_specs(ld, radars)
    envs = unit_envelopes(ld, effs)
    k = ld.scenario.terrain.refraction_k
    out = prepare_out_dir(out, kind="coverage", force=force)
    res = CoverageResult()
    for r in radars:   # a product cut off by the grid's edge says so
        frac = clipped_fraction(grid, r.x, r.y, r.range_bound_m)
        if frac > 0.01:
            res.warnings.append(
                f"{r.name}: {100 * frac:.0f}% of its {r.range_bound_m / 1000:.0f} km reach lies outside the grid, "
                "so its maps stop at the grid's edge" + ("" if req.extent == "reach" else
                                                         "; use --extent reach (or a larger terrain.margin_km)")
                + (" (the DEM ends there)" if req.extent == "reach" else ""))
    S = len(radars)
    total = S + len(effs) + 3
    step = 0
    alts = [(a, target_altitude(terrain, a, req.agl)) for a in req.altitudes_m]
    sites = [(r.name, "fire unit" if r.where.startswith("effectors") else "radar", r.x, r.y) for r in radars]
    ax, ay = grid.to_local([a.lat for a in ld.scenario.assets], [a.lon for a in ld.scenario.assets])
    sites += [(a.name, "asset", float(x), float(y)) for a, x, y in
              zip(ld.scenario.assets, np.atleast_1d(ax), np.atleast_1d(ay))]

    def put(name: str, path: Path) -> None:
        res.files[name] = path

    mvas = []
    det_masks: dict[tuple[float, float], list[np.ndarray]] = {}
    overlays: list[Overlay] = []
    geo_feats: list[dict] = []
    method = req.method or ld.scenario.terrain.line_of_sight
    summary = {"scenario": ld.scenario.name, "pd": req.pd, "method": method, "altitude_reference": "AGL" if req.agl else "MSL",
               "refraction_k": k, "grid": {"nx": grid.nx, "ny": grid.ny, "res_m": grid.res}, "radars": [],
               "fire_units": [], "layered": [], "extent": req.extent, "warnings": res.warnings,
               "engagement_target": {"speed_m_s": req.target_speed_m_s, "meaning": ENGAGEMENT_TARGET,
                                     "dt_s": ld.scenario.simulation.dt_s, "leaves_out": ENGAGEMENT_LEAVES_OUT}}
    cell_km2 = (grid.res / 1e3) ** 2
    for r in radars:
        note(f"radar {r.name}", step, total)
        mva = min_visible_altitude(terrain, r.x, r.y, r.z, k=k, max_range_m=r.range_bound_m, method=method)
        mvas.append(mva)
        agl = mva - terrain.elevation_m
        put(f"{r.name}.min_visible_altitude.tif", write_geotiff_crs(
            out / f"{r.name}.min_visible_altitude.tif", grid, [mva, agl],
            ["minimum visible altitude above mean sea level [m]", "minimum visible height above ground [m]"],
            dem_crs))
        bands, desc = [], []
        info = {"name": r.name, "system": r.system, "detection": []}
        if r.sensor_type != "radar":   # the RCS detection maps are a radar's (iadsim.sensors)
            info["note"] = (f"sensor_type {r.sensor_type}: not a radar, so its detection maps by RCS are empty (it "
                            "detects emitters or target sizes, docs/sensors.md); its line-of-sight maps apply")
        for rcs in req.rcs_m2:
            rng = radar_detection_range_m(r, rcs, req.pd)
            for a, alt in alts:
                m = detection_mask(r, mva, terrain, alt, rcs, req.pd)
                det_masks.setdefault((rcs, a), []).append(m)
                bands.append(m.astype(np.float32))
                desc.append(f"detected with Pd>={req.pd:g}: RCS {rcs:g} m2 at {_alt_label(a, req.agl)}")
                info["detection"].append({"rcs_m2": rcs, "altitude_m": a, "range_km": rng / 1e3,
                                          "area_km2": float(m.sum() * cell_km2)})
        put(f"{r.name}.detection.tif", write_geotiff_crs(out / f"{r.name}.detection.tif", grid, bands, desc,
                                                         dem_crs, units="1", continuous=False))
        put(f"png/{r.name}.min_visible_height.png", write_with(
            _ensure(out / "png") / f"{r.name}.min_visible_height.png",
            lambda p, agl=agl, r=r: p.write_bytes(_png(grid, terrain, agl, "altitude",
                                                      f"{r.name} ({r.system}): lowest visible height above ground",
                                                      sites, vmax=3000.0))))
        summary["radars"].append(info)
        step += 1
    eng_masks: dict[float, list[np.ndarray]] = {}
    vt = req.target_speed_m_s
    for f, env in zip(effs, envs):
        note(f"fire unit {f.name}", step, total)
        bands, desc = [], []
        info = {"name": f.name, "system": f.system, "engagement": []}
        for a, alt in alts:
            m = engagement_mask(env, mvas[f.radar], terrain, alt, vt, ld.scenario.simulation.dt_s)
            eng_masks.setdefault(a, []).append(m)
            bands.append(m.astype(np.float32))
            desc.append(f"engaged by the run's envelope and in sight: {_alt_label(a, req.agl)}, target "
                        f"{'hovering' if vt == 0 else f'level at {vt:g} m/s straight at the unit'}")
            info["engagement"].append({"altitude_m": a, "target_speed_m_s": vt,
                                       "area_km2": float(m.sum() * cell_km2)})
        put(f"{f.name}.engagement.tif", write_geotiff_crs(out / f"{f.name}.engagement.tif", grid, bands, desc,
                                                          dem_crs, units="1", continuous=False))
        summary["fire_units"].append(info)
        step += 1

    note("layered coverage", step, total)
    bands, desc = [], []
    for (rcs, a), masks in det_masks.items():
        c = layered_count(masks)
        bands.append(c.astype(np.float32))
        label = f"detection RCS {rcs:g} m2 at {_alt_label(a, req.agl)}"
        desc.append(f"radars detecting with Pd>={req.pd:g}: RCS {rcs:g} m2 at {_alt_label(a, req.agl)}")
        overlays.append(Overlay(label, f"detection, RCS {rcs:g} m2", c, "count", S,
                                visible=(rcs == req.rcs_m2[-1] and a == req.altitudes_m[0])))
        geo_feats += mask_polygons(grid, c >= 1, {"product": "detection", "rcs_m2": rcs, "altitude_m": a,
                                                  "altitude_ref": "AGL" if req.agl else "MSL", "pd": req.pd})
        fname = f"layered.detection.rcs{rcs:g}.{_alt_label(a, req.agl)}.png"
        put(f"png/{fname}", write_with(_ensure(out / "png") / fname, lambda p, c=c, label=label: p.write_bytes(
            _png(grid, terrain, c, "count", f"radars detecting (Pd >= {req.pd:g}): {label}", sites, vmax=S))))
        summary["layered"].append({"product": "detection", "rcs_m2": rcs, "altitude_m": a,
                                   "area_km2_any": float((c >= 1).sum() * cell_km2),
                                   "area_km2_two_or_more": float((c >= 2).sum() * cell_km2)})
    put("layered.detection.tif", write_geotiff_crs(out / "layered.detection.tif", grid, bands, desc, dem_crs,
                                                   units="count", continuous=False))
    step += 1
    note("engagement layers", step, total)
    if effs:
        bands, desc = [], []
        for a, masks in eng_masks.items():
            c = layered_count(masks)
            bands.append(c.astype(np.float32))
            label = f"engagement at {_alt_label(a, req.agl)}"
            desc.append(f"fire units able to engage: {_alt_label(a, req.agl)}")
            overlays.append(Overlay(label, "engagement", c, "count", len(effs)))
            geo_feats += mask_polygons(grid, c >= 1, {"product": "engagement", "altitude_m": a,
                                                      "altitude_ref": "AGL" if req.agl else "MSL"})
            fname = f"layered.engagement.{_alt_label(a, req.agl)}.png"
            put(f"png/{fname}", write_with(_ensure(out / "png") / fname, lambda p, c=c, label=label: p.write_bytes(
                _png(grid, terrain, c, "count", f"fire units able to engage: {label}", sites, vmax=len(effs)))))
            summary["layered"].append({"product": "engagement", "altitude_m": a,
                                       "area_km2_any": float((c >= 1).sum() * cell_km2)})
        put("layered.engagement.tif", write_geotiff_crs(out / "layered.engagement.tif", grid, bands, desc, dem_crs,
                                                        units="count", continuous=False))
    step += 1
    note("lowest detected altitude", step, total)
    bands, desc = [], []
    for rcs in req.rcs_m2:
        low = lowest_detected_altitude(radars, mvas, terrain, rcs, req.pd)
        agl = low - terrain.elevation_m
        bands += [low, agl]
        desc += [f"lowest altitude detected (Pd>={req.pd:g}), RCS {rcs:g} m2 [m MSL]",
                 f"lowest height detected (Pd>={req.pd:g}), RCS {rcs:g} m2 [m above ground]"]
        overlays.append(Overlay(f"lowest detected height, RCS {rcs:g} m2", "lowest detected height", agl,
                                "altitude", 3000.0))
        fname = f"lowest_detected_height.rcs{rcs:g}.png"
        put(f"png/{fname}", write_with(_ensure(out / "png") / fname, lambda p, agl=agl, rcs=rcs: p.write_bytes(
            _png(grid, terrain, agl, "altitude", f"lowest height detected by any radar, RCS {rcs:g} m2 "
                 f"(Pd >= {req.pd:g})", sites, vmax=3000.0))))
    put("lowest_detected_altitude.tif", write_geotiff_crs(out / "lowest_detected_altitude.tif", grid, bands, desc,
                                                          dem_crs))
    points = []
    for r in radars:
        lon, lat = grid.to_lonlat(r.x, r.y)
        points.append((r.name, "fire unit" if r.where.startswith("effectors") else "radar", float(lon), float(lat),
                       f"{r.system}; quoted detection range {r.ref_range_m / 1e3:g} km for {r.ref_rcs_m2:g} m2"))
    for a in ld.scenario.assets:
        points.append((a.name, "asset", a.lon, a.lat, "defended asset"))
    put("coverage.kmz", write_kmz(out / "coverage.kmz", grid, overlays, points,
                                  f"iadsim coverage: {ld.scenario.name}"))
    put("coverage.geojson", write_text(out / "coverage.geojson", json.dumps(
        {"type": "FeatureCollection", "name": f"{ld.scenario.name} coverage", "features": geo_feats})))
    put("coverage.json", write_text(out / "coverage.json", json.dumps(summary, indent=2)))
    note("done", total, total)
    res.summary = summary
    return res


def _ensure(p: Path) -> Path:
    from iadsim.results.io import ensure_dir

    return ensure_dir(p)
