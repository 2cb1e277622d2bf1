"""Coverage benchmark: one minimum-visible-altitude raster (iadsim, ``method="sweep"``) against
GDAL's ``gdal_viewshed`` on the same projected DEM, observer, heights, curvature and range.

    .venv/bin/python benchmarks/bench_coverage.py [--quick] [--repeats N]

DEMs (float32 GeoTIFFs in a local azimuthal-equidistant CRS, iadsim.geo.LocalGrid):
  real       the bundled SRTM tile S33W071 (central Andes, 3") resampled (bilinear) to N x N cells
             over the largest square inside the 1 degree tile (92 km: 25.5 m cells at N = 3601)
  synthetic  the same grid filled with seeded fractal (1/f^2.2 spectrum) terrain, 200-3200 m
N = 3601 (``--quick``: 1201). Observer: the centre cell, 20 m above its ground; target 10 m above
ground for GDAL's binary output; GDAL ``-cc 0.75`` (4/3 earth) = iadsim ``k = a / (0.75 R)``
(a = 6 378 137 m, GDAL's ellipsoid axis; R = 6 371 km, iadsim's radius); range 50 km (``-md``).

Timing: wall clock, best (and median) of ``--repeats`` runs, the contenders interleaved so
that they share the machine's load. iadsim: the public ``min_visible_altitude`` call on the
in-memory terrain (raster allocated and filled); numba's compile / cache load is excluded by one
warm-up call (reported separately). The sweep is timed twice: on numba's threads (the default) and
on one thread (``numba.set_num_threads(1)``), the fair match for single-threaded ``gdal_viewshed``;
both ratios to GDAL's binary viewshed are printed and stored (``sweep_over_gdal_binary``,
``sweep_1thread_over_gdal_binary``). GDAL: the ``gdal_viewshed`` process as a subprocess, start to
exit: process start, reading the DEM (from the page cache) and writing the output GeoTIFF (on
/dev/shm when available) included, nothing subtracted. CPU seconds are given too (iadsim:
process CPU time across its threads; GDAL: the child's user + system time), being less sensitive to
other load than wall time.

Like against like: where GDAL's Python bindings are importable, GDAL's compute alone is timed
too (``osgeo.gdal.ViewshedGenerate`` into the in-memory ``MEM`` driver, DEM already open:
``gdal_api``), the match for iadsim's in-process call. Where they are not, both sides are also
timed as whole processes (``iadsim_process``: a fresh Python process that imports iadsim, reads
the same GeoTIFF, computes the raster on numba's threads with a warm on-disk cache, writes a
GeoTIFF on /dev/shm; ratio ``process_sweep_over_gdal_binary``), so that the compute-only
figures are never set against a whole GDAL process alone.

Memory: in a fresh subprocess that has loaded the DEM and warmed up, the peak resident-set
increase while it computes one raster (Linux: the peak mark VmHWM reset with /proc/self/clear_refs
just before, so that imports and compilation do not hide it; elsewhere ``ru_maxrss``), and the peak
of numpy allocations (tracemalloc; numba's own buffers are not traced by it), relative to the DEM's
float32 size; target <= 4 x per radar being computed.

Exact reference: one run of ``method="rays"`` on the real DEM (not with ``--quick`` or
``--skip-exact``; several minutes at 3601^2), for its time and the sweep's agreement with it.

Ten radars: ten antennas (the centre and nine on a 20 km ring, masts 10-30 m, 50 km range)
computed one after the other on the real DEM; the cumulative time should grow linearly.

Results: a table on the terminal and benchmarks/results/coverage.json (with the machine).

Accuracy (``--accuracy``, no timing): the table of docs/coverage-accuracy.md. For 15 observers on
crops of the real tiles (S33W071 central Andes; N44W072 White Mountains when
``$IADSIM_SHARED_DATA``, default ../shared/data, has it; 30 m cells) and on the synthetic hills of
the tests, with GDAL's conventions (observer at a cell centre, ``-cc 0.75``): binary agreement of
``method="planes"`` and ``"sweep"`` and of the sweep's terrain model R3
(``r3_min_visible_altitude``) with the exact trace (``"rays"``, exact on the bilinear surface) at 10, 100 and 1000 m above
ground, the fraction of cells where the sweep's heights are within 1 m of the exact ones and of
R3's, the time of each ``rays`` run, and the fraction of in-range cells within 1 m of
``gdal_viewshed -om DEM`` / ``-om GROUND`` (when GDAL is there). Then ``--observers`` (default 20)
seeded random observers per terrain (andes 500, white mts 500, hills 1; masts 2-100 m): the
agreement of ``planes`` and ``sweep`` with ``rays`` at the worst of the three heights.
Writes benchmarks/results/coverage_accuracy.json.
If gdal_viewshed is missing the script tries ``apt-get install -y gdal-bin`` when run as root.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# keep this folder off the import path (a script here named like a package would shadow it)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

RESULTS = HERE / "results"
console = Console(width=None if sys.stdout.isatty() else 132)

A_WGS84 = 6_378_137.0
CC = 0.75
MAST_M = 20.0
TZ_M = 10.0
RANGE_M = 50_000.0
HALF_M = 46_000.0          # the largest square around the tile's centre inside the 1 degree tile
LAT0, LON0 = -32.5, -70.5  # centre of S33W071
TIMING = ("wall clock, best and median of repeats, contenders interleaved; iadsim: public "
          "min_visible_altitude call, numba compile excluded (one warm-up), sweep also on 1 "
          "numba thread (sweep_1thread); GDAL: gdal_viewshed "
          "subprocess start to exit, including its DEM read and GeoTIFF write (on /dev/shm), "
          "nothing subtracted; CPU: process CPU (iadsim, all threads), child user+sys (GDAL)")


# --------------------------------------------------------------------------- machine and GDAL


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    import numba
    import numpy

    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel function has run yet
        layer = "not initialised"
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpu_model": _cpu_model(), "cpu_count": os.cpu_count(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
                                1),
            "numpy": numpy.__version__, "numba": numba.__version__,
            "numba_threads": numba.get_num_threads(), "numba_threading_layer": layer,
            "gdal": _gdal_version(), "load_average": list(os.getloadavg())}


def _gdal_version() -> str | None:
    exe = shutil.which("gdal_viewshed")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True)
    lines = [ln for ln in (out.stdout + out.stderr).splitlines() if ln.startswith("GDAL")]
    return lines[0].strip() if lines else "unknown"


def ensure_gdal() -> tuple[str | None, str]:
    """Path of gdal_viewshed, installing Debian's gdal-bin when missing and running as root."""
    exe = shutil.which("gdal_viewshed")
    if exe:
        return exe, "found"
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        console.print("gdal_viewshed not found: trying `apt-get install -y gdal-bin`")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        r = subprocess.run(["apt-get", "install", "-y", "gdal-bin"], env=env, capture_output=True,
                           text=True)
        exe = shutil.which("gdal_viewshed")
        if exe:
            return exe, "installed with apt-get"
        msg = f"apt-get install -y gdal-bin failed (exit {r.returncode}): {r.stderr.strip()[-300:]}"
    else:
        msg = "gdal_viewshed not installed and not root: install it with `apt-get install gdal-bin`"
    console.print(f"[yellow]{msg}; GDAL columns are left empty[/yellow]")
    return None, msg


