"""The Python entry points: load a scenario, simulate it, get Results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from iadsim import __version__
from iadsim.engine import compile_world
from iadsim.montecarlo import concat, run_replications
from iadsim.results import Results
from iadsim.scenario import LoadedScenario, load_scenario

DEMO_NAME = "capital-whatif"


def check_policy(name: str, source: str = "--policy") -> None:
    """Fail with an InputError naming simulation.policy when no such policy is registered."""
    from iadsim.engine.kernel import use_policy
    from iadsim.errors import InputError

    try:
        use_policy(name)
    except ValueError as exc:
        raise InputError.single(source, "simulation.policy",
                                f"{exc}; built into the engine: urgency, greedy") from None


def demo_scenario_path() -> Path:
    from importlib import resources

    return Path(str(resources.files("iadsim") / "scenarios" / DEMO_NAME / "scenario.yaml"))


def simulate(scenario: LoadedScenario | str | Path, replications: int | None = None,
             seed: int | None = None, workers: int = 1, chunk_size: int = 250,
             timeline_replication: int = 0, policy: str | None = None,
             backend: str = "local", ray_address: str | None = None,
             ray_connect_timeout_s: float | None = None,
             progress: Callable[[str, int, int], None] | None = None) -> Results:
    """Run a scenario's Monte Carlo and return :class:`iadsim.results.Results`.

    ``replications`` and ``seed`` default to the scenario's ``simulation`` settings.
    ``policy`` overrides the scenario's weapon-target assignment policy (``simulation.policy``).
    ``backend`` is "local" (this process, or ``workers`` local processes) or "ray" (a Ray cluster at
    ``ray_address``, or a local one); the numbers are the same on every backend.
    ``progress(stage, done, total)`` is called as work advances (stage "compile" or "run").
    """
    ld = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    if policy is not None and policy != ld.scenario.simulation.policy:
        sim = ld.scenario.simulation.model_copy(update={"policy": policy})
        ld = LoadedScenario(ld.scenario.model_copy(update={"simulation": sim}), ld.source, ld.base_dir,
                            ld.catalog, ld.dem_path, getattr(ld, "source_path", None))
    check_policy(ld.scenario.simulation.policy, ld.source)
    if seed is not None:
        from iadsim.scenario.models import check_seed

        seed = check_seed(seed, ld.source)
    sim = ld.scenario.simulation
    from iadsim.limits import check_run_size

    check_run_size(ld, replications)  # refuse up front what would not fit in memory
    n = int(replications if replications is not None else sim.replications)
    seed = int(seed if seed is not None else sim.seed)
    if n < 1:
        raise ValueError("replications must be >= 1")
    if not 0 <= timeline_replication < n:
        raise ValueError(f"timeline_replication must be in 0..{n - 1}")
    stages = ["terrain", "threat paths", "radar coverage", "engagement envelopes", "threat evaluation"]
    done = {"n": 0}

    def on_stage(name: str) -> None:
        if progress:
            progress(f"compile: {name}", stages.index(name) if name in stages else 0, len(stages))

    world = compile_world(ld, progress=on_stage)
    if progress:
        progress("compile: done", len(stages), len(stages))

    def on_chunk(count: int) -> None:
        done["n"] += count
        if progress:
            progress("run", done["n"], n)

    parts = run_replications(world, n, seed, workers=workers, chunk_size=chunk_size,
                             record_rep=timeline_replication, on_chunk=on_chunk, backend=backend,
                             ray_address=ray_address, ray_connect_timeout_s=ray_connect_timeout_s)
    return Results(world=world, seed=seed, n=n, raw=concat(parts), version=__version__,
                   timeline_replication=timeline_replication)


__all__ = ["simulate", "load_scenario", "demo_scenario_path"]
