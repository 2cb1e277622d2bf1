"""Resource limits: refuse work that would not fit, up front, with a message naming the setting.

A run that runs out of memory part-way is killed by the operating system: no message, nothing
written. These checks estimate what a run will hold in memory *before* it starts and raise
:class:`~iadsim.errors.ResourceError` (exit code 2 on the command line) naming the scenario
field to change instead.

Memory available is the smallest of: ``MemAvailable`` in ``/proc/meminfo``, the cgroup limit
(v2 ``memory.max`` minus ``memory.current``, or v1 ``memory.limit_in_bytes``), and the
``IADSIM_MEMORY_LIMIT`` environment variable (bytes, or with a K/M/G/T suffix) when it is set.
A check passes when the estimate is at most :data:`MEMORY_FRACTION` of that.

Everything that scales with the input is counted: replications x threats (results), time steps
x threats x radars and fire units (the compiled world), and grid cells x radars (one float32
line-of-sight raster per fire unit and radar, plus the terrain and its temporaries): 3,000 radars
on a 5,000 x 5,000 grid need 300 GB however few time steps there are.

The per-row figures were measured on the small synthetic scenario of the tests (peak resident
memory of ``simulate`` + ``write_outputs``, 2,000 vs 100,000 replications: about 400 bytes per
replication x threat) and are used here with a safety factor of 2.5.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iadsim.errors import Problem, ResourceError

#: share of the available memory a run may plan to use
MEMORY_FRACTION = 0.8
#: bytes held per replication x threat row (raw outcomes, chunk copies, the DataFrame, Arrow,
#: the Parquet encoder and the report's aggregates)
BYTES_PER_THREAT_ROW = 1000
#: bytes held per replication x fire unit row (expenditure table)
BYTES_PER_EFFECTOR_ROW = 200
#: bytes of the compiled world per time step x threat member (positions, velocities, priority
#: and compile-time temporaries) ...
WORLD_BYTES_PER_STEP_THREAT = 200
#: ... plus per radar (detection probability, scans) and per fire unit (feasibility, flyout, Pk)
WORLD_BYTES_PER_STEP_THREAT_RADAR = 16
WORLD_BYTES_PER_STEP_THREAT_EFFECTOR = 24
#: a hard ceiling on replications x threats whatever the memory (10^9 rows)
MAX_THREAT_ROWS = 1_000_000_000
#: bytes per grid cell of one line-of-sight raster (float32)
RASTER_BYTES_PER_CELL = 4

ENV_MEMORY_LIMIT = "IADSIM_MEMORY_LIMIT"

_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024**2, "MB": 1024**2,
          "MIB": 1024**2, "G": 1024**3, "GB": 1024**3, "GIB": 1024**3, "T": 1024**4, "TB": 1024**4,
          "TIB": 1024**4}


def parse_bytes(text: str) -> int:
    """'2G', '512 MiB', '1048576' -> bytes. Raises ValueError for anything else."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).upper() not in _UNITS:
        raise ValueError(f"not a size: {text!r} (expected e.g. 2G, 512M or a number of bytes)")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def _cgroup_available() -> int | None:
    limit = _read_int("/sys/fs/cgroup/memory.max")  # cgroup v2
    if limit is not None:
        used = _read_int("/sys/fs/cgroup/memory.current") or 0
        return max(limit - used, 0)
    limit = _read_int("/sys/fs/cgroup/memory/memory.limit_in_bytes")  # cgroup v1
    if limit is not None and limit < 1 << 60:  # v1 reports "no limit" as a huge number
        used = _read_int("/sys/fs/cgroup/memory/memory.usage_in_bytes") or 0
        return max(limit - used, 0)
    return None


def available_memory_bytes() -> int:
    """Memory [bytes] a new allocation can use now (see the module docstring)."""
    found = [v for v in (_meminfo_available(), _cgroup_available()) if v is not None]
    env = os.environ.get(ENV_MEMORY_LIMIT)
    if env:
        try:
            found.append(parse_bytes(env))
        except ValueError:
            raise ResourceError(Problem(ENV_MEMORY_LIMIT, "", f"{env!r} is not a size "
                                        "(expected e.g. 2G, 512M or a number of bytes)")) from None
    return min(found) if found else 1 << 62


def _gib(n: float) -> str:
    return f"{n / 1024**3:.1f} GiB" if n >= 1024**3 / 10 else f"{n / 1024**2:.0f} MiB"


@dataclass(frozen=True)
class RunSize:
    """What a run will hold in memory [bytes], estimated before it starts."""

    replications: int
    threats: int        # threat members (salvo counts expanded)
    effectors: int
    radars: int
    steps: int
    results_bytes: int
    world_bytes: int      # time-step arrays and the grid rasters (raster_bytes) together
    available_bytes: int
    grid_cells: int = 0
    raster_bytes: int = 0  # terrain, temporaries and one line-of-sight raster per radar

    @property
    def total_bytes(self) -> int:
        return self.results_bytes + self.world_bytes


def raster_bytes(grid_cells: int, radars: int) -> int:
    """Memory [bytes] of the grid rasters: the terrain and its temporaries (GRID_COPIES grids)
    and one line-of-sight raster per radar."""
    from iadsim.geo.terrain import GRID_COPIES

    return grid_cells * RASTER_BYTES_PER_CELL * (GRID_COPIES + radars)