# --------------------------------------------------------------------------- DEMs


def real_terrain(n: int):
    from iadsim.geo import LocalGrid, bundled_dem_path, load_terrain

    res = 2 * HALF_M / n
    grid = LocalGrid(LAT0, LON0, -HALF_M, HALF_M, res, n, n)
    return load_terrain(bundled_dem_path("S33W071.tif"), grid)


def synthetic_terrain(n: int, seed: int = 7):
    """Fractal terrain with a 1/f^2.2 amplitude spectrum (FFT), scaled to 200-3200 m:
    O(n^2 log n), a second at 3601^2, where a sum of Gaussian hills
    (iadsim.geo.synthetic_elevation) takes minutes."""
    from iadsim.geo import LocalGrid, Terrain

    rng = np.random.default_rng(seed)
    spec = np.fft.rfft2(rng.standard_normal((n, n)))
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    spec *= (1e-6 + fx * fx + fy * fy) ** -1.1
    z = np.fft.irfft2(spec, s=(n, n))
    z = (z - z.min()) / (z.max() - z.min()) * 3000.0 + 200.0
    res = 2 * HALF_M / n
    grid = LocalGrid(LAT0, LON0, -HALF_M, HALF_M, res, n, n)
    return Terrain(grid, z.astype(np.float32), "synthetic")


def write_geotiff(terrain, path: Path) -> Path:
    import rasterio

    g = terrain.grid
    with rasterio.open(path, "w", driver="GTiff", width=g.nx, height=g.ny, count=1, dtype="float32",
                       crs=g.crs, transform=g.transform) as ds:
        ds.write(terrain.elevation_m, 1)
    return path


# --------------------------------------------------------------------------- timing


def k_gdal() -> float:
    from iadsim.physics.horizon import EARTH_RADIUS_M

    return A_WGS84 / (CC * EARTH_RADIUS_M)


