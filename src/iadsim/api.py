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
    """Fail with an InputError naming simulation.policy when no such policy is registered (and
    install nothing: the engine installs the policy of the world it runs)."""
    from iadsim.errors import InputError

    if name in ("urgency", "greedy"):
        return
    import iadsim.c2.wta_exact  # noqa: F401  (registers "exact")
    import iadsim.c2.wta_vlns  # noqa: F401  (registers "vlns")
    from iadsim.c2.wta import get_policy

    try:
        get_policy(name)
    except ValueError as exc:
        raise InputError.single(source, "simulation.policy",
                                f"{exc}; built into the engine: urgency, greedy") from None


def _bad(arg: str, message: str):
    from iadsim.errors import InputError

    return InputError.single("simulate()", arg, message)


def _int_arg(name: str, value, lo: int, hi: int | None = None) -> None:
    import numbers

    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _bad(name, f"expected an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        rng = f"at least {lo}" if hi is None else f"in {lo} .. {hi}"
        raise _bad(name, f"must be {rng}, got {value}")


def revalidated(ld: LoadedScenario, arg: str = "scenario") -> LoadedScenario:
    """``ld``, or, if its model was changed in place after loading (and so never validated), the
    changed scenario validated again: an InputError naming the argument (in the problem's file)
    and the field if the change is not valid. A changed scenario no longer matches its file, so
    the result carries no file text (a run folder then holds the changed scenario, dumped)."""
    from iadsim.errors import InputError, Problem
    from iadsim.scenario.loader import scenario_from_dict

    if ld.content_sha256() == ld.validated_sha256:
        return ld
    source = f"{ld.source} (argument {arg!r}, changed after it was loaded)"
    try:
        data = ld.scenario.model_dump(mode="json", warnings=False)
        out = scenario_from_dict(data, source=source, base_dir=ld.base_dir, catalog=ld.catalog)
        out.plugins = list(getattr(ld, "plugins", None) or [])   # the user plugins it was loaded with
        return out
    except InputError as exc:
        raise InputError([Problem(p.file, p.path or arg, p.message) for p in exc.problems]) from None
    except (ValueError, TypeError) as exc:  # a value pydantic cannot even serialise
        raise InputError.single(source, arg, f"not a valid scenario after the change: {exc}") from None


def check_fidelity(ld: LoadedScenario) -> None:
    """Full fidelity tracks with radars: a scenario without any is refused up front."""
    from iadsim.errors import InputError

    s = ld.scenario
    if s.simulation.fidelity == "full" and not (s.effectors or s.sensors):
        raise InputError.single(ld.source, "simulation.fidelity",
                                "'full' fidelity tracks targets with radars, and the scenario has none "
                                "(no effectors, no sensors); add one, or use fidelity 'fast'")


def demo_scenario_path() -> Path:
    from importlib import resources

    return Path(str(resources.files("iadsim") / "scenarios" / DEMO_NAME / "scenario.yaml"))


def simulate(scenario: LoadedScenario | str | Path, replications: int | None = None,
             seed: int | None = None, workers: int = 1, chunk_size: int = 250,
             timeline_replication: int = 0, policy: str | None = None,
             backend: str = "local", ray_address: str | None = None,
             ray_connect_timeout_s: float | None = None,
             progress: Callable[[str, int, int], None] | None = None, options: bool = True) -> Results:
    """Run a scenario's Monte Carlo and return :class:`iadsim.results.Results`.

    ``replications`` and ``seed`` default to the scenario's ``simulation`` settings.
    ``policy`` overrides the scenario's weapon-target assignment policy (``simulation.policy``).
    ``backend`` is "local" (this process, or ``workers`` local processes) or "ray" (a Ray cluster at
    ``ray_address``, or a local one); the numbers are the same on every backend.
    ``progress(stage, done, total)`` is called as work advances (stage "compile" or "run").
    ``options``: also run the scenario's ``options`` (same replications and seed) for the answer.
    """
    from iadsim.montecarlo import BACKENDS

    if not isinstance(scenario, (LoadedScenario, str, Path)):
        raise _bad("scenario", f"expected a LoadedScenario or a file path, got {type(scenario).__name__}")
    _int_arg("replications", replications, 1)
    _int_arg("seed", seed, 0, 2**63 - 1)
    _int_arg("workers", workers, 1)
    _int_arg("chunk_size", chunk_size, 1)
    if backend not in BACKENDS:
        raise _bad("backend", f"expected one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
    if policy is not None and not isinstance(policy, str):
        raise _bad("policy", f"expected a policy name, got {policy!r}")
    ld = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    ld = revalidated(ld)
    if backend == "ray" and getattr(ld, "plugins", None):   # Ray workers never ran the user's files
        raise _bad("backend", "Ray workers do not load plugins; run a scenario with plugins with backend='local'")
    check_fidelity(ld)
    if policy is not None and policy != ld.scenario.simulation.policy:
        sim = ld.scenario.simulation.model_copy(update={"policy": policy})
        tiles = list(getattr(ld, "dem_tiles", []) or [])
        plugins = list(getattr(ld, "plugins", None) or [])
        ld = LoadedScenario(ld.scenario.model_copy(update={"simulation": sim}), ld.source, ld.base_dir,
                            ld.catalog, ld.dem_path, text=ld.text, source_path=getattr(ld, "source_path", None))
        ld.dem_tiles = tiles
        ld.plugins = plugins   # the workers load them too
    check_policy(ld.scenario.simulation.policy, ld.source)
    if seed is not None:
        from iadsim.scenario.models import check_seed

        seed = check_seed(seed, ld.source)
    sim = ld.scenario.simulation
    from iadsim.limits import check_run_size

    check_run_size(ld, replications)  # refuse up front what would not fit in memory
    n = int(replications if replications is not None else sim.replications)
    seed = int(seed if seed is not None else sim.seed)
    _int_arg("timeline_replication", timeline_replication, 0, n - 1)
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
    res = Results(world=world, seed=seed, n=n, raw=concat(parts), version=__version__,
                  timeline_replication=timeline_replication)
    if options and ld.scenario.options:
        res.meta["options"] = run_options(ld, n, seed, workers=workers, chunk_size=chunk_size, backend=backend,
                                          ray_address=ray_address, progress=progress)
    return res


def run_options(ld: LoadedScenario, n: int, seed: int, progress: Callable[[str, int, int], None] | None = None,
                **kw) -> list[dict]:
    """Run each of the scenario's ``options`` (same replications and seed: common random numbers)
    and return what the report compares: per option, its mission measures and threat outcomes."""
    from iadsim.results import _records
    from iadsim.scenario.variants import with_fields

    out = []
    opts = ld.scenario.options
    for i, opt in enumerate(opts):
        if progress:
            progress(f"option {opt.name}", i, len(opts))
        ld_o = with_fields(ld, dict(opt.set), where=f"options[{i}].set")
        r = simulate(ld_o, replications=n, seed=seed, options=False, **kw)
        out.append({"name": opt.name, "description": opt.description, "set": dict(opt.set),
                    "missions": _records(r.mission_table()),
                    "threats": _records(r.threat_table()[["threat", "type", "target", "n", "p_kill", "p_kill_lo",
                                                          "p_kill_hi", "p_leak", "p_leak_lo", "p_leak_hi"]]),
                    "missiles_per_kill": r.missiles_per_kill(), "exchange": r.exchange_ratio(),
                    "drivers": r.drivers()})
    if progress:
        progress("options: done", len(opts), len(opts))
    return out


__all__ = ["simulate", "load_scenario", "demo_scenario_path"]