def estimate_run_size(replications: int, threats: int, effectors: int, radars: int, steps: int,
                      available: int | None = None, grid_cells: int = 0, jammers: int = 0) -> RunSize:
    """Memory [bytes] of a run: results (rows x bytes per row) and the compiled world (time-step
    arrays, and the grid rasters when ``grid_cells`` is given; with ``jammers``, the J/S array
    [steps, radars, threats, jammers] of float32 of iadsim.engine.ew)."""
    results = replications * (threats * BYTES_PER_THREAT_ROW + effectors * BYTES_PER_EFFECTOR_ROW)
    rasters = raster_bytes(grid_cells, radars) if grid_cells else 0
    world = steps * threats * (WORLD_BYTES_PER_STEP_THREAT + radars * WORLD_BYTES_PER_STEP_THREAT_RADAR
                               + effectors * WORLD_BYTES_PER_STEP_THREAT_EFFECTOR
                               + radars * jammers * 4) + rasters
    return RunSize(replications, threats, effectors, radars, steps, results, world,
                   available_memory_bytes() if available is None else available, grid_cells, rasters)


def _grid_cells(scenario: Any) -> int:
    """Cells of the analysis grid of a loaded scenario (0 for a bare Scenario: no DEM to place it)."""
    if getattr(scenario, "dem_path", None) is None:
        return 0
    from iadsim.coverage.specs import build_grid

    g = build_grid(scenario)
    return int(g.nx) * int(g.ny)


def check_run_size(scenario: Any, replications: int | None = None, *, source: str | None = None,
                   available: int | None = None) -> RunSize:
    """Refuse, before any work, a run whose results or compiled world would not fit in memory.

    ``scenario``: a :class:`~iadsim.scenario.LoadedScenario` (the grid rasters are counted: the
    grid is placed on its DEM) or a :class:`~iadsim.scenario.models.Scenario` (time-step arrays
    and results only); ``replications`` overrides the scenario's (``-n``). ``available`` [bytes]
    overrides the memory found (for tests).
    Raises :class:`~iadsim.errors.ResourceError` naming ``terrain.resolution_m`` (grid rasters),
    ``simulation.dt_s`` (time-step arrays) or ``simulation.replications``; returns the estimate
    otherwise.
    """
    scn = getattr(scenario, "scenario", scenario)
    src = source if source is not None else getattr(scenario, "source", "<scenario>")
    sim = scn.simulation
    n = int(replications if replications is not None else sim.replications)
    members = sum(t.count for t in scn.threats)
    effectors = len(scn.effectors)
    radars = effectors + len(scn.sensors)
    steps = int(math.ceil(sim.duration_s / sim.dt_s))
    jammers = sum(t.count for t in scn.threats if getattr(t, "jammer", None) is not None)
    size = estimate_run_size(n, members, effectors, radars, steps, available, _grid_cells(scenario), jammers)
    budget = int(size.available_bytes * MEMORY_FRACTION)
    problems: list[Problem] = []
    step_bytes = size.world_bytes - size.raster_bytes
    if size.raster_bytes > budget:
        res = scn.terrain.resolution_m
        res_fit = res * math.sqrt(size.raster_bytes / max(budget, 1)) * 1.01
        problems.append(Problem(src, "terrain.resolution_m", (
            f"{size.grid_cells:,} grid cells x ({radars:,} radars and fire units + the terrain) "
            f"would need about {_gib(size.raster_bytes)} of memory for the line-of-sight rasters; "
            f"{_gib(size.available_bytes)} is available. Use a coarser terrain.resolution_m (at "
            f"least about {math.ceil(res_fit):g} m), a smaller terrain.margin_km or fewer radars")))
    elif size.world_bytes > budget:
        room_steps = max(budget - size.raster_bytes, 1)
        dt_fit = sim.dt_s * step_bytes / room_steps
        problems.append(Problem(src, "simulation.dt_s", (
            f"{steps:,} time steps (simulation.duration_s {sim.duration_s:g} s / dt_s {sim.dt_s:g} s) x "
            f"{members:,} threats x {radars:,} radars would need about {_gib(step_bytes)} of memory"
            + (f" besides {_gib(size.raster_bytes)} for the grid rasters" if size.raster_bytes else "")
            + f"; {_gib(size.available_bytes)} is available. Use a larger simulation.dt_s "
            f"(at least about {dt_fit:.3g} s), a shorter simulation.duration_s or fewer threats")))
    world_fits = size.world_bytes <= budget
    room = budget - size.world_bytes if world_fits else budget
    rows = n * members
    per_rep = max(members * BYTES_PER_THREAT_ROW + effectors * BYTES_PER_EFFECTOR_ROW, 1)
    n_fit = max(min(room // per_rep, MAX_THREAT_ROWS // max(members, 1)), 0)
    if world_fits and n_fit < 1:
        problems.append(Problem(src, "simulation.replications", (
            f"the compiled scenario needs about {_gib(size.world_bytes)} of the "
            f"{_gib(size.available_bytes)} available, leaving no room for the results of even one "
            "replication: use a larger simulation.dt_s, a coarser terrain.resolution_m, fewer "
            "threats or radars, or a machine with more memory")))
    elif rows > MAX_THREAT_ROWS or size.results_bytes > room:
        problems.append(Problem(src, "simulation.replications", (
            f"{n:,} replications x {members:,} threats would need about {_gib(size.results_bytes)} "
            f"of memory for the results; {_gib(size.available_bytes)} is available"
            + (" (less what the compiled scenario needs)" if world_fits and size.world_bytes > 0 else "")
            + (f". Use at most about {n_fit:,} replications (simulation.replications or -n), or split "
               "the run into parts with different seeds" if world_fits else
               ". Fix the problem above first; then fewer replications may be needed"))))
    if problems:
        raise ResourceError(problems)
    return size