def observer(terrain, rc=None, mast=MAST_M):
    g = terrain.grid
    r, c = rc if rc is not None else (g.ny // 2, g.nx // 2)
    x, y = float(g.x_centers()[c]), float(g.y_centers()[r])
    return x, y, float(terrain.elevation_m[r, c]) + mast


def time_ours(terrain, method: str = "sweep", rc=None, mast=MAST_M,
              threads: int | None = None) -> tuple[float, float, np.ndarray]:
    """One public call, timed; ``threads``: numba's thread count for it (default: unchanged)."""
    import numba

    from iadsim.coverage import min_visible_altitude

    x, y, z = observer(terrain, rc, mast)
    before = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    try:
        c0, t0 = time.process_time(), time.perf_counter()
        mva = min_visible_altitude(terrain, x, y, z, k=k_gdal(), max_range_m=RANGE_M,
                                   method=method)
        return time.perf_counter() - t0, time.process_time() - c0, mva
    finally:
        numba.set_num_threads(before)


def time_gdal(exe: str, dem: Path, terrain, out: Path, mode: str) -> tuple[float, float]:
    x, y, _ = observer(terrain)
    cmd = [exe, "-q", "-ox", repr(x), "-oy", repr(y), "-oz", repr(MAST_M), "-cc", repr(CC),
           "-md", repr(RANGE_M)]
    cmd += ["-tz", repr(TZ_M)] if mode == "NORMAL" else ["-om", mode]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd + [str(dem), str(out)], check=True, capture_output=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


PROCESS_CHILD = """
import sys
import numpy as np, rasterio
from iadsim.coverage import min_visible_altitude
from iadsim.geo import LocalGrid, Terrain
dem, out, lat0, lon0, xmin, ymax, res, n, x, y, z, k, rng = sys.argv[1:]
with rasterio.open(dem) as ds:
    elev = ds.read(1)
    crs, transform = ds.crs, ds.transform
grid = LocalGrid(float(lat0), float(lon0), float(xmin), float(ymax), float(res), int(n), int(n))
mva = min_visible_altitude(Terrain(grid, elev, "dem"), float(x), float(y), float(z), k=float(k),
                           max_range_m=float(rng), method="sweep")
with rasterio.open(out, "w", driver="GTiff", width=mva.shape[1], height=mva.shape[0], count=1,
                   dtype="float32", crs=crs, transform=transform) as ds:
    ds.write(mva.astype(np.float32), 1)
"""


def time_ours_process(dem: Path, terrain, out: Path) -> tuple[float, float]:
    """iadsim as a whole process, start to exit (import, DEM read, compute, GeoTIFF write), the
    like-for-like match for the gdal_viewshed process (numba's on-disk cache already warm)."""
    g = terrain.grid
    x, y, z = observer(terrain)
    env = dict(os.environ)
    src = str(HERE.parent / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    argv = [str(dem), str(out), *(repr(v) for v in (g.lat0, g.lon0, g.xmin, g.ymax, g.res)),
            str(g.nx), *(repr(v) for v in (x, y, z, k_gdal(), RANGE_M))]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", PROCESS_CHILD, *argv], check=True, capture_output=True,
                   env=env, cwd=str(HERE.parent))
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def gdal_api_available() -> bool:
    try:
        from osgeo import gdal  # noqa: F401
    except ImportError:
        return False
    return hasattr(gdal, "ViewshedGenerate")


def time_gdal_api(dem: Path, terrain) -> tuple[float, float]:
    """GDAL's viewshed compute alone: ``ViewshedGenerate`` on the open DEM band into the in-memory
    MEM driver (binary output, target 10 m above ground, as ``gdal_viewshed -tz 10``)."""
    from osgeo import gdal

    x, y, _ = observer(terrain)
    ds = gdal.Open(str(dem))
    band = ds.GetRasterBand(1)
    c0, t0 = time.process_time(), time.perf_counter()
    out = gdal.ViewshedGenerate(band, "MEM", "", [], x, y, MAST_M, TZ_M, 255, 0, 0, 0, CC,
                                gdal.GVM_Edge, RANGE_M)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = None  # noqa: F841 - release the raster
    ds = None  # noqa: F841
    return wall, cpu


def _stats(walls, cpus) -> dict:
    return {"best_s": min(walls), "median_s": float(np.median(walls)), "runs_s": walls,
            "cpu_best_s": min(cpus), "cpu_median_s": float(np.median(cpus))}


def bench_dem(name: str, terrain, dem_path: Path, exe: str | None, repeats: int, tmp: Path,
              with_rays: bool) -> dict:
    g = terrain.grid
    console.print(f"[bold]{name}[/bold]: {g.ny} x {g.nx} cells of {g.res:.2f} m")
    res: dict = {"shape": list(g.shape), "cell_m": g.res,
                 "dem_float32_mb": terrain.elevation_m.nbytes / 1e6}
    walls: dict = {k: [] for k in ("sweep", "sweep_1thread", "planes", "gdal_normal",
                                   "gdal_dem", "gdal_api", "iadsim_process")}
    api = gdal_api_available()
    res["gdal_api_status"] = "osgeo.gdal.ViewshedGenerate (MEM)" if api else "not importable"
    cpus: dict = {k: [] for k in walls}
    for _ in range(repeats):
        for key, method, threads in (("sweep", "sweep", None), ("sweep_1thread", "sweep", 1),
                                     ("planes", "planes", None)):
            w, c, mva = time_ours(terrain, method, threads=threads)
            walls[key].append(w)
            cpus[key].append(c)
        if exe:
            for mode, key in (("NORMAL", "gdal_normal"), ("DEM", "gdal_dem")):
                w, c = time_gdal(exe, dem_path, terrain, tmp / f"vs_{name}_{mode}.tif", mode)
                walls[key].append(w)
                cpus[key].append(c)
            # like for like: iadsim as a whole process too
            w, c = time_ours_process(dem_path, terrain, tmp / f"iadsim_{name}.tif")
            walls["iadsim_process"].append(w)
            cpus["iadsim_process"].append(c)
        if api:
            w, c = time_gdal_api(dem_path, terrain)
            walls["gdal_api"].append(w)
            cpus["gdal_api"].append(c)
    for key in walls:
        if walls[key]:
            res[key] = _stats(walls[key], cpus[key])
    if "gdal_normal" in res:
        # the single-threaded comparison: one numba thread against gdal_viewshed (one thread)
        res["sweep_1thread_over_gdal_binary"] = (res["sweep_1thread"]["best_s"]
                                                 / res["gdal_normal"]["best_s"])
        res["sweep_over_gdal_binary"] = res["sweep"]["best_s"] / res["gdal_normal"]["best_s"]
        res["process_sweep_over_gdal_binary"] = (res["iadsim_process"]["best_s"]
                                                 / res["gdal_normal"]["best_s"])
    if "gdal_api" in res:
        # compute against compute: in-process call on both sides
        res["sweep_over_gdal_api"] = res["sweep"]["best_s"] / res["gdal_api"]["best_s"]
        res["sweep_1thread_over_gdal_api"] = (res["sweep_1thread"]["best_s"]
                                              / res["gdal_api"]["best_s"])
    _, _, mva = time_ours(terrain, "sweep")
    res["cells_in_range"] = int(np.isfinite(mva).sum())
    if with_rays:
        console.print("  exact ray trace (method='rays'), one run ...")
        w, c, exact = time_ours(terrain, "rays")
        res["rays"] = _stats([w], [c])
        m = np.isfinite(exact)
        z = terrain.elevation_m
        res["sweep_vs_rays_binary_agreement"] = {
            f"{h:g}m": float(np.mean((mva[m] <= z[m] + h) == (exact[m] <= z[m] + h)))
            for h in (10, 100, 1000)}
        err = np.abs(mva[m].astype(float) - exact[m])
        res["sweep_vs_rays_within_1m"] = float(np.mean(err <= 1.0))
    return res


def bench_radars(terrain, n_radars: int, repeats: int) -> dict:
    """Antennas one after the other: the centre and the others on a 20 km ring (their 50 km discs
    are clipped by the grid's edges, so the work per radar varies: cells in range are counted)."""
    g = terrain.grid
    cr, cc = g.ny // 2, g.nx // 2
    ring = 20_000.0 / g.res
    sites = [(cr, cc)] + [(int(round(cr + ring * np.sin(t))), int(round(cc + ring * np.cos(t))))
                          for t in np.linspace(0, 2 * np.pi, n_radars - 1, endpoint=False)]
    masts = [10.0 + 20.0 * i / max(n_radars - 1, 1) for i in range(n_radars)]
    best, cells = None, []
    for rep in range(repeats):
        per = []
        for rc, mast in zip(sites, masts):
            w, _, mva = time_ours(terrain, "sweep", rc, mast)
            if rep == 0:
                cells.append(int(np.isfinite(mva).sum()))
            del mva
            per.append(w)
        if best is None or sum(per) < sum(best):
            best = per
    cum = np.cumsum(best)
    ns_per_cell = [t / c * 1e9 for t, c in zip(best, cells)]
    return {"radars": n_radars, "sites_rc": sites, "masts_m": masts, "per_radar_s": best,
            "cells_in_range": cells, "ns_per_cell_in_range": ns_per_cell,
            "total_s": float(cum[-1]), "cumulative_s": cum.tolist(),
            "per_radar_mean_s": float(cum[-1] / n_radars),
            "total_over_n_x_first": float(cum[-1] / (best[0] * n_radars)),
            "ns_per_cell_overall": float(cum[-1] / sum(cells) * 1e9)}


MEMORY_PROBE = r"""
import json, resource, sys, tracemalloc, numpy as np, rasterio
from iadsim.coverage import min_visible_altitude
from iadsim.geo import LocalGrid, Terrain
x, y, alt, k, max_range = (float(v) for v in sys.argv[5:10])
# warm up (compile or load the numba cache) on a small grid first
g0 = LocalGrid(0.0, 0.0, -5000.0, 5000.0, 100.0, 100, 100)
t0 = Terrain(g0, np.zeros((100, 100), np.float32))
min_visible_altitude(t0, 0.0, 0.0, 10.0, max_range_m=3000.0)
with rasterio.open(sys.argv[1]) as ds:
    z = ds.read(1)
    tr = ds.transform
n = z.shape[0]
g = LocalGrid(float(sys.argv[3]), float(sys.argv[4]), tr.c, tr.f, tr.a, z.shape[1], n)
terrain = Terrain(g, z)
def hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None
# reset the peak-RSS mark to the current RSS (Linux >= 4.0: clear_refs 5), so that imports, the
# warm-up compile and the DEM read do not hide the computation's own peak
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    how = "VmHWM after clear_refs"
    before = hwm_kb()
except OSError:
    how = "ru_maxrss"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
mva = min_visible_altitude(terrain, x, y, alt, k=k, max_range_m=max_range)
_, peak_np = tracemalloc.get_traced_memory()
tracemalloc.stop()
after = hwm_kb() if how.startswith("VmHWM") else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_rss_increase_mb": (after - before) / 1024.0, "method": how,
                  "tracemalloc_peak_mb": peak_np / 1e6,
                  "dem_float32_mb": z.astype(np.float32).nbytes / 1e6,
                  "output_mb": mva.nbytes / 1e6}))
"""


def bench_memory(dem_path: Path, terrain) -> dict:
    x, y, alt = observer(terrain)
    argv = [str(dem_path), str(HERE), str(LAT0), str(LON0)]
    argv += [repr(v) for v in (x, y, alt, k_gdal(), RANGE_M)]
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, *argv], capture_output=True,
                         text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["peak_rss_increase_x_dem"] = res["peak_rss_increase_mb"] / res["dem_float32_mb"]
    res["tracemalloc_peak_x_dem"] = res["tracemalloc_peak_mb"] / res["dem_float32_mb"]
    return res


def warm_up() -> float:
    """First call of each method on a small grid: numba compiles (or loads its cache)."""
    from iadsim.coverage import min_visible_altitude
    from iadsim.geo import LocalGrid, Terrain

    g = LocalGrid(0.0, 0.0, -5000.0, 5000.0, 100.0, 100, 100)
    t = Terrain(g, np.zeros((100, 100), np.float32))
    t0 = time.perf_counter()
    for method in ("sweep", "planes", "rays"):
        min_visible_altitude(t, 0.0, 0.0, 10.0, max_range_m=3000.0, method=method)
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- report


def _fmt(s: float | None) -> str:
    return "-" if s is None else (f"{s * 1e3:.0f} ms" if s < 10 else f"{s:.1f} s")


def report(res: dict) -> Table:
    m = res["machine"]
    t = Table(title=f"coverage: one radar, {res['settings']['n']}^2 DEM, "
                    f"range {RANGE_M / 1e3:.0f} km ({m['cpu_count']} x {m['cpu_model']}, "
                    f"load average {m['load_average'][0]:.1f} at the end)")
    for col in ("DEM", "contender", "wall best", "wall median", "CPU best",
                "iadsim sweep / this (wall)"):
        t.add_column(col, justify="right" if col != "contender" and col != "DEM" else "left")
    for name in ("real", "synthetic"):
        d = res["dems"][name]
        ours = d["sweep"]["best_s"]
        rows = [("iadsim sweep (default)", "sweep"),
                ("iadsim sweep, 1 thread", "sweep_1thread"),
                ("iadsim planes (GDAL's algorithm)", "planes"),
                ("gdal_viewshed binary (-tz 10)", "gdal_normal"),
                ("gdal_viewshed -om DEM", "gdal_dem"),
                ("iadsim sweep as a whole process", "iadsim_process"),
                ("GDAL ViewshedGenerate, compute only (MEM)", "gdal_api"),
                ("iadsim rays (exact, 1 run)", "rays")]
        for label, key in rows:
            if key not in d:
                if key.startswith("gdal") or key == "iadsim_process":
                    t.add_row(name, label, "n/a", "", "", "")
                continue
            s = d[key]
            ratio = f"{ours / s['best_s']:.2f}" if key != "sweep" else ""
            t.add_row(name, label, _fmt(s["best_s"]), _fmt(s["median_s"]), _fmt(s["cpu_best_s"]),
                      ratio)
    return t


# --------------------------------------------------------------------------- accuracy

ACC_HEIGHTS = (10.0, 100.0, 1000.0)


def _acc_cases():
    """(name, terrain factory, (row, col), -oz [m], range [m]) of the accuracy table."""
    from iadsim.geo import LocalGrid, Terrain, bundled_dem_path, load_terrain, synthetic_elevation

    shared = Path(os.environ.get("IADSIM_SHARED_DATA", HERE.parent.parent / "shared" / "data"))

    def crop(path, lat, lon, half):
        return lambda: load_terrain(path, LocalGrid.around(lat, lon, (-half, half),
                                                           (-half, half), 30.0))

    def hills(seed, n=300, res=100.0):
        def make():
            z = synthetic_elevation((n, n), res_m=res, seed=seed, base_m=300.0, relief_m=1500.0,
                                    n_hills=60)
            return Terrain(LocalGrid(45.0, 7.0, -n / 2 * res, n / 2 * res, res, n, n), z)
        return make

    andes = bundled_dem_path("S33W071.tif")
    cases = [("andes 500", crop(andes, -32.6, -70.3, 7500.0), rc, oz, 7400.0)
             for rc, oz in (((250, 250), 15.0), ((100, 375), 2.0), ((450, 50), 100.0),
                            ((185, 290), 30.0))]
    cases += [("andes 1000", crop(andes, -32.6, -70.3, 15000.0), rc, oz, 12000.0)
              for rc, oz in (((480, 530), 10.0), ((300, 700), 30.0), ((650, 420), 5.0))]
    whites = shared / "N44W072.hgt"
    if whites.is_file():
        cases += [("white mts 500", crop(whites, 44.27, -71.30, 7500.0), rc, oz, 7400.0)
                  for rc, oz in (((250, 250), 10.0), ((120, 380), 20.0), ((400, 100), 5.0))]
    for seed, rc, oz in ((1, (149, 149), 10.0), (2, (89, 209), 30.0), (3, (239, 44), 300.0),
                         (4, (14, 284), 2.0), (5, (182, 125), 100.0)):
        cases.append((f"hills {seed}", hills(seed), rc, oz, 14000.0))
    return cases


def _agree(a: np.ndarray, b: np.ndarray, z: np.ndarray) -> list[float]:
    """Binary agreement of two rasters at each of ACC_HEIGHTS above the ground ``z``."""
    return [float(np.mean((a <= z + h) == (b <= z + h))) for h in ACC_HEIGHTS]


def bench_accuracy(exe: str | None, tmp: Path) -> list[dict]:
    import rasterio

    from iadsim.coverage import min_visible_altitude
    from iadsim.coverage.los import r3_min_visible_altitude

    rows, cache = [], {}
    for i, (name, make, (r, c), oz, md) in enumerate(_acc_cases()):
        if name not in cache:
            cache.clear()
            terrain = make()
            cache[name] = (terrain, write_geotiff(terrain, tmp / f"acc{i}.tif"))
        terrain, path = cache[name]
        g = terrain.grid
        x, y = float(g.x_centers()[c]), float(g.y_centers()[r])
        alt = float(terrain.elevation_m[r, c]) + oz
        t0 = time.perf_counter()
        mva = {"rays": min_visible_altitude(terrain, x, y, alt, k=k_gdal(), max_range_m=md,
                                            method="rays").astype(float)}
        rays_s = time.perf_counter() - t0
        for m in ("planes", "sweep"):
            mva[m] = min_visible_altitude(terrain, x, y, alt, k=k_gdal(), max_range_m=md,
                                          method=m).astype(float)
        mva["r3"] = r3_min_visible_altitude(terrain, x, y, alt, k=k_gdal(),
                                            max_range_m=md).astype(float)
        X, Y = np.meshgrid(g.x_centers(), g.y_centers())
        mask = np.hypot(X - x, Y - y) < md * (1 - 1e-6)
        z = terrain.elevation_m.astype(float)
        gdal = {}
        if exe:
            for mode in ("DEM", "GROUND"):
                out = tmp / f"acc_{mode}.tif"
                subprocess.run([exe, "-q", "-ox", repr(x), "-oy", repr(y), "-oz", repr(oz),
                                "-cc", repr(CC), "-md", repr(md), "-om", mode, str(path),
                                str(out)], check=True, capture_output=True)
                with rasterio.open(out) as ds:
                    arr, tr = ds.read(1).astype(float), ds.transform
                full = np.full(g.shape, np.nan)
                c0 = int(round((tr.c - g.xmin) / g.res))
                r0 = int(round((g.ymax - tr.f) / g.res))
                full[r0:r0 + arr.shape[0], c0:c0 + arr.shape[1]] = arr
                gdal[mode] = full
            mask &= np.isfinite(gdal["DEM"])
        row = {"dem": name, "observer_rc": [r, c], "oz_m": oz, "range_m": md,
               "cells": int(mask.sum()), "rays_s": rays_s}
        zm = z[mask]
        for m in ("planes", "sweep", "r3"):
            row[f"{m}_vs_rays"] = _agree(mva[m][mask], mva["rays"][mask], zm)
        row["sweep_within_1m_rays"] = float(np.mean(np.abs(mva["sweep"][mask]
                                                           - mva["rays"][mask]) <= 1.0))
        row["sweep_within_1m_r3"] = float(np.mean(np.abs(mva["sweep"][mask]
                                                         - mva["r3"][mask]) <= 1.0))
        row["sweep_above_rays_max_m"] = float(np.max(mva["sweep"][mask] - mva["rays"][mask]))
        for m in ("planes", "sweep"):
            if gdal:
                row[f"{m}_within_1m_gdal_dem"] = float(np.mean(np.abs(
                    mva[m][mask] - np.maximum(gdal["DEM"][mask], zm)) <= 1.0))
                row[f"{m}_within_1m_gdal_ground"] = float(np.mean(np.abs(
                    (mva[m][mask] - zm) - gdal["GROUND"][mask]) <= 1.0))
        rows.append(row)
        f = lambda v: "/".join(f"{a:.3%}" for a in v)  # noqa: E731
        console.print(f"{name:14s} {str((r, c)):11s} oz {oz:5g} | planes vs rays "
                      f"{f(row['planes_vs_rays'])} | sweep vs rays {f(row['sweep_vs_rays'])}"
                      f" | r3 vs rays {f(row['r3_vs_rays'])} | sweep within 1 m of rays "
                      f"{row['sweep_within_1m_rays']:.2%}, of r3 {row['sweep_within_1m_r3']:.2%}"
                      f" | rays {rays_s:.1f} s"
                      + (f" | within 1 m of GDAL DEM/GROUND: planes "
                         f"{row['planes_within_1m_gdal_dem']:.2%}/"
                         f"{row['planes_within_1m_gdal_ground']:.2%}, sweep "
                         f"{row['sweep_within_1m_gdal_dem']:.2%}/"
                         f"{row['sweep_within_1m_gdal_ground']:.2%}" if gdal else ""))
    return rows


def bench_random_observers(n_obs: int, seed: int = 2026) -> list[dict]:
    """``n_obs`` random observers per terrain (the first case of each of andes 500, white mts 500
    and hills 1 in _acc_cases): cell uniform over the grid, mast uniform in 2-100 m, GDAL's k and
    the case's range; ``planes`` and ``sweep`` against ``rays``, per height and at the worst."""
    from iadsim.coverage import min_visible_altitude

    rng = np.random.default_rng(seed)
    seen, out = set(), []
    for name, make, _, _, md in _acc_cases():
        if name in seen or name not in ("andes 500", "white mts 500", "hills 1"):
            continue
        seen.add(name)
        terrain = make()
        g = terrain.grid
        z = terrain.elevation_m.astype(float)
        for _ in range(n_obs):
            r, c = int(rng.integers(0, g.ny)), int(rng.integers(0, g.nx))
            oz = float(rng.uniform(2.0, 100.0))
            x, y = float(g.x_centers()[c]), float(g.y_centers()[r])
            alt = float(z[r, c]) + oz
            mva = {m: min_visible_altitude(terrain, x, y, alt, k=k_gdal(), max_range_m=md,
                                           method=m).astype(float)
                   for m in ("rays", "planes", "sweep")}
            m = np.isfinite(mva["rays"])
            row = {"dem": name, "observer_rc": [r, c], "oz_m": oz, "range_m": md}
            for meth in ("planes", "sweep"):
                row[f"{meth}_vs_rays"] = _agree(mva[meth][m], mva["rays"][m], z[m])
            out.append(row)
        rows = [o for o in out if o["dem"] == name]
        for meth in ("planes", "sweep"):
            worst = [min(o[f"{meth}_vs_rays"]) for o in rows]
            console.print(f"{name:14s} {n_obs} random observers, {meth} vs rays at the worst "
                          f"height: min {min(worst):.3%}, median {np.median(worst):.3%}, "
                          f"{sum(w < 0.995 for w in worst)} below 99.5 %")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="1201^2 DEMs, 2 repeats, 4 radars, no exact run")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed runs per contender (default 5; quick 2)")
    ap.add_argument("--skip-exact", action="store_true",
                    help="skip the one run of the exact ray trace on the real DEM "
                         "(1-2 minutes at 3601^2)")
    ap.add_argument("--accuracy", action="store_true",
                    help="only the accuracy table of docs/coverage-accuracy.md (planes and sweep "
                         "vs the exact trace and vs gdal_viewshed -om DEM/GROUND), no timing")
    ap.add_argument("--observers", type=int, default=20,
                    help="with --accuracy: random observers per terrain (0: none)")
    args = ap.parse_args()
    if args.accuracy:
        sys.path.insert(0, str(HERE.parent / "src"))
        exe, _ = ensure_gdal()
        RESULTS.mkdir(exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="iadsim-acc-"))
        try:
            rows = bench_accuracy(exe, tmp)
            random_rows = bench_random_observers(args.observers) if args.observers > 0 else []
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        path = RESULTS / "coverage_accuracy.json"
        path.write_text(json.dumps({"name": "coverage_accuracy",
                                    "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                    "reference": "method='rays': exact on the bilinear surface",
                                    "heights_agl_m": ACC_HEIGHTS, "gdal_cc": CC,
                                    "iadsim_k": k_gdal(), "gdal": _gdal_version(),
                                    "machine": machine(), "cases": rows,
                                    "random_observers": random_rows}, indent=2))
        console.print(f"wrote {path}")
        return 0
    n = 1201 if args.quick else 3601
    repeats = args.repeats or (2 if args.quick else 5)
    n_radars = 4 if args.quick else 10
    sys.path.insert(0, str(HERE.parent / "src"))

    load_start = list(os.getloadavg())
    if load_start[0] > (os.cpu_count() or 1) * 0.5:
        console.print(f"[yellow]note: load average {load_start[0]:.1f} on {os.cpu_count()} "
                      "cores: other "
                      "processes compete, wall times will be inflated (CPU times less so)[/yellow]")
    exe, gdal_status = ensure_gdal()
    RESULTS.mkdir(exist_ok=True)
    shm = Path("/dev/shm")
    tmp = Path(tempfile.mkdtemp(prefix="iadsim-cov-", dir=shm if shm.is_dir() else None))
    try:
        compile_s = warm_up()
        console.print(f"warm-up (numba compile or cache load, excluded below): {compile_s:.1f} s")
        t0 = time.perf_counter()
        real = real_terrain(n)
        synth = synthetic_terrain(n)
        console.print(f"DEMs built in {time.perf_counter() - t0:.1f} s")
        paths = {"real": write_geotiff(real, tmp / "real.tif"),
                 "synthetic": write_geotiff(synth, tmp / "synth.tif")}
        res = {"name": "coverage", "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "settings": {"n": n, "repeats": repeats, "mast_m": MAST_M, "target_height_m": TZ_M,
                            "gdal_cc": CC, "iadsim_k": k_gdal(), "max_range_m": RANGE_M,
                            "observer": "centre cell", "gdal": gdal_status,
                            "timing": TIMING},
               "warm_up_s": compile_s, "dems": {}}
        for name, terrain in (("real", real), ("synthetic", synth)):
            res["dems"][name] = bench_dem(name, terrain, paths[name], exe, repeats, tmp,
                                          with_rays=(name == "real"
                                                     and not (args.quick or args.skip_exact)))
        console.print(f"{n_radars} radars on the real DEM ...")
        res["radars"] = bench_radars(real, n_radars, max(1, repeats // 2))
        console.print("memory probe (subprocess) ...")
        res["memory"] = bench_memory(paths["real"], real)
        res["machine"] = machine()
        res["machine"]["load_average_at_start"] = load_start
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    console.print(report(res))
    r = res["radars"]
    best_of = max(1, res["settings"]["repeats"] // 2)
    console.print(f"{r['radars']} radars one after the other (real DEM, best of {best_of}): "
                  f"total {_fmt(r['total_s'])}, {_fmt(r['per_radar_mean_s'])} per radar; "
                  "cumulative "
                  + ", ".join(f"{i + 1}: {_fmt(s)}" for i, s in enumerate(r["cumulative_s"]))
                  + f"; total / ({r['radars']} x first) = {r['total_over_n_x_first']:.2f}; "
                  f"{r['ns_per_cell_overall']:.1f} ns per cell in range overall, per radar "
                  + ", ".join(f"{v:.1f}" for v in r["ns_per_cell_in_range"]))
    mem = res["memory"]
    console.print(f"memory, one radar: peak RSS increase ({mem['method']}) "
                  f"{mem['peak_rss_increase_mb']:.1f} MB = {mem['peak_rss_increase_x_dem']:.2f} x "
                  f"the DEM's float32 size ({mem['dem_float32_mb']:.1f} MB); "
                  f"numpy allocations (tracemalloc) peak {mem['tracemalloc_peak_mb']:.0f} MB = "
                  f"{mem['tracemalloc_peak_x_dem']:.2f} x (the output raster: "
                  f"{mem['output_mb']:.1f} MB); target <= 4 x")
    if "rays" in res["dems"]["real"]:
        d = res["dems"]["real"]
        console.print("sweep vs exact ray trace on the real DEM: binary agreement "
                      + ", ".join(f"{k} {v:.3%}"
                                  for k, v in d["sweep_vs_rays_binary_agreement"].items())
                      + f"; within 1 m on {d['sweep_vs_rays_within_1m']:.3%} of the cells")
    met = {"memory_le_4x": max(mem["peak_rss_increase_x_dem"],
                               mem["tracemalloc_peak_x_dem"]) <= 4.0}
    for name in ("real", "synthetic"):
        d = res["dems"][name]
        if "gdal_normal" in d:
            console.print(f"{name}: sweep on 1 thread {_fmt(d['sweep_1thread']['best_s'])} "
                          f"(CPU {_fmt(d['sweep_1thread']['cpu_best_s'])}), on "
                          f"{res['machine']['numba_threads']} {_fmt(d['sweep']['best_s'])} "
                          f"(CPU {_fmt(d['sweep']['cpu_best_s'])}); gdal_viewshed binary "
                          f"{_fmt(d['gdal_normal']['best_s'])}: ratio 1 thread / GDAL "
                          f"{d['sweep_1thread_over_gdal_binary']:.2f}, "
                          f"{res['machine']['numba_threads']} threads / GDAL "
                          f"{d['sweep_over_gdal_binary']:.2f}")
            # like for like only: compute against GDAL's compute where its API is importable,
            # otherwise whole process against whole process; an in-process call against a whole
            # gdal_viewshed process is kept as information, not as a target
            res.setdefault("in_process_vs_gdal_process", {})[name] = {
                "sweep_faster": d["sweep"]["best_s"] < d["gdal_normal"]["best_s"],
                "sweep_1thread_faster": d["sweep_1thread"]["best_s"] < d["gdal_normal"]["best_s"]}
            if "gdal_api" in d:
                met[f"{name}_compute_faster_than_gdal_compute"] = (d["sweep"]["best_s"]
                                                                   < d["gdal_api"]["best_s"])
                met[f"{name}_1thread_compute_faster_than_gdal_compute"] = (
                    d["sweep_1thread"]["best_s"] < d["gdal_api"]["best_s"])
            else:
                console.print(f"{name}: whole processes: iadsim {_fmt(d['iadsim_process']['best_s'])}"
                              f" vs gdal_viewshed {_fmt(d['gdal_normal']['best_s'])} (GDAL's "
                              "Python bindings not importable: no compute-only GDAL figure)")
                met[f"{name}_process_faster_than_gdal_process"] = (
                    d["iadsim_process"]["best_s"] < d["gdal_normal"]["best_s"])
    res["targets_met"] = met
    console.print("targets: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in met.items()))
    sys.path.insert(0, str(HERE))  # benchcommon (no package of that name to shadow)
    from benchcommon import write_result

    path = write_result("coverage", res)
    console.print(f"wrote {path}")
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
